-- actions: the events as every rule counts and shows them (this file sorts, and so runs, before
-- the rule files, which read `actions` instead of `events`).
--
-- `burst_key`: a real customer's multi-item checkout or "clear cart" click writes one row per
-- item in the same second (49 `purchase` rows for a 49-item cart in the REES46 cosmetics
-- sample). Such rows of one user are ONE action: same-second `purchase` rows of a user share a
-- key, so do same-second `remove_from_cart` rows; every other row has none (NULL). A rule counts
-- actions as COUNT(*) FILTER (WHERE burst_key IS NULL) + COUNT(DISTINCT burst_key), which is
-- exact in tumbling windows (they hold whole seconds). The local detector collapses bursts the
-- same way (ecomm_cli/detect/engine.py).
--
-- `sample`: the JSON object an alert's samples list shows for an event.
--
-- A plain projection of `events`, so `event_time` stays its event-time attribute (with the
-- watermark) and the window functions of the rules accept the view as they accepted the table.
CREATE TEMPORARY VIEW actions AS
SELECT
  event_time,
  event_type,
  product_id,
  user_id,
  user_session,
  CASE
    WHEN event_type IN ('purchase', 'remove_from_cart')
    THEN CAST(user_id AS STRING) || '|' || event_type || '@'
      || DATE_FORMAT(event_time, 'yyyy-MM-dd HH:mm:ss')
  END AS burst_key,
  JSON_OBJECT(
    'event_time' VALUE DATE_FORMAT(event_time, 'yyyy-MM-dd''T''HH:mm:ss''Z'''),
    'event_type' VALUE event_type,
    'product_id' VALUE product_id,
    'user_id' VALUE user_id,
    'user_session' VALUE user_session) AS sample
FROM events
