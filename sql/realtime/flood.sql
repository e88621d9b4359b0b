-- flood: one user doing too much in one tumbling window of ${flood_window_seconds} seconds.
--
-- Why: a script hammering pages or the API runs at several events per second; a person reading
-- product pages manages a few per 10 s. The naive "more than 10 events per 10 s" rule fired 98
-- times on the real cosmetics sample, every time on a customer whose checkout or "clear cart"
-- click wrote one row per item in the same second. So such a burst counts as ONE action (its
-- rows share a `burst_key`, see _actions.sql): every other row counts itself.
--
-- Event time: windows come from the event's own `event_time` (watermark on the source table), so
-- a replay at any speed finds the same floods. Samples: the first and last event of the window.
INSERT INTO anomalies
SELECT
  user_id,
  'flood' AS rule,
  DATE_FORMAT(window_start, 'yyyy-MM-dd''T''HH:mm:ss''Z''') AS window_start,
  DATE_FORMAT(window_end, 'yyyy-MM-dd''T''HH:mm:ss''Z''') AS window_end,
  actions AS `count`,
  samples
FROM (
  SELECT
    window_start,
    window_end,
    user_id,
    COUNT(*) FILTER (WHERE burst_key IS NULL) + COUNT(DISTINCT burst_key) AS actions,
    '[' || FIRST_VALUE(sample) || ',' || LAST_VALUE(sample) || ']' AS samples
  FROM TABLE(
    TUMBLE(TABLE actions, DESCRIPTOR(event_time), INTERVAL '${flood_window_seconds}' SECOND(6)))
  GROUP BY window_start, window_end, user_id
)
WHERE actions >= ${flood_events_per_window}
