package queries_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/referrals/referrals/internal/stagetest"
	"github.com/referrals/referrals/pipeline"
)

func TestReferrerStatus(t *testing.T) {
	db := stagetest.Build(t, stagetest.SamplePractice(), stagetest.DefaultVars(stagetest.ReportMonth))
	nilv := any(nil)
	cases := map[string]map[string]any{
		// N = 1.
		"Dr Solo One": {"referrals": 1, "clinicians": 1, "point_person": stagetest.Ann, "point_person_share": 1.0,
			"practice_share": nilv, "coc": nilv, "effective_clinicians": nilv, "stage": 1, "low_evidence": true,
			"stage_since": "2025-11-01", "flags": "", "referrals_this_month": 0},
		// N = 2, one clinician: COC 1.
		"Dr Two Same": {"referrals": 2, "clinicians": 1, "coc": 1.0, "effective_clinicians": 1.0, "point_person_share": 1.0,
			"stage": 1, "low_evidence": true, "flags": "cooling"},
		// N = 2, two clinicians: COC 0, effective blank; stage 2 since 2025-05 (8 months): stalled.
		"Dr Two Diff": {"referrals": 2, "clinicians": 2, "coc": 0.0, "effective_clinicians": nilv, "point_person_share": 0.5,
			"stage": 2, "low_evidence": true, "stage_since": "2025-05-01", "flags": "stalled;cooling"},
		// All four to Ben: COC 1, evidence enough; last referral in March: lapsed.
		"Dr Four Same": {"referrals": 4, "clinicians": 1, "coc": 1.0, "effective_clinicians": 1.0, "point_person": stagetest.Ben,
			"point_person_share": 1.0, "stage": 1, "low_evidence": false, "flags": "lapsed", "referrals_ever": 4},
		// n = 1, 3, 1: COC 0.3, effective 3.33; no referred-to field, pp 0.2: stage 3.
		"Dr Mixed": {"referrals": 5, "clinicians": 3, "coc": 0.3, "effective_clinicians": 10.0 / 3, "point_person": stagetest.Ann,
			"point_person_share": 0.2, "practice_share": nilv, "stage": 3, "stage_since": "2025-05-01", "previous_stage": 2,
			"months_to_stage2": 1, "months_to_stage3": 4, "regressions": 0, "flags": "lapsed"},
		// Practice share 4/6: stage 3 although the point person had 2/6.
		"Dr Practice": {"referrals": 6, "clinicians": 4, "coc": 0.2, "effective_clinicians": 5.0, "point_person_share": 2.0 / 6,
			"practice_share": 4.0 / 6, "requests_known": 6, "practice_referrals": 4, "point_person_referrals": 2, "stage": 3,
			"stage_since": "2025-04-01", "previous_stage": nilv, "months_to_stage2": 0, "months_to_stage3": 0},
		// Eve left in June; Fay took the first referral after that, in August, and is the
		// point person from then: stage 2 since August (5 months), not yet stalled.
		"Dr Leaver": {"referrals": 2, "point_person": stagetest.Fay, "point_person_source": "handed over",
			"point_person_share": 0.5, "coc": 0.0, "stage": 2, "stage_since": "2025-08-01", "previous_stage": 1,
			"regressions": 1, "months_to_stage2": 2, "months_to_stage3": nilv, "flags": "cooling"},
		// The directory's point person.
		"Dr Directory Dee": {"referrals": 3, "point_person": stagetest.Dee, "point_person_source": "directory", "category": "physician",
			"point_person_share": 2.0 / 3, "stage": 2, "flags": "stalled;lapsed"},
		"Dr Journey": {"referrals": 5, "stage": 1, "stage_since": "2025-09-01", "previous_stage": 2, "months_to_stage2": 5,
			"months_to_stage3": 8, "regressions": 2, "first_referral": "2024-01-10", "last_referral": "2025-11-20",
			"referrals_ever": 13, "referrals_recent": 1, "referrals_prior": 4, "flags": "ready"},
		// pp share exactly 0.5 with 6 effective clinicians: not below 0.5, stage 2.
		"Dr Stall": {"referrals": 4, "clinicians": 3, "coc": 1.0 / 6, "effective_clinicians": 6.0, "point_person_share": 0.5,
			"stage": 2, "stage_since": "2025-02-01", "flags": "stalled"},
		"Dr Cool": {"referrals": 6, "stage": 1, "referrals_recent": 0, "referrals_prior": 6, "flags": "cooling"},
		// Stage 3 through November, 2 in December.
		"Dr Fall": {"referrals": 3, "coc": 1.0 / 3, "effective_clinicians": 3.0, "stage": 2, "stage_since": "2025-12-01",
			"previous_stage": 3, "regressions": 1, "months_to_stage3": 0, "flags": "regressed",
			"regressed_in": "2025-12-01", "regressed_from": 3},
		// Inactive.
		"Dr Old Three": {"referrals": 0, "clinicians": 0, "point_person": stagetest.Ann, "point_person_share": nilv, "coc": nilv,
			"stage": nilv, "low_evidence": false, "stage_since": "2024-05-01", "previous_stage": 1, "flags": "lapsed"},
		"Dr Old Two": {"referrals": 0, "stage": nilv, "flags": ""},
		// Billing-only referrer, found through claims by NPI.
		"Dr. Paula Payne": {"referrals": 2, "point_person": stagetest.Fay, "stage": 1, "coc": 1.0, "npi": "1234567893", "flags": "cooling"},
	}
	got := stagetest.Rows(t, db, "select * from referrer_status order by referrer")
	var names []string
	for _, r := range got {
		names = append(names, r["referrer"].(string))
		want, ok := cases[r["referrer"].(string)]
		if !ok {
			t.Errorf("unexpected referrer_status row %v", r)
			continue
		}
		stagetest.Expect(t, r["referrer"].(string), r, want)
	}
	if len(got) != len(cases) {
		t.Errorf("referrer_status has %d rows (%s), want %d: channels and unknown sources have none", len(got),
			strings.Join(names, ", "), len(cases))
	}
}

func TestReferrerMonths(t *testing.T) {
	db := stagetest.Build(t, stagetest.SamplePractice(), stagetest.DefaultVars(stagetest.ReportMonth))
	month := func(referrer, m string) map[string]any {
		t.Helper()
		return stagetest.One(t, db, "select * from referrer_months where referrer = ? and month = ?::DATE", referrer, m)
	}
	// Eve is on the roster until 2025-06-15: still the point person in June.
	stagetest.Expect(t, "Leaver 2025-06", month("Dr Leaver", "2025-06-01"),
		map[string]any{"point_person": stagetest.Eve, "referrals": 1, "point_person_share": 1.0, "stage": 1, "low_evidence": true})
	// In July Eve has left and no referral has come since: she is still the point person,
	// and her February referral still counts for her.
	stagetest.Expect(t, "Leaver 2025-07", month("Dr Leaver", "2025-07-01"),
		map[string]any{"point_person": stagetest.Eve, "point_person_source": "left the practice", "referrals": 1,
			"point_person_share": 1.0, "stage": 1})
	// Fay took the August referral, the first after Eve left: the point person from August.
	stagetest.Expect(t, "Leaver 2025-08", month("Dr Leaver", "2025-08-01"),
		map[string]any{"point_person": stagetest.Fay, "point_person_source": "handed over", "referrals": 2,
			"point_person_share": 0.5, "stage": 2})
	// Four referrals to four clinicians: COC 0, effective clinicians infinite (blank), stage 3.
	stagetest.Expect(t, "Fall 2024-12", month("Dr Fall", "2024-12-01"),
		map[string]any{"referrals": 4, "clinicians": 4, "coc": 0.0, "effective_clinicians": nil, "point_person_share": 0.25,
			"stage": 3, "referrals_this_month": 4, "month_end": "2024-12-31"})
	// A3 B2 C1 D1 F1: sum n^2 = 16, COC 8/56, effective 7, pp 3/8.
	stagetest.Expect(t, "Journey 2024-09", month("Dr Journey", "2024-09-01"),
		map[string]any{"referrals": 8, "clinicians": 5, "coc": 1.0 / 7, "effective_clinicians": 7.0, "point_person_share": 3.0 / 8, "stage": 3})
	// The window is twelve months: in 2024-05 the 2023-05 referrals have left it.
	stagetest.Expect(t, "Old Three 2024-04", month("Dr Old Three", "2024-04-01"), map[string]any{"referrals": 3, "stage": 1})
	stagetest.Expect(t, "Old Three 2024-05", month("Dr Old Three", "2024-05-01"), map[string]any{"referrals": 0, "stage": nil})

	var stages []string
	for _, r := range stagetest.Rows(t, db, "select stage from referrer_months where referrer = 'Dr Journey' order by month") {
		if r["stage"] == nil {
			stages = append(stages, "-")
		} else {
			stages = append(stages, string(rune('0'+r["stage"].(int64))))
		}
	}
	//         2024-01    -06  -09       2025-06 -09  -12
	const want = "11111" + "222" + "333333333" + "222" + "1111"
	if got := strings.Join(stages, ""); got != want {
		t.Errorf("Dr Journey stages 2024-01..2025-12 = %s, want %s", got, want)
	}
	n := stagetest.One(t, db, "select count(*) as n from referrer_months where referrer = 'Dr Old Three'")
	stagetest.Expect(t, "Old Three months 2023-05..2025-12", n, map[string]any{"n": 32})
	n = stagetest.One(t, db, "select count(*) as n from referrer_months where referrer = 'Psychology Today'")
	stagetest.Expect(t, "channel months", n, map[string]any{"n": 0})
}

func TestStageTransitions(t *testing.T) {
	db := stagetest.Build(t, stagetest.SamplePractice(), stagetest.DefaultVars(stagetest.ReportMonth))
	got := stagetest.JoinRows(stagetest.Rows(t, db, `select * from stage_transitions where referrer in ('Dr Journey', 'Dr Old Three')
		order by referrer, month`), "referrer", "month", "from_stage", "to_stage", "direction")
	want := strings.Join([]string{
		"Dr Journey | 2024-01-01 | <nil> | 1 | start",
		"Dr Journey | 2024-06-01 | 1 | 2 | up",
		"Dr Journey | 2024-09-01 | 2 | 3 | up",
		"Dr Journey | 2025-06-01 | 3 | 2 | down",
		"Dr Journey | 2025-09-01 | 2 | 1 | down",
		"Dr Old Three | 2023-05-01 | <nil> | 1 | start",
		"Dr Old Three | 2024-05-01 | 1 | <nil> | lapse",
	}, "\n")
	if got != want {
		t.Errorf("stage_transitions:\n%s\nwant:\n%s", got, want)
	}
}

func TestReferrals(t *testing.T) {
	db := stagetest.Build(t, stagetest.SamplePractice(), stagetest.DefaultVars(stagetest.ReportMonth))
	client := func(key string) map[string]any {
		t.Helper()
		return stagetest.One(t, db, "select * from referrals where client_key = ?::UBIGINT", stagetest.Key(key))
	}
	// Same day: the 9:30 AM appointment (Cal) comes before the 2:00 PM one (Ben).
	stagetest.Expect(t, "time order", client("client-mixed-c"), map[string]any{"assigned_clinician": stagetest.Cal, "referral_date": "2025-05-15"})
	// Requested Ben, no-show; Ann saw the client.
	stagetest.Expect(t, "requested vs assigned", client("client-practice-req-ben"), map[string]any{
		"referral_date": "2025-04-12", "requested_clinician": stagetest.Ben, "assigned_clinician": stagetest.Ann, "requested_known": true,
		"requested_practice": false, "point_person": stagetest.Ann, "to_point_person": false, "intake_attended": true})
	stagetest.Expect(t, "request by a name spelling", client("client-practice-2025-04-07"), map[string]any{
		"requested_clinician": stagetest.Ann, "requested_practice": false, "to_point_person": true})
	for _, key := range []string{"client-practice-2025-04-08", "client-practice-2025-04-09", "client-practice-2025-04-10", "client-practice-2025-04-11"} {
		stagetest.Expect(t, key+" addressed to the practice", client(key), map[string]any{
			"requested_clinician": nil, "requested_practice": true, "requested_known": true})
	}
	stagetest.Expect(t, "practice request assigned to the point person", client("client-practice-2025-04-10"),
		map[string]any{"to_point_person": true})
	stagetest.Expect(t, "billing-only", client("client-billing-only"), map[string]any{
		"origin": "billing", "referral_date": "2025-04-10", "referral_month": "2025-04-01", "source_kind": "referrer",
		"referrer": "Dr. Paula Payne", "assigned_clinician": stagetest.Fay, "requested_known": false, "requested_practice": false,
		"intake_attended": true, "payer": "AETNA", "billed": 300.0, "paid": 180.0, "point_person": stagetest.Fay, "to_point_person": true})
	stagetest.Expect(t, "source from the claim", client("client-claim-source"), map[string]any{
		"origin": "scheduling", "referrer": "Dr. Paula Payne", "source_kind": "referrer", "payer": "Aetna", "billed": 120.0})
	stagetest.Expect(t, "unknown source", client("client-unknown"), map[string]any{
		"source_kind": "unknown", "referrer": nil, "point_person": nil, "to_point_person": nil})
	stagetest.Expect(t, "no-show only", client("client-twodiff-b"), map[string]any{"assigned_clinician": stagetest.Ben, "intake_attended": false})
	for _, r := range stagetest.Rows(t, db, "select * from referrals where referrer = 'Psychology Today'") {
		stagetest.Expect(t, "channel", r, map[string]any{"source_kind": "channel", "point_person": nil, "assigned_clinician": stagetest.Dee})
	}
	// point_person is the one at the report month: Eve's referrals count against Fay.
	got := stagetest.JoinRows(stagetest.Rows(t, db, "select referral_date, assigned_clinician, point_person, to_point_person from referrals where referrer = 'Dr Leaver' order by referral_date"),
		"referral_date", "assigned_clinician", "point_person", "to_point_person")
	want := "2024-03-05 | Eve Elm | Fay Fir | false\n2024-05-05 | Fay Fir | Fay Fir | true\n2025-02-05 | Eve Elm | Fay Fir | false\n2025-08-05 | Fay Fir | Fay Fir | true"
	if got != want {
		t.Errorf("Dr Leaver referrals:\n%s\nwant:\n%s", got, want)
	}
	stagetest.Expect(t, "one row per client", stagetest.One(t, db, "select count(*) as n, count(distinct client_key) as clients from referrals"),
		map[string]any{"n": 67, "clients": 67})
}

func TestWatchList(t *testing.T) {
	db := stagetest.Build(t, stagetest.SamplePractice(), stagetest.DefaultVars(stagetest.ReportMonth))
	got := stagetest.JoinRows(stagetest.Rows(t, db, "select * from watch_list order by list, referrer"), "list", "referrer", "stage", "since", "detail")
	want := strings.Join([]string{
		"cooling | Dr Cool | 1 | 2025-10-03 | 0 referrals in the last 90 days vs 6 in the 9 months before",
		"cooling | Dr Leaver | 2 | 2025-10-03 | 0 referrals in the last 90 days vs 2 in the 9 months before",
		"cooling | Dr Two Diff | 2 | 2025-10-03 | 0 referrals in the last 90 days vs 2 in the 9 months before",
		"cooling | Dr Two Same | 1 | 2025-10-03 | 0 referrals in the last 90 days vs 2 in the 9 months before",
		"cooling | Dr. Paula Payne | 1 | 2025-10-03 | 0 referrals in the last 90 days vs 2 in the 9 months before",
		"lapsed | Dr Directory Dee | 2 | 2025-04-03 | no referral since 2025-04-03 (8 months); 3 referrals in total",
		"lapsed | Dr Four Same | 1 | 2025-03-06 | no referral since 2025-03-06 (9 months); 4 referrals in total",
		"lapsed | Dr Mixed | 3 | 2025-05-15 | no referral since 2025-05-15 (7 months); 5 referrals in total",
		"lapsed | Dr Old Three | <nil> | 2023-05-12 | no referral since 2023-05-12 (31 months); 3 referrals in total",
		"lapsed | Dr Practice | 3 | 2025-04-12 | no referral since 2025-04-12 (8 months); 6 referrals in total",
		// Its December 2024 referrals left the window: no new one made it fall.
		"regressed | Dr Fall | 2 | 2025-12-01 | fell from stage 3 to stage 2 in 2025-12, with no referral since 2025-10-15: older referrals leaving the 12-month window moved it",
		"stalled | Dr Directory Dee | 2 | 2025-04-01 | stage 2 since 2025-04 (9 months)",
		"stalled | Dr Stall | 2 | 2025-02-01 | stage 2 since 2025-02 (11 months)",
		"stalled | Dr Two Diff | 2 | 2025-05-01 | stage 2 since 2025-05 (8 months)",
	}, "\n")
	if got != want {
		t.Errorf("watch_list:\n%s\nwant:\n%s", got, want)
	}
}

// Dr Journey is ready (stage 1, 5 referrals, one on 2025-11-20). Its five clients in
// the window carry Aetna, Aetna, BCBS, BCBS, Cigna. New clients in the last 90 days:
// Ann 4, Ben 1, Cal 1, Dee 0, Fay 0: median 1. Scores: Ben 2*2/5 + room (roster says
// accepting) + child & adolescent like Ann = 2.8; Dee 2*2/5 + room = 1.8; Fay (billed
// AETNA) 1.8, after Dee by name; Cal 2*1/5 = 0.4 (roster says not accepting) is fourth.
// Eve has left.
func TestIntroductions(t *testing.T) {
	db := stagetest.Build(t, stagetest.SamplePractice(), stagetest.DefaultVars(stagetest.ReportMonth))
	got := stagetest.JoinRows(stagetest.Rows(t, db, "select * from introductions order by referrer, rank"),
		"referrer", "point_person", "referrals", "last_referral", "rank", "colleague", "reasons")
	want := strings.Join([]string{
		"Dr Journey | Ann Alder | 5 | 2025-11-20 | 1 | Ben Birch | bills Aetna (2 of 5 of this referrer's clients); has room (roster says accepting new clients); shares specialty: child & adolescent",
		"Dr Journey | Ann Alder | 5 | 2025-11-20 | 2 | Dee Dogwood | bills BCBS (2 of 5 of this referrer's clients); has room (0 new clients in 90 days vs median 1)",
		"Dr Journey | Ann Alder | 5 | 2025-11-20 | 3 | Fay Fir | bills Aetna (2 of 5 of this referrer's clients); has room (0 new clients in 90 days vs median 1)",
	}, "\n")
	if got != want {
		t.Errorf("introductions:\n%s\nwant:\n%s", got, want)
	}

	// A colleague the roster says is not accepting new clients is never suggested,
	// whatever payers it bills: with Dee and Fay not accepting either, Ben alone.
	db = stagetest.BuildAfter(t, stagetest.SamplePractice(), stagetest.DefaultVars(stagetest.ReportMonth),
		`UPDATE ref_roster SET accepting = false WHERE name IN ('Dee Dogwood', 'Fay Fir')`)
	got = stagetest.JoinRows(stagetest.Rows(t, db, "select * from introductions order by referrer, rank"), "referrer", "rank", "colleague")
	if got != "Dr Journey | 1 | Ben Birch" {
		t.Errorf("introductions with Cal, Dee and Fay not accepting:\n%s\nwant Ben alone", got)
	}

	// Dee shares two of Ann's specialties, spelled her own way: both listed, in
	// Dee's spelling. Her score, 2*2/5 + room + specialty = 2.8, ties Ben's; the
	// tie goes to the colleague with fewer new clients (Dee 0, Ben 1).
	db = stagetest.BuildAfter(t, stagetest.SamplePractice(), stagetest.DefaultVars(stagetest.ReportMonth),
		`UPDATE ref_roster SET specialties = 'ANXIETY ; child & ADOLESCENT; Trauma' WHERE name = 'Dee Dogwood'`)
	got = stagetest.JoinRows(stagetest.Rows(t, db, "select * from introductions order by referrer, rank"), "rank", "colleague", "reasons")
	want = strings.Join([]string{
		"1 | Dee Dogwood | bills BCBS (2 of 5 of this referrer's clients); has room (0 new clients in 90 days vs median 1); shares specialty: ANXIETY, child & ADOLESCENT",
		"2 | Ben Birch | bills Aetna (2 of 5 of this referrer's clients); has room (roster says accepting new clients); shares specialty: child & adolescent",
		"3 | Fay Fir | bills Aetna (2 of 5 of this referrer's clients); has room (0 new clients in 90 days vs median 1)",
	}, "\n")
	if got != want {
		t.Errorf("introductions with Dee sharing two specialties:\n%s\nwant:\n%s", got, want)
	}
}

func TestFollowThroughAndValue(t *testing.T) {
	db := stagetest.Build(t, stagetest.SamplePractice(), stagetest.DefaultVars(stagetest.ReportMonth))
	stagetest.Expect(t, "Two Diff", stagetest.One(t, db, "select * from follow_through_referrer where referrer = 'Dr Two Diff'"), map[string]any{
		"referrals": 2, "attended_intakes": 1, "attended_rate": 0.5, "to_point_person_rate": 1.0, "to_colleagues_rate": 0.0,
		"to_point_person_referrals": 1, "to_colleague_referrals": 1})
	stagetest.Expect(t, "channel", stagetest.One(t, db, "select * from follow_through_referrer where referrer = 'Psychology Today'"), map[string]any{
		"referrals": 2, "source_kind": "channel", "to_point_person_rate": nil, "to_colleagues_rate": nil})
	// Ben in 2025: Two Diff (no-show), Four Same x4 (his own), Mixed x3, Practice, Stall, Fall.
	stagetest.Expect(t, "Ben", stagetest.One(t, db, "select * from follow_through_clinician where clinician = ?", stagetest.Ben), map[string]any{
		"referrals": 11, "from_referrers": 6, "point_person_for": 1, "attended_intakes": 10, "attended_rate": 10.0 / 11,
		"attended_rate_as_point_person": 1.0, "attended_rate_as_colleague": 6.0 / 7, "billed": 0.0})
	stagetest.Expect(t, "Fay", stagetest.One(t, db, "select * from follow_through_clinician where clinician = ?", stagetest.Fay), map[string]any{
		"referrals": 3, "from_referrers": 2, "point_person_for": 2, "attended_rate_as_point_person": 1.0,
		"attended_rate_as_colleague": nil, "billed": 420.0, "paid": 280.0})
	// Eve left but had a referral in the window.
	stagetest.Expect(t, "Eve", stagetest.One(t, db, "select * from follow_through_clinician where clinician = ?", stagetest.Eve), map[string]any{
		"referrals": 1, "point_person_for": 0, "attended_rate_as_colleague": 1.0})
	stagetest.Expect(t, "Journey value", stagetest.One(t, db, "select * from referrer_value where referrer = 'Dr Journey'"),
		map[string]any{"clients": 5, "billed": 500.0, "paid": 370.0, "source_kind": "referrer"})
	stagetest.Expect(t, "Payne value", stagetest.One(t, db, "select * from referrer_value where referrer = 'Dr. Paula Payne'"),
		map[string]any{"clients": 2, "billed": 420.0, "paid": 280.0})
	stagetest.Expect(t, "channel value", stagetest.One(t, db, "select * from referrer_value where referrer = 'Psychology Today'"),
		map[string]any{"clients": 2, "billed": 0.0, "source_kind": "channel"})
}

func TestMonthlyVolume(t *testing.T) {
	db := stagetest.Build(t, stagetest.SamplePractice(), stagetest.DefaultVars(stagetest.ReportMonth))
	stagetest.Expect(t, "practice april ann", stagetest.One(t, db, `select * from monthly_volume where month = DATE '2025-04-01' and referrer = 'Dr Practice' and clinician = ?`, stagetest.Ann),
		map[string]any{"referrals": 3, "source_kind": "referrer", "category": "uncategorised"})
	stagetest.Expect(t, "channel", stagetest.One(t, db, `select * from monthly_volume where referrer = 'Psychology Today'`),
		map[string]any{"month": "2025-07-01", "source_kind": "channel", "category": "channel", "clinician": stagetest.Dee, "referrals": 2})
	stagetest.Expect(t, "unknown", stagetest.One(t, db, `select * from monthly_volume where source_kind = 'unknown'`),
		map[string]any{"month": "2025-06-01", "referrer": nil, "clinician": stagetest.Ann, "referrals": 1})
	stagetest.Expect(t, "total", stagetest.One(t, db, `select sum(referrals) as n from monthly_volume`), map[string]any{"n": 67})
}

// A different report month moves the window and the thresholds are read from the
// variables: with stage1_pp_share 0.6, Dr Directory Dee (2/3 to Dee) is stage 1.
func TestVariables(t *testing.T) {
	vars := stagetest.DefaultVars(stagetest.ReportMonth)
	vars["stage1_pp_share"] = 0.6
	db := stagetest.Build(t, stagetest.SamplePractice(), vars)
	stagetest.Expect(t, "Directory Dee", stagetest.One(t, db, "select stage from referrer_status where referrer = 'Dr Directory Dee'"),
		map[string]any{"stage": 1})

	vars = stagetest.DefaultVars(stagetest.ReportMonth.AddDate(0, -6, 0)) // 2025-06
	db = stagetest.Build(t, stagetest.SamplePractice(), vars)
	stagetest.Expect(t, "Leaver at 2025-06", stagetest.One(t, db, "select * from referrer_status where referrer = 'Dr Leaver'"),
		map[string]any{"month": "2025-06-01", "point_person": stagetest.Eve, "stage": 1})
	// Referrals after the report month do not exist yet for the status.
	n := stagetest.One(t, db, "select count(*) as n from referrer_status where referrer in ('Dr Solo One', 'Dr Fall')")
	stagetest.Expect(t, "later referrers", n, map[string]any{"n": 1}) // Dr Fall started 2024-12; Dr Solo One in 2025-11
}

// Each check must fail on tables that break its rule.
func TestChecksCatchBrokenTables(t *testing.T) {
	db := stagetest.Build(t, stagetest.SamplePractice(), stagetest.DefaultVars(stagetest.ReportMonth))
	for _, q := range []string{
		`INSERT INTO referrals (client_key, referral_date, source_kind, assigned_clinician) VALUES (` + stagetest.Key("client-001") + `, DATE '2025-01-01', 'unknown', NULL)`,
		// A referral left without a clinician although its client's appointments name one.
		`UPDATE referral_facts SET assigned_clinician = NULL WHERE client_key = ` + stagetest.Key("client-002"),
		`UPDATE referrer_months SET coc = 1.5 WHERE referrer = 'Dr Mixed' AND month = DATE '2025-12-01'`,
		`UPDATE referrer_months SET stage = NULL WHERE referrer = 'Dr Stall' AND month = DATE '2025-12-01'`,
		`UPDATE referrer_months SET point_person = NULL WHERE referrer = 'Dr Cool' AND month = DATE '2025-12-01'`,
		`DELETE FROM referrer_status WHERE referrer = 'Dr Cool'`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	err := pipeline.RunChecks(context.Background(), db)
	var ce *pipeline.CheckError
	if !errors.As(err, &ce) {
		t.Fatalf("RunChecks = %v, want a CheckError", err)
	}
	var failed []string
	for _, f := range ce.Failures {
		failed = append(failed, f.Name)
		if f.Rows < int64(len(f.Sample)) || len(f.Sample) == 0 || len(f.Sample) > 5 {
			t.Errorf("%s: %d offending rows with %d shown", f.Name, f.Rows, len(f.Sample))
		}
		// One client given a second referral: one offending client.
		if f.Name == "referrals_one_per_client" && f.Rows != 1 {
			t.Errorf("%s: %d offending rows, want 1", f.Name, f.Rows)
		}
	}
	sort.Strings(failed)
	want := "referrals_have_one_assigned_clinician referrals_one_per_client referrer_months_point_person_when_active " +
		"referrer_months_shares_within_0_1 referrer_months_stage_iff_referrals referrer_status_one_row_per_referrer"
	if got := strings.Join(failed, " "); got != want {
		t.Errorf("failed checks: %s\nwant: %s", got, want)
	}
}

// Two spellings of one NPI that tie on presentability, clients and length name the
// referrer by the first in alphabetical order: every build names it the same.
// (Without the last key DuckDB picked either; at 10M rows two builds of
// stg_referrer_spellings disagreed on about 190 rows.)
func TestReferrerNameTieIsAlphabetical(t *testing.T) {
	vars := stagetest.DefaultVars(stagetest.ReportMonth)
	db := stagetest.Build(t, stagetest.SamplePractice(), vars)
	for i, name := range []string{"Khalil, Jacob MD", "Jacob Khalil, MD", "KHALIL, JACOB"} {
		if _, err := db.Exec(`INSERT INTO raw_appointments VALUES (?, ?::UBIGINT, 'Ann Alder', DATE '2025-10-01', NULL, 'Attended',
			'Intake', ?, NULL, false, '1999999999', 9)`, fmt.Sprintf("tie-%d", i), stagetest.Key(fmt.Sprintf("client-tie-%d", i)), name); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pipeline.BuildModels(context.Background(), db, vars, nil); err != nil {
		t.Fatal(err)
	}
	got := stagetest.One(t, db, `select string_agg(distinct referrer, '|') as referrer from stg_referrer_spellings where npi = '1999999999'`)
	stagetest.Expect(t, "tied spellings", got, map[string]any{"referrer": "Jacob Khalil, MD"})
}

// An intake still to come is neither attended nor missed: follow-through leaves it
// out of every rate. Dr Pending's seven clients, reported for December 2025; the
// exports' last marked day is 2025-12-20 (P1's attended intake):
//
//	P1 attended 2025-12-20                                      attended
//	P2 cancelled 2025-12-15, booked again for 2026-01-05        pending (after the month)
//	P3 "Scheduled" 2025-06-10, never marked                     missed
//	P4 no-show 2025-12-10, booked again for 2026-01-08          pending
//	P5 attended 2025-12-05, next session booked for 2026-01-10  attended
//	P6 "Scheduled" 2025-12-28                                   pending (after the last marked day)
//	P7 "Scheduled" 2025-12-18, never marked                     missed (before it)
//	P9 no status 2025-12-29 (an empty field, read as NULL)      pending: not marked yet
//	P10 status "" 2025-11-03, never marked                      missed (before the last marked day)
//	P11 cancelled 2025-12-12, booked 2026-01-03, status "  "    pending (after the month)
//
// Another client's appointment cancelled ahead of its date, 2026-01-15, does not move
// the last marked day: a cancellation is entered before the day comes.
//
// Schedules that set a status only once the day has come export the days ahead
// blank: an appointment without a status is booked, not marked.
//
// So 10 referrals, 2 attended, 5 pending: attended rate 2 / (10 - 5). All ten went to
// Ann, the point person: to_point_person_rate the same. Reported for January 2026,
// after an appointment marked on 2026-02-03 and one more client (P8: no-show
// 2026-01-12, booked again for 2026-02-01), P2's, P4's, P6's, P9's and P11's bookings
// are before the last marked day and within or before the month: missed; P8's is
// after the month: pending. 11 referrals, 2 attended, 1 pending: 2 / 10.
func TestPendingIntakesAreLeftOutOfFollowThrough(t *testing.T) {
	p := stagetest.SamplePractice()
	p.Appointment("pend-1", "client-pend-1", stagetest.Ann, "2025-12-20", "", "Attended", "Dr Pending")
	p.Appointment("pend-2a", "client-pend-2", stagetest.Ann, "2025-12-15", "", "Cancelled", "Dr Pending")
	p.Appointment("pend-2b", "client-pend-2", stagetest.Ann, "2026-01-05", "", "Scheduled", "")
	p.Appointment("pend-3", "client-pend-3", stagetest.Ann, "2025-06-10", "", "Scheduled", "Dr Pending")
	p.Appointment("pend-4a", "client-pend-4", stagetest.Ann, "2025-12-10", "", "No Show", "Dr Pending")
	p.Appointment("pend-4b", "client-pend-4", stagetest.Ann, "2026-01-08", "", "booked", "")
	p.Appointment("pend-5a", "client-pend-5", stagetest.Ann, "2025-12-05", "", "Attended", "Dr Pending")
	p.Appointment("pend-5b", "client-pend-5", stagetest.Ann, "2026-01-10", "", "Scheduled", "")
	p.Appointment("pend-6", "client-pend-6", stagetest.Ann, "2025-12-28", "", "Scheduled", "Dr Pending")
	p.Appointment("pend-7", "client-pend-7", stagetest.Ann, "2025-12-18", "", "Confirmed", "Dr Pending")
	p.Appointment("pend-9", "client-pend-9", stagetest.Ann, "2025-12-29", "", "", "Dr Pending") // made NULL below
	p.Appointment("pend-10", "client-pend-10", stagetest.Ann, "2025-11-03", "", "", "Dr Pending")
	p.Appointment("pend-11a", "client-pend-11", stagetest.Ann, "2025-12-12", "", "Cancelled", "Dr Pending")
	p.Appointment("pend-11b", "client-pend-11", stagetest.Ann, "2026-01-03", "", "  ", "")
	p.Appointment("ahead-1", "client-ahead-1", stagetest.Ben, "2026-01-15", "", "Cancelled", "Dr Ahead")
	// An appointment marked attended on a day still to come: dated ahead by a slip
	// (2062 for 2026), it must not move the last marked day.
	p.Appointment("slip-1", "client-slip-1", stagetest.Ben, "2062-01-14", "", "Attended", "Dr Slip")
	// The loader reads an empty field as NULL; the practice's rows go in as text.
	build := func(month time.Time) *sql.DB {
		t.Helper()
		return stagetest.BuildAfter(t, p, stagetest.DefaultVars(month), `UPDATE raw_appointments SET status = NULL WHERE appointment_id = 'pend-9'`)
	}
	db := build(stagetest.ReportMonth)
	// Each client's latest booking and latest marked appointment.
	got := stagetest.JoinRows(stagetest.Rows(t, db, `select r.referral_date::VARCHAR as d, r.intake_attended,
			coalesce(b.last_scheduled_date::VARCHAR, '-') as booked, coalesce(b.last_marked_date::VARCHAR, '-') as marked
		from referrals r left join client_bookings b using (client_key) where r.referrer = 'Dr Pending' order by r.referral_date`),
		"d", "intake_attended", "booked", "marked")
	want := strings.Join([]string{"2025-06-10 | false | 2025-06-10 | -", "2025-11-03 | false | 2025-11-03 | -",
		"2025-12-05 | true | 2026-01-10 | 2025-12-05", "2025-12-10 | false | 2026-01-08 | 2025-12-10",
		"2025-12-12 | false | 2026-01-03 | -", "2025-12-15 | false | 2026-01-05 | -",
		"2025-12-18 | false | 2025-12-18 | -", "2025-12-20 | true | - | 2025-12-20", "2025-12-28 | false | 2025-12-28 | -",
		"2025-12-29 | false | 2025-12-29 | -"}, "\n")
	if got != want {
		t.Errorf("Dr Pending's referrals and bookings:\n%s\nwant:\n%s", got, want)
	}
	var lastMarked string
	if err := db.QueryRow(`SELECT max(last_marked_date)::VARCHAR FROM client_bookings WHERE last_marked_date < DATE '2062-01-01'`).Scan(&lastMarked); err != nil || lastMarked != "2025-12-20" {
		t.Fatalf("last marked day %q (%v), want 2025-12-20: the arithmetic below assumes it", lastMarked, err)
	}
	stagetest.Expect(t, "Dr Pending", stagetest.One(t, db, "select * from follow_through_referrer where referrer = 'Dr Pending'"), map[string]any{
		"referrals": 10, "attended_intakes": 2, "pending_intakes": 5, "attended_rate": 0.4, "to_point_person_rate": 0.4,
		"to_colleagues_rate": nil, "to_point_person_referrals": 10})
	// Ann's own rates leave the three out as well: her figures without and with them.
	without := stagetest.One(t, stagetest.Build(t, stagetest.SamplePractice(), stagetest.DefaultVars(stagetest.ReportMonth)),
		"select referrals, attended_intakes from follow_through_clinician where clinician = ?", stagetest.Ann)
	n, att := toInt(without["referrals"]), toInt(without["attended_intakes"])
	stagetest.Expect(t, "Ann", stagetest.One(t, db, "select * from follow_through_clinician where clinician = ?", stagetest.Ann), map[string]any{
		"referrals": n + 10, "attended_intakes": att + 2, "pending_intakes": 5, "attended_rate": float64(att+2) / float64(n+10-5)})

	p.Appointment("pend-8a", "client-pend-8", stagetest.Ann, "2026-01-12", "", "No Show", "Dr Pending")
	p.Appointment("pend-8b", "client-pend-8", stagetest.Ann, "2026-02-01", "", "Scheduled", "")
	p.Appointment("later-1", "client-later-1", stagetest.Ben, "2026-02-03", "", "Attended", "Dr Later")
	jan := build(stagetest.ReportMonth.AddDate(0, 1, 0))
	stagetest.Expect(t, "Dr Pending in January", stagetest.One(t, jan, "select * from follow_through_referrer where referrer = 'Dr Pending'"), map[string]any{
		"referrals": 11, "attended_intakes": 2, "pending_intakes": 1, "attended_rate": 2.0 / 10})
}

// toInt is an integer column's value as stagetest.Rows gives it (int64).
func toInt(v any) int {
	if x, ok := v.(int64); ok {
		return int(x)
	}
	panic(fmt.Sprintf("%T", v))
}

// A client none of whose appointments or claims names a clinician yet (an intake
// booked into an open slot, cancelled before anyone was assigned) is a referral of its
// referrer with no clinician, measured from the night one is assigned: counted, it
// would lower the point-person share and move the stage (and move it back once
// assigned). The point person is the clinician of the first referral that has one,
// and a referrer with only such clients has none yet and no stage. The data checks
// pass: nothing is wrong in the exports.
func TestReferralWithNoClinicianYet(t *testing.T) {
	p := stagetest.SamplePractice()
	p.Appointment("open-1", "client-open-1", "", "2025-07-01", "9:00 AM", "Cancelled", "Dr Open Slot")
	p.Appointment("open-2", "client-open-2", stagetest.Ann, "2025-08-01", "9:00 AM", "Attended", "Dr Open Slot")
	p.Appointment("open-3", "client-open-3", stagetest.Ann, "2025-09-01", "9:00 AM", "Attended", "Dr Open Slot")
	p.Appointment("none-1", "client-none-1", "", "2025-10-01", "9:00 AM", "No Show", "Dr Nobody Yet")
	db := stagetest.Build(t, p, stagetest.DefaultVars(stagetest.ReportMonth)) // fails on a failed check
	month := func(referrer, m string) map[string]any {
		t.Helper()
		return stagetest.One(t, db, "select * from referrer_months where referrer = ? and month = ?::DATE", referrer, m)
	}
	// Both measured referrals went to Ann: stage 1, as if the open slot were not there.
	// Counted, it would make the share 2/3 and the stage 2.
	stagetest.Expect(t, "Open Slot 2025-12", month("Dr Open Slot", "2025-12-01"),
		map[string]any{"referrals": 2, "clinicians": 1, "coc": 1.0, "effective_clinicians": 1.0,
			"point_person": stagetest.Ann, "point_person_source": "first referral", "point_person_share": 1.0, "stage": 1})
	// Before Ann's first referral the only referral has no clinician: no stage yet, and
	// Ann, the clinician of the first referral that has one, from the first month.
	stagetest.Expect(t, "Open Slot 2025-07", month("Dr Open Slot", "2025-07-01"),
		map[string]any{"referrals": 0, "stage": nil, "point_person": stagetest.Ann})
	stagetest.Expect(t, "Nobody Yet 2025-12", month("Dr Nobody Yet", "2025-12-01"),
		map[string]any{"referrals": 0, "stage": nil, "point_person": nil, "point_person_source": "no clinician yet"})
	// The volumes count them.
	stagetest.Expect(t, "Open Slot volume", stagetest.One(t, db, "select sum(referrals) as n from monthly_volume where referrer = 'Dr Open Slot'"),
		map[string]any{"n": 3})
	stagetest.Expect(t, "Nobody Yet referral", stagetest.One(t, db, "select * from referrals where client_key = ?::UBIGINT", stagetest.Key("client-none-1")),
		map[string]any{"referrer": "Dr Nobody Yet", "assigned_clinician": nil, "point_person": nil})
}

// An NPI that two roster clinicians share (a typo in one row) resolves nobody by
// NPI: the claim lines go by the rendering provider's name. Resolved by the NPI,
// Fay Fir's billing-only client went to Ann Alder, the first of the two by name.
func TestSharedRosterNPIGoesByName(t *testing.T) {
	db := stagetest.BuildAfter(t, stagetest.SamplePractice(), stagetest.DefaultVars(stagetest.ReportMonth),
		`UPDATE raw_claim_lines SET rendering_npi = '6666666666' WHERE client_key = `+stagetest.Key("client-billing-only"),
		`UPDATE ref_roster SET npi = '6666666666' WHERE name = 'Ann Alder'`)
	stagetest.Expect(t, "billing-only referral", stagetest.One(t, db, "select * from referrals where client_key = ?::UBIGINT", stagetest.Key("client-billing-only")),
		map[string]any{"assigned_clinician": stagetest.Fay})
	stagetest.Expect(t, "the spelling", stagetest.One(t, db, "select * from stg_clinician_spellings where export = 'billing' and provider_npi = '6666666666'"),
		map[string]any{"clinician": stagetest.Fay, "clinician_resolved": true})
}

// A billing-only client whose first claim line names no rendering provider (blank
// name and NPI) takes the provider of its first line that names one, as the README
// says (a client none of whose rows names a clinician has none; this one's do). Taken
// as one struct with its NPI from the first line, whatever it held, the provider was
// NULL and the referral was never measured.
func TestBillingOnlyFirstLineWithoutProvider(t *testing.T) {
	db := stagetest.BuildAfter(t, stagetest.SamplePractice(), stagetest.DefaultVars(stagetest.ReportMonth),
		`UPDATE raw_claim_lines SET rendering_provider = NULL, rendering_npi = NULL
		 WHERE service_date = DATE '2025-04-10' AND client_key = `+stagetest.Key("client-billing-only"))
	stagetest.Expect(t, "billing-only referral", stagetest.One(t, db, "select * from referrals where client_key = ?::UBIGINT", stagetest.Key("client-billing-only")),
		map[string]any{"referral_date": "2025-04-10", "assigned_clinician": stagetest.Fay})
}
