-- The tables of schema version 2 as read-only views with their old columns (see db/migration's
-- V3__Narrow_keys); a replay's switch points them at the new generation.
CREATE VIEW views_hourly AS SELECT p.site AS site, p.path AS path, CAST(h.hour AS SIGNED) * 3600000 AS hour, h.views AS views
    FROM page_hours h JOIN pages p ON p.id = h.page;
CREATE VIEW views_total AS SELECT p.site AS site, p.path AS path, t.views AS views
    FROM page_totals t JOIN pages p ON p.id = t.page;
CREATE VIEW visitors_daily AS SELECT p.site AS site, p.path AS path, CAST(v.day AS SIGNED) * 86400000 AS day, v.visitor AS visitor
    FROM page_visitors v JOIN pages p ON p.id = v.page;
