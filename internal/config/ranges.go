package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// numberRange is the range a numeric setting must lie in, from its meaning: a
// value out of it is accepted by the TOML reader and the SQL alike, and gives
// reports that are silently wrong ("in the last -5 days", every row rejected).
type numberRange struct {
	path     []string
	value    float64
	min, max float64 // max: math.Inf(1) for none
	what     string  // what the number counts, for the message
	def      float64 // the default, to copy
	maxWhy   string  // why the upper bound, where it is not plain
}

// ranges are the numeric settings of c with their ranges ([duckdb] threads
// and memory_limit are checked on their own, with their own words).
func (c Config) ranges() []numberRange {
	d := Default()
	st, ds := c.Stage, d.Stage
	inf := math.Inf(1)
	n := func(v int) float64 { return float64(v) }
	year := float64(time.Now().Year())
	return []numberRange{
		{[]string{"referrers", "near_duplicate_cutoff"}, c.Referrers.NearDuplicateCutoff, 0, 1, "a similarity (0.92 is 92%)", d.Referrers.NearDuplicateCutoff, ""},
		{[]string{"stage", "window_months"}, n(st.WindowMonths), 1, 120, "a number of months", n(ds.WindowMonths), ""},
		{[]string{"stage", "stage3_practice_share"}, st.Stage3PracticeShare, 0, 1, "a share (0.5 is half)", ds.Stage3PracticeShare, ""},
		{[]string{"stage", "stage3_min_referrals"}, n(st.Stage3MinReferrals), 1, inf, "a number of referrals", n(ds.Stage3MinReferrals), ""},
		{[]string{"stage", "stage3_min_effective"}, st.Stage3MinEffective, 1, inf, "a number of clinicians (a referrer with any referral has at least 1 effective clinician)", ds.Stage3MinEffective, ""},
		{[]string{"stage", "stage3_max_pp_share"}, st.Stage3MaxPPShare, 0, 1, "a share (0.5 is half)", ds.Stage3MaxPPShare, ""},
		{[]string{"stage", "stage1_pp_share"}, st.Stage1PPShare, 0, 1, "a share (0.8 is 80%)", ds.Stage1PPShare, ""},
		{[]string{"stage", "low_evidence_below"}, n(st.LowEvidenceBelow), 0, inf, "a number of referrals (0 marks no stage as low evidence)", n(ds.LowEvidenceBelow), ""},
		{[]string{"stage", "ready_min_referrals"}, n(st.ReadyMinReferrals), 1, inf, "a number of referrals", n(ds.ReadyMinReferrals), ""},
		{[]string{"stage", "recent_days"}, n(st.RecentDays), 1, 365, "a number of days", n(ds.RecentDays), "cooling compares them with the 9 months before"},
		{[]string{"stage", "stalled_months"}, n(st.StalledMonths), 1, 120, "a number of months", n(ds.StalledMonths), ""},
		{[]string{"stage", "lapsed_months"}, n(st.LapsedMonths), 1, 120, "a number of months", n(ds.LapsedMonths), ""},
		{[]string{"stage", "lapsed_min_referrals"}, n(st.LapsedMinReferrals), 1, inf, "a number of referrals", n(ds.LapsedMinReferrals), ""},
		{[]string{"stage", "cooling_ratio"}, st.CoolingRatio, 0, 1, "a ratio (0.5 is half the usual rate)", ds.CoolingRatio, ""},
		{[]string{"ingest", "min_year"}, n(c.Ingest.MinYear), 1900, year, "a year", n(d.Ingest.MinYear), "a later one would reject every row dated this year"},
		{[]string{"ingest", "max_years_ahead"}, n(c.Ingest.MaxYearsAhead), 0, 100, "a number of years", n(d.Ingest.MaxYearsAhead), ""},
	}
}

// check says what is wrong with the value, or "".
func (r numberRange) check() string {
	if r.value >= r.min && r.value <= r.max {
		return ""
	}
	bounds := "from " + number(r.min) + " to " + number(r.max)
	if math.IsInf(r.max, 1) {
		bounds = number(r.min) + " or more"
	}
	msg := fmt.Sprintf("[%s] %s = %s is out of range: it is %s, %s", r.path[0], r.path[1], number(r.value), r.what, bounds)
	if r.maxWhy != "" && r.value > r.max {
		msg += " (" + r.maxWhy + ")"
	}
	if r.max == 1 && r.value > 1 && r.value <= 100 {
		// 92 for 0.92: a percentage written as one.
		msg += fmt.Sprintf("; for %s%% write %s", number(r.value), number(r.value/100))
	}
	return msg + fmt.Sprintf("; the default is %s = %s", r.path[1], number(r.def))
}

// number writes v as the configuration file would: 3, 0.92.
func number(v float64) string {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	return strings.TrimSuffix(s, ".0")
}
