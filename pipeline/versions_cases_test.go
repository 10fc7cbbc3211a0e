package pipeline_test

// Which version of a re-exported row stands: cases a review of the newest-file rule found.

import (
	"os"
	"strings"
	"testing"
	"time"
)

const (
	oldA1 = schedHeader +
		"A1,1001,Cal Diaz,01/05/2026,9:00 AM,No Show,Intake,Google,,\n" +
		"A3,1003,Cal Diaz,01/07/2026,9:00 AM,Attended,Intake,Google,,\n"
	newA1 = schedHeader +
		"A1,1001,Ann Lee,01/05/2026,9:00 AM,Attended,Intake,Dr Bob Stone,,\n"
	appts = "SELECT appointment_id, clinician, status FROM raw_appointments ORDER BY ALL"
)

// D1: a ledger from the first release (size/mtime NULL). The older export, whose
// A1 the newer one replaced, is re-read (the path/size/mtime lookup cannot match
// NULL), no longer skipped by its hash (one of its rows is gone), loaded again
// with a real mtime, and beats the newer export, whose mtime is NULL (NULLS FIRST).
func TestLedgerWithoutTimesKeepsCorrections(t *testing.T) {
	p := newPractice(t)
	p.write("exports/billing/b.csv", []byte(billHeader), 1)
	p.write("exports/scheduling/2026-01-06.csv", []byte(oldA1), 10)
	p.ingest()
	p.write("exports/scheduling/2026-01-07.csv", []byte(newA1), 20)
	p.ingest()
	t.Logf("before upgrade:\n%s", p.dump(appts))
	// What a database made by the first release holds: no size, no mtime.
	if _, err := p.db.Exec(`UPDATE ingest_files SET size = NULL, mtime = NULL`); err != nil {
		t.Fatal(err)
	}
	sum := p.ingest()
	for _, f := range sum.Files {
		t.Logf("%s %s loaded=%d replaced=%d", f.Path, f.Status, f.Loaded, f.Replaced)
	}
	got := p.dump(appts)
	t.Logf("after the first run on the upgraded ledger:\n%s", got)
	if !strings.Contains(got, "A1 Ann Lee Attended") {
		t.Errorf("A1 went back to the older export's version")
	}
	for night := 2; night <= 3; night++ {
		sum = p.ingest()
		for _, f := range sum.Files {
			t.Logf("night %d: %s %s loaded=%d replaced=%d", night, f.Path, f.Status, f.Loaded, f.Replaced)
		}
		t.Logf("after night %d:\n%s", night, p.dump(appts))
	}
}

// D2: a copy of an export whose row a newer export replaced. Night by night the
// copy is loaded (its content is no longer all current) and, being the newest
// file, brings back the stale A1. One run over the same final folder (= --rebuild)
// skips the copy (same content taken earlier in the run) and keeps the newer A1.
func TestCopyOfReplacedExportSkipped(t *testing.T) {
	nights := newPractice(t)
	nights.write("exports/billing/b.csv", []byte(billHeader), 1)
	nights.write("exports/scheduling/a.csv", []byte(oldA1), 10)
	nights.ingest()
	nights.write("exports/scheduling/b.csv", []byte(newA1), 20)
	nights.ingest()
	nights.write("exports/scheduling/a copy.csv", []byte(oldA1), 30)
	sum := nights.ingest()
	for _, f := range sum.Files {
		t.Logf("night 3: %s %s loaded=%d", f.Path, f.Status, f.Loaded)
	}

	once := newPractice(t)
	once.write("exports/billing/b.csv", []byte(billHeader), 1)
	once.write("exports/scheduling/a.csv", []byte(oldA1), 10)
	once.write("exports/scheduling/b.csv", []byte(newA1), 20)
	once.write("exports/scheduling/a copy.csv", []byte(oldA1), 30)
	once.ingest()

	a, b := nights.dump(appts), once.dump(appts)
	t.Logf("night by night:\n%s\none run / --rebuild:\n%s", a, b)
	if a != b {
		t.Errorf("nightly and one-run results differ")
	}
}

// D3: the same path re-sent with other content but an older modification time
// (restored from a backup, unzipped, cp -p / rsync -t). The file on disk is the
// only version, and one run over the folder loads it; night by night the rows of
// the version that is no longer on disk keep winning, since its ledger mtime is newer.
func TestSamePathOlderTimeStillReplaces(t *testing.T) {
	bad := schedHeader + "A1,1001,Cal Diaz,01/05/2026,9:00 AM,No Show,Intake,Google,,\n"
	good := schedHeader + "A1,1001,Ann Lee,01/05/2026,9:00 AM,Attended,Intake,Dr Bob Stone,,\n"
	nights := newPractice(t)
	nights.write("exports/billing/b.csv", []byte(billHeader), 1)
	nights.write("exports/scheduling/a.csv", []byte(bad), 20)
	nights.ingest()
	nights.write("exports/scheduling/a.csv", []byte(good), 10) // replaced; its timestamp is older
	sum := nights.ingest()
	for _, f := range sum.Files {
		t.Logf("night 2: %s %s loaded=%d replaced=%d", f.Path, f.Status, f.Loaded, f.Replaced)
	}
	once := newPractice(t)
	once.write("exports/billing/b.csv", []byte(billHeader), 1)
	once.write("exports/scheduling/a.csv", []byte(good), 10)
	once.ingest()
	a, b := nights.dump(appts), once.dump(appts)
	t.Logf("night by night:\n%s\none run / --rebuild over the same folder:\n%s", a, b)
	if a != b {
		t.Errorf("nightly and one-run results differ")
	}
}

// D4 (accounting): an older export loaded on a later night: its row is replaced
// but the run's summary (and run_log) says 0 rows replaced; the credit goes to a
// file of an earlier night and never reaches the summary.
func TestSummaryCountsRowsReplacedTonight(t *testing.T) {
	p := newPractice(t)
	p.write("exports/billing/b.csv", []byte(billHeader), 1)
	p.write("exports/scheduling/new.csv", []byte(newA1), 20)
	p.ingest()
	p.write("exports/scheduling/old.csv", []byte(oldA1), 10)
	sum := p.ingest()
	n := p.count("SELECT count(*) FROM raw_appointments")
	t.Logf("summary: loaded=%d replaced=%d; table rows=%d", sum.Loaded, sum.Replaced, n)
	if sum.Replaced != 1 {
		t.Errorf("summary says %d rows replaced, want 1 (2 loaded, table grew by 1)", sum.Replaced)
	}
}

// D0 (check): files with sub-second modification times (every real file system) are
// found by the path/size/mtime lookup on the next night. If not, every partially
// replaced export would be read and loaded again every night under f682100.
func TestSubSecondTimesFoundOnRerun(t *testing.T) {
	p := newPractice(t)
	p.write("exports/billing/b.csv", []byte(billHeader), 1)
	pa := p.write("exports/scheduling/a.csv", []byte(oldA1), 10)
	pb := p.write("exports/scheduling/b.csv", []byte(newA1), 20)
	for _, f := range []string{pa, pb} {
		st, _ := os.Stat(f)
		mt := st.ModTime().Add(123456789 * time.Nanosecond)
		os.Chtimes(f, mt, mt)
	}
	p.ingest()
	for i := 0; i < 2; i++ {
		sum := p.ingest()
		for _, f := range sum.Files {
			t.Logf("rerun %d: %s %s loaded=%d", i, f.Path, f.Status, f.Loaded)
		}
		if sum.Loaded != 0 {
			t.Errorf("rerun %d loaded %d rows", i, sum.Loaded)
		}
	}
}

// D5: two exports with the same modification time (to the second), one under the
// configuration folder (ledger path relative) and one outside it (ledger path
// absolute). A run orders them by absolute path (expand), the nightly replacement
// by the ledger's display path: '/…' sorts before 'exports/…'. The two disagree.
func TestEqualTimesOrderedByLedgerPath(t *testing.T) {
	run := func(nightly bool) string {
		p := newPractice(t)
		outside := t.TempDir() // sorts after p.dir as an absolute path
		p.cfg.Scheduling.Files = []string{"exports/scheduling/*.csv", outside + "/*.csv"}
		p.write("exports/billing/b.csv", []byte(billHeader), 1)
		p.write("exports/scheduling/in.csv", []byte(oldA1), 10)
		if nightly {
			p.ingest()
		}
		if err := os.WriteFile(outside+"/out.csv", []byte(newA1), 0o644); err != nil {
			t.Fatal(err)
		}
		mt := time.Date(2026, 1, 1, 0, 0, 10, 0, time.UTC)
		os.Chtimes(outside+"/out.csv", mt, mt)
		p.ingest()
		return p.dump(appts)
	}
	a, b := run(true), run(false)
	t.Logf("night by night:\n%s\none run:\n%s", a, b)
	if a != b {
		t.Errorf("nightly and one-run results differ")
	}
}
