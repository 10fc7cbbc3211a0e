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
