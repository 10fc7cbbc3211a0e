package pipeline

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"

	"github.com/referrals/referrals/internal/config"
)

// schema creates the persistent tables the loader writes. They are created
// once and kept: later runs only add to them.
var schema = []string{
	`CREATE SEQUENCE IF NOT EXISTS ingest_file_seq START 1`,
	`CREATE TABLE IF NOT EXISTS ingest_files (
		file_id INTEGER PRIMARY KEY,
		source VARCHAR NOT NULL,
		path VARCHAR NOT NULL,
		sha256 VARCHAR NOT NULL,
		encoding VARCHAR,
		rows_loaded BIGINT,
		rows_rejected BIGINT,
		rows_replaced BIGINT,
		loaded_at TIMESTAMP,
		size BIGINT,
		mtime TIMESTAMP
	)`,
	// How far the once-per-run replacement of re-exported rows has got.
	`CREATE TABLE IF NOT EXISTS ingest_state (source VARCHAR, replaced_through INTEGER)`,
	`CREATE TABLE IF NOT EXISTS ingest_problems (
		problem_id INTEGER,
		source VARCHAR,
		path VARCHAR,
		sha256 VARCHAR,
		problem VARCHAR,
		seen_at TIMESTAMP
	)`,
	`CREATE TABLE IF NOT EXISTS rejected_rows (
		file_id INTEGER,
		path VARCHAR,
		line BIGINT,
		column_name VARCHAR,
		error_type VARCHAR,
		message VARCHAR
	)`,
	`CREATE TABLE IF NOT EXISTS raw_appointments (
		appointment_id VARCHAR,
		client_key UBIGINT,
		clinician VARCHAR,
		appt_date DATE,
		appt_time VARCHAR,
		status VARCHAR,
		service VARCHAR,
		referral_source VARCHAR,
		referred_to VARCHAR,
		has_referred_to BOOLEAN,
		referrer_npi VARCHAR,
		file_id INTEGER
	)`,
	`CREATE TABLE IF NOT EXISTS raw_claim_lines (
		line_id VARCHAR,
		client_key UBIGINT,
		service_date DATE,
		rendering_provider VARCHAR,
		rendering_npi VARCHAR,
		referring_provider VARCHAR,
		referring_npi VARCHAR,
		payer VARCHAR,
		cpt VARCHAR,
		charge DECIMAL(12,2),
		paid DECIMAL(12,2),
		file_id INTEGER
	)`,
	// How far the per-client tables (queries/clients) are built: through
	// which ingest file, by which SQL (queries.ClientFingerprint).
	`CREATE TABLE IF NOT EXISTS model_state (built_through INTEGER, fingerprint VARCHAR)`,
	// What each staging and mart table was built from (a fingerprint of its
	// SQL, the variables and its input tables' contents) and what it holds:
	// a table whose inputs did not change is kept, not rebuilt.
	`CREATE TABLE IF NOT EXISTS model_fingerprints (model VARCHAR, inputs VARCHAR, content VARCHAR)`,
	// The key of the model contents the data checks last passed on (RunChecksIfChanged).
	`CREATE TABLE IF NOT EXISTS check_state (key VARCHAR)`,
	// The per-client tables' content digests (row count, sum of row hashes), kept as
	// their rows change so that fingerprints need not scan them.
	`CREATE TABLE IF NOT EXISTS client_content (model VARCHAR, n BIGINT, total HUGEINT)`,
	// Clients whose earlier rows were replaced by a re-export since then.
	`CREATE TABLE IF NOT EXISTS dirty_clients (client_key UBIGINT)`,
	`CREATE TABLE IF NOT EXISTS ref_roster (
		name VARCHAR, aliases VARCHAR, npi VARCHAR, start_date DATE, end_date DATE,
		specialties VARCHAR, payers VARCHAR, accepting BOOLEAN
	)`,
	`CREATE TABLE IF NOT EXISTS ref_directory (
		name VARCHAR, aliases VARCHAR, npi VARCHAR, category VARCHAR, organisation VARCHAR,
		point_person VARCHAR, channel BOOLEAN
	)`,
	`CREATE TABLE IF NOT EXISTS ref_aliases (alias VARCHAR, referrer VARCHAR)`,
	`CREATE TABLE IF NOT EXISTS ref_channels (name VARCHAR)`,
	// A fingerprint of the rows the ref_* tables hold, to leave them alone
	// when the reference files did not change.
	`CREATE TABLE IF NOT EXISTS ref_state (fingerprint VARCHAR)`,
	// What the roster's names gave warnings of when it was loaded (rosterNameClashes):
	// said again every night without keying the names again.
	`CREATE TABLE IF NOT EXISTS ref_warnings (message VARCHAR)`,
	// One row per finished run or ingest (Finish).
	`CREATE TABLE IF NOT EXISTS run_log (
		command VARCHAR, started_at TIMESTAMP, finished_at TIMESTAMP, report_month DATE,
		files_loaded INTEGER, rows_loaded BIGINT, rows_rejected BIGINT, rows_replaced BIGINT
	)`,
	// A fingerprint of the secret that keyed the clients (clientkey.Fingerprint), so
	// that a run with another secret stops instead of counting every client as new.
	`CREATE TABLE IF NOT EXISTS key_check (fingerprint VARCHAR)`,
	// The configuration file whose exports the database holds (DatabaseOwner), so
	// that a second practice's configuration naming the same database is refused
	// instead of loading its exports among the first's.
	`CREATE TABLE IF NOT EXISTS database_owner (config_file VARCHAR, database VARCHAR)`,
	// Whether the clients were keyed canonical (clientkey.Canonical: 00501 as 501):
	// NULL in a database whose clients were keyed before, which goes on keying them
	// as written until --rebuild keys them again (ClientKeyCanonical).
	`ALTER TABLE key_check ADD COLUMN IF NOT EXISTS canonical BOOLEAN`,
	// Whether that secret came from REFERRALS_CLIENT_KEY (true) or the key file
	// (false; NULL before it was kept), so that a command run without the
	// variable that cron sets is told to set it, not to restore a key file that
	// never was (RecordKeySource).
	`ALTER TABLE key_check ADD COLUMN IF NOT EXISTS from_env BOOLEAN`,
	// The appointments loaded per status spelling, kept as the rows come and are
	// replaced (replaceEarlierVersions), so that the spellings no class takes are
	// counted without a pass over every appointment (UnknownStatuses); and whether
	// they are counted (a database made before, or emptied by --rebuild, is not).
	`CREATE TABLE IF NOT EXISTS status_counts (status VARCHAR, n BIGINT)`,
	`CREATE TABLE IF NOT EXISTS status_counts_state (counted BOOLEAN)`,
	// The reading settings (ReadSettings) each source's loaded files were read with.
	`CREATE TABLE IF NOT EXISTS read_settings (source VARCHAR, settings VARCHAR)`,
	// A ledger made before the file's size and modification time were kept.
	`ALTER TABLE ingest_files ADD COLUMN IF NOT EXISTS size BIGINT`,
	`ALTER TABLE ingest_files ADD COLUMN IF NOT EXISTS mtime TIMESTAMP`,
	// The fields a loaded file had a column for (comma-separated), so that a column
	// missing from a later export can be named (MissingColumns).
	`ALTER TABLE ingest_files ADD COLUMN IF NOT EXISTS fields VARCHAR`,
	// How each file was read: its delimiter, its header row (a JSON list) and the
	// column each field was taken from (a JSON object, field to 0-based column), so
	// that a reading setting changed to what the files were read with anyway is no
	// change (ChangedReadSettings).
	`ALTER TABLE ingest_files ADD COLUMN IF NOT EXISTS delimiter VARCHAR`,
	`ALTER TABLE ingest_files ADD COLUMN IF NOT EXISTS headers VARCHAR`,
	`ALTER TABLE ingest_files ADD COLUMN IF NOT EXISTS mapping VARCHAR`,
	// What a problem is of: 'file', an export file that could not be loaded (NULL in
	// a database made before patterns were recorded), or 'pattern', a file pattern
	// of the configuration that matches no file (its path is the pattern).
	`ALTER TABLE ingest_problems ADD COLUMN IF NOT EXISTS kind VARCHAR`,
}

// EnsureSchema creates the loader's tables if they are missing, and adds the
// columns a database made by an earlier version lacks. The loader, the models and
// the reference files each call it (3 ms); what else an earlier version's database
// needs is UpgradeDatabase's, which the commands call once, as they open it.
func EnsureSchema(ctx context.Context, db *sql.DB) error {
	for _, q := range schema {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("create schema: %w", err)
		}
	}
	return nil
}

// UpgradeDatabase is EnsureSchema, then the rewording of rejects an earlier
// version recorded and the conversion of its client keys (numberClientKeys); it
// says whether the keys were converted. The commands call it first, once per
// run (12-18 ms at 10M exported rows: run at every EnsureSchema, five times a
// run, it took 60 ms of a 0.9 s incremental night), so that the one-time
// conversion is logged.
func UpgradeDatabase(ctx context.Context, db *sql.DB) (keysConverted bool, err error) {
	if err := EnsureSchema(ctx, db); err != nil {
		return false, err
	}
	// Rejects recorded before November 2026 quote any value DuckDB could not read,
	// a patient's name or client id shifted into a date column among them: they are
	// worded as the loader words them now (hideCastValue), once.
	// The default years: the settings are not known here (a reject of a date
	// before a lower min_year is given by its year, no harm).
	hide := hideCastValue("message", yearsOf(config.Default().Ingest))
	if _, err := db.ExecContext(ctx, `UPDATE rejected_rows SET message = `+hide+`
		WHERE error_type = 'CAST' AND contains(message, 'Could not convert string "') AND message IS DISTINCT FROM (`+hide+`)`); err != nil {
		return false, fmt.Errorf("hide the values of earlier rejects: %w", err)
	}
	// And a date out of range by its year alone (a birth date mapped as the date).
	if _, err := db.ExecContext(ctx, `UPDATE rejected_rows
		SET message = regexp_replace(message, ' has date ([0-9]{4})-[0-9]{2}-[0-9]{2}, outside', ' has a date in \1, outside')
		WHERE error_type = 'OUT OF RANGE' AND regexp_matches(message, ' has date [0-9]{4}-[0-9]{2}-[0-9]{2}, outside')`); err != nil {
		return false, fmt.Errorf("hide the dates of earlier rejects: %w", err)
	}
	// And a two-digit year read as written, by that year alone too.
	if _, err := db.ExecContext(ctx, `UPDATE rejected_rows
		SET message = regexp_replace(message, ' has date 0*([0-9]{1,2})-[0-9]{2}-[0-9]{2}, a two-digit year read as written;', ' has a date with a two-digit year, read as the year \1;')
		WHERE error_type = 'OUT OF RANGE' AND regexp_matches(message, ' has date [0-9]{4}-[0-9]{2}-[0-9]{2}, a two-digit year read as written;')`); err != nil {
		return false, fmt.Errorf("hide the dates of earlier rejects: %w", err)
	}
	// And an amount with a misplaced separator that is no amount's shape (a phone or
	// social security number: 555,867,5309) as badAmountMessage words it now: the
	// value and the number the reader would load described, not repeated.
	if _, err := db.ExecContext(ctx, `UPDATE rejected_rows
		SET message = regexp_replace(regexp_replace(message, '^the amount .*? holds a ', 'the amount '||`+QuoteString(hiddenNumber)+`||' holds a '),
			' and load [0-9.]+, so the row was skipped', ' and load its digits as one number, so the row was skipped')
		WHERE error_type = 'CAST' AND regexp_matches(message, '^the amount .* holds a (comma|point) that does not separate thousands')
			AND NOT starts_with(message, 'the amount '||`+QuoteString(hiddenNumber)+`)
			AND NOT regexp_full_match(regexp_extract(message, '^the amount (.*?) holds a (comma|point) that', 1), `+QuoteString(shownAmountPattern)+`)`); err != nil {
		return false, fmt.Errorf("hide the amounts of earlier rejects: %w", err)
	}
	return numberClientKeys(ctx, db)
}

var quotedValue = regexp.MustCompile(`'[^']*'`)

// numberClientKeys converts a database made by an earlier version to the
// keys the loader stores now, the UBIGINT of the HMAC's first 64 bits: from
// the 64 hex characters of the whole HMAC (before November 2026) or from the
// UHUGEINT of its first 128 bits (November 2026). The same clients keep the
// same keys, so rows loaded after the conversion join the older ones. The
// per-client and model tables are then built again from the raw rows, once.
func numberClientKeys(ctx context.Context, db *sql.DB) (bool, error) {
	rows, err := db.QueryContext(ctx, `SELECT table_name, data_type FROM duckdb_columns()
		WHERE schema_name = 'main' AND column_name = 'client_key' AND data_type IN ('VARCHAR', 'UHUGEINT')
		  AND table_name IN ('raw_appointments', 'raw_claim_lines', 'dirty_clients')`)
	if err != nil {
		return false, fmt.Errorf("check client keys: %w", err)
	}
	type column struct{ table, typ string }
	var old []column
	for rows.Next() {
		var c column
		if err := rows.Scan(&c.table, &c.typ); err != nil {
			rows.Close()
			return false, err
		}
		old = append(old, c)
	}
	rows.Close()
	if len(old) == 0 {
		return false, nil
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	for _, c := range old {
		using := "(client_key >> 64)::UBIGINT"
		if c.typ == "VARCHAR" {
			using = "('0x' || substr(client_key, 1, 16))::UBIGINT"
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`ALTER TABLE %s ALTER client_key SET DATA TYPE UBIGINT USING %s`, c.table, using)); err != nil {
			// DuckDB's message quotes the value it could not read: a client key, which an
			// error must not show.
			msg := quotedValue.ReplaceAllString(redactClientError(err), "'…'")
			return false, fmt.Errorf("convert the client keys of %s to 64-bit numbers (the database is left as it was; was it edited by hand?): %s", c.table, msg)
		}
	}
	for _, q := range []string{`DELETE FROM model_state`, `DELETE FROM model_fingerprints`, `DELETE FROM client_content`, `DELETE FROM check_state`} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return false, fmt.Errorf("convert client keys: %w", err)
		}
	}
	return true, tx.Commit()
}
