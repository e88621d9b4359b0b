-- kpi: top-categories
-- title: Top categories by hour of day and by weekday
-- For each hour of day (0-23, UTC) and each ISO weekday (1 = Monday ... 7 = Sunday), the top N
-- top-level categories (first segment of category_code) ranked by views, then carts,
-- purchases, revenue and name. Events without a category_code are ranked as '(none)', not
-- dropped. Revenue is the sum of purchase prices. Event-level: sessionless events
-- (user_session NULL) count like any other.
-- parameters: from_date, to_date, top_n
--   from_date, to_date: inclusive 'YYYY-MM-DD' bounds on event_date (UTC)
--   top_n: how many categories per hour and per weekday
-- columns: dimension, slot, category_rank, category, views, carts, purchases, revenue
WITH in_range AS (
    SELECT event_hour, event_weekday, COALESCE(top_category, '(none)') AS category, event_type, price
    FROM events
    WHERE event_date BETWEEN ? AND ?
),
slots AS (
    SELECT 'hour' AS dimension, event_hour AS slot, category, event_type, price FROM in_range
    UNION ALL
    SELECT 'weekday' AS dimension, event_weekday AS slot, category, event_type, price FROM in_range
),
totals AS (
    SELECT
        dimension,
        slot,
        category,
        count_if(event_type = 'view') AS views,
        count_if(event_type = 'cart') AS carts,
        count_if(event_type = 'purchase') AS purchases,
        COALESCE(SUM(CASE WHEN event_type = 'purchase' THEN price END), 0) AS revenue
    FROM slots
    GROUP BY dimension, slot, category
),
ranked AS (
    SELECT
        *,
        ROW_NUMBER() OVER (
            PARTITION BY dimension, slot
            ORDER BY views DESC, carts DESC, purchases DESC, revenue DESC, category
        ) AS category_rank
    FROM totals
)
SELECT dimension, slot, category_rank, category, views, carts, purchases, revenue
FROM ranked
WHERE category_rank <= ?
ORDER BY dimension, slot, category_rank
