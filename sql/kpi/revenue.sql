-- kpi: revenue
-- title: Revenue per day: orders, buyers, revenue, average order value
-- The data has no order id: an order is a session with at least one purchase event (a checkout
-- of a 49-item cart emits 49 purchase events in one session). Revenue is the sum of purchase
-- prices; average order value is revenue / orders. Days with events but no purchase show 0.
-- Plus one row 'all' over the whole period.
-- Sessionless purchases (user_session NULL): purchased_items, buyers and revenue are
-- event- and user-level and count them; orders is session-level and leaves them out
-- explicitly, and average_order_value is the revenue of those orders / orders.
-- parameters: from_date, to_date, from_date, to_date
--   from_date, to_date: inclusive 'YYYY-MM-DD' bounds on event_date (UTC), bound for both the
--   list of days and the purchases
-- columns: event_date, orders, purchased_items, buyers, revenue, average_order_value
-- Why two scans: only purchases (a few percent of events) go through the distinct counts; the
-- list of days comes from a cheap GROUP BY, so days without a purchase still show 0.
WITH days AS (
    SELECT event_date
    FROM events
    WHERE event_date BETWEEN ? AND ?
    GROUP BY event_date
),
purchases AS (
    SELECT event_date, user_session, user_id, price
    FROM events
    WHERE event_date BETWEEN ? AND ? AND event_type = 'purchase'
),
totals AS (
    SELECT
        COALESCE(d.event_date, 'all') AS period,
        COUNT(DISTINCT CASE WHEN p.user_session IS NOT NULL THEN p.user_session END) AS orders,
        COUNT(p.event_date) AS purchased_items,
        COUNT(DISTINCT p.user_id) AS buyers,
        COALESCE(SUM(p.price), 0) AS revenue,
        SUM(CASE WHEN p.user_session IS NOT NULL THEN p.price END) AS order_revenue
    FROM days AS d
    LEFT JOIN purchases AS p ON p.event_date = d.event_date
    GROUP BY GROUPING SETS ((d.event_date), ())
    HAVING COUNT(*) > 0
)
SELECT
    period AS event_date,
    orders,
    purchased_items,
    buyers,
    revenue,
    ROUND(CAST(order_revenue AS DOUBLE) / NULLIF(orders, 0), 2) AS average_order_value
FROM totals
ORDER BY event_date
