-- sustained_session_churn: one user opening ${sustained_session_churn_sessions} or more sessions
-- in a window of ${sustained_session_churn_window_seconds} seconds, one window starting every
-- ${sustained_session_churn_slide_seconds} seconds.
--
-- Why: a bot that learned session_cycler's threshold drops its cookies a little less often, for
-- hours; a person keeps a session for many minutes. Events without a session (real exports have
-- them) do not count: a missing session is not a new one.
--
-- Hopping windows on the event's own time. Samples: the earliest and the latest event with a
-- session (MIN / MAX of the sample's JSON text: see sustained_volume.sql).
INSERT INTO anomalies
SELECT
  user_id,
  'sustained_session_churn' AS rule,
  DATE_FORMAT(window_start, 'yyyy-MM-dd''T''HH:mm:ss''Z''') AS window_start,
  DATE_FORMAT(window_end, 'yyyy-MM-dd''T''HH:mm:ss''Z''') AS window_end,
  sessions AS `count`,
  samples
FROM (
  SELECT
    window_start,
    window_end,
    user_id,
    COUNT(DISTINCT user_session) AS sessions,
    '[' || MIN(sample) || ',' || MAX(sample) || ']' AS samples
  FROM TABLE(
    HOP(
      TABLE actions, DESCRIPTOR(event_time),
      INTERVAL '${sustained_session_churn_slide_seconds}' SECOND(6),
      INTERVAL '${sustained_session_churn_window_seconds}' SECOND(6)))
  WHERE user_session IS NOT NULL
  GROUP BY window_start, window_end, user_id
)
WHERE sessions >= ${sustained_session_churn_sessions}
