// Package pipeline loads the exports into DuckDB and builds the tables the
// reports read. It never formats a report.
package pipeline

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/duckdb/duckdb-go/v2"
)

// ErrLocked means another process holds the database file.
var ErrLocked = errors.New("database is in use by another process")

// Settings tune the DuckDB engine.
type Settings struct {
	Threads     int
	MemoryLimit string
	TempDir     string
	// FastText leaves out DuckDB's FSST string compression, trying dictionary
	// compression only. FSST's analysis runs on every text segment written,
	// whether or not it is chosen: at 10M exported rows it was 10-13 of the 93
	// CPU-seconds of a full run, for a file 17% smaller (543 MB against 654 MB).
	// Off, the engine's defaults are kept (the bench's floor reads with them).
	// It matters only in a file of DuckDB 1.0's format (EngineFormat, or one
	// created before StorageVersion): 1.5's format compresses text with a
	// dictionary of FSST-compressed entries, never with FSST alone.
	FastText bool
	// EngineFormat writes a new database file in the engine's default storage
	// format (DuckDB 1.0's, readable by every DuckDB since), as the bench's bare
	// floor does, rather than in StorageVersion.
	EngineFormat bool
}

// StorageVersion is the storage format of a new database file: DuckDB 1.5's,
// which only DuckDB 1.5 or later opens. Against the engine's default (DuckDB
// 1.0's, kept for old readers) it compresses text with a dictionary whose
// entries are FSST-compressed, among other changes: at 10M exported rows a
// full run took 20.5-21.2 s against 21.7-22.8 s in three alternating pairs,
// the file 480 MB against 666 MB (the night level, peak memory within the
// noise of a bench). A file
// keeps the format it was created in: one made before keeps DuckDB 1.0's, as
// DuckDB writes into a file only what its format allows.
const StorageVersion = "v1.5.0"

// Open opens (creating if needed) the DuckDB file at path with one
// connection, so that temporary tables (the CSV reader's rejects) stay
// visible between statements. The file is created readable by the owner
// only: it holds keyed client identifiers and billing amounts.
func Open(ctx context.Context, path string, s Settings) (*sql.DB, error) {
	if path != "" && path != ":memory:" {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("create folder for database %s: %w", path, err)
		}
	}
	dsn := path
	if dsn == ":memory:" {
		dsn = ""
	}
	// The format is a setting of the engine as it opens, not of a connection:
	// it goes in the connection string. An existing file keeps its own format
	// whatever this says, so every open passes the same setting (DuckDB refuses a
	// second open of one file with a different configuration in one process).
	// A path that a connection string would misread (a # starts a fragment, a %
	// an escape) keeps the engine's default format, and smaller_file applies to it.
	if dsn != "" && !s.EngineFormat && !strings.ContainsAny(dsn, "?#%") {
		dsn += "?storage_compatibility_version=" + StorageVersion
	}
	connector, err := duckdb.NewConnector(dsn, func(execer driver.ExecerContext) error {
		stmts := []string{
			"SET autoinstall_known_extensions = false",
			"SET autoload_known_extensions = false",
		}
		if s.FastText {
			stmts = append(stmts, "SET disabled_compression_methods = 'fsst'")
		}
		if s.Threads > 0 {
			stmts = append(stmts, fmt.Sprintf("SET threads = %d", s.Threads))
		}
		if s.MemoryLimit != "" {
			stmts = append(stmts, fmt.Sprintf("SET memory_limit = %s", QuoteString(s.MemoryLimit)))
		}
		if s.TempDir != "" {
			stmts = append(stmts, fmt.Sprintf("SET temp_directory = %s", QuoteString(SpillDir(path, s.TempDir))))
		}
		for _, q := range stmts {
			if _, err := execer.ExecContext(context.Background(), q, nil); err != nil {
				return fmt.Errorf("%s: %w", q, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, classifyOpenError(path, err)
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, classifyOpenError(path, err)
	}
	if path != "" && path != ":memory:" {
		_ = os.Chmod(path, 0o600)
		_ = os.Chmod(path+".wal", 0o600)
	}
	return db, nil
}

// SpillDir is the folder DuckDB spills to for the database at path, given the
// configured spill folder dir: a folder of the database's own inside it. DuckDB
// names its spill files after their block size, not after the database
// (duckdb_temp_storage_S96K-0.tmp), and removes those it finds as it closes:
// two databases spilling into one folder at once (two practices' nightly
// runs sharing a temp_directory) read each other's blocks, and one failed with
// "Could not read enough bytes" while the other crashed. The folder is named
// after the database file and a hash of its absolute path, so that two
// practices' referrals.duckdb get two; DuckDB makes it and removes it as it
// closes.
func SpillDir(path, dir string) string {
	if path == "" || path == ":memory:" {
		return dir
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	sum := sha256.Sum256([]byte(abs))
	return filepath.Join(dir, fmt.Sprintf("%s-%x.tmp", filepath.Base(abs), sum[:4]))
}

func classifyOpenError(path string, err error) error {
	if strings.Contains(err.Error(), "Could not set lock on file") || strings.Contains(err.Error(), "Conflicting lock") {
		return fmt.Errorf("%w: %s: %v", ErrLocked, path, err)
	}
	return fmt.Errorf("open database %s: %w", path, err)
}

// QuoteString quotes s as a SQL string literal. A NUL cannot stand in SQL text, so a
// string holding one becomes an expression that joins the parts with chr(0).
func QuoteString(s string) string {
	q := "'" + strings.ReplaceAll(s, "'", "''") + "'"
	if strings.Contains(s, "\x00") {
		q = "(" + strings.ReplaceAll(q, "\x00", "'||chr(0)||'") + ")"
	}
	return q
}

// QuoteIdent quotes s as a SQL identifier.
func QuoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// appendRows appends rows to table on conn, in its open transaction if any:
// the way Go-made rows go in (reference files, a load's small temporary
// tables). DuckDB parses literal INSERT statements at about 120 ms per 2,000
// rows. Values are strings, integers, bools, time.Time (dates) or nil; not
// float64 into a DECIMAL, which the appender stores wrongly.
func appendRows(conn *sql.Conn, table string, rows [][]any) error {
	return conn.Raw(func(dc any) error {
		dconn, ok := dc.(driver.Conn)
		if !ok {
			return fmt.Errorf("not a DuckDB connection: %T", dc)
		}
		a, err := duckdb.NewAppenderFromConn(dconn, "", table)
		if err != nil {
			return err
		}
		vals := make([]driver.Value, 0, 8)
		for _, r := range rows {
			vals = vals[:0]
			for _, v := range r {
				vals = append(vals, v)
			}
			if err := a.AppendRow(vals...); err != nil {
				a.Close()
				return err
			}
		}
		return a.Close()
	})
}
