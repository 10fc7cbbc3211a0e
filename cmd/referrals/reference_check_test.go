package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// check names a roster column it does not read (a warning, exit 0), and check and
// the run refuse a roster with one clinician on two rows (exit 2, a configuration
// problem, as the roster's other problems), naming the file, both lines and the name.
func TestCheckAndRunOnTheRosterColumnsAndRows(t *testing.T) {
	dir, cfg := practiceDir(t, 0.3, false)
	roster := filepath.Join(dir, "data", "roster.csv")
	lines := strings.Split(strings.TrimRight(mustRead(t, roster), "\n"), "\n")
	lines[0] = "name,aliases,npi,Start Date,End Date,specialties,payers,Accepting new clients,Notes"
	for i := 1; i < len(lines); i++ {
		lines[i] += ","
	}
	write := func() {
		t.Helper()
		if err := os.WriteFile(roster, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write()
	code, out, errOut := runInProcess("check", "--config", cfg, "--quiet")
	if want := "WARNING  roster file " + roster + `: the column "Notes" is not one referrals reads, so it is ignored`; code != 0 || !strings.Contains(out, want) {
		t.Errorf("check: exit %d, want 0 and %q:\n%s%s", code, want, out, errOut)
	}
	if strings.Contains(out, "Start Date") || strings.Contains(out, "Accepting new clients") {
		t.Errorf("check warns of a column it reads:\n%s", out)
	}
	name := strings.SplitN(lines[1], ",", 2)[0]
	lines = append(lines, strings.ToUpper(name)+",,,2021-01-01,,,,yes,")
	write()
	want := "roster " + roster + fmt.Sprintf(": lines 2 and %d name one clinician: %q and %q differ only in case, accents, spaces or punctuation", len(lines), name, strings.ToUpper(name))
	code, out, errOut = runInProcess("check", "--config", cfg, "--quiet")
	if code != exitUsage || !strings.Contains(out, "PROBLEM  reference files: "+want) {
		t.Errorf("check: exit %d, want %d and %q:\n%s%s", code, exitUsage, want, out, errOut)
	}
	code, _, errOut = runInProcess("run", "--config", cfg, "--quiet")
	if code != exitUsage || !strings.Contains(errOut, want) {
		t.Errorf("run: exit %d, want %d and %q:\n%s", code, exitUsage, want, errOut)
	}
}

// The run stops at the first reference file that fails; check names what is wrong
// with each of them, so that one round of edits mends them all: here a roster with
// one clinician on two rows, a directory that lists a referrer twice (a warning),
// and an alias file without its referrer column.
func TestCheckNamesEveryReferenceFilesProblem(t *testing.T) {
	dir, cfg := practiceDir(t, 0.3, false)
	data := filepath.Join(dir, "data")
	appendLine := func(path, line string) []string {
		t.Helper()
		lines := strings.Split(strings.TrimRight(mustRead(t, path), "\n"), "\n")
		lines = append(lines, line)
		if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return lines
	}
	roster := filepath.Join(data, "roster.csv")
	rl := strings.Split(mustRead(t, roster), "\n")
	name := strings.SplitN(rl[1], ",", 2)[0]
	rosterLines := appendLine(roster, rl[1])
	directory := filepath.Join(data, "directory.csv")
	dl := strings.Split(mustRead(t, directory), "\n")
	referrer := strings.SplitN(dl[1], ",", 2)[0]
	dirLines := appendLine(directory, dl[1])
	aliases := filepath.Join(data, "aliases.csv")
	if err := os.WriteFile(aliases, []byte("alias,who\nBob Brown,Robert Brown\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	code, out, errOut := runInProcess("check", "--config", cfg, "--quiet")
	if code != exitUsage {
		t.Errorf("check: exit %d, want %d:\n%s%s", code, exitUsage, out, errOut)
	}
	for what, want := range map[string]string{
		"the roster's two rows":        fmt.Sprintf("PROBLEM  reference files: roster %s: lines 2 and %d both name %q", roster, len(rosterLines), name),
		"the directory's referrer":     fmt.Sprintf("WARNING  directory %s: lines 2 and %d both name %q", directory, len(dirLines), referrer),
		"the alias file's lost column": "PROBLEM  reference files: aliases file " + aliases + ": no referrer column",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("check does not name %s (%q):\n%s", what, want, out)
		}
	}
	if n := strings.Count(out, "PROBLEM  reference files:"); n != 2 {
		t.Errorf("check lists %d reference problems, want 2:\n%s", n, out)
	}
}
