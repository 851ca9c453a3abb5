-- Generated from schema/views/fact_attribution_first_touch.sql for synter-dev.synter_analytics; do not edit.
-- fact_attribution_first_touch: one row per conversion, credited to the user's earliest eligible
-- touchpoint within the 30 days before the conversion. Same columns as
-- fact_attribution_last_touch.
--
-- Semantics
-- * Same user: touchpoints.user_id = conversions.user_id; a conversion with a NULL user_id gets
--   no touch, and touchpoints with a NULL user_id never credit anyone.
-- * Lookback: conversion ts - 30 days <= touch ts <= conversion ts, both ends inclusive
--   (30 days = 720 hours, not calendar days in any time zone). Older and later touches are ignored.
-- * `direct` is skipped (case-insensitively); a NULL medium is eligible (see the last-touch view).
-- * No eligible touch in the window: the conversion is kept with every touch column NULL.
-- * Ties (several eligible touches at the same earliest ts): the lower touchpoint id wins (a NULL
--   id, written after the migration, ranks after every legacy id), then platform, campaign,
--   adgroup, ad_id, source, medium ascending (NULLs first); rows still tied are identical in
--   every output column.
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
        t.ts ASC NULLS LAST,
        t.id ASC NULLS LAST,
        t.platform, t.campaign, t.adgroup, t.ad_id, t.source, t.medium
    ) AS touch_rank
  FROM numbered_conversions AS c
  LEFT JOIN `synter-dev.synter_analytics.touchpoints` AS t
    ON t.user_id = c.user_id
    AND t.ts <= c.ts
    AND t.ts >= TIMESTAMP_SUB(c.ts, INTERVAL 30 DAY)
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
