package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/referrals/referrals/internal/sample"
	"github.com/referrals/referrals/pipeline"
	"github.com/referrals/referrals/queries"
)

// These tests start the real referrals binary, as cron would.

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// TestMain removes the binary the tests built: each run of the package left
// one (about 100 MB) in the temporary folder, which filled the disk.
func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

func binary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "referrals-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "referrals")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// practiceDir generates sample exports and a configuration for them.
func practiceDir(t *testing.T, scale float64, single bool) (dir, cfg string) {
	t.Helper()
	dir = t.TempDir()
	end, _ := time.Parse("2006-01", "2026-10")
	if _, err := sample.Generate(context.Background(), sample.Options{Out: filepath.Join(dir, "data"), Scale: scale, Seed: 7, End: end, Months: 40, SingleFile: single}); err != nil {
		t.Fatal(err)
	}
	cfg = filepath.Join(dir, "referrals.toml")
	body := `database = "db/referrals.duckdb"
out_dir = "out"
[duckdb]
threads = 2
[scheduling]
files = ["data/exports/scheduling/*.csv"]
[billing]
files = ["data/exports/billing/*.csv"]
[reference]
roster = "data/roster.csv"
directory = "data/directory.csv"
aliases = "data/aliases.csv"
`
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, cfg
}

type result struct {
	code           int
	stdout, stderr string
}

func runBin(t *testing.T, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errb.String()}
}

func TestSecondRunGetsLockExitCode(t *testing.T) {
	dir, cfg := practiceDir(t, 4, false)
	first := exec.Command(binary(t), "run", "--config", cfg, "--month", "2026-10")
	var firstErr bytes.Buffer
	first.Stderr = &firstErr
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	lock := filepath.Join(dir, "db", "referrals.duckdb.lock")
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, _ := os.ReadFile(lock)
		if bytes.Contains(b, []byte(fmt.Sprintf("PID %d", first.Process.Pid))) {
			break
		}
		if time.Now().After(deadline) {
			first.Process.Kill()
			t.Fatalf("first run never took the lock; stderr:\n%s", firstErr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	second := runBin(t, "run", "--config", cfg, "--month", "2026-10")
	if err := first.Wait(); err != nil {
		t.Fatalf("first run failed: %v\n%s", err, firstErr.String())
	}
	if second.code != exitLocked {
		t.Fatalf("second run exit code %d, want %d (lock held); stderr:\n%s", second.code, exitLocked, second.stderr)
	}
	for _, want := range []string{fmt.Sprintf("PID %d", first.Process.Pid), "started", "referrals run"} {
		if !strings.Contains(second.stderr, want) {
			t.Errorf("second run's message %q does not name %q", second.stderr, want)
		}
	}
	if strings.Contains(second.stderr, "Could not set lock") {
		t.Errorf("second run shows DuckDB's raw lock error: %s", second.stderr)
	}
	// The lock is gone with the first run: a third run goes ahead.
	if r := runBin(t, "run", "--config", cfg, "--month", "2026-10", "--quiet"); r.code != 0 {
		t.Fatalf("run after the first finished: exit %d\n%s", r.code, r.stderr)
	}
}

type counts map[string]int64

func dbCounts(t *testing.T, path string) counts {
	t.Helper()
	db, err := pipeline.Open(context.Background(), path, pipeline.Settings{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c := counts{}
	for _, q := range []string{
		"SELECT count(*) FROM raw_appointments",
		"SELECT count(DISTINCT appointment_id) FROM raw_appointments",
		"SELECT count(*) FROM raw_claim_lines",
		"SELECT count(*) FROM ingest_files",
		"SELECT count(*) FROM rejected_rows",
		"SELECT count(*) FROM referrals",
		"SELECT sum(referrals) FROM referrer_status",
	} {
		var n int64
		if err := db.QueryRow(q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		c[q] = n
	}
	return c
}

// A run killed with SIGKILL at several points, then a normal run, must
// leave the same database as one clean run: nothing lost, nothing twice.
func TestKilledRunRecovers(t *testing.T) {
	dir, cfg := practiceDir(t, 12, true)
	// The clean reference: a separate database from the same files.
	cleanCfg := strings.Replace(mustRead(t, cfg), "db/referrals.duckdb", "clean/referrals.duckdb", 1)
	cleanPath := filepath.Join(dir, "clean.toml")
	if err := os.WriteFile(cleanPath, []byte(strings.Replace(cleanCfg, `out_dir = "out"`, `out_dir = "clean-out"`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := runBin(t, "run", "--config", cleanPath, "--month", "2026-10", "--quiet"); r.code != 0 {
		t.Fatalf("clean run: exit %d\n%s", r.code, r.stderr)
	}
	want := dbCounts(t, filepath.Join(dir, "clean", "referrals.duckdb"))

	for _, killAt := range []string{"mid-ingestion", "after-ingest", "during-reports"} {
		t.Run(killAt, func(t *testing.T) {
			os.RemoveAll(filepath.Join(dir, "db"))
			cmd := exec.Command(binary(t), "run", "--config", cfg, "--month", "2026-10", "--log-format", "json", "--verbose")
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(stderr)
			killed := false
			for sc.Scan() {
				line := sc.Text()
				trigger := false
				switch killAt {
				case "mid-ingestion":
					// The scheduling export is loading: the first log line
					// comes after the reference files, before any export
					// finished; kill shortly after.
					if strings.Contains(line, `"reference files loaded"`) {
						time.Sleep(150 * time.Millisecond)
						trigger = true
					}
				case "after-ingest":
					trigger = strings.Contains(line, `"ingest done"`)
				case "during-reports":
					trigger = strings.Contains(line, `"data checks passed"`)
				}
				if trigger {
					cmd.Process.Signal(syscall.SIGKILL)
					killed = true
					break
				}
			}
			cmd.Wait()
			if !killed {
				t.Fatalf("the run ended before the kill point %s", killAt)
			}
			if r := runBin(t, "run", "--config", cfg, "--month", "2026-10", "--quiet"); r.code != 0 {
				t.Fatalf("run after the kill: exit %d\n%s", r.code, r.stderr)
			}
			got := dbCounts(t, filepath.Join(dir, "db", "referrals.duckdb"))
			for q, n := range want {
				if got[q] != n {
					t.Errorf("after kill %s: %s = %d, clean run has %d", killAt, q, got[q], n)
				}
			}
			// No half-written report is left behind under the final name.
			entries, _ := os.ReadDir(filepath.Join(dir, "out"))
			for _, e := range entries {
				if e.Name() != outDirMarker && (strings.HasPrefix(e.Name(), ".") || strings.Contains(e.Name(), ".tmp")) {
					t.Errorf("temporary file left in out/: %s", e.Name())
				}
			}
		})
	}
}

func TestTwoRunsGiveByteIdenticalCSV(t *testing.T) {
	dir, cfg := practiceDir(t, 1, false)
	csvPath := filepath.Join(dir, "out", "referrers-2026-10.csv")
	var got [][]byte
	for i, args := range [][]string{
		{"run", "--config", cfg, "--quiet"},
		{"run", "--config", cfg, "--quiet"},
		{"run", "--config", cfg, "--quiet", "--rebuild"},
	} {
		if r := runBin(t, args...); r.code != 0 {
			t.Fatalf("run %d: exit %d\n%s", i+1, r.code, r.stderr)
		}
		b, err := os.ReadFile(csvPath)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, b)
	}
	if len(got[0]) < 200 {
		t.Fatalf("referrer CSV is suspiciously small:\n%s", got[0])
	}
	for i := 1; i < len(got); i++ {
		if !bytes.Equal(got[0], got[i]) {
			t.Errorf("run %d's referrer CSV differs from run 1's", i+1)
		}
	}
	// The runs keep the workbook's model-only sheets beside the database.
	parts, _ := filepath.Glob(filepath.Join(dir, "db", "referrals.duckdb"+reportCacheSuffix, "*.part"))
	if len(parts) != 5 {
		t.Errorf("the report cache holds %q, want the five sheets that read only model tables", parts)
	}
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Each finished run and ingest leaves one row in run_log, in order: what it loaded and
// when; a killed or failed command leaves none.
func TestRunLogRecordsEachCommand(t *testing.T) {
	dir, cfg := practiceDir(t, 1, false)
	for i, args := range [][]string{
		{"run", "--config", cfg, "--month", "2026-10", "--quiet"},
		{"ingest", "--config", cfg, "--quiet"},
		{"run", "--config", cfg, "--month", "2026-09", "--quiet"},
		{"run", "--config", cfg, "--month", "not-a-month", "--quiet"},
	} {
		r := runBin(t, args...)
		if (r.code != 0) != (i == 3) {
			t.Fatalf("%q: exit %d\n%s", args, r.code, r.stderr)
		}
	}
	db, err := pipeline.Open(context.Background(), filepath.Join(dir, "db", "referrals.duckdb"), pipeline.Settings{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT command, coalesce(strftime(report_month, '%Y-%m'), ''), files_loaded, rows_loaded,
		started_at <= finished_at, finished_at > now()::TIMESTAMP - INTERVAL 10 MINUTE FROM run_log ORDER BY started_at`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var cmd, month string
		var files, loaded int64
		var ordered, recent bool
		if err := rows.Scan(&cmd, &month, &files, &loaded, &ordered, &recent); err != nil {
			t.Fatal(err)
		}
		if !ordered || !recent {
			t.Errorf("%s %s: started/finished times are wrong (ordered %v, recent %v)", cmd, month, ordered, recent)
		}
		if (len(got) == 0) != (files > 0 && loaded > 0) {
			t.Errorf("%s %s loaded %d files, %d rows: only the first command loads anything", cmd, month, files, loaded)
		}
		got = append(got, cmd+" "+month)
	}
	if want := []string{"run 2026-10", "ingest ", "run 2026-09"}; !slices.Equal(got, want) {
		t.Errorf("run_log = %q, want %q", got, want)
	}
}

// A database made before client keys were 64-bit numbers, with the HMAC's 64
// hex characters (before November 2026) or the UHUGEINT of its first 128 bits
// (November 2026), is converted by the next run, which says so, rebuilds the
// tables from the raw rows and writes the same referrer CSV as before.
func TestRunConvertsOlderClientKeys(t *testing.T) {
	for _, old := range []struct{ name, typ, using string }{
		// The number's 16 hex digits, then 48 more that the conversion ignores (the
		// rest of the old HMAC).
		{"hex", "VARCHAR", "lpad(lower(hex(client_key)), 16, '0') || repeat('e', 48)"},
		// The number as the high word, and a low word that the conversion ignores.
		{"128-bit", "UHUGEINT", "(client_key::UHUGEINT << 64) | 987654321"},
	} {
		t.Run(old.name, func(t *testing.T) {
			dir, cfg := practiceDir(t, 1, false)
			if r := runBin(t, "run", "--config", cfg, "--quiet"); r.code != 0 {
				t.Fatalf("first run: exit %d\n%s", r.code, r.stderr)
			}
			csvPath := filepath.Join(dir, "out", "referrers-2026-10.csv")
			before := mustRead(t, csvPath)
			db, err := pipeline.Open(context.Background(), filepath.Join(dir, "db", "referrals.duckdb"), pipeline.Settings{Threads: 1})
			if err != nil {
				t.Fatal(err)
			}
			for _, table := range []string{"raw_appointments", "raw_claim_lines", "dirty_clients"} {
				if _, err := db.Exec(`ALTER TABLE ` + table + ` ALTER client_key SET DATA TYPE ` + old.typ + ` USING ` + old.using); err != nil {
					t.Fatal(err)
				}
			}
			db.Close()
			r := runBin(t, "run", "--config", cfg, "--log-format", "json")
			if r.code != 0 {
				t.Fatalf("run on the old database: exit %d\n%s", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, "client keys converted to this version's 64-bit numbers") {
				t.Errorf("the run did not say it converted the client keys:\n%s", r.stderr)
			}
			clientModels, _ := queries.ClientModels()
			martModels, _ := queries.Models()
			if !strings.Contains(r.stderr, fmt.Sprintf(`"models":%d,"unchanged":0`, len(clientModels)+len(martModels))) {
				t.Errorf("the run after the conversion did not rebuild every model:\n%s", r.stderr)
			}
			if after := mustRead(t, csvPath); after != before {
				t.Errorf("the referrer CSV changed after the conversion")
			}
			r = runBin(t, "run", "--config", cfg, "--log-format", "json")
			if r.code != 0 || strings.Contains(r.stderr, "client keys converted") {
				t.Errorf("a second run converted again or failed (exit %d):\n%s", r.code, r.stderr)
			}
		})
	}
}

// The bench runs the floor, a full run and a night on a small generated practice
// and prints its table: the medians, each phase, the three ratios against their
// targets and the database files' sizes.
func TestBenchPrintsItsTable(t *testing.T) {
	r := runBin(t, "bench", "--rows", "20000", "--reps", "1", "--dir", t.TempDir())
	if r.code != 0 {
		t.Fatalf("bench exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^  rep 1: floor \S+s \(job's format \S+s\), full run \S+s, incremental \S+s$`),
		regexp.MustCompile(`(?m)^floor \(bare read_csv\) +\S+s +\d+ +[\d.]+ +\d+ MB$`),
		regexp.MustCompile(`(?m)^  in the job's format +\S+s +\d+ +[\d.]+ +\d+ MB$`),
		regexp.MustCompile(`(?m)^full run +\S+s +\d+ +[\d.]+ +\d+ MB$`),
		regexp.MustCompile(`(?m)^  ingest +\S+s$`),
		regexp.MustCompile(`(?m)^  models +\S+s$`),
		regexp.MustCompile(`(?m)^incremental night +\S+s `),
		regexp.MustCompile(`(?m)^full run / floor: +[\d.]+x \(target 1\.5x; [\d.]+x the fastest floor, \S+s; [\d.]+x the floor in the job's format\)$`),
		regexp.MustCompile(`(?m)^incremental / full run: +[\d.]+% \(target 5%\)$`),
		regexp.MustCompile(`(?m)^peak RSS full run: +\d+ MB \(target 1536 MB\)$`),
		regexp.MustCompile(`(?m)^database file: +[1-9]\d* MB after the full run, \d+ MB after the floor \(\d+ MB in the job's format\)$`),
	} {
		if !want.MatchString(r.stdout) {
			t.Errorf("bench output lacks %s:\n%s", want, r.stdout)
		}
	}
}

// With --quiet (cron mails what it prints) a run still warns of each file with
// rejected rows, naming the file, the count and where to read the rows, but not
// the rows themselves; a second run, which loads nothing, prints nothing.
func TestQuietRunWarnsOfRejectedRows(t *testing.T) {
	dir, cfg := practiceDir(t, 1, false)
	r := runBin(t, "run", "--config", cfg, "--month", "2026-10", "--quiet")
	if r.code != 0 {
		t.Fatalf("run: exit %d\n%s", r.code, r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("--quiet printed on stdout:\n%s", r.stdout)
	}
	db, err := pipeline.Open(context.Background(), filepath.Join(dir, "db", "referrals.duckdb"), pipeline.Settings{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(`SELECT path, count(*), string_agg(message, '|') FROM rejected_rows
		WHERE error_type NOT IN ('LOST ROWS', 'NUL BYTES') GROUP BY path ORDER BY path`)
	if err != nil {
		t.Fatal(err)
	}
	files := 0
	for rows.Next() {
		var path, messages string
		var n int
		if err := rows.Scan(&path, &n, &messages); err != nil {
			t.Fatal(err)
		}
		files++
		line := regexp.MustCompile(`(?m)^.*level=WARN msg="rows rejected[^"]*".* file=` + regexp.QuoteMeta(path) + ` rejected=` + fmt.Sprint(n) + ` .*rejected_rows.*Data quality sheet.*$`)
		if !line.MatchString(r.stderr) {
			t.Errorf("no warning of %d rejected row(s) in %s naming rejected_rows and the Data quality sheet:\n%s", n, path, r.stderr)
		}
		for _, m := range strings.Split(messages, "|") {
			if strings.Contains(r.stderr, m) {
				t.Errorf("the warning shows a rejected row's content %q", m)
			}
		}
	}
	rows.Close()
	db.Close()
	if files == 0 {
		t.Fatal("the sample exports had no rejected row; the test proves nothing")
	}
	if n := strings.Count(r.stderr, "level=WARN"); n != files {
		t.Errorf("%d warnings for %d files with rejected rows:\n%s", n, files, r.stderr)
	}
	r = runBin(t, "run", "--config", cfg, "--month", "2026-10", "--quiet")
	if r.code != 0 || r.stdout != "" || r.stderr != "" {
		t.Errorf("second quiet run: exit %d, stdout %q, stderr %q; want nothing", r.code, r.stdout, r.stderr)
	}
}

// firstReferrer is the first referrer named in a run's CRM export.
func firstReferrer(t *testing.T, csvPath string) string {
	t.Helper()
	lines := strings.Split(strings.TrimPrefix(mustRead(t, csvPath), "\ufeff"), "\n") // the CSV opens with a BOM for Excel
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "referrer,") {
		t.Fatalf("%s has no referrer rows", csvPath)
	}
	name, _, _ := strings.Cut(lines[1], ",")
	return strings.Trim(name, `"`)
}

var explainMonth = regexp.MustCompile(`(?m)^.*, report month (\d{4}-\d{2})$`)

func explainedMonth(t *testing.T, r result) string {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("explain: exit %d\n%s", r.code, r.stderr)
	}
	m := explainMonth.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("explain printed no report month:\n%s", r.stdout)
	}
	return m[1]
}

// Without --month, explain explains the last run's month, whatever month an
// explain --month built the stage tables for in between.
func TestExplainDefaultsToLastRunsMonth(t *testing.T) {
	dir, cfg := practiceDir(t, 1, false)
	// Before any run, and after an ingest alone: a usage error (exit 2) saying what to do.
	if r := runBin(t, "explain", "--config", cfg, "--quiet", "Anyone"); r.code != exitUsage || !strings.Contains(r.stderr, "run `referrals run` first, or give --month") {
		t.Errorf("explain before any run: exit %d, want %d and a message saying to run first:\n%s", r.code, exitUsage, r.stderr)
	}
	if r := runBin(t, "ingest", "--config", cfg, "--quiet"); r.code != 0 {
		t.Fatalf("ingest: exit %d\n%s", r.code, r.stderr)
	}
	if r := runBin(t, "explain", "--config", cfg, "--quiet", "Anyone"); r.code != exitUsage || !strings.Contains(r.stderr, "run `referrals run` first, or give --month") {
		t.Errorf("explain after an ingest alone: exit %d, want %d and a message saying to run first:\n%s", r.code, exitUsage, r.stderr)
	}
	if r := runBin(t, "run", "--config", cfg, "--month", "2026-09", "--quiet"); r.code != 0 {
		t.Fatalf("run: exit %d\n%s", r.code, r.stderr)
	}
	name := firstReferrer(t, filepath.Join(dir, "out", "referrers-2026-09.csv"))
	for _, step := range []struct{ month, want string }{
		{"2024-01", "2024-01"},
		{"", "2026-09"},
		{"2025-06", "2025-06"},
		{"", "2026-09"},
		{"", "2026-09"},
	} {
		args := []string{"explain", "--config", cfg, "--quiet"}
		if step.month != "" {
			args = append(args, "--month", step.month)
		}
		if got := explainedMonth(t, runBin(t, append(args, name)...)); got != step.want {
			t.Errorf("%q: report month %s, want %s", args, got, step.want)
		}
	}
	// A later run moves the default with it.
	if r := runBin(t, "run", "--config", cfg, "--month", "2026-10", "--quiet"); r.code != 0 {
		t.Fatalf("run: exit %d\n%s", r.code, r.stderr)
	}
	if got := explainedMonth(t, runBin(t, "explain", "--config", cfg, "--quiet", "--month", "2026-01", name)); got != "2026-01" {
		t.Errorf("explain --month 2026-01: report month %s", got)
	}
	if got := explainedMonth(t, runBin(t, "explain", "--config", cfg, "--quiet", name)); got != "2026-10" {
		t.Errorf("explain after a run for 2026-10: report month %s, want 2026-10", got)
	}
}

// explain takes its flags after the name too, and a name that matches no
// referrer is a usage error (exit 2) that suggests the closest names.
func TestExplainArguments(t *testing.T) {
	dir, cfg := practiceDir(t, 1, false)
	if r := runBin(t, "run", "--config", cfg, "--month", "2026-10", "--quiet"); r.code != 0 {
		t.Fatalf("run: exit %d\n%s", r.code, r.stderr)
	}
	name := firstReferrer(t, filepath.Join(dir, "out", "referrers-2026-10.csv"))
	r := runBin(t, "explain", name, "--config", cfg, "--month", "2026-08", "--quiet")
	if got := explainedMonth(t, r); got != "2026-08" || !strings.HasPrefix(r.stdout, name+" ") {
		t.Errorf("explain NAME --month 2026-08: month %s, output starts %q; want 2026-08 and %q", got, strings.SplitN(r.stdout, "\n", 2)[0], name)
	}
	if r.stderr != "" {
		t.Errorf("explain NAME --quiet logged:\n%s", r.stderr)
	}
	typo := name[:len(name)-1] + "x" + name[len(name)-1:]
	for _, c := range []struct{ typed, want string }{
		{typo, `did you mean "` + name + `"`},
		{"Zzyzx Qqq", `no referrer or channel matches "Zzyzx Qqq"`},
	} {
		r := runBin(t, "explain", "--config", cfg, "--quiet", c.typed)
		if r.code != exitUsage || !strings.Contains(r.stderr, c.want) {
			t.Errorf("explain %q: exit %d, want %d and %q:\n%s", c.typed, r.code, exitUsage, c.want, r.stderr)
		}
	}
	// A name that starts with a dash is read as a flag: the message says to put
	// -- before it, and after -- it is a name.
	r = runBin(t, "explain", "--config", cfg, "--quiet", "-2+3 Health")
	if r.code != exitUsage || !strings.Contains(r.stderr, `put -- before it, as in: referrals explain -- "-2+3 Health"`) {
		t.Errorf("explain -2+3 Health: exit %d, want %d and how to give such a name:\n%s", r.code, exitUsage, r.stderr)
	}
	r = runBin(t, "explain", "--config", cfg, "--quiet", "--", "-2+3 Health")
	if r.code != exitUsage || !strings.Contains(r.stderr, `no referrer or channel matches "-2+3 Health"`) {
		t.Errorf("explain -- -2+3 Health: exit %d, want %d and no match:\n%s", r.code, exitUsage, r.stderr)
	}
}

// A --month outside the months the exports cover (a typo in the year) is
// warned of, even with --quiet, and the warning names the months covered; a
// month inside them is not. A month that has not begun is refused (exit 2).
func TestMonthOutsideTheDataWarns(t *testing.T) {
	_, cfg := practiceDir(t, 1, false) // 40 months up to 2026-10
	if r := runBin(t, "run", "--config", cfg, "--month", "2026-10", "--quiet"); r.code != 0 {
		t.Fatalf("run: exit %d\n%s", r.code, r.stderr)
	}
	warning := regexp.MustCompile(`level=WARN msg="the report month is outside the months the exports cover[^"]*" month=(\S+) data_covers="2023-07 to 2026-10"`)
	for _, args := range [][]string{
		{"run", "--month", "1999-01"},
		{"run", "--month", time.Now().Format("2006-01")},
		{"explain", "--month", "1999-01", "Zzyzx"},
	} {
		r := runBin(t, append(append([]string{}, args...), "--config", cfg, "--quiet")...)
		if m := warning.FindStringSubmatch(r.stderr); m == nil || m[1] != args[2] {
			t.Errorf("%q: no warning that %s is outside 2023-07 to 2026-10:\n%s", args, args[2], r.stderr)
		}
	}
	next := time.Now().AddDate(0, 1, 1-time.Now().Day()).Format("2006-01")
	for _, args := range [][]string{{"run", "--month", next}, {"explain", "--month", next, "Zzyzx"}, {"run", "--month", "2030-01"}} {
		r := runBin(t, append(append([]string{}, args...), "--config", cfg, "--quiet")...)
		if r.code != exitUsage || !strings.Contains(r.stderr, "--month "+args[2]+" has not begun") {
			t.Errorf("%q: exit %d, want %d and a message that the month has not begun:\n%s", args, r.code, exitUsage, r.stderr)
		}
	}
	for _, month := range []string{"2023-07", "2026-10"} {
		if r := runBin(t, "run", "--config", cfg, "--month", month, "--quiet"); r.code != 0 || r.stderr != "" {
			t.Errorf("run --month %s: exit %d, want 0 and no warning:\n%s", month, r.code, r.stderr)
		}
	}
}

// renameColumn renames the column header from to to in the middle one of the
// practice's scheduling exports (with files before and after it), and returns
// that file's path.
func renameColumn(t *testing.T, dir, from, to string) string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "data", "exports", "scheduling", "*.csv"))
	if err != nil || len(files) < 3 {
		t.Fatalf("scheduling exports: %v %v", files, err)
	}
	path := files[len(files)/2]
	header, rest, _ := strings.Cut(mustRead(t, path), "\n")
	if !slices.Contains(strings.Split(header, ","), from) {
		t.Fatalf("no %q column in %q", from, header)
	}
	header = strings.Replace(header, from, to, 1)
	if err := os.WriteFile(path, []byte(header+"\n"+rest), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// An export file that cannot be loaded does not stop the night: the reports are
// written from the rest, and the run ends with exit 6 so that cron hears of it, every
// night until the file loads. With no row loaded at all there is nothing to report:
// exit 1, before any report is written.
func TestUnloadableFileExits6(t *testing.T) {
	dir, cfg := practiceDir(t, 0.5, false)
	// A renamed required column: the file cannot be read.
	bad := renameColumn(t, dir, "Clinician", "Who")
	for night := 1; night <= 2; night++ {
		r := runBin(t, "run", "--config", cfg, "--month", "2026-10", "--quiet")
		if r.code != exitNotLoaded {
			t.Fatalf("night %d: exit %d, want %d\n%s", night, r.code, exitNotLoaded, r.stderr)
		}
		if !strings.Contains(r.stderr, filepath.Base(bad)) || !strings.Contains(r.stderr, "1 file(s)") {
			t.Errorf("night %d: stderr does not name the file and the count:\n%s", night, r.stderr)
		}
		for _, name := range []string{"referrals-2026-10.xlsx", "referrals-2026-10.html", "referrers-2026-10.csv"} {
			if _, err := os.Stat(filepath.Join(dir, "out", name)); err != nil {
				t.Errorf("night %d: %s not written: %v", night, name, err)
			}
		}
	}

	// The billing pattern matches nothing, the scheduling one loads: exit 6 too.
	half := filepath.Join(t.TempDir(), "referrals.toml")
	body := strings.NewReplacer("data/exports/billing/*.csv", "data/exprots/billing/*.csv", `"db/`, `"db3/`, `"out"`, `"out3"`).Replace(mustRead(t, cfg))
	body = strings.ReplaceAll(body, `"data/`, `"`+filepath.Join(dir, "data")+`/`)
	if err := os.WriteFile(half, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := runBin(t, "run", "--config", half, "--month", "2026-10", "--quiet"); r.code != exitNotLoaded || !strings.Contains(r.stderr, "1 file pattern(s) of the configuration match no file") {
		t.Errorf("a billing pattern matching nothing: exit %d, want %d naming the pattern\n%s", r.code, exitNotLoaded, r.stderr)
	}

	// Patterns that match nothing: no data, no reports.
	empty := filepath.Join(t.TempDir(), "referrals.toml")
	body = strings.NewReplacer("data/exports/scheduling/*.csv", "data/exprots/scheduling/*.csv",
		"data/exports/billing/*.csv", "data/exprots/billing/*.csv", `"db/`, `"db2/`, `"out"`, `"out2"`).Replace(mustRead(t, cfg))
	body = strings.ReplaceAll(body, `"data/`, `"`+filepath.Join(dir, "data")+`/`)
	if err := os.WriteFile(empty, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runBin(t, "run", "--config", empty, "--month", "2026-10", "--quiet")
	if r.code != exitFailed || !strings.Contains(r.stderr, "no export row is loaded") {
		t.Errorf("no data: exit %d, want %d with \"no export row is loaded\"\n%s", r.code, exitFailed, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(empty), "out2")); err == nil {
		t.Error("no data, yet a reports folder was written")
	}
}

// A file is loaded once, so after a reading setting changes the files already loaded
// keep the old reading: every run says so, naming the setting, until --rebuild reads
// them again. A mapping that takes a field from another column than before (referral_source
// from Service, which service then loses) reads the loaded files otherwise: it warns,
// naming both fields. One that names the
// column the usual names found is no change (pipeline's TestEquivalentDelimiterAndColumnsAreNoChange).
func TestChangedReadingSettingsWarnUntilRebuild(t *testing.T) {
	_, cfg := practiceDir(t, 0.3, false)
	warning := regexp.MustCompile(`level=WARN msg="reading settings changed since the files were loaded[^"]*--rebuild[^"]*rows of export files no longer on disk are lost[^"]*" changed="\[scheduling\] columns.referral_source, columns.service, date_format" files=\d+`)
	r := runBin(t, "run", "--config", cfg, "--month", "2026-10", "--quiet")
	if r.code != 0 || strings.Contains(r.stderr, "reading settings changed") {
		t.Fatalf("first run: exit %d\n%s", r.code, r.stderr)
	}
	body := strings.Replace(mustRead(t, cfg), "files = [\"data/exports/scheduling/*.csv\"]\n",
		"files = [\"data/exports/scheduling/*.csv\"]\ndate_format = \"%-m/%-d/%Y\"\n[scheduling.columns]\nreferral_source = \"Service\"\n", 1)
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	for night := 1; night <= 2; night++ {
		r = runBin(t, "run", "--config", cfg, "--month", "2026-10", "--quiet")
		if r.code != 0 || !warning.MatchString(r.stderr) {
			t.Fatalf("night %d after the change: exit %d, want a warning naming the settings:\n%s", night, r.code, r.stderr)
		}
	}
	r = runBin(t, "run", "--config", cfg, "--month", "2026-10", "--quiet", "--rebuild")
	if r.code != 0 || strings.Contains(r.stderr, "reading settings changed") {
		t.Fatalf("rebuild: exit %d\n%s", r.code, r.stderr)
	}
	r = runBin(t, "run", "--config", cfg, "--month", "2026-10", "--quiet")
	if r.code != 0 || strings.Contains(r.stderr, "reading settings changed") {
		t.Errorf("after the rebuild: exit %d, still warned:\n%s", r.code, r.stderr)
	}
}

// An export whose optional column was renamed loads without that field: the run and
// check name the file and the field, as the export before it had it.
func TestRenamedOptionalColumnIsNamed(t *testing.T) {
	dir, cfg := practiceDir(t, 0.3, false)
	renamed := renameColumn(t, dir, "Referral Source", "Lead")
	base := regexp.QuoteMeta(filepath.Base(renamed))
	r := runBin(t, "run", "--config", cfg, "--month", "2026-10", "--quiet")
	warn := regexp.MustCompile(`level=WARN msg="an export lacks a column the one before it had" file=\S*` + base + ` missing=referral_source previous=\S+ what_to_do=`)
	if r.code != 0 || !warn.MatchString(r.stderr) {
		t.Errorf("run: exit %d, want a warning naming %s and referral_source:\n%s", r.code, filepath.Base(renamed), r.stderr)
	}
	if n := strings.Count(r.stderr, "lacks a column"); n != 1 {
		t.Errorf("%d column warnings, want 1 (the files after it have the column again):\n%s", n, r.stderr)
	}
	c := runBin(t, "check", "--config", cfg)
	if c.code != 0 || !regexp.MustCompile(`(?m)^WARNING  \S*`+base+` has no column for referral_source, which the export before it`).MatchString(c.stdout) {
		t.Errorf("check: exit %d, want a WARNING line for %s:\n%s", c.code, filepath.Base(renamed), c.stdout)
	}
}

// Ctrl-C or a cron timeout's SIGTERM ends the run with a sentence that says what it
// leaves, not "context canceled"; the next run carries on.
func TestInterruptedRunSaysSo(t *testing.T) {
	_, cfg := practiceDir(t, 4, true)
	cmd := exec.Command(binary(t), "run", "--config", cfg, "--month", "2026-10", "--log-format", "json", "--verbose")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	var rest strings.Builder
	signalled := false
	for sc.Scan() {
		line := sc.Text()
		if signalled {
			rest.WriteString(line + "\n")
		} else if strings.Contains(line, `"ingest done"`) {
			cmd.Process.Signal(syscall.SIGTERM)
			signalled = true
		}
	}
	err = cmd.Wait()
	if !signalled {
		t.Fatal("the run ended before the ingest was done")
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitFailed {
		t.Fatalf("interrupted run: %v, want exit %d; stderr after the signal:\n%s", err, exitFailed, rest.String())
	}
	// The run logs JSON, so its last word is a JSON record too.
	if !strings.Contains(rest.String(), `"level":"ERROR","msg":"interrupted: the steps that finished are kept`) || strings.Contains(rest.String(), "context canceled") {
		t.Errorf("stderr after the signal does not say the run was interrupted:\n%s", rest.String())
	}
	if r := runBin(t, "run", "--config", cfg, "--month", "2026-10", "--quiet"); r.code != 0 {
		t.Fatalf("run after the interrupt: exit %d\n%s", r.code, r.stderr)
	}
}

// A referral whose appointment has no clinician (an intake booked into an open
// slot) is no error: the run passes (no exit 4), writes the reports, and the referral
// counts with no clinician yet.
func TestUnassignedIntakeCountsUntilAClinicianIsBooked(t *testing.T) {
	dir, cfg := practiceDir(t, 0.3, false)
	files, err := filepath.Glob(filepath.Join(dir, "data", "exports", "scheduling", "*.csv"))
	if err != nil || len(files) == 0 {
		t.Fatalf("scheduling exports: %v %v", files, err)
	}
	last := files[len(files)-1]
	header, _, _ := strings.Cut(mustRead(t, last), "\n")
	if !strings.HasPrefix(header, "Appointment ID,Patient Account,Clinician,Appointment Date,Start Time,Status") {
		t.Fatalf("unexpected header %q", header)
	}
	f, err := os.OpenFile(last, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "Z900001,CLXBLANKCLIENT,,10/05/2026,9:00 AM,Attended,Intake,Anna Gomez,,\n")
	f.Close()
	r := runBin(t, "run", "--config", cfg, "--month", "2026-10", "--quiet")
	if r.code != 0 {
		t.Fatalf("run: exit %d, want 0\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "referrals-2026-10.xlsx")); err != nil {
		t.Errorf("no workbook: %v", err)
	}
	unassigned := func() int {
		db, err := pipeline.Open(context.Background(), filepath.Join(dir, "db", "referrals.duckdb"), pipeline.Settings{Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM referrals WHERE assigned_clinician IS NULL
			AND client_key = (SELECT client_key FROM raw_appointments WHERE appointment_id = 'Z900001')`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := unassigned(); n != 1 {
		t.Fatalf("%d referrals of the client with no clinician, want 1", n)
	}
	// A later export books the client with a clinician (an intake booked before one
	// was assigned): the night merges it in, the referral takes that clinician, and
	// the run passes. The referral stays the first appointment, dated by it.
	_, rest, _ := strings.Cut(mustRead(t, last), "\n")
	clinician := strings.Split(rest, ",")[2]
	later := filepath.Join(filepath.Dir(last), "appointments-zz-later.csv")
	if err := os.WriteFile(later, []byte(header+"\nZ900002,CLXBLANKCLIENT,"+clinician+",10/20/2026,9:00 AM,Scheduled,Psychotherapy,,,\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = runBin(t, "run", "--config", cfg, "--month", "2026-10", "--verbose")
	if r.code != 0 {
		t.Fatalf("run after the later booking: exit %d\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, `model=client_appointments mode=incremental clients=1 merged=true`) {
		t.Errorf("the night did not merge client_appointments:\n%s", r.stderr)
	}
	db, err := pipeline.Open(context.Background(), filepath.Join(dir, "db", "referrals.duckdb"), pipeline.Settings{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var date, assigned string
	if err := db.QueryRow(`SELECT referral_date::VARCHAR, assigned_clinician FROM referrals
		WHERE client_key = (SELECT client_key FROM raw_appointments WHERE appointment_id = 'Z900001')`).Scan(&date, &assigned); err != nil {
		t.Fatal(err)
	}
	if date != "2026-10-05" || assigned == "" {
		t.Errorf("the referral: %s, assigned %q; want 2026-10-05 and the later booking's clinician (%s as exported)", date, assigned, clinician)
	}
}

// The run's summary lists rejected rows as "path line N column: reason"; a row
// rejected as a whole has no column, and no stray " :" either.
func TestRejectedRowsSummaryLines(t *testing.T) {
	_, cfg := practiceDir(t, 1, false)
	r := runBin(t, "run", "--config", cfg, "--month", "2026-10")
	if r.code != 0 {
		t.Fatalf("run: exit %d\n%s", r.code, r.stderr)
	}
	_, block, ok := strings.Cut(r.stdout, "Rejected rows (first 10):\n")
	if !ok {
		t.Fatalf("no rejected rows in the summary:\n%s", r.stdout)
	}
	line := regexp.MustCompile(`^  \S+ line (\d+|-)( [^:]+)?: \S`)
	n, whole := 0, 0
	for _, l := range strings.Split(block, "\n") {
		if !strings.HasPrefix(l, "  ") {
			break
		}
		n++
		if !line.MatchString(l) || strings.Contains(l, " : ") {
			t.Errorf("rejected row line %q is not \"path line N column: reason\"", l)
		}
		if m := line.FindStringSubmatch(l); m != nil && m[2] == "" {
			whole++
		}
	}
	if n == 0 || whole == 0 {
		t.Errorf("%d rejected row lines, %d of whole rows: the sample should have both\n%s", n, whole, block)
	}
}

// With --log-format json the error a command ends with is a JSON record too,
// with its exit code; --quiet with --verbose is refused; check's problems are
// not called a configuration error.
func TestFinalErrorFollowsLogFormat(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.toml")
	r := runBin(t, "run", "--config", missing, "--log-format=json")
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	var rec struct {
		Level    string `json:"level"`
		Msg      string `json:"msg"`
		ExitCode int    `json:"exit_code"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rec); err != nil {
		t.Fatalf("last stderr line is not JSON (%v):\n%s", err, r.stderr)
	}
	if r.code != 2 || rec.Level != "ERROR" || rec.ExitCode != 2 || !strings.Contains(rec.Msg, "missing.toml") {
		t.Errorf("exit %d, record %+v; want exit 2, an ERROR naming missing.toml with exit_code 2", r.code, rec)
	}
	r = runBin(t, "run", "--config", missing, "--log-format", "text")
	if !strings.HasPrefix(r.stderr, "referrals: ") || !strings.Contains(r.stderr, "missing.toml") {
		t.Errorf("text format: stderr %q, want a 'referrals: ' line naming the file", r.stderr)
	}
	for _, args := range [][]string{{"run"}, {"ingest"}, {"check"}, {"explain", "Dr Maria Lopez"}} {
		r = runBin(t, append(args, "--quiet", "--verbose")...)
		if r.code != 2 || !strings.Contains(r.stderr, "--quiet and --verbose cannot be used together") {
			t.Errorf("%s --quiet --verbose: exit %d, stderr %q; want exit 2 and why", args[0], r.code, r.stderr)
		}
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.toml")
	if err := os.WriteFile(cfg, []byte("[billing]\nfiles = [\"nothing-here/*.csv\"]\n[scheduling]\nfiles = [\"none/*.csv\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = runBin(t, "check", "--config", cfg)
	if r.code != 2 || strings.Contains(r.stderr, "configuration error") || !strings.Contains(r.stderr, "check found") {
		t.Errorf("check with problems: exit %d, stderr %q; want exit 2, 'check found', no 'configuration error'", r.code, r.stderr)
	}
}

// A directory point person that matches no clinician of the roster is named by
// check (a warning, exit 0) and by the run (a warning, even with --quiet).
func TestUnknownPointPersonIsNamed(t *testing.T) {
	dir, cfg := practiceDir(t, 1, false)
	path := filepath.Join(dir, "data", "directory.csv")
	body := mustRead(t, path)
	lines := strings.Split(body, "\n")
	var referrer string
	for i, l := range lines[1:] {
		f := strings.Split(l, ",")
		if len(f) == 7 && f[5] != "" {
			referrer, f[5] = f[0], "Nobody Atall"
			lines[i+1] = strings.Join(f, ",")
			break
		}
	}
	if referrer == "" {
		t.Fatalf("no directory entry with a point person in %s", path)
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	c := runBin(t, "check", "--config", cfg)
	if c.code != 0 || !strings.Contains(c.stdout, `WARNING  directory `+path+`: "Nobody Atall", the point person of `+referrer+`, matches no clinician of the roster`) {
		t.Errorf("check: exit %d, want 0 and a warning naming %s's point person:\n%s", c.code, referrer, c.stdout)
	}
	r := runBin(t, "run", "--config", cfg, "--month", "2026-10", "--quiet")
	if r.code != 0 || !strings.Contains(r.stderr, `msg="the directory names point persons that match no clinician of the roster`) || !strings.Contains(r.stderr, `such_as="Nobody Atall"`) {
		t.Errorf("run: exit %d, want 0 and a warning:\n%s", r.code, r.stderr)
	}
}

// check says when the database's or the reports' folder cannot be written (here:
// its parent is a file), with exit 2, and leaves no folder of its own behind.
func TestCheckFindsUnwritableFolders(t *testing.T) {
	dir, cfg := practiceDir(t, 0.3, false)
	blocker := filepath.Join(dir, "not-a-folder")
	if err := os.WriteFile(blocker, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	body := strings.Replace(mustRead(t, cfg), `out_dir = "out"`, `out_dir = "not-a-folder/out"`, 1)
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runBin(t, "check", "--config", cfg)
	if r.code != 2 || !strings.Contains(r.stdout, "PROBLEM  report folder (out_dir) "+filepath.Join(blocker, "out")+": cannot create it") ||
		!strings.Contains(r.stdout, "ok       database folder "+filepath.Join(dir, "db")+" can be written") {
		t.Errorf("check: exit %d, want 2 and a problem naming the report folder:\n%s", r.code, r.stdout)
	}
	if _, err := os.Stat(filepath.Join(dir, "db")); !os.IsNotExist(err) {
		t.Errorf("check left the database folder it made to find out (%v)", err)
	}
}

// A column mapping that names a header no export has (a typo) reads the field
// from its usual headers or not at all: check refuses it, and every run warns
// of it until it is corrected, even when it was there from the first night.
func TestRunWarnsOfAMappingNoExportHas(t *testing.T) {
	dir, cfg := practiceDir(t, 0.3, false)
	files, _ := filepath.Glob(filepath.Join(dir, "data", "exports", "scheduling", "*.csv"))
	for _, f := range files {
		b := mustRead(t, f)
		head, rest, _ := strings.Cut(b, "\n")
		if !strings.Contains(head, "Referred To") {
			t.Fatalf("%s has no Referred To header: %q", f, head)
		}
		if err := os.WriteFile(f, []byte(strings.Replace(head, "Referred To", "Requested Therapist", 1)+"\n"+rest), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	setMapping := func(header string) {
		body := strings.Replace(mustRead(t, cfg), "files = [\"data/exports/scheduling/*.csv\"]\n",
			"files = [\"data/exports/scheduling/*.csv\"]\n[scheduling.columns]\nreferred_to = \""+header+"\"\n", 1)
		if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	setMapping("Requested Therapst")
	warning := `names a header that none of the ` + strconv.Itoa(len(files)) + ` scheduling file(s) has (a typo?); the nearest is \"Requested Therapist\"`
	for night := 1; night <= 3; night++ {
		if night == 3 {
			// A re-export of one file: still one file, not two versions.
			if err := os.WriteFile(files[0], []byte(mustRead(t, files[0])+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(files[0], time.Now().Add(time.Minute), time.Now().Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		r := runBin(t, "run", "--config", cfg, "--quiet")
		if r.code != 0 || !strings.Contains(r.stderr, warning) || !strings.Contains(r.stderr, "run with --rebuild") {
			t.Fatalf("night %d with the typo: exit %d, want a warning with %s:\n%s", night, r.code, warning, r.stderr)
		}
	}
	body := strings.Replace(mustRead(t, cfg), "Requested Therapst", "Requested Therapist", 1)
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runBin(t, "run", "--config", cfg, "--quiet", "--rebuild")
	if r.code != 0 || strings.Contains(r.stderr, "names a header") {
		t.Fatalf("after the fix: exit %d, want no warning:\n%s", r.code, r.stderr)
	}
	if n := strings.Count(mustRead(t, filepath.Join(dir, "out", "referrers-2026-10.csv")), "\n"); n < 2 {
		t.Errorf("the referrer CSV after the fix has %d lines", n)
	}
}
