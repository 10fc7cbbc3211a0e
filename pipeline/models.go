package pipeline

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/referrals/referrals/internal/config"
	"github.com/referrals/referrals/queries"
)

// Vars are the DuckDB variables the models read with getvariable().
type Vars map[string]any

// SetVars sets each variable on the connection with SET VARIABLE.
func SetVars(ctx context.Context, db *sql.DB, vars Vars) error {
	names := make([]string, 0, len(vars))
	for k := range vars {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		lit, err := sqlLiteral(vars[k])
		if err != nil {
			return fmt.Errorf("variable %s: %w", k, err)
		}
		if _, err := db.ExecContext(ctx, fmt.Sprintf("SET VARIABLE %s = %s", k, lit)); err != nil {
			return fmt.Errorf("set variable %s: %w", k, err)
		}
	}
	return nil
}

func sqlLiteral(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "NULL", nil
	case int:
		return fmt.Sprintf("%d::INTEGER", x), nil
	case int64:
		return fmt.Sprintf("%d::BIGINT", x), nil
	case float64:
		return fmt.Sprintf("%v::DOUBLE", x), nil
	case bool:
		return fmt.Sprintf("%v", x), nil
	case string:
		return QuoteString(x), nil
	case time.Time:
		return fmt.Sprintf("DATE '%s'", x.Format("2006-01-02")), nil
	case map[string]string:
		// status_words: a MAP(VARCHAR, VARCHAR), in key order, so that one mapping
		// is always written alike.
		var items []string
		for _, k := range slices.Sorted(maps.Keys(x)) {
			items = append(items, QuoteString(k)+": "+QuoteString(x[k]))
		}
		return "MAP {" + strings.Join(items, ", ") + "}::MAP(VARCHAR, VARCHAR)", nil
	default:
		return "", fmt.Errorf("unsupported type %T", v)
	}
}

// Prepare defines the models' macros and variables on the connection; the
// explain command needs them too.
func Prepare(ctx context.Context, db *sql.DB, vars Vars) error {
	if _, err := db.ExecContext(ctx, queries.MacrosSQL); err != nil {
		return fmt.Errorf("queries/macros.sql: %w", err)
	}
	return SetVars(ctx, db, vars)
}

// ModelTiming is how long one model took.
type ModelTiming struct {
	Name     string
	Rows     int64
	Duration time.Duration
	Kept     bool // its inputs had not changed, so it was not rebuilt
}

// BuildModels brings the per-client tables up to date (buildClientModels),
// then runs every staging and mart model in dependency order, each as
// CREATE OR REPLACE TABLE name AS (its SELECT) unless the fingerprint of what
// it reads is unchanged (then the table is kept), all in one transaction: a
// run killed halfway leaves the previous night's tables whole.
func BuildModels(ctx context.Context, db *sql.DB, vars Vars, log *slog.Logger) ([]ModelTiming, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	models, err := queries.Models()
	if err != nil {
		return nil, err
	}
	if err := Prepare(ctx, db, vars); err != nil {
		return nil, err
	}
	if err := EnsureSchema(ctx, db); err != nil {
		return nil, err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var timings []ModelTiming
	ct, err := buildClientModels(ctx, tx, vars, log)
	timings = append(timings, ct...)
	if err != nil {
		return timings, err
	}
	// The day of the run, for the models that must not trust a date after it
	// (pending_intakes). A table, not a variable: the models that read it are
	// fingerprinted with it, and what reads only the models (the checks, the
	// cached report parts) stays as it is while their content does.
	if _, err := tx.ExecContext(ctx, `CREATE OR REPLACE TABLE run_context AS SELECT current_date AS run_date`); err != nil {
		return timings, fmt.Errorf("record the day of the run: %w", err)
	}
	fp, err := newFingerprints(ctx, tx, vars)
	if err != nil {
		return timings, err
	}
	for _, m := range models {
		start := time.Now()
		inputs, err := fp.inputs(ctx, m)
		if err != nil {
			return timings, fmt.Errorf("model %s: %w", m.Name, err)
		}
		if old, ok := fp.stored[m.Name]; ok && old.inputs == inputs && fp.tables[m.Name] {
			// Nothing it reads changed since it was built: keep it.
			fp.content[m.Name] = old.content
			t := ModelTiming{Name: m.Name, Duration: time.Since(start), Kept: true}
			timings = append(timings, t)
			log.Debug("model unchanged, kept", "model", m.Name, "took", t.Duration.Round(time.Millisecond))
			continue
		}
		q := fmt.Sprintf("CREATE OR REPLACE TABLE %s AS (\n%s\n)", QuoteIdent(m.Name), trimSQL(m.SQL))
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return timings, fmt.Errorf("model %s/%s.sql: %w", m.Layer, m.Name, err)
		}
		fp.tables[m.Name] = true
		n, content, err := tableContent(ctx, tx, m.Name)
		if err != nil {
			return timings, fmt.Errorf("model %s: %w", m.Name, err)
		}
		fp.content[m.Name] = content
		if err := fp.save(ctx, m.Name, inputs, content); err != nil {
			return timings, err
		}
		t := ModelTiming{Name: m.Name, Rows: n, Duration: time.Since(start)}
		timings = append(timings, t)
		log.Debug("model built", "model", m.Name, "rows", n, "took", t.Duration.Round(time.Millisecond))
	}
	start := time.Now()
	if err := tx.Commit(); err != nil {
		return timings, fmt.Errorf("commit models: %w", err)
	}
	log.Debug("models committed", "took", time.Since(start).Round(time.Millisecond))
	return timings, nil
}

// CheckFailure is one data check that returned rows.
type CheckFailure struct {
	Name    string
	Rows    int64
	Columns []string
	Sample  [][]string // up to 5 offending rows
	Hint    string     // where the cause is and what to do, when known
}

func (f CheckFailure) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "check %s failed: %d offending row(s)", f.Name, f.Rows)
	if len(f.Sample) > 0 {
		fmt.Fprintf(&b, "\n    %s", strings.Join(f.Columns, " | "))
		for _, r := range f.Sample {
			fmt.Fprintf(&b, "\n    %s", strings.Join(r, " | "))
		}
	}
	if f.Hint != "" {
		fmt.Fprintf(&b, "\n    %s", f.Hint)
	}
	return b.String()
}

// checkSources runs a failed check's sources query (queries/checks/sources): the
// export rows behind its offending rows, up to five, as a sentence that says
// where they are and what to do; "" when it finds none.
func checkSources(ctx context.Context, db *sql.DB, sources string) (string, error) {
	rows, err := db.QueryContext(ctx, "SELECT * FROM (\n"+trimSQL(sources)+"\n) ORDER BY 1, 2 LIMIT 5")
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var where []string
	for rows.Next() {
		var path, row, problem string
		if err := rows.Scan(&path, &row, &problem); err != nil {
			return "", err
		}
		where = append(where, path+": "+row+" "+problem)
	}
	if err := rows.Err(); err != nil || len(where) == 0 {
		return "", err
	}
	return "The export rows behind it (up to 5): " + strings.Join(where, "; ") +
		". Fix them in the scheduling or billing system and export those files again; the next run loads them (a re-exported row replaces the one loaded; a file only deleted from disk keeps its rows loaded until `referrals run --rebuild`).", nil
}

// CheckError is returned when one or more data checks fail.
type CheckError struct{ Failures []CheckFailure }

func (e *CheckError) Error() string {
	parts := make([]string, len(e.Failures))
	for i, f := range e.Failures {
		parts[i] = f.String()
	}
	return "data checks failed:\n  " + strings.Join(parts, "\n  ")
}

// RunChecksIfChanged runs the checks unless they last passed on the same
// model contents: every table a check reads is a staging or mart table whose
// content digest BuildModels records in model_fingerprints (a test proves it),
// so the same digests, checks, macros and variables give the same result. A
// quiet night keeps every mart, and the checks cost 0.2 s at 10M rows. ran
// says whether they ran.
func RunChecksIfChanged(ctx context.Context, db *sql.DB) (ran bool, err error) {
	key, err := checksKey(ctx, db)
	if err != nil {
		return false, err
	}
	var stored sql.NullString
	if err := db.QueryRowContext(ctx, `SELECT max(key) FROM check_state`).Scan(&stored); err != nil {
		return false, fmt.Errorf("read check state: %w", err)
	}
	if key != "" && stored.Valid && stored.String == key {
		return false, nil
	}
	if _, err := db.ExecContext(ctx, `DELETE FROM check_state`); err != nil {
		return false, fmt.Errorf("clear check state: %w", err)
	}
	if err := RunChecks(ctx, db); err != nil {
		return true, err
	}
	if key != "" {
		if _, err := db.ExecContext(ctx, `INSERT INTO check_state VALUES (?)`, key); err != nil {
			return true, fmt.Errorf("save check state: %w", err)
		}
	}
	return true, nil
}

// checksKey digests the checks, the macros and ModelsDigest; "" when no model
// content is recorded.
func checksKey(ctx context.Context, db *sql.DB) (string, error) {
	checks, err := queries.Checks()
	if err != nil {
		return "", err
	}
	models, err := ModelsDigest(ctx, db)
	if err != nil || models == "" {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00", queries.MacrosSQL)
	for _, c := range checks {
		fmt.Fprintf(h, "%s\x00%s\x00", c.Name, c.SQL)
	}
	fmt.Fprintf(h, "models=%s", models)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ModelsDigest digests what the staging and mart tables hold and were built
// with: the connection's variables (the models' parameters) and each table's
// content digest as BuildModels recorded it. "" when none is recorded. What
// reads only those tables (the data checks, the cached report parts) gives the
// same result while it is the same.
func ModelsDigest(ctx context.Context, db interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}) (string, error) {
	rows, err := db.QueryContext(ctx, `SELECT 'variable ' || name, value::VARCHAR FROM duckdb_variables()
		UNION ALL SELECT model, content FROM model_fingerprints ORDER BY 1`)
	if err != nil {
		return "", fmt.Errorf("models digest: %w", err)
	}
	defer rows.Close()
	h := sha256.New()
	n := 0
	for rows.Next() {
		var name string
		var value sql.NullString
		if err := rows.Scan(&name, &value); err != nil {
			return "", fmt.Errorf("models digest: %w", err)
		}
		fmt.Fprintf(h, "%s=%s/%v\x00", name, value.String, value.Valid)
		if !strings.HasPrefix(name, "variable ") {
			n++
		}
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("models digest: %w", err)
	}
	if n == 0 {
		return "", nil
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// RunChecks runs every check in queries/checks; a check passes when its
// SELECT returns no row.
func RunChecks(ctx context.Context, db *sql.DB) error {
	checks, err := queries.Checks()
	if err != nil {
		return err
	}
	var fails []CheckFailure
	for _, c := range checks {
		body := trimSQL(c.SQL)
		// One pass: the count of offending rows rides along with the first five.
		// Every column as text, whatever its type.
		rows, err := db.QueryContext(ctx, "SELECT count(*) OVER () AS \"check rows\", COLUMNS(*)::VARCHAR FROM (\n"+body+"\n) LIMIT 5")
		if err != nil {
			return fmt.Errorf("check %s: %w", c.Name, err)
		}
		cols, _ := rows.Columns()
		f := CheckFailure{Name: c.Name}
		if len(cols) > 0 {
			f.Columns = cols[1:]
		}
		for rows.Next() {
			vals := make([]sql.NullString, len(f.Columns))
			ptrs := []any{&f.Rows}
			for i := range vals {
				ptrs = append(ptrs, &vals[i])
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return fmt.Errorf("check %s: %w", c.Name, err)
			}
			r := make([]string, len(f.Columns))
			for i, v := range vals {
				r[i] = v.String
				// A check's offending rows go to logs and cron mail:
				// never show a client key there.
				if strings.Contains(strings.ToLower(f.Columns[i]), "client") || looksLikeKey(v.String) {
					r[i] = "(client key hidden)"
				}
			}
			f.Sample = append(f.Sample, r)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("check %s: %w", c.Name, err)
		}
		if len(f.Sample) > 0 {
			if c.Sources != "" {
				h, err := checkSources(ctx, db, c.Sources)
				if err != nil {
					return fmt.Errorf("check %s: find its rows in the exports (checks/sources/%s.sql): %w", c.Name, c.Name, err)
				}
				f.Hint = h
			}
			fails = append(fails, f)
		}
	}
	if len(fails) > 0 {
		return &CheckError{Failures: fails}
	}
	return nil
}

// ModelVars are the variables the models read, from the configuration and
// the report month (first day of the month).
func ModelVars(c config.Config, month time.Time) Vars {
	s := c.Stage
	return Vars{
		"report_month":          month,
		"window_months":         s.WindowMonths,
		"stage3_practice_share": s.Stage3PracticeShare,
		"stage3_min_referrals":  s.Stage3MinReferrals,
		"stage3_min_effective":  s.Stage3MinEffective,
		"stage3_max_pp_share":   s.Stage3MaxPPShare,
		"stage1_pp_share":       s.Stage1PPShare,
		"low_evidence_below":    s.LowEvidenceBelow,
		"ready_min_referrals":   s.ReadyMinReferrals,
		"recent_days":           s.RecentDays,
		"stalled_months":        s.StalledMonths,
		"lapsed_months":         s.LapsedMonths,
		"lapsed_min_referrals":  s.LapsedMinReferrals,
		"cooling_ratio":         s.CoolingRatio,
		"near_duplicate_cutoff": c.Referrers.NearDuplicateCutoff,
		// [scheduling.statuses], folded: what appointment_status reads before its
		// built-in words.
		"status_words": c.Scheduling.Statuses.Words(),
	}
}

// DefaultMonth is the last complete month: the month before today's, or,
// when the exports end earlier (sample data, a paused export), the last
// month the exports cover to its end (give or take a long weekend: data
// up to the 28th of a 31-day month counts as covering it).
func DefaultMonth(ctx context.Context, db *sql.DB, today time.Time) (time.Time, error) {
	firstOf := func(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC) }
	month := firstOf(today).AddDate(0, -1, 0)
	last, err := LastExportDate(ctx, db, today)
	if err != nil {
		return month, err
	}
	if !last.IsZero() {
		covered := firstOf(last.AddDate(0, 0, 4)).AddDate(0, -1, 0)
		if covered.Before(month) {
			month = covered
		}
	}
	return month, nil
}

// LastExportDate is the last date up to today of an appointment or a claim
// line loaded (the zero time when none is).
func LastExportDate(ctx context.Context, db *sql.DB, today time.Time) (time.Time, error) {
	var last sql.NullTime
	err := db.QueryRowContext(ctx, `SELECT max(d) FROM (
		SELECT max(appt_date) AS d FROM raw_appointments WHERE appt_date <= ?
		UNION ALL SELECT max(service_date) FROM raw_claim_lines WHERE service_date <= ?)`, today, today).Scan(&last)
	if err != nil || !last.Valid {
		return time.Time{}, err
	}
	return last.Time, nil
}

// ParseMonth reads YYYY-MM as the first day of that month.
func ParseMonth(s string) (time.Time, error) {
	t, err := time.Parse("2006-01", s)
	if err != nil {
		return time.Time{}, fmt.Errorf("month %q: write it as YYYY-MM, e.g. 2026-10", s)
	}
	return t, nil
}

// looksLikeKey reports a number of 15 to 20 digits: a keyed client id (a
// 64-bit key is below 10^14 once in about 180,000; an NPI has 10 digits).
func looksLikeKey(s string) bool {
	if len(s) < 15 || len(s) > 20 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// readsChanged says whether a per-client model reads a scope view (the rows of
// one export) with changed clients; a model that reads neither is recomputed.
func readsChanged(m queries.Model, changed map[string]bool) bool {
	views := m.Reads([]string{"scope_appointments", "scope_claim_lines"})
	for _, v := range views {
		if changed[v] {
			return true
		}
	}
	return len(views) == 0
}

// scopes pairs each view the per-client SQL reads with the raw table behind it.
var scopes = [][2]string{{"scope_appointments", "raw_appointments"}, {"scope_claim_lines", "raw_claim_lines"}}

// scopeViews points the scope views at their raw tables (copy ""), or at the
// temporary tables named copy followed by the view's name (tmp_hist_scope_appointments).
func scopeViews(copy string) []string {
	var qs []string
	for _, v := range scopes {
		from := v[1]
		if copy != "" {
			from = copy + v[0]
		}
		qs = append(qs, fmt.Sprintf("CREATE OR REPLACE TEMP VIEW %s AS SELECT * FROM %s", v[0], from))
	}
	return qs
}

// buildClientModels keeps the per-client tables of queries/clients. The first
// build, and any build after their SQL changed, reads every raw row. After
// that a night recomputes only the clients with rows loaded since the last
// build or with rows replaced by a re-export (dirty_clients): the cost
// follows the new data, not the history. Each model reads the views
// scope_appointments and scope_claim_lines, which hold all rows or only
// those clients'. A client that only gained rows is merged instead, where the
// table has a merge (queries/clients/merge): its kept rows and those of its new
// rows alone, so a night of such clients reads no raw row of history (copying
// the changed clients' history scans every raw row: 0.5 s at 10M rows).
func buildClientModels(ctx context.Context, tx *sql.Tx, vars Vars, log *slog.Logger) ([]ModelTiming, error) {
	models, err := queries.ClientModels()
	if err != nil {
		return nil, err
	}
	fingerprint, err := clientFingerprint(vars)
	if err != nil {
		return nil, err
	}
	var builtThrough sql.NullInt64
	var oldFingerprint sql.NullString
	var latest, present int64
	if err := tx.QueryRowContext(ctx, `SELECT
			(SELECT max(built_through) FROM model_state), (SELECT max(fingerprint) FROM model_state),
			(SELECT coalesce(max(file_id), 0) FROM ingest_files),
			(SELECT count(*) FROM duckdb_tables() WHERE NOT temporary AND schema_name = 'main' AND table_name IN (SELECT unnest(?::VARCHAR[])))`,
		clientModelNames(models)).Scan(&builtThrough, &oldFingerprint, &latest, &present); err != nil {
		return nil, fmt.Errorf("per-client tables: read state: %w", err)
	}
	full := !builtThrough.Valid || oldFingerprint.String != fingerprint || present != int64(len(models))
	exec := func(q string) error {
		_, err := tx.ExecContext(ctx, q)
		return err
	}
	// digest stores a per-client table's content digest, as tableContent computes it, in
	// client_content; a night then moves it by the rows it deletes and inserts.
	digest := func(model string) error {
		n, sum, err := tableSum(ctx, tx, model)
		if err == nil {
			err = exec(fmt.Sprintf(`DELETE FROM client_content WHERE model = %[1]s;
				INSERT INTO client_content VALUES (%[1]s, %d, %s::HUGEINT)`, QuoteString(model), n, QuoteString(sum)))
		}
		if err != nil {
			return fmt.Errorf("model %s: content digest: %w", model, err)
		}
		return nil
	}
	var timings []ModelTiming
	if full {
		// The views the per-client SQL reads hold every raw row.
		for _, q := range scopeViews("") {
			if err := exec(q); err != nil {
				return nil, err
			}
		}
		for _, m := range models {
			start := time.Now()
			// Written in client order, the table's row groups are all full but the last.
			// Otherwise each parallel writer leaves a part-filled one in the middle, and
			// the first nights' deletes of changed clients let DuckDB merge it with its
			// neighbours at the checkpoint: 0.85 s on the first night at 10M rows, for
			// 1-2 s of sorting once in the full build.
			q := m.SQL
			if m.Full != "" {
				// The same rows from a table built before it (queries/clients/full).
				q = m.Full
			}
			if err := exec(fmt.Sprintf("CREATE OR REPLACE TABLE %s AS SELECT * FROM (\n%s\n) ORDER BY client_key", QuoteIdent(m.Name), trimSQL(q))); err != nil {
				return timings, fmt.Errorf("model %s/%s.sql: %w", m.Layer, m.Name, err)
			}
			if err := digest(m.Name); err != nil {
				return timings, err
			}
			t := ModelTiming{Name: m.Name, Duration: time.Since(start)}
			timings = append(timings, t)
			log.Debug("model built", "model", m.Name, "mode", "full", "took", t.Duration.Round(time.Millisecond))
		}
	} else {
		start := time.Now()
		// The changed clients, and which export changed for each: a table that reads only
		// the other export's rows has nothing to recompute (a night of new appointments
		// leaves the claim tables as they are). Clients of replaced rows count for both.
		if err := exec(fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE tmp_dirty AS
			SELECT client_key, bool_or(appts) AS appts, bool_or(claims) AS claims FROM (
				SELECT client_key, true AS appts, false AS claims FROM raw_appointments WHERE file_id > %[1]d
				UNION ALL SELECT client_key, false, true FROM raw_claim_lines WHERE file_id > %[1]d
				UNION ALL SELECT client_key, true, true FROM dirty_clients)
			GROUP BY client_key`, builtThrough.Int64)); err != nil {
			return nil, fmt.Errorf("per-client tables: find changed clients: %w", err)
		}
		var dirty int64
		var appts, claims bool
		if err := tx.QueryRowContext(ctx, "SELECT count(*), coalesce(bool_or(appts), false), coalesce(bool_or(claims), false) FROM tmp_dirty").Scan(&dirty, &appts, &claims); err != nil {
			return nil, err
		}
		changed := map[string]bool{"scope_appointments": appts, "scope_claim_lines": claims}
		log.Debug("changed clients found", "clients", dirty, "since_file", builtThrough.Int64, "took", time.Since(start).Round(time.Millisecond))
		// A database built before client_content existed digests its tables once.
		digested := map[string]bool{}
		rows, err := tx.QueryContext(ctx, "SELECT model FROM client_content")
		if err != nil {
			return nil, fmt.Errorf("per-client tables: read content digests: %w", err)
		}
		for rows.Next() {
			var m string
			if err := rows.Scan(&m); err != nil {
				rows.Close()
				return nil, err
			}
			digested[m] = true
		}
		rows.Close()
		for _, m := range models {
			if !digested[m.Name] {
				if err := digest(m.Name); err != nil {
					return nil, err
				}
			}
		}
		if dirty > 0 {
			var processed []queries.Model
			for _, m := range models {
				if readsChanged(m, changed) {
					processed = append(processed, m)
				} else {
					timings = append(timings, ModelTiming{Name: m.Name, Kept: true})
					log.Debug("model unchanged, kept", "model", m.Name, "why", "no changed rows in the export it reads")
				}
			}
			merged, err := planMerge(ctx, tx, processed, builtThrough.Int64, log)
			if err != nil {
				return timings, fmt.Errorf("per-client tables: %w", err)
			}
			// The history of the clients recomputed, copied once per export (a scan of
			// every raw row): those not merged, and every changed client of an export
			// read by a table that cannot merge. A night whose clients only gained rows
			// copies nothing.
			for _, v := range scopes {
				all := !merged
				for _, m := range processed {
					if m.Merge == "" && len(m.Reads([]string{v[0]})) > 0 {
						all = true
					}
				}
				clients := "SELECT client_key FROM tmp_dirty"
				if !all {
					clients = "SELECT client_key FROM tmp_dirty WHERE client_key NOT IN (SELECT client_key FROM tmp_merge)"
				}
				var n int64
				if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM ("+clients+")").Scan(&n); err != nil {
					return timings, err
				}
				q := fmt.Sprintf("CREATE OR REPLACE TEMP TABLE tmp_hist_%s AS SELECT * FROM %s WHERE client_key IN (%s)", v[0], v[1], clients)
				if n == 0 {
					q = fmt.Sprintf("CREATE OR REPLACE TEMP TABLE tmp_hist_%s AS SELECT * FROM %s LIMIT 0", v[0], v[1])
				}
				if err := exec(q); err != nil {
					return timings, fmt.Errorf("per-client tables: copy the recomputed clients' rows: %w", err)
				}
				log.Debug("recomputed clients' rows copied", "export", v[1], "clients", n)
			}
			for _, m := range processed {
				start := time.Now()
				// The changed clients' rows go and their new rows come; the table's content
				// digest (client_content) follows by the rows' hashes, so the models that read
				// the table fingerprint it without a scan of all its rows.
				name := QuoteIdent(m.Name)
				merge := merged && m.Merge != ""
				recompute := fmt.Sprintf("INSERT INTO tmp_new SELECT * FROM (\n%s\n)", trimSQL(m.SQL))
				gone := "CREATE OR REPLACE TEMP TABLE tmp_gone AS SELECT rowid AS rid, hash(t) AS h FROM " + name + " t WHERE client_key IN (SELECT client_key FROM tmp_dirty)"
				if merge {
					gone = "CREATE OR REPLACE TEMP TABLE tmp_gone AS SELECT zz_rid AS rid, zz_h AS h FROM " + mergeTable("kept", m)
				}
				steps := append(scopeViews("tmp_hist_"),
					gone,
					"DELETE FROM "+name+" WHERE rowid IN (SELECT rid FROM tmp_gone)",
					"CREATE OR REPLACE TEMP TABLE tmp_new AS SELECT * FROM "+name+" LIMIT 0",
				)
				if merge {
					steps = append(steps, recompute+" WHERE client_key NOT IN (SELECT client_key FROM tmp_merge)")
					steps = append(steps, mergeViews(m)...)
					steps = append(steps, fmt.Sprintf("INSERT INTO tmp_new SELECT * FROM (\n%s\n) WHERE client_key IN (SELECT client_key FROM tmp_merge)", trimSQL(mergeSQL(m))))
				} else {
					steps = append(steps, recompute)
				}
				steps = append(steps,
					"INSERT INTO "+name+" SELECT * FROM tmp_new",
					fmt.Sprintf(`UPDATE client_content SET
						n = n - (SELECT count(*) FROM tmp_gone) + (SELECT count(*) FROM tmp_new),
						total = total - coalesce((SELECT sum(h) FROM tmp_gone), 0) + coalesce((SELECT sum(hash(t)) FROM tmp_new t), 0)
						WHERE model = %s`, QuoteString(m.Name)))
				for _, q := range steps {
					if err := exec(q); err != nil {
						return timings, fmt.Errorf("model %s/%s.sql: %w", m.Layer, m.Name, err)
					}
				}
				t := ModelTiming{Name: m.Name, Duration: time.Since(start)}
				timings = append(timings, t)
				log.Debug("model built", "model", m.Name, "mode", "incremental", "clients", dirty, "merged", merge, "took", t.Duration.Round(time.Millisecond))
			}
			for _, q := range []string{"DROP VIEW IF EXISTS tmp_partial", "DROP VIEW IF EXISTS tmp_kept"} {
				if err := exec(q); err != nil {
					return timings, err
				}
			}
			for _, m := range processed {
				for _, what := range []string{"partial", "kept"} {
					if err := exec("DROP TABLE IF EXISTS " + mergeTable(what, m)); err != nil {
						return timings, err
					}
				}
			}
		}
		temps := []string{"tmp_dirty", "tmp_gone", "tmp_new", "tmp_merge"}
		for _, v := range scopes {
			temps = append(temps, "tmp_hist_"+v[0], "tmp_added_"+v[0])
		}
		for _, t := range temps {
			if err := exec("DROP TABLE IF EXISTS " + t); err != nil {
				return timings, err
			}
		}
	}
	for _, q := range []string{
		"DELETE FROM dirty_clients",
		"DELETE FROM model_state",
		fmt.Sprintf("INSERT INTO model_state VALUES (%d, %s)", latest, QuoteString(fingerprint)),
	} {
		if err := exec(q); err != nil {
			return timings, fmt.Errorf("per-client tables: save state: %w", err)
		}
	}
	return timings, nil
}

// clientFingerprint is queries.ClientFingerprint and the values of the variables
// the per-client SQL reads, itself or through a macro (status_words: what each
// status spelling means). A table kept night by night holds what its clients'
// rows meant when they came; when that changes, every client's rows mean
// something else, and the tables are built again from every raw row, once.
// The other variables (the report month, the thresholds) are no part of it: a
// month's run keeps the per-client tables.
func clientFingerprint(vars Vars) (string, error) {
	fp, err := queries.ClientFingerprint()
	if err != nil {
		return "", err
	}
	names, err := queries.ClientVariables()
	if err != nil {
		return "", err
	}
	if len(names) == 0 {
		return fp, nil
	}
	h := sha256.New()
	h.Write([]byte(fp))
	for _, n := range names {
		lit, err := sqlLiteral(vars[n])
		if err != nil {
			return "", fmt.Errorf("variable %s: %w", n, err)
		}
		fmt.Fprintf(h, "\x00%s=%s", n, lit)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// planMerge prepares the merge of the clients that only gained rows since the
// last build (changed, none of their rows replaced): for each table that can
// merge, the rows its SQL gives for their new rows alone, and their kept rows,
// each read without the history (the new rows by file id, the kept rows from
// the table). It leaves in tmp_merge the clients to merge: those, less any a
// table's merge says must be recomputed (client_appointments: a new row at the
// same time as a kept first one). It reports whether any client is merged.
func planMerge(ctx context.Context, tx *sql.Tx, processed []queries.Model, since int64, log *slog.Logger) (bool, error) {
	exec := func(q string) error {
		_, err := tx.ExecContext(ctx, q)
		return err
	}
	start := time.Now()
	if err := exec(`CREATE OR REPLACE TEMP TABLE tmp_merge AS
		SELECT client_key FROM tmp_dirty
		WHERE client_key IS NOT NULL AND client_key NOT IN (SELECT client_key FROM dirty_clients WHERE client_key IS NOT NULL)`); err != nil {
		return false, err
	}
	var candidates int64
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM tmp_merge").Scan(&candidates); err != nil {
		return false, err
	}
	canMerge := false
	for _, m := range processed {
		canMerge = canMerge || m.Merge != ""
	}
	if candidates == 0 || !canMerge {
		return false, nil
	}
	var added []string
	for _, v := range scopes {
		added = append(added, fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE tmp_added_%[1]s AS SELECT * FROM %[2]s
			WHERE file_id > %[3]d AND client_key IN (SELECT client_key FROM tmp_merge)`, v[0], v[1], since))
	}
	for _, q := range append(added, scopeViews("tmp_added_")...) {
		if err := exec(q); err != nil {
			return false, fmt.Errorf("copy the merged clients' new rows: %w", err)
		}
	}
	for _, m := range processed {
		if m.Merge == "" {
			continue
		}
		steps := []string{
			fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s AS SELECT * FROM (\n%s\n)", mergeTable("partial", m), trimSQL(m.SQL)),
			// Every changed client's rows, with the row ids and hashes the night's delete and
			// digest need: one scan of the table where the kept rows and the delete took two.
			fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s AS SELECT rowid AS zz_rid, hash(t) AS zz_h, t.* FROM %s t WHERE client_key IN (SELECT client_key FROM tmp_dirty)",
				mergeTable("kept", m), QuoteIdent(m.Name)),
		}
		if r := mergeRecompute(m); r != "" {
			// The clients this table cannot merge are recomputed, in every table.
			steps = append(steps, mergeViews(m)...)
			steps = append(steps, fmt.Sprintf("DELETE FROM tmp_merge WHERE client_key IN (\n%s\n)", trimSQL(r)))
		}
		for _, q := range steps {
			if err := exec(q); err != nil {
				return false, fmt.Errorf("model %s/%s.sql: prepare the merge: %w", m.Layer, m.Name, err)
			}
		}
	}
	var merging int64
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM tmp_merge").Scan(&merging); err != nil {
		return false, err
	}
	log.Debug("clients merged without their history", "clients", merging, "recomputed", candidates-merging, "took", time.Since(start).Round(time.Millisecond))
	return merging > 0, nil
}

// mergeMarker separates a merge file's merge query from its optional query of
// the clients that must be recomputed instead.
const mergeMarker = "-- recompute:"

func mergeSQL(m queries.Model) string {
	q, _, _ := strings.Cut(m.Merge, mergeMarker)
	return q
}

func mergeRecompute(m queries.Model) string {
	_, r, _ := strings.Cut(m.Merge, mergeMarker)
	return strings.TrimSpace(r)
}

// mergeViews point tmp_partial and tmp_kept, which a merge file reads, at the
// model's rows: those of the new rows alone, and the kept rows of the clients
// being merged.
func mergeViews(m queries.Model) []string {
	return []string{
		"CREATE OR REPLACE TEMP VIEW tmp_partial AS SELECT * FROM " + mergeTable("partial", m),
		"CREATE OR REPLACE TEMP VIEW tmp_kept AS SELECT * EXCLUDE (zz_rid, zz_h) FROM " + mergeTable("kept", m) +
			" WHERE client_key IN (SELECT client_key FROM tmp_merge)",
	}
}

// mergeTable names the temporary table of a model's partial rows, or of its
// changed clients' rows with their row ids and hashes ("kept").
func mergeTable(what string, m queries.Model) string {
	return QuoteIdent("tmp_" + what + "_" + m.Name)
}

func clientModelNames(ms []queries.Model) string {
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = strings.ReplaceAll(m.Name, ",", "")
	}
	return "[" + strings.Join(names, ",") + "]"
}

func trimSQL(q string) string { return strings.TrimRight(strings.TrimSpace(q), ";") }

// fingerprints decide which staging and mart tables must be rebuilt: a table
// is rebuilt when its SQL, the macros, the variables or the content of a
// table it reads changed since it was built. Contents are compared by row
// count and the sum of the rows' hashes, about 50 ms a million rows.
type fingerprints struct {
	tx      *sql.Tx
	vars    string
	tables  map[string]bool // tables of the main schema
	content map[string]string
	stored  map[string]struct{ inputs, content string }
}

func newFingerprints(ctx context.Context, tx *sql.Tx, vars Vars) (*fingerprints, error) {
	f := &fingerprints{tx: tx, tables: map[string]bool{}, content: map[string]string{},
		stored: map[string]struct{ inputs, content string }{}}
	names := make([]string, 0, len(vars))
	for k := range vars {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, k := range names {
		fmt.Fprintf(&b, "%s=%v;", k, vars[k])
	}
	f.vars = b.String()
	rows, err := tx.QueryContext(ctx, `SELECT table_name FROM duckdb_tables() WHERE NOT temporary AND schema_name = 'main'`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, err
		}
		f.tables[n] = true
	}
	rows.Close()
	// The per-client tables' digests are kept by buildClientModels as their rows change.
	rows, err = tx.QueryContext(ctx, `SELECT model, n, total::VARCHAR FROM client_content`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var m string
		var n int64
		var total string
		if err := rows.Scan(&m, &n, &total); err != nil {
			rows.Close()
			return nil, err
		}
		f.content[m] = contentDigest(n, total)
	}
	rows.Close()
	rows, err = tx.QueryContext(ctx, `SELECT model, inputs, content FROM model_fingerprints`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var m, in, c string
		if err := rows.Scan(&m, &in, &c); err != nil {
			return nil, err
		}
		f.stored[m] = struct{ inputs, content string }{in, c}
	}
	return f, rows.Err()
}

// inputs fingerprints what model m would be built from now.
func (f *fingerprints) inputs(ctx context.Context, m queries.Model) (string, error) {
	var tables []string
	for t := range f.tables {
		if t != m.Name {
			tables = append(tables, t)
		}
	}
	used := m.Reads(tables)
	sort.Strings(used)
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s", queries.MacrosSQL, m.SQL, f.vars)
	for _, t := range used {
		c, ok := f.content[t]
		if !ok {
			var err error
			if _, c, err = tableContent(ctx, f.tx, t); err != nil {
				return "", err
			}
			f.content[t] = c
		}
		fmt.Fprintf(h, "\x00%s=%s", t, c)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (f *fingerprints) save(ctx context.Context, model, inputs, content string) error {
	if _, err := f.tx.ExecContext(ctx, `DELETE FROM model_fingerprints WHERE model = ?`, model); err != nil {
		return err
	}
	_, err := f.tx.ExecContext(ctx, `INSERT INTO model_fingerprints VALUES (?, ?, ?)`, model, inputs, content)
	return err
}

// contentDigest is how tableContent writes a row count and the sum of the rows' hashes.
func contentDigest(n int64, sum string) string {
	if n == 0 {
		sum = "" // sum() of no rows is NULL
	}
	return fmt.Sprintf("%d:%s", n, sum)
}

// tableContent is a table's row count and a digest of its rows.
func tableContent(ctx context.Context, tx *sql.Tx, table string) (int64, string, error) {
	n, sum, err := tableSum(ctx, tx, table)
	if err != nil {
		return 0, "", err
	}
	return n, contentDigest(n, sum), nil
}

// tableSum is a table's row count and the sum of its rows' hashes ("0" for no rows).
func tableSum(ctx context.Context, tx *sql.Tx, table string) (int64, string, error) {
	var n int64
	var sum string
	err := tx.QueryRowContext(ctx, "SELECT count(*), coalesce(sum(hash(t)), 0)::VARCHAR FROM "+QuoteIdent(table)+" t").Scan(&n, &sum)
	return n, sum, err
}
