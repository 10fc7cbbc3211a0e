package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/referrals/referrals/internal/sample"
)

// An installation that runs several practices gives each its own
// configuration; one copied from another and half edited must not load its
// exports into the other's database, nor write its reports over the other's:
// the command stops with exit code 2 before changing anything, naming the
// setting and the other practice's file. A configuration moved or renamed (the
// file the database went with is gone) takes its database over.
func TestTwoPracticesCannotShareADatabase(t *testing.T) {
	dirA, cfgA := practiceDir(t, 0.5, false)
	dirB, cfgB := practiceDir(t, 0.5, false)
	otherPractice(t, dirB)
	dbA := filepath.Join(dirA, "db", "referrals.duckdb")
	if r := runBin(t, "run", "--config", cfgA, "--month", "2026-10", "--quiet"); r.code != 0 {
		t.Fatalf("practice A: exit %d\n%s", r.code, r.stderr)
	}
	before := dbCounts(t, dbA)
	// B's copy of the configuration still names A's database (the other practice's
	// exports are laid out the same, so their relative paths are A's too).
	editConfig(t, cfgB, `database = "db/referrals.duckdb"`, `database = "`+dbA+`"`)
	r := runBin(t, "run", "--config", cfgB, "--month", "2026-10", "--quiet")
	if r.code != 2 || !strings.Contains(r.stderr, cfgB+" line 1: database =") || !strings.Contains(r.stderr, "the database of the configuration "+cfgA) ||
		!strings.Contains(r.stderr, "a database of its own") {
		t.Errorf("practice B on A's database: exit %d, want 2 and a message naming B's setting and A's configuration:\n%s", r.code, r.stderr)
	}
	if after := dbCounts(t, dbA); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("practice B changed A's database: %+v, was %+v", after, before)
	}
	if r := runBin(t, "check", "--config", cfgB, "--quiet"); r.code != 2 || !strings.Contains(r.stdout, "PROBLEM  "+cfgB+" line 1: database =") {
		t.Errorf("check of practice B: exit %d, want 2 and the problem:\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := runBin(t, "ingest", "--config", cfgB, "--quiet", "--rebuild"); r.code != 2 {
		t.Errorf("practice B's ingest --rebuild on A's database: exit %d, want 2\n%s", r.code, r.stderr)
	}
	if after := dbCounts(t, dbA); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("practice B's rebuild changed A's database: %+v, was %+v", after, before)
	}
	if _, err := os.Stat(filepath.Join(dirB, "out")); err == nil {
		t.Errorf("practice B wrote reports from A's database")
	}
	// A's configuration renamed: the database goes with the new name.
	moved := filepath.Join(dirA, "practice-a.toml")
	if err := os.Rename(cfgA, moved); err != nil {
		t.Fatal(err)
	}
	if r := runBin(t, "run", "--config", moved, "--month", "2026-10", "--quiet"); r.code != 0 {
		t.Fatalf("practice A under its new configuration name: exit %d\n%s", r.code, r.stderr)
	}
	// And B is still refused: the database is the renamed file's.
	if r := runBin(t, "run", "--config", cfgB, "--month", "2026-10", "--quiet"); r.code != 2 || !strings.Contains(r.stderr, moved) {
		t.Errorf("practice B after A's configuration was renamed: exit %d, want 2 naming %s\n%s", r.code, moved, r.stderr)
	}
}

// Two practices whose configurations name one reports folder: the second's
// run stops (exit 2) before loading anything, and the first's reports stay
// as they were.
func TestTwoPracticesCannotShareAReportsFolder(t *testing.T) {
	dirA, cfgA := practiceDir(t, 0.5, false)
	dirB, cfgB := practiceDir(t, 0.5, false)
	outA := filepath.Join(dirA, "out")
	if r := runBin(t, "run", "--config", cfgA, "--month", "2026-10", "--quiet"); r.code != 0 {
		t.Fatalf("practice A: exit %d\n%s", r.code, r.stderr)
	}
	reportsA := reportFiles(t, outA)
	editConfig(t, cfgB, `out_dir = "out"`, `out_dir = "`+outA+`"`)
	r := runBin(t, "run", "--config", cfgB, "--month", "2026-10", "--quiet")
	if r.code != 2 || !strings.Contains(r.stderr, cfgB+" line 2: out_dir =") || !strings.Contains(r.stderr, filepath.Join(dirA, "db", "referrals.duckdb")) ||
		!strings.Contains(r.stderr, "a reports folder of its own") {
		t.Errorf("practice B into A's reports folder: exit %d, want 2 and a message naming B's setting and A's database:\n%s", r.code, r.stderr)
	}
	if r := runBin(t, "check", "--config", cfgB, "--quiet"); r.code != 2 || !strings.Contains(r.stdout, "PROBLEM  "+cfgB+" line 2: out_dir =") {
		t.Errorf("check of practice B: exit %d, want 2 and the problem:\n%s%s", r.code, r.stdout, r.stderr)
	}
	got := reportFiles(t, outA)
	if len(got) != len(reportsA) {
		t.Errorf("A's reports folder holds %d files after B's run, %d before", len(got), len(reportsA))
	}
	for name, body := range reportsA {
		if got[name] != body {
			t.Errorf("practice B's run changed A's report %s", name)
		}
	}
	// Refused before anything was made: no database, key file or lock of B's
	// (its first run), nothing loaded.
	if entries, err := os.ReadDir(filepath.Join(dirB, "db")); !errors.Is(err, fs.ErrNotExist) {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("practice B's refused run made its database folder (%v), holding %v", err, names)
	}
	// With a folder of its own, B runs.
	editConfig(t, cfgB, `out_dir = "`+outA+`"`, `out_dir = "out"`)
	if r := runBin(t, "run", "--config", cfgB, "--month", "2026-10", "--quiet"); r.code != 0 {
		t.Fatalf("practice B with its own reports folder: exit %d\n%s", r.code, r.stderr)
	}
}

// otherPractice generates another practice's exports in dir/data, laid out as
// practiceDir's (the same file names) but with other clients and appointments.
func otherPractice(t *testing.T, dir string) {
	t.Helper()
	data := filepath.Join(dir, "data")
	if err := os.RemoveAll(data); err != nil {
		t.Fatal(err)
	}
	end, _ := time.Parse("2006-01", "2026-10")
	if _, err := sample.Generate(context.Background(), sample.Options{Out: data, Scale: 0.5, Seed: 8, End: end, Months: 40}); err != nil {
		t.Fatal(err)
	}
}

// Several practices' runs, one after the other in one cron job, mail their
// output together, and their files' paths are relative to each configuration:
// every line a run with --config prints to stderr names its configuration,
// the log records and the error it ends with, in text and in JSON.
func TestOutputNamesThePractice(t *testing.T) {
	dir, cfg := practiceDir(t, 0.5, false)
	if err := os.WriteFile(filepath.Join(dir, "data", "exports", "billing", "claims-bad.csv"), []byte("foo,bar\n1,2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runBin(t, "run", "--config", cfg, "--month", "2026-10", "--quiet")
	if r.code != 6 {
		t.Fatalf("run with a file that cannot be loaded: exit %d, want 6\n%s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	for _, l := range lines {
		if !strings.Contains(l, cfg) {
			t.Errorf("stderr line does not name the configuration %s: %s", cfg, l)
		}
	}
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "referrals: "+cfg+": export files could not be loaded") {
		t.Errorf("last line %q, want it to begin with the configuration", last)
	}
	r = runBin(t, "run", "--config", cfg, "--month", "2026-10", "--quiet", "--log-format", "json")
	lines = strings.Split(strings.TrimSpace(r.stderr), "\n")
	for _, l := range lines {
		var rec struct {
			Config string `json:"config"`
		}
		if err := json.Unmarshal([]byte(l), &rec); err != nil || rec.Config != cfg {
			t.Errorf("JSON record without config %s (%v): %s", cfg, err, l)
		}
	}
}
