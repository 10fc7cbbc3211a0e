package pipeline

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/referrals/referrals/internal/config"
	"golang.org/x/text/encoding/charmap"
)

// testHookBeforeCommit, when set by a test, runs after a file was read and
// before its load commits.
var testHookBeforeCommit func(path string)

// testHookKeepOrder, when set by a test, decides whether a group's read keeps
// its files' order, given what the scans decided.
var testHookKeepOrder func(items []*prepared, keep bool) bool

// errOrderNeeded is a group read without its files' order (their scans saw
// every id once) that holds an id twice, or two rows without an id, after
// all: it is read again, in order.
var errOrderNeeded = errors.New("files read without their order need it")

// testHookInsert, when set by a test, is given each statement that reads a
// group of files into its table, with its arguments and transaction, just
// before it runs.
var testHookInsert func(tx *sql.Tx, sql string, args []any)

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
	// Empty: the file holds its header and no row (an export that failed, or a
	// period without any), where the scan could count its records.
	Empty bool
	// Amounts says how the file writes amounts, where it is not 1250.00:
	// "decimal comma" (read that way), or "mixed decimal marks" (amounts
	// holding a comma rejected).
	Amounts string
	// ZeroPaddedIDs: client ids on the file's first rows are digits with leading
	// zeros (00501), and the database keys them as written, not as 501
	// (ClientKeyCanonical): only set for such a database.
	ZeroPaddedIDs bool
}

// IngestSummary is the outcome of one ingestion.
type IngestSummary struct {
	Files    []FileResult
	Loaded   int64
	Rejected int64
	Replaced int64
	// ReplacedOtherClient: of Replaced, the rows replaced by a row of the same id
	// and another client (warned of: two systems numbering their ids alike).
	ReplacedOtherClient int64
	Took                time.Duration
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
	// SecretFromEnv: the secret came from REFERRALS_CLIENT_KEY, not the key file
	// (recorded, for the message of a command run without it).
	SecretFromEnv bool
	Log           *slog.Logger
	// canonical: the database keys client ids canonical (ClientKeyCanonical).
	canonical bool
	// Progress, when set, is told each file as it starts (done of total).
	Progress func(done, total int, path string)
	// Rebuild empties the loaded tables and the ledger first, then reloads
	// every file still on disk.
	Rebuild bool
	// TmpDir holds the copies made for DuckDB (Windows-1252 decoded, mixed line
	// endings or NUL bytes mended); default os.TempDir(). The copies hold the
	// export's rows in clear: the commands put them beside the database (or in
	// [duckdb] temp_directory), where the exports' own protection applies, and a
	// run removes those a killed run left there.
	TmpDir string

	// exactLeft is how many bytes of the scans' exact id hashes may still be
	// held (exactBudget at the start of a run; see supersede.go).
	exactLeft atomic.Int64
	// loads is, per source, what this run's reads proved (replaceEarlierVersions).
	loads map[string]*sourceLoads
}

// sourceLoads is what a run's reads of one source's files proved: when one
// read took them all and left no id in two of its rows, and the table held no
// other rows, there is nothing for replaceEarlierVersions to replace.
type sourceLoads struct {
	reads   int
	unique  bool     // every read left no id in two rows
	fileIDs []string // the files read
}

type pending struct {
	source string
	path   string
	mod    time.Time
	layout int // the source's [[….layout]] block whose settings read it, -1 for the source's own
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
	in.exactLeft.Store(exactBudget)
	in.loads = map[string]*sourceLoads{}
	if err := EnsureSchema(ctx, in.DB); err != nil {
		return sum, err
	}
	// Copies a killed run left (it holds the database's lock, so no other run is
	// reading one now). The folder goes too once this run's copies have gone:
	// os.Remove leaves a folder that holds anything.
	if in.TmpDir != "" {
		defer os.Remove(in.TmpDir)
		if old, err := filepath.Glob(filepath.Join(in.TmpDir, copyPattern)); err == nil {
			for _, f := range old {
				if err := os.Remove(f); err == nil {
					log.Info("removed a copy of an export a killed run left", "file", f)
				}
			}
		}
	}
	if in.Rebuild {
		if err := in.reset(ctx); err != nil {
			return sum, err
		}
	}
	// After a rebuild's reset every row is keyed again: the secret is recorded anew.
	if err := CheckClientKey(ctx, in.DB, in.Secret, true); err != nil {
		return sum, err
	}
	if err := RecordKeySource(ctx, in.DB, in.SecretFromEnv); err != nil {
		return sum, err
	}
	canonical, err := ClientKeyCanonical(ctx, in.DB)
	if err != nil {
		return sum, err
	}
	in.canonical = canonical
	var files []pending
	for _, source := range Sources {
		src := in.source(source)
		found, problems := in.expand(source, src.AllFiles())
		for _, p := range problems {
			p.Path = in.displayPath(p.Path)
			if p.Status == "failed" {
				in.report(ctx, log, &sum, p)
				continue
			}
			log.Warn("no export file", "source", source, "pattern", p.Path, "problem", p.Problem)
			// Listed in the reports as a file that failed is: a source may be missing
			// whole (a share not mounted) while the run loads the rest.
			in.recordProblem(ctx, log, source, p.Path, "pattern", p.Problem)
			sum.Files = append(sum.Files, p)
		}
		files = append(files, found...)
	}
	// Every file is first looked up in the ledger by path, size and modification time:
	// one loaded before is skipped without being read. The others are read (hashed,
	// checked, converted where needed) by scan workers running ahead of the loads, and
	// taken in order: runs of files with the same layout are read by DuckDB together,
	// as one read_csv over many files reads them in parallel and commits once.
	checks := make([]fileCheck, len(files))
	for i, f := range files {
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		checks[i] = in.admit(ctx, f)
	}
	take, stop := in.scanAhead(ctx, checks)
	defer stop()
	var batch []*prepared
	var batchBytes int64
	// Files taken but not loaded when the run stops early: their converted copies go.
	defer func() {
		for _, p := range batch {
			p.cleanup()
		}
	}()
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		items := batch
		batch, batchBytes = nil, 0
		results := in.loadItems(ctx, items)
		for _, res := range results {
			if err := ctx.Err(); err != nil {
				return err
			}
			in.report(ctx, log, &sum, res)
		}
		return nil
	}
	// Content already taken in this run: a copy of a file under another name is
	// skipped like one loaded on an earlier night.
	taken := map[string]bool{}
	for i, c := range checks {
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		if in.Progress != nil {
			in.Progress(i, len(files), c.f.path)
		}
		if !c.admitted {
			in.report(ctx, log, &sum, c.res)
			continue
		}
		sc := take(i)
		if err := ctx.Err(); err != nil {
			if sc.p != nil {
				sc.p.cleanup()
			}
			return sum, err
		}
		content := c.f.source + "\x00" + sc.sum
		if sc.sum != "" {
			// Loaded before under another name or date, and every row of it still the
			// current version. A file whose rows a newer export replaced since is loaded
			// again: an export put back to its earlier content (an edit undone in the
			// scheduling system) is newer than the one it replaces.
			already, err := in.currentContent(ctx, c.f.source, sc.res.Path, sc.sum)
			if err != nil || already > 0 || taken[content] {
				if sc.p != nil {
					sc.p.cleanup()
					sc.p = nil
				}
				if err != nil {
					sc.res.Status, sc.res.Problem = "failed", fmt.Sprintf("ledger lookup: %v", err)
				} else {
					// The same content under another name or date: loaded already. A
					// failure of this path before (a bad export, then the good one put
					// back) is over: the path reads fine.
					sc.res.Status, sc.res.Problem, sc.res.Took = "skipped", "", time.Since(c.start)
					if _, err := in.DB.ExecContext(ctx, `DELETE FROM ingest_problems WHERE path = ?`, sc.res.Path); err != nil {
						log.Warn("could not clear the file's earlier problem", "file", sc.res.Path, "problem", err.Error())
					}
					// The same content at the same path, touched: the ledger takes its new
					// time, which ranks it against later exports as one run over the
					// folder does, and skips it unread from now on. Every row of it is
					// current, so no row changes hands.
					if already > 0 && c.before != nil {
						// Only the path's newest version, when it is this content and every
						// row of it is current: an older version of the same content, whose
						// rows a version between them replaced, keeps its time.
						table, _ := sourceTable(c.f.source)
						if _, err := in.DB.ExecContext(ctx, `UPDATE ingest_files SET mtime = ?, size = ?
							WHERE source = ? AND path = ? AND sha256 = ? AND mtime IS NOT NULL AND mtime < ?
							  AND file_id = (SELECT max(file_id) FROM ingest_files WHERE source = ? AND path = ?)
							  AND rows_loaded = (SELECT count(*) FROM `+table+` t WHERE t.file_id = ingest_files.file_id)`,
							c.before.ModTime().UTC(), c.before.Size(), c.f.source, sc.res.Path, sc.sum, c.before.ModTime().UTC(),
							c.f.source, sc.res.Path); err != nil {
							log.Warn("could not record the file's new time", "file", sc.res.Path, "problem", err.Error())
						}
					}
				}
			}
		}
		p := sc.p
		if p == nil {
			in.report(ctx, log, &sum, sc.res)
			continue
		}
		taken[content] = true
		if len(batch) > 0 && (p.groupKey() != batch[0].groupKey() || len(batch) >= maxBatchFiles || batchBytes > maxBatchBytes) {
			if err := flush(); err != nil {
				return sum, err
			}
		}
		batch = append(batch, p)
		batchBytes += p.before.Size()
	}
	if err := flush(); err != nil {
		return sum, err
	}
	if in.Progress != nil {
		in.Progress(len(files), len(files), "")
	}
	for _, source := range Sources {
		byFile, otherClient, err := in.replaceEarlierVersions(ctx, source)
		if err != nil {
			return sum, err
		}
		// Said where most of the rows a file replaced name another client: a system
		// numbering its ids as the older files' did replaces rows of other clients
		// nearly every time, where a re-export that corrects a booking made under the
		// wrong client changes a few of the many rows it replaces.
		for _, fileID := range slices.Sorted(maps.Keys(otherClient)) {
			n := otherClient[fileID]
			sum.ReplacedOtherClient += n
			if 2*n <= byFile[fileID] {
				continue
			}
			var path string
			if err := in.DB.QueryRowContext(ctx, `SELECT path FROM ingest_files WHERE file_id = ?`, fileID).Scan(&path); err != nil {
				return sum, err
			}
			what, one := "appointments", "an appointment's"
			if source == "billing" {
				what, one = "claim lines", "a claim line's"
			}
			rows := fmt.Sprintf("%d %s of older exports were", n, what)
			if n == 1 {
				rows = fmt.Sprintf("1 %s of an older export was", strings.TrimSuffix(what, "s"))
			}
			log.Warn(fmt.Sprintf("%s replaced by rows of this file with the same id but another client (%d of the %d rows it replaced): a re-export keeps %s client, so this file likely comes from another system that numbers its ids as the older files' system did, and those older %s are lost. If so, give this system's files a [[%s.layout]] block with ids = \"its name\" (see the README, Configuration) and run `referrals run --rebuild`", rows, n, byFile[fileID], one, what, source),
				"source", source, "file", path, "replaced_other_client", n)
		}
		// The run's total counts every row replaced tonight, also those credited to a
		// file of an earlier night (a newer export that an older one, loaded late, lost to).
		for _, n := range byFile {
			sum.Replaced += n
		}
		for i := range sum.Files {
			if n, ok := byFile[sum.Files[i].FileID]; ok && sum.Files[i].Source == source {
				sum.Files[i].Replaced += n
			}
		}
	}
	// Only a run that met every file and pattern of the configuration may say which
	// are no longer failing: one stopped early keeps every problem.
	if err := ctx.Err(); err != nil {
		return sum, err
	}
	if err := in.clearProblemsNotMet(ctx, log, sum); err != nil {
		return sum, err
	}
	sum.Took = time.Since(start)
	return sum, nil
}

// clearProblemsNotMet removes the recorded problems of paths that did not fail in
// this run, which met every file the configuration matches tonight, and every
// pattern that matches none (recorded too, with the pattern as its path). A file
// that loaded, or was skipped as content loaded before, had its problem cleared as
// it went (a failed export fixed, or put back); one skipped by its path, size and
// time is a version loaded before, put back with its time (restored from a
// backup). A path the run did not meet at all (the file deleted or moved, its
// pattern taken out of the configuration, a pattern that matches files again) is
// no longer failing either, as one run over tonight's files would not list it:
// left, it stayed on the Data quality sheet of every later workbook while the run
// exited 0. What is left is exactly what failed tonight, recorded anew: what the
// reports list, and why the run exits 6.
func (in *Ingester) clearProblemsNotMet(ctx context.Context, log *slog.Logger, sum IngestSummary) error {
	failing := map[string]bool{}
	for _, f := range sum.Files {
		if f.Status == "failed" || f.Status == "missing" {
			failing[f.Path] = true
		}
	}
	rows, err := in.DB.QueryContext(ctx, `SELECT DISTINCT path FROM ingest_problems ORDER BY path`)
	if err != nil {
		return fmt.Errorf("the files that failed before: %w", err)
	}
	var gone []string
	for rows.Next() {
		var path string
		if err := rows.Scan(&path); err != nil {
			rows.Close()
			return fmt.Errorf("the files that failed before: %w", err)
		}
		if !failing[path] {
			gone = append(gone, path)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("the files that failed before: %w", err)
	}
	for _, path := range gone {
		if _, err := in.DB.ExecContext(ctx, `DELETE FROM ingest_problems WHERE path = ?`, path); err != nil {
			return fmt.Errorf("clear the problem of %s, which no longer fails: %w", path, err)
		}
	}
	if len(gone) > 0 {
		log.Info("files that failed before no longer fail (loaded, put back, removed, or no longer matched by the configuration): their problems are cleared",
			"files", strings.Join(gone, ", "))
	}
	return nil
}

// Files read together: at most this many, or about this many bytes.
const (
	maxBatchFiles = 200
	maxBatchBytes = 2 << 30
)

// loadItems loads prepared files together; when that fails, it loads them
// one by one, so one broken file cannot keep the others out.
func (in *Ingester) loadItems(ctx context.Context, items []*prepared) []FileResult {
	defer func() {
		for _, it := range items {
			it.cleanup()
		}
	}()
	err := in.loadGroup(ctx, items)
	if errors.Is(err, errOrderNeeded) {
		if in.Log != nil {
			in.Log.Debug("files read without their order hold an id twice, or rows without an id; reading them again in order", "files", len(items))
		}
		for _, it := range items {
			it.ids.repeats = true
		}
		err = in.loadGroup(ctx, items)
	}
	if len(items) > 1 {
		// The group's id table (supersede.go) is garbage now: give its memory
		// back before DuckDB wants it for the next read.
		debug.FreeOSMemory()
	}
	if err != nil && len(items) > 1 && ctx.Err() == nil {
		if in.Log != nil {
			in.Log.Debug("files read together failed; reading them one by one", "files", len(items), "problem", err.Error())
		}
		var out []FileResult
		for _, it := range items {
			out = append(out, in.loadItems(ctx, []*prepared{it})...)
		}
		return out
	}
	if err != nil && strings.Contains(err.Error(), "state machine reached an invalid state") {
		err = fmt.Errorf("%w (most likely a carriage return inside a value, which the loader reads as a space in every encoding but UTF-16: export the file again as \"CSV UTF-8\")", err)
	}
	out := make([]FileResult, len(items))
	for i, it := range items {
		// Where the scan could not count records, a file that gave no row at all.
		if err == nil && it.blankRows < 0 && it.res.Loaded == 0 && it.res.Rejected == 0 {
			it.res.Empty = true
		}
		out[i] = it.res
		if err != nil {
			out[i].Status = "failed"
			out[i].Problem = err.Error()
			out[i].Took = time.Since(it.start)
		}
	}
	return out
}

// report logs one file's result and adds it to the summary.
func (in *Ingester) report(ctx context.Context, log *slog.Logger, sum *IngestSummary, res FileResult) {
	switch res.Status {
	case "failed":
		if ctx.Err() != nil {
			return
		}
		log.Warn("file not loaded", "source", res.Source, "file", res.Path, "problem", res.Problem)
		in.recordProblem(ctx, log, res.Source, res.Path, "file", res.Problem)
	case "loaded":
		log.Debug("file loaded", "source", res.Source, "file", res.Path, "rows", res.Loaded,
			"rejected", res.Rejected, "encoding", res.Encoding, "took", res.Took.Round(time.Millisecond))
		if res.Empty {
			log.Warn("the file holds its header and no row: an export that failed, or a period without any? Export it again if rows were expected",
				"source", res.Source, "file", res.Path)
		}
	default:
		log.Debug("file already loaded", "file", res.Path)
	}
	sum.Files = append(sum.Files, res)
	sum.Loaded += res.Loaded
	sum.Rejected += res.Rejected
	sum.Replaced += res.Replaced
}

func (in *Ingester) source(name string) config.Source {
	if name == "billing" {
		return in.Config.Billing
	}
	return in.Config.Scheduling
}

// systemIDPrefix is what the ids of a layout's system (its ids setting) are
// stored under: "SimplePractice: 1042". The name's case and spaces do not
// matter, as an id system is named in the configuration.
func systemIDPrefix(system string) string {
	return config.FoldIDs(system) + ": "
}

// settingsOf is the settings f is read with: its source's, or those of the
// source's layout block whose patterns match it.
func (in *Ingester) settingsOf(f pending) config.Source {
	return in.source(f.source).Layout(f.layout)
}

func (in *Ingester) reset(ctx context.Context) error {
	// One transaction: a run killed or interrupted while it empties the tables
	// leaves them all as they were, or all empty (the next run then loads every
	// file). Emptied one by one, a kill could leave the rows gone and the ledger
	// still listing their files, which every later night skips: rows lost silently.
	tx, err := in.DB.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("rebuild: %w", err)
	}
	defer tx.Rollback()
	// Not ref_state: the run loaded the reference files before it rebuilds, and
	// emptied, the next night read and loaded them again for nothing.
	for _, t := range []string{"raw_appointments", "raw_claim_lines", "ingest_files", "rejected_rows", "ingest_problems", "ingest_state",
		"model_state", "dirty_clients", "model_fingerprints", "client_content", "check_state", "key_check",
		"status_counts", "status_counts_state"} {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+t); err != nil {
			return fmt.Errorf("rebuild: empty %s: %w", t, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("rebuild: %w", err)
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
				Problem: fmt.Sprintf("the file pattern %q is malformed: %v; fix %s files in the configuration", g, err, in.source(source).PatternBlock(source, g))})
			continue
		}
		if len(matches) == 0 {
			problems = append(problems, FileResult{Source: source, Path: pattern, Status: "missing",
				Problem: fmt.Sprintf("matches no file: is the folder's share or disk mounted, were the exports moved, renamed or archived, "+
					"or is the pattern mistyped? Looked for %s; check %s files in the configuration (`referrals check` lists what each pattern finds)", pattern, in.source(source).PatternBlock(source, g))})
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
					Problem: folderMatched(source, g)})
				continue
			}
			out = append(out, pending{source: source, path: m, mod: fi.ModTime().Truncate(time.Second),
				layout: in.source(source).LayoutOf(m, in.Config.Path)})
		}
	}
	// By time, then by the path the ledger keeps (relative to the configuration's
	// folder where the file is inside it), so that a run orders files of the same
	// second as the nightly replacement of re-exported rows does (fileOrder).
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].mod.Equal(out[j].mod) {
			return out[i].mod.Before(out[j].mod)
		}
		return in.displayPath(out[i].path) < in.displayPath(out[j].path)
	})
	return out, problems
}

// folderMatched is the problem of a folder that the file pattern g of source
// matches: to end the pattern in *.csv is advice only for one that does not.
func folderMatched(source, g string) string {
	if strings.HasSuffix(strings.ToLower(g), ".csv") {
		return fmt.Sprintf("is a folder, not an export file, and the pattern %q matches it: rename the folder so that the pattern does not match it, or narrow [%s] files so that it matches only the export files", g, source)
	}
	return fmt.Sprintf("is a folder, not an export file; make [%s] files match only the export files (e.g. end the pattern in *.csv)", source)
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

// recordProblem keeps a file's problem, or a pattern's (kind "file" or "pattern"),
// for the reports; path is as displayed.
// seen_at is UTC, as run_log's times are: the reports compare them to tell this run's
// failures, and a local time moved with the zone of whoever ran it (a failure seen in
// Tokyo stayed "newer" than New York's next run for 14 hours).
func (in *Ingester) recordProblem(ctx context.Context, log *slog.Logger, source, path, kind, problem string) {
	_, err := in.DB.ExecContext(ctx, `DELETE FROM ingest_problems WHERE path = ?`, path)
	if err == nil {
		_, err = in.DB.ExecContext(ctx, `INSERT INTO ingest_problems (problem_id, source, path, sha256, problem, seen_at, kind)
			VALUES ((SELECT coalesce(max(problem_id),0)+1 FROM ingest_problems), ?, ?, NULL, ?, ?, ?)`,
			source, path, problem, time.Now().UTC(), kind)
	}
	if err != nil && ctx.Err() == nil {
		// The run still exits 6, but the reports cannot list it.
		log.Warn("could not record the problem for the reports", "file", path, "problem", err.Error())
	}
}

// prepared is a file that was checked, scanned and, where needed,
// converted, and is ready to be read by DuckDB.
type prepared struct {
	f        pending
	res      FileResult
	start    time.Time
	sum      string
	readPath string
	cleanup  func()
	duckEnc  string
	delim    rune
	headers  []string
	mapping  map[string]int
	amounts  amountStyle
	before   os.FileInfo
	lines    int64
	nuls     int64
	shifted  []shiftedRow
	// badAmounts: rows whose amount the reader would misread (fieldCounter).
	badAmounts []badAmount
	// short: rows with fewer fields than the header (fieldCounter).
	short []shortRow
	// blankRows: the file's records of delimiters alone, by the scan; -1 where the
	// scan could not split fields (UTF-16, a delimiter outside ASCII).
	blankRows int64
	// openLine, openField: where the file ends inside a quoted value (fieldCounter).
	openLine  int64
	openField int
	ids       idSet // whether an id can repeat in the file (no counter: it can)
	fileID    int64
	// exactBytes is the share of the run's budget its exact id hashes hold.
	exactBytes int64
	// strayCRs: the carriage returns not before a line feed that the copy read
	// holds as spaces (lineMender), and the line of the first.
	strayCRs    int64
	strayCRLine int64
}

// groupKey says which prepared files can be read by one read_csv call:
// same kind of export, same header, read in the same encoding (a converted
// copy is read as UTF-8, with its original's lines: it goes with the others).
func (p *prepared) groupKey() string {
	return p.f.source + "\x00" + fmt.Sprint(p.f.layout) + "\x00" + p.duckEnc + "\x00" + string(p.delim) + "\x00" + string(p.amounts) + "\x00" + strings.Join(p.headers, "\x00")
}

// fileCheck is a file looked up in the ledger: admitted to be read, or not
// (skipped or failed, as res says).
type fileCheck struct {
	f        pending
	start    time.Time
	before   os.FileInfo
	res      FileResult
	admitted bool
}

// admit looks one file up in the ledger by path, size and modification time.
func (in *Ingester) admit(ctx context.Context, f pending) fileCheck {
	c := fileCheck{f: f, start: time.Now(), res: FileResult{Source: f.source, Path: in.displayPath(f.path)}}
	before, err := os.Stat(f.path)
	if err != nil {
		c.res.Status, c.res.Problem = "failed", fmt.Sprintf("cannot read the file: %v", err)
		return c
	}
	c.before = before
	// A file whose path, size and modification time are in the ledger was
	// loaded before: skip it without reading, so a night's work follows the
	// new files, not the history.
	var already int
	if err := in.DB.QueryRowContext(ctx, `SELECT count(*) FROM ingest_files WHERE source = ? AND path = ? AND size = ? AND mtime = ?`,
		f.source, c.res.Path, before.Size(), before.ModTime().UTC()).Scan(&already); err != nil {
		c.res.Status, c.res.Problem = "failed", fmt.Sprintf("ledger lookup: %v", err)
		return c
	}
	if already > 0 {
		c.res.Status = "skipped"
		c.res.Took = time.Since(c.start)
		return c
	}
	c.admitted = true
	return c
}

// scanned is an admitted file after its scan: p is ready to load, or nil with
// res saying why not. sum is the content's hash when the file could be read
// through: a file whose content was loaded before is skipped, whatever else
// is wrong with it.
type scanned struct {
	p   *prepared
	res FileResult
	sum string
}

// Scan workers: how many files they may read ahead of the one being loaded.
const scanAheadFiles = 32

// scanAhead scans the admitted files on up to one worker per core, at most
// scanAheadFiles ahead of the consumer, which takes the results in file order.
// stop ends the workers and removes the converted copies nobody took.
func (in *Ingester) scanAhead(ctx context.Context, checks []fileCheck) (take func(i int) scanned, stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	out := make([]chan scanned, len(checks))
	for i := range out {
		out[i] = make(chan scanned, 1)
	}
	slots := make(chan struct{}, scanAheadFiles)
	work := make(chan int)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(work)
		for i, c := range checks {
			if !c.admitted {
				continue
			}
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case work <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	for range max(1, min(runtime.GOMAXPROCS(0), 4)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				out[i] <- in.scan(checks[i])
			}
		}()
	}
	take = func(i int) scanned {
		select {
		case sc := <-out[i]:
			<-slots
			return sc
		case <-ctx.Done():
			return scanned{} // the run is stopping: the caller checks ctx next
		}
	}
	stop = func() {
		cancel()
		wg.Wait()
		for _, ch := range out {
			select {
			case sc := <-ch:
				if sc.p != nil {
					sc.p.cleanup()
				}
			default:
			}
		}
	}
	return take, stop
}

// scan reads an admitted file: its layout, then one pass that hashes it,
// checks its encoding and counts its fields; it converts a copy where DuckDB
// cannot read the file as it is. It does not touch the database, so it runs
// beside the loads.
func (in *Ingester) scan(c fileCheck) scanned {
	f, res := c.f, c.res
	fail := func(sum, format string, args ...any) scanned {
		res.Status = "failed"
		res.Problem = fmt.Sprintf(format, args...)
		res.Took = time.Since(c.start)
		return scanned{res: res, sum: sum}
	}
	src := in.settingsOf(f)
	l := readLayout(f.path, f.source, src)
	if l.readFail != nil {
		return fail("", "cannot read the file: %v (check its permissions)", l.readFail)
	}
	if l.problem != "" {
		return fail("", "%s", l.problem)
	}
	head, headers, delim, mapping := l.head, l.headers, l.delim, l.mapping
	res.Amounts = l.amounts.shown()
	if in.Log != nil {
		switch l.amounts {
		case amountsComma, amountsCommaDot:
			in.Log.Info("amounts written with a decimal comma: 225,00 is read as 225.00", "file", res.Path, "amounts", string(l.amounts))
		case amountsMixed:
			in.Log.Warn("amounts written both with a decimal comma and a decimal point: the rows whose amount holds a comma are rejected", "file", res.Path)
		}
	}
	if row, field := sciNotationID(l.rows, mapping); field != "" && in.Log != nil {
		// Loaded all the same (check refuses it): the value is not shown.
		in.Log.Warn("ids written in scientific notation (like 4.5E+11), as Excel saves a long number: their last digits are lost, so different clients or rows become one; export the file again without opening it in Excel",
			"file", res.Path, "row", row, "column", headers[mapping[field]])
	}
	res.ZeroPaddedIDs = !in.canonical && zeroPaddedID(l.rows, mapping)
	enc := normaliseEncoding(src.Encoding)
	counter := l.fieldCounter(f.source)
	if l.titleLines > 0 {
		// Counted on the copy, whose header is its first line (below).
		counter = nil
	}
	scanStart := time.Now()
	sc, err := scanFile(f.path, counter, len(moneyColumns(f.source, mapping)) > 0)
	if in.Log != nil {
		in.Log.Debug("file scanned", "file", res.Path, "bytes", sc.size, "took", time.Since(scanStart).Round(time.Millisecond))
	}
	if err != nil {
		return fail("", "cannot read the file: %v (check its permissions)", err)
	}
	if enc == "auto" {
		enc = guessEncoding(f.path, head, sc.validUTF8)
	}
	res.Encoding = enc
	// The scan counts bytes: in UTF-16 text every other byte is zero and a newline is
	// two bytes, so neither NULs, mixed line endings nor carriage returns alone
	// can be read off it there.
	var nuls, strayCRs int64
	mixedNewlines := false
	if enc != "utf-16" {
		nuls = sc.nuls
		mixedNewlines = sc.crlf > 0 && sc.crlf < sc.lines-1
		strayCRs = sc.strayCRs()
		if sc.lastCR && !(sc.crlf > 0 && sc.crlf >= sc.lines-1) {
			// A CR as the last byte of a file of LF lines, where DuckDB fails on
			// it: the copy drops it.
			mixedNewlines = true
		}
	}
	readPath, cleanup := f.path, func() {}
	var stray strayCRCount
	// Amounts written with a currency sign ($1,234.50) or spaces between thousands
	// (1 234,50) are read from a copy without them. The scan looks for the signs
	// and no-break spaces anywhere in the file (Windows-1252 writes them in bytes
	// of its own, and its files are copied anyway); plain spaces, on the head's
	// rows (the rows after them are taken to write amounts the same way).
	// Latin-1 writes a no-break space, a pound or a yen sign in a byte of its own
	// too: its files with amounts are copied as Windows-1252's are, and a copy of
	// either is decoded to UTF-8, which the reader then reads.
	var money []int
	if cols := moneyColumns(f.source, mapping); len(cols) > 0 && enc != "utf-16" && delim < 128 && (sc.moneyMarks || l.spacedAmounts || l.dashAmounts || enc == "windows-1252" || enc == "latin-1") {
		money = cols
	}
	decode := map[string]*charmap.Charmap{"windows-1252": charmap.Windows1252, "latin-1": charmap.ISO8859_1}[enc]
	if l.titleLines > 0 && enc == "utf-16" {
		return fail(sc.sum, "the header is on line %d, below a report's title, which is not read in a UTF-16 file; export it again as \"CSV UTF-8\", or without the report's title", l.titleLines+1)
	}
	viaCopy := enc == "windows-1252" || mixedNewlines || nuls > 0 || strayCRs > 0 || len(money) > 0 || l.titleLines > 0
	if viaCopy {
		tmp := in.TmpDir
		if tmp == "" {
			tmp = os.TempDir()
		} else if err := os.MkdirAll(tmp, 0o700); err != nil {
			// Made when a file needs a copy, not on every run.
			return fail(sc.sum, "cannot make the folder for its converted copy: %v", err)
		}
		// A copy that drops NULs or makes CRs spaces ends every line in LF: a
		// CR, NUL, LF is a line's end there, which the scan did not count as one.
		conv, st, err := convertCopy(f.path, tmp, copyFixes{decode: decode, fixNewlines: mixedNewlines || nuls > 0 || strayCRs > 0, dropNUL: nuls > 0,
			strayCRs: strayCRs > 0, delim: delim, money: money, titleLines: l.titleLines})
		if err != nil {
			return fail(sc.sum, "%v", err)
		}
		readPath, cleanup, stray = conv, func() { os.Remove(conv) }, st.stray
		if st.currency > 0 {
			res.Amounts = strings.TrimPrefix(res.Amounts+"; currency signs dropped", "; ")
			if in.Log != nil {
				in.Log.Info("amounts written with a currency sign ($1,234.50) are read without it", "file", res.Path, "amounts", st.currency)
			}
		}
		if st.dashes > 0 {
			res.Amounts = strings.TrimPrefix(res.Amounts+"; dashes read as 0", "; ")
			if in.Log != nil {
				in.Log.Info("amounts written as a dash alone (an accounting format's zero) are read as 0", "file", res.Path, "amounts", st.dashes)
			}
		}
		if st.spaces > 0 {
			res.Amounts = strings.TrimPrefix(res.Amounts+"; spaces between thousands dropped", "; ")
			if in.Log != nil {
				in.Log.Info("amounts written with spaces between thousands (1 234,50) are read without them", "file", res.Path, "amounts", st.spaces)
			}
		}
		if (stray.n > 0 || nuls > 0) && counter != nil || l.titleLines > 0 {
			// The scan read each CR alone as nothing, where the reader reads the
			// copy's space (one before a quote stops it opening a value), and a
			// NUL as text, where the copy has none (a NUL before a quote hid
			// it); and it took a report's title for the header: the copy is
			// scanned again, so that both count its records and ids alike.
			counter = l.fieldCounter(f.source)
			csc, err := scanFile(conv, counter, false)
			if err != nil {
				cleanup()
				return fail(sc.sum, "cannot read the copy of the file made for DuckDB: %v", err)
			}
			sc.lines = csc.lines
		}
	}
	if counter != nil && counter.total > maxShiftedRows {
		cleanup()
		return fail(sc.sum, "%d rows have more fields than the header, which the reader would take with their values moved: values holding the delimiter were not quoted, so later values moved to the right; re-export with quoted values (more than %d such rows are not loaded)", counter.total, maxShiftedRows)
	}
	if counter != nil && counter.badTotal > maxShiftedRows {
		cleanup()
		shown, _ := badAmountShown(counter.badAmounts[0].value)
		return fail(sc.sum, "%d amounts hold a %q that is not between thousands (such as %s): the file does not write amounts one way; %s (more than %d such rows are not loaded)",
			counter.badTotal, string(counter.amounts.thousands), shown, l.amounts.sameWay(), maxShiftedRows)
	}
	p := &prepared{f: f, res: res, start: c.start, sum: sc.sum, readPath: readPath, cleanup: cleanup, duckEnc: "utf-8",
		delim: delim, headers: headers, mapping: mapping, amounts: l.amounts, before: c.before, lines: sc.lines, nuls: nuls,
		strayCRs: stray.n, strayCRLine: stray.firstLine, blankRows: -1}
	if counter != nil {
		p.blankRows = counter.blank
		// A header with nothing but lines of delimiters under it holds no row either.
		p.res.Empty = counter.ids.records == counter.blank
		// The lines that hold records: a value with line breaks in it is one
		// record, as the reader counts (the rows an unclosed quote swallowed
		// are counted from these).
		p.lines -= counter.continuation
		p.shifted = counter.shifted
		p.badAmounts = counter.badAmounts
		p.short = counter.short
		p.openLine, p.openField = counter.openLine, counter.openField
		p.ids = counter.ids
		// The exact hashes are held until the file's read, within the run's budget:
		// past it, the file's rows are loaded and replaced afterwards, as before.
		if n := int64(len(p.ids.exact)) * exactIDBytes; n > 0 {
			if in.exactLeft.Add(-n) >= 0 {
				p.exactBytes = n
			} else {
				in.exactLeft.Add(n)
				p.ids.exact = nil
			}
		}
	}
	switch enc {
	case "latin-1":
		if !viaCopy { // a copy is decoded to UTF-8, and read as such
			p.duckEnc = "latin-1"
		}
	case "utf-16":
		p.duckEnc = "utf-16"
	}
	return scanned{p: p, res: res, sum: sc.sum}
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
			plan.expr[f.Name] = clientKeyExpr(c)
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
	if i, ok := mapping["date"]; ok && hasTime && source == "scheduling" && plan.expr["time"] == "NULL" {
		// The time the date column holds ("Date/Time": 10/05/2026 2:30 PM), as a
		// time column would give it: it orders a client's appointments of a day.
		plan.expr["time"] = fmt.Sprintf("strftime(c%d, '%%H:%%M:%%S')", i+1)
	}
	return plan
}

// loadGroup reads one or more files of the same layout with a single
// read_csv call (DuckDB then reads them in parallel) in one transaction:
// rows, rejects, in-file duplicates and the ledger rows commit together, so
// a file is in the ledger only if all its rows are in. On success it fills
// each item's result.
func (in *Ingester) loadGroup(ctx context.Context, items []*prepared) (err error) {
	first := items[0]
	src := in.settingsOf(first.f)
	source, headers, mapping := first.f.source, first.headers, first.mapping
	plan := planColumns(source, headers, mapping, src.DateFormat)
	for _, it := range items {
		if err := in.DB.QueryRowContext(ctx, `SELECT nextval('ingest_file_seq')`).Scan(&it.fileID); err != nil {
			return err
		}
	}
	paths := make([]string, len(items))
	ids := make([]string, len(items))
	for i, it := range items {
		paths[i] = QuoteString(it.readPath)
		ids[i] = fmt.Sprint(it.fileID)
	}
	idList := strings.Join(ids, ", ")
	formatOpt := "dateformat = " + QuoteString(src.DateFormat)
	if plan.dateType == "TIMESTAMP" {
		formatOpt = "timestampformat = " + QuoteString(src.DateFormat)
	}
	table, idCol := sourceTable(source)
	dateCol := "appt_date"
	if source == "billing" {
		dateCol = "service_date"
	}
	e := plan.expr
	// The checks a loaded row must pass, on the table's columns (ref) or, for
	// the rows the read may leave out, on what the reader gives.
	maxYear := time.Now().Year() + in.Config.Ingest.MaxYearsAhead
	// The years as a range of days: two comparisons a row, where year() took
	// the date apart for each.
	yearsCond := func(date string) string {
		return fmt.Sprintf("%[1]s IS NULL OR %[1]s < make_date(%[2]d, 1, 1) OR %[1]s >= make_date(%[3]d, 1, 1)", date, in.Config.Ingest.MinYear, maxYear+1)
	}
	// The checks a row without an id would fail (first) and those of a row with one.
	rowConds := func(ref func(string) string) []string {
		c := []string{ref("client_key") + " IS NULL", yearsCond(ref(dateCol))}
		if source == "billing" {
			c = append(c, ref("charge")+" < 0 OR "+ref("paid")+" < 0")
		}
		return c
	}
	condsOf := func(ref func(string) string) []string {
		c := []string{ref(idCol) + " IS NULL"}
		// The first failed check names a row, so the later ones hold only for rows with an id.
		for _, r := range rowConds(ref) {
			c = append(c, ref(idCol)+" IS NOT NULL AND ("+r+")")
		}
		return c
	}
	anyOf := func(conds []string) string {
		return "(" + strings.Join(conds, ") OR (") + ")"
	}
	rawRef := func(col string) string {
		switch col {
		case idCol:
			return e[idCol]
		case dateCol:
			return e[dateFieldName(source)]
		case "client_key":
			if i, ok := mapping["client_id"]; ok {
				return clientPresentExpr(fmt.Sprintf("c%d", i+1))
			}
			return "NULL"
		default:
			return e[col]
		}
	}
	// insertFrom reads files (paths) into the table; index maps the read's
	// file_index to the group's. where filters the rows ("" for all).
	// byFileIndex maps the reader's file_index, for the files of index (by
	// their place in the group), to value(place).
	byFileIndex := func(index []int, value func(gi int) string) string {
		var c strings.Builder
		c.WriteString("CASE file_index")
		for i, gi := range index {
			fmt.Fprintf(&c, " WHEN %d THEN %s", i, value(gi))
		}
		c.WriteString(" END")
		return c.String()
	}
	// How amounts are written is part of the group's key: one style per read.
	amountOpts := ""
	if o := first.amounts.readOptions(); o != "" {
		amountOpts = ", " + o
	}
	insertFrom := func(paths []string, index []int, rejects, where string) string {
		// The file ids by the reader's file_index, as a list: one lookup a row,
		// where a CASE compared each row with every file.
		fileIDs := make([]string, len(index))
		for i, gi := range index {
			fileIDs[i] = fmt.Sprint(items[gi].fileID)
		}
		idCase := fmt.Sprintf("[%s][file_index::BIGINT + 1]", strings.Join(fileIDs, ", "))
		read := fmt.Sprintf(`read_csv([%s], header = true, auto_detect = false, delim = %s, quote = '"', escape = '"',
		columns = %s, %s, encoding = %s, store_rejects = true,
		rejects_table = '%s', rejects_scan = '%s_scans', max_line_size = 4194304)`,
			strings.Join(paths, ", "), QuoteString(string(first.delim)), plan.readColumns, formatOpt+amountOpts, QuoteString(first.duckEnc), rejects, rejects)
		var q string
		if source == "scheduling" {
			_, hasReferredTo := mapping["referred_to"]
			q = fmt.Sprintf(`INSERT INTO raw_appointments SELECT %s, %s, %s, %s, %s, %s, %s, %s, %s, %v, %s, %s FROM %s`,
				e["appointment_id"], e["client_id"], e["clinician"], e["date"], e["time"], e["status"], e["service"],
				e["referral_source"], e["referred_to"], hasReferredTo, e["referrer_npi"], idCase, read)
		} else {
			q = fmt.Sprintf(`INSERT INTO raw_claim_lines SELECT %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s FROM %s`,
				e["line_id"], e["client_id"], e["service_date"], e["rendering_provider"], e["rendering_npi"], e["referring_provider"],
				e["referring_npi"], e["payer"], e["cpt"], e["charge"], e["paid"], idCase, read)
		}
		if where != "" {
			q += " WHERE " + where
		}
		return q
	}
	// Rows a later file of the group holds again are left out (supersede.go).
	var sup *supersedePlan
	covered := false
	var tableTook, freeTook time.Duration
	if supersedeAtLoad {
		t0 := time.Now()
		sup, covered = newSupersedePlan(items)
		tableTook = time.Since(t0)
		// The scans' hashes and the table's first draft are garbage: give their
		// memory back before DuckDB reads.
		debug.FreeOSMemory()
		freeTook = time.Since(t0) - tableTook
	} else {
		for _, it := range items {
			it.ids.exact = nil
		}
	}
	for _, it := range items {
		in.exactLeft.Add(it.exactBytes)
		it.exactBytes = 0
	}
	all := make([]int, len(items))
	for i := range all {
		all[i] = i
	}
	keepCall := func(token int64, mode int, index []int) string {
		// The file's index in the group, as text: in the group's own read, the
		// reader's file_index.
		file := "file_index::VARCHAR"
		if !slices.Equal(index, all) {
			file = byFileIndex(index, func(gi int) string { return fmt.Sprintf("'%d'", gi) })
		}
		// A row without an id gives NULL either way, so the checks of a row with
		// one need not test for it again.
		return fmt.Sprintf("superseded_keep(%d::BIGINT, %d, %s, CASE WHEN %s THEN NULL ELSE %s END)",
			token, mode, file, anyOf(rowConds(rawRef)), e[idCol])
	}
	var token int64
	where := ""
	if sup != nil {
		if err := registerScalarUDF(ctx, in.DB, "superseded_keep", supersededKeepFunc{}); err != nil {
			return err
		}
		var remove func()
		token, remove = addPlan(sup)
		defer remove()
		where = keepCall(token, modeRead, all)
	}
	insertSQL := insertFrom(paths, all, "tmp_rejects", where)
	idHeader := headers[mapping[idCol]]
	if err := registerClientKey(ctx, in.DB); err != nil {
		return err
	}

	// The transaction holds the database's one connection, taken here so that the
	// group's small tables (its files, the shifted rows) go in through DuckDB's
	// appender on it.
	// Of an id twice in a file the last row is kept, and a row without an id
	// is placed on its line by its order among the file's: both take the
	// table's order of a file's rows for the file's. DuckDB keeps that order
	// (its BATCH_INSERT) at a cost: at 10M rows, 0.5 s more to read and 0.3 s
	// more to checkpoint, 0.6 s more for the models, in a bench pair. So where
	// every file's scan saw no id twice (blank ones included) and read every
	// record's id, which leaves neither question, the group is read without it.
	// The setting is the database's, not the connection's: it is put back
	// after the read, and again once the connection is given back, whatever
	// the end (a cancelled transaction discards its connection).
	keepOrder := false
	for _, it := range items {
		if !it.ids.finished || it.ids.irregular || it.ids.repeats {
			keepOrder = true
		}
	}
	if testHookKeepOrder != nil {
		keepOrder = testHookKeepOrder(items, keepOrder)
	}
	if !keepOrder {
		defer func() {
			if _, err := in.DB.ExecContext(context.WithoutCancel(ctx), "RESET preserve_insertion_order"); err != nil && in.Log != nil {
				in.Log.Warn("could not reset preserve_insertion_order", "problem", err.Error())
			}
		}()
	}
	conn, err := in.DB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var steps []any
	if sup != nil {
		steps = append(steps, "id_table", tableTook.Round(time.Millisecond), "memory_freed", freeTook.Round(time.Millisecond))
	}
	exec := func(q string, args ...any) (int64, error) {
		t0 := time.Now()
		defer func() {
			if d := time.Since(t0); d > 20*time.Millisecond {
				f := strings.Fields(q)
				steps = append(steps, slog.Duration(fmt.Sprintf("%d_%s_%s", len(steps)+1, f[0], f[min(2, len(f)-1)]), d.Round(time.Millisecond)))
			}
		}()
		r, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return 0, err
		}
		return r.RowsAffected()
	}
	dropTemp := func() error {
		for _, t := range []string{"tmp_rejects", "tmp_rejects_scans", "tmp_restore_rejects", "tmp_restore_rejects_scans", "tmp_shifted", "tmp_short", "tmp_groupfiles", "tmp_postread", "tmp_dups", "tmp_reject_lines", "tmp_shifted_rows"} {
			if _, err := exec("DROP TABLE IF EXISTS " + t); err != nil {
				return err
			}
		}
		return nil
	}
	if err := dropTemp(); err != nil {
		return err
	}
	if !keepOrder {
		if _, err := exec("SET preserve_insertion_order = false"); err != nil {
			return err
		}
	}
	if testHookInsert != nil {
		testHookInsert(tx, insertSQL, keyArgs(in.Secret, in.canonical))
	}
	if _, err = exec(insertSQL, keyArgs(in.Secret, in.canonical)...); err != nil {
		return fmt.Errorf("read failed: %v", redactClientError(err))
	}
	if !keepOrder {
		if _, err := exec("RESET preserve_insertion_order"); err != nil {
			return err
		}
	}
	// The group's files, for the per-file statements below.
	// dropped: the rows the read left out, which the table's count misses.
	if _, err := exec(`CREATE TEMP TABLE tmp_groupfiles (file_index INTEGER, file_id INTEGER, path VARCHAR, lines BIGINT, dropped BIGINT, encoding VARCHAR)`); err != nil {
		return err
	}
	rows := make([][]any, len(items))
	for i, it := range items {
		var dropped int64
		if sup != nil {
			dropped = sup.dropped[i].Load()
		}
		rows[i] = []any{i, it.fileID, it.res.Path, it.lines, dropped, it.res.Encoding}
	}
	if err := appendRows(conn, "tmp_groupfiles", rows); err != nil {
		return fmt.Errorf("load tmp_groupfiles: %w", err)
	}
	// The rows an earlier version of a file (at the same path) had rejected are
	// that version's: this one's are recorded below. Kept, a file loaded again
	// (touched, or re-exported) listed its bad rows twice, and a fixed row still.
	if _, err := exec(`DELETE FROM rejected_rows WHERE path IN (SELECT path FROM tmp_groupfiles)
		AND file_id NOT IN (SELECT file_id FROM tmp_groupfiles)`); err != nil {
		return fmt.Errorf("drop the rejects of earlier versions: %w", err)
	}
	lost := map[int64]int64{}
	// Rejected rows: keep where and why, never the raw line.
	var hasRejects bool
	if err := tx.QueryRowContext(ctx, `SELECT count(*) > 0 FROM duckdb_tables() WHERE table_name = 'tmp_rejects'`).Scan(&hasRejects); err != nil {
		return err
	}
	// A file that ends inside a quoted value (cut off, or a quote never closed):
	// the reader drops its last record, and reading five files or more together
	// it does so without a reject. The scan saw it: its reject is added here,
	// unless the reader reported that record (or a later line) itself, whose
	// reject then says the same. The scan takes every quote for an opening or
	// closing one, where the reader keeps a quote inside an unquoted value
	// (5'10") as text and reads on: the reject is added only when the reader
	// gave no more rows (loaded, left out for a newer file, or rejected) than
	// the records the scan saw end.
	for i, it := range items {
		if it.openLine == 0 {
			continue
		}
		var dropped int64
		if sup != nil {
			dropped = sup.dropped[i].Load()
		}
		if !hasRejects {
			if _, err := exec(`CREATE TEMP TABLE tmp_rejects (file_id UBIGINT, line UBIGINT, column_idx UBIGINT, column_name VARCHAR, error_type VARCHAR, error_message VARCHAR)`); err != nil {
				return err
			}
			hasRejects = true
		}
		if _, err := exec(`UPDATE tmp_rejects SET error_message = ? WHERE file_id = ? AND line = ? AND error_type = 'UNQUOTED VALUE'`,
			endsInQuote, i, it.openLine); err != nil {
			return err
		}
		if _, err := exec(`INSERT INTO tmp_rejects BY NAME
			SELECT ?::UBIGINT AS file_id, ?::UBIGINT AS line, ?::UBIGINT AS column_idx, ? AS column_name, 'UNQUOTED VALUE' AS error_type, ? AS error_message
			WHERE NOT EXISTS (SELECT 1 FROM tmp_rejects WHERE file_id = ? AND line >= ?)
			  AND (SELECT count(*) FROM `+table+` WHERE file_id = ?) + ? + (SELECT count(DISTINCT line) FROM tmp_rejects WHERE file_id = ?) <= ?`,
			i, it.openLine, it.openField, fmt.Sprintf("c%d", it.openField), endsInQuote, i, it.openLine,
			it.fileID, dropped, i, it.ids.records); err != nil {
			return fmt.Errorf("record the unclosed quote at the end of %s: %w", it.res.Path, err)
		}
	}
	// The date format with day and month the other way round, to say so of the
	// dates that read only that way.
	swapped := swappedDateFormat(src.DateFormat)
	fieldOf := map[string]string{}
	for field, i := range mapping {
		fieldOf[fmt.Sprintf("c%d", i+1)] = field + " (" + headers[i] + ")"
	}
	if hasRejects {
		var caseExpr strings.Builder
		// The reader names columns c1, c2…: show the field and the export's header.
		caseExpr.WriteString("CASE r.column_name")
		for i, h := range headers {
			c := fmt.Sprintf("c%d", i+1)
			name, ok := fieldOf[c]
			if !ok {
				name = h
			}
			fmt.Fprintf(&caseExpr, " WHEN %s THEN %s", QuoteString(c), QuoteString(name))
		}
		caseExpr.WriteString(" ELSE r.column_name END")
		// A reject in a column that holds client ids never quotes the value
		// (DuckDB's CAST messages do): readLayout refuses reading such a column
		// as another field, and this is the second line of defence.
		var clientCols []string
		for i := range clientColumns(source, headers, mapping, src.Columns) {
			clientCols = append(clientCols, QuoteString(fmt.Sprintf("c%d", i+1)))
		}
		sort.Strings(clientCols)
		if len(clientCols) == 0 {
			clientCols = []string{"NULL"}
		}
		// The reader's name for the date column, as the rejects name it.
		readDate := fmt.Sprintf("c%d", mapping[dateFieldName(source)]+1)
		q := fmt.Sprintf(`INSERT INTO rejected_rows
			SELECT g.file_id, g.path, r.line, %[1]s, r.error_type,
			  CASE
			    WHEN r.column_name IN (%[2]s) THEN 'the value in this column (which holds client ids, so it is not shown) could not be read'
			    WHEN r.error_type = 'CAST' THEN %[11]s ||
			      CASE WHEN %[3]s AND %[10]s THEN ' (expected date format ' || %[4]s || '; it reads with day and month the other way round, as ' || %[9]s || ': if the export writes them so, set date_format for this source to that)'
			           WHEN %[3]s THEN ' (expected date format ' || %[4]s || '; set date_format for this source if the export uses another)'
			           WHEN r.error_message LIKE '%%DECIMAL%%' AND regexp_full_match(`+castValue("r.error_message")+`, %[12]s) THEN %[13]s
			           WHEN r.error_message LIKE '%%DECIMAL%%' THEN %[5]s ELSE '' END
			    WHEN r.error_type = 'TOO MANY COLUMNS' THEN 'the row has more fields than the header (' || %[6]d || '): ' || r.error_message || '; an unquoted delimiter inside a value?'
			    WHEN r.error_type = 'MISSING COLUMNS' THEN 'the row has fewer fields than the header (' || %[7]d || '): ' || r.error_message
			    WHEN r.error_type = 'UNQUOTED VALUE' AND r.error_message = %[8]s THEN 'the file ends inside a quoted value that opens on this line (the export was cut off, or a quote was never closed): this row was not loaded; export the file again (a changed file is read again)'
			    WHEN r.error_type = 'UNQUOTED VALUE' THEN 'a value has a stray or unclosed double quote; the rows it swallowed are lost until the export is fixed'
			    WHEN r.error_type = 'INVALID ENCODING' THEN 'the row has bytes that are not valid text in ' || g.encoding || '; set encoding for this source if the export uses another'
			    WHEN r.error_type = 'LINE SIZE OVER MAXIMUM' THEN 'the line is longer than 4 MB; the export is probably corrupt there'
			    ELSE r.error_message
			  END
			FROM (SELECT DISTINCT ON (file_id, line) * FROM tmp_rejects ORDER BY file_id, line, column_idx) r
			JOIN tmp_groupfiles g ON g.file_index = r.file_id`,
			caseExpr.String(), strings.Join(clientCols, ", "),
			"r.column_name = "+QuoteString(readDate), QuoteString(src.DateFormat),
			QuoteString(first.amounts.rejectHint()), len(headers), len(headers), QuoteString(endsInQuote),
			QuoteString(swapped), readsSwapped("r.error_message", swapped),
			hideCastValue(`regexp_replace(r.error_message, '^Error when converting column "c[0-9]+"\. ', '')`, yearsOf(in.Config.Ingest)),
			QuoteString(spacedAmountPattern), QuoteString(first.amounts.spacedHint(first.duckEnc)))
		if _, err = exec(q); err != nil {
			return fmt.Errorf("record rejected rows: %w", err)
		}
		if err := dayFirstCheck(ctx, tx, items, table, dateCol, src.Block(source), src.DateFormat, readDate, yearsOf(in.Config.Ingest)); err != nil {
			return err
		}
		if err := otherFormatCheck(ctx, tx, items, table, src.Block(source), src.DateFormat, readDate, yearsOf(in.Config.Ingest)); err != nil {
			return err
		}
		// A row with a field too few is rejected as whatever the first moved value
		// fails ("9:00 AM" to DATE): the scan counted its fields, so say that instead.
		var short [][]any
		for _, it := range items {
			for _, r := range it.short {
				short = append(short, []any{it.fileID, r.line, r.fields})
			}
		}
		if len(short) > 0 {
			if _, err := exec(`CREATE TEMP TABLE tmp_short (file_id INTEGER, line BIGINT, fields INTEGER)`); err != nil {
				return err
			}
			if err := appendRows(conn, "tmp_short", short); err != nil {
				return fmt.Errorf("load tmp_short: %w", err)
			}
			if _, err := exec(fmt.Sprintf(`UPDATE rejected_rows r SET error_type = 'MISSING COLUMNS', column_name = NULL,
				message = 'the row has ' || s.fields || ' field' || CASE WHEN s.fields = 1 THEN '' ELSE 's' END || ' where the header has %d: a value left out moves every later one a column to the left, and a row cut short loses the last ones; the row was skipped'
				FROM tmp_short s WHERE r.file_id = s.file_id AND r.line = s.line AND r.error_type IN ('CAST', 'MISSING COLUMNS')`, len(headers))); err != nil {
				return fmt.Errorf("record short rows: %w", err)
			}
		}
		// An unclosed quote makes the reader take every following line as
		// part of one value: say how many lines were lost, not just the one.
		qrows, err := tx.QueryContext(ctx, `
			SELECT g.file_id, g.path, q.line,
				(g.lines - 1) - (SELECT count(*) FROM `+table+` t WHERE t.file_id = g.file_id) - g.dropped
				              - (SELECT count(DISTINCT line) FROM tmp_rejects r WHERE r.file_id = g.file_index)
			FROM (SELECT file_id AS file_index, min(line) AS line FROM tmp_rejects WHERE error_type = 'UNQUOTED VALUE' GROUP BY file_id) q
			JOIN tmp_groupfiles g USING (file_index)`)
		if err != nil {
			return err
		}
		type lostRows struct {
			fileID, line, n int64
			path            string
		}
		var lostList []lostRows
		for qrows.Next() {
			var l lostRows
			if err := qrows.Scan(&l.fileID, &l.path, &l.line, &l.n); err != nil {
				qrows.Close()
				return err
			}
			lostList = append(lostList, l)
		}
		qrows.Close()
		for _, l := range lostList {
			if l.n <= 0 {
				continue
			}
			if _, err := exec(`INSERT INTO rejected_rows VALUES (?, ?, ?, NULL, 'LOST ROWS', ?)`, l.fileID, l.path, l.line,
				fmt.Sprintf("the unclosed quote at line %d swallowed %d more line(s) after it, which were not loaded; fix the quote in the export (the file is read again when it changes)", l.line, l.n)); err != nil {
				return err
			}
			lost[l.fileID] = l.n
		}
	}
	// Rows with one field too many and an empty last field: the reader
	// took them, shifted. Rows whose amount it misread, dropping a thousands
	// separator that stood elsewhere. Take them out again and report them.
	// A row without an id is left to the checks below, which reject it for that:
	// no delete by id can find it. A misread amount's row is deleted by its id and
	// the amount as loaded, so that a row of the same id and another amount
	// elsewhere in the file stays; other rows of the id go too, said so
	// (deleteShifted).
	fieldAt := map[int]string{}
	for field, i := range mapping {
		fieldAt[i] = field
	}
	var skipped [][]any
	for _, it := range items {
		for _, r := range it.shifted {
			if strings.TrimSpace(r.id) == "" {
				continue
			}
			skipped = append(skipped, []any{it.fileID, strings.TrimSpace(r.id), r.line, nil, "TOO MANY COLUMNS", shiftedMessage(r.fields, len(headers), r.empty), nil, nil})
		}
		for _, r := range it.badAmounts {
			if strings.TrimSpace(r.id) == "" {
				continue
			}
			skipped = append(skipped, []any{it.fileID, strings.TrimSpace(r.id), r.line, fieldOf[fmt.Sprintf("c%d", r.column+1)], "CAST", badAmountMessage(r.value, it.amounts),
				fieldAt[r.column], misreadAmount(r.value, it.amounts)})
		}
	}
	if len(skipped) > 0 {
		if _, err := exec(`CREATE TEMP TABLE tmp_shifted (file_id INTEGER, id VARCHAR, line BIGINT, column_name VARCHAR, error_type VARCHAR, message VARCHAR,
			amount_field VARCHAR, amount VARCHAR)`); err != nil {
			return err
		}
		if err := appendRows(conn, "tmp_shifted", skipped); err != nil {
			return fmt.Errorf("load tmp_shifted: %w", err)
		}
		// A row the reader rejected for another reason (a date it could not read) has
		// its reject already, and is not in the table: deleting its id would take a
		// row of the same id elsewhere in the file.
		if hasRejects {
			if _, err := exec(`DELETE FROM tmp_shifted s USING tmp_groupfiles g, tmp_rejects r
				WHERE g.file_id = s.file_id AND r.file_id = g.file_index AND r.line = s.line`); err != nil {
				return err
			}
		}
		if _, err := exec(`INSERT INTO rejected_rows SELECT s.file_id, g.path, s.line, s.column_name, s.error_type, s.message
			FROM tmp_shifted s JOIN tmp_groupfiles g USING (file_id)`); err != nil {
			return fmt.Errorf("record skipped rows: %w", err)
		}
		amountMatch := ""
		if source == "billing" {
			amountMatch = ` AND (s.amount_field IS NULL OR try_cast(s.amount AS DECIMAL(12,2)) IS NULL
				OR (s.amount_field = 'charge' AND t.charge = try_cast(s.amount AS DECIMAL(12,2)))
				OR (s.amount_field = 'paid' AND t.paid = try_cast(s.amount AS DECIMAL(12,2))))`
		}
		if err := deleteShifted(ctx, tx, table, idCol, idHeader, amountMatch); err != nil {
			return err
		}
	}
	// Rows the reader accepted but that cannot be used: no id, no client,
	// a date outside the plausible range. Their line is unknown once read,
	// so the message names the id instead.
	conds := condsOf(func(col string) string { return col })
	anyCond := anyOf(conds)
	// The rows left out for a newer file's version that did not load (rejected
	// by the reader, or failing the checks below) are read back, and the usual
	// replacement keeps the newest version that did load.
	back, uncredit, err := in.restoreSuperseded(ctx, tx, exec, sup, token, items, table, idCol, anyCond, func(token int64, index []int) string {
		restorePaths := make([]string, len(index))
		for i, gi := range index {
			restorePaths[i] = paths[gi]
		}
		return insertFrom(restorePaths, index, "tmp_restore_rejects", keepCall(token, modeReadBack, index))
	})
	if err != nil {
		return err
	}
	// A row of blank fields alone (spreadsheets leave such lines at the end of a
	// sheet) holds nothing to lose: it is skipped as an EMPTY ROW, listed but not
	// counted among the rejected rows (nor by --strict).
	empty, err := emptyRowExpr(ctx, tx, table, items)
	if err != nil {
		return err
	}
	checks := []struct{ cond, col, kind, msg string }{
		{conds[0], idHeader, "CASE WHEN " + empty + " THEN 'EMPTY ROW' ELSE 'MISSING VALUE' END",
			"CASE WHEN " + empty + " THEN 'an empty row (every field blank, as a spreadsheet leaves at the end of a sheet); it was skipped' ELSE 'a row has no " + strings.ReplaceAll(idHeader, "'", "''") + "; it was skipped' END"},
		{conds[1], headers[mapping["client_id"]], "'MISSING VALUE'", "'row ' || " + idCol + " || ' has no client id; it was skipped'"},
		{conds[2], headers[mapping[dateFieldName(source)]], "'OUT OF RANGE'",
			fmt.Sprintf("CASE WHEN %[2]s IS NULL THEN 'row ' || %[1]s || ' has no date; it was skipped' "+
				// The year alone, as below: the day and month with it may be a birth date's.
				"WHEN year(%[2]s) < 100 THEN 'row ' || %[1]s || ' has a date with a two-digit year, read as the year ' || year(%[2]s)::VARCHAR || '; it was skipped (set date_format for this source to ' || %[5]s || ', which reads two-digit years)' "+
				// The year alone: a date far out of range is more likely a birth date
				// (a column mapped wrongly) than a typo, and a birth date is the patient's.
				"ELSE 'row ' || %[1]s || ' has a date in ' || year(%[2]s)::VARCHAR || ', outside %[3]d-%[4]d; it was skipped (set [ingest] min_year or max_years_ahead if that date is real; many such rows: is the date column a birth date?)' END",
				idCol, dateCol, in.Config.Ingest.MinYear, maxYear, QuoteString(twoDigitYearFormat(src.DateFormat)))},
	}
	if source == "billing" {
		checks = append(checks, struct{ cond, col, kind, msg string }{conds[3], "charge/paid", "'OUT OF RANGE'",
			"'claim line ' || line_id || ' has a negative amount; it was skipped (load refunds and adjustments as separate exports)'"})
	}
	// One pass finds every such row (the first failed check names it), and
	// a second deletes them, but only when there are any.
	var typeCase, colCase, msgCase strings.Builder
	typeCase.WriteString("CASE")
	colCase.WriteString("CASE")
	msgCase.WriteString("CASE")
	for _, c := range checks {
		fmt.Fprintf(&typeCase, " WHEN %s THEN %s", c.cond, c.kind)
		fmt.Fprintf(&colCase, " WHEN %s THEN %s", c.cond, QuoteString(c.col))
		fmt.Fprintf(&msgCase, " WHEN %s THEN %s", c.cond, c.msg)
	}
	// The reader gives no line for a row it took, so the rejects are listed
	// first, with their ids (and the rank of a row without one), and their lines
	// found in the files before they are recorded.
	if _, err := exec(fmt.Sprintf(`CREATE TEMP TABLE tmp_postread AS SELECT t.file_id, g.path, t.%[1]s AS id,
			row_number() OVER (PARTITION BY t.file_id, t.%[1]s ORDER BY t.rowid) AS seq,
			%[2]s END AS column_name, %[3]s END AS error_type, %[4]s END AS message
		FROM %[5]s t JOIN tmp_groupfiles g USING (file_id) WHERE t.file_id IN (%[6]s) AND (%[7]s)`,
		idCol, colCase.String(), typeCase.String(), msgCase.String(), table, idList, anyCond)); err != nil {
		return fmt.Errorf("check rows: %w", err)
	}
	// CREATE TABLE … AS reports no rows affected.
	var n int64
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM tmp_postread`).Scan(&n); err != nil {
		return err
	}
	if n >= minWrongDates {
		if err := twoDigitYearCheck(ctx, tx, items, table, dateCol, src.Block(source), src.DateFormat); err != nil {
			return err
		}
	}
	if n > 1 && !keepOrder {
		// Rows without an id are placed by their order: should the scan have
		// missed a file's second blank id, the group is read again in order.
		var blanks bool
		if err := tx.QueryRowContext(ctx, `SELECT count(*) > 0 FROM (SELECT file_id FROM tmp_postread WHERE id IS NULL GROUP BY file_id HAVING count(*) > 1)`).Scan(&blanks); err != nil {
			return err
		}
		if blanks {
			return errOrderNeeded
		}
	}
	if n > 0 {
		lines, err := in.rejectLines(ctx, tx, conn, items, mapping[idCol], `SELECT file_id, id, seq FROM tmp_postread`)
		if err != nil {
			return err
		}
		if _, err := exec(`INSERT INTO rejected_rows SELECT p.file_id, p.path, l.line, p.column_name, p.error_type, p.message
			FROM tmp_postread p LEFT JOIN ` + lines + ` l ON l.file_id = p.file_id AND l.id IS NOT DISTINCT FROM p.id AND l.seq = p.seq
			ORDER BY p.file_id, l.line NULLS LAST`); err != nil {
			return fmt.Errorf("record rejected rows: %w", err)
		}
		if _, err := exec(fmt.Sprintf(`DELETE FROM %s WHERE file_id IN (%s) AND (%s)`, table, idList, anyCond)); err != nil {
			return err
		}
	}
	// The same id twice in one file: the last row wins, the others are
	// reported. Only files whose scan could not rule it out are checked: the
	// check groups every row of the group by id (1 s per 3.5M rows).
	dupCheck, err := filesToCheckForDuplicates(ctx, tx, table, items)
	if err != nil {
		return err
	}
	if len(dupCheck) > 0 {
		checkList := strings.Join(dupCheck, ", ")
		if _, err := exec(fmt.Sprintf(`CREATE TEMP TABLE tmp_dups AS
			SELECT d.file_id, g.path, d.id, d.n
			FROM (SELECT file_id, %s AS id, count(*) AS n FROM %s WHERE file_id IN (%s) GROUP BY file_id, %s HAVING count(*) > 1) d
			JOIN tmp_groupfiles g USING (file_id)`,
			idCol, table, checkList, idCol)); err != nil {
			return fmt.Errorf("check duplicates: %w", err)
		}
		var dups int64
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM tmp_dups`).Scan(&dups); err != nil {
			return err
		}
		if dups > 0 && !keepOrder {
			// The last row of an id is the one kept: should the scan have missed
			// an id twice, the group is read again in order.
			return errOrderNeeded
		}
		if dups > 0 {
			if err := in.recordDuplicates(ctx, tx, conn, items, mapping[idCol], idHeader); err != nil {
				return fmt.Errorf("record duplicates: %w", err)
			}
		}
		if dups > 0 {
			if _, err := exec(fmt.Sprintf(`DELETE FROM %s WHERE file_id IN (%s) AND rowid NOT IN (SELECT max(rowid) FROM %s WHERE file_id IN (%s) GROUP BY file_id, %s)`,
				table, checkList, table, checkList, idCol)); err != nil {
				return fmt.Errorf("drop duplicates: %w", err)
			}
		}
	}
	steps = append(steps, "duplicate_checks", len(dupCheck))
	if system := in.source(source).IDs(first.f.layout); system != "" {
		// The files of a system that numbers its ids apart from the others' (ids =
		// "…" in their layout): each id is stored under the system's name, so that
		// an appointment of this system never replaces another system's
		// appointment with the same number, nor is replaced by one. Done last, once
		// every check of the group has compared its ids with the files' own.
		if _, err := exec(fmt.Sprintf(`UPDATE %s SET %s = %s || %s WHERE file_id IN (%s) AND %s IS NOT NULL`,
			table, idCol, QuoteString(systemIDPrefix(system)), idCol, idList, idCol)); err != nil {
			return fmt.Errorf("keep the ids of %s apart: %w", system, err)
		}
	}
	if sup != nil {
		var left, readBack int64
		for i := range items {
			left += sup.dropped[i].Load()
			readBack += back[i]
		}
		steps = append(steps, "left_out", left, "read_back", readBack)
	}
	// What each file gave, counted from the tables.
	loaded := map[int64]int64{}
	rejected := map[int64]int64{}
	crows, err := tx.QueryContext(ctx, fmt.Sprintf(`SELECT g.file_id,
			(SELECT count(*) FROM %s t WHERE t.file_id = g.file_id),
			(SELECT count(*) FROM rejected_rows r WHERE r.file_id = g.file_id AND r.error_type NOT IN ('LOST ROWS', 'NUL BYTES', 'CARRIAGE RETURN', 'EMPTY ROW'))
		FROM tmp_groupfiles g`, table))
	if err != nil {
		return err
	}
	for crows.Next() {
		var id, l, r int64
		if err := crows.Scan(&id, &l, &r); err != nil {
			crows.Close()
			return err
		}
		loaded[id], rejected[id] = l, r+lost[id]
	}
	crows.Close()
	// Rows left out for a newer version count as loaded from their file, and as
	// replaced by the newer one.
	replaced := map[int64]int64{}
	if sup != nil {
		for i, it := range items {
			loaded[it.fileID] += sup.dropped[i].Load() - back[i]
			replaced[it.fileID] = sup.credited[i].Load() - uncredit[i]
		}
	}
	for _, it := range items {
		if it.nuls > 0 {
			// Not a rejected row: the rows loaded, but the user should know.
			if _, err := exec(`INSERT INTO rejected_rows VALUES (?, ?, NULL, NULL, 'NUL BYTES', ?)`, it.fileID, it.res.Path,
				fmt.Sprintf("the file held %d NUL byte(s), which were removed; the rows loaded, but the export may be damaged", it.nuls)); err != nil {
				return err
			}
		}
		if it.strayCRs > 0 {
			// Not a rejected row either: the values read on.
			var line any
			where := ""
			if it.strayCRLine > 0 {
				line, where = it.strayCRLine, " (the first on this line)"
			}
			if _, err := exec(`INSERT INTO rejected_rows VALUES (?, ?, ?, NULL, 'CARRIAGE RETURN', ?)`, it.fileID, it.res.Path, line,
				fmt.Sprintf("the file held %d carriage return(s) not followed by a line feed%s, which DuckDB's reader cannot read inside a value: each was read as a space", it.strayCRs, where)); err != nil {
				return err
			}
		}
		if testHookBeforeCommit != nil {
			testHookBeforeCommit(it.f.path)
		}
		after, err := os.Stat(it.f.path)
		if err != nil || after.Size() != it.before.Size() || !after.ModTime().Equal(it.before.ModTime()) {
			return errFileChanged
		}
		fields := slices.Sorted(maps.Keys(it.mapping))
		// A header cell that reads as a value and that no field is read from (a data
		// row run into the header line: a client id, a date) is not kept as it is.
		// A mapped one is: the ledger compares it with the configuration's mapping.
		mapped := map[int]bool{}
		for _, i := range it.mapping {
			mapped[i] = true
		}
		kept := make([]string, len(it.headers))
		for i, h := range it.headers {
			kept[i] = h
			if !mapped[i] {
				kept[i] = maskValueCell(h)
			}
		}
		headersJSON, err := json.Marshal(kept)
		if err != nil {
			return err
		}
		mappingJSON, err := json.Marshal(it.mapping)
		if err != nil {
			return err
		}
		if _, err := exec(`INSERT INTO ingest_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, now()::TIMESTAMP, ?, ?, ?, ?, ?, ?)`,
			it.fileID, source, it.res.Path, it.sum, it.res.Encoding, loaded[it.fileID], rejected[it.fileID], replaced[it.fileID], it.before.Size(), it.before.ModTime().UTC(),
			strings.Join(fields, ","), string(it.delim), string(headersJSON), string(mappingJSON)); err != nil {
			return fmt.Errorf("ledger: %w", err)
		}
		if _, err := exec(`DELETE FROM ingest_problems WHERE path = ?`, it.res.Path); err != nil {
			return err
		}
	}
	if err := dropTemp(); err != nil {
		return err
	}
	t0 := time.Now()
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if in.Log != nil {
		in.Log.Debug("files read together", append(steps, "files", len(items), "commit", time.Since(t0).Round(time.Millisecond))...)
	}
	for _, it := range items {
		it.res.Status = "loaded"
		it.res.FileID, it.res.Loaded, it.res.Rejected, it.res.Replaced = it.fileID, loaded[it.fileID], rejected[it.fileID], replaced[it.fileID]
		it.res.Took = time.Since(it.start)
	}
	// No id is in two rows of this read when it is one file (the duplicate check
	// keeps one row of an id), or when every file took part in leaving out what a
	// later one holds and no older version had to be read back.
	var readBack int64
	for _, n := range back {
		readBack += n
	}
	l := in.loads[source]
	if l == nil {
		l = &sourceLoads{unique: true}
		in.loads[source] = l
	}
	l.reads++
	l.unique = l.unique && (len(items) == 1 || covered && readBack == 0)
	for _, it := range items {
		l.fileIDs = append(l.fileIDs, fmt.Sprint(it.fileID))
	}
	return nil
}

// countAllStatuses counts every appointment per status spelling into
// status_counts, and records that they are counted.
var countAllStatuses = [][2]string{
	{"status counts", `DELETE FROM status_counts`},
	{"status counts", `INSERT INTO status_counts SELECT status, count(*) FROM raw_appointments GROUP BY status`},
	{"status counts", `INSERT INTO status_counts_state VALUES (true)`}}

// countStatusesOnce counts the appointments per status spelling (status_counts)
// where they were never counted; replaceEarlierVersions keeps them after.
func (in *Ingester) countStatusesOnce(ctx context.Context) error {
	var counted bool
	if err := in.DB.QueryRowContext(ctx, `SELECT count(*) > 0 FROM status_counts_state`).Scan(&counted); err != nil || counted {
		return err
	}
	tx, err := in.DB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, q := range countAllStatuses {
		if _, err := tx.ExecContext(ctx, q[1]); err != nil {
			return fmt.Errorf("count the appointments' statuses: %w", err)
		}
	}
	return tx.Commit()
}

// filesToCheckForDuplicates lists the files of a group (by file id) that may
// hold an id twice: those whose scan saw a repeated or unreadable id, or
// fewer records than the reader loaded rows, and those not scanned for ids.
func filesToCheckForDuplicates(ctx context.Context, tx *sql.Tx, table string, items []*prepared) ([]string, error) {
	var ids []string
	for _, it := range items {
		ids = append(ids, fmt.Sprint(it.fileID))
	}
	rows, err := tx.QueryContext(ctx, fmt.Sprintf(`SELECT file_id, count(*) FROM %s WHERE file_id IN (%s) GROUP BY file_id`, table, strings.Join(ids, ", ")))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	loaded := map[int64]int64{}
	for rows.Next() {
		var id, n int64
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		loaded[id] = n
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var check []string
	for _, it := range items {
		if !it.ids.unique(loaded[it.fileID]) {
			check = append(check, fmt.Sprint(it.fileID))
		}
	}
	return check, nil
}

// endsInQuote marks the reject added for a file that ends inside a quoted value.
const endsInQuote = "the file ends inside a quoted value"

// errFileChanged is a file that changed while it was read.
var errFileChanged = errors.New("the file changed while it was being read (is the export still being written?); nothing from it was kept, it will be loaded on the next run")

// sourceTable is a source's raw table and its id column (also the id's field name).
// fileOrder is a list literal whose element i is the rank of file id i of the
// source among its files: newest last, by modification time to the second, then
// path, then file id (ids not of the source rank 0). A file loaded at a path takes
// at least the time of that path's earlier versions: it replaced them on disk, so
// content put there with an older time (restored from a backup) still wins over
// the content it replaced, as one run over the folder, which never sees that, has it.
func fileOrder(ctx context.Context, tx *sql.Tx, source string) (string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT file_id, row_number() OVER (ORDER BY date_trunc('second', eff) NULLS FIRST, path, file_id)
		FROM (SELECT file_id, path, max(mtime) OVER (PARTITION BY path ORDER BY file_id) AS eff FROM ingest_files WHERE source = ?)
		ORDER BY file_id`, source)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var rank []int64
	for rows.Next() {
		var id, r int64
		if err := rows.Scan(&id, &r); err != nil {
			return "", err
		}
		for int64(len(rank)) < id {
			rank = append(rank, 0)
		}
		rank[id-1] = r
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	if len(rank) == 0 {
		rank = []int64{0}
	}
	parts := make([]string, len(rank))
	for i, r := range rank {
		parts[i] = strconv.FormatInt(r, 10)
	}
	return "([" + strings.Join(parts, ", ") + "]::BIGINT[])", nil
}

// currentContent counts the files of the ledger with this content that make
// loading it again pointless: one at another path (a copy) or without a recorded
// modification time, or one whose every loaded row is still in the table (none
// replaced since). What is left is this path's own earlier version, replaced since:
// an export put back to that content is newer than what replaced it. The files are
// looked up first: counting rows per file for the whole table, as DuckDB may plan
// the query in one, would scan every row of the history for each new file.
func (in *Ingester) currentContent(ctx context.Context, source, path, sum string) (int, error) {
	rows, err := in.DB.QueryContext(ctx, `SELECT file_id, rows_loaded, mtime IS NULL OR path <> ? FROM ingest_files WHERE source = ? AND sha256 = ?`, path, source, sum)
	if err != nil {
		return 0, err
	}
	type entry struct {
		id, loaded int64
		elsewhere  bool
	}
	var same []entry
	for rows.Next() {
		var e entry
		if err := rows.Scan(&e.id, &e.loaded, &e.elsewhere); err != nil {
			rows.Close()
			return 0, err
		}
		if e.elsewhere {
			// A copy of another file (which one run over the folder skips as content
			// already taken), or a file of a ledger from before modification times
			// were kept, which cannot be ordered against it: loaded already.
			rows.Close()
			return 1, nil
		}
		same = append(same, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	table, _ := sourceTable(source)
	n := 0
	for _, e := range same {
		var have int64
		if err := in.DB.QueryRowContext(ctx, `SELECT count(*) FROM `+table+` WHERE file_id = ?`, e.id).Scan(&have); err != nil {
			return 0, err
		}
		if have == e.loaded {
			n++
		}
	}
	return n, nil
}

func sourceTable(source string) (table, idCol string) {
	if source == "billing" {
		return "raw_claim_lines", "line_id"
	}
	return "raw_appointments", "appointment_id"
}

func dateFieldName(source string) string {
	if source == "billing" {
		return "service_date"
	}
	return "date"
}

// convertedValue is a value DuckDB quotes in a conversion error: Could not
// convert string "CLX1" to 'DATE', or 'CLX1'.
var convertedValue = regexp.MustCompile(`(?i)(string|value) ("[^"]*"|'[^']*')`)

// redactClientError keeps DuckDB's message but never a value: a CSV error
// can quote a row or a value, and either may be a client id.
func redactClientError(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "Original Line"); i >= 0 {
		msg = msg[:i]
	}
	msg = convertedValue.ReplaceAllString(msg, "$1 (not shown)")
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
//
// otherClient counts, per file, the rows it replaced that named another client.
func (in *Ingester) replaceEarlierVersions(ctx context.Context, source string) (byFile, otherClient map[int64]int64, err error) {
	table, idCol := sourceTable(source)
	var done, latest int64
	if err := in.DB.QueryRowContext(ctx, `SELECT coalesce((SELECT replaced_through FROM ingest_state WHERE source = ?), 0),
		coalesce((SELECT max(file_id) FROM ingest_files WHERE source = ?), 0)`, source, source).Scan(&done, &latest); err != nil {
		return nil, nil, err
	}
	if latest <= done {
		if table == "raw_appointments" && latest > 0 {
			// No new file: a database made before status_counts was kept counts its
			// statuses all the same, once, so that the run says the unknown ones now.
			return nil, nil, in.countStatusesOnce(ctx)
		}
		return nil, nil, nil
	}
	tx, err := in.DB.BeginTx(ctx, nil)
	if err != nil {
		return nil, nil, err
	}
	defer tx.Rollback()
	run := func(steps [][2]string) error {
		for _, q := range steps {
			start := time.Now()
			if _, err := tx.ExecContext(ctx, q[1]); err != nil {
				return fmt.Errorf("replace earlier versions of %s rows: %w", source, err)
			}
			if in.Log != nil {
				in.Log.Debug("replace step", "source", source, "step", q[0], "took", time.Since(start).Round(time.Millisecond))
			}
		}
		return nil
	}
	watermark := [][2]string{
		{"watermark", fmt.Sprintf(`DELETE FROM ingest_state WHERE source = %s`, QuoteString(source))},
		{"watermark", fmt.Sprintf(`INSERT INTO ingest_state VALUES (%s, %d)`, QuoteString(source), latest)}}
	// The appointments per status spelling (status_counts) follow the rows: the
	// new rows added here, the replaced ones taken off below. A night reads its new
	// rows alone, never the history; a database without the counts (made before
	// they were kept, or emptied by --rebuild) counts every row once, at the end.
	var counted bool
	if table == "raw_appointments" {
		if err := tx.QueryRowContext(ctx, `SELECT count(*) > 0 FROM status_counts_state`).Scan(&counted); err != nil {
			return nil, nil, fmt.Errorf("read the status counts: %w", err)
		}
		if counted {
			if err := run([][2]string{{"status counts", fmt.Sprintf(`INSERT INTO status_counts
				SELECT status, count(*) FROM raw_appointments WHERE file_id > %d GROUP BY status`, done)}}); err != nil {
				return nil, nil, err
			}
		}
	}
	statusCounts := func(gone bool) [][2]string {
		if table != "raw_appointments" {
			return nil
		}
		if !counted {
			return slices.Clone(countAllStatuses) // appended to by the caller
		}
		var steps [][2]string
		if gone {
			steps = append(steps, [2]string{"status counts", `INSERT INTO status_counts SELECT status, -count(*) FROM tmp_gone GROUP BY status`})
		}
		return append(steps,
			[2]string{"status counts", `CREATE OR REPLACE TEMP TABLE tmp_status_counts AS
				SELECT status, sum(n)::BIGINT AS n FROM status_counts GROUP BY status HAVING sum(n) <> 0`},
			[2]string{"status counts", `DELETE FROM status_counts`},
			[2]string{"status counts", `INSERT INTO status_counts SELECT * FROM tmp_status_counts`},
			[2]string{"status counts", `DROP TABLE tmp_status_counts`})
	}
	if l := in.loads[source]; l != nil && l.reads == 1 && l.unique {
		// One read took every file of the source and left no id in two rows: if the
		// table holds nothing else (a first load), no row has a newer version. At 10M
		// rows grouping every row by id to find none took 0.4-0.6 s a table.
		var others int64
		if err := tx.QueryRowContext(ctx, fmt.Sprintf(`SELECT count(*) FROM %s WHERE file_id NOT IN (%s)`,
			table, strings.Join(l.fileIDs, ", "))).Scan(&others); err != nil {
			return nil, nil, fmt.Errorf("replace earlier versions of %s rows: %w", source, err)
		}
		if others == 0 {
			if in.Log != nil {
				in.Log.Debug("replace step", "source", source, "step", "none: one read, no id twice", "took", 0)
			}
			if err := run(append(statusCounts(false), watermark...)); err != nil {
				return nil, nil, err
			}
			return nil, nil, tx.Commit()
		}
	}
	// Ids seen again since the last pass, and the newest file of each. On a first load
	// (done = 0) every id qualifies, and the semi-join that narrows them is skipped.
	since := ""
	if done > 0 {
		since = fmt.Sprintf("WHERE %[2]s IN (SELECT %[2]s FROM %[1]s WHERE file_id > %[3]d)", table, idCol, done)
	}
	// The newest version is that of the newest file: by modification time (to the
	// second, as the files of a run are read), then path, then the order loaded. Not
	// simply the file loaded last: an older export loaded on a later night (retried
	// after it failed, or copied in with its original time) must not bring back
	// statuses that a newer one corrected. Each file's rank goes in as a list indexed
	// by file id: joining a table of ranks kept DuckDB from narrowing the rows to the
	// ids seen since the last pass (0.17 s against 0.04 s on a night at 10M rows).
	// The status of a replaced appointment, for status_counts.
	goneStatus := ""
	if table == "raw_appointments" {
		goneStatus = ", r.status"
	}
	order, err := fileOrder(ctx, tx, source)
	if err != nil {
		return nil, nil, err
	}
	if err := run([][2]string{
		{"newest versions", fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE tmp_keep AS
			SELECT %[2]s AS id, arg_max(file_id, %[4]s[file_id]) AS keep, arg_max(client_key, %[4]s[file_id]) AS keep_client FROM %[1]s %[3]s
			GROUP BY %[2]s HAVING count(*) > 1`, table, idCol, since, order)},
		// The replaced rows, found once: what follows reads this list, not the table.
		{"replaced rows", `CREATE OR REPLACE TEMP TABLE tmp_gone AS
			SELECT r.rowid AS rid, r.client_key, k.keep, r.client_key IS DISTINCT FROM k.keep_client AS other_client` + goneStatus + `
			FROM ` + table + ` r JOIN tmp_keep k ON r.` + idCol + ` = k.id AND r.file_id <> k.keep`},
		// A row replaced by one of another client: a re-export keeps an appointment's
		// client, so two systems numbering their ids alike are the likely cause.
		{"count per file", `CREATE OR REPLACE TEMP TABLE tmp_replaced AS SELECT keep AS file_id, count(*) AS n,
			count(*) FILTER (WHERE other_client) AS other FROM tmp_gone GROUP BY keep`},
		{"ledger", `UPDATE ingest_files SET rows_replaced = rows_replaced + t.n FROM tmp_replaced t WHERE ingest_files.file_id = t.file_id`},
	}); err != nil {
		return nil, nil, err
	}
	var gone, total, built int64
	if err := tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM tmp_gone), (SELECT count(*) FROM `+table+`),
		(SELECT count(*) FROM model_state)`).Scan(&gone, &total, &built); err != nil {
		return nil, nil, fmt.Errorf("replace earlier versions of %s rows: %w", source, err)
	}
	var steps [][2]string
	if built > 0 {
		// The per-client tables must forget what the replaced rows said. Before their first
		// build there is nothing to forget: that build reads every row.
		steps = append(steps, [2]string{"changed clients",
			`INSERT INTO dirty_clients SELECT DISTINCT client_key FROM tmp_gone WHERE client_key IS NOT NULL`})
	}
	if gone*4 >= total && gone > 0 {
		// A quarter or more of the table is replaced (a first load of overlapping exports:
		// half the scheduling rows at network scale): the kept rows are copied to a new
		// table instead. At 10M rows the copy took as long as the delete and its commit
		// (7.7 s against 7.2 s), and it leaves no deleted rows behind: DuckDB compacts
		// those only at a later checkpoint, which the next night paid (1.3 s or more).
		steps = append(steps,
			[2]string{"copy kept rows", fmt.Sprintf(`CREATE TABLE %[1]s_kept AS
				SELECT * FROM %[1]s WHERE rowid NOT IN (SELECT rid FROM tmp_gone)`, table)},
			[2]string{"swap tables", "DROP TABLE " + table},
			[2]string{"swap tables", fmt.Sprintf("ALTER TABLE %[1]s_kept RENAME TO %[1]s", table)})
	} else {
		steps = append(steps, [2]string{"delete", `DELETE FROM ` + table + ` WHERE rowid IN (SELECT rid FROM tmp_gone)`})
	}
	steps = append(steps, statusCounts(true)...)
	steps = append(steps, watermark...)
	if err := run(steps); err != nil {
		return nil, nil, err
	}
	byFile, otherClient = map[int64]int64{}, map[int64]int64{}
	rows, err := tx.QueryContext(ctx, `SELECT file_id, n, other FROM tmp_replaced`)
	if err != nil {
		return nil, nil, err
	}
	for rows.Next() {
		var id, n, other int64
		if err := rows.Scan(&id, &n, &other); err != nil {
			rows.Close()
			return nil, nil, err
		}
		byFile[id] = n
		if other > 0 {
			otherClient[id] = other
		}
	}
	rows.Close()
	for _, t := range []string{"tmp_keep", "tmp_gone", "tmp_replaced"} {
		if _, err := tx.ExecContext(ctx, "DROP TABLE "+t); err != nil {
			return nil, nil, err
		}
	}
	return byFile, otherClient, tx.Commit()
}
