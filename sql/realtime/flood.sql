-- flood: one user doing too much in one tumbling window of ${flood_window_seconds} seconds.
--
-- Why: a script hammering pages or the API runs at several events per second; a person reading
-- product pages manages a few per 10 s. The naive "more than 10 events per 10 s" rule fired 98
-- times on the real cosmetics sample, every time on a customer whose checkout or "clear cart"
-- click wrote one row per item in the same second. So same-second `purchase` and
-- `remove_from_cart` rows of one user count as ONE action: every other row counts itself, and
-- those count once per distinct (event_type, second) in the COUNT(DISTINCT ...) below. A
-- tumbling window holds whole seconds, so the dedupe is exact. NULLs from the CASE are ignored
-- by COUNT(DISTINCT), which is what keeps views and cart adds out of that term.
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
    COUNT(*) FILTER (WHERE event_type NOT IN ('purchase', 'remove_from_cart'))
      + COUNT(DISTINCT CASE
          WHEN event_type IN ('purchase', 'remove_from_cart')
          THEN event_type || '@' || DATE_FORMAT(event_time, 'yyyy-MM-dd HH:mm:ss')
        END) AS actions,
    '[' || FIRST_VALUE(JSON_OBJECT(
      'event_time' VALUE DATE_FORMAT(event_time, 'yyyy-MM-dd''T''HH:mm:ss''Z'''),
      'event_type' VALUE event_type,
      'product_id' VALUE product_id,
      'user_id' VALUE user_id,
      'user_session' VALUE user_session))
    || ',' || LAST_VALUE(JSON_OBJECT(
      'event_time' VALUE DATE_FORMAT(event_time, 'yyyy-MM-dd''T''HH:mm:ss''Z'''),
      'event_type' VALUE event_type,
      'product_id' VALUE product_id,
      'user_id' VALUE user_id,
      'user_session' VALUE user_session)) || ']' AS samples
  FROM TABLE(
    TUMBLE(TABLE events, DESCRIPTOR(event_time), INTERVAL '${flood_window_seconds}' SECOND(6)))
  GROUP BY window_start, window_end, user_id
)
WHERE actions >= ${flood_events_per_window}
