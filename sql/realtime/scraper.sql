-- scraper: one user viewing too many DIFFERENT products in one window of
-- ${scraper_window_seconds} seconds.
--
-- Why: a catalog scraper walks product pages one after another, about one a second, rarely
-- looking at the same product twice; a shopper compares a handful of products per minute and
-- keeps coming back to the same ones (the busiest real customer in the REES46 samples viewed
-- 10 distinct products in a minute). Distinct products, not views, so a person reloading one
-- page is not a scraper (that is the flood rule's business), and only `view` rows count.
--
-- Tumbling windows on the event's own time; samples: first and last view.
INSERT INTO anomalies
SELECT
  user_id,
  'scraper' AS rule,
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
    '[' || FIRST_VALUE(sample) || ',' || LAST_VALUE(sample) || ']' AS samples
  FROM TABLE(TUMBLE(TABLE actions, DESCRIPTOR(event_time), INTERVAL '${scraper_window_seconds}' SECOND(6)))
  WHERE event_type = 'view'
  GROUP BY window_start, window_end, user_id
)
WHERE products >= ${scraper_distinct_products_per_minute}
