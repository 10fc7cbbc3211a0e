package queries_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/referrals/referrals/internal/sample"
	"github.com/referrals/referrals/internal/stagetest"
	"github.com/referrals/referrals/pipeline"
)

// TestReferrerMonthsMatchPlainComputation computes the point person, the spread
// measure and the stage of every referrer at every month again in Go, the plain
// way (each month's window counted afresh from the referrals), from the same
// per-referral facts, roster and directory the SQL reads, and compares every
// row and column of referrer_months and point_persons with it. The SQL carries
// per-clinician counts as changes along a month grid and picks point persons
// through spans; this is the arithmetic of README's "The measure" written out.
// It runs on the sample data with the default thresholds, and on a generated
// practice (clinicians who leave, handovers, referrals asked for by name) with
// other thresholds, a shorter window and an earlier report month.
func TestReferrerMonthsMatchPlainComputation(t *testing.T) {
	ctx := context.Background()
	gen := filepath.Join(t.TempDir(), "data")
	end := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	if _, err := sample.Generate(ctx, sample.Options{Out: gen, Scale: 2, Seed: 5, End: end, Months: 40}); err != nil {
		t.Fatal(err)
	}
	other := func(month time.Time) pipeline.Vars {
		v := stagetest.DefaultVars(month)
		v["window_months"] = 6
		v["stage3_practice_share"] = 0.4
		v["stage3_min_referrals"] = 3
		v["stage3_min_effective"] = 2.5
		v["stage3_max_pp_share"] = 0.6
		v["stage1_pp_share"] = 0.7
		v["low_evidence_below"] = 4
		return v
	}
	cases := []struct {
		name, data string
		month      time.Time
		vars       func(time.Time) pipeline.Vars // nil: the run's own (README defaults)
	}{
		{"sample-data", filepath.Join("..", "sample-data"), end, nil},
		{"generated", gen, end, nil},
		{"generated, other thresholds, earlier month", gen, time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), other},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db := stagetest.RunSample(t, c.data, end, "oracle-secret-0123456789abcdef")
			vars := stagetest.DefaultVars(end)
			if c.vars != nil {
				vars = c.vars(c.month)
				if _, err := pipeline.BuildModels(ctx, db, vars, nil); err != nil {
					t.Fatal(err)
				}
			}
			want := plainReferrerMonths(t, db, vars)
			got := storedReferrerMonths(t, db)
			if len(want) < 50 {
				t.Fatalf("only %d referrer months computed: the data is not what the test expects", len(want))
			}
			var handedOver, left, stage3, stage1, lowEvidence int
			for k, w := range want {
				g, ok := got[k]
				if !ok {
					t.Errorf("%s %s: missing from referrer_months", k.referrer, k.month)
					continue
				}
				if g != w {
					t.Errorf("%s %s:\n  referrer_months %+v\n  plain           %+v", k.referrer, k.month, g, w)
				}
				switch w.source {
				case "handed over":
					handedOver++
				case "left the practice":
					left++
				}
				if w.stage.Valid && w.stage.Int64 == 3 {
					stage3++
				}
				if w.stage.Valid && w.stage.Int64 == 1 {
					stage1++
				}
				if w.lowEvidence {
					lowEvidence++
				}
			}
			for k := range got {
				if _, ok := want[k]; !ok {
					t.Errorf("%s %s: in referrer_months, but no month of the referrer's", k.referrer, k.month)
				}
			}
			// The comparison means something only where the data reach every branch.
			if stage1 == 0 || stage3 == 0 || lowEvidence == 0 {
				t.Errorf("the data reach too few branches: %d stage-1, %d stage-3, %d low-evidence months", stage1, stage3, lowEvidence)
			}
			if c.data == gen && (handedOver == 0 || left == 0) {
				t.Errorf("the generated practice should have handovers and point persons who left: %d and %d months", handedOver, left)
			}
			t.Logf("%d referrer months compared (%d stage 1, %d stage 3, %d low evidence, %d handed over, %d left the practice)",
				len(want), stage1, stage3, lowEvidence, handedOver, left)
		})
	}
}

type referrerMonth struct {
	referrer string
	month    string // YYYY-MM-DD, the month's first day
}

// measured is one row of referrer_months as the test compares it.
type measured struct {
	pointPerson              sql.NullString
	source                   string
	n, clinicians, thisMonth int64
	toPP, practice, known    int64
	ppShare, practiceShare   sql.NullFloat64
	coc, effective           sql.NullFloat64
	stage                    sql.NullInt64
	lowEvidence              bool
}

func storedReferrerMonths(t *testing.T, db *sql.DB) map[referrerMonth]measured {
	t.Helper()
	rows, err := db.Query(`SELECT m.referrer, strftime(m.month, '%Y-%m-%d'), m.point_person, p.point_person_source, m.point_person_source,
			m.referrals, m.clinicians, m.referrals_this_month, m.point_person_referrals, m.practice_referrals, m.requests_known,
			m.point_person_share, m.practice_share, m.coc, m.effective_clinicians, m.stage, m.low_evidence
		FROM referrer_months m
		LEFT JOIN point_persons p ON p.referrer = m.referrer AND p.month = m.month`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[referrerMonth]measured{}
	for rows.Next() {
		var k referrerMonth
		var m measured
		var ppSource sql.NullString
		if err := rows.Scan(&k.referrer, &k.month, &m.pointPerson, &ppSource, &m.source, &m.n, &m.clinicians, &m.thisMonth,
			&m.toPP, &m.practice, &m.known, &m.ppShare, &m.practiceShare, &m.coc, &m.effective, &m.stage, &m.lowEvidence); err != nil {
			t.Fatal(err)
		}
		if ppSource.String != m.source {
			t.Errorf("%s %s: point_persons says %q, referrer_months %q", k.referrer, k.month, ppSource.String, m.source)
		}
		out[k] = m
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

type fact struct {
	date                time.Time
	assigned, requested sql.NullString
	known, practice     bool
	ppTarget            sql.NullString
}

// plainReferrerMonths is README's measure, month by month, from referral_facts,
// the roster's end dates (stg_clinicians) and the directory's point persons.
func plainReferrerMonths(t *testing.T, db *sql.DB, vars pipeline.Vars) map[referrerMonth]measured {
	t.Helper()
	report := vars["report_month"].(time.Time)
	reportEnd := report.AddDate(0, 1, -1)
	window := vars["window_months"].(int)
	num := func(k string) float64 {
		switch v := vars[k].(type) {
		case int:
			return float64(v)
		case float64:
			return v
		}
		t.Fatalf("variable %s is %T", k, vars[k])
		return 0
	}

	facts := map[string][]fact{}
	rows, err := db.Query(`SELECT referrer, referral_date, assigned_clinician, requested_clinician, requested_known,
			requested_practice, pp_target
		FROM referral_facts WHERE source_kind = 'referrer'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var r string
		var f fact
		if err := rows.Scan(&r, &f.date, &f.assigned, &f.requested, &f.known, &f.practice, &f.ppTarget); err != nil {
			t.Fatal(err)
		}
		// README: a referral asked for a clinician by name is compared with the point
		// person by that clinician, else by the one who took it; the practice was asked
		// for when the request is known and names no clinician.
		wantTarget := f.assigned
		if f.known && f.requested.Valid {
			wantTarget = f.requested
		}
		if f.ppTarget != wantTarget || f.practice != (f.known && !f.requested.Valid) {
			t.Fatalf("referral of %s on %s: pp_target %v, requested_practice %v from requested %v (known %v), assigned %v",
				r, f.date.Format("2006-01-02"), f.ppTarget, f.practice, f.requested, f.known, f.assigned)
		}
		if !f.date.After(reportEnd) {
			facts[r] = append(facts[r], f)
		}
	}
	rows.Close()

	// The day each clinician left: none while any roster row of theirs is open-ended.
	leftOn := map[string]time.Time{}
	open := map[string]bool{}
	rows, err = db.Query(`SELECT clinician, end_date FROM stg_clinicians`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var c string
		var end sql.NullTime
		if err := rows.Scan(&c, &end); err != nil {
			t.Fatal(err)
		}
		if !end.Valid {
			open[c] = true
		} else if end.Time.After(leftOn[c]) {
			leftOn[c] = end.Time
		}
	}
	rows.Close()
	for c := range open {
		delete(leftOn, c)
	}
	directory := map[string]string{}
	rows, err = db.Query(`SELECT referrer, trim(directory_point_person) FROM stg_referrers WHERE nullif(trim(directory_point_person), '') IS NOT NULL`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var r, c string
		if err := rows.Scan(&r, &c); err != nil {
			t.Fatal(err)
		}
		directory[r] = c
	}
	rows.Close()

	monthOf := func(d time.Time) time.Time { return time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, time.UTC) }
	out := map[referrerMonth]measured{}
	for referrer, fs := range facts {
		// Referrals in order of day, then clinician's name (none first, as they never count below).
		sort.Slice(fs, func(i, j int) bool {
			if !fs[i].date.Equal(fs[j].date) {
				return fs[i].date.Before(fs[j].date)
			}
			return fs[i].assigned.String < fs[j].assigned.String
		})
		// The point person: the directory's, else who took the first referral that has
		// a clinician. One who leaves hands on to who took the first referral after the
		// day they left (among clinicians who had not left by that referral's day).
		type span struct {
			clinician sql.NullString
			source    string
			since     time.Time
		}
		first := span{source: "no clinician yet", since: fs[0].date}
		for _, f := range fs {
			if f.assigned.Valid {
				first.clinician, first.source = f.assigned, "first referral"
				break
			}
		}
		if c, ok := directory[referrer]; ok {
			first.clinician, first.source = sql.NullString{String: c, Valid: true}, "directory"
		}
		chain := []span{first}
		for {
			cur := chain[len(chain)-1]
			left, ok := leftOn[cur.clinician.String]
			if !cur.clinician.Valid || !ok {
				break
			}
			next := -1
			for i, f := range fs {
				if !f.date.After(left) || !f.assigned.Valid {
					continue
				}
				if l, gone := leftOn[f.assigned.String]; gone && l.Before(f.date) {
					continue
				}
				next = i
				break
			}
			if next < 0 {
				break
			}
			chain = append(chain, span{fs[next].assigned, "handed over", fs[next].date})
			if len(chain) > 1000 {
				t.Fatalf("%s: the handovers do not end", referrer)
			}
		}
		pointPerson := func(m time.Time) span {
			at := chain[0]
			for _, s := range chain[1:] {
				if !monthOf(s.since).After(m) {
					at = s
				}
			}
			return at
		}

		for m := monthOf(fs[0].date); !m.After(report); m = m.AddDate(0, 1, 0) {
			pp := pointPerson(m)
			var r measured
			r.pointPerson, r.source = pp.clinician, pp.source
			if l, ok := leftOn[pp.clinician.String]; ok && pp.clinician.Valid && l.Before(m) {
				r.source = "left the practice"
			}
			from := m.AddDate(0, 1-window, 0)
			perClinician := map[string]int64{}
			for _, f := range fs {
				fm := monthOf(f.date)
				if !f.assigned.Valid || fm.Before(from) || fm.After(m) {
					continue
				}
				r.n++
				perClinician[f.assigned.String]++
				if fm.Equal(m) {
					r.thisMonth++
				}
				if f.known {
					r.known++
					if f.practice {
						r.practice++
					}
				}
				if pp.clinician.Valid && f.ppTarget.Valid && f.ppTarget.String == pp.clinician.String {
					r.toPP++
				}
			}
			var sumSq int64
			for _, k := range perClinician {
				sumSq += k * k
			}
			r.clinicians = int64(len(perClinician))
			n := r.n
			if n > 0 {
				r.ppShare = sql.NullFloat64{Float64: float64(r.toPP) / float64(n), Valid: true}
			}
			if r.known > 0 {
				r.practiceShare = sql.NullFloat64{Float64: float64(r.practice) / float64(r.known), Valid: true}
			}
			if n >= 2 {
				r.coc = sql.NullFloat64{Float64: float64(sumSq-n) / float64(n*(n-1)), Valid: true}
				if sumSq > n {
					r.effective = sql.NullFloat64{Float64: float64(n*(n-1)) / float64(sumSq-n), Valid: true}
				}
			}
			switch {
			case n == 0:
			case r.practiceShare.Valid && r.practiceShare.Float64 >= num("stage3_practice_share"):
				r.stage = sql.NullInt64{Int64: 3, Valid: true}
			case !r.practiceShare.Valid && float64(n) >= num("stage3_min_referrals") &&
				(r.coc.Valid && r.coc.Float64 == 0 || r.effective.Valid && r.effective.Float64 >= num("stage3_min_effective")) &&
				r.ppShare.Float64 < num("stage3_max_pp_share"):
				r.stage = sql.NullInt64{Int64: 3, Valid: true}
			case r.ppShare.Float64 >= num("stage1_pp_share"):
				r.stage = sql.NullInt64{Int64: 1, Valid: true}
			default:
				r.stage = sql.NullInt64{Int64: 2, Valid: true}
			}
			r.lowEvidence = n > 0 && float64(n) < num("low_evidence_below")
			out[referrerMonth{referrer, m.Format("2006-01-02")}] = r
		}
	}
	return out
}
