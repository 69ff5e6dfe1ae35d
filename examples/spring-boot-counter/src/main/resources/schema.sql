CREATE TABLE IF NOT EXISTS page_views (path text PRIMARY KEY, views bigint NOT NULL);
