package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/referrals/referrals/internal/clientkey"
	"github.com/referrals/referrals/internal/config"
	"github.com/referrals/referrals/internal/runlock"
	"github.com/referrals/referrals/pipeline"
	"golang.org/x/term"
)

// job is one command's hold on the configuration, the lock and the database.
type job struct {
	cfg    config.Config
	db     *sql.DB
	lock   *runlock.Lock
	log    *slog.Logger
	secret []byte
	// secretFromEnv: the secret came from REFERRALS_CLIENT_KEY, not the key file.
	secretFromEnv bool
	start         time.Time
}

// jobOpts says what a command does with the database it opens.
type jobOpts struct {
	// rebuild: the command keys every row again, so another secret may be used.
	rebuild bool
	// reports: the command writes reports into out_dir, which must not hold
	// another database's.
	reports bool
}

// openJob opens the configured database for a command, under its lock, with the
// client-key secret checked against the one that keyed the database's clients.
func openJob(ctx context.Context, e env, cf commonFlags, what string, o jobOpts) (*job, error) {
	rebuild := o.rebuild
	log, err := cf.logger(e)
	if err != nil {
		return nil, err
	}
	cfg, err := loadConfig(cf.config)
	if err != nil {
		return nil, err
	}
	if rebuild {
		// Before the lock, the database or the key file is touched: a rebuild that
		// would reload less than the configuration names must change nothing.
		if err := checkRebuildSources(cfg); err != nil {
			return nil, err
		}
	}
	j := &job{cfg: cfg, log: log, start: time.Now()}
	dbPath := cfg.Path(cfg.Database)
	if fi, err := os.Stat(dbPath); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("%w: %s", config.ErrConfig, databaseIsFolder(cfg))
	}
	if o.reports {
		// A run whose reports folder holds another practice's reports changes
		// nothing either (a moved configuration whose relative database path now
		// names a new file would otherwise leave an empty database and key file
		// behind its refusal).
		if _, err := checkOutDir(cfg); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(filepath.Dir(dbPath), 0o700); err != nil {
		return nil, fmt.Errorf("%w: %s: database = %q: its folder %s cannot be created (%v); create it, or set a database path in a folder the run can write in",
			config.ErrConfig, cfg.Where("database"), cfg.Database, filepath.Dir(dbPath), err)
	}
	// DuckDB makes its spill folder only once it spills, deep into a night, and
	// its error then names no setting: made up front, a folder that cannot be is
	// said now, naming the setting.
	if cfg.DuckDB.TempDir != "" {
		dir := cfg.Path(cfg.DuckDB.TempDir)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("%w: %s: [duckdb] temp_directory = %q: the spill folder %s cannot be created (%v); create it, or set another folder the run can write in (or \"\" for one beside the database)",
				config.ErrConfig, cfg.Where("duckdb", "temp_directory"), cfg.DuckDB.TempDir, dir, err)
		}
	}
	j.lock, err = runlock.Acquire(dbPath+".lock", what)
	if err != nil {
		return nil, err
	}
	j.db, err = pipeline.Open(ctx, dbPath, engineSettings(cfg))
	if err != nil {
		j.close()
		return nil, err
	}
	t := time.Now()
	converted, err := pipeline.UpgradeDatabase(ctx, j.db)
	if err != nil {
		j.close()
		return nil, fmt.Errorf("database %s: %w", dbPath, err)
	}
	if converted {
		j.log.Info("client keys converted to this version's 64-bit numbers, once after an upgrade; this run builds every table again",
			"took", time.Since(t).Round(time.Millisecond))
	}
	if err := j.claimDatabase(ctx, dbPath); err != nil {
		j.close()
		return nil, err
	}
	if err := j.loadSecret(ctx, e, dbPath, rebuild); err != nil {
		j.close()
		return nil, err
	}
	return j, nil
}

// databaseIsFolder is the configuration error of a database setting that names
// a folder: DuckDB would say only "Is a directory", after the lock was taken.
func databaseIsFolder(cfg config.Config) string {
	return fmt.Sprintf("%s: database = %q names the folder %s, not a file: write the database file's path, e.g. database = %q",
		cfg.Where("database"), cfg.Database, cfg.Path(cfg.Database), filepath.Join(cfg.Database, "referrals.duckdb"))
}

// loadSecret takes the client-key secret (REFERRALS_CLIENT_KEY, else the key
// file) and checks it against the database's: a new key file is made only
// for a database that holds no client yet, and another secret than the one
// that keyed its clients stops the command (exit 2), as every client would
// count as new. Unless rebuild, which keys every row again.
func (j *job) loadSecret(ctx context.Context, e env, dbPath string, rebuild bool) error {
	_, loaded, err := pipeline.ClientKeyState(ctx, j.db)
	if err != nil {
		return fmt.Errorf("database %s: %w", dbPath, err)
	}
	keyPath := j.cfg.KeyPath()
	fromEnv := strings.TrimSpace(e.getenv(clientkey.EnvVar)) != ""
	j.secretFromEnv = fromEnv
	// Where the secret that keyed the clients came from, as recorded: a command
	// run without the variable cron sets must be told to set it, not to restore
	// a key file that never was, nor one that never keyed them.
	keyedFromEnv, err := pipeline.KeyFromEnv(ctx, j.db)
	if err != nil {
		return fmt.Errorf("database %s: %w", dbPath, err)
	}
	envKeyed := !rebuild && !fromEnv && keyedFromEnv.Valid && keyedFromEnv.Bool
	// A database without a loaded row has keyed no client: a new key file is harmless.
	j.secret, err = clientkey.Load(e.getenv(clientkey.EnvVar), keyPath, !loaded || rebuild)
	if errors.Is(err, clientkey.ErrNoKeyFile) && envKeyed {
		return fmt.Errorf("%w: %s is not set, and the last command that loaded exports into the database %s took the client-key secret from it, not from the key file %s: with a new secret, every client would count as new. "+
			"Set %s to that secret, as the nightly job sets it (the crontab line or the script cron runs, which a login shell may not have)",
			config.ErrConfig, clientkey.EnvVar, dbPath, keyPath, clientkey.EnvVar)
	}
	if errors.Is(err, clientkey.ErrNoKeyFile) {
		return fmt.Errorf("%w: the client-key file %s is missing, and the database %s holds clients keyed with its secret: with a new one, every client would count as new. "+
			"Restore the key file from the backup taken with the database (or set %s to its secret). "+
			"Or run with --rebuild to key every export file still on disk again with a new secret (rows of exports no longer on disk are lost)",
			config.ErrConfig, keyPath, dbPath, clientkey.EnvVar)
	}
	var pathErr *fs.PathError
	if err != nil && !errors.As(err, &pathErr) {
		// A secret too short, from REFERRALS_CLIENT_KEY or the key file: a setting to
		// change (exit 2). A key file that cannot be read or written stays a failure.
		return fmt.Errorf("%w: %v", config.ErrConfig, err)
	}
	if err != nil {
		return err
	}
	if rebuild {
		return nil
	}
	// Only checked here: the ingest, which keys rows, records the secret; a command
	// that only reads (explain) never does.
	if err := pipeline.CheckClientKey(ctx, j.db, j.secret, false); errors.Is(err, pipeline.ErrOtherSecret) {
		from := fmt.Sprintf("the key file %s", keyPath)
		fix := fmt.Sprintf("restore the key file %s from the backup taken with the database", keyPath)
		if envKeyed {
			fix = fmt.Sprintf("they were keyed with %s, which is not set here: set it as the nightly job sets it (the crontab line or the script cron runs, which a login shell may not have)", clientkey.EnvVar)
		}
		if fromEnv {
			from = clientkey.EnvVar
			fix = fmt.Sprintf("set %s to the secret used before, or unset it if the key file %s holds that secret (cron and a login shell may set it differently)", clientkey.EnvVar, keyPath)
		}
		return fmt.Errorf("%w: the client-key secret from %s is not the one that keyed the clients in the database %s: with it, every client would count as new. "+
			"Use the secret the database was built with: %s. "+
			"Or run with --rebuild to key every export file still on disk again with this secret (rows of exports no longer on disk are lost)",
			config.ErrConfig, from, dbPath, fix)
	} else if err != nil {
		return fmt.Errorf("database %s: %w", dbPath, err)
	}
	return nil
}

func (j *job) close() {
	if j.db != nil {
		j.db.Close()
		j.db = nil
	}
	if j.lock != nil {
		j.lock.Release()
		j.lock = nil
	}
}

func (j *job) referenceFiles() pipeline.ReferenceFiles {
	c := j.cfg
	return pipeline.ReferenceFiles{
		Roster:    c.Path(c.Reference.Roster),
		Directory: c.Path(c.Reference.Directory),
		Aliases:   c.Path(c.Reference.Aliases),
		Channels:  c.Referrers.Channels,
		DayFirst:  c.DayFirst(),
	}
}

// ingest loads the reference files and new exports.
func (j *job) ingest(ctx context.Context, e env, rebuild bool) (pipeline.IngestSummary, error) {
	t := time.Now()
	warnings, err := pipeline.LoadReferenceWarnings(ctx, j.db, j.referenceFiles())
	if err != nil {
		return pipeline.IngestSummary{}, fmt.Errorf("%w: %v", config.ErrConfig, err)
	}
	j.log.Info("reference files loaded", "took", time.Since(t).Round(time.Millisecond))
	// What check warns of in them, the run says too: it is what cron mails.
	for _, w := range warnings {
		j.log.Warn(w)
	}
	in := &pipeline.Ingester{DB: j.db, Config: j.cfg, Secret: j.secret, SecretFromEnv: j.secretFromEnv, Log: j.log, Rebuild: rebuild, TmpDir: j.copiesDir()}
	if f, ok := e.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		in.Progress = progressLine(e.stderr)
	}
	if rebuild {
		if err := j.warnFilesGone(ctx); err != nil {
			return pipeline.IngestSummary{}, err
		}
	} else {
		if err := pipeline.RecordUnloadedLayouts(ctx, j.db, j.cfg); err != nil {
			return pipeline.IngestSummary{}, err
		}
		changes, err := pipeline.ChangedReadSettings(ctx, j.db, j.cfg)
		if err != nil {
			return pipeline.IngestSummary{}, err
		}
		for _, c := range changes {
			j.log.Warn("reading settings changed since the files were loaded: each file is loaded once, so the files already loaded keep the old reading; run `referrals run --rebuild` to read them again: it reloads every export file still on disk, and the rows of export files no longer on disk are lost (it refuses to start while a file pattern matches no file)",
				"changed", c.String(), "files", c.Files)
		}
	}
	sum, err := in.Ingest(ctx)
	if err != nil {
		return sum, err
	}
	// A database whose clients were keyed before ids of digits were keyed without
	// their leading zeros goes on keying them as written: said every run that loads
	// a file with such ids, as a changed reading setting is, or an installation that
	// upgraded would never learn why a billing export's 501 stays another client
	// than the schedule's 00501. A database whose ids have no such zeros is not told.
	var padded []string
	for _, f := range sum.Files {
		if f.ZeroPaddedIDs {
			padded = append(padded, f.Path)
		}
	}
	if len(padded) > 0 {
		j.log.Warn("client ids with leading zeros are keyed as written in this database, which was built before ids of digits were keyed without them: 00501 on the schedule and 501 in an export saved through a spreadsheet are two clients; run `referrals run --rebuild` to key every export file still on disk again (the rows of export files no longer on disk are lost)",
			"file", padded[0], "files", len(padded))
	}
	if err := pipeline.RecordReadSettings(ctx, j.db, j.cfg, rebuild); err != nil {
		return sum, err
	}
	warnRejected(j.log, sum)
	gaps, err := pipeline.MissingColumns(ctx, j.db, j.cfg, sum)
	if err != nil {
		return sum, err
	}
	for _, g := range gaps {
		j.log.Warn("an export lacks a column the one before it had", "file", g.Path, "missing", strings.Join(g.Fields, ","),
			"previous", g.Previous, "what_to_do", "its rows load without it. "+g.Advice())
	}
	unmatched, err := pipeline.UnmatchedMappings(ctx, j.db, j.cfg)
	if err != nil {
		return sum, err
	}
	for _, p := range unmatched {
		j.log.Warn("a column mapping names a header that no loaded export has: the field is read from its usual headers, or not at all, and the figures differ from what was meant",
			"problem", p, "what_to_do", "correct the header name in the configuration, then run with --rebuild so that the files are read again")
	}
	j.log.Info("ingest done", "files_loaded", sum.Count("loaded"), "files_skipped", sum.Count("skipped"),
		"files_failed", sum.Count("failed"), "rows", sum.Loaded, "rejected", sum.Rejected, "replaced", sum.Replaced,
		"took", sum.Took.Round(time.Millisecond))
	return sum, nil
}

// checkRebuildSources refuses a rebuild (exit 2) unless every file pattern of
// the configuration matches at least one file and every file it matches can be
// read. A rebuild empties the loaded tables and reloads only what is on disk:
// with a share not mounted or a folder archived, a pattern that matches nothing
// would wipe that source's whole history, and the reports written after it
// would lack it. Refused, the database and the reports stay as they were.
func checkRebuildSources(cfg config.Config) error {
	var problems []string
	for _, s := range []struct {
		name string
		src  config.Source
	}{{"scheduling", cfg.Scheduling}, {"billing", cfg.Billing}} {
		for _, g := range s.src.AllFiles() {
			pattern := cfg.Path(g)
			matches, err := filepath.Glob(pattern)
			if err != nil {
				problems = append(problems, fmt.Sprintf("[%s] files %q is not a valid file pattern: %v", s.name, g, err))
				continue
			}
			if len(matches) == 0 {
				problems = append(problems, fmt.Sprintf("[%s] files %q matches no file (looked for %s): is the folder's share mounted, were the files moved or archived?", s.name, g, pattern))
				continue
			}
			for _, m := range matches {
				if err := readableFile(m, g); err != nil {
					problems = append(problems, fmt.Sprintf("[%s] files %q: %s %v", s.name, g, m, err))
				}
			}
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%w: --rebuild refused, nothing was changed: a rebuild empties the database and reloads only the export files it can read now, so the rows loaded from the patterns below would be lost, and the reports rewritten without them:\n  %s\n"+
		"Make every pattern match its export files (`referrals check` lists what each finds), or take out of the configuration a pattern whose files are gone for good, then run --rebuild again",
		config.ErrConfig, strings.Join(problems, "\n  "))
}

// readableFile says why the export file at path, matched by the file pattern
// pattern, cannot be read, if it cannot.
func readableFile(path, pattern string) error {
	f, err := os.Open(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("cannot be read: %v", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("cannot be read: %v", err)
	}
	if fi.IsDir() {
		if strings.HasSuffix(strings.ToLower(pattern), ".csv") {
			return errors.New("is a folder, not an export file, and the pattern matches it: rename the folder so that the pattern does not match it, or narrow the pattern so that it matches only the export files")
		}
		return errors.New("is a folder, not an export file: make the pattern match only the export files (e.g. end it in *.csv)")
	}
	if _, err := f.Read(make([]byte, 1)); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("cannot be read: %v", err)
	}
	return nil
}

// warnFilesGone warns, as a rebuild starts, of the export files loaded before
// that are no longer on disk: their rows are not reloaded.
func (j *job) warnFilesGone(ctx context.Context) error {
	if err := pipeline.EnsureSchema(ctx, j.db); err != nil {
		return err
	}
	// The rows each file still holds: those a newer export replaced are not lost.
	rows, err := j.db.QueryContext(ctx, `SELECT f.path, coalesce(a.n, 0) + coalesce(c.n, 0)
		FROM ingest_files f
		LEFT JOIN (SELECT file_id, count(*) AS n FROM raw_appointments GROUP BY file_id) a USING (file_id)
		LEFT JOIN (SELECT file_id, count(*) AS n FROM raw_claim_lines GROUP BY file_id) c USING (file_id)
		ORDER BY f.file_id`)
	if err != nil {
		return fmt.Errorf("read the ledger: %w", err)
	}
	defer rows.Close()
	// Files, not the ledger's versions: a file loaded again is one file.
	gone := map[string]bool{}
	var lost int64
	var example string
	for rows.Next() {
		var path string
		var n sql.NullInt64
		if err := rows.Scan(&path, &n); err != nil {
			return fmt.Errorf("read the ledger: %w", err)
		}
		if _, err := os.Stat(j.cfg.Path(path)); errors.Is(err, fs.ErrNotExist) {
			gone[path] = true
			lost += n.Int64
			if example == "" {
				example = path
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read the ledger: %w", err)
	}
	if len(gone) > 0 {
		j.log.Warn("--rebuild: export files loaded before are no longer on disk; their rows are not reloaded, and the history they held is lost",
			"files", len(gone), "rows", lost, "such_as", example)
	}
	return nil
}

// requireData fails a run that has no export row to report on (every pattern
// matched nothing, or no file could be loaded): reports of nothing would read as
// a month without referrals.
func (j *job) requireData(ctx context.Context) error {
	var rows int64
	if err := j.db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM raw_appointments) + (SELECT count(*) FROM raw_claim_lines)`).Scan(&rows); err != nil {
		return fmt.Errorf("count the loaded rows: %w", err)
	}
	if rows == 0 {
		return errors.New("no export row is loaded, so there is nothing to report: the configuration's [scheduling] and [billing] files matched no file, or none could be loaded (see the warnings above, or run `referrals check`)")
	}
	return nil
}

// warnRejected logs a warning for each file loaded with rejected rows, so that
// --quiet (cron's mail) still shows them, as files that could not be loaded are.
// It names the file and the count only: a rejected row's content may hold a
// client id, and where to read the rows is said instead.
func warnRejected(log *slog.Logger, sum pipeline.IngestSummary) {
	for _, f := range sum.Files {
		if f.Status == "loaded" && f.Rejected > 0 {
			log.Warn("rows rejected, the file's other rows loaded", "source", f.Source, "file", f.Path, "rejected", f.Rejected,
				"see", "the table rejected_rows or the workbook's Data quality sheet (line, column and reason of each)")
		}
	}
}

// warnOutsideData warns when a report month asked for (--month) lies before
// or after the months the loaded exports cover: no referral falls in it, and
// the further from the data the emptier its reports (its 12-month window,
// its charts' 24 months), which is rarely what was meant (a typo in the year,
// a month not exported yet). The warning names the months the data covers.
// It warns too when the month is today's, not over yet: its figures are
// partial, and partialUntil is then the exports' last date up to today (the
// zero time when there is none, or the month is over).
func (j *job) warnOutsideData(ctx context.Context, month, today time.Time) (partialUntil time.Time, err error) {
	var first, last, until sql.NullTime
	err = j.db.QueryRowContext(ctx, `SELECT min(lo), max(hi), max(upto) FROM (
		SELECT min(appt_date) AS lo, max(appt_date) AS hi, max(appt_date) FILTER (WHERE appt_date <= ?) AS upto FROM raw_appointments
		UNION ALL SELECT min(service_date), max(service_date), max(service_date) FILTER (WHERE service_date <= ?) FROM raw_claim_lines)`,
		today, today).Scan(&first, &last, &until)
	if err != nil {
		return time.Time{}, fmt.Errorf("read the months the exports cover: %w", err)
	}
	ym := month.Format("2006-01")
	if month.Equal(firstOfMonth(today)) {
		// The default is the last complete month; a month asked for may be this one
		// (a mid-month look), but it must not read as a whole month.
		attrs := []any{"month", ym, "today", today.Format("2006-01-02")}
		if until.Valid {
			partialUntil = until.Time
			attrs = append(attrs, "data_until", until.Time.Format("2006-01-02"))
		}
		j.log.Warn("the report month is not over yet, so its figures are partial: the exports hold the month up to their last date (data_until), with intakes already booked after it counted as referrals; run it again once the month is over for the whole month",
			attrs...)
	}
	if !first.Valid || !last.Valid {
		j.log.Warn("no export row is loaded, so the report month has no data; check the [scheduling] and [billing] files", "month", ym)
		return partialUntil, nil
	}
	from, to := first.Time.Format("2006-01"), last.Time.Format("2006-01")
	if ym < from || ym > to {
		j.log.Warn("the report month is outside the months the exports cover, so no referral falls in it; check --month",
			"month", ym, "data_covers", from+" to "+to)
	}
	return partialUntil, nil
}

// progressLine draws "[12/40] file" on one terminal line.
func progressLine(w io.Writer) func(done, total int, path string) {
	return func(done, total int, path string) {
		if done >= total {
			fmt.Fprintf(w, "\r\033[K")
			return
		}
		width := 30
		filled := width * done / max(total, 1)
		fmt.Fprintf(w, "\r\033[K[%s%s] %d/%d %s", strings.Repeat("#", filled), strings.Repeat(".", width-filled), done, total, path)
	}
}

// printIngestSummary writes the per-file table and totals for people.
func printIngestSummary(ctx context.Context, w io.Writer, db *sql.DB, sum pipeline.IngestSummary) {
	var loaded, skipped, failed []pipeline.FileResult
	for _, f := range sum.Files {
		switch f.Status {
		case "loaded":
			loaded = append(loaded, f)
		case "skipped":
			skipped = append(skipped, f)
		default:
			failed = append(failed, f)
		}
	}
	fmt.Fprintf(w, "Ingest: %d file(s) loaded, %d already loaded, %d with problems; %d rows loaded, %d rejected; %d rows of older exports replaced by newer ones (%s)\n",
		len(loaded), len(skipped), len(failed), sum.Loaded, sum.Rejected, sum.Replaced, sum.Took.Round(time.Millisecond))
	// Each file's two figures of replacement: the rows of older exports it replaced
	// (the ledger's rows_replaced), and its own rows that a newer export replaced,
	// read by this run or before (its rows loaded, less those still in the table).
	current, err := currentRows(ctx, db, loaded)
	for _, f := range loaded {
		note := ""
		if f.Encoding != "" && f.Encoding != "utf-8" {
			note = " [" + f.Encoding + "]"
		}
		if f.Amounts != "" {
			note += " [amounts: " + f.Amounts + "]"
		}
		byNewer := ""
		if err == nil {
			byNewer = fmt.Sprintf(" %6d replaced by newer", f.Loaded-current[f.FileID])
		}
		fmt.Fprintf(w, "  loaded   %-55s %8d rows %5d rejected %6d older rows replaced%s%s\n", f.Path, f.Loaded, f.Rejected, f.Replaced, byNewer, note)
	}
	for _, f := range failed {
		fmt.Fprintf(w, "  PROBLEM  %s: %s\n", f.Path, f.Problem)
	}
	printNotices(ctx, w, db, loaded)
	if sum.Rejected > 0 {
		printRejects(ctx, w, db, loaded)
		fmt.Fprintf(w, "All rejected rows are listed with file, line and column in the table rejected_rows and on the Data quality sheet.\n")
	}
}

// currentRows counts, per file, the rows of the loaded files still in the
// tables: those no newer export replaced.
func currentRows(ctx context.Context, db *sql.DB, loaded []pipeline.FileResult) (map[int64]int64, error) {
	out := map[int64]int64{}
	if len(loaded) == 0 {
		return out, nil
	}
	ids := make([]string, len(loaded))
	for i, f := range loaded {
		ids[i] = fmt.Sprint(f.FileID)
	}
	in := strings.Join(ids, ", ")
	rows, err := db.QueryContext(ctx, `SELECT file_id, count(*) FROM (
		SELECT file_id FROM raw_appointments WHERE file_id IN (`+in+`)
		UNION ALL SELECT file_id FROM raw_claim_lines WHERE file_id IN (`+in+`)) GROUP BY file_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, n int64
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}

// printNotices shows what this run's files loaded with, not as written: NUL
// bytes removed, carriage returns read as spaces. They are no rejected rows,
// so a file may have them and no reject.
func printNotices(ctx context.Context, w io.Writer, db *sql.DB, loaded []pipeline.FileResult) {
	var ids []string
	for _, f := range loaded {
		ids = append(ids, fmt.Sprint(f.FileID))
	}
	if len(ids) == 0 {
		return
	}
	rows, err := db.QueryContext(ctx, `SELECT path, line, message FROM rejected_rows
		WHERE file_id IN (`+strings.Join(ids, ", ")+`) AND error_type IN ('NUL BYTES', 'CARRIAGE RETURN')
		ORDER BY path, line NULLS FIRST`)
	if err != nil {
		return
	}
	defer rows.Close()
	first := true
	for rows.Next() {
		var path, msg string
		var line sql.NullInt64
		if rows.Scan(&path, &line, &msg) != nil {
			continue
		}
		if first {
			fmt.Fprintln(w, "Notices (the rows loaded):")
			first = false
		}
		where := path
		if line.Valid {
			where += fmt.Sprintf(" line %d", line.Int64)
		}
		fmt.Fprintf(w, "  %s: %s\n", where, msg)
	}
}

// printRejects shows where this run's first rejected rows are.
func printRejects(ctx context.Context, w io.Writer, db *sql.DB, loaded []pipeline.FileResult) {
	var ids []string
	for _, f := range loaded {
		if f.Rejected > 0 {
			ids = append(ids, fmt.Sprint(f.FileID))
		}
	}
	if len(ids) == 0 {
		return
	}
	const show = 10
	rows, err := db.QueryContext(ctx, `SELECT path, coalesce(line::VARCHAR, '-'), coalesce(column_name, ''), message
		FROM rejected_rows WHERE file_id IN (`+strings.Join(ids, ", ")+`) AND error_type NOT IN ('NUL BYTES', 'CARRIAGE RETURN', 'EMPTY ROW')
		ORDER BY path, line NULLS LAST LIMIT `+fmt.Sprint(show))
	if err != nil {
		return
	}
	defer rows.Close()
	fmt.Fprintf(w, "Rejected rows (first %d):\n", show)
	for rows.Next() {
		var path, line, col, msg string
		if rows.Scan(&path, &line, &col, &msg) == nil {
			where := "line " + line
			if col != "" { // a whole row has no column
				where += " " + col
			}
			fmt.Fprintf(w, "  %s %s: %s\n", path, where, msg)
		}
	}
}

// engineSettings are the configuration's [duckdb] settings for the database.
func engineSettings(cfg config.Config) pipeline.Settings {
	return pipeline.Settings{
		Threads: cfg.DuckDB.Threads, MemoryLimit: cfg.DuckDB.MemoryLimit, TempDir: cfg.Path(cfg.DuckDB.TempDir),
		FastText: !cfg.DuckDB.SmallerFile,
	}
}

// loadConfig reads the configuration; without one, the built-in settings
// need the sample-data folder of the repository in the current folder.
func loadConfig(path string) (config.Config, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return cfg, err
	}
	if path == "" {
		if _, err := os.Stat(cfg.Path("sample-data")); err != nil {
			return cfg, fmt.Errorf("%w: no --config given, and the built-in settings read sample-data/, which is not in %s: run from the repository folder to try the sample, or pass --config FILE (see referrals.example.toml)", config.ErrConfig, cfg.Dir)
		}
	}
	return cfg, nil
}

// ingestOutcome is the error a run or an ingest ends with after its work:
// export files that could not be loaded (exit 6), else rejected rows under
// --strict (exit 5).
func ingestOutcome(strict bool, sum pipeline.IngestSummary) error {
	// Files that failed, and file patterns that match no file (a night's exports
	// not where the configuration looks): cron must hear of both.
	var parts []string
	if n := sum.Count("failed"); n > 0 {
		parts = append(parts, fmt.Sprintf("%d file(s), named in the warnings above; their rows are missing until they load (`referrals check` says what is wrong with each)", n))
	}
	if n := sum.Count("missing"); n > 0 {
		parts = append(parts, fmt.Sprintf("%d file pattern(s) of the configuration match no file, named in the warnings above", n))
	}
	if len(parts) > 0 {
		return fmt.Errorf("%w: %s", errNotLoaded, strings.Join(parts, "; "))
	}
	if strict && sum.Rejected > 0 {
		return fmt.Errorf("%w: %d row(s); see rejected_rows or the Data quality sheet", errStrict, sum.Rejected)
	}
	return nil
}

// copiesDir is where the loader's converted copies of exports go: a folder of the
// database's own beside it (<database>.copies, as its report cache is). They hold
// the exports' rows in clear, so they stay where the database and its protection
// are, not in the machine's shared temporary folder; and the folder is this
// database's alone, so a run removing the copies a killed run left cannot take a
// run's on another database.
func (j *job) copiesDir() string {
	return j.cfg.Path(j.cfg.Database) + ".copies"
}
