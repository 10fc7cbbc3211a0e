package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// runOn runs a command in this process on the day now gives.
func runOn(now func() time.Time, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	err := runEnv(context.Background(), env{getenv: func(string) string { return "" }, stdout: &out, stderr: &errb, now: now}, args)
	return exitCode(err), out.String(), errb.String() + errString(err)
}

// A --month that is the run's own month, not over yet, is run (a mid-month look
// is deliberate) but not as a whole month: run and explain warn that its figures
// are partial, naming today and the exports' last date up to today, and the run's
// summary says so. The default month is the last complete one, and a month that
// has not begun is refused, by the same notion of today.
func TestMonthNotOverIsPartial(t *testing.T) {
	_, cfg := practiceDir(t, 0.3, false) // exports up to 2026-10
	day := func(y int, m time.Month, d int) func() time.Time {
		return func() time.Time { return time.Date(y, m, d, 9, 30, 0, 0, time.Local) }
	}
	midOctober := day(2026, 10, 15)
	warning := regexp.MustCompile(`level=WARN msg="the report month is not over yet, so its figures are partial[^"]*" month=2026-10 today=2026-10-15 data_until=2026-10-(0[1-9]|1[0-5]) config=\S+\n`)

	code, _, errOut := runOn(midOctober, "run", "--config", cfg, "--month", "2026-10", "--quiet")
	if code != 0 || !warning.MatchString(errOut) {
		t.Errorf("run --month 2026-10 on 2026-10-15: exit %d, want 0 and a warning that the month is partial:\n%s", code, errOut)
	}
	code, out, errOut := runOn(midOctober, "run", "--config", cfg, "--month", "2026-10")
	if code != 0 || !strings.Contains(out, "Report month 2026-10 (not over yet: partial figures: the exports run to 2026-10-") {
		t.Errorf("run --month 2026-10 on 2026-10-15: exit %d, want a summary that says the month is partial:\n%s\n%s", code, out, errOut)
	}
	if _, _, errOut := runOn(midOctober, "explain", "--config", cfg, "--month", "2026-10", "--quiet", "Zzyzx"); !warning.MatchString(errOut) {
		t.Errorf("explain --month 2026-10 on 2026-10-15: no warning that the month is partial:\n%s", errOut)
	}

	// A complete month, on the same day or later, and the default month: no such warning.
	for _, c := range []struct {
		now  func() time.Time
		args []string
	}{
		{midOctober, []string{"--month", "2026-09"}},
		{midOctober, nil},
		{day(2026, 11, 1), []string{"--month", "2026-10"}},
	} {
		code, out, errOut := runOn(c.now, append([]string{"run", "--config", cfg}, c.args...)...)
		if code != 0 || strings.Contains(errOut, "not over yet") || strings.Contains(out, "not over yet") {
			t.Errorf("run %q on %s: exit %d, want 0 and no word of a partial month:\n%s\n%s", c.args, c.now().Format("2006-01-02"), code, out, errOut)
		}
		if c.args == nil && !strings.Contains(out, "Report month 2026-09:") {
			t.Errorf("run on 2026-10-15 without --month: want the last complete month, 2026-09:\n%s", out)
		}
	}

	// The month after the run's today has not begun.
	if code, _, errOut := runOn(midOctober, "run", "--config", cfg, "--month", "2026-11"); code != exitUsage || !strings.Contains(errOut, "--month 2026-11 has not begun (this month is 2026-10)") {
		t.Errorf("run --month 2026-11 on 2026-10-15: exit %d, want %d, refused as not begun:\n%s", code, exitUsage, errOut)
	}
}

// A practice whose exports stopped arriving (the export job turned off, files
// dropped in another folder) still matches its old files, so nothing fails: the
// default month falls back to the last month the exports cover, and the run
// warns, with --quiet too, naming the exports' last date and the month
// reported; while the exports reach the last complete month it says nothing.
func TestStaleExportsWarn(t *testing.T) {
	_, cfg := practiceDir(t, 0.3, false) // exports up to 2026-10
	february := func() time.Time { return time.Date(2027, 2, 10, 9, 30, 0, 0, time.Local) }
	code, _, errOut := runOn(february, "run", "--config", cfg, "--quiet")
	if code != 0 || !strings.Contains(errOut, "the exports end before the last complete month") ||
		!strings.Contains(errOut, "exports_end=2026-10-") || !strings.Contains(errOut, "month=2026-10 last_complete_month=2027-01") {
		t.Errorf("run on 2027-02-10 of exports that end in October: exit %d, want 0 and a warning:\n%s", code, errOut)
	}
	november := func() time.Time { return time.Date(2026, 11, 20, 9, 30, 0, 0, time.Local) }
	if code, _, errOut := runOn(november, "run", "--config", cfg, "--quiet"); code != 0 || strings.Contains(errOut, "exports end before") {
		t.Errorf("run on 2026-11-20 of exports that end in October: exit %d, want 0 and no warning:\n%s", code, errOut)
	}

	// The built-in settings run the bundled sample, whose exports end where they
	// end: the README's first command, run in a later year, warns of no feed.
	dir, _ := practiceDir(t, 0.3, false)
	if err := os.Rename(filepath.Join(dir, "data"), filepath.Join(dir, "sample-data")); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	code, out, errOut := runOn(february, "run")
	if code != 0 || strings.Contains(errOut, "exports end before") || !strings.Contains(out, "Report month 2026-10:") {
		t.Errorf("run with the built-in settings on 2027-02-10: exit %d, want 0, the sample's last month and no warning of stale exports:\n%s\n%s", code, out, errOut)
	}
}
