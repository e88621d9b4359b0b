-- session_cycler: one user opening too many sessions in one window of
-- ${session_cycler_window_seconds} seconds.
--
-- Why: a bot that drops its cookies every few requests gets a fresh session each time, to slip
-- under per-session rate limits and to look like many visitors; a person keeps one session for
-- many minutes. Counting the distinct `user_session` values of one user in a tumbling window
-- catches it without any state beyond the window (a "new" session is one the window has not
-- seen). Every event type counts: the bot's sessions are what matter, not what it does in them.
-- Real REES46 data does churn sessions (the cosmetics sample has a customer with 10 in one
-- minute), hence a threshold above that. Events without a session (the public exports have
-- them) do not count, and are not the window's samples: a missing session is not a new one.
--
-- Tumbling windows on the event's own time; samples: first and last event.
INSERT INTO anomalies
SELECT
  user_id,
  'session_cycler' AS rule,
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
    '[' || FIRST_VALUE(sample) || ',' || LAST_VALUE(sample) || ']' AS samples
  FROM TABLE(TUMBLE(TABLE actions, DESCRIPTOR(event_time), INTERVAL '${session_cycler_window_seconds}' SECOND(6)))
  WHERE user_session IS NOT NULL
  GROUP BY window_start, window_end, user_id
)
WHERE sessions >= ${session_cycler_sessions_per_minute}
