package pipeline_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/referrals/referrals/pipeline"
)

// Which version of a re-exported row stands after several nights must be what one
// run over the final folder gives: the newest file's (modification time, then
// name), whatever night each file came in.

// dump is a table's rows as sorted text, for comparing databases.
func (p *practice) dump(q string) string {
	p.t.Helper()
	rows, err := p.db.Query(q)
	if err != nil {
		p.t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		v := make([]any, len(cols))
		ptr := make([]any, len(cols))
		for i := range v {
			ptr[i] = &v[i]
		}
		if err := rows.Scan(ptr...); err != nil {
			p.t.Fatal(err)
		}
		f := make([]string, len(v))
		for i, x := range v {
			f[i] = fmt.Sprint(x)
		}
		out = append(out, strings.Join(f, " "))
	}
	return strings.Join(out, "\n")
}

func (p *practice) build() {
	p.t.Helper()
	if _, err := pipeline.BuildModels(context.Background(), p.db, pipeline.ModelVars(p.cfg, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)), nil); err != nil {
		p.t.Fatal(err)
	}
}

const (
	apptsNewer = schedHeader +
		"A1,1001,Ann Lee,01/05/2026,9:00 AM,Attended,Intake,Dr Bob Stone,,\n" +
		"A2,1002,Ann Lee,01/06/2026,9:00 AM,Attended,Intake,Dr Bob Stone,,\n"
	apptsOlder = schedHeader +
		"A1,1001,Cal Diaz,01/05/2026,9:00 AM,No Show,Intake,Google,,\n"
)

// An export older than the one loaded the night before (retried after it failed,
// or copied in with its original time) does not bring back what the newer one
// corrected: its rows lose to the newer file's, as in one run over both files.
func TestOlderExportOnALaterNightDoesNotWin(t *testing.T) {
	tables := []string{
		"SELECT appointment_id, clinician, status, referral_source FROM raw_appointments ORDER BY ALL",
		"SELECT * EXCLUDE (client_key) FROM client_appointments ORDER BY ALL",
		"SELECT referrer, assigned_clinician, intake_attended FROM referral_facts ORDER BY ALL",
	}
	nights := newPractice(t)
	nights.write("exports/billing/b.csv", []byte(billHeader), 1)
	nights.write("exports/scheduling/2026-01-07.csv", []byte(apptsNewer), 20)
	nights.ingest()
	nights.build()
	nights.write("exports/scheduling/2026-01-06.csv", []byte(apptsOlder), 10)
	if sum := nights.ingest(); sum.Count("loaded") != 1 {
		t.Fatalf("the older export was not loaded: %+v", sum.Files)
	}
	nights.build()

	once := newPractice(t)
	once.write("exports/billing/b.csv", []byte(billHeader), 1)
	once.write("exports/scheduling/2026-01-07.csv", []byte(apptsNewer), 20)
	once.write("exports/scheduling/2026-01-06.csv", []byte(apptsOlder), 10)
	once.ingest()
	once.build()

	if got := nights.dump(tables[0]); !strings.Contains(got, "A1 Ann Lee Attended Dr Bob Stone") || strings.Contains(got, "No Show") {
		t.Errorf("raw_appointments after the older export came in:\n%s\nwant A1 as the newer export has it", got)
	}
	for _, q := range tables {
		if a, b := nights.dump(q), once.dump(q); a != b {
			t.Errorf("%s\nnight by night:\n%s\nin one run:\n%s", q, a, b)
		}
	}
	// The replaced row is credited to the file that replaced it: the newer one.
	if n := nights.count(`SELECT rows_replaced FROM ingest_files WHERE path LIKE '%2026-01-07.csv'`); n != 1 {
		t.Errorf("the newer export is credited with %d replaced rows, want 1", n)
	}
}

// An export put back to content loaded before (an edit undone in the scheduling
// system) is newer than the version it replaces: it is loaded again, not skipped as
// already loaded. A copy of content whose rows are all current is still skipped.
func TestExportPutBackToEarlierContentIsLoaded(t *testing.T) {
	v1 := schedHeader + "A1,1001,Ann Lee,01/05/2026,9:00 AM,Attended,Intake,Dr Bob Stone,,\n"
	v2 := schedHeader + "A1,1001,Cal Diaz,01/05/2026,9:00 AM,No Show,Intake,Google,,\n"
	p := newPractice(t)
	p.write("exports/billing/b.csv", []byte(billHeader), 1)
	p.write("exports/scheduling/a.csv", []byte(v1), 2)
	p.ingest()
	p.build()
	p.write("exports/scheduling/a.csv", []byte(v2), 3)
	p.ingest()
	p.build()
	p.write("exports/scheduling/a.csv", []byte(v1), 4)
	if sum := p.ingest(); sum.Count("loaded") != 1 {
		t.Fatalf("the export put back to its first content was not loaded: %+v", sum.Files)
	}
	p.build()
	if got := p.dump("SELECT appointment_id, clinician, status FROM raw_appointments"); got != "A1 Ann Lee Attended" {
		t.Errorf("raw_appointments: %q, want A1 Ann Lee Attended", got)
	}
	if got := p.dump("SELECT first_clinician FROM client_appointments"); got != "Ann Lee" {
		t.Errorf("client_appointments: %q, want Ann Lee", got)
	}
	// The same content again under another name: every row of it is current.
	p.write("exports/scheduling/copy.csv", []byte(v1), 5)
	if sum := p.ingest(); sum.Count("skipped") != 3 || sum.Count("loaded") != 0 {
		t.Errorf("a copy of current content: %+v, want it skipped with the others", sum.Files)
	}
}
