-- Generated from schema/views/campaign_performance_daily.sql for synter-dev.synter_analytics; do not edit.
-- campaign_performance_daily: one row per (platform, date, account_id, campaign_id) that has
-- ad_metrics, with the platform's own numbers, last-touch attributed conversions, and ratios.
--
-- Semantics
-- * Each ad_metrics natural key (platform, date, account_id, campaign_id, adgroup_id, ad_id) is
--   counted once: rows are appended on every re-ingestion, and the row with the latest
--   ingested_at wins (a NULL ingested_at ranks oldest; ties fall to the higher id, then the
--   larger metrics, so the choice is deterministic). NULL adgroup_id / ad_id are equal to each
--   other within the key (a campaign-level row is one key).
-- * impressions, clicks, spend, platform_conversions, platform_revenue: sums over the campaign's
--   ad groups and ads for the day; NULL metrics count as 0 (the legacy default).
-- * Attribution join: touchpoints.campaign (the event's utm_campaign) is compared with
--   ad_metrics.campaign_id. This holds only when campaigns tag utm_campaign with the platform's
--   campaign id; conversions of campaigns tagged otherwise are not attributed here. The touch
--   platform must equal the ad platform (platform 'other' never matches), and the conversion's
--   UTC day, DATE(conversion_time), is matched to ad_metrics.date. Touchpoints carry no account,
--   so a campaign id present under two accounts of one platform on one day credits both.
-- * attributed_conversions / attributed_value: count and sum of conversion_value of
--   fact_attribution_last_touch rows credited to the campaign that day (values summed as they
--   are, whatever their currency); 0 when there are none. Attributed conversions on days or
--   campaigns without ad_metrics do not appear in this view.
-- * Ratios use SAFE_DIVIDE, so a zero (or NULL) denominator gives NULL, never an error:
--   ctr = clicks / impressions (FLOAT64); cpc = spend / clicks; cpa = spend /
--   attributed_conversions; roas = attributed_value / spend; platform_roas = platform_revenue /
--   spend (NUMERIC, exact).
WITH latest_ad_metrics AS (
  SELECT
    m.platform,
    m.date,
    m.account_id,
    m.campaign_id,
    m.impressions,
    m.clicks,
    m.conversions,
    m.spend,
    m.revenue,
    ROW_NUMBER() OVER (
      PARTITION BY m.platform, m.date, m.account_id, m.campaign_id, m.adgroup_id, m.ad_id
      ORDER BY
        m.ingested_at DESC NULLS LAST,
        m.id DESC NULLS LAST,
        m.impressions DESC, m.clicks DESC, m.conversions DESC, m.spend DESC, m.revenue DESC
    ) AS ingestion_rank
  FROM `synter-dev.synter_analytics.ad_metrics` AS m
),
campaign_days AS (
  SELECT
    platform,
    date,
    account_id,
    campaign_id,
    COALESCE(SUM(impressions), 0) AS impressions,
    COALESCE(SUM(clicks), 0) AS clicks,
    COALESCE(SUM(spend), 0) AS spend,
    COALESCE(SUM(conversions), 0) AS platform_conversions,
    COALESCE(SUM(revenue), 0) AS platform_revenue
  FROM latest_ad_metrics
  WHERE ingestion_rank = 1
  GROUP BY platform, date, account_id, campaign_id
),
attributed AS (
  SELECT
    platform,
    DATE(conversion_time) AS date,
    campaign AS campaign_id,
    COUNT(*) AS attributed_conversions,
    COALESCE(SUM(conversion_value), 0) AS attributed_value
  FROM `synter-dev.synter_analytics.fact_attribution_last_touch`
  WHERE campaign IS NOT NULL
  GROUP BY platform, date, campaign_id
)
SELECT
  d.platform,
  d.date,
  d.account_id,
  d.campaign_id,
  d.impressions,
  d.clicks,
  d.spend,
  d.platform_conversions,
  d.platform_revenue,
  COALESCE(a.attributed_conversions, 0) AS attributed_conversions,
  COALESCE(a.attributed_value, 0) AS attributed_value,
  SAFE_DIVIDE(d.clicks, d.impressions) AS ctr,
  SAFE_DIVIDE(d.spend, d.clicks) AS cpc,
  SAFE_DIVIDE(d.spend, COALESCE(a.attributed_conversions, 0)) AS cpa,
  SAFE_DIVIDE(COALESCE(a.attributed_value, 0), d.spend) AS roas,
  SAFE_DIVIDE(d.platform_revenue, d.spend) AS platform_roas
FROM campaign_days AS d
LEFT JOIN attributed AS a
  ON a.platform = d.platform
  AND a.date = d.date
  AND a.campaign_id = d.campaign_id
