-- cart_stuffer: one user adding many items to carts in a window of
-- ${cart_stuffer_window_seconds} seconds without buying anything in it.
--
-- Why: hoarding bots put stock into carts to make it unavailable to others (or to watch prices)
-- and never check out. A shopper who fills a big cart buys in the same visit, or adds a few
-- items and leaves. Only `cart` and `purchase` rows matter: cart adds are counted, and any
-- purchase in the window clears the user (purchases are not deduplicated here because only
-- "none at all" matters). Cart adds are not bursts: each is its own click, unlike a checkout.
--
-- Tumbling windows on the event's own time. Samples: the first and last cart add, picked with
-- FIRST_VALUE / LAST_VALUE over a CASE that is NULL for purchases (both skip NULLs).
INSERT INTO anomalies
SELECT
  user_id,
  'cart_stuffer' AS rule,
  DATE_FORMAT(window_start, 'yyyy-MM-dd''T''HH:mm:ss''Z''') AS window_start,
  DATE_FORMAT(window_end, 'yyyy-MM-dd''T''HH:mm:ss''Z''') AS window_end,
  adds AS `count`,
  samples
FROM (
  SELECT
    window_start,
    window_end,
    user_id,
    COUNT(*) FILTER (WHERE event_type = 'cart') AS adds,
    COUNT(*) FILTER (WHERE event_type = 'purchase') AS purchases,
    '[' || FIRST_VALUE(CASE WHEN event_type = 'cart' THEN sample END)
    || ',' || LAST_VALUE(CASE WHEN event_type = 'cart' THEN sample END) || ']' AS samples
  FROM TABLE(
    TUMBLE(
      TABLE actions, DESCRIPTOR(event_time), INTERVAL '${cart_stuffer_window_seconds}' SECOND(6)))
  WHERE event_type IN ('cart', 'purchase')
  GROUP BY window_start, window_end, user_id
)
WHERE adds >= ${cart_stuffer_adds} AND purchases = 0
