-- sustained_volume: one user acting steadily for a long time: ${sustained_volume_actions} actions
-- or more in a window of ${sustained_volume_window_seconds} seconds, one window starting every
-- ${sustained_volume_slide_seconds} seconds.
--
-- Why: a bot that learned flood's threshold stays under it in every short window and keeps
-- going; no customer keeps that pace for an hour (the busiest customer-hour of the real samples
-- is in docs/realtime.md, "Longer horizons"). Actions count as in flood: a same-second checkout
-- or cart clearing is one (its rows share a `burst_key`, see _actions.sql).
--
-- Hopping windows (HOP) on the event's own time. Samples: the earliest and the latest action of
-- the window (MIN / MAX of the sample's JSON text, which starts with its event time: unlike
-- FIRST_VALUE / LAST_VALUE they merge across the slices a hopping window is built from).
INSERT INTO anomalies
SELECT
  user_id,
  'sustained_volume' AS rule,
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
    '[' || MIN(sample) || ',' || MAX(sample) || ']' AS samples
  FROM TABLE(
    HOP(
      TABLE actions, DESCRIPTOR(event_time),
      INTERVAL '${sustained_volume_slide_seconds}' SECOND(6),
      INTERVAL '${sustained_volume_window_seconds}' SECOND(6)))
  GROUP BY window_start, window_end, user_id
)
WHERE actions >= ${sustained_volume_actions}
