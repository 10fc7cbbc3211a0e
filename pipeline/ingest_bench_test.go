package pipeline_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/referrals/referrals/internal/config"
	"github.com/referrals/referrals/internal/sample"
	"github.com/referrals/referrals/pipeline"
)

// benchExport returns a realistic scheduling export of about rows rows,
// generated once into the temp folder and reused.
func benchExport(b *testing.B, rows int64) (path string, n int64) {
	b.Helper()
	dir := filepath.Join(os.TempDir(), "referrals-bench-ingest", "rows-"+strconv.FormatInt(rows, 10))
	path = filepath.Join(dir, "exports", "scheduling", "appointments.csv")
	if _, err := os.Stat(filepath.Join(dir, ".complete")); err != nil {
		os.RemoveAll(dir)
		// Single-file layout: about 10,200 scheduling rows per unit of scale.
		if _, err := sample.Generate(context.Background(), sample.Options{Out: dir, Scale: float64(rows) / 10200, Seed: 3, SingleFile: true}); err != nil {
			b.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, ".complete"), nil, 0o600)
	}
	db, err := pipeline.Open(context.Background(), ":memory:", pipeline.Settings{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRow("SELECT count(*) FROM read_csv(?, header = true)", path).Scan(&n); err != nil {
		b.Fatal(err)
	}
	return path, n
}

// BenchmarkIngest1M loads a 1,000,000-row scheduling export into a fresh
// database file with the real loader, and in the same iteration reads the
// same file with a bare DuckDB read_csv into a table of a fresh database
// file: the floor. It reports rows/s for both and the ratio of the medians.
//
//	go test ./pipeline -run '^$' -bench Ingest1M -benchtime 5x
func BenchmarkIngest1M(b *testing.B) {
	path, rows := benchExport(b, 1_000_000)
	ctx := context.Background()
	var bare, ingest []time.Duration
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		// The floor.
		db, err := pipeline.Open(ctx, filepath.Join(dir, "bare.duckdb"), pipeline.Settings{})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if _, err := db.Exec("CREATE TABLE t AS SELECT * FROM read_csv(?, header = true)", path); err != nil {
			b.Fatal(err)
		}
		if _, err := db.Exec("CHECKPOINT"); err != nil {
			b.Fatal(err)
		}
		bare = append(bare, time.Since(start))
		db.Close()
		// The loader.
		db, err = pipeline.Open(ctx, filepath.Join(dir, "referrals.duckdb"), pipeline.Settings{})
		if err != nil {
			b.Fatal(err)
		}
		cfg := config.Default()
		cfg.Dir = filepath.Dir(path)
		cfg.Scheduling.Files = []string{path}
		cfg.Billing.Files = nil
		in := &pipeline.Ingester{DB: db, Config: cfg, Secret: []byte("bench-secret-0123456789"), TmpDir: dir}
		start = time.Now()
		sum, err := in.Ingest(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := db.Exec("CHECKPOINT"); err != nil {
			b.Fatal(err)
		}
		ingest = append(ingest, time.Since(start))
		db.Close()
		if sum.Loaded+sum.Rejected != rows {
			b.Fatalf("loaded %d + rejected %d != %d rows", sum.Loaded, sum.Rejected, rows)
		}
	}
	mb, mi := medianDur(bare), medianDur(ingest)
	b.ReportMetric(float64(rows)/mb.Seconds(), "bare-rows/s")
	b.ReportMetric(float64(rows)/mi.Seconds(), "ingest-rows/s")
	b.ReportMetric(mi.Seconds()/mb.Seconds(), "ratio")
	b.Logf("%d rows, %d iterations: bare read_csv median %s (%.0f rows/s); ingestion median %s (%.0f rows/s); ratio %.2fx (target 1.5x)",
		rows, len(bare), mb.Round(time.Millisecond), float64(rows)/mb.Seconds(), mi.Round(time.Millisecond), float64(rows)/mi.Seconds(), mi.Seconds()/mb.Seconds())
}

func medianDur(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}
