package pipeline

import (
	"context"
	"database/sql"
	"fmt"
)

// DatabaseOwner returns the configuration file recorded as the one whose
// exports the database holds ("" when none is: a new database, one made before
// the record was kept, or one only the built-in settings used). The schema must
// be in place (EnsureSchema).
func DatabaseOwner(ctx context.Context, db *sql.DB) (string, error) {
	var f sql.NullString
	if err := db.QueryRowContext(ctx, `SELECT max(config_file) FROM database_owner`).Scan(&f); err != nil {
		return "", fmt.Errorf("read which configuration the database belongs to: %w", err)
	}
	return f.String, nil
}

// RecordDatabaseOwner records file as the configuration whose exports the
// database holds.
func RecordDatabaseOwner(ctx context.Context, db *sql.DB, file string) error {
	if _, err := db.ExecContext(ctx, `DELETE FROM database_owner; INSERT INTO database_owner VALUES (?)`, file); err != nil {
		return fmt.Errorf("record which configuration the database belongs to: %w", err)
	}
	return nil
}

// StoredDatabaseOwner is DatabaseOwner of the database file at path, read
// without changing it (attached read-only, as StoredClientKeyState reads), for
// `referrals check`. A database without the record reads as "". While a run
// holds the file, the error is ErrLocked.
func StoredDatabaseOwner(ctx context.Context, path string) (string, error) {
	mem, err := Open(ctx, ":memory:", Settings{Threads: 1})
	if err != nil {
		return "", err
	}
	defer mem.Close()
	if _, err := mem.ExecContext(ctx, "ATTACH "+QuoteString(path)+" AS stored (READ_ONLY)"); err != nil {
		return "", classifyOpenError(path, err)
	}
	var n int
	if err := mem.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_tables() WHERE database_name = 'stored' AND schema_name = 'main' AND table_name = 'database_owner'`).Scan(&n); err != nil {
		return "", fmt.Errorf("read the tables of %s: %w", path, err)
	}
	if n == 0 {
		return "", nil
	}
	var f sql.NullString
	if err := mem.QueryRowContext(ctx, `SELECT max(config_file) FROM stored.database_owner`).Scan(&f); err != nil {
		return "", fmt.Errorf("read which configuration the database %s belongs to: %w", path, err)
	}
	return f.String, nil
}
