package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/referrals/referrals/internal/clientkey"
	"github.com/referrals/referrals/pipeline"
)

// editConfig rewrites the configuration file at cfg, replacing old by new
// (old "" appends new).
func editConfig(t *testing.T, cfg, old, new string) {
	t.Helper()
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if old == "" {
		b = append(b, new...)
	} else {
		if !bytes.Contains(b, []byte(old)) {
			t.Fatalf("%s does not hold %q", cfg, old)
		}
		b = bytes.Replace(b, []byte(old), []byte(new), 1)
	}
	if err := os.WriteFile(cfg, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// fileState is what a file's content and modification time are, to tell
// that a command left it as it was.
func fileState(t *testing.T, path string) string {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		return err.Error()
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.ModTime().String() + " " + string(b)
}

// check finds what the run would refuse of the database and the client key,
// without creating or changing the database or the key file: a secret too
// short, another secret than the one that keyed the database, a database that
// is a folder. A database a run holds is not compared, and that is no problem.
func TestCheckFindsWhatTheRunRefuses(t *testing.T) {
	dir, cfg := practiceDir(t, 1, false)
	dbPath := filepath.Join(dir, "db", "referrals.duckdb")
	keyPath := filepath.Join(dir, "db", "referrals.key")
	check := func() result {
		t.Helper()
		return runBin(t, "check", "--config", cfg, "--quiet")
	}

	t.Setenv(clientkey.EnvVar, "short")
	r := check()
	if r.code != 2 || !strings.Contains(r.stdout, "PROBLEM  client-key secret: "+clientkey.EnvVar+" is too short") {
		t.Errorf("check with a short secret: exit %d, want 2 and the secret named:\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, p := range []string{dbPath, keyPath} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("check made %s (%v)", p, err)
		}
	}

	t.Setenv(clientkey.EnvVar, "")
	if r := runBin(t, "run", "--config", cfg, "--month", "2026-10", "--quiet"); r.code != 0 {
		t.Fatalf("run: exit %d\n%s", r.code, r.stderr)
	}
	db, key := fileState(t, dbPath), fileState(t, keyPath)
	if r := runBin(t, "check", "--config", cfg); r.code != 0 || !strings.Contains(r.stdout, "ok       client key from the key file "+keyPath+": the one the database "+dbPath+" was built with") {
		t.Errorf("check with the database's secret: exit %d, want 0 and the key said to be the database's:\n%s%s", r.code, r.stdout, r.stderr)
	}
	t.Setenv(clientkey.EnvVar, "another secret of some length")
	r = check()
	if r.code != 2 || !strings.Contains(r.stdout, "PROBLEM  the client-key secret from "+clientkey.EnvVar+" is not the one that keyed the clients in the database "+dbPath) {
		t.Errorf("check with another secret: exit %d, want 2 and the secret and the database named:\n%s%s", r.code, r.stdout, r.stderr)
	}
	if db2, key2 := fileState(t, dbPath), fileState(t, keyPath); db2 != db || key2 != key {
		t.Error("check changed the database or the key file")
	}
	if _, err := os.Stat(dbPath + ".wal"); err == nil {
		t.Error("check left a write-ahead log beside the database")
	}

	// A run holds the database: the secret cannot be compared, which is said, and
	// is no problem.
	held, err := pipeline.Open(context.Background(), dbPath, pipeline.Settings{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	r = check()
	held.Close()
	if r.code != 0 || !strings.Contains(r.stdout, "WARNING  client key from "+clientkey.EnvVar+": not compared with the one that keyed the database "+dbPath+", because a run holds the database") {
		t.Errorf("check while a run holds the database: exit %d, want 0 and a warning:\n%s%s", r.code, r.stdout, r.stderr)
	}
	t.Setenv(clientkey.EnvVar, "")

	// database names a folder: check says so, and so does the run, as a setting
	// to change (exit 2), not as DuckDB's "Is a directory".
	editConfig(t, cfg, `database = "db/referrals.duckdb"`, `database = "db"`)
	want := cfg + ` line 1: database = "db" names the folder ` + filepath.Join(dir, "db") + `, not a file: write the database file's path, e.g. database = "db/referrals.duckdb"`
	if r := check(); r.code != 2 || !strings.Contains(r.stdout, "PROBLEM  "+want) {
		t.Errorf("check with a folder for database: exit %d, want 2 and\n%s\ngot:\n%s%s", r.code, want, r.stdout, r.stderr)
	}
	if r := runBin(t, "run", "--config", cfg, "--quiet"); r.code != 2 || !strings.Contains(r.stderr, want) || strings.Contains(r.stderr, "Is a directory") {
		t.Errorf("run with a folder for database: exit %d, want 2 and\n%s\ngot:\n%s", r.code, want, r.stderr)
	}
}

// [duckdb] temp_directory is checked by check and made by the run before it
// loads anything: DuckDB made it only once it spilled, and then failed naming
// no setting.
func TestTempDirectoryIsCheckedAndMadeUpFront(t *testing.T) {
	dir, cfg := practiceDir(t, 1, false)
	// A folder inside a file cannot be made, whoever runs the test.
	if err := os.WriteFile(filepath.Join(dir, "a-file"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	editConfig(t, cfg, "threads = 2\n", "threads = 2\ntemp_directory = \"a-file/spill\"\n")
	r := runBin(t, "check", "--config", cfg, "--quiet")
	if r.code != 2 || !strings.Contains(r.stdout, "PROBLEM  spill folder ([duckdb] temp_directory, "+cfg+" line 5) "+filepath.Join(dir, "a-file", "spill")+": cannot create it") {
		t.Errorf("check: exit %d, want 2 and the setting named:\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runBin(t, "run", "--config", cfg, "--quiet")
	if r.code != 2 || !strings.Contains(r.stderr, cfg+` line 5: [duckdb] temp_directory = "a-file/spill": the spill folder `+filepath.Join(dir, "a-file", "spill")+" cannot be created") {
		t.Errorf("run: exit %d, want 2 and the setting named:\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "db", "referrals.duckdb")); err == nil {
		t.Error("the run opened the database before it made the spill folder")
	}

	// A folder that can be made: check leaves nothing behind, the run makes it
	// for its owner only.
	editConfig(t, cfg, `"a-file/spill"`, `"spill/deeper"`)
	if r := runBin(t, "check", "--config", cfg, "--quiet"); r.code != 0 {
		t.Errorf("check with a spill folder that can be made: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "spill")); !os.IsNotExist(err) {
		t.Errorf("check left the spill folder behind (%v)", err)
	}
	if r := runBin(t, "ingest", "--config", cfg, "--quiet"); r.code != 0 {
		t.Fatalf("ingest: exit %d\n%s", r.code, r.stderr)
	}
	fi, err := os.Stat(filepath.Join(dir, "spill", "deeper"))
	if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Errorf("the run's spill folder: %v, %v; want a folder of mode 0700", fi, err)
	}
}

// An empty out_dir stops the run before it loads anything (it loaded every
// export, then failed), naming the setting; an unknown key is named with its
// line and where it belongs; a source without files is said by check.
func TestConfigurationMistakesAreSaidUpFront(t *testing.T) {
	dir, cfg := practiceDir(t, 1, false)
	editConfig(t, cfg, `out_dir = "out"`, `out_dir = ""`)
	r := runBin(t, "run", "--config", cfg, "--quiet")
	if r.code != 2 || !strings.Contains(r.stderr, cfg+` line 2: out_dir = "" is empty: it must name a folder`) {
		t.Errorf("run with an empty out_dir: exit %d, want 2 naming out_dir and its line:\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "db")); !os.IsNotExist(err) {
		t.Errorf("the run started with an empty out_dir (%v)", err)
	}
	editConfig(t, cfg, `out_dir = ""`, `out_dir = "out"`)

	editConfig(t, cfg, "", "database = \"/var/lib/x.duckdb\"\n")
	r = runBin(t, "check", "--config", cfg)
	if r.code != 2 || !strings.Contains(r.stderr, cfg+" line 13: `database` is a top-level setting but sits under [reference]: move it above the first [section]") {
		t.Errorf("check with a key appended under the last section: exit %d, want 2 and where it belongs:\n%s", r.code, r.stderr)
	}
	editConfig(t, cfg, "database = \"/var/lib/x.duckdb\"\n", "")

	editConfig(t, cfg, `files = ["data/exports/billing/*.csv"]`, `files = []`)
	r = runBin(t, "check", "--config", cfg, "--quiet")
	if r.code != 0 || !strings.Contains(r.stdout, "WARNING  [billing] files is an empty list ("+cfg+" line 8): no billing export file is configured") {
		t.Errorf("check with no billing files: exit %d, want 0 and a warning:\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// --rebuild refuses a folder its pattern matches, saying what to do with it:
// the pattern already ends in *.csv, so that is not the advice.
func TestRebuildSaysAFolderIsOne(t *testing.T) {
	dir, cfg := practiceDir(t, 1, false)
	if err := os.Mkdir(filepath.Join(dir, "data", "exports", "billing", "zz.csv"), 0o700); err != nil {
		t.Fatal(err)
	}
	r := runBin(t, "run", "--config", cfg, "--rebuild", "--quiet")
	if r.code != 2 || !strings.Contains(r.stderr, "zz.csv is a folder, not an export file, and the pattern matches it: rename the folder") || strings.Contains(r.stderr, "end it in *.csv") {
		t.Errorf("rebuild with a folder matched: exit %d, want 2 and the folder named as one:\n%s", r.code, r.stderr)
	}
}

// A database whose folder cannot be made is a configuration error (exit 2)
// naming the setting and its line, as check says, not a failed run.
func TestDatabaseFolderThatCannotBeMade(t *testing.T) {
	dir, cfg := practiceDir(t, 1, false)
	// A folder inside a file cannot be made, whoever runs the test.
	if err := os.WriteFile(filepath.Join(dir, "a-file"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	editConfig(t, cfg, `database = "db/referrals.duckdb"`, `database = "a-file/db/referrals.duckdb"`)
	r := runBin(t, "run", "--config", cfg, "--quiet")
	if r.code != 2 || !strings.Contains(r.stderr, cfg+` line 1: database = "a-file/db/referrals.duckdb": its folder `+filepath.Join(dir, "a-file", "db")+" cannot be created") {
		t.Errorf("run: exit %d, want 2 and the setting named:\n%s", r.code, r.stderr)
	}
}
