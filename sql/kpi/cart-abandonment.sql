-- kpi: cart-abandonment
-- title: Cart abandonment per day in an hour-of-day window
-- Among the events of the hour-of-day window (UTC hours, inclusive), sessions that put
-- something in the cart and did not purchase, their share of the sessions with a cart, the
-- value left in those carts (sum of the prices of their cart events), and the same at user
-- level. One row per day with a cart or a purchase in the window, plus one row 'all' over the
-- whole period, where a user who carted on one day and bought on another has not abandoned.
-- Sessionless events (user_session NULL): the user-level figures (users_with_cart,
-- abandoned_users) count them; the session-level ones (sessions_with_cart, abandoned_sessions,
-- abandoned_cart_value) leave them out explicitly, as grouping by a NULL session would lump
-- every such event into one "session".
-- parameters: from_date, to_date, hour_from, hour_to
--   from_date, to_date: inclusive 'YYYY-MM-DD' bounds on event_date (UTC)
--   hour_from, hour_to: inclusive hour-of-day window, 0-23, hour_from <= hour_to
-- columns: event_date, sessions_with_cart, abandoned_sessions, session_abandonment_rate, abandoned_cart_value, users_with_cart, abandoned_users, user_abandonment_rate
WITH in_window AS (
    SELECT event_date, user_id, user_session, event_type, price
    FROM events
    WHERE event_date BETWEEN ? AND ?
      AND event_hour BETWEEN ? AND ?
      -- Only carts and purchases decide abandonment: skipping views (most events) is the speed.
      AND event_type IN ('cart', 'purchase')
),
-- One pass over the events gives each (day, session) and (day, user); the whole period is
-- then rolled up from those much smaller sets instead of scanning the events again.
day_sessions AS (
    SELECT
        event_date,
        user_session,
        count_if(event_type = 'cart') > 0 AS carted,
        count_if(event_type = 'purchase') > 0 AS purchased,
        SUM(CASE WHEN event_type = 'cart' THEN price END) AS cart_value
    FROM in_window
    WHERE user_session IS NOT NULL
    GROUP BY event_date, user_session
),
day_users AS (
    SELECT
        event_date,
        user_id,
        count_if(event_type = 'cart') > 0 AS carted,
        count_if(event_type = 'purchase') > 0 AS purchased
    FROM in_window
    GROUP BY event_date, user_id
),
by_session AS (
    SELECT event_date AS period, carted, purchased, cart_value FROM day_sessions
    UNION ALL
    SELECT 'all' AS period, bool_or(carted), bool_or(purchased), SUM(cart_value)
    FROM day_sessions
    GROUP BY user_session
),
by_user AS (
    SELECT event_date AS period, carted, purchased FROM day_users
    UNION ALL
    SELECT 'all' AS period, bool_or(carted), bool_or(purchased)
    FROM day_users
    GROUP BY user_id
),
session_totals AS (
    SELECT
        period,
        count_if(carted) AS sessions_with_cart,
        count_if(carted AND NOT purchased) AS abandoned_sessions,
        COALESCE(SUM(CASE WHEN carted AND NOT purchased THEN cart_value END), 0) AS abandoned_cart_value
    FROM by_session
    GROUP BY period
),
user_totals AS (
    SELECT
        period,
        count_if(carted) AS users_with_cart,
        count_if(carted AND NOT purchased) AS abandoned_users
    FROM by_user
    GROUP BY period
)
SELECT
    s.period AS event_date,
    s.sessions_with_cart,
    s.abandoned_sessions,
    ROUND(CAST(s.abandoned_sessions AS DOUBLE) / NULLIF(s.sessions_with_cart, 0), 4) AS session_abandonment_rate,
    s.abandoned_cart_value,
    u.users_with_cart,
    u.abandoned_users,
    ROUND(CAST(u.abandoned_users AS DOUBLE) / NULLIF(u.users_with_cart, 0), 4) AS user_abandonment_rate
FROM session_totals AS s
JOIN user_totals AS u ON u.period = s.period
ORDER BY event_date
