package pipeline_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/referrals/referrals/internal/stagetest"
	"github.com/referrals/referrals/pipeline"
	"github.com/referrals/referrals/queries"
)

// TestChecksRerunOnlyWhenModelsChange: a run whose models were all kept skips the
// data checks that passed on them last run. That holds only if every table a
// check reads has its content recorded in model_fingerprints, which this test
// proves for every check; then the checks run again when a model's content,
// the variables or a failure say so.
func TestChecksRerunOnlyWhenModelsChange(t *testing.T) {
	ctx := context.Background()
	month := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	db := stagetest.RunSample(t, filepath.Join("..", "sample-data"), month, "checks-test-secret")

	var tables, models []string
	for _, r := range stagetest.Rows(t, db, `SELECT table_name FROM duckdb_tables() WHERE NOT temporary AND schema_name = 'main'`) {
		tables = append(tables, r["table_name"].(string))
	}
	for _, r := range stagetest.Rows(t, db, `SELECT model FROM model_fingerprints`) {
		models = append(models, r["model"].(string))
	}
	checks, err := queries.Checks()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range checks {
		read := c.Reads(tables)
		if len(read) == 0 {
			t.Errorf("check %s reads no table this test can see", c.Name)
		}
		for _, tb := range read {
			if !slices.Contains(models, tb) {
				t.Errorf("check %s reads %s, whose content model_fingerprints does not record: skipping it when the models are unchanged would be wrong", c.Name, tb)
			}
		}
	}

	run := func(want bool, what string) {
		t.Helper()
		ran, err := pipeline.RunChecksIfChanged(ctx, db)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if ran != want {
			t.Errorf("%s: the checks ran = %v, want %v", what, ran, want)
		}
	}
	run(true, "first time")
	run(false, "same models again")
	// A model rebuilt with other content: its digest moves.
	if _, err := db.ExecContext(ctx, `UPDATE model_fingerprints SET content = content || 'x' WHERE model = 'referrer_status'`); err != nil {
		t.Fatal(err)
	}
	run(true, "referrer_status changed")
	run(false, "unchanged after that")
	if err := pipeline.SetVars(ctx, db, pipeline.Vars{"report_month": time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	run(true, "another report month")

	// A failure is never remembered as a pass: a broken mart fails every time.
	if _, err := db.ExecContext(ctx, `INSERT INTO referrer_status SELECT * FROM referrer_status LIMIT 1;
		UPDATE model_fingerprints SET content = content || 'y' WHERE model = 'referrer_status'`); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		ran, err := pipeline.RunChecksIfChanged(ctx, db)
		var ce *pipeline.CheckError
		if !ran || !errors.As(err, &ce) {
			t.Fatalf("broken referrer_status, try %d: ran %v, error %v; want the checks to run and fail", i+1, ran, err)
		}
	}
}
