-- sustained_scraper: one user viewing ${sustained_scraper_distinct_products} or more distinct
-- products in a window of ${sustained_scraper_window_seconds} seconds, one window starting every
-- ${sustained_scraper_slide_seconds} seconds.
--
-- Why: a catalog scraper that learned the per-minute threshold walks a few products a minute
-- for hours; a shopper compares a few dozen products in her busiest hour. Only `view` rows count,
-- distinct products, as in scraper.
--
-- Hopping windows on the event's own time. Samples: the earliest and the latest view of the
-- window (MIN / MAX of the sample's JSON text: see sustained_volume.sql).
INSERT INTO anomalies
SELECT
  user_id,
  'sustained_scraper' AS rule,
  DATE_FORMAT(window_start, 'yyyy-MM-dd''T''HH:mm:ss''Z''') AS window_start,
  DATE_FORMAT(window_end, 'yyyy-MM-dd''T''HH:mm:ss''Z''') AS window_end,
  products AS `count`,
  samples
FROM (
  SELECT
    window_start,
    window_end,
    user_id,
    COUNT(DISTINCT product_id) AS products,
    '[' || MIN(sample) || ',' || MAX(sample) || ']' AS samples
  FROM TABLE(
    HOP(
      TABLE actions, DESCRIPTOR(event_time),
      INTERVAL '${sustained_scraper_slide_seconds}' SECOND(6),
      INTERVAL '${sustained_scraper_window_seconds}' SECOND(6)))
  WHERE event_type = 'view'
  GROUP BY window_start, window_end, user_id
)
WHERE products >= ${sustained_scraper_distinct_products}
