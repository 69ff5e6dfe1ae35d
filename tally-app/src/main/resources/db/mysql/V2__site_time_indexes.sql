-- The dashboard asks for a whole site over a time range (top pages, views over time, referrers).
CREATE INDEX page_hours_hour ON page_hours (hour);
CREATE INDEX referrers_daily_site_day ON referrers_daily (site, day);
