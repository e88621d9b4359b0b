-- kpi: revenue
-- title: Revenue per day: orders, buyers, revenue, average order value
-- The data has no order id: an order is a session with at least one purchase event (a checkout
-- of a 49-item cart emits 49 purchase events in one session). Revenue is the sum of purchase
-- prices; average order value is revenue / orders. Days with events but no purchase show 0.
-- Plus one row 'all' over the whole period.
-- parameters: from_date, to_date
--   from_date, to_date: inclusive 'YYYY-MM-DD' bounds on event_date (UTC)
-- columns: event_date, orders, purchased_items, buyers, revenue, average_order_value
WITH totals AS (
    SELECT
        COALESCE(event_date, 'all') AS period,
        COUNT(DISTINCT CASE WHEN event_type = 'purchase' THEN user_session END) AS orders,
        count_if(event_type = 'purchase') AS purchased_items,
        COUNT(DISTINCT CASE WHEN event_type = 'purchase' THEN user_id END) AS buyers,
        COALESCE(SUM(CASE WHEN event_type = 'purchase' THEN price END), 0) AS revenue
    FROM events
    WHERE event_date BETWEEN ? AND ?
    GROUP BY GROUPING SETS ((event_date), ())
    HAVING COUNT(*) > 0
)
SELECT
    period AS event_date,
    orders,
    purchased_items,
    buyers,
    revenue,
    ROUND(CAST(revenue AS DOUBLE) / NULLIF(orders, 0), 2) AS average_order_value
FROM totals
ORDER BY event_date
