-- Generations of the aggregate tables, for bin/tally replay (see dev.tally.app.aggregate.Generation).
-- Generation 1 is the tables as they are (no data copied); generation N > 1 has the same tables
-- with the suffix _gN. Writers and readers use the generation tally_current_generation names;
-- a replay fills a new one and switches that pointer in one transaction.

CREATE TABLE tally_generations (
    generation   INTEGER      NOT NULL PRIMARY KEY,
    -- building (a replay fills it), current, old (kept until replay --drop-old), dropped
    state        VARCHAR(16)  NOT NULL,
    -- a range replay's first recomputed instant (epoch ms, a UTC midnight); NULL: all recomputed
    from_time    BIGINT,
    topic        VARCHAR(255),
    live_group   VARCHAR(255),
    replay_group VARCHAR(255),
    created_at   BIGINT       NOT NULL,
    switched_at  BIGINT
);
INSERT INTO tally_generations (generation, state, created_at) VALUES (1, 'current', 0);

-- One row: the current generation. Every aggregator transaction reads it first, locked against
-- the switch (FOR SHARE on PostgreSQL; SQLite has one writer at a time).
CREATE TABLE tally_current_generation (
    id         INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    generation INTEGER NOT NULL
);
INSERT INTO tally_current_generation (id, generation) VALUES (1, 1);

-- A range replay: per partition, the live group's stored offset when the rows before from_time
-- were copied. A record from that offset on is in no copied row, so the replay counts it
-- whatever its time.
CREATE TABLE tally_generation_offsets (
    generation   INTEGER      NOT NULL,
    topic        VARCHAR(255) NOT NULL,
    partition_id INTEGER      NOT NULL,
    copied_to    BIGINT       NOT NULL,
    PRIMARY KEY (generation, topic, partition_id)
);
