-- db/migration's V5 leaves room on PostgreSQL's heap pages for heap-only updates. InnoDB updates
-- a fixed-width count in place: nothing to do here, the version is kept so that numbers stay aligned.
DO 0;
