package queries_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/referrals/referrals/internal/stagetest"
	"github.com/referrals/referrals/pipeline"
)

// BenchmarkMarts times a full BuildModels (per-client tables, staging and marts) on a synthetic practice of
// 400,000 clients with 5 appointments each (2,000,000 appointment rows) over five
// years, 2,000 referrers and a channel, 40 clinicians, and a claim line for about
// half of the attended appointments. Each referrer sends most clients to one
// clinician; half of them come from an export with a referred-to column.
//
//	go test ./queries -run '^$' -bench Marts -benchtime 3x
func BenchmarkMarts(b *testing.B) {
	ctx := context.Background()
	db, err := pipeline.Open(ctx, filepath.Join(b.TempDir(), "bench.duckdb"), pipeline.Settings{Threads: 2})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := pipeline.EnsureSchema(ctx, db); err != nil {
		b.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO ref_roster
		 SELECT 'Clinician ' || lpad(i::VARCHAR, 2, '0'), NULL, NULL, DATE '2015-01-01',
		        CASE WHEN i % 10 = 9 THEN DATE '2024-06-30' END,
		        ['Child & Adolescent', 'Trauma', 'Couples', 'Anxiety'][i % 4 + 1],
		        ['Aetna; BCBS', 'Cigna', 'Aetna; United', 'BCBS; Medicaid'][i % 4 + 1],
		        CASE WHEN i % 3 = 0 THEN true END
		 FROM range(40) t(i)`,
		`INSERT INTO ref_channels VALUES ('Psychology Today'), ('Google')`,
		`INSERT INTO raw_appointments
		 WITH appts AS (
		     SELECT i, i // 5 AS c, i % 5 AS k, hash(i // 5) AS h FROM range(2000000) t(i)
		 ), clients AS (
		     SELECT *, (h % 2000)::INTEGER AS r, (h // 2000 % 100)::INTEGER AS pct FROM appts
		 )
		 SELECT
		     'a' || i,
		     hash('client-' || c),
		     'Clinician ' || lpad((CASE WHEN pct < 60 THEN r % 40 ELSE (h // 200000) % 40 END)::VARCHAR, 2, '0'),
		     DATE '2021-01-01' + ((h // 7 % 1790) + 7 * k)::INTEGER,
		     ['9:00 AM', '10:30', '2:00 PM', NULL][k % 4 + 1],
		     CASE WHEN hash(i) % 10 = 0 THEN 'No Show' WHEN hash(i) % 10 = 1 THEN 'Cancelled' ELSE 'Attended' END,
		     'Psychotherapy',
		     CASE WHEN pct < 8 THEN 'Psychology Today' WHEN pct < 12 THEN NULL
		          WHEN pct < 20 THEN 'Dr. Referrer ' || r || ', MD' ELSE 'Referrer ' || r END,
		     CASE WHEN r % 2 = 0 THEN
		         CASE WHEN pct % 3 = 0 THEN 'any' ELSE 'Clinician ' || lpad((r % 40)::VARCHAR, 2, '0') END END,
		     r % 2 = 0,
		     NULL,
		     1
		 FROM clients`,
		`INSERT INTO raw_claim_lines
		 SELECT 'l' || appointment_id, client_key, appt_date, clinician, NULL,
		        CASE WHEN hash(client_key) % 5 = 0 THEN 'Referrer ' || (hash(client_key) % 2000) END, NULL,
		        ['Aetna', 'BCBS', 'Cigna', 'United', 'Medicaid'][(hash(client_key) % 5)::INTEGER + 1],
		        '90837', 150, 95, 2
		 FROM raw_appointments
		 WHERE status = 'Attended' AND hash(appointment_id) % 2 = 0`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			b.Fatalf("%s: %v", q, err)
		}
	}
	vars := stagetest.DefaultVars(stagetest.ReportMonth)
	var timings []pipeline.ModelTiming
	for b.Loop() {
		// Forget what was built, or every iteration after the first would keep the
		// per-client tables and every model whose inputs did not change.
		b.StopTimer()
		for _, q := range []string{"DELETE FROM model_state", "DELETE FROM model_fingerprints"} {
			if _, err := db.ExecContext(ctx, q); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		if timings, err = pipeline.BuildModels(ctx, db, vars, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	for _, t := range timings {
		if t.Kept {
			b.Errorf("%s was kept: the benchmark must time a full build", t.Name)
		}
		b.Logf("%-26s %9d rows %8.2fs", t.Name, t.Rows, t.Duration.Seconds())
	}
	if err := pipeline.RunChecks(ctx, db); err != nil {
		b.Fatal(err)
	}
}
