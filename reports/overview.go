package reports

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// volumeMonth is one month of referrals split by the stage of the referrer at that month.
type volumeMonth struct {
	month                  time.Time
	stage1, stage2, stage3 int64 // referrals from referrers in that stage
	noStage                int64 // referrals from referrers with no stage that month: none of theirs in the window has a clinician yet
	channel, unknown       int64
	total                  int64
}

// stageMonth is the number of referrers in each stage at one month end.
type stageMonth struct {
	month                  time.Time
	stage1, stage2, stage3 int64
}

// overview holds the month at a glance, shared by the workbook and the HTML page.
type overview struct {
	period
	volume []volumeMonth // volumeMonths months, oldest first, ending with the report month
	stages []stageMonth  // stageMonths months, oldest first

	active, lowEvidence    int64
	byStage                [4]int64 // index = stage
	up, down, start, lapse int64    // transitions this month

	unknownWindow, totalWindow  int64
	unknownShareWindow          sql.NullFloat64 // NULL without referrals
	billedWindow, paidWindow    float64
	paidFromReferrersWindow     float64
	ready                       int64
	stalled, cooling, lapsed    int64
	regressed, transitionsYear  int64
	clinicians, referrersWindow int64

	dataFrom, dataTo sql.NullTime // the first and last months with a referral; NULL without any
}

const (
	volumeMonths = 24 // referrals per month chart
	stageMonths  = 12 // referrers per stage chart, transitions
)

func (o overview) this() volumeMonth { return o.volume[len(o.volume)-1] }
func (o overview) lastMonth() volumeMonth {
	return o.volume[len(o.volume)-2]
}
func (o overview) yearAgo() volumeMonth { return o.volume[len(o.volume)-13] }

// unknownShare is the share of referrals with no source over the window; ok is false without referrals.
func (o overview) unknownShare() (float64, bool) {
	return o.unknownShareWindow.Float64, o.unknownShareWindow.Valid
}

// noDataNotice says in one sentence why the report month shows no referral, when it lies
// outside the months the exports cover (or they hold none); "" otherwise.
func (o overview) noDataNotice() string {
	if o.this().total > 0 {
		return ""
	}
	switch {
	case !o.dataFrom.Valid:
		return "The exports hold no referral yet, so every figure in this report is empty."
	case o.month.Before(o.dataFrom.Time):
		return fmt.Sprintf("The exports start in %s; this month has no referrals, so every figure in this report is empty.",
			o.dataFrom.Time.Format("January 2006"))
	case o.month.After(o.dataTo.Time):
		// From the referrals alone (the page cache reads model tables only), which cannot
		// say the exports end: a month of follow-up appointments has none.
		return fmt.Sprintf("No referral came in this month: the last came in %s.", o.dataTo.Time.Format("January 2006"))
	}
	return ""
}

// hasVolume is false when no referral came in the months of the referrals chart.
func (o overview) hasVolume() bool {
	for _, v := range o.volume {
		if v.total > 0 {
			return true
		}
	}
	return false
}

// hasStages is false when no referrer had a stage at any month end of the stages chart.
func (o overview) hasStages() bool {
	for _, s := range o.stages {
		if s.stage1+s.stage2+s.stage3 > 0 {
			return true
		}
	}
	return false
}

func (o overview) hasNoStage() bool {
	for _, v := range o.volume {
		if v.noStage > 0 {
			return true
		}
	}
	return false
}

func loadOverview(ctx context.Context, db querier, p period) (overview, error) {
	o := overview{period: p}
	from, to := iso(p.monthsBack(volumeMonths-1)), iso(p.month)

	rows, err := queryAll(ctx, db, "referrals per month by stage", `
WITH months AS (
    SELECT range::DATE AS month FROM range(?::DATE, ?::DATE + INTERVAL 1 MONTH, INTERVAL 1 MONTH)
), staged AS (
    -- Every referral of the month (the volumes: also one with no clinician yet), by
    -- its referrer's stage that month, as the Monthly sheet colours them; a referrer
    -- with no stage (all its referrals in the window without a clinician) is left over.
    -- The measured ones are referrer_months' own count; those with no clinician yet,
    -- few, are joined to their referrer's month (a join of every referral's month took
    -- 25 ms more a night at 10M exported rows).
    SELECT month,
        sum(n) FILTER (WHERE stage = 1) AS s1,
        sum(n) FILTER (WHERE stage = 2) AS s2,
        sum(n) FILTER (WHERE stage = 3) AS s3
    FROM (
        SELECT month, stage, referrals_this_month AS n FROM referrer_months
        WHERE month BETWEEN ?::DATE AND ?::DATE
        UNION ALL
        SELECT r.referral_month, m.stage, 1 FROM referrals r
        JOIN referrer_months m ON m.referrer = r.referrer AND m.month = r.referral_month
        WHERE r.source_kind = 'referrer' AND r.assigned_clinician IS NULL
          AND r.referral_month BETWEEN ?::DATE AND ?::DATE
    )
    GROUP BY month
), volume AS (
    SELECT month,
        sum(referrals) FILTER (WHERE source_kind = 'referrer') AS referrer,
        sum(referrals) FILTER (WHERE source_kind = 'channel') AS channel,
        sum(referrals) FILTER (WHERE source_kind = 'unknown') AS unknown,
        sum(referrals) AS total
    FROM monthly_volume GROUP BY month
)
SELECT m.month,
    coalesce(s.s1, 0)::BIGINT, coalesce(s.s2, 0)::BIGINT, coalesce(s.s3, 0)::BIGINT,
    greatest(coalesce(v.referrer, 0) - coalesce(s.s1, 0) - coalesce(s.s2, 0) - coalesce(s.s3, 0), 0)::BIGINT,
    coalesce(v.channel, 0)::BIGINT, coalesce(v.unknown, 0)::BIGINT, coalesce(v.total, 0)::BIGINT
FROM months m LEFT JOIN staged s USING (month) LEFT JOIN volume v USING (month)
ORDER BY m.month`, from, to, from, to, from, to)
	if err != nil {
		return o, err
	}
	for _, r := range rows {
		var v volumeMonth
		v.month, _ = asTime(r[0])
		v.stage1, _ = asInt(r[1])
		v.stage2, _ = asInt(r[2])
		v.stage3, _ = asInt(r[3])
		v.noStage, _ = asInt(r[4])
		v.channel, _ = asInt(r[5])
		v.unknown, _ = asInt(r[6])
		v.total, _ = asInt(r[7])
		o.volume = append(o.volume, v)
	}
	if len(o.volume) != volumeMonths {
		return o, fmt.Errorf("referrals per month: expected %d months, got %d", volumeMonths, len(o.volume))
	}

	rows, err = queryAll(ctx, db, "referrers per stage over time", `
WITH months AS (
    SELECT range::DATE AS month FROM range(?::DATE, ?::DATE + INTERVAL 1 MONTH, INTERVAL 1 MONTH)
), staged AS (
    SELECT month,
        count(*) FILTER (WHERE stage = 1) AS s1,
        count(*) FILTER (WHERE stage = 2) AS s2,
        count(*) FILTER (WHERE stage = 3) AS s3
    FROM referrer_months GROUP BY month
)
SELECT m.month, coalesce(s1, 0)::BIGINT, coalesce(s2, 0)::BIGINT, coalesce(s3, 0)::BIGINT
FROM months m LEFT JOIN staged USING (month) ORDER BY m.month`, iso(p.monthsBack(stageMonths-1)), to)
	if err != nil {
		return o, err
	}
	for _, r := range rows {
		var s stageMonth
		s.month, _ = asTime(r[0])
		s.stage1, _ = asInt(r[1])
		s.stage2, _ = asInt(r[2])
		s.stage3, _ = asInt(r[3])
		o.stages = append(o.stages, s)
	}

	ints := []struct {
		dst   *int64
		what  string
		query string
		args  []any
	}{
		{&o.active, "active referrers", `SELECT count(*) FROM referrer_status WHERE stage IS NOT NULL`, nil},
		{&o.lowEvidence, "low-evidence referrers", `SELECT count(*) FROM referrer_status WHERE stage IS NOT NULL AND low_evidence`, nil},
		{&o.byStage[1], "stage 1 referrers", `SELECT count(*) FROM referrer_status WHERE stage = 1`, nil},
		{&o.byStage[2], "stage 2 referrers", `SELECT count(*) FROM referrer_status WHERE stage = 2`, nil},
		{&o.byStage[3], "stage 3 referrers", `SELECT count(*) FROM referrer_status WHERE stage = 3`, nil},
		{&o.up, "transitions up", `SELECT count(*) FROM stage_transitions WHERE month = ?::DATE AND direction = 'up'`, []any{to}},
		{&o.down, "transitions down", `SELECT count(*) FROM stage_transitions WHERE month = ?::DATE AND direction = 'down'`, []any{to}},
		{&o.start, "new or returning referrers", `SELECT count(*) FROM stage_transitions WHERE month = ?::DATE AND direction = 'start'`, []any{to}},
		{&o.lapse, "lapsed this month", `SELECT count(*) FROM stage_transitions WHERE month = ?::DATE AND direction = 'lapse'`, []any{to}},
		{&o.transitionsYear, "transitions this year", `SELECT count(*) FROM stage_transitions WHERE month BETWEEN ?::DATE AND ?::DATE`,
			[]any{iso(p.monthsBack(stageMonths - 1)), to}},
		{&o.unknownWindow, "unknown-source referrals", `SELECT coalesce(sum(referrals), 0)::BIGINT FROM monthly_volume
            WHERE source_kind = 'unknown' AND month BETWEEN ?::DATE AND ?::DATE`, []any{iso(p.windowStart), to}},
		{&o.totalWindow, "referrals in the window", `SELECT coalesce(sum(referrals), 0)::BIGINT FROM monthly_volume
            WHERE month BETWEEN ?::DATE AND ?::DATE`, []any{iso(p.windowStart), to}},
		{&o.ready, "ready referrers", `SELECT count(DISTINCT referrer) FROM introductions`, nil},
		{&o.stalled, "stalled referrers", `SELECT count(*) FROM watch_list WHERE list = 'stalled'`, nil},
		{&o.cooling, "cooling referrers", `SELECT count(*) FROM watch_list WHERE list = 'cooling'`, nil},
		{&o.lapsed, "lapsed referrers", `SELECT count(*) FROM watch_list WHERE list = 'lapsed'`, nil},
		{&o.regressed, "regressed referrers", `SELECT count(*) FROM watch_list WHERE list = 'regressed'`, nil},
		{&o.clinicians, "clinicians", `SELECT count(*) FROM follow_through_clinician`, nil},
		{&o.referrersWindow, "referrers in the window", `SELECT count(*) FROM referrer_status WHERE referrals > 0`, nil},
	}
	for _, q := range ints {
		if err := db.QueryRowContext(ctx, q.query, q.args...).Scan(q.dst); err != nil {
			return o, fmt.Errorf("query %s: %w", q.what, err)
		}
	}

	err = db.QueryRowContext(ctx, `SELECT min(referral_month), max(referral_month) FROM referrals`).Scan(&o.dataFrom, &o.dataTo)
	if err != nil {
		return o, fmt.Errorf("query the months with referrals: %w", err)
	}

	err = db.QueryRowContext(ctx, `
SELECT (coalesce(sum(referrals) FILTER (WHERE source_kind = 'unknown'), 0) / nullif(sum(referrals), 0))::DOUBLE
FROM monthly_volume WHERE month BETWEEN ?::DATE AND ?::DATE`, iso(p.windowStart), to).Scan(&o.unknownShareWindow)
	if err != nil {
		return o, fmt.Errorf("query unknown-source share: %w", err)
	}

	err = db.QueryRowContext(ctx, `
SELECT coalesce(sum(billed), 0)::DOUBLE, coalesce(sum(paid), 0)::DOUBLE,
    coalesce(sum(paid) FILTER (WHERE source_kind = 'referrer'), 0)::DOUBLE
FROM referrals WHERE referral_month BETWEEN ?::DATE AND ?::DATE`, iso(p.windowStart), to).
		Scan(&o.billedWindow, &o.paidWindow, &o.paidFromReferrersWindow)
	if err != nil {
		return o, fmt.Errorf("query billed and paid amounts: %w", err)
	}
	return o, nil
}
