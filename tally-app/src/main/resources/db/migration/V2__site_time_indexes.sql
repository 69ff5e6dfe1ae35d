-- The dashboard asks for a whole site over a time range (top pages, views over time, referrers):
-- without these, each such query reads every row of the site.
CREATE INDEX views_hourly_site_hour ON views_hourly (site, hour);
CREATE INDEX referrers_daily_site_day ON referrers_daily (site, day);
