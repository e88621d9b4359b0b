-- sustained_cart_stuffer: one user adding ${sustained_cart_stuffer_adds} or more items to carts
-- in a window of ${sustained_cart_stuffer_window_seconds} seconds without buying anything in
-- it, one window starting every ${sustained_cart_stuffer_slide_seconds} seconds.
--
-- Why: a hoarding bot that learned cart_stuffer's threshold adds a little less every few
-- minutes, for hours; a shopper who fills carts for an hour buys. As in cart_stuffer, only `cart`
-- and `purchase` rows matter and any purchase in the window clears the user.
--
-- Hopping windows on the event's own time. Samples: the earliest and the latest cart add (MIN /
-- MAX of the sample's JSON text over a CASE that is NULL for purchases: see sustained_volume.sql).
INSERT INTO anomalies
SELECT
  user_id,
  'sustained_cart_stuffer' AS rule,
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
    '[' || MIN(CASE WHEN event_type = 'cart' THEN sample END)
    || ',' || MAX(CASE WHEN event_type = 'cart' THEN sample END) || ']' AS samples
  FROM TABLE(
    HOP(
      TABLE actions, DESCRIPTOR(event_time),
      INTERVAL '${sustained_cart_stuffer_slide_seconds}' SECOND(6),
      INTERVAL '${sustained_cart_stuffer_window_seconds}' SECOND(6)))
  WHERE event_type IN ('cart', 'purchase')
  GROUP BY window_start, window_end, user_id
)
WHERE adds >= ${sustained_cart_stuffer_adds} AND purchases = 0
