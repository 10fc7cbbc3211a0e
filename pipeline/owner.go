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
