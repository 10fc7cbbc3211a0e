package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/referrals/referrals/internal/config"
	"github.com/referrals/referrals/internal/sample"
	"github.com/referrals/referrals/pipeline"
)

func cmdBench(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "bench", "[--rows N] [--reps R] [--dir DIR] [--memory-limit SIZE] [--threads N]", `
Benchmark the nightly job on generated exports of about N rows (scheduling
plus billing), made once with "referrals sample" and reused. In one run,
R repetitions each of:
  floor        a bare DuckDB read_csv of the same files into a fresh database file,
               with DuckDB's defaults; then the same read into a file of the
               job's storage format (DuckDB 1.5's), whose time is shown too
  full run     "referrals run" from an empty database: ingest, models, checks, reports
  incremental  one more day of exports on top of the full run's database: the
               last day's appointments again, a day later, for the same
               clients (so no new referral: a quiet night)
Each runs in its own process so its peak memory (RSS) is its own. Prints
medians: time, rows/s, MB/s, each phase's time, peak RSS, and the ratios
full run / floor (against each floor) and incremental / full run; then the
database file's size after the full run and after each floor.`)
	rows := fs.Int64("rows", 1_000_000, "total export rows to generate")
	reps := fs.Int("reps", 3, "repetitions; medians are printed")
	dir := fs.String("dir", filepath.Join(os.TempDir(), "referrals-bench"), "work folder (generated data is kept here and reused)")
	memLimit := fs.String("memory-limit", "", "DuckDB memory_limit for the runs, e.g. 500MB")
	threads := fs.Int("threads", 0, "DuckDB threads for the runs; 0 = all cores")
	floorDB := fs.String("floor-db", "", "internal: run only the floor read into this database file")
	floorJobFormat := fs.Bool("floor-job-format", false, "internal: write the floor's file in the job's storage format")
	if err := parse(e, fs, args); err != nil {
		return err
	}
	if *floorDB != "" {
		return benchFloor(ctx, *floorDB, fs.Args(), *memLimit, *threads, *floorJobFormat)
	}
	// The floor and the runs read at the same memory_limit: the configuration's default
	// unless --memory-limit says otherwise (an empty limit would leave the floor at
	// DuckDB's own default, 80% of the machine's memory).
	shown := *memLimit
	if *memLimit == "" {
		*memLimit = config.Default().DuckDB.MemoryLimit
		shown = *memLimit + " (default)"
	}
	if _, err := config.ParseMemoryLimit(*memLimit); err != nil {
		return &usageError{fmt.Sprintf("bench: --memory-limit %q: %v", *memLimit, err)}
	}
	if *threads < 0 {
		return &usageError{fmt.Sprintf("bench: --threads %d: write 0 (all cores) or a number of threads", *threads)}
	}
	if *rows < 10_000 || *reps < 1 {
		return &usageError{"bench: --rows must be at least 10000 and --reps at least 1"}
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	w := e.stdout
	data := filepath.Join(*dir, fmt.Sprintf("data-%d", *rows))
	if err := ensureBenchData(ctx, w, data, *rows); err != nil {
		return err
	}
	sched, _ := filepath.Glob(filepath.Join(data, "exports", "scheduling", "*.csv"))
	bill, _ := filepath.Glob(filepath.Join(data, "exports", "billing", "*.csv"))
	var totalBytes, totalRows int64
	for _, f := range append(append([]string{}, sched...), bill...) {
		fi, err := os.Stat(f)
		if err != nil {
			return err
		}
		totalBytes += fi.Size()
		n, err := countLines(f)
		if err != nil {
			return err
		}
		totalRows += n - 1
	}
	incrFile, incrRows, err := makeIncrement(ctx, data, sched)
	if err != nil {
		return fmt.Errorf("bench: make the incremental night's export: %w", err)
	}
	work := filepath.Join(*dir, fmt.Sprintf("work-%d", *rows))
	if err := os.RemoveAll(work); err != nil {
		return err
	}
	if err := os.MkdirAll(work, 0o700); err != nil {
		return err
	}
	fullCfg := filepath.Join(work, "full.toml")
	incrCfg := filepath.Join(work, "incremental.toml")
	if err := writeBenchConfig(fullCfg, data, filepath.Join(work, "full.duckdb"), filepath.Join(work, "out-full"), *memLimit, *threads, ""); err != nil {
		return err
	}
	if err := writeBenchConfig(incrCfg, data, filepath.Join(work, "incr.duckdb"), filepath.Join(work, "out-incr"), *memLimit, *threads, incrFile); err != nil {
		return err
	}
	fmt.Fprintf(w, "Data: %d rows in %d files, %.1f MB (%s); incremental night: %d rows (existing clients' next-day appointments)\n", totalRows, len(sched)+len(bill), float64(totalBytes)/1e6, data, incrRows)
	fmt.Fprintf(w, "Machine: %d cores; memory_limit %s; %d repetitions\n", runtime.NumCPU(), shown, *reps)

	var floor, floorJob, full, incr []measure
	files := append(append([]string{}, sched...), bill...)
	readFloor := func(jobFormat bool) (measure, error) {
		fdb := filepath.Join(work, "floor.duckdb")
		if jobFormat {
			fdb = filepath.Join(work, "floor-job-format.duckdb")
		}
		removeDB(fdb)
		m, err := runMeasured(ctx, exe, append([]string{"bench", "--floor-db", fdb, "--memory-limit", *memLimit, fmt.Sprint("--threads=", *threads), fmt.Sprint("--floor-job-format=", jobFormat)}, files...), e.getenv)
		if err != nil {
			return m, fmt.Errorf("floor: %w", err)
		}
		// A floor that skipped rows would be a floor too low: it must read (nearly) all
		// of them; the exports hold a few planted bad rows that ignore_errors drops.
		if m.rows < totalRows*99/100 {
			return m, fmt.Errorf("floor: the bare read_csv read %d of %d rows", m.rows, totalRows)
		}
		return m, nil
	}
	for r := 1; r <= *reps; r++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		m, err := readFloor(false)
		if err != nil {
			return err
		}
		floor = append(floor, m)
		if m, err = readFloor(true); err != nil {
			return err
		}
		floorJob = append(floorJob, m)
		removeDB(filepath.Join(work, "full.duckdb"))
		m, err = runMeasured(ctx, exe, []string{"run", "--config", fullCfg, "--log-format", "json", "--month", "2026-10"}, e.getenv)
		if err != nil {
			return fmt.Errorf("full run: %w", err)
		}
		full = append(full, m)
		removeDB(filepath.Join(work, "incr.duckdb"))
		if err := copyDB(filepath.Join(work, "full.duckdb"), filepath.Join(work, "incr.duckdb")); err != nil {
			return err
		}
		m, err = runMeasured(ctx, exe, []string{"run", "--config", incrCfg, "--log-format", "json", "--month", "2026-10"}, e.getenv)
		if err != nil {
			return fmt.Errorf("incremental run: %w", err)
		}
		incr = append(incr, m)
		fmt.Fprintf(w, "  rep %d: floor %s (job's format %s), full run %s, incremental %s\n", r, floor[r-1].wall.Round(time.Millisecond), floorJob[r-1].wall.Round(time.Millisecond), full[r-1].wall.Round(time.Millisecond), incr[r-1].wall.Round(time.Millisecond))
	}
	fl, fj, fu, in := median(floor), median(floorJob), median(full), median(incr)
	mb := float64(totalBytes) / 1e6
	fmt.Fprintf(w, "\n%-26s %12s %14s %10s %12s\n", "medians", "time", "rows/s", "MB/s", "peak RSS")
	row := func(name string, m measure, n int64, size float64) {
		fmt.Fprintf(w, "%-26s %12s %14.0f %10.1f %9.0f MB\n", name, m.wall.Round(time.Millisecond), float64(n)/m.wall.Seconds(), size/m.wall.Seconds(), float64(m.rssKB)/1024)
	}
	row("floor (bare read_csv)", fl, totalRows, mb)
	row("  in the job's format", fj, totalRows, mb)
	row("full run", fu, totalRows, mb)
	for _, p := range benchPhases {
		fmt.Fprintf(w, "  %-24s %12s\n", p.name, medianPhase(full, p.msg).Round(time.Millisecond))
	}
	row("incremental night", in, incrRows, 0)
	for _, p := range benchPhases {
		fmt.Fprintf(w, "  %-24s %12s\n", p.name, medianPhase(incr, p.msg).Round(time.Millisecond))
	}
	// The bare read is bimodal on a shared machine (the same files in 10.5 s or in
	// 14 s, in no order): a median that took slow runs flatters the ratio, so the
	// ratio against the fastest floor is printed too, and a spread is said.
	fastest, slowest := floor[0].wall, floor[0].wall
	for _, m := range floor {
		fastest, slowest = min(fastest, m.wall), max(slowest, m.wall)
	}
	fmt.Fprintf(w, "\nfull run / floor:          %.2fx (target 1.5x; %.2fx the fastest floor, %s; %.2fx the floor in the job's format)\n",
		fu.wall.Seconds()/fl.wall.Seconds(), fu.wall.Seconds()/fastest.Seconds(), fastest.Round(time.Millisecond), fu.wall.Seconds()/fj.wall.Seconds())
	if slowest > fastest*115/100 {
		fmt.Fprintf(w, "                           the floor's runs differ by %.0f%%: the machine was busy; judge by the fastest, or bench again\n",
			100*(slowest.Seconds()/fastest.Seconds()-1))
	}
	fmt.Fprintf(w, "incremental / full run:    %.1f%% (target 5%%)\n", 100*in.wall.Seconds()/fu.wall.Seconds())
	fmt.Fprintf(w, "peak RSS full run:         %.0f MB (target 1536 MB)\n", float64(fu.rssKB)/1024)
	// The file sizes of the last repetition: the run's storage settings (its format,
	// smaller_file) trade size for time, and the bare floor keeps DuckDB's defaults.
	fmt.Fprintf(w, "database file:             %s after the full run, %s after the floor (%s in the job's format)\n",
		fileMB(filepath.Join(work, "full.duckdb")), fileMB(filepath.Join(work, "floor.duckdb")), fileMB(filepath.Join(work, "floor-job-format.duckdb")))
	return nil
}

// fileMB is the size of the file at path in MB, or "?" when it cannot be read.
func fileMB(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return "?"
	}
	return fmt.Sprintf("%.0f MB", float64(fi.Size())/1e6)
}

// benchPhases are the run's log records whose took the bench reports, in order, and
// the name it prints for each.
var benchPhases = []struct{ msg, name string }{
	{"reference files loaded", "reference files"},
	{"ingest done", "ingest"},
	{"models built", "models"},
	{"data checks passed", "checks"},
	{"reports written", "reports"},
	{"database checkpointed", "checkpoint"},
}

type measure struct {
	wall   time.Duration
	rssKB  int64
	rows   int64 // rows the floor read
	phases map[string]time.Duration
}

// runMeasured runs the binary and returns its wall time, peak RSS and the
// "took" of each phase from its JSON log.
func runMeasured(ctx context.Context, exe string, args []string, getenv func(string) string) (measure, error) {
	cmd := exec.CommandContext(ctx, exe, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Stdout = io.Discard
	cmd.Env = os.Environ()
	// Flush what the previous step wrote (the full run's database, its copy for the
	// incremental night) before the clock starts: otherwise the kernel writes those
	// hundreds of megabytes back during the next measured run, which a nightly job
	// starting on a quiet disk never pays.
	syscall.Sync()
	start := time.Now()
	err := cmd.Run()
	m := measure{wall: time.Since(start), phases: map[string]time.Duration{}}
	if err != nil {
		return m, fmt.Errorf("%s %s: %v\n%s", filepath.Base(exe), strings.Join(args[:min(4, len(args))], " "), err, tail(stderr.String(), 2000))
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		m.rssKB = ru.Maxrss
	}
	sc := bufio.NewScanner(&stderr)
	for sc.Scan() {
		var rec struct {
			Msg  string `json:"msg"`
			Took int64  `json:"took"`
			Rows int64  `json:"rows"`
		}
		if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Took > 0 {
			m.phases[rec.Msg] = time.Duration(rec.Took)
		}
		if rec.Msg == "floor rows" {
			m.rows = rec.Rows
		}
	}
	return m, nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

func median(ms []measure) measure {
	s := append([]measure(nil), ms...)
	sort.Slice(s, func(i, j int) bool { return s[i].wall < s[j].wall })
	m := s[len(s)/2]
	rss := make([]int64, len(ms))
	for i, x := range ms {
		rss[i] = x.rssKB
	}
	sort.Slice(rss, func(i, j int) bool { return rss[i] < rss[j] })
	m.rssKB = rss[len(rss)/2]
	return m
}

func medianPhase(ms []measure, phase string) time.Duration {
	var ds []time.Duration
	for _, m := range ms {
		ds = append(ds, m.phases[phase])
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2]
}

// benchFloor is the baseline: DuckDB reading the same CSV files into a
// fresh database file with its own sniffer, nothing else.
func benchFloor(ctx context.Context, dbPath string, files []string, memLimit string, threads int, jobFormat bool) error {
	db, err := pipeline.Open(ctx, dbPath, pipeline.Settings{MemoryLimit: memLimit, Threads: threads, EngineFormat: !jobFormat})
	if err != nil {
		return err
	}
	defer db.Close()
	var sched, bill []string
	for _, f := range files {
		if strings.Contains(f, string(filepath.Separator)+"billing"+string(filepath.Separator)) {
			bill = append(bill, pipeline.QuoteString(f))
		} else {
			sched = append(sched, pipeline.QuoteString(f))
		}
	}
	for name, list := range map[string][]string{"scheduling": sched, "billing": bill} {
		if len(list) == 0 {
			continue
		}
		// The sniffer guesses US dates as day/month and would then drop
		// every row with a day above 12; the format is the one thing a
		// correct bare read must be told.
		q := fmt.Sprintf("CREATE TABLE %s AS SELECT * FROM read_csv([%s], header = true, dateformat = '%%m/%%d/%%Y', ignore_errors = true)", name, strings.Join(list, ", "))
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("floor read of %s: %w", name, err)
		}
	}
	if _, err = db.ExecContext(ctx, "CHECKPOINT"); err != nil {
		return err
	}
	var n int64
	if err := db.QueryRowContext(ctx, "SELECT (SELECT count(*) FROM scheduling) + (SELECT count(*) FROM billing)").Scan(&n); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "{\"msg\":\"floor rows\",\"rows\":%d}\n", n)
	return nil
}

func ensureBenchData(ctx context.Context, w io.Writer, data string, rows int64) error {
	marker := filepath.Join(data, ".complete")
	if _, err := os.Stat(marker); err == nil {
		return nil
	}
	if err := os.RemoveAll(data); err != nil {
		return err
	}
	fmt.Fprintf(w, "Generating about %d rows of sample exports in %s (once; reused by later runs)…\n", rows, data)
	end, _ := time.Parse("2006-01", "2026-10")
	start := time.Now()
	sum, err := sample.Generate(ctx, sample.Options{Out: data, Scale: sample.ScaleForRows(rows), Seed: 1, End: end, Months: 40})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Generated %d scheduling and %d billing rows in %s\n", sum.SchedulingRows, sum.BillingRows, time.Since(start).Round(time.Millisecond))
	return os.WriteFile(marker, []byte("ok\n"), 0o600)
}

// makeIncrement writes one more day of scheduling export: the last day's
// appointments of the newest export, moved a day later with new ids.
func makeIncrement(ctx context.Context, data string, sched []string) (string, int64, error) {
	if len(sched) == 0 {
		return "", 0, fmt.Errorf("no scheduling export in %s", data)
	}
	sort.Strings(sched)
	last := sched[len(sched)-1]
	dir := filepath.Join(data, "increment")
	out := filepath.Join(dir, "appointments-next-day.csv")
	if n, err := countLines(out); err == nil && n > 1 {
		return out, n - 1, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", 0, err
	}
	db, err := pipeline.Open(ctx, ":memory:", pipeline.Settings{})
	if err != nil {
		return "", 0, err
	}
	defer db.Close()
	q := fmt.Sprintf(`COPY (
		WITH src AS (SELECT * FROM read_csv(%s, header = true, all_varchar = true)),
		lastday AS (SELECT max(strptime("Appointment Date", '%%m/%%d/%%Y')) AS d FROM src)
		SELECT src.* REPLACE ("Appointment ID" || '-N1' AS "Appointment ID",
			strftime(strptime("Appointment Date", '%%m/%%d/%%Y') + INTERVAL 1 DAY, '%%m/%%d/%%Y') AS "Appointment Date")
		FROM src, lastday WHERE strptime("Appointment Date", '%%m/%%d/%%Y') = lastday.d
	) TO %s (HEADER, DELIMITER ',')`, pipeline.QuoteString(last), pipeline.QuoteString(out))
	if _, err := db.ExecContext(ctx, q); err != nil {
		return "", 0, err
	}
	n, err := countLines(out)
	return out, n - 1, err
}

func writeBenchConfig(path, data, dbPath, outDir, memLimit string, threads int, extra string) error {
	schedFiles := fmt.Sprintf("[%q", filepath.Join(data, "exports", "scheduling", "*.csv"))
	if extra != "" {
		schedFiles += fmt.Sprintf(", %q", extra)
	}
	schedFiles += "]"
	body := fmt.Sprintf(`database = %q
out_dir = %q
[duckdb]
threads = %d
memory_limit = %q
[scheduling]
files = %s
[billing]
files = [%q]
[reference]
roster = %q
directory = %q
aliases = %q
`, dbPath, outDir, threads, memLimit, schedFiles, filepath.Join(data, "exports", "billing", "*.csv"),
		filepath.Join(data, "roster.csv"), filepath.Join(data, "directory.csv"), filepath.Join(data, "aliases.csv"))
	return os.WriteFile(path, []byte(body), 0o600)
}

// removeDB removes a database and what lives beside it: its log and its report cache.
func removeDB(p string) {
	os.Remove(p)
	os.Remove(p + ".wal")
	os.RemoveAll(p + reportCacheSuffix)
}

// copyDB copies a closed database and its report cache, as a night finds them.
func copyDB(src, dst string) error {
	if err := copyFile(src, dst); err != nil {
		return err
	}
	entries, err := os.ReadDir(src + reportCacheSuffix)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dst+reportCacheSuffix, 0o700); err != nil {
		return err
	}
	for _, e := range entries {
		if err := copyFile(filepath.Join(src+reportCacheSuffix, e.Name()), filepath.Join(dst+reportCacheSuffix, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func countLines(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	var n int64
	for {
		k, err := f.Read(buf)
		n += int64(bytes.Count(buf[:k], []byte{'\n'}))
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}
