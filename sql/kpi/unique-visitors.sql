-- kpi: unique-visitors
-- title: Unique visitors and sessions per day
-- Exact distinct users and sessions per day, plus one row 'all' over the whole period (a user
-- seen on several days counts once there, so it is not the sum of the days).
-- Sessionless events (user_session NULL): unique_visitors is user-level and counts their
-- users; sessions is session-level and leaves them out explicitly.
-- parameters: from_date, to_date
--   from_date, to_date: inclusive 'YYYY-MM-DD' bounds on event_date (UTC)
-- columns: event_date, unique_visitors, sessions
SELECT
    COALESCE(event_date, 'all') AS event_date,
    COUNT(DISTINCT user_id) AS unique_visitors,
    COUNT(DISTINCT CASE WHEN user_session IS NOT NULL THEN user_session END) AS sessions
FROM events
WHERE event_date BETWEEN ? AND ?
GROUP BY GROUPING SETS ((event_date), ())
HAVING COUNT(*) > 0
ORDER BY 1
