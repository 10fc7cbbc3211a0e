package pipeline

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

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
	case recorded == fp && (loaded || !record):
		return nil
	case loaded && recorded != "":
		return ErrOtherSecret
	case !record:
		return nil
	}
	// A database that holds no row yet keys its clients canonical; one whose rows
	// were keyed before the secret was recorded keyed them as written.
	if _, err := db.ExecContext(ctx, `DELETE FROM key_check; INSERT INTO key_check (fingerprint, canonical) VALUES (?, ?)`, fp, !loaded); err != nil {
		return fmt.Errorf("record which secret keys the clients: %w", err)
	}
	return nil
}

// RecordKeySource records whether the secret that keys the database's clients
// came from the environment variable (fromEnv) or the key file. Run it after
// CheckClientKey recorded the secret.
func RecordKeySource(ctx context.Context, db *sql.DB, fromEnv bool) error {
	if _, err := db.ExecContext(ctx, `UPDATE key_check SET from_env = ? WHERE from_env IS DISTINCT FROM ?`, fromEnv, fromEnv); err != nil {
		return fmt.Errorf("record where the client-key secret comes from: %w", err)
	}
	return nil
}

// KeyFromEnv reports whether the secret that keyed the database's clients came
// from the environment variable: valid only when that was recorded
// (RecordKeySource).
func KeyFromEnv(ctx context.Context, db *sql.DB) (sql.NullBool, error) {
	var fromEnv sql.NullBool
	if err := db.QueryRowContext(ctx, `SELECT bool_or(from_env) FROM key_check`).Scan(&fromEnv); err != nil {
		return fromEnv, fmt.Errorf("read where the client-key secret came from: %w", err)
	}
	return fromEnv, nil
}

// ClientKeyCanonical reports whether the database's clients are keyed
// canonical (clientkey.Canonical: an id of digits alone without its leading
// zeros, so that 00501 in one export and 501 in another, saved through a
// spreadsheet, are one client). A database whose clients were keyed before
// goes on keying them as written, or the same client would get a second key;
// `run --rebuild` keys them again, canonical. It reads what CheckClientKey
// recorded (run it first).
func ClientKeyCanonical(ctx context.Context, db *sql.DB) (bool, error) {
	var canonical bool
	if err := db.QueryRowContext(ctx, `SELECT coalesce(bool_and(canonical), false) FROM key_check`).Scan(&canonical); err != nil {
		return false, fmt.Errorf("read how the clients are keyed: %w", err)
	}
	return canonical, nil
}

// Stored is what `referrals check` reads of a database file, attached read-only
// once, so that it can compare a secret and a configuration with the database's
// without creating, upgrading or writing it. A database of an older version
// that lacks a table or a column reads as without it.
type Stored struct {
	Fingerprint string // ClientKeyState's: the secret that keyed its clients ("" when none is recorded)
	Loaded      bool   // and whether it holds a loaded row
	KeyFromEnv  bool   // KeyFromEnv's: that secret came from REFERRALS_CLIENT_KEY (false where never recorded)
	OwnerConfig string // DatabaseOwner's: the configuration file whose exports it holds ("" when none is recorded)
	OwnerDB     string // and the path the database file had then
}

// ReadStored reads Stored of the database file at path. While a run holds the
// file, the error is ErrLocked.
func ReadStored(ctx context.Context, path string) (Stored, error) {
	var st Stored
	mem, err := Open(ctx, ":memory:", Settings{Threads: 1})
	if err != nil {
		return st, err
	}
	defer mem.Close()
	if _, err := mem.ExecContext(ctx, "ATTACH "+QuoteString(path)+" AS stored (READ_ONLY)"); err != nil {
		return st, classifyOpenError(path, err)
	}
	has := map[string]bool{} // "table" and "table.column"
	rows, err := mem.QueryContext(ctx, `SELECT table_name, column_name FROM duckdb_columns() WHERE database_name = 'stored' AND schema_name = 'main'`)
	if err != nil {
		return st, fmt.Errorf("read the tables of %s: %w", path, err)
	}
	for rows.Next() {
		var t, c string
		if err := rows.Scan(&t, &c); err != nil {
			rows.Close()
			return st, err
		}
		has[t], has[t+"."+c] = true, true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return st, err
	}
	fp, fromEnv, owner, ownerDB, any := "NULL", "NULL", "NULL", "NULL", []string{"false"}
	if has["key_check"] {
		fp = "(SELECT max(fingerprint) FROM stored.key_check)"
	}
	if has["key_check.from_env"] {
		fromEnv = "(SELECT bool_or(from_env) FROM stored.key_check)"
	}
	if has["database_owner"] {
		owner, ownerDB = "(SELECT max(config_file) FROM stored.database_owner)", "(SELECT max(database) FROM stored.database_owner)"
	}
	for _, t := range []string{"ingest_files", "raw_appointments", "raw_claim_lines"} {
		if has[t] {
			any = append(any, "EXISTS (SELECT 1 FROM stored."+t+")")
		}
	}
	var f, o, od sql.NullString
	var env sql.NullBool
	q := "SELECT " + fp + "::VARCHAR, " + strings.Join(any, " OR ") + ", " + fromEnv + "::BOOLEAN, " + owner + "::VARCHAR, " + ownerDB + "::VARCHAR"
	if err := mem.QueryRowContext(ctx, q).Scan(&f, &st.Loaded, &env, &o, &od); err != nil {
		return st, fmt.Errorf("read which secret keyed the clients of %s, and whose exports it holds: %w", path, err)
	}
	st.Fingerprint, st.KeyFromEnv, st.OwnerConfig, st.OwnerDB = f.String, env.Valid && env.Bool, o.String, od.String
	return st, nil
}
