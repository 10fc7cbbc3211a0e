package pipeline

import (
	"context"
	"path/filepath"
	"testing"
)

// FastText must keep FSST out of the text DuckDB writes, and only then: the
// same strings, which DuckDB compresses with FSST by default, are written
// with the setting off and on, and the compressions of their segments read
// back from the file.
func TestFastTextLeavesOutFSST(t *testing.T) {
	ctx := context.Background()
	for _, fast := range []bool{false, true} {
		db, err := Open(ctx, filepath.Join(t.TempDir(), "t.duckdb"), Settings{Threads: 1, FastText: fast})
		if err != nil {
			t.Fatal(err)
		}
		// Unique ids built from a few words: too many distinct values for a
		// dictionary, few enough symbols for FSST.
		for _, q := range []string{
			`CREATE TABLE t AS SELECT 'appointment ' || i || ' at the northside clinic with dr ' || (i % 97) AS s FROM range(300000) r(i)`,
			`CHECKPOINT`,
		} {
			if _, err := db.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		var fsst, segments int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE compression = 'FSST'), count(*)
			FROM pragma_storage_info('t') WHERE segment_type = 'VARCHAR'`).Scan(&fsst, &segments); err != nil {
			t.Fatal(err)
		}
		db.Close()
		if segments == 0 {
			t.Fatalf("FastText=%v: no text segments in the file", fast)
		}
		if fast && fsst != 0 {
			t.Errorf("FastText on: %d of %d text segments are FSST", fsst, segments)
		}
		if !fast && fsst == 0 {
			t.Errorf("FastText off: none of %d text segments is FSST; the test no longer shows what the setting leaves out", segments)
		}
	}
}
