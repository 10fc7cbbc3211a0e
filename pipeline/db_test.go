package pipeline

import (
	"context"
	"database/sql"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// FastText must keep FSST out of the text DuckDB writes into a file of DuckDB
// 1.0's format, and only then: the same strings, which DuckDB compresses with
// FSST by default, are written with the setting off and on, and the
// compressions of their segments read back from the file.
func TestFastTextLeavesOutFSST(t *testing.T) {
	ctx := context.Background()
	for _, fast := range []bool{false, true} {
		db, err := Open(ctx, filepath.Join(t.TempDir(), "t.duckdb"), Settings{Threads: 1, FastText: fast, EngineFormat: true})
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

// storageVersion is the storage format a database file was created in, as
// DuckDB tags it ("v1.5.0+").
func storageVersion(t *testing.T, db *sql.DB) string {
	t.Helper()
	var tags string
	if err := db.QueryRow(`SELECT tags::VARCHAR FROM duckdb_databases() WHERE NOT internal`).Scan(&tags); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`storage_version[:=] ?(v[\d.]+)`).FindStringSubmatch(tags)
	if m == nil {
		t.Fatalf("no storage version in the database's tags %q", tags)
	}
	return m[1]
}

// A new file is created in StorageVersion (or in the engine's default format
// where EngineFormat says so, as the bench's bare floor), and a file created
// before in the default format keeps it when Open opens it again: DuckDB
// writes into it only what its format allows (plain dictionaries, no
// dictionary of FSST-compressed entries), so older DuckDBs can still read it.
func TestNewFilesTakeTheStorageVersion(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	write := func(db *sql.DB, table string) {
		t.Helper()
		for _, q := range []string{
			`CREATE TABLE ` + table + ` AS SELECT 'appointment ' || i || ' at the northside clinic with dr ' || (i % 97) AS s FROM range(300000) r(i)`,
			`CHECKPOINT`,
		} {
			if _, err := db.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
	}
	compressions := func(db *sql.DB, table string) string {
		t.Helper()
		var c string
		if err := db.QueryRow(`SELECT string_agg(DISTINCT compression, ',' ORDER BY compression) FROM pragma_storage_info('` + table + `') WHERE segment_type = 'VARCHAR'`).Scan(&c); err != nil {
			t.Fatal(err)
		}
		return c
	}

	db, err := Open(ctx, filepath.Join(dir, "new.duckdb"), Settings{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	write(db, "t")
	if v := storageVersion(t, db); v != StorageVersion {
		t.Errorf("a new file is in storage version %s, want %s", v, StorageVersion)
	}
	if c := compressions(db, "t"); c != "DICT_FSST" {
		t.Errorf("text in a new file is compressed as %s, want DICT_FSST (the format's gain)", c)
	}
	db.Close()

	old := filepath.Join(dir, "old.duckdb")
	db, err = Open(ctx, old, Settings{Threads: 1, EngineFormat: true})
	if err != nil {
		t.Fatal(err)
	}
	write(db, "t")
	oldVersion := storageVersion(t, db)
	if oldVersion == StorageVersion {
		t.Fatalf("EngineFormat wrote storage version %s too", oldVersion)
	}
	db.Close()

	db, err = Open(ctx, old, Settings{Threads: 1})
	if err != nil {
		t.Fatalf("reopen a file in the default format: %v", err)
	}
	defer db.Close()
	write(db, "u")
	if v := storageVersion(t, db); v != oldVersion {
		t.Errorf("an existing file went from storage version %s to %s", oldVersion, v)
	}
	if c := compressions(db, "u"); strings.Contains(c, "DICT_FSST") {
		t.Errorf("text written into a file of storage version %s is compressed as %s, which its format does not allow", oldVersion, c)
	}
}
