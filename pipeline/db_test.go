package pipeline

import (
	"context"
	"path/filepath"
	"testing"
)

// [duckdb] compress_text decides whether DuckDB may compress text with FSST:
// off by default (faster loads and builds, a larger file).
func TestTextCompressionFollowsTheSetting(t *testing.T) {
	ctx := context.Background()
	for _, compress := range []bool{true, false} {
		db, err := Open(ctx, filepath.Join(t.TempDir(), "referrals.duckdb"), Settings{Threads: 1, CompressText: compress})
		if err != nil {
			t.Fatal(err)
		}
		// Long, distinct texts sharing their words: DuckDB's pick for them is FSST when allowed.
		if _, err := db.ExecContext(ctx, `CREATE TABLE t AS
			SELECT 'Dr. Referrer number ' || i || ', MD, Springfield Family Practice, Suite ' || (i % 997) AS name
			FROM range(300000) r(i);
			CHECKPOINT`); err != nil {
			t.Fatal(err)
		}
		var fsst int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pragma_storage_info('t') WHERE compression = 'FSST'`).Scan(&fsst); err != nil {
			t.Fatal(err)
		}
		db.Close()
		switch {
		case compress && fsst == 0:
			t.Errorf("compress_text = true: no FSST segment, so this test's text does not show the setting's effect")
		case !compress && fsst > 0:
			t.Errorf("compress_text = false: %d FSST segments written", fsst)
		}
	}
}
