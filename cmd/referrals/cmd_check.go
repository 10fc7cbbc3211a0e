package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/referrals/referrals/internal/clientkey"
	"github.com/referrals/referrals/internal/config"
	"github.com/referrals/referrals/pipeline"
)

func cmdCheck(ctx context.Context, e env, args []string) error {
	var cf commonFlags
	fs := newFlagSet(e, "check", "[--config FILE] "+logFlagsUsage, `
Validate the configuration and every export file it would read, without
loading anything and without touching the database: encoding, delimiter,
the headers found and the field each maps to, the date format on the first
rows, and the roster, directory and alias files. Each problem says what to
change. Exit code 0 when everything can be read, 2 otherwise.
With --quiet only the problems and warnings are printed. check logs nothing
else: --verbose and --log-format are taken, as every command takes them, and
change nothing.`)
	cf.register(fs)
	fs.Lookup("verbose").Usage = "taken, as every command takes it; changes nothing here"
	if err := parse(e, fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{fmt.Sprintf("check takes no arguments, got %q; did you mean --config?", fs.Arg(0))}
	}
	if err := cf.validate(e); err != nil {
		return err
	}
	cfg, err := loadConfig(cf.config)
	if err != nil {
		return err
	}
	w := e.stdout
	// fine is where the lines saying that something is fine go: nowhere with --quiet.
	fine := w
	if cf.quiet {
		fine = io.Discard
	}
	where := "built-in defaults (sample-data/)"
	if cfg.File != "" {
		where = cfg.File
	}
	fmt.Fprintf(fine, "Configuration: %s\n", where)
	problems := 0
	// The run writes the database, its key and lock beside it, and the reports:
	// a folder it cannot write in fails the night, so say so now.
	for _, f := range []struct{ what, dir string }{
		{"database folder", filepath.Dir(cfg.Path(cfg.Database))},
		{"report folder (out_dir)", cfg.Path(cfg.OutDir)},
	} {
		if err := writableDir(f.dir); err != nil {
			problems++
			fmt.Fprintf(w, "PROBLEM  %s %s: %v; make it writable by the user the nightly run runs as, or set another folder in the configuration\n", f.what, f.dir, err)
		} else {
			fmt.Fprintf(fine, "ok       %s %s can be written\n", f.what, f.dir)
		}
	}
	// DuckDB's spill folder: the run creates it, and a parent that does not exist
	// would otherwise fail a night only once DuckDB spills, not naming the setting.
	if cfg.DuckDB.TempDir != "" {
		dir := cfg.Path(cfg.DuckDB.TempDir)
		if err := writableDir(dir); err != nil {
			problems++
			fmt.Fprintf(w, "PROBLEM  spill folder ([duckdb] temp_directory, %s) %s: %v; make it writable by the user the nightly run runs as, or set another folder (or \"\" for one beside the database)\n", cfg.Where("duckdb", "temp_directory"), dir, err)
		} else {
			fmt.Fprintf(fine, "ok       spill folder ([duckdb] temp_directory) %s can be written\n", dir)
		}
	}
	// What the run would refuse before loading anything: a database that is a
	// folder, a client-key secret too short, missing or not the database's.
	for _, p := range checkDatabaseAndKey(ctx, e, cfg) {
		switch {
		case strings.HasPrefix(p, "ok "):
			fmt.Fprintf(fine, "ok       %s\n", strings.TrimPrefix(p, "ok "))
		case strings.HasPrefix(p, "warning "):
			fmt.Fprintf(w, "WARNING  %s\n", strings.TrimPrefix(p, "warning "))
		default:
			problems++
			fmt.Fprintf(w, "PROBLEM  %s\n", p)
		}
	}
	// A configuration copied from another practice's that still names its
	// database or reports folder: the run refuses it.
	if p, err := storedOtherOwner(ctx, cfg); err != nil && !errors.Is(err, pipeline.ErrLocked) {
		problems++
		fmt.Fprintf(w, "PROBLEM  the database %s cannot be read: %v\n", cfg.Path(cfg.Database), err)
	} else if p != "" {
		problems++
		fmt.Fprintf(w, "PROBLEM  %s\n", p)
	}
	if _, p, err := outDirOwner(cfg); err != nil {
		problems++
		fmt.Fprintf(w, "PROBLEM  %v\n", err)
	} else if p != "" {
		problems++
		fmt.Fprintf(w, "PROBLEM  %s\n", p)
	}
	// A source may be left out on purpose (a practice without a billing export),
	// but not without being said.
	for _, s := range []struct {
		name string
		src  config.Source
	}{{"scheduling", cfg.Scheduling}, {"billing", cfg.Billing}} {
		if len(s.src.AllFiles()) == 0 {
			fmt.Fprintf(w, "WARNING  [%s] files is an empty list (%s): no %s export file is configured, so none is read and the reports rest on the other exports alone; list its files' patterns if the practice has such exports, e.g. files = [\"exports/%s/*.csv\"]\n",
				s.name, cfg.Where(s.name, "files"), s.name, s.name)
		}
	}
	mem, err := pipeline.Open(ctx, ":memory:", pipeline.Settings{Threads: 1})
	if err != nil {
		return err
	}
	defer mem.Close()
	j := &job{cfg: cfg}
	refWarnings, err := pipeline.LoadReferenceWarnings(ctx, mem, j.referenceFiles())
	if err != nil {
		// The run stops at the first file that fails; check says what is wrong with
		// each, so that one pass of edits mends them all.
		var errs []string
		errs, refWarnings = eachReferenceFile(ctx, j.referenceFiles())
		if len(errs) == 0 {
			errs = []string{err.Error()} // only the files together fail
		}
		for _, e := range errs {
			problems++
			fmt.Fprintf(w, "PROBLEM  reference files: %s\n", e)
		}
	} else {
		var roster, dir, aliases int
		mem.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM ref_roster), (SELECT count(*) FROM ref_directory), (SELECT count(*) FROM ref_aliases)`).Scan(&roster, &dir, &aliases)
		fmt.Fprintf(fine, "ok       reference files: %d clinicians in the roster, %d directory entries, %d aliases\n", roster, dir, aliases)
		unknown, err := pipeline.UnknownPointPersons(ctx, mem)
		if err != nil {
			return err
		}
		for _, u := range unknown {
			fmt.Fprintf(w, "WARNING  directory %s: %q, the point person of %s, matches no clinician of the roster (a typo, or a clinician missing from it): that referrer's point person would be the clinician of its first referral\n", cfg.Path(cfg.Reference.Directory), u[1], u[0])
		}
	}
	for _, warn := range refWarnings {
		fmt.Fprintf(w, "WARNING  %s\n", warn)
	}
	checks, err := pipeline.CheckExports(ctx, cfg)
	if err != nil {
		return err
	}
	prev := map[string]pipeline.FileCheck{} // the source's file before, among those that can be read
	for _, c := range checks {
		if !c.OK() {
			problems += len(c.Problems)
			fmt.Fprintf(w, "PROBLEM  %s file %s\n", c.Source, c.Path)
			for _, p := range c.Problems {
				fmt.Fprintf(w, "         - %s\n", p)
			}
			for _, warn := range c.Warnings {
				fmt.Fprintf(w, "WARNING  %s: %s\n", c.Path, warn)
			}
			continue
		}
		fields := make([]string, 0, len(c.Mapping))
		for f, h := range c.Mapping {
			if config.NormaliseHeader(f) == config.NormaliseHeader(h) {
				fields = append(fields, f)
			} else {
				fields = append(fields, fmt.Sprintf("%s=%q", f, h))
			}
		}
		sort.Strings(fields)
		fmt.Fprintf(fine, "ok       %s file %s: %s, delimiter %q, dates of %d rows tried; fields %s", c.Source, c.Path, c.Encoding, string(c.Delimiter), c.Rows, strings.Join(fields, ", "))
		if c.Amounts != "" {
			fmt.Fprintf(fine, "; amounts with a %s", c.Amounts)
		}
		if c.TitleLines > 0 {
			fmt.Fprintf(fine, "; header on line %d (the %d line(s) above it, a report's title, are not read)", c.TitleLines+1, c.TitleLines)
		}
		if len(c.Ignored) > 0 {
			fmt.Fprintf(fine, "; not used: %s", strings.Join(c.Ignored, ", "))
		}
		fmt.Fprintln(fine)
		for _, warn := range c.Warnings {
			fmt.Fprintf(w, "WARNING  %s: %s\n", c.Path, warn)
		}
		// An optional column the file before had: loaded without it, which a renamed
		// header makes easy to miss. A warning: some exports gain a column over time.
		// Compared with the file before it of its block: another system's files (a
		// layout's) have other columns.
		if p, ok := prev[c.Block]; ok {
			if gap := pipeline.FieldsDropped(c.Source, slices.Collect(maps.Keys(p.Mapping)), slices.Collect(maps.Keys(c.Mapping))); len(gap) > 0 {
				g := pipeline.ColumnGap{Source: c.Source, Path: c.Path, Fields: gap, Previous: p.Path, Columns: c.Columns}
				fmt.Fprintf(w, "WARNING  %s\n", g)
			}
		}
		prev[c.Block] = c
	}
	// Status spellings no class takes, once for the source: each export repeats them.
	unknown, files := map[string]int{}, 0
	for _, c := range checks {
		if len(c.UnknownStatuses) > 0 {
			files++
		}
		for v, n := range c.UnknownStatuses {
			unknown[v] += n
		}
	}
	if len(unknown) > 0 {
		var us []pipeline.UnknownStatus
		for v, n := range unknown {
			us = append(us, pipeline.UnknownStatus{Status: v, Appointments: int64(n)})
		}
		sort.Slice(us, func(i, j int) bool {
			if us[i].Appointments != us[j].Appointments {
				return us[i].Appointments > us[j].Appointments
			}
			return us[i].Status < us[j].Status
		})
		fmt.Fprintf(w, "WARNING  scheduling: %d status spelling(s) in %d file(s) are none of the words the tool knows (rows read): %s; %s; %s\n",
			len(us), files, pipeline.ListStatuses(us, 10), pipeline.StatusesMeaning, pipeline.StatusesFix(us[0].Status))
	}
	if problems > 0 {
		return &checkProblems{problems}
	}
	fmt.Fprintf(fine, "All %d export file(s) can be read.\n", len(checks))
	return nil
}

// checkProblems ends a check that found problems (exit code 2, like a
// configuration error): in the configuration, the reference files or the
// exports, which are not all configuration.
type checkProblems struct{ n int }

func (e *checkProblems) Error() string {
	return fmt.Sprintf("check found %d problem(s) (the PROBLEM lines above); fix them and run referrals check again", e.n)
}

// writableDir says whether a file can be made in dir, creating dir (as the run
// would) when it does not exist. What it creates to find out it removes, each
// folder it made only while empty, so a run that meanwhile wrote there keeps
// its files.
func writableDir(dir string) error {
	var made []string // the folders to make, deepest first
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		} else if !os.IsNotExist(err) {
			return fmt.Errorf("cannot create it: %w", err)
		}
		made = append(made, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	defer func() {
		for _, d := range made {
			os.Remove(d) // fails, harmlessly, on a folder not made or not empty
		}
	}()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cannot create it: %w", err)
	}
	f, err := os.CreateTemp(dir, ".referrals-check-*")
	if err != nil {
		return fmt.Errorf("cannot write in it: %w", err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// checkDatabaseAndKey finds what the run would refuse in the database setting
// and the client-key secret, without creating or changing the database or the
// key file: a database that is a folder, a secret too short, a key file missing
// for a database that holds clients, and a secret other than the one that keyed
// them (read from the database opened read-only). Each line begins "ok ",
// "warning " or is a problem.
func checkDatabaseAndKey(ctx context.Context, e env, cfg config.Config) []string {
	dbPath := cfg.Path(cfg.Database)
	fi, err := os.Stat(dbPath)
	if err == nil && fi.IsDir() {
		return []string{databaseIsFolder(cfg)}
	}
	exists := err == nil
	keyPath := cfg.KeyPath()
	from := "the key file " + keyPath
	env := e.getenv(clientkey.EnvVar)
	if strings.TrimSpace(env) != "" {
		from = clientkey.EnvVar
	}
	secret, err := clientkey.Read(env, keyPath)
	if errors.Is(err, clientkey.ErrNoKeyFile) {
		if !exists {
			return []string{fmt.Sprintf("ok client key: the first run creates the key file %s (keep it with the database backup)", keyPath)}
		}
		st, err := pipeline.ReadStored(ctx, dbPath)
		switch {
		case errors.Is(err, pipeline.ErrLocked):
			return []string{fmt.Sprintf("warning the client-key file %s is missing, and whether the database %s holds clients keyed with its secret could not be read: a run holds the database; run check again once it is over", keyPath, dbPath)}
		case err != nil:
			return []string{fmt.Sprintf("the database %s cannot be read: %v", dbPath, err)}
		case st.Loaded:
			if st.KeyFromEnv {
				return []string{fmt.Sprintf("%s is not set, and the last command that loaded exports into the database %s took the client-key secret from it, not from the key file %s: the run would stop (with a new secret, every client would count as new). Set %s to that secret, as the nightly job sets it (the crontab line or the script cron runs, which a login shell may not have)",
					clientkey.EnvVar, dbPath, keyPath, clientkey.EnvVar)}
			}
			return []string{fmt.Sprintf("the client-key file %s is missing, and the database %s holds clients keyed with its secret: the run would stop (with a new secret, every client would count as new). Restore the key file from the backup taken with the database (or set %s to its secret)",
				keyPath, dbPath, clientkey.EnvVar)}
		}
		return []string{fmt.Sprintf("ok client key: the next run creates the key file %s (the database holds no client yet)", keyPath)}
	}
	if err != nil {
		return []string{fmt.Sprintf("client-key secret: %v", err)}
	}
	if !exists {
		return []string{fmt.Sprintf("ok client key from %s (the first run creates the database %s)", from, dbPath)}
	}
	st, err := pipeline.ReadStored(ctx, dbPath)
	switch {
	case errors.Is(err, pipeline.ErrLocked):
		return []string{fmt.Sprintf("warning client key from %s: not compared with the one that keyed the database %s, because a run holds the database; run check again once it is over", from, dbPath)}
	case err != nil:
		return []string{fmt.Sprintf("the database %s cannot be read: %v", dbPath, err)}
	case st.Fingerprint != "" && st.Loaded && st.Fingerprint != clientkey.Fingerprint(secret):
		fix := fmt.Sprintf("restore the key file %s from the backup taken with the database", keyPath)
		if st.KeyFromEnv && from != clientkey.EnvVar {
			fix = fmt.Sprintf("they were keyed with %s, which is not set here: set it as the nightly job sets it (the crontab line or the script cron runs, which a login shell may not have)", clientkey.EnvVar)
		}
		if from == clientkey.EnvVar {
			fix = fmt.Sprintf("set %s to the secret used before, or unset it if the key file %s holds that secret (cron and a login shell may set it differently)", clientkey.EnvVar, keyPath)
		}
		return []string{fmt.Sprintf("the client-key secret from %s is not the one that keyed the clients in the database %s: the run would stop (with it, every client would count as new). Use the secret the database was built with: %s. Or run with --rebuild to key every export file still on disk again with this secret (rows of exports no longer on disk are lost)",
			from, dbPath, fix)}
	}
	return []string{fmt.Sprintf("ok client key from %s: the one the database %s was built with", from, dbPath)}
}

// eachReferenceFile loads the roster, the directory and the alias file each on
// its own, for check to report every file's problems and warnings where loading
// them together stops at the first.
func eachReferenceFile(ctx context.Context, all pipeline.ReferenceFiles) (problems, warnings []string) {
	seen := map[string]bool{}
	for _, one := range []pipeline.ReferenceFiles{
		{Roster: all.Roster, Channels: all.Channels, DayFirst: all.DayFirst},
		{Directory: all.Directory, Channels: all.Channels},
		{Aliases: all.Aliases, Channels: all.Channels},
	} {
		if one.Roster == "" && one.Directory == "" && one.Aliases == "" {
			continue
		}
		db, err := pipeline.Open(ctx, ":memory:", pipeline.Settings{Threads: 1})
		if err != nil {
			return append(problems, err.Error()), warnings
		}
		ws, err := pipeline.LoadReferenceWarnings(ctx, db, one)
		db.Close()
		if err != nil {
			problems = append(problems, err.Error())
		}
		for _, w := range ws {
			if !seen[w] {
				seen[w] = true
				warnings = append(warnings, w)
			}
		}
	}
	return problems, warnings
}
