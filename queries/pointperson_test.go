package queries_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/referrals/referrals/internal/stagetest"
	"github.com/referrals/referrals/pipeline"
)

// A point person who leaves hands the referrer on to whoever took the first
// referral after they left: not to a clinician who took one earlier, not to one who
// had left by the referral's day. Until such a referral comes, the one who left
// stays. The roster of stagetest has Eve leaving on 2025-06-15; Gus is added here,
// leaving on 2025-09-30.
func TestPointPersonHandOver(t *testing.T) {
	const gus = "Gus Gum"
	p := &stagetest.Practice{}
	n := 0
	ref := func(source, date, clinician string) {
		n++
		p.Appointment(fmt.Sprintf("pp-%02d", n), fmt.Sprintf("client-pp-%02d", n), clinician, date, "9:00 AM", "Attended", source)
	}
	// Eve took the first referral; Ann one before Eve left (she is not the successor).
	ref("Dr Chain", "2024-01-10", stagetest.Eve)
	ref("Dr Chain", "2024-02-10", stagetest.Ann)
	ref("Dr Chain", "2025-06-10", stagetest.Ben)
	// The first after Eve left (2025-06-15): Gus, who leaves on 2025-09-30.
	ref("Dr Chain", "2025-07-20", gus)
	ref("Dr Chain", "2025-08-05", stagetest.Cal)
	// After Gus left: a referral recorded for Eve, who had left (she cannot take over),
	// then Dee and Cal on one day: the tie goes to the name, Cal.
	ref("Dr Chain", "2025-10-01", stagetest.Eve)
	ref("Dr Chain", "2025-10-02", stagetest.Dee)
	ref("Dr Chain", "2025-10-02", stagetest.Cal)

	// Eve leaves and nobody takes a referral until November.
	ref("Dr Gap", "2025-01-10", stagetest.Eve)
	ref("Dr Gap", "2025-03-10", stagetest.Eve)
	ref("Dr Gap", "2025-11-05", stagetest.Ann)

	// The directory names Gus, though Ann took the first referral; Ben the first after
	// Gus left.
	ref("Dr Named", "2025-02-01", stagetest.Ann)
	ref("Dr Named", "2025-10-15", stagetest.Ben)

	ctx := context.Background()
	db, err := pipeline.Open(ctx, filepath.Join(t.TempDir(), "referrals.duckdb"), pipeline.Settings{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	stagetest.Load(t, db, p)
	for _, q := range []string{
		`INSERT INTO ref_roster VALUES ('Gus Gum', NULL, '7777777777', DATE '2025-01-01', DATE '2025-09-30', NULL, NULL, NULL)`,
		`INSERT INTO ref_directory VALUES ('Dr Named', NULL, NULL, 'physician', NULL, 'Gus Gum', false)`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pipeline.BuildModels(ctx, db, stagetest.DefaultVars(stagetest.ReportMonth), nil); err != nil {
		t.Fatal(err)
	}
	if err := pipeline.RunChecks(ctx, db); err != nil {
		t.Fatal(err)
	}

	// Runs of months with the same point person and reason, as "from..to who (why)".
	spans := func(referrer string) string {
		t.Helper()
		rows := stagetest.Rows(t, db, `select strftime(min(month), '%Y-%m') || '..' || strftime(max(month), '%Y-%m')
				|| ' ' || point_person || ' (' || point_person_source || ')' as span
			from (select *, count(*) over (order by month) - row_number() over (partition by point_person, point_person_source order by month) as run
			      from referrer_months where referrer = ?)
			group by run, point_person, point_person_source
			order by min(month)`, referrer)
		var out []string
		for _, r := range rows {
			out = append(out, r["span"].(string))
		}
		return strings.Join(out, "; ")
	}
	for referrer, want := range map[string]string{
		"Dr Chain": "2024-01..2025-06 Eve Elm (first referral); 2025-07..2025-09 Gus Gum (handed over); " +
			"2025-10..2025-12 Cal Cedar (handed over)",
		"Dr Gap": "2025-01..2025-06 Eve Elm (first referral); 2025-07..2025-10 Eve Elm (left the practice); " +
			"2025-11..2025-12 Ann Alder (handed over)",
		"Dr Named": "2025-02..2025-09 Gus Gum (directory); 2025-10..2025-12 Ben Birch (handed over)",
	} {
		if got := spans(referrer); got != want {
			t.Errorf("%s's point persons:\n got %s\nwant %s", referrer, got, want)
		}
	}

	// The measure follows the point person. Dr Chain in 2025-12: Ben, Gus, Cal, Eve, Dee
	// and Cal: N = 6, 2 to Cal (1/3); sum n^2 = 8, COC 2/30, 15 effective; no referred-to
	// field, N >= 4, effective >= 3, point person under half: stage 3.
	stagetest.Expect(t, "Dr Chain", stagetest.One(t, db, "select * from referrer_status where referrer = 'Dr Chain'"),
		map[string]any{"point_person": stagetest.Cal, "point_person_source": "handed over", "referrals": 6,
			"point_person_share": 1.0 / 3, "coc": 2.0 / 30, "effective_clinicians": 15.0, "stage": 3})
	// Dr Gap in 2025-10: Eve has left, no referral since: her two still count for her.
	stagetest.Expect(t, "Dr Gap 2025-10", stagetest.One(t, db,
		"select * from referrer_months where referrer = 'Dr Gap' and month = DATE '2025-10-01'"),
		map[string]any{"point_person": stagetest.Eve, "referrals": 2, "point_person_share": 1.0, "stage": 1})
	// Each referral of the report month's window is compared with the point person then.
	got := stagetest.JoinRows(stagetest.Rows(t, db, `select referral_date, point_person, to_point_person from referrals
		where referrer = 'Dr Named' order by referral_date`), "referral_date", "point_person", "to_point_person")
	if want := "2025-02-01 | Ben Birch | false\n2025-10-15 | Ben Birch | true"; got != want {
		t.Errorf("Dr Named's referrals:\n%s\nwant:\n%s", got, want)
	}
}

// A directory point person that names no clinician of the roster (a typo) is
// listed in stg_unknown_point_persons, and the referrer's point person is the
// clinician of its first referral, as for one the directory names none; the
// roster's spelling variants still resolve.
func TestUnknownDirectoryPointPersonFallsBack(t *testing.T) {
	build := func(pointPerson string) *sql.DB {
		t.Helper()
		return stagetest.BuildAfter(t, stagetest.SamplePractice(), stagetest.DefaultVars(stagetest.ReportMonth),
			"UPDATE ref_directory SET point_person = "+pipeline.QuoteString(pointPerson)+" WHERE name = 'Dr Directory Dee'")
	}
	first := stagetest.One(t, build(""), "select point_person, point_person_source from referrer_status where referrer = 'Dr Directory Dee'")
	if first["point_person_source"] != "first referral" {
		t.Fatalf("without a directory point person: %v, want the first referral's clinician", first)
	}
	db := build("Dee Dogwod")
	stagetest.Expect(t, "typo", stagetest.One(t, db, "select point_person, point_person_source from referrer_status where referrer = 'Dr Directory Dee'"),
		map[string]any{"point_person": first["point_person"], "point_person_source": "first referral"})
	got := stagetest.JoinRows(stagetest.Rows(t, db, "select referrer, point_person from stg_unknown_point_persons"), "referrer", "point_person")
	if got != "Dr Directory Dee | Dee Dogwod" {
		t.Errorf("stg_unknown_point_persons: %q, want the typo", got)
	}
	db = build("DOGWOOD, DEE LCSW")
	stagetest.Expect(t, "a spelling of Dee", stagetest.One(t, db, "select point_person, point_person_source from referrer_status where referrer = 'Dr Directory Dee'"),
		map[string]any{"point_person": stagetest.Dee, "point_person_source": "directory"})
	if n := stagetest.One(t, db, "select count(*) as n from stg_unknown_point_persons")["n"]; n != int64(0) {
		t.Errorf("stg_unknown_point_persons has %v rows for a spelling the roster resolves", n)
	}
}

// Without a roster (it is optional), a request names a clinician the exports name:
// Dr Practice's requests for "Alder, Ann" and "Ben Birch" are for Ann and Ben, not
// for the practice, so its practice share is 4/6 as with the roster, not 6/6; the
// directory's point person is the exports' clinician of that name. And the
// spellings of one name the roster does not resolve are one clinician.
func TestNoRosterRequestsNameExportClinicians(t *testing.T) {
	build := func(roster bool) *sql.DB {
		t.Helper()
		p := stagetest.SamplePractice()
		p.Appointment("fold-1", "client-fold-1", "FISCHER, CATHERINE", "2025-03-03", "", "Attended", "Dr Fold")
		p.Appointment("fold-2", "client-fold-2", "Fischer, Catherine", "2025-03-04", "", "Attended", "Dr Fold")
		p.Appointment("fold-3", "client-fold-3", "Catherine Fischer", "2025-03-05", "", "Attended", "Dr Fold")
		// Two clinicians whose names key alike once credentials are dropped ("jenny").
		p.Appointment("apart-1", "client-apart-1", "Jenny Ma, LCSW", "2025-03-06", "", "Attended", "Dr Apart")
		p.Appointment("apart-2", "client-apart-2", "Jenny Do, LMFT", "2025-03-07", "", "Attended", "Dr Apart")
		// "Sam Park" keys alike for two roster clinicians (one has it as an alias): the
		// roster cannot tell whom the exports mean, so the two spellings stay apart;
		// without a roster they are one clinician.
		p.Appointment("ambig-1", "client-ambig-1", "Sam Park", "2025-03-08", "", "Attended", "Dr Ambig")
		p.Appointment("ambig-2", "client-ambig-2", "PARK, SAM", "2025-03-09", "", "Attended", "Dr Ambig")
		if !roster {
			return stagetest.BuildAfter(t, p, stagetest.DefaultVars(stagetest.ReportMonth), `DELETE FROM ref_roster`)
		}
		return stagetest.BuildAfter(t, p, stagetest.DefaultVars(stagetest.ReportMonth),
			`INSERT INTO ref_roster VALUES ('Sam Park', NULL, NULL, DATE '2020-01-01', NULL, NULL, NULL, NULL),
				('Samuel Park', 'Sam Park', NULL, DATE '2020-01-01', NULL, NULL, NULL, NULL)`)
	}
	for _, roster := range []bool{true, false} {
		db := build(roster)
		stagetest.Expect(t, fmt.Sprintf("Dr Practice, roster %v", roster),
			stagetest.One(t, db, "select practice_share, referrals as n from referrer_months where referrer = 'Dr Practice' and month = '2025-04-01'"),
			map[string]any{"practice_share": 4.0 / 6, "n": 6})
		// The directory's "Dogwood, Dee" is the exports' Dee Dogwood either way.
		stagetest.Expect(t, fmt.Sprintf("Dr Directory Dee, roster %v", roster),
			stagetest.One(t, db, "select point_person, point_person_source from referrer_status where referrer = 'Dr Directory Dee'"),
			map[string]any{"point_person": stagetest.Dee, "point_person_source": "directory"})
		got := stagetest.JoinRows(stagetest.Rows(t, db, `select distinct assigned_clinician from referrals where referrer = 'Dr Fold'`), "assigned_clinician")
		if got != "Catherine Fischer" {
			t.Errorf("roster %v: Dr Fold's clinicians %q, want one, \"Catherine Fischer\"", roster, got)
		}
		got = stagetest.JoinRows(stagetest.Rows(t, db, `select distinct assigned_clinician from referrals where referrer = 'Dr Apart' order by 1`), "assigned_clinician")
		if got != "Jenny Do, LMFT\nJenny Ma, LCSW" {
			t.Errorf("roster %v: Dr Apart's clinicians %q, want the two apart", roster, got)
		}
		got = stagetest.JoinRows(stagetest.Rows(t, db, `select distinct assigned_clinician from referrals where referrer = 'Dr Ambig' order by 1`), "assigned_clinician")
		if want := map[bool]string{true: "PARK, SAM\nSam Park", false: "Sam Park"}[roster]; got != want {
			t.Errorf("roster %v: Dr Ambig's clinicians %q, want %q", roster, got, want)
		}
	}
}

// A referral whose first appointment names no clinician (blank, or white space)
// takes the first appointment that names one, also one at the very same time.
func TestReferralWithoutClinicianTakesTheFirstNamed(t *testing.T) {
	p := stagetest.SamplePractice()
	p.Appointment("named-1a", "client-named-1", "", "2025-09-01", "9:00 AM", "Cancelled", "Dr Named")
	p.Appointment("named-1b", "client-named-1", stagetest.Ben, "2025-09-08", "9:00 AM", "Scheduled", "")
	p.Appointment("named-2a", "client-named-2", " ", "2025-09-02", "9:00 AM", "Scheduled", "Dr Named")
	p.Appointment("named-2b", "client-named-2", stagetest.Cal, "2025-09-02", "9:00 AM", "Scheduled", "")
	db := stagetest.Build(t, p, stagetest.DefaultVars(stagetest.ReportMonth))
	got := stagetest.JoinRows(stagetest.Rows(t, db, `select referral_date::VARCHAR as d, assigned_clinician from referrals where referrer = 'Dr Named' order by 1`), "d", "assigned_clinician")
	if want := "2025-09-01 | " + stagetest.Ben + "\n2025-09-02 | " + stagetest.Cal; got != want {
		t.Errorf("Dr Named's referrals:\n%s\nwant:\n%s", got, want)
	}
}
