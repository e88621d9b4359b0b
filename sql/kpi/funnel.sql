-- kpi: funnel
-- title: Session funnel per day: view, cart, purchase
-- Sessions per day and how far they went: viewed (at least one view), carted (a view and a
-- cart), purchased (a view, a cart and a purchase), each step counting only sessions that also
-- reached the previous ones (presence in the session, not order within it), and the
-- conversion rates between steps. Plus one row 'all' over the whole period.
-- Session-level throughout: sessionless events (user_session NULL) are left out explicitly.
-- parameters: from_date, to_date
--   from_date, to_date: inclusive 'YYYY-MM-DD' bounds on event_date (UTC)
-- columns: event_date, sessions, viewed_sessions, carted_sessions, purchased_sessions, view_to_cart_rate, cart_to_purchase_rate, view_to_purchase_rate
WITH day_sessions AS (
    SELECT
        event_date,
        user_session,
        count_if(event_type = 'view') > 0 AS viewed,
        count_if(event_type = 'cart') > 0 AS carted,
        count_if(event_type = 'purchase') > 0 AS purchased
    FROM events
    WHERE event_date BETWEEN ? AND ?
      AND user_session IS NOT NULL
    GROUP BY event_date, user_session
),
-- The whole period rolls up the (day, session) rows: a session across midnight is one session.
by_session AS (
    SELECT event_date AS period, viewed, carted, purchased FROM day_sessions
    UNION ALL
    SELECT 'all' AS period, bool_or(viewed), bool_or(carted), bool_or(purchased)
    FROM day_sessions
    GROUP BY user_session
),
steps AS (
    SELECT
        period,
        COUNT(*) AS sessions,
        count_if(viewed) AS viewed_sessions,
        count_if(viewed AND carted) AS carted_sessions,
        count_if(viewed AND carted AND purchased) AS purchased_sessions
    FROM by_session
    GROUP BY period
)
SELECT
    period AS event_date,
    sessions,
    viewed_sessions,
    carted_sessions,
    purchased_sessions,
    ROUND(CAST(carted_sessions AS DOUBLE) / NULLIF(viewed_sessions, 0), 4) AS view_to_cart_rate,
    ROUND(CAST(purchased_sessions AS DOUBLE) / NULLIF(carted_sessions, 0), 4) AS cart_to_purchase_rate,
    ROUND(CAST(purchased_sessions AS DOUBLE) / NULLIF(viewed_sessions, 0), 4) AS view_to_purchase_rate
FROM steps
ORDER BY event_date
