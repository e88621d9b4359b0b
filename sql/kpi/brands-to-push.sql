-- kpi: brands-to-push
-- title: Brands to push: many views, few purchases
-- Brands with at least min_views views, ranked by lowest view-to-purchase conversion
-- (purchase events / view events), then by most views and by name; the top N of them, with
-- their cart rate (cart events / view events) and revenue (sum of purchase prices). Events
-- without a brand are left out: there is no brand to push. Event-level: sessionless events
-- (user_session NULL) count like any other.
-- parameters: from_date, to_date, min_views, top_n
--   from_date, to_date: inclusive 'YYYY-MM-DD' bounds on event_date (UTC)
--   min_views: minimum number of views for a brand to be ranked
--   top_n: how many brands to return
-- columns: push_rank, brand, views, carts, purchases, view_to_purchase_rate, cart_rate, revenue
WITH brands AS (
    SELECT
        brand,
        count_if(event_type = 'view') AS views,
        count_if(event_type = 'cart') AS carts,
        count_if(event_type = 'purchase') AS purchases,
        COALESCE(SUM(CASE WHEN event_type = 'purchase' THEN price END), 0) AS revenue
    FROM events
    WHERE event_date BETWEEN ? AND ?
      AND brand IS NOT NULL
    GROUP BY brand
),
ranked AS (
    SELECT
        *,
        ROW_NUMBER() OVER (
            ORDER BY CAST(purchases AS DOUBLE) / views, views DESC, brand
        ) AS push_rank
    FROM brands
    WHERE views >= ? AND views > 0
)
SELECT
    push_rank,
    brand,
    views,
    carts,
    purchases,
    ROUND(CAST(purchases AS DOUBLE) / views, 4) AS view_to_purchase_rate,
    ROUND(CAST(carts AS DOUBLE) / views, 4) AS cart_rate,
    revenue
FROM ranked
WHERE push_rank <= ?
ORDER BY push_rank
