package pipeline_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/referrals/referrals/internal/sample"
	"github.com/referrals/referrals/internal/stagetest"
	"github.com/referrals/referrals/pipeline"
)

// TestMeasuredStageMatchesPlanted runs the whole pipeline on generated
// exports whose referrers follow planted stage paths, and compares the
// measured stage with the planted one wherever the planted stage held for
// the whole window and the referrer made at least 4 referrals in it.
func TestMeasuredStageMatchesPlanted(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	end := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	if _, err := sample.Generate(ctx, sample.Options{Out: data, Scale: 2, Seed: 11, End: end, Months: 40}); err != nil {
		t.Fatal(err)
	}
	db := stagetest.RunSample(t, data, end, "accuracy-secret-0123456789")
	truth := filepath.Join(data, "truth", "planted-stages.csv")
	q := fmt.Sprintf(`
		WITH planted AS (
			SELECT referrer AS planted_name, strptime(month, '%%Y-%%m')::DATE AS month, stage
			FROM read_csv(%s, header = true, columns = {'referrer': 'VARCHAR', 'month': 'VARCHAR', 'stage': 'INTEGER'}, auto_detect = false)
		),
		names AS (
			SELECT DISTINCT p.planted_name, s.referrer
			FROM (SELECT DISTINCT planted_name FROM planted) p
			JOIN stg_referrer_spellings s ON s.name_key = name_key(p.planted_name)
		),
		steady AS (
			-- the planted stage at each month end, where it was the same for the whole window
			SELECT p.planted_name, p.month, min(w.stage) AS stage
			FROM planted p
			JOIN planted w ON w.planted_name = p.planted_name
				AND w.month > p.month - INTERVAL (getvariable('window_months')) MONTH AND w.month <= p.month
			GROUP BY p.planted_name, p.month
			HAVING count(DISTINCT w.stage) = 1 AND count(*) = getvariable('window_months')
		)
		SELECT s.month = getvariable('report_month') AS at_report_month, s.stage AS planted, m.stage AS measured
		FROM steady s
		JOIN names n ON n.planted_name = s.planted_name
		JOIN referrer_months m ON m.referrer = n.referrer AND m.month = s.month
		WHERE m.referrals >= 4`, pipeline.QuoteString(truth))
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	type matrix [4][4]int // [planted][measured], 0 = none
	var atReport, all matrix
	for rows.Next() {
		var at bool
		var planted int
		var measured *int
		if err := rows.Scan(&at, &planted, &measured); err != nil {
			t.Fatal(err)
		}
		m := 0
		if measured != nil {
			m = *measured
		}
		all[planted][m]++
		if at {
			atReport[planted][m]++
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	report := func(name string, mx matrix) float64 {
		var b strings.Builder
		fmt.Fprintf(&b, "%s: rows planted, columns measured\n          none  stage1  stage2  stage3\n", name)
		agree, total := 0, 0
		for p := 1; p <= 3; p++ {
			fmt.Fprintf(&b, "stage %d  %5d  %6d  %6d  %6d\n", p, mx[p][0], mx[p][1], mx[p][2], mx[p][3])
			for m := 0; m <= 3; m++ {
				total += mx[p][m]
			}
			agree += mx[p][p]
		}
		acc := float64(agree) / float64(max(total, 1))
		fmt.Fprintf(&b, "agreement %d of %d = %.1f%%", agree, total, 100*acc)
		t.Log(b.String())
		if total < 20 {
			t.Errorf("%s: only %d referrer-months qualify; the sample is too thin to judge", name, total)
		}
		return acc
	}
	if acc := report("at the report month 2026-10", atReport); acc < 0.9 {
		t.Errorf("measured stage agrees with the planted one for %.1f%% of referrers at the report month, want at least 90%%", 100*acc)
	}
	if acc := report("at every month end", all); acc < 0.9 {
		t.Errorf("measured stage agrees with the planted one for %.1f%% of referrer-months, want at least 90%%", 100*acc)
	}
}

// TestSamplePlantedBadRowsAreRejected loads the committed sample-data and
// finds every bad row the generator planted, at its file and line, while
// the rest loads.
func TestSamplePlantedBadRowsAreRejected(t *testing.T) {
	ctx := context.Background()
	root, err := filepath.Abs(filepath.Join("..", "sample-data"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := pipeline.Open(ctx, filepath.Join(t.TempDir(), "referrals.duckdb"), pipeline.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sum, err := (&pipeline.Ingester{DB: db, Config: stagetest.SampleConfig(root), Secret: []byte("sample-secret-0123456789")}).Ingest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Count("failed") != 0 || sum.Loaded < 20000 {
		t.Fatalf("sample load: %d files failed, %d rows loaded", sum.Count("failed"), sum.Loaded)
	}
	var missing, extra int
	q := fmt.Sprintf(`
		WITH truth AS (SELECT file, line FROM read_csv(%s, header = true, columns = {'file': 'VARCHAR', 'line': 'BIGINT', 'column': 'VARCHAR', 'problem': 'VARCHAR'}, auto_detect = false)),
		found AS (SELECT path AS file, line FROM rejected_rows)
		SELECT (SELECT count(*) FROM truth WHERE (file, line) NOT IN (SELECT (file, line) FROM found)),
		       (SELECT count(*) FROM found WHERE (file, line) NOT IN (SELECT (file, line) FROM truth))`,
		pipeline.QuoteString(filepath.Join(root, "truth", "bad-rows.csv")))
	if err := db.QueryRow(q).Scan(&missing, &extra); err != nil {
		t.Fatal(err)
	}
	if missing != 0 || extra != 0 {
		t.Errorf("%d planted bad rows not rejected at their file and line; %d rows rejected that were not planted", missing, extra)
	}
	var rejected int64
	if err := db.QueryRow(`SELECT count(*) FROM rejected_rows`).Scan(&rejected); err != nil || rejected < 3 {
		t.Errorf("only %d rejects recorded (%v)", rejected, err)
	}
}
