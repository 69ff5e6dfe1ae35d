-- Page-view aggregates on MySQL 8 and MariaDB 10.6+: the schema that db/migration's V1 to V5 give
-- SQLite and PostgreSQL, with the same version numbers, so that a later migration Vn applies to
-- every store. No MySQL store existed before, so the narrow tables of V3 are created here at once,
-- with nothing to carry over.
--
-- Sites, paths and hosts are the UTF-8 bytes the aggregator writes (VARBINARY): compared byte for
-- byte, so /A and /a are two pages, and so are /a and "/a " (the binary collations of text pad
-- with spaces when they compare, and the ones that do not differ between MySQL and MariaDB). The
-- lengths are the decoder's limits in bytes. A path of 2048 bytes and a site of 256 make a key
-- of 2304 bytes, within InnoDB's 3072: the whole (site, path) is the unique key, no prefix of it.
CREATE TABLE pages (
    id   INTEGER        NOT NULL AUTO_INCREMENT PRIMARY KEY,
    site VARBINARY(256)  NOT NULL,
    path VARBINARY(2048) NOT NULL,
    UNIQUE KEY pages_site_path (site, path)
) ENGINE=InnoDB;

-- Views per page and hour since the epoch.
CREATE TABLE page_hours (
    page  INTEGER NOT NULL,
    hour  INTEGER NOT NULL,
    views BIGINT  NOT NULL,
    PRIMARY KEY (page, hour)
) ENGINE=InnoDB;

CREATE TABLE page_totals (
    page  INTEGER NOT NULL PRIMARY KEY,
    views BIGINT  NOT NULL
) ENGINE=InnoDB;

-- day: epoch ms of the UTC midnight, as on SQLite and PostgreSQL.
CREATE TABLE referrers_daily (
    site  VARBINARY(256) NOT NULL,
    host  VARBINARY(255) NOT NULL,
    day   BIGINT         NOT NULL,
    views BIGINT         NOT NULL,
    PRIMARY KEY (site, host, day)
) ENGINE=InnoDB;

-- Exact unique visitors: one row per page, day since the epoch and 16-byte visitor.
CREATE TABLE page_visitors (
    page    INTEGER    NOT NULL,
    day     INTEGER    NOT NULL,
    visitor BINARY(16) NOT NULL,
    PRIMARY KEY (page, day, visitor)
) ENGINE=InnoDB;
