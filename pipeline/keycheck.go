package pipeline

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/referrals/referrals/internal/clientkey"
)

// ErrOtherSecret means the secret given is not the one that keyed the
// clients already in the database: keyed with it, the same clients would get
// other keys and count as new.
var ErrOtherSecret = errors.New("the client-key secret is not the one that keyed the clients in the database")

// ClientKeyState returns the fingerprint of the secret that keyed the
// database's clients ("" when none is recorded: a new database, or one made
// before the record was kept) and whether it holds loaded rows. The schema
// must be in place (EnsureSchema, which every caller has run).
func ClientKeyState(ctx context.Context, db *sql.DB) (fingerprint string, loaded bool, err error) {
	var fp sql.NullString
	err = db.QueryRowContext(ctx, `SELECT (SELECT max(fingerprint) FROM key_check),
		EXISTS (SELECT 1 FROM ingest_files) OR EXISTS (SELECT 1 FROM raw_appointments) OR EXISTS (SELECT 1 FROM raw_claim_lines)`).Scan(&fp, &loaded)
	if err != nil {
		return "", false, fmt.Errorf("read which secret keyed the clients: %w", err)
	}
	return fp.String, loaded, nil
}

// CheckClientKey checks secret against the one recorded as having keyed the
// database's clients (ErrOtherSecret when they differ). With record (the
// commands that key rows), it records secret where none is, or where the
// database holds no loaded row yet (nothing was keyed with the one recorded).
func CheckClientKey(ctx context.Context, db *sql.DB, secret []byte, record bool) error {
	recorded, loaded, err := ClientKeyState(ctx, db)
	if err != nil {
		return err
	}
	fp := clientkey.Fingerprint(secret)
	switch {
	case recorded == fp:
		return nil
	case loaded && recorded != "":
		return ErrOtherSecret
	case !record:
		return nil
	}
	if _, err := db.ExecContext(ctx, `DELETE FROM key_check; INSERT INTO key_check VALUES (?)`, fp); err != nil {
		return fmt.Errorf("record which secret keys the clients: %w", err)
	}
	return nil
}
