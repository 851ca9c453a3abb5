/**
 * The views' semantics, evaluated by ZetaSQL's reference implementation over fixture rows (the
 * real rendered SQL, BigQuery semantics). Expected rows are written out in full.
 */
import type { ConversionRow, TouchpointRow, AdMetricRow } from "../../schema";
import { evaluateView, ZetaSql, type SqlRow } from "../../src/zetasql";

let zeta: ZetaSql;

beforeAll(async () => {
  zeta = await ZetaSql.start();
});

afterAll(async () => {
  await zeta?.stop();
});

type Fixture<T> = Partial<T> & Record<string, unknown>;

function conversion(
  id: number,
  user_id: string | null,
  ts: string,
  value: string | null = "100",
): Fixture<ConversionRow> {
  return {
    id: String(id),
    event_id: String(1000 + id),
    user_id,
    ts,
    event_name: "purchase",
    value,
    currency: "USD",
  };
}

function touch(
  id: number | null,
  user_id: string | null,
  ts: string,
  fields: Partial<TouchpointRow> = {},
): Fixture<TouchpointRow> {
  return {
    id: id === null ? null : String(id),
    user_id,
    ts,
    platform: "google",
    campaign: `campaign-${id}`,
    adgroup: `adgroup-${id}`,
    ad_id: `ad-${id}`,
    source: "google",
    medium: "cpc",
    ...fields,
  };
}

const byConversionId = (a: SqlRow, b: SqlRow): number =>
  Number(a.conversion_id) - Number(b.conversion_id);

/** The touch columns of a (conversion, touch) attribution row, for compact expectations. */
function touchColumns(id: number | null, fields: Partial<TouchpointRow> = {}): SqlRow {
  const t = touch(id, null, "2000-01-01T00:00:00Z", fields);
  return {
    platform: t.platform,
    campaign: t.campaign,
    adgroup: t.adgroup,
    ad_id: t.ad_id,
    source: t.source,
    medium: t.medium,
  };
}

const noTouch = {
  platform: null,
  campaign: null,
  adgroup: null,
  ad_id: null,
  source: null,
  medium: null,
};

function conversionColumns(c: Fixture<ConversionRow>): SqlRow {
  return {
    conversion_id: c.id,
    user_id: c.user_id,
    conversion_event: "purchase",
    conversion_time: String(c.ts).replace("Z", ".000000Z"),
    conversion_value: c.value,
    currency: "USD",
  };
}

// u1 converts at 2024-05-10 12:00; its touches exercise every eligibility rule.
const c1 = conversion(1, "u1", "2024-05-10T12:00:00Z");
// u1 converts again exactly at touch 2's time: "at or before" includes equal timestamps.
const c2 = conversion(2, "u1", "2024-05-09T08:00:00Z", "50");
// u3 has only direct touches; a NULL-user conversion must not pick the NULL-user touch.
const c3 = conversion(3, "u3", "2024-05-10T12:00:00Z");
const c4 = conversion(4, null, "2024-05-10T12:00:00Z");
// u4: two touches at the same time (ids 10, 11); u5: NULL id vs id 20 at the same time.
const c5 = conversion(5, "u4", "2024-05-10T12:00:00Z");
const c6 = conversion(6, "u5", "2024-05-10T12:00:00Z");
// u6: the only touch has a NULL medium (eligible); u7: the only touch is 90 days old.
const c7 = conversion(7, "u6", "2024-05-10T12:00:00Z", null);
const c8 = conversion(8, "u7", "2024-05-10T12:00:00Z");

const conversions = [c1, c2, c3, c4, c5, c6, c7, c8];
const touchpoints = [
  touch(7, "u1", "2024-04-10T11:59:59.999999Z"), // 1 µs before the 30-day window of c1
  touch(6, "u1", "2024-04-10T12:00:00Z"), // exactly 30 days before c1: in the window
  touch(1, "u1", "2024-05-01T09:00:00Z"),
  touch(2, "u1", "2024-05-09T08:00:00Z", {
    platform: "reddit",
    source: "reddit",
    medium: "social",
  }),
  touch(3, "u1", "2024-05-10T11:00:00Z", { platform: "other", medium: "direct" }),
  touch(4, "u1", "2024-05-10T11:30:00Z", { platform: "other", medium: "Direct" }),
  touch(5, "u1", "2024-05-10T12:00:00.000001Z"), // 1 µs after c1
  touch(8, "u2", "2024-05-10T11:59:00Z"), // another user
  touch(9, "u3", "2024-05-10T10:00:00Z", { medium: "direct" }),
  touch(30, null, "2024-05-10T11:00:00Z"), // no user
  touch(10, "u4", "2024-05-10T10:00:00Z"),
  touch(11, "u4", "2024-05-10T10:00:00Z"),
  touch(null, "u5", "2024-05-10T10:00:00Z", { campaign: "campaign-null-id" }),
  touch(20, "u5", "2024-05-10T10:00:00Z"),
  touch(40, "u6", "2024-05-01T10:00:00Z", { medium: null }),
  touch(50, "u7", "2024-02-10T12:00:00Z"),
];

describe("fact_attribution_last_touch", () => {
  it("credits the latest eligible touch of the same user at or before the conversion", async () => {
    const { rows } = await evaluateView(zeta, "fact_attribution_last_touch", {
      conversions,
      touchpoints,
    });
    expect([...rows].sort(byConversionId)).toEqual([
      // touches 3/4 are direct (any case), 5 is later, 8 is another user's: touch 2 wins.
      {
        ...conversionColumns(c1),
        ...touchColumns(2, { platform: "reddit", source: "reddit", medium: "social" }),
      },
      {
        ...conversionColumns(c2),
        ...touchColumns(2, { platform: "reddit", source: "reddit", medium: "social" }),
      },
      { ...conversionColumns(c3), ...noTouch },
      { ...conversionColumns(c4), ...noTouch },
      { ...conversionColumns(c5), ...touchColumns(11) }, // tie: higher id
      { ...conversionColumns(c6), ...touchColumns(null, { campaign: "campaign-null-id" }) }, // tie: NULL id
      { ...conversionColumns(c7), ...touchColumns(40, { medium: null }) },
      { ...conversionColumns(c8), ...touchColumns(50) }, // no lookback limit
    ]);
  });

  it("keeps every conversion, with NULL touch columns, when there are no touchpoints", async () => {
    const { rows } = await evaluateView(zeta, "fact_attribution_last_touch", {
      conversions: [c1, c4],
    });
    expect([...rows].sort(byConversionId)).toEqual([
      { ...conversionColumns(c1), ...noTouch },
      { ...conversionColumns(c4), ...noTouch },
    ]);
  });
});

describe("fact_attribution_first_touch", () => {
  it("credits the earliest eligible touch within the 30-day lookback", async () => {
    const { rows } = await evaluateView(zeta, "fact_attribution_first_touch", {
      conversions,
      touchpoints,
    });
    expect([...rows].sort(byConversionId)).toEqual([
      { ...conversionColumns(c1), ...touchColumns(6) }, // 7 is 1 µs outside the window
      { ...conversionColumns(c2), ...touchColumns(7) }, // c2's window starts 2024-04-09 08:00
      { ...conversionColumns(c3), ...noTouch },
      { ...conversionColumns(c4), ...noTouch },
      { ...conversionColumns(c5), ...touchColumns(10) }, // tie: lower id
      { ...conversionColumns(c6), ...touchColumns(20) }, // tie: NULL id ranks last
      { ...conversionColumns(c7), ...touchColumns(40, { medium: null }) },
      { ...conversionColumns(c8), ...noTouch }, // its only touch is 90 days old
    ]);
  });
});

describe("fact_attribution_linear", () => {
  it("gives each eligible touch in the lookback an equal, exact share", async () => {
    const { rows } = await evaluateView(zeta, "fact_attribution_linear", {
      conversions,
      touchpoints,
    });
    const compact = [...rows]
      .sort((a, b) => byConversionId(a, b) || Number(a.touch_position) - Number(b.touch_position))
      .map((r) => [
        r.conversion_id,
        r.touchpoint_id,
        r.touch_time,
        r.touch_position,
        r.touch_count,
        r.credit,
        r.attributed_value,
      ]);
    expect(compact).toEqual([
      ["1", "6", "2024-04-10T12:00:00.000000Z", "1", "3", "0.333333333", "33.333333333"],
      ["1", "1", "2024-05-01T09:00:00.000000Z", "2", "3", "0.333333333", "33.333333333"],
      ["1", "2", "2024-05-09T08:00:00.000000Z", "3", "3", "0.333333334", "33.333333334"],
      ["2", "7", "2024-04-10T11:59:59.999999Z", "1", "4", "0.25", "12.5"],
      ["2", "6", "2024-04-10T12:00:00.000000Z", "2", "4", "0.25", "12.5"],
      ["2", "1", "2024-05-01T09:00:00.000000Z", "3", "4", "0.25", "12.5"],
      ["2", "2", "2024-05-09T08:00:00.000000Z", "4", "4", "0.25", "12.5"],
      ["5", "10", "2024-05-10T10:00:00.000000Z", "1", "2", "0.5", "50"],
      ["5", "11", "2024-05-10T10:00:00.000000Z", "2", "2", "0.5", "50"],
      ["6", "20", "2024-05-10T10:00:00.000000Z", "1", "2", "0.5", "50"],
      ["6", null, "2024-05-10T10:00:00.000000Z", "2", "2", "0.5", "50"],
      ["7", "40", "2024-05-01T10:00:00.000000Z", "1", "1", "1", null],
    ]);
    expect(rows.find((r) => r.conversion_id === "1")).toMatchObject({
      ...conversionColumns(c1),
      platform: "google",
      medium: "cpc",
    });
  });

  it("sums credit to exactly 1 and attributed value to exactly the conversion value", async () => {
    // 7 touches: 1/7 and 100/7 repeat forever, so equal shares alone could never sum exactly.
    const sevenTouches = Array.from({ length: 7 }, (_, i) =>
      touch(100 + i, "u9", `2024-05-0${i + 1}T00:00:00Z`),
    );
    const conversionWithSeven = conversion(9, "u9", "2024-05-08T00:00:00Z", "100.000001");
    const { rows } = await evaluateView(zeta, "fact_attribution_linear", {
      conversions: [conversionWithSeven],
      touchpoints: sevenTouches,
    });
    expect(rows.map((r) => r.credit).sort()).toEqual(
      [...Array(6).fill("0.142857143"), "0.142857142"].sort(),
    );
    const scaled = (text: unknown) => {
      const [whole, fraction = ""] = String(text).split(".");
      return BigInt(whole + fraction.padEnd(9, "0"));
    };
    expect(rows.reduce((sum, r) => sum + scaled(r.credit), 0n)).toBe(1_000_000_000n);
    expect(rows.reduce((sum, r) => sum + scaled(r.attributed_value), 0n)).toBe(
      scaled("100.000001"),
    );
  });
});

describe("campaign_performance_daily", () => {
  function metric(fields: Partial<AdMetricRow>): Fixture<AdMetricRow> {
    return {
      platform: "google",
      date: "2024-05-10",
      account_id: "acct-1",
      campaign_id: "cmp-g",
      adgroup_id: "ag-1",
      ad_id: "ad-1",
      impressions: "0",
      clicks: "0",
      conversions: "0",
      spend: "0",
      revenue: "0",
      ingested_at: "2024-05-11T00:00:00Z",
      ...fields,
    };
  }

  const adMetrics = [
    // ad-1 ingested twice: only the later row counts.
    metric({ impressions: "100", clicks: "10", conversions: "7", spend: "5", revenue: "99" }),
    metric({
      impressions: "200",
      clicks: "20",
      spend: "8.5",
      ingested_at: "2024-05-11T06:00:00Z",
    }),
    metric({
      ad_id: "ad-2",
      impressions: "50",
      clicks: "5",
      conversions: "1",
      spend: "1.5",
      revenue: "3",
    }),
    // A campaign-level row (NULL adgroup/ad) re-ingested: NULL keys are one key.
    metric({ campaign_id: "cmp-zero", adgroup_id: null, ad_id: null, impressions: "9" }),
    metric({
      campaign_id: "cmp-zero",
      adgroup_id: null,
      ad_id: null,
      ingested_at: "2024-05-12T00:00:00Z",
    }),
    // Spend without clicks or impressions.
    metric({ platform: "reddit", account_id: "acct-r", campaign_id: "cmp-r", spend: "12" }),
  ];
  const perfConversions = [
    conversion(1, "u1", "2024-05-10T12:00:00Z", "40"),
    conversion(2, "u2", "2024-05-10T13:00:00Z", "60"),
    conversion(3, "u3", "2024-05-11T09:00:00Z", "70"), // a day without ad_metrics
    conversion(4, "u4", "2024-05-10T09:00:00Z", "80"), // same campaign id on another platform
  ];
  const perfTouches = [
    touch(1, "u1", "2024-05-09T10:00:00Z", { campaign: "cmp-g" }),
    touch(2, "u2", "2024-05-10T12:30:00Z", { campaign: "cmp-g" }),
    touch(3, "u3", "2024-05-11T08:00:00Z", { campaign: "cmp-g" }),
    touch(4, "u4", "2024-05-10T08:00:00Z", { campaign: "cmp-g", platform: "reddit" }),
  ];

  it("counts each natural key once, attributes last touches, and divides safely", async () => {
    const { rows } = await evaluateView(zeta, "campaign_performance_daily", {
      ad_metrics: adMetrics,
      conversions: perfConversions,
      touchpoints: perfTouches,
    });
    const sorted = [...rows].sort((a, b) =>
      `${a.platform}${a.campaign_id}`.localeCompare(`${b.platform}${b.campaign_id}`),
    );
    expect(sorted).toEqual([
      {
        platform: "google",
        date: "2024-05-10",
        account_id: "acct-1",
        campaign_id: "cmp-g",
        impressions: "250",
        clicks: "25",
        spend: "10",
        platform_conversions: "1",
        platform_revenue: "3",
        attributed_conversions: "2",
        attributed_value: "100",
        ctr: 0.1,
        cpc: "0.4",
        cpa: "5",
        roas: "10",
        platform_roas: "0.3",
      },
      {
        platform: "google",
        date: "2024-05-10",
        account_id: "acct-1",
        campaign_id: "cmp-zero",
        impressions: "0",
        clicks: "0",
        spend: "0",
        platform_conversions: "0",
        platform_revenue: "0",
        attributed_conversions: "0",
        attributed_value: "0",
        ctr: null,
        cpc: null,
        cpa: null,
        roas: null,
        platform_roas: null,
      },
      {
        platform: "reddit",
        date: "2024-05-10",
        account_id: "acct-r",
        campaign_id: "cmp-r",
        impressions: "0",
        clicks: "0",
        spend: "12",
        platform_conversions: "0",
        platform_revenue: "0",
        attributed_conversions: "0",
        attributed_value: "0",
        ctr: null,
        cpc: null,
        cpa: null,
        roas: "0",
        platform_roas: "0",
      },
    ]);
  });

  it("ranks a row without ingested_at below any ingested row of the same key", async () => {
    const { rows } = await evaluateView(zeta, "campaign_performance_daily", {
      ad_metrics: [
        metric({ impressions: "1", ingested_at: null }),
        metric({ impressions: "2", ingested_at: "2020-01-01T00:00:00Z" }),
      ],
    });
    expect(rows.map((r) => [r.campaign_id, r.impressions])).toEqual([["cmp-g", "2"]]);
  });
});
