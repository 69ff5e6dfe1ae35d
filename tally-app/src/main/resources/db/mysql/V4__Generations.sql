-- Generations of the aggregate tables, for bin/tally replay (see dev.tally.app.aggregate.Generation
-- and db/migration's V4__Generations).

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
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
INSERT INTO tally_generations (generation, state, created_at) VALUES (1, 'current', 0);

-- One row: the current generation. Every aggregator transaction reads it first, LOCK IN SHARE MODE
-- against the switch, which takes it FOR UPDATE.
CREATE TABLE tally_current_generation (
    id         INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    generation INTEGER NOT NULL
) ENGINE=InnoDB;
INSERT INTO tally_current_generation (id, generation) VALUES (1, 1);

CREATE TABLE tally_generation_offsets (
    generation   INTEGER      NOT NULL,
    topic        VARCHAR(255) NOT NULL,
    partition_id INTEGER      NOT NULL,
    copied_to    BIGINT       NOT NULL,
    PRIMARY KEY (generation, topic, partition_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
