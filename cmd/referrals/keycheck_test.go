package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/referrals/referrals/internal/clientkey"
	"github.com/referrals/referrals/pipeline"
)

// A run with another client-key secret than the one that keyed the database's
// clients stops with exit 2 before loading anything, saying where the secret came
// from and what to do, instead of counting every client as new; so does a run
// whose key file went missing, which must not make a new one. --rebuild keys
// every export again with the new secret, after which the counts are those of the
// first run. A database made before the secret was recorded takes the one in use.
func TestAnotherSecretStopsTheRun(t *testing.T) {
	dir, cfg := practiceDir(t, 1, false)
	dbPath := filepath.Join(dir, "db", "referrals.duckdb")
	keyPath := filepath.Join(dir, "db", "referrals.key")
	t.Setenv(clientkey.EnvVar, "")
	run := func(args ...string) result {
		t.Helper()
		return runBin(t, append([]string{"run", "--config", cfg, "--month", "2026-10", "--quiet"}, args...)...)
	}
	// What the database holds: referrals, rows loaded, runs finished.
	state := func() (referrals, rows, runs int) {
		t.Helper()
		db, err := pipeline.Open(context.Background(), dbPath, pipeline.Settings{Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.QueryRow(`SELECT (SELECT count(*) FROM referrals), (SELECT count(*) FROM raw_appointments) + (SELECT count(*) FROM raw_claim_lines),
			(SELECT count(*) FROM run_log)`).Scan(&referrals, &rows, &runs); err != nil {
			t.Fatal(err)
		}
		return
	}
	if r := run(); r.code != 0 {
		t.Fatalf("first run: exit %d\n%s", r.code, r.stderr)
	}
	referrals, rows, runs := state()

	t.Setenv(clientkey.EnvVar, "another secret of some length")
	r := run()
	if r.code != 2 || !strings.Contains(r.stderr, "the client-key secret from "+clientkey.EnvVar+" is not the one that keyed the clients in the database "+dbPath) ||
		!strings.Contains(r.stderr, "every client would count as new") || !strings.Contains(r.stderr, "--rebuild") {
		t.Errorf("run with another secret: exit %d, want 2 and a message naming %s, the database and --rebuild:\n%s", r.code, clientkey.EnvVar, r.stderr)
	}
	if gotRefs, gotRows, gotRuns := state(); gotRefs != referrals || gotRows != rows || gotRuns != runs {
		t.Errorf("after the refused run: %d referrals, %d rows, %d runs; want %d, %d, %d (nothing done)", gotRefs, gotRows, gotRuns, referrals, rows, runs)
	}

	t.Setenv(clientkey.EnvVar, "")
	key, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(keyPath); err != nil {
		t.Fatal(err)
	}
	r = run()
	if r.code != 2 || !strings.Contains(r.stderr, "the client-key file "+keyPath+" is missing") || !strings.Contains(r.stderr, "Restore the key file") {
		t.Errorf("run without its key file: exit %d, want 2 and a message naming the file:\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(keyPath); !os.IsNotExist(err) {
		t.Errorf("the run made a new key file (%v)", err)
	}
	// The key file restored, the run goes on.
	if err := os.WriteFile(keyPath, key, 0o600); err != nil {
		t.Fatal(err)
	}
	if r := run(); r.code != 0 {
		t.Fatalf("run with the key file restored: exit %d\n%s", r.code, r.stderr)
	}

	// --rebuild with a new secret keys every row again.
	t.Setenv(clientkey.EnvVar, "another secret of some length")
	if r := run("--rebuild"); r.code != 0 {
		t.Fatalf("run --rebuild with another secret: exit %d\n%s", r.code, r.stderr)
	}
	if r := run(); r.code != 0 {
		t.Fatalf("run after the rebuild, same secret: exit %d\n%s", r.code, r.stderr)
	}
	if gotRefs, gotRows, _ := state(); gotRefs != referrals || gotRows != rows {
		t.Errorf("after the rebuild with another secret: %d referrals, %d rows; want %d and %d", gotRefs, gotRows, referrals, rows)
	}

	// A database made before the secret was recorded takes the one in use.
	db, err := pipeline.Open(context.Background(), dbPath, pipeline.Settings{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`DELETE FROM key_check`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if r := run(); r.code != 0 {
		t.Fatalf("run on a database without a recorded secret: exit %d\n%s", r.code, r.stderr)
	}
	t.Setenv(clientkey.EnvVar, "")
	if r := run(); r.code != 2 {
		t.Errorf("run with the key file's secret after the rebuild recorded another: exit %d, want 2\n%s", r.code, r.stderr)
	}
}

// Only a command that keys rows records the secret: an explain with another
// secret leaves the record as it is, and a database without a loaded row (a
// first run whose patterns matched nothing) takes the next run's secret.
func TestOnlyKeyingRecordsTheSecret(t *testing.T) {
	dir, cfg := practiceDir(t, 1, false)
	t.Setenv(clientkey.EnvVar, "")
	body := mustRead(t, cfg)
	empty := strings.Replace(body, `files = ["data/exports/scheduling/*.csv"]`, `files = ["data/none/*.csv"]`, 1)
	empty = strings.Replace(empty, `files = ["data/exports/billing/*.csv"]`, `files = ["data/none/*.csv"]`, 1)
	if err := os.WriteFile(cfg, []byte(empty), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := runBin(t, "run", "--config", cfg, "--month", "2026-10", "--quiet"); r.code != 1 {
		t.Fatalf("run with no export: exit %d, want 1\n%s", r.code, r.stderr)
	}
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(clientkey.EnvVar, "the secret of the first real night")
	if r := runBin(t, "run", "--config", cfg, "--month", "2026-10", "--quiet"); r.code != 0 {
		t.Fatalf("first run with rows, another secret than the empty run's key file: exit %d\n%s", r.code, r.stderr)
	}
	r := runBin(t, "explain", "--config", cfg, "--month", "2026-10", "--quiet", firstReferrer(t, filepath.Join(dir, "out", "referrers-2026-10.csv")))
	if r.code != 0 {
		t.Fatalf("explain: exit %d\n%s", r.code, r.stderr)
	}
	t.Setenv(clientkey.EnvVar, "yet another secret of length")
	if r := runBin(t, "explain", "--config", cfg, "--month", "2026-10", "--quiet", "Anyone"); r.code != 2 {
		t.Errorf("explain with another secret: exit %d, want 2\n%s", r.code, r.stderr)
	}
	t.Setenv(clientkey.EnvVar, "the secret of the first real night")
	if r := runBin(t, "run", "--config", cfg, "--month", "2026-10", "--quiet"); r.code != 0 {
		t.Errorf("run with the secret that keyed the clients: exit %d\n%s", r.code, r.stderr)
	}
	// A database made before the record (none kept): an explain with another
	// secret cannot be checked, and must not record it for the next run to trip on.
	db, err := pipeline.Open(context.Background(), filepath.Join(dir, "db", "referrals.duckdb"), pipeline.Settings{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`DELETE FROM key_check`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	t.Setenv(clientkey.EnvVar, "yet another secret of length")
	if r := runBin(t, "explain", "--config", cfg, "--month", "2026-10", "--quiet", firstReferrer(t, filepath.Join(dir, "out", "referrers-2026-10.csv"))); r.code != 0 {
		t.Errorf("explain on a database without a recorded secret: exit %d\n%s", r.code, r.stderr)
	}
	t.Setenv(clientkey.EnvVar, "the secret of the first real night")
	if r := runBin(t, "run", "--config", cfg, "--month", "2026-10", "--quiet"); r.code != 0 {
		t.Errorf("run after that explain, with the secret that keyed the clients: exit %d\n%s", r.code, r.stderr)
	}
}

// A client-key secret too short, from REFERRALS_CLIENT_KEY or from the key file,
// is a setting to change: exit 2 (as documented for a configuration error), with
// the length it needs, and nothing loaded.
func TestShortSecretIsAConfigurationError(t *testing.T) {
	dir, cfg := practiceDir(t, 0.3, false)
	keyPath := filepath.Join(dir, "db", "referrals.key")
	rows := func() int {
		t.Helper()
		db, err := pipeline.Open(context.Background(), filepath.Join(dir, "db", "referrals.duckdb"), pipeline.Settings{Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := pipeline.EnsureSchema(context.Background(), db); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.QueryRow(`SELECT (SELECT count(*) FROM raw_appointments) + (SELECT count(*) FROM raw_claim_lines)`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, c := range []struct{ env, file, want string }{
		{env: "too-short", want: clientkey.EnvVar + " is too short: use at least 16 characters"},
		{file: "0123456789\n", want: "client key file " + keyPath + " is too short or empty"},
	} {
		t.Setenv(clientkey.EnvVar, c.env)
		if c.file != "" {
			if err := os.MkdirAll(filepath.Dir(keyPath), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(keyPath, []byte(c.file), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		for _, cmd := range []string{"run", "ingest"} {
			r := runBin(t, cmd, "--config", cfg, "--quiet")
			if r.code != exitUsage || !strings.Contains(r.stderr, c.want) {
				t.Errorf("%s with %q: exit %d, want %d and %q:\n%s", cmd, c.want, r.code, exitUsage, c.want, r.stderr)
			}
		}
		if n := rows(); n != 0 {
			t.Errorf("%q: %d rows loaded, want none", c.want, n)
		}
	}
}

// An installation that sets REFERRALS_CLIENT_KEY in its crontab has no key
// file: a command run from a login shell without the variable is told to set
// it as the nightly job does, not to restore a key file from a backup that never
// held one; nor, where a key file with another secret lies beside the
// database, that the key file must be restored.
func TestSecretFromTheEnvironmentIsNamed(t *testing.T) {
	dir, cfg := practiceDir(t, 0.3, false)
	keyPath := filepath.Join(dir, "db", "referrals.key")
	run := func() result {
		t.Helper()
		return runBin(t, "run", "--config", cfg, "--month", "2026-10", "--quiet")
	}
	t.Setenv(clientkey.EnvVar, "the secret cron sets for every practice")
	if r := run(); r.code != 0 {
		t.Fatalf("run with %s set: exit %d\n%s", clientkey.EnvVar, r.code, r.stderr)
	}
	if _, err := os.Stat(keyPath); !os.IsNotExist(err) {
		t.Fatalf("a key file was made although %s was set (%v)", clientkey.EnvVar, err)
	}
	t.Setenv(clientkey.EnvVar, "")
	r := run()
	if r.code != 2 || !strings.Contains(r.stderr, clientkey.EnvVar+" is not set, and the last command that loaded exports") ||
		!strings.Contains(r.stderr, "as the nightly job sets it") || strings.Contains(r.stderr, "Restore the key file") {
		t.Errorf("run without %s: exit %d, want 2 and a message saying to set it:\n%s", clientkey.EnvVar, r.code, r.stderr)
	}
	if r := runBin(t, "check", "--config", cfg, "--quiet"); r.code != 2 || !strings.Contains(r.stdout, clientkey.EnvVar+" is not set, and the last command that loaded exports") {
		t.Errorf("check without %s: exit %d, want 2 and a problem saying to set it:\n%s%s", clientkey.EnvVar, r.code, r.stdout, r.stderr)
	}
	if err := os.WriteFile(keyPath, []byte("a key file that keyed nothing here\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = run()
	if r.code != 2 || !strings.Contains(r.stderr, "they were keyed with "+clientkey.EnvVar+", which is not set here") {
		t.Errorf("run without %s, beside another key file: exit %d, want 2 and a message saying to set it:\n%s", clientkey.EnvVar, r.code, r.stderr)
	}
	if r := runBin(t, "check", "--config", cfg, "--quiet"); r.code != 2 || !strings.Contains(r.stdout, "they were keyed with "+clientkey.EnvVar+", which is not set here") {
		t.Errorf("check without %s, beside another key file: exit %d, want 2 and a problem saying to set it:\n%s%s", clientkey.EnvVar, r.code, r.stdout, r.stderr)
	}
	t.Setenv(clientkey.EnvVar, "the secret cron sets for every practice")
	if r := run(); r.code != 0 {
		t.Errorf("run with %s set again: exit %d\n%s", clientkey.EnvVar, r.code, r.stderr)
	}
}
