package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/referrals/referrals/pipeline"
)

// A system that writes its own status words ("Checked Out - Paid", "No-Show
// (Charged)"): the run warns, naming the most common and what to set, check
// warns once for the source, and the Data quality sheet lists each spelling with
// its appointments. Mapped in [scheduling.statuses], the client who missed the
// first appointment with Jane Doe and attended the next with Sam Roe is Sam Roe's,
// the follow-through counts the attended intakes, and nothing is warned of.
func TestUnknownStatusesAreSaidAndMapped(t *testing.T) {
	sched := "Appointment ID,Client ID,Clinician,Appointment Date,Status,Referral Source\n" +
		"A1,C1,Jane Doe,10/02/2026,No-Show (Charged),Dr Maria Lopez\n" +
		"A2,C1,Sam Roe,10/09/2026,Checked Out - Paid,Dr Maria Lopez\n" +
		"A3,C2,Jane Doe,10/05/2026,Checked Out - Paid,Dr Maria Lopez\n" +
		"A4,C3,Jane Doe,10/06/2026,Checked Out - Paid,Dr Maria Lopez\n" +
		"A5,C3,Jane Doe,10/13/2026,Cancelled,Dr Maria Lopez\n"
	dir, cfg := ownPractice(t, map[string]string{"scheduling/a.csv": sched}, "")
	editConfig(t, cfg, `files = ["exports/billing/*.csv"]`, `files = []`)

	r := runBin(t, "run", "--config", cfg, "--month", "2026-10", "--quiet")
	if r.code != 0 {
		t.Fatalf("run: exit %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"some appointment statuses are none of the words the tool knows",
		`most_common="\"Checked Out - Paid\" (3), \"No-Show (Charged)\" (1)"`, "[scheduling.statuses]", `attended = [\"Checked Out - Paid\"]`} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the run did not say %s:\n%s", want, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "Cancelled") {
		t.Errorf("the run warned of a status it knows:\n%s", r.stderr)
	}
	book := dir + "/out/referrals-2026-10.xlsx"
	quality := strings.Join(sheetRows(t, book, "Data quality"), "\n")
	for _, want := range []string{"Appointment statuses not understood", "Checked Out - Paid | 3", "No-Show (Charged) | 1"} {
		if !strings.Contains(quality, want) {
			t.Errorf("the Data quality sheet does not list %q:\n%s", want, quality)
		}
	}
	if got := clinicianRow(t, book, "Jane Doe"); !strings.HasPrefix(got, "Jane Doe | 3 |") {
		t.Errorf("without the mapping, Jane Doe should have all three referrals (the first appointment's clinician): %s", got)
	}
	c := runBin(t, "check", "--config", cfg)
	if !strings.Contains(c.stdout, `WARNING  scheduling: 2 status spelling(s) in 1 file(s) are none of the words the tool knows (rows read): "Checked Out - Paid" (3), "No-Show (Charged)" (1)`) {
		t.Errorf("check did not warn of the statuses:\n%s", c.stdout)
	}

	editConfig(t, cfg, "", "[scheduling.statuses]\nattended = [\"Checked Out - Paid\"]\nno_show = [\"no show (charged)\"]\n")
	r = runBin(t, "run", "--config", cfg, "--month", "2026-10", "--quiet")
	if r.code != 0 {
		t.Fatalf("run: exit %d\n%s", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, "statuses") {
		t.Errorf("the run warned of mapped statuses:\n%s", r.stderr)
	}
	quality = strings.Join(sheetRows(t, book, "Data quality"), "\n")
	if strings.Contains(quality, "Checked Out - Paid |") {
		t.Errorf("the Data quality sheet still lists a mapped status:\n%s", quality)
	}
	if got := clinicianRow(t, book, "Sam Roe"); !strings.HasPrefix(got, "Sam Roe | 1 |") {
		t.Errorf("with the mapping, the client who attended with Sam Roe is his: %s", got)
	}
	if got := soleReferrerCell(t, book, "Attended intakes"); got != "3" {
		t.Errorf("attended intakes = %s, want 3", got)
	}
	if c := runBin(t, "check", "--config", cfg); strings.Contains(c.stdout, "status spelling") {
		t.Errorf("check warned of mapped statuses:\n%s", c.stdout)
	}
}

// clinicianRow is the Clinicians sheet's row of the clinician, "" when none.
func clinicianRow(t *testing.T, book, name string) string {
	t.Helper()
	for _, row := range sheetRows(t, book, "Clinicians") {
		if strings.HasPrefix(row, name+" |") {
			return row
		}
	}
	return ""
}

// The README's first command, the built-in settings on the bundled sample, warns
// of no status: the sample writes only words the tool knows.
func TestBundledSampleHasNoUnknownStatus(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "sample-data"), os.DirFS(filepath.Join("..", "..", "sample-data"))); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary(t), "run", "--quiet")
	cmd.Dir = dir
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("run: %v\n%s", err, errb.String())
	}
	if strings.Contains(errb.String(), "statuses") {
		t.Errorf("the bundled sample's run warned of statuses:\n%s", errb.String())
	}
}

// A database made before the statuses were counted counts them on its first run
// with this version, whether or not an export file is new that night: the
// statuses no class takes are said then, not from the night a file arrives.
func TestDatabaseFromBeforeCountsItsStatuses(t *testing.T) {
	sched := "Appointment ID,Client ID,Clinician,Appointment Date,Status,Referral Source\n" +
		"A1,C1,Jane Doe,10/02/2026,Checked Out - Paid,Dr Maria Lopez\n"
	dir, cfg := ownPractice(t, map[string]string{"scheduling/a.csv": sched}, "")
	editConfig(t, cfg, `files = ["exports/billing/*.csv"]`, `files = []`)
	if r := runBin(t, "run", "--config", cfg, "--month", "2026-10", "--quiet"); r.code != 0 || !strings.Contains(r.stderr, "statuses are none") {
		t.Fatalf("run: exit %d, want 0 and the statuses warned of:\n%s", r.code, r.stderr)
	}
	// As a database of the last version has it: no counts, nor the mark that they were made.
	db, err := pipeline.Open(context.Background(), filepath.Join(dir, "out", "referrals.duckdb"), pipeline.Settings{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DELETE FROM status_counts`, `DELETE FROM status_counts_state`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	r := runBin(t, "run", "--config", cfg, "--month", "2026-10", "--quiet")
	if r.code != 0 || !strings.Contains(r.stderr, `most_common="\"Checked Out - Paid\" (1)"`) {
		t.Errorf("a night without a new file, on a database without status counts: exit %d, want 0 and the status warned of:\n%s", r.code, r.stderr)
	}
}

// A status written without a letter ("✓" for attended, "-" for a booking not yet
// confirmed) is none of the words the tool knows: the run names it and says to
// map it under [scheduling.statuses]. Mapped, it was refused ("has no letter a to
// z ... leave it out"), so the warning came back every night and the ticked
// appointments never counted as attended. It is compared as written now (case
// and the spaces around it aside).
func TestStatusWithoutLettersCanBeMapped(t *testing.T) {
	sched := "Appointment ID,Client ID,Clinician,Appointment Date,Status,Referral Source\n" +
		"A1,C1,Jane Doe,10/02/2026,✓,Dr Maria Lopez\n" +
		"A2,C2,Jane Doe,10/05/2026, ✓ ,Dr Maria Lopez\n" +
		"A3,C3,Jane Doe,10/06/2026,-,Dr Maria Lopez\n"
	dir, cfg := ownPractice(t, map[string]string{"scheduling/a.csv": sched}, "")
	editConfig(t, cfg, `files = ["exports/billing/*.csv"]`, `files = []`)
	r := runBin(t, "run", "--config", cfg, "--month", "2026-10", "--quiet")
	if r.code != 0 || !strings.Contains(r.stderr, `\"✓\" (`) {
		t.Fatalf("run: exit %d, want 0 and ✓ named as not understood:\n%s", r.code, r.stderr)
	}
	editConfig(t, cfg, "", "[scheduling.statuses]\nattended = [\"✓\"]\nother = [\"-\"]\n")
	if c := runBin(t, "check", "--config", cfg); c.code != 0 || strings.Contains(c.stdout, "status spelling") {
		t.Errorf("check with ✓ and - mapped: exit %d, want 0 and no status warned of:\n%s%s", c.code, c.stdout, c.stderr)
	}
	r = runBin(t, "run", "--config", cfg, "--month", "2026-10", "--quiet")
	if r.code != 0 || strings.Contains(r.stderr, "statuses") {
		t.Fatalf("run with ✓ and - mapped: exit %d, want 0 and no status warned of:\n%s", r.code, r.stderr)
	}
	if got := soleReferrerCell(t, dir+"/out/referrals-2026-10.xlsx", "Attended intakes"); got != "2" {
		t.Errorf("attended intakes = %s, want 2 (the two ticked appointments)", got)
	}
}
