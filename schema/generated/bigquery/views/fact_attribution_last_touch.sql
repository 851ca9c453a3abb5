-- Generated from schema/views/fact_attribution_last_touch.sql for synter-dev.synter_analytics; do not edit.
-- fact_attribution_last_touch: one row per conversion, credited to the user's latest eligible
-- touchpoint at or before the conversion. The API selects exactly these columns, filters on
-- DATE(conversion_time) and platform, and orders by conversion_time (DESIGN §4).
--
-- Semantics
-- * Same user: a touchpoint counts only when touchpoints.user_id = conversions.user_id. A
--   conversion with a NULL user_id gets no touch (NULL never equals anything), and touchpoints
--   with a NULL user_id never credit anyone.
-- * At or before: touch ts <= conversion ts (equal timestamps count); later touches are ignored.
--   No lookback limit: the latest eligible touch wins however old it is.
-- * `direct` is not a marketing touch: medium = 'direct' compared case-insensitively (the legacy
--   collation is case-insensitive, so 'Direct' meant the same) is skipped. A NULL medium is
--   eligible: an unlabelled touch is still a touch the user made, only an explicit `direct` is not.
-- * No eligible touch: the conversion is kept and every touch column (platform, campaign, adgroup,
--   ad_id, source, medium) is NULL.
-- * Ties (several eligible touches at the same latest ts) are broken deterministically: the
--   higher touchpoint id wins (a NULL id, written after the migration, ranks above every legacy
--   id), then platform, campaign, adgroup, ad_id, source, medium ascending (NULLs first). Rows
--   still tied are identical in every output column, so the result is deterministic.
-- * Each conversion row is its own conversion (ids may be NULL on rows written since the
--   migration), so the partition key is a row number, not conversions.id.
WITH numbered_conversions AS (
  SELECT
    c.*,
    ROW_NUMBER() OVER () AS conversion_row
  FROM `synter-dev.synter_analytics.conversions` AS c
),
ranked_touches AS (
  SELECT
    c.id AS conversion_id,
    c.user_id,
    c.event_name AS conversion_event,
    c.ts AS conversion_time,
    c.value AS conversion_value,
    c.currency,
    t.platform,
    t.campaign,
    t.adgroup,
    t.ad_id,
    t.source,
    t.medium,
    ROW_NUMBER() OVER (
      PARTITION BY c.conversion_row
      ORDER BY
        t.ts DESC NULLS LAST,
        t.id DESC NULLS FIRST,
        t.platform, t.campaign, t.adgroup, t.ad_id, t.source, t.medium
    ) AS touch_rank
  FROM numbered_conversions AS c
  LEFT JOIN `synter-dev.synter_analytics.touchpoints` AS t
    ON t.user_id = c.user_id
    AND t.ts <= c.ts
    AND (t.medium IS NULL OR LOWER(t.medium) != 'direct')
)
SELECT
  conversion_id,
  user_id,
  conversion_event,
  conversion_time,
  conversion_value,
  currency,
  platform,
  campaign,
  adgroup,
  ad_id,
  source,
  medium
FROM ranked_touches
WHERE touch_rank = 1
