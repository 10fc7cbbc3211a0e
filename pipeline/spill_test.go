package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// Two practices whose configurations name one temp_directory, their nightly
// runs overlapping: DuckDB names its spill files after their block size, not
// after the database, so in one folder the two read each other's blocks (one
// failed with "Could not read enough bytes", the other crashed). Each database
// spills into a folder of its own inside the one configured, removed as it
// closes.
func TestTwoDatabasesSpillIntoOneFolder(t *testing.T) {
	dir := t.TempDir()
	spill := filepath.Join(dir, "spill")
	if err := os.MkdirAll(spill, 0o700); err != nil {
		t.Fatal(err)
	}
	const q = `SELECT sum(hash(s) % 1000)::BIGINT FROM (SELECT md5(i::VARCHAR) || md5((i + 1)::VARCHAR) AS s FROM range(1500000) t(i) ORDER BY s)`
	var wg sync.WaitGroup
	errs := make([]error, 2)
	sums := make([]int64, 2)
	for i, practice := range []string{"a", "b"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Both files are referrals.duckdb, as copied configurations name them.
			db, err := Open(context.Background(), filepath.Join(dir, practice, "referrals.duckdb"), Settings{Threads: 1, MemoryLimit: "40MB", TempDir: spill})
			if err != nil {
				errs[i] = err
				return
			}
			defer db.Close()
			errs[i] = db.QueryRow(q).Scan(&sums[i])
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("database %d: %v", i, err)
		}
	}
	if sums[0] != sums[1] {
		t.Errorf("the same query over the same rows gave %d and %d", sums[0], sums[1])
	}
	left, err := os.ReadDir(spill)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range left {
		t.Errorf("left in the spill folder after both closed: %s", e.Name())
	}
}
