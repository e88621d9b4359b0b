-- traffic_spike: the whole platform's traffic in a window of ${traffic_spike_window_seconds}
-- seconds far above its recent level.
--
-- Why: a distributed bot (many user ids, each under the per-user rules) or a broken client still
-- shows as a jump in total traffic. "Far above" (${traffic_spike_factor} times) is relative to a
-- trailing baseline: the mean of up to ${traffic_spike_baseline_windows} previous non-empty
-- windows, because traffic swings several-fold between night and evening and a fixed threshold
-- would either sleep all night or page every evening. No verdict until
-- ${traffic_spike_min_baseline_windows} previous windows exist, and the window must also hold at
-- least ${traffic_spike_min_events} actions so that a quiet night's small jump pages nobody. Same-second checkout / cart-clearing bursts of a user count once
-- (their shared `burst_key`, see _actions.sql), as in the flood rule.
--
-- Stage 1 is a tumbling window aggregation; stage 2 an OVER aggregation on its window_time (a
-- time attribute), ROWS ${traffic_spike_baseline_windows} PRECEDING (the current row is
-- subtracted back out). Flink emits no
-- row for an empty window, so the baseline is over non-empty windows, as the local detector's.
-- The comparison is multiplied out (total * n > factor * sum) to avoid dividing.
INSERT INTO anomalies
SELECT
  CAST(NULL AS BIGINT) AS user_id,
  'traffic_spike' AS rule,
  DATE_FORMAT(window_start, 'yyyy-MM-dd''T''HH:mm:ss''Z''') AS window_start,
  DATE_FORMAT(window_end, 'yyyy-MM-dd''T''HH:mm:ss''Z''') AS window_end,
  total AS `count`,
  samples
FROM (
  SELECT
    window_start,
    window_end,
    total,
    samples,
    COUNT(*) OVER w - 1 AS baseline_windows,
    SUM(total) OVER w - total AS baseline_total
  FROM (
    SELECT
      window_start,
      window_end,
      window_time,
      COUNT(*) FILTER (WHERE burst_key IS NULL) + COUNT(DISTINCT burst_key) AS total,
      '[' || FIRST_VALUE(sample) || ',' || LAST_VALUE(sample) || ']' AS samples
    FROM TABLE(TUMBLE(TABLE actions, DESCRIPTOR(event_time), INTERVAL '${traffic_spike_window_seconds}' SECOND(6)))
    GROUP BY window_start, window_end, window_time
  )
  WINDOW w AS (ORDER BY window_time ROWS BETWEEN ${traffic_spike_baseline_windows} PRECEDING AND CURRENT ROW)
)
WHERE baseline_windows >= ${traffic_spike_min_baseline_windows}
  AND total >= ${traffic_spike_min_events}
  AND CAST(total AS DOUBLE) * baseline_windows > ${traffic_spike_factor} * baseline_total
