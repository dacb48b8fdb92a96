-- Reports filtered by country (and channel) read only that country's counters instead of every
-- counter of the date range: a year of one country's daily counters is ~1/40 of the year's rows.
CREATE INDEX usage_daily_by_country ON usage_daily (account_sid, country_code, channel, day);
