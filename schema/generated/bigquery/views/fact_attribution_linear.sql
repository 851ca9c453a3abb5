-- Generated from schema/views/fact_attribution_linear.sql for synter-dev.synter_analytics; do not edit.
-- fact_attribution_linear: one row per (conversion, eligible touchpoint); each of the n eligible
-- touches of a conversion gets an equal share of the credit and of the conversion value.
--
-- Semantics
-- * Eligible touches: same user (a NULL user_id on either side matches nothing), in the 30-day
--   lookback conversion ts - 30 days <= touch ts <= conversion ts (both ends inclusive), medium
--   not 'direct' (case-insensitively; a NULL medium is eligible), as in the first-touch view.
-- * Conversions without any eligible touch have no row here (they appear, with NULL touch
--   columns, in fact_attribution_last_touch / fact_attribution_first_touch).
-- * Exactness: credit and attributed_value are NUMERIC (9 decimal places), never FLOAT64, so sums
--   are exact. 1/n is not representable in either type (1/3 = 0.333333333), so every touch but
--   the last gets ROUND(1/n, 9) and the last touch (touch_position = n) gets the remainder
--   1 - (n - 1) * ROUND(1/n, 9). SUM(credit) per conversion is therefore exactly 1, and
--   SUM(attributed_value) is exactly conversion_value (same rule with value/n). A NULL
--   conversion_value gives a NULL attributed_value.
-- * Order of touches (touch_position 1..n): ts, then touchpoint id (NULL last), then platform,
--   campaign, adgroup, ad_id, source, medium; only fully identical touches can swap places.
WITH numbered_conversions AS (
  SELECT
    c.*,
    ROW_NUMBER() OVER () AS conversion_row
  FROM `synter-dev.synter_analytics.conversions` AS c
),
eligible_touches AS (
  SELECT
    c.id AS conversion_id,
    c.user_id,
    c.event_name AS conversion_event,
    c.ts AS conversion_time,
    c.value AS conversion_value,
    c.currency,
    t.id AS touchpoint_id,
    t.ts AS touch_time,
    t.platform,
    t.campaign,
    t.adgroup,
    t.ad_id,
    t.source,
    t.medium,
    ROW_NUMBER() OVER (
      PARTITION BY c.conversion_row
      ORDER BY
        t.ts ASC,
        t.id ASC NULLS LAST,
        t.platform, t.campaign, t.adgroup, t.ad_id, t.source, t.medium
    ) AS touch_position,
    COUNT(*) OVER (PARTITION BY c.conversion_row) AS touch_count
  FROM numbered_conversions AS c
  INNER JOIN `synter-dev.synter_analytics.touchpoints` AS t
    ON t.user_id = c.user_id
    AND t.ts <= c.ts
    AND t.ts >= TIMESTAMP_SUB(c.ts, INTERVAL 30 DAY)
    AND (t.medium IS NULL OR LOWER(t.medium) != 'direct')
),
equal_shares AS (
  SELECT
    *,
    ROUND(CAST(1 AS NUMERIC) / touch_count, 9) AS credit_share,
    ROUND(conversion_value / touch_count, 9) AS value_share
  FROM eligible_touches
)
SELECT
  conversion_id,
  user_id,
  conversion_event,
  conversion_time,
  conversion_value,
  currency,
  touchpoint_id,
  touch_time,
  platform,
  campaign,
  adgroup,
  ad_id,
  source,
  medium,
  touch_position,
  touch_count,
  IF(
    touch_position = touch_count,
    1 - credit_share * (touch_count - 1),
    credit_share
  ) AS credit,
  IF(
    touch_position = touch_count,
    conversion_value - value_share * (touch_count - 1),
    value_share
  ) AS attributed_value
FROM equal_shares
