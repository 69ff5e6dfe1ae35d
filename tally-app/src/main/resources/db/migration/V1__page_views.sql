-- Page-view aggregates. The same SQL runs on PostgreSQL and SQLite. Times are epoch milliseconds
-- of the bucket's start (UTC). Rows are keyed by (site, path, ...): events are keyed by path on
-- Kafka, so each row is written by the consumer of one partition.

CREATE TABLE views_hourly (
    site  VARCHAR(256)  NOT NULL,
    path  VARCHAR(2048) NOT NULL,
    hour  BIGINT        NOT NULL,
    views BIGINT        NOT NULL,
    PRIMARY KEY (site, path, hour)
);

CREATE TABLE views_total (
    site  VARCHAR(256)  NOT NULL,
    path  VARCHAR(2048) NOT NULL,
    views BIGINT        NOT NULL,
    PRIMARY KEY (site, path)
);

CREATE TABLE referrers_daily (
    site  VARCHAR(256) NOT NULL,
    host  VARCHAR(255) NOT NULL,
    day   BIGINT       NOT NULL,
    views BIGINT       NOT NULL,
    PRIMARY KEY (site, host, day)
);

-- Exact unique visitors: one row per visitor hash, page and day.
CREATE TABLE visitors_daily (
    site    VARCHAR(256)  NOT NULL,
    path    VARCHAR(2048) NOT NULL,
    day     BIGINT        NOT NULL,
    visitor VARCHAR(256)  NOT NULL,
    PRIMARY KEY (site, path, day, visitor)
);
