package pipeline

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/referrals/referrals/internal/config"
)

// testHookBeforeCommit, when set by a test, runs after a file was read and
// before its load commits.
var testHookBeforeCommit func(path string)

// Sources are the two kinds of export, in load order.
var Sources = []string{"scheduling", "billing"}

// FileResult is what happened to one export file.
type FileResult struct {
	FileID   int64 // ledger id, for loaded files
	Source   string
	Path     string
	Status   string // loaded, skipped (already loaded), failed
	Encoding string
	Loaded   int64
	Rejected int64
	Replaced int64
	Problem  string
	Took     time.Duration
}

// IngestSummary is the outcome of one ingestion.
type IngestSummary struct {
	Files    []FileResult
	Loaded   int64
	Rejected int64
	Replaced int64
	Took     time.Duration
}

// Count returns how many files ended with status.
func (s IngestSummary) Count(status string) int {
	n := 0
	for _, f := range s.Files {
		if f.Status == status {
			n++
		}
	}
	return n
}

// Ingester loads export files into the database.
type Ingester struct {
	DB     *sql.DB
	Config config.Config
	Secret []byte
	Log    *slog.Logger
	// Progress, when set, is told each file as it starts (done of total).
	Progress func(done, total int, path string)
	// Rebuild empties the loaded tables and the ledger first, then reloads
	// every file still on disk.
	Rebuild bool
	// TmpDir holds converted copies of non-UTF-8 files; default os.TempDir().
	TmpDir string
}

type pending struct {
	source string
	path   string
	mod    time.Time
}

// Ingest loads every new or changed export file. A file is loaded whole or
// not at all: its rows, its rejects and its ledger row commit together.
func (in *Ingester) Ingest(ctx context.Context) (IngestSummary, error) {
	start := time.Now()
	log := in.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var sum IngestSummary
	if err := EnsureSchema(ctx, in.DB); err != nil {
		return sum, err
	}
	if err := registerClientKey(ctx, in.DB, in.Secret); err != nil {
		return sum, err
	}
	if in.Rebuild {
		if err := in.reset(ctx); err != nil {
			return sum, err
		}
	}
	var files []pending
	for _, source := range Sources {
		src := in.source(source)
		found, problems := in.expand(source, src.Files)
		for _, p := range problems {
			p.Path = in.displayPath(p.Path)
			if p.Status == "failed" {
				log.Warn("file not loaded", "source", source, "file", p.Path, "problem", p.Problem)
				in.recordProblem(ctx, pending{source: source, path: p.Path}, p.Problem)
			} else {
				log.Warn("no export file", "source", source, "pattern", p.Path, "problem", p.Problem)
			}
			sum.Files = append(sum.Files, p)
		}
		files = append(files, found...)
	}
	for i, f := range files {
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		if in.Progress != nil {
			in.Progress(i, len(files), f.path)
		}
		res := in.loadFile(ctx, f)
		if res.Status == "failed" {
			if ctx.Err() != nil {
				return sum, ctx.Err()
			}
			log.Warn("file not loaded", "source", f.source, "file", f.path, "problem", res.Problem)
			in.recordProblem(ctx, f, res.Problem)
		} else if res.Status == "loaded" {
			log.Debug("file loaded", "source", f.source, "file", f.path, "rows", res.Loaded,
				"rejected", res.Rejected, "replaced", res.Replaced, "encoding", res.Encoding, "took", res.Took.Round(time.Millisecond))
		} else {
			log.Debug("file already loaded", "file", f.path)
		}
		sum.Files = append(sum.Files, res)
		sum.Loaded += res.Loaded
		sum.Rejected += res.Rejected
	}
	if in.Progress != nil {
		in.Progress(len(files), len(files), "")
	}
	for _, source := range Sources {
		byFile, err := in.replaceEarlierVersions(ctx, source)
		if err != nil {
			return sum, err
		}
		for i := range sum.Files {
			if n, ok := byFile[sum.Files[i].FileID]; ok && sum.Files[i].Source == source {
				sum.Files[i].Replaced = n
				sum.Replaced += n
			}
		}
	}
	sum.Took = time.Since(start)
	return sum, nil
}

func (in *Ingester) source(name string) config.Source {
	if name == "billing" {
		return in.Config.Billing
	}
	return in.Config.Scheduling
}

func (in *Ingester) reset(ctx context.Context) error {
	for _, t := range []string{"raw_appointments", "raw_claim_lines", "ingest_files", "rejected_rows", "ingest_problems", "ingest_state"} {
		if _, err := in.DB.ExecContext(ctx, "DELETE FROM "+t); err != nil {
			return fmt.Errorf("rebuild: empty %s: %w", t, err)
		}
	}
	return nil
}

// expand resolves the globs into files ordered oldest first (modification
// time to the second, then name), so that when two exports hold the same
// appointment the newer export's version is loaded last and wins.
func (in *Ingester) expand(source string, globs []string) ([]pending, []FileResult) {
	var out []pending
	var problems []FileResult
	seen := map[string]bool{}
	for _, g := range globs {
		pattern := in.Config.Path(g)
		matches, err := filepath.Glob(pattern)
		if err != nil {
			problems = append(problems, FileResult{Source: source, Path: pattern, Status: "failed",
				Problem: fmt.Sprintf("the file pattern %q is malformed: %v; fix [%s] files in the configuration", g, err, source)})
			continue
		}
		if len(matches) == 0 {
			problems = append(problems, FileResult{Source: source, Path: pattern, Status: "missing",
				Problem: fmt.Sprintf("no file matches %q; check [%s] files in the configuration", pattern, source)})
		}
		for _, m := range matches {
			if seen[m] {
				continue
			}
			seen[m] = true
			fi, err := os.Stat(m)
			if err != nil {
				problems = append(problems, FileResult{Source: source, Path: m, Status: "failed", Problem: fmt.Sprintf("cannot read: %v", err)})
				continue
			}
			if fi.IsDir() {
				problems = append(problems, FileResult{Source: source, Path: m, Status: "failed",
					Problem: fmt.Sprintf("is a folder, not an export file; make [%s] files match only the export files (e.g. end the pattern in *.csv)", source)})
				continue
			}
			out = append(out, pending{source: source, path: m, mod: fi.ModTime().Truncate(time.Second)})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].mod.Equal(out[j].mod) {
			return out[i].mod.Before(out[j].mod)
		}
		return out[i].path < out[j].path
	})
	return out, problems
}

func (in *Ingester) displayPath(p string) string {
	if !filepath.IsAbs(p) {
		return p
	}
	if rel, err := filepath.Rel(in.Config.Dir, p); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return p
}

func (in *Ingester) recordProblem(ctx context.Context, f pending, problem string) {
	path := in.displayPath(f.path)
	_, _ = in.DB.ExecContext(ctx, `DELETE FROM ingest_problems WHERE path = ?`, path)
	_, _ = in.DB.ExecContext(ctx, `INSERT INTO ingest_problems VALUES ((SELECT coalesce(max(problem_id),0)+1 FROM ingest_problems), ?, ?, NULL, ?, now()::TIMESTAMP)`,
		f.source, path, problem)
}

func (in *Ingester) loadFile(ctx context.Context, f pending) (res FileResult) {
	start := time.Now()
	res = FileResult{Source: f.source, Path: in.displayPath(f.path)}
	defer func() { res.Took = time.Since(start) }()
	fail := func(format string, args ...any) FileResult {
		res.Status = "failed"
		res.Problem = fmt.Sprintf(format, args...)
		return res
	}
	src := in.source(f.source)
	before, err := os.Stat(f.path)
	if err != nil {
		return fail("cannot read the file: %v", err)
	}
	// A file whose path, size and modification time are in the ledger was
	// loaded before: skip it without reading, so a night's work follows the
	// new files, not the history.
	var already int
	if err := in.DB.QueryRowContext(ctx, `SELECT count(*) FROM ingest_files WHERE source = ? AND path = ? AND size = ? AND mtime = ?`,
		f.source, res.Path, before.Size(), before.ModTime().UTC()).Scan(&already); err != nil {
		return fail("ledger lookup: %v", err)
	}
	if already > 0 {
		res.Status = "skipped"
		return res
	}
	head, err := readHead(f.path, 64<<10)
	if err != nil {
		return fail("cannot read the file: %v (check its permissions)", err)
	}
	if len(head) == 0 {
		return fail("the file is empty; re-export it from the %s system", f.source)
	}
	if kind := isBinaryExport(head); kind != "" {
		return fail("this is not a CSV file but %s; export the report as CSV (comma-separated values) instead", kind)
	}
	enc := normaliseEncoding(src.Encoding)
	headEnc := enc
	if enc == "auto" {
		headEnc = headEncoding(head)
	}
	headers, delim, err := readHeader(head, headEnc, src.Delimiter)
	if err != nil {
		return fail("%v", err)
	}
	mapping, missing := MapHeaders(f.source, headers, src.Columns)
	if len(missing) > 0 {
		if looksLikeData(headers) {
			return fail("the first line looks like data, not a header row (found %d values such as %q); export with column headers, or check that this file belongs under [%s] files", len(headers), firstNonEmpty(headers), f.source)
		}
		return fail("%s", missingColumnProblem(f.source, headers, missing, src.Columns, delim))
	}
	var counter *fieldCounter
	if delim < 128 && headEnc != "utf-16" {
		idField := "appointment_id"
		if f.source == "billing" {
			idField = "line_id"
		}
		counter = newFieldCounter(byte(delim), len(headers), mapping[idField])
	}
	scanStart := time.Now()
	sc, err := scanFile(f.path, counter)
	if in.Log != nil {
		in.Log.Debug("file scanned", "file", res.Path, "bytes", sc.size, "took", time.Since(scanStart).Round(time.Millisecond))
	}
	if err != nil {
		return fail("cannot read the file: %v (check its permissions)", err)
	}
	sum, lines, valid := sc.sum, sc.lines, sc.validUTF8
	if err := in.DB.QueryRowContext(ctx, `SELECT count(*) FROM ingest_files WHERE source = ? AND sha256 = ?`, f.source, sum).Scan(&already); err != nil {
		return fail("ledger lookup: %v", err)
	}
	if already > 0 {
		// The same content under another name or date: loaded already.
		res.Status = "skipped"
		return res
	}
	if enc == "auto" {
		enc = guessEncoding(f.path, head, valid)
	}
	res.Encoding = enc
	var shifted []shiftedRow
	if counter != nil {
		shifted = counter.shifted
	}
	readPath := f.path
	duckEnc := "utf-8"
	mixedNewlines := sc.crlf > 0 && sc.crlf < lines-1
	if enc == "windows-1252" || mixedNewlines || sc.nuls > 0 {
		tmp := in.TmpDir
		if tmp == "" {
			tmp = os.TempDir()
		}
		conv, err := convertCopy(f.path, tmp, enc == "windows-1252", mixedNewlines && enc != "utf-16", sc.nuls > 0 && enc != "utf-16")
		if err != nil {
			return fail("%v", err)
		}
		defer os.Remove(conv)
		readPath = conv
	}
	switch enc {
	case "latin-1":
		duckEnc = "latin-1"
	case "utf-16":
		duckEnc = "utf-16"
	}
	fileID, loaded, rejected, err := in.insert(ctx, f, res.Path, sum, enc, readPath, duckEnc, delim, headers, mapping, src, before, lines, sc.nuls, shifted)
	if err != nil {
		return fail("%v", err)
	}
	res.Status = "loaded"
	res.FileID, res.Loaded, res.Rejected = fileID, loaded, rejected
	return res
}

func firstNonEmpty(ss []string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// looksLikeData reports a "header" made of values: dates, numbers.
func looksLikeData(headers []string) bool {
	data := 0
	for _, h := range headers {
		if h == "" {
			continue
		}
		if strings.IndexFunc(h, func(r rune) bool {
			return (r < '0' || r > '9') && r != '/' && r != '-' && r != '.' && r != ':' && r != ' '
		}) < 0 {
			data++
		}
	}
	return data >= 2
}

// isBinaryExport names a spreadsheet or archive given where a CSV was expected.
func isBinaryExport(head []byte) string {
	switch {
	case len(head) >= 4 && string(head[:4]) == "PK\x03\x04":
		return "a zip archive (an .xlsx workbook is one)"
	case len(head) >= 8 && string(head[:8]) == "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1":
		return "an old Excel (.xls) workbook"
	case len(head) >= 4 && string(head[:4]) == "%PDF":
		return "a PDF document"
	}
	return ""
}

type columnPlan struct {
	readColumns string            // DuckDB struct literal for read_csv columns=
	expr        map[string]string // canonical field -> SQL expression over the read columns
	dateType    string
}

func planColumns(source string, headers []string, mapping map[string]int, dateFormat string) columnPlan {
	hasTime := strings.Contains(dateFormat, "%H") || strings.Contains(dateFormat, "%I") || strings.Contains(dateFormat, "%M")
	dateType := "DATE"
	if hasTime {
		dateType = "TIMESTAMP"
	}
	kinds := map[string]string{}
	for _, f := range config.Fields(source) {
		kinds[f.Name] = f.Kind
	}
	colType := make([]string, len(headers))
	for i := range headers {
		colType[i] = "VARCHAR"
	}
	for field, i := range mapping {
		switch kinds[field] {
		case "date":
			colType[i] = dateType
		case "money":
			colType[i] = "DECIMAL(12,2)"
		}
	}
	var parts []string
	for i := range headers {
		parts = append(parts, fmt.Sprintf("'c%d': '%s'", i+1, colType[i]))
	}
	plan := columnPlan{readColumns: "{" + strings.Join(parts, ", ") + "}", expr: map[string]string{}, dateType: dateType}
	for _, f := range config.Fields(source) {
		i, ok := mapping[f.Name]
		if !ok {
			plan.expr[f.Name] = "NULL"
			continue
		}
		c := fmt.Sprintf("c%d", i+1)
		switch {
		case f.Name == "client_id":
			plan.expr[f.Name] = "client_key(" + c + ")"
		case f.Kind == "date":
			plan.expr[f.Name] = "CAST(" + c + " AS DATE)"
		case f.Kind == "money":
			plan.expr[f.Name] = c
		case f.Name == "appointment_id" || f.Name == "line_id":
			plan.expr[f.Name] = "nullif(trim(" + c + "), '')"
		default:
			// Empty fields already read as NULL; padding is folded later,
			// once per distinct value, where it matters (names, statuses).
			plan.expr[f.Name] = c
		}
	}
	return plan
}

// insert loads one file in one transaction: rows, in-file duplicates,
// replacement of earlier exports' versions, rejects and the ledger row.
func (in *Ingester) insert(ctx context.Context, f pending, displayPath, sum, enc, readPath, duckEnc string, delim rune,
	headers []string, mapping map[string]int, src config.Source, before os.FileInfo, lines, nuls int64, shifted []shiftedRow) (fileID, loaded, rejected int64, err error) {

	plan := planColumns(f.source, headers, mapping, src.DateFormat)
	if err := in.DB.QueryRowContext(ctx, `SELECT nextval('ingest_file_seq')`).Scan(&fileID); err != nil {
		return 0, 0, 0, err
	}
	formatOpt := "dateformat = " + QuoteString(src.DateFormat)
	if plan.dateType == "TIMESTAMP" {
		formatOpt = "timestampformat = " + QuoteString(src.DateFormat)
	}
	readCSV := fmt.Sprintf(`read_csv(%s, header = true, auto_detect = false, delim = %s, quote = '"', escape = '"',
		columns = %s, %s, thousands = ',', encoding = %s, store_rejects = true,
		rejects_table = 'tmp_rejects', rejects_scan = 'tmp_reject_scans', max_line_size = 4194304)`,
		QuoteString(readPath), QuoteString(string(delim)), plan.readColumns, formatOpt, QuoteString(duckEnc))

	var table, idCol, dateCol, insertSQL string
	e := plan.expr
	if f.source == "scheduling" {
		table, idCol, dateCol = "raw_appointments", "appointment_id", "appt_date"
		_, hasReferredTo := mapping["referred_to"]
		insertSQL = fmt.Sprintf(`INSERT INTO raw_appointments SELECT %s, %s, %s, %s, %s, %s, %s, %s, %s, %v, %s, %d FROM %s`,
			e["appointment_id"], e["client_id"], e["clinician"], e["date"], e["time"], e["status"], e["service"],
			e["referral_source"], e["referred_to"], hasReferredTo, e["referrer_npi"], fileID, readCSV)
	} else {
		table, idCol, dateCol = "raw_claim_lines", "line_id", "service_date"
		insertSQL = fmt.Sprintf(`INSERT INTO raw_claim_lines SELECT %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %d FROM %s`,
			e["line_id"], e["client_id"], e["service_date"], e["rendering_provider"], e["rendering_npi"], e["referring_provider"],
			e["referring_npi"], e["payer"], e["cpt"], e["charge"], e["paid"], fileID, readCSV)
	}
	idHeader := headers[mapping[idCol]]

	tx, err := in.DB.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, 0, err
	}
	defer tx.Rollback()
	var steps []any
	exec := func(q string, args ...any) (int64, error) {
		t0 := time.Now()
		defer func() {
			if d := time.Since(t0); d > 20*time.Millisecond {
				steps = append(steps, slog.Duration(strings.Fields(q)[0]+"_"+strings.Fields(q)[min(2, len(strings.Fields(q))-1)], d.Round(time.Millisecond)))
			}
		}()
		r, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return 0, err
		}
		return r.RowsAffected()
	}
	for _, t := range []string{"tmp_rejects", "tmp_reject_scans"} {
		if _, err := exec("DROP TABLE IF EXISTS " + t); err != nil {
			return 0, 0, 0, err
		}
	}
	if loaded, err = exec(insertSQL); err != nil {
		return 0, 0, 0, fmt.Errorf("read failed: %v", redactClientError(err))
	}
	// Rejected rows: keep where and why, never the raw line.
	var hasRejects bool
	if err := tx.QueryRowContext(ctx, `SELECT count(*) > 0 FROM duckdb_tables() WHERE table_name = 'tmp_rejects'`).Scan(&hasRejects); err != nil {
		return 0, 0, 0, err
	}
	fieldOf := map[string]string{}
	for field, i := range mapping {
		fieldOf[fmt.Sprintf("c%d", i+1)] = field + " (" + headers[i] + ")"
	}
	if hasRejects {
		var caseExpr strings.Builder
		caseExpr.WriteString("CASE column_name")
		for c, name := range fieldOf {
			fmt.Fprintf(&caseExpr, " WHEN %s THEN %s", QuoteString(c), QuoteString(name))
		}
		for i, h := range headers {
			c := fmt.Sprintf("c%d", i+1)
			if _, ok := fieldOf[c]; !ok {
				fmt.Fprintf(&caseExpr, " WHEN %s THEN %s", QuoteString(c), QuoteString(h))
			}
		}
		caseExpr.WriteString(" ELSE column_name END")
		clientCol := fmt.Sprintf("c%d", mapping["client_id"]+1)
		q := fmt.Sprintf(`INSERT INTO rejected_rows
			SELECT %d, %s, line, %s, error_type,
			  CASE
			    WHEN column_name = %s THEN 'the client id could not be read'
			    WHEN error_type = 'CAST' THEN regexp_replace(error_message, '^Error when converting column "c[0-9]+"\. ', '') ||
			      CASE WHEN %s THEN ' (expected date format ' || %s || '; set date_format for this source if the export uses another)'
			           WHEN error_message LIKE '%%DECIMAL%%' THEN ' (amounts must be plain numbers such as 1250.00, without currency signs)' ELSE '' END
			    WHEN error_type = 'TOO MANY COLUMNS' THEN 'the row has more fields than the header (' || %d || '): ' || error_message || '; an unquoted delimiter inside a value?'
			    WHEN error_type = 'MISSING COLUMNS' THEN 'the row has fewer fields than the header (' || %d || '): ' || error_message
			    WHEN error_type = 'UNQUOTED VALUE' THEN 'a value has a stray or unclosed double quote; the rows it swallowed are lost until the export is fixed'
			    WHEN error_type = 'INVALID ENCODING' THEN 'the row has bytes that are not valid text in ' || %s || '; set encoding for this source if the export uses another'
			    WHEN error_type = 'LINE SIZE OVER MAXIMUM' THEN 'the line is longer than 4 MB; the export is probably corrupt there'
			    ELSE error_message
			  END
			FROM (SELECT DISTINCT ON (line) * FROM tmp_rejects ORDER BY line, column_idx)`,
			fileID, QuoteString(displayPath), caseExpr.String(), QuoteString(clientCol),
			fmt.Sprintf("column_name = 'c%d'", mapping[dateFieldName(f.source)]+1), QuoteString(src.DateFormat),
			len(headers), len(headers), QuoteString(enc))
		if rejected, err = exec(q); err != nil {
			return 0, 0, 0, fmt.Errorf("record rejected rows: %w", err)
		}
		// An unclosed quote makes the reader take every following line as
		// part of one value: say how many lines were lost, not just the one.
		var quoteLine sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT min(line) FROM tmp_rejects WHERE error_type = 'UNQUOTED VALUE'`).Scan(&quoteLine); err != nil {
			return 0, 0, 0, err
		}
		if lost := (lines - 1) - loaded - rejected; quoteLine.Valid && lost > 0 {
			if _, err := exec(`INSERT INTO rejected_rows VALUES (?, ?, ?, NULL, 'LOST ROWS', ?)`, fileID, displayPath, quoteLine.Int64,
				fmt.Sprintf("the unclosed quote at line %d swallowed %d more line(s) after it, which were not loaded; fix the quote in the export (the file is read again when it changes)", quoteLine.Int64, lost)); err != nil {
				return 0, 0, 0, err
			}
			rejected += lost
		}
		for _, t := range []string{"tmp_rejects", "tmp_reject_scans"} {
			if _, err := exec("DROP TABLE IF EXISTS " + t); err != nil {
				return 0, 0, 0, err
			}
		}
	}
	// Rows with one field too many and an empty last field: the reader
	// took them, shifted. Take them out again and report them.
	if len(shifted) > 0 {
		if _, err := exec(`CREATE OR REPLACE TEMP TABLE tmp_shifted (id VARCHAR, line BIGINT)`); err != nil {
			return 0, 0, 0, err
		}
		rows := make([][]any, len(shifted))
		for i, r := range shifted {
			rows[i] = []any{strings.TrimSpace(r.id), r.line}
		}
		if err := insertRows(ctx, tx, "tmp_shifted", rows); err != nil {
			return 0, 0, 0, err
		}
		n, err := exec(fmt.Sprintf(`INSERT INTO rejected_rows SELECT %d, %s, line, NULL, 'TOO MANY COLUMNS',
			'the row has %d fields where the header has %d and its last field is empty: a value holding the delimiter was probably not quoted, so every later value moved one column; the row was skipped'
			FROM tmp_shifted`, fileID, QuoteString(displayPath), len(headers)+1, len(headers)))
		if err != nil {
			return 0, 0, 0, fmt.Errorf("record shifted rows: %w", err)
		}
		rejected += n
		del, err := exec(fmt.Sprintf(`DELETE FROM %s WHERE file_id = %d AND %s IN (SELECT id FROM tmp_shifted)`, table, fileID, idCol))
		if err != nil {
			return 0, 0, 0, err
		}
		loaded -= del
		if _, err := exec(`DROP TABLE tmp_shifted`); err != nil {
			return 0, 0, 0, err
		}
	}
	// Rows the reader accepted but that cannot be used: no id, no client,
	// a date outside the plausible range. Their line is unknown once read,
	// so the message names the id instead.
	maxYear := time.Now().Year() + in.Config.Ingest.MaxYearsAhead
	checks := []struct{ cond, col, kind, msg string }{
		{idCol + " IS NULL", idHeader, "MISSING VALUE", "'a row has no " + strings.ReplaceAll(idHeader, "'", "''") + "; it was skipped'"},
		{"client_key IS NULL", headers[mapping["client_id"]], "MISSING VALUE", "'row ' || " + idCol + " || ' has no client id; it was skipped'"},
		{fmt.Sprintf("%s IS NULL OR year(%s) < %d OR year(%s) > %d", dateCol, dateCol, in.Config.Ingest.MinYear, dateCol, maxYear),
			headers[mapping[dateFieldName(f.source)]], "OUT OF RANGE",
			fmt.Sprintf("'row ' || %s || ' has date ' || coalesce(%s::VARCHAR, 'blank') || ', outside %d-%d; it was skipped (set [ingest] min_year or max_years_ahead if that date is real)'",
				idCol, dateCol, in.Config.Ingest.MinYear, maxYear)},
	}
	if f.source == "billing" {
		checks = append(checks, struct{ cond, col, kind, msg string }{"charge < 0 OR paid < 0", "charge/paid", "OUT OF RANGE",
			"'claim line ' || line_id || ' has a negative amount; it was skipped (load refunds and adjustments as separate exports)'"})
	}
	// One pass finds every such row (the first failed check names it), and
	// a second deletes them, but only when there are any.
	var anyCond, typeCase, colCase, msgCase strings.Builder
	typeCase.WriteString("CASE")
	colCase.WriteString("CASE")
	msgCase.WriteString("CASE")
	for i, c := range checks {
		if i > 0 {
			c.cond = idCol + " IS NOT NULL AND (" + c.cond + ")"
			anyCond.WriteString(" OR ")
		}
		fmt.Fprintf(&anyCond, "(%s)", c.cond)
		fmt.Fprintf(&typeCase, " WHEN %s THEN %s", c.cond, QuoteString(c.kind))
		fmt.Fprintf(&colCase, " WHEN %s THEN %s", c.cond, QuoteString(c.col))
		fmt.Fprintf(&msgCase, " WHEN %s THEN %s", c.cond, c.msg)
	}
	n, err := exec(fmt.Sprintf(`INSERT INTO rejected_rows SELECT %d, %s, NULL, %s END, %s END, %s END FROM %s WHERE file_id = %d AND (%s)`,
		fileID, QuoteString(displayPath), colCase.String(), typeCase.String(), msgCase.String(), table, fileID, anyCond.String()))
	if err != nil {
		return 0, 0, 0, fmt.Errorf("check rows: %w", err)
	}
	if n > 0 {
		if _, err := exec(fmt.Sprintf(`DELETE FROM %s WHERE file_id = %d AND (%s)`, table, fileID, anyCond.String())); err != nil {
			return 0, 0, 0, err
		}
		rejected += n
		loaded -= n
	}
	// The same id twice in one file: the last row wins, the others are
	// reported.
	dups, err := exec(fmt.Sprintf(`INSERT INTO rejected_rows
		SELECT %d, %s, NULL, %s, 'DUPLICATE ID', %s || ' ' || %s || ' appears ' || n || ' times in this file; the last one was kept'
		FROM (SELECT %s, count(*) AS n FROM %s WHERE file_id = %d GROUP BY %s HAVING count(*) > 1)`,
		fileID, QuoteString(displayPath), QuoteString(idHeader), QuoteString(idHeader), idCol, idCol, table, fileID, idCol))
	if err != nil {
		return 0, 0, 0, fmt.Errorf("check duplicates: %w", err)
	}
	if dups > 0 {
		n, err := exec(fmt.Sprintf(`DELETE FROM %s WHERE file_id = %d AND rowid NOT IN (SELECT max(rowid) FROM %s WHERE file_id = %d GROUP BY %s)`,
			table, fileID, table, fileID, idCol))
		if err != nil {
			return 0, 0, 0, fmt.Errorf("drop duplicates: %w", err)
		}
		loaded -= n
		rejected += n
	}
	// Earlier exports' versions of the same ids are removed once per run,
	// after all files (replaceEarlierVersions), not once per file: that
	// needs one pass over the history instead of one per file.
	if nuls > 0 {
		// Not a rejected row: the rows loaded, but the user should know.
		if _, err := exec(`INSERT INTO rejected_rows VALUES (?, ?, NULL, NULL, 'NUL BYTES', ?)`, fileID, displayPath,
			fmt.Sprintf("the file held %d NUL byte(s), which were removed; the rows loaded, but the export may be damaged", nuls)); err != nil {
			return 0, 0, 0, err
		}
	}
	if testHookBeforeCommit != nil {
		testHookBeforeCommit(f.path)
	}
	after, err := os.Stat(f.path)
	if err != nil || after.Size() != before.Size() || !after.ModTime().Equal(before.ModTime()) {
		return 0, 0, 0, errors.New("the file changed while it was being read (is the export still being written?); nothing from it was kept, it will be loaded on the next run")
	}
	if _, err := exec(`INSERT INTO ingest_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, now()::TIMESTAMP, ?, ?)`,
		fileID, f.source, displayPath, sum, enc, loaded, rejected, 0, before.Size(), before.ModTime().UTC()); err != nil {
		return 0, 0, 0, fmt.Errorf("ledger: %w", err)
	}
	if _, err := exec(`DELETE FROM ingest_problems WHERE path = ?`, displayPath); err != nil {
		return 0, 0, 0, err
	}
	t0 := time.Now()
	if err := tx.Commit(); err != nil {
		return 0, 0, 0, fmt.Errorf("commit: %w", err)
	}
	if in.Log != nil {
		in.Log.Debug("file steps", append(steps, "file", displayPath, "commit", time.Since(t0).Round(time.Millisecond))...)
	}
	return fileID, loaded, rejected, nil
}

func dateFieldName(source string) string {
	if source == "billing" {
		return "service_date"
	}
	return "date"
}

// redactClientError keeps DuckDB's message but never a value: a CSV error
// can quote a row, and a row holds a client id.
func redactClientError(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "Original Line"); i >= 0 {
		msg = msg[:i]
	}
	if i := strings.Index(msg, "\n"); i >= 0 {
		msg = msg[:i]
	}
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	return msg
}

// replaceEarlierVersions keeps, for every id seen again since the last
// pass, only the newest export's version, and credits the replaced rows to
// the file that replaced them. It runs once per ingestion, after the files;
// the watermark in ingest_state makes a run killed before it (or during
// it) leave the work for the next run, never undone.
func (in *Ingester) replaceEarlierVersions(ctx context.Context, source string) (map[int64]int64, error) {
	table, idCol := "raw_appointments", "appointment_id"
	if source == "billing" {
		table, idCol = "raw_claim_lines", "line_id"
	}
	var done, latest int64
	if err := in.DB.QueryRowContext(ctx, `SELECT coalesce((SELECT replaced_through FROM ingest_state WHERE source = ?), 0),
		coalesce((SELECT max(file_id) FROM ingest_files WHERE source = ?), 0)`, source, source).Scan(&done, &latest); err != nil {
		return nil, err
	}
	if latest <= done {
		return nil, nil
	}
	tx, err := in.DB.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	steps := []string{
		fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE tmp_keep AS
			SELECT %[2]s AS id, max(file_id) AS keep FROM %[1]s
			WHERE %[2]s IN (SELECT %[2]s FROM %[1]s WHERE file_id > %[3]d)
			GROUP BY %[2]s HAVING count(*) > 1`, table, idCol, done),
		`CREATE OR REPLACE TEMP TABLE tmp_replaced AS
			SELECT k.keep AS file_id, count(*) AS n FROM ` + table + ` r JOIN tmp_keep k ON r.` + idCol + ` = k.id AND r.file_id < k.keep GROUP BY k.keep`,
		`UPDATE ingest_files SET rows_replaced = rows_replaced + t.n FROM tmp_replaced t WHERE ingest_files.file_id = t.file_id`,
		`DELETE FROM ` + table + ` r USING tmp_keep k WHERE r.` + idCol + ` = k.id AND r.file_id < k.keep`,
		fmt.Sprintf(`DELETE FROM ingest_state WHERE source = %s`, QuoteString(source)),
		fmt.Sprintf(`INSERT INTO ingest_state VALUES (%s, %d)`, QuoteString(source), latest),
	}
	for _, q := range steps {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("replace earlier versions of %s rows: %w", source, err)
		}
	}
	byFile := map[int64]int64{}
	rows, err := tx.QueryContext(ctx, `SELECT file_id, n FROM tmp_replaced`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id, n int64
		if err := rows.Scan(&id, &n); err != nil {
			rows.Close()
			return nil, err
		}
		byFile[id] = n
	}
	rows.Close()
	for _, t := range []string{"tmp_keep", "tmp_replaced"} {
		if _, err := tx.ExecContext(ctx, "DROP TABLE "+t); err != nil {
			return nil, err
		}
	}
	return byFile, tx.Commit()
}
