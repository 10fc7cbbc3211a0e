package pipeline_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
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

// export is one file to write: its path under the practice, content, and time step.
type export struct {
	rel, content string
	step         int
}

// night writes the files and loads them, as one night's run does.
func (p *practice) night(files ...export) pipeline.IngestSummary {
	p.t.Helper()
	for _, f := range files {
		p.write(f.rel, []byte(f.content), f.step)
	}
	return p.ingest()
}

// oneRun is a fresh database that loads the final folder in one run (as --rebuild does).
func oneRun(t *testing.T, files ...export) *practice {
	t.Helper()
	p := newPractice(t)
	p.night(files...)
	return p
}

// sameAsOneRun fails when a query gives other rows night by night than in one run.
func sameAsOneRun(t *testing.T, nights, once *practice, queries ...string) {
	t.Helper()
	for _, q := range queries {
		if a, b := nights.dump(q), once.dump(q); a != b {
			t.Errorf("%s\nnight by night:\n%s\nin one run:\n%s", q, a, b)
		}
	}
}

const (
	// The newer export has A1 attended with Ann Lee; the older one a no-show with Cal Diaz.
	apptsNewer = schedHeader +
		"A1,1001,Ann Lee,01/05/2026,9:00 AM,Attended,Intake,Dr Bob Stone,,\n" +
		"A2,1002,Ann Lee,01/06/2026,9:00 AM,Attended,Intake,Dr Bob Stone,,\n"
	apptsOlder = schedHeader +
		"A1,1001,Cal Diaz,01/05/2026,9:00 AM,No Show,Intake,Google,,\n" +
		"A3,1003,Cal Diaz,01/07/2026,9:00 AM,Attended,Intake,Google,,\n"
	appts = "SELECT appointment_id, clinician, status, referral_source FROM raw_appointments ORDER BY ALL"
)

var noBilling = export{"exports/billing/b.csv", billHeader, 1}

// An export older than the one loaded the night before (retried after it failed,
// or copied in with its original time) does not bring back what the newer one
// corrected: its rows lose to the newer file's, as in one run over both files.
// The run's summary counts the row replaced, though it is credited to the newer
// file, of an earlier night.
func TestOlderExportOnALaterNightDoesNotWin(t *testing.T) {
	newer := export{"exports/scheduling/2026-01-07.csv", apptsNewer, 20}
	older := export{"exports/scheduling/2026-01-06.csv", apptsOlder, 10}
	nights := newPractice(t)
	nights.night(noBilling, newer)
	nights.build()
	sum := nights.night(older)
	if sum.Count("loaded") != 1 {
		t.Fatalf("the older export was not loaded: %+v", sum.Files)
	}
	if sum.Replaced != 1 {
		t.Errorf("the night's summary says %d rows replaced, want 1", sum.Replaced)
	}
	nights.build()
	once := oneRun(t, noBilling, newer, older)
	once.build()

	if got := nights.dump(appts); !strings.Contains(got, "A1 Ann Lee Attended Dr Bob Stone") || strings.Contains(got, "No Show") {
		t.Errorf("raw_appointments after the older export came in:\n%s\nwant A1 as the newer export has it", got)
	}
	sameAsOneRun(t, nights, once, appts,
		"SELECT * EXCLUDE (client_key) FROM client_appointments ORDER BY ALL",
		"SELECT referrer, assigned_clinician, intake_attended FROM referral_facts ORDER BY ALL")
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
	p.night(noBilling, export{"exports/scheduling/a.csv", v1, 2})
	p.build()
	p.night(export{"exports/scheduling/a.csv", v2, 3})
	p.build()
	if sum := p.night(export{"exports/scheduling/a.csv", v1, 4}); sum.Count("loaded") != 1 {
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
	if sum := p.night(export{"exports/scheduling/copy.csv", v1, 5}); sum.Count("skipped") != 3 || sum.Count("loaded") != 0 {
		t.Errorf("a copy of current content: %+v, want it skipped with the others", sum.Files)
	}
}

// A byte copy of an export whose row a newer export replaced is skipped, as one run
// over the same folder skips content it already took, so the newer row stands.
func TestCopyOfReplacedExportSkipped(t *testing.T) {
	older := export{"exports/scheduling/a.csv", apptsOlder, 10}
	newer := export{"exports/scheduling/b.csv", apptsNewer, 20}
	copied := export{"exports/scheduling/a copy.csv", apptsOlder, 30}
	nights := newPractice(t)
	nights.night(noBilling, older)
	nights.night(newer)
	if sum := nights.night(copied); sum.Count("loaded") != 0 {
		t.Errorf("the copy was loaded: %+v", sum.Files)
	}
	sameAsOneRun(t, nights, oneRun(t, noBilling, older, newer, copied), appts)
}

// The same path re-sent with other content but an older modification time
// (restored from a backup, unzipped, cp -p or rsync -t): the file on disk is the
// only version, and it wins over the version it replaced, as in one run.
func TestSamePathOlderTimeStillReplaces(t *testing.T) {
	// One row each: a row only the replaced version has stays loaded (documented).
	bad := schedHeader + "A1,1001,Cal Diaz,01/05/2026,9:00 AM,No Show,Intake,Google,,\n"
	nights := newPractice(t)
	nights.night(noBilling, export{"exports/scheduling/a.csv", bad, 20})
	good := export{"exports/scheduling/a.csv", apptsNewer, 10} // its timestamp is older
	nights.night(good)
	sameAsOneRun(t, nights, oneRun(t, noBilling, good), appts)
}

// A ledger from the first release (no size or modification time on record): the
// older export, whose A1 the newer one replaced, is hashed again every night but
// not loaded again, so the newer A1 stands on the first night after the upgrade
// and the nights after.
func TestLedgerWithoutTimesKeepsCorrections(t *testing.T) {
	p := newPractice(t)
	p.night(noBilling, export{"exports/scheduling/2026-01-06.csv", apptsOlder, 10})
	p.night(export{"exports/scheduling/2026-01-07.csv", apptsNewer, 20})
	if _, err := p.db.Exec(`UPDATE ingest_files SET size = NULL, mtime = NULL`); err != nil {
		t.Fatal(err)
	}
	for night := 1; night <= 3; night++ {
		sum := p.ingest()
		if sum.Loaded != 0 {
			t.Errorf("night %d after the upgrade loaded %d rows: %+v", night, sum.Loaded, sum.Files)
		}
		if got := p.dump(appts); !strings.Contains(got, "A1 Ann Lee Attended") {
			t.Errorf("night %d after the upgrade: A1 went back to the older export's version:\n%s", night, got)
		}
	}
}

// Files with sub-second modification times (every real file system) are found by
// the path, size and time lookup on the next nights: a partly replaced export is
// not read and loaded again every night.
func TestSubSecondTimesFoundOnRerun(t *testing.T) {
	p := newPractice(t)
	p.write(noBilling.rel, []byte(noBilling.content), noBilling.step)
	for _, f := range []export{{"exports/scheduling/a.csv", apptsOlder, 10}, {"exports/scheduling/b.csv", apptsNewer, 20}} {
		path := p.write(f.rel, []byte(f.content), f.step)
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		mt := st.ModTime().Add(123456789 * time.Nanosecond)
		if err := os.Chtimes(path, mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	p.ingest()
	for i := 1; i <= 2; i++ {
		if sum := p.ingest(); sum.Loaded != 0 {
			t.Errorf("rerun %d loaded %d rows: %+v", i, sum.Loaded, sum.Files)
		}
	}
}

// Two exports of the same second, one under the configuration's folder (the ledger
// keeps its path relative) and one outside it (absolute): a run orders them as the
// nightly replacement does, by the ledger's path, so both give the same rows.
func TestEqualTimesOrderedByLedgerPath(t *testing.T) {
	load := func(nightly bool) string {
		p := newPractice(t)
		outside := t.TempDir() // sorts after p.dir as an absolute path
		p.cfg.Scheduling.Files = []string{"exports/scheduling/*.csv", outside + "/*.csv"}
		p.write(noBilling.rel, []byte(noBilling.content), noBilling.step)
		p.write("exports/scheduling/in.csv", []byte(apptsOlder), 10)
		if nightly {
			p.ingest()
		}
		out := filepath.Join(outside, "out.csv")
		if err := os.WriteFile(out, []byte(apptsNewer), 0o644); err != nil {
			t.Fatal(err)
		}
		mt := time.Date(2026, 1, 1, 0, 0, 10, 0, time.UTC)
		if err := os.Chtimes(out, mt, mt); err != nil {
			t.Fatal(err)
		}
		p.ingest()
		return p.dump(appts)
	}
	if a, b := load(true), load(false); a != b {
		t.Errorf("night by night:\n%s\nin one run:\n%s", a, b)
	}
}

// A file loaded again (touched, or re-exported) lists its bad rows once, as one
// run over the final folder does, and a row fixed in the new version no longer.
func TestReloadedExportListsItsRejectsOnce(t *testing.T) {
	bad := schedHeader + "A1,1001,Ann Lee,01/05/2026,9:00 AM,Attended,Intake,Dr Bob Stone,,\n" +
		"A2,1002,Ann Lee,02/30/2026,9:00 AM,Attended,Intake,Dr Bob Stone,,\n" +
		"A3,1003,Ann Lee,13/45/2026,9:00 AM,Attended,Intake,Dr Bob Stone,,\n"
	fixed := strings.Replace(bad, "02/30/2026", "02/27/2026", 1)
	p := newPractice(t)
	p.night(noBilling, export{"exports/scheduling/a.csv", bad, 2})
	p.night(export{"exports/scheduling/a.csv", bad + "A4,1004,Ann Lee,01/06/2026,9:00 AM,Attended,Intake,Dr Bob Stone,,\n", 3})
	if got := p.dump("SELECT line FROM rejected_rows"); got != "3\n4" {
		t.Errorf("rejected lines after the file came again: %q, want 3 and 4 once each", got)
	}
	p.night(export{"exports/scheduling/a.csv", fixed, 4})
	once := oneRun(t, export{"exports/scheduling/a.csv", fixed, 4})
	sameAsOneRun(t, p, once, "SELECT line, column_name, message FROM rejected_rows")
}

// An export that failed (a header renamed), then was put back to the content
// loaded before, reads fine: the Data quality sheet no longer lists it as failed,
// as one run over the final folder does not.
func TestFailedExportPutBackIsNoLongerFailed(t *testing.T) {
	good := schedHeader + "A1,1001,Ann Lee,01/05/2026,9:00 AM,Attended,Intake,Dr Bob Stone,,\n"
	bad := strings.Replace(good, "Appointment Date", "Appt Dt", 1)
	p := newPractice(t)
	p.night(noBilling, export{"exports/scheduling/a.csv", good, 2})
	if sum := p.night(export{"exports/scheduling/a.csv", bad, 3}); sum.Count("failed") != 1 {
		t.Fatalf("the renamed header did not fail: %+v", sum.Files)
	}
	p.night(export{"exports/scheduling/a.csv", good, 4})
	if got := p.dump("SELECT path FROM ingest_problems"); got != "" {
		t.Errorf("ingest_problems after the good content came back: %q, want none", got)
	}
}

// An export touched (the same content, a newer time) is skipped as current, and
// ranks by its new time against a later export, as in one run over the folder:
// the ledger kept its old time, so an export with a time between the two won.
func TestTouchedExportRanksByItsNewTime(t *testing.T) {
	a := schedHeader + "A1,1001,Ann Lee,01/05/2026,9:00 AM,Attended,Intake,Dr Bob Stone,,\n"
	fix := schedHeader + "A1,1001,Ann Lee,01/05/2026,9:00 AM,No Show,Intake,Dr Bob Stone,,\n"
	p := newPractice(t)
	p.night(noBilling, export{"exports/scheduling/a.csv", a, 2})
	if sum := p.night(export{"exports/scheduling/a.csv", a, 5}); sum.Count("loaded") != 0 {
		t.Fatalf("the touched export was not skipped: %+v", sum.Files)
	}
	p.night(export{"exports/scheduling/fix.csv", fix, 3})
	once := oneRun(t, export{"exports/scheduling/a.csv", a, 5}, export{"exports/scheduling/fix.csv", fix, 3})
	sameAsOneRun(t, p, once, "SELECT appointment_id, status FROM raw_appointments")
	// And the next night skips it unread, by its path, size and time.
	if sum := p.night(); sum.Count("loaded") != 0 || sum.Count("skipped") != len(sum.Files) {
		t.Errorf("the next night: %+v, want every file skipped", sum.Files)
	}
}

// A touched export raises the time of its path's newest version only: an older
// version of the same content, whose rows a version between them replaced, keeps
// its time, or it raised the time of the version between (fileOrder takes the
// largest time of a path's versions so far) and an undone edit won rows again.
func TestTouchDoesNotRaiseASupersededVersion(t *testing.T) {
	c := schedHeader + "A1,1001,Ann Lee,01/05/2026,9:00 AM,Attended,Intake,Dr Bob Stone,,\n"
	c2 := schedHeader + "A1,1001,Ann Lee,01/05/2026,9:00 AM,Attended,Intake,Dr Bob Stone,,\n" +
		"A2,1002,Ann Lee,01/06/2026,9:00 AM,Attended,Intake,Dr Bob Stone,,\n"
	r := schedHeader + "A2,1002,Ann Lee,01/06/2026,9:00 AM,No Show,Intake,Dr Bob Stone,,\n"
	p := newPractice(t)
	p.night(noBilling, export{"exports/scheduling/a.csv", c, 2})
	p.night(export{"exports/scheduling/a.csv", c2, 3})
	p.night(export{"exports/scheduling/a.csv", c, 4}) // edit undone: reloaded
	if sum := p.night(export{"exports/scheduling/a.csv", c, 6}); sum.Count("loaded") != 0 {
		t.Fatalf("touched not skipped: %+v", sum.Files)
	}
	p.night(export{"exports/scheduling/r.csv", r, 5})
	once := oneRun(t, noBilling, export{"exports/scheduling/a.csv", c, 6}, export{"exports/scheduling/r.csv", r, 5})
	sameAsOneRun(t, p, once, "SELECT appointment_id, status FROM raw_appointments ORDER BY 1")
}

// A mapped header with three digits in a row ("CMS 1500 Referring Provider") is
// kept in the ledger as it is: masked, it read as a moved mapping, and every night
// warned that the settings had changed.
func TestMappedValueLikeHeaderIsNoChangedSetting(t *testing.T) {
	ctx := context.Background()
	p := newPractice(t)
	p.cfg.Billing.Columns = map[string]string{"referring_provider": "CMS 1500 Referring Provider"}
	hdr := strings.Replace(billHeader, "Referring Provider,", "CMS 1500 Referring Provider,", 1)
	p.night(export{"exports/scheduling/a.csv", schedHeader + "A1,1001,Ann Lee,01/05/2026,9:00 AM,Attended,Intake,Dr Bob Stone,,\n", 2},
		export{"exports/billing/b.csv", hdr + "L1,1001,01/05/2026,Dr Bob Stone,,Dr Ref One,,Aetna,90791,200.00,150.00\n", 2})
	if err := pipeline.RecordReadSettings(ctx, p.db, p.cfg, false); err != nil {
		t.Fatal(err)
	}
	ch, err := pipeline.ChangedReadSettings(ctx, p.db, p.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(ch) > 0 {
		t.Errorf("nothing changed, yet: %+v", ch)
	}
}
