package pipeline

import (
	"context"
	"database/sql"
	"fmt"
)

// DatabaseOwner returns the configuration file recorded as the one whose
// exports the database holds, and the path the database file had then ("" when
// none is: a new database, one made before the record was kept, or one only the
// built-in settings used). A database file copied or moved since has another
// path than the one recorded. The schema must be in place (EnsureSchema).
func DatabaseOwner(ctx context.Context, db *sql.DB) (configFile, database string, err error) {
	var f, d sql.NullString
	if err := db.QueryRowContext(ctx, `SELECT max(config_file), max(database) FROM database_owner`).Scan(&f, &d); err != nil {
		return "", "", fmt.Errorf("read which configuration the database belongs to: %w", err)
	}
	return f.String, d.String, nil
}

// RecordDatabaseOwner records file as the configuration whose exports the
// database, at path database, holds.
func RecordDatabaseOwner(ctx context.Context, db *sql.DB, file, database string) error {
	if _, err := db.ExecContext(ctx, `DELETE FROM database_owner; INSERT INTO database_owner VALUES (?, ?)`, file, database); err != nil {
		return fmt.Errorf("record which configuration the database belongs to: %w", err)
	}
	return nil
}

// StoredDatabaseOwner is DatabaseOwner of the database file at path, read
// without changing it (attached read-only, as StoredClientKeyState reads), for
// `referrals check`. A database without the record reads as "". While a run
// holds the file, the error is ErrLocked.
func StoredDatabaseOwner(ctx context.Context, path string) (configFile, database string, err error) {
	mem, err := Open(ctx, ":memory:", Settings{Threads: 1})
	if err != nil {
		return "", "", err
	}
	defer mem.Close()
	if _, err := mem.ExecContext(ctx, "ATTACH "+QuoteString(path)+" AS stored (READ_ONLY)"); err != nil {
		return "", "", classifyOpenError(path, err)
	}
	var n int
	if err := mem.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_tables() WHERE database_name = 'stored' AND schema_name = 'main' AND table_name = 'database_owner'`).Scan(&n); err != nil {
		return "", "", fmt.Errorf("read the tables of %s: %w", path, err)
	}
	if n == 0 {
		return "", "", nil
	}
	var f, d sql.NullString
	if err := mem.QueryRowContext(ctx, `SELECT max(config_file), max(database) FROM stored.database_owner`).Scan(&f, &d); err != nil {
		return "", "", fmt.Errorf("read which configuration the database %s belongs to: %w", path, err)
	}
	return f.String, d.String, nil
}
