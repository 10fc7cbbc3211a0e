package pipeline

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/referrals/referrals/internal/config"
)

// Each export file is loaded once, so a file keeps the reading it was loaded
// with: after a change to date_format or a column mapping, the files already
// loaded still hold what the old settings made of them (days and months swapped,
// a field left empty) until a --rebuild reads them again. The settings every
// source's files were read with are kept in read_settings, so that a run can
// say so instead of leaving the old reading in place without a word.

// ReadSettings are the settings of a source that decide what its rows hold, as
// key = value text.
func ReadSettings(c config.Config, source string) map[string]string {
	s := c.Scheduling
	if source == "billing" {
		s = c.Billing
	}
	out := map[string]string{
		"date_format":              s.DateFormat,
		"delimiter":                s.Delimiter,
		"encoding":                 s.Encoding,
		"[ingest] min_year":        fmt.Sprint(c.Ingest.MinYear),
		"[ingest] max_years_ahead": fmt.Sprint(c.Ingest.MaxYearsAhead),
	}
	for field, header := range s.Columns {
		out["columns."+field] = header
	}
	// A layout's settings, under its patterns: none where the configuration has no
	// layout, so a configuration without one compares as it always did.
	for _, l := range s.Layouts {
		prefix := layoutKeyPrefix(l.Files)
		for k, v := range map[string]string{"date_format": l.DateFormat, "delimiter": l.Delimiter, "encoding": l.Encoding, "ids": config.FoldIDs(l.IDs)} {
			if v != "" {
				out[prefix+k] = v
			}
		}
		if l.Columns != nil {
			out[prefix+"columns"] = "own"
		}
		for field, header := range l.Columns {
			out[prefix+"columns."+field] = header
		}
	}
	return out
}

// layoutKeyPrefix is how a layout's settings are named in read_settings and in
// the warning that they changed: by the block's file patterns.
func layoutKeyPrefix(files []string) string {
	b, _ := json.Marshal(files)
	return "[[layout]] files = " + string(b) + " "
}

// layoutKeyFiles is the patterns of a layout setting's key, or nil for a
// setting of the source's own.
func layoutKeyFiles(key string) []string {
	rest, ok := strings.CutPrefix(key, "[[layout]] files = ")
	if !ok {
		return nil
	}
	end := strings.LastIndex(rest, "] ")
	if end < 0 {
		return nil
	}
	var files []string
	if json.Unmarshal([]byte(rest[:end+1]), &files) != nil {
		return nil
	}
	return files
}

// loadedFilesMatch says whether a loaded file of source is matched by one of
// the patterns: a layout setting changes the reading of those files alone.
//
// A file two layouts' patterns match is read with the first's: for a layout
// of the configuration, only the loaded files it reads count.
func loadedFilesMatch(ctx context.Context, db *sql.DB, c config.Config, source string, patterns []string) (bool, error) {
	src := c.Scheduling
	if source == "billing" {
		src = c.Billing
	}
	layout := slices.IndexFunc(src.Layouts, func(l config.Layout) bool { return slices.Equal(l.Files, patterns) })
	rows, err := db.QueryContext(ctx, `SELECT DISTINCT path FROM ingest_files WHERE source = ?`, source)
	if err != nil {
		return false, fmt.Errorf("read the loaded files: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return false, err
		}
		if layout >= 0 {
			if src.LayoutOf(c.Path(p), c.Path) == layout {
				return true, nil
			}
			continue
		}
		for _, g := range patterns {
			if ok, _ := filepath.Match(c.Path(g), c.Path(p)); ok {
				return true, nil
			}
		}
	}
	return false, rows.Err()
}

// ReadSettingsChange is a source whose loaded files were read with other settings.
type ReadSettingsChange struct {
	Source string
	Keys   []string // the settings that differ, e.g. "date_format", "columns.clinician"
	Files  int      // loaded files that keep the old reading
}

// ChangedReadSettings lists the sources whose loaded files were read with
// settings other than c's. A layout changed for files none of which loaded is
// no such change: RecordUnloadedLayouts, run first, records it as their reading.
func ChangedReadSettings(ctx context.Context, db *sql.DB, c config.Config) ([]ReadSettingsChange, error) {
	var out []ReadSettingsChange
	for _, source := range []string{"scheduling", "billing"} {
		var stored sql.NullString
		err := db.QueryRowContext(ctx, `SELECT max(settings) FROM read_settings WHERE source = ?`, source).Scan(&stored)
		if err != nil {
			return nil, fmt.Errorf("read read_settings: %w", err)
		}
		if !stored.Valid {
			continue
		}
		var old map[string]string
		if err := json.Unmarshal([]byte(stored.String), &old); err != nil {
			return nil, fmt.Errorf("read read_settings of %s: %w", source, err)
		}
		now := ReadSettings(c, source)
		// How the loaded files were read decides for the delimiter and the
		// column mappings when the ledger has it for every file: a setting changed
		// to what reads them the same is no change, and one that matches the
		// recorded settings while files were read otherwise since is one.
		read, err := readAsLoadedOf(ctx, db, source, c)
		if err != nil {
			return nil, err
		}
		var keys []string
		all := joinKeys(old, now)
		for f := range read.fieldsMoved {
			all["columns."+f] = true
		}
		for _, k := range slices.Sorted(maps.Keys(all)) {
			if read.known && (k == "delimiter" || strings.HasPrefix(k, "columns.")) {
				if k == "delimiter" && !read.sameDelimiter || read.fieldsMoved[strings.TrimPrefix(k, "columns.")] {
					keys = append(keys, k)
				}
				continue
			}
			if old[k] == now[k] {
				continue
			}
			if k == "encoding" {
				same, err := sameEncoding(ctx, db, source, old[k], now[k])
				if err != nil {
					return nil, err
				}
				if same {
					continue
				}
			}
			keys = append(keys, k)
		}
		if len(keys) == 0 {
			continue
		}
		var files int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM ingest_files WHERE source = ?`, source).Scan(&files); err != nil {
			return nil, fmt.Errorf("count loaded files: %w", err)
		}
		if files > 0 {
			out = append(out, ReadSettingsChange{Source: source, Keys: keys, Files: files})
		}
	}
	return out, nil
}

// sameEncoding says whether files read with encoding old read the same with
// now: the same encoding spelt otherwise ("UTF-8", "utf8"), or "auto" made
// explicit with the encoding it found for every loaded file of the source, as
// the ledger records it.
func sameEncoding(ctx context.Context, db *sql.DB, source, old, now string) (bool, error) {
	o, n := normaliseEncoding(old), normaliseEncoding(now)
	if o == n {
		return true, nil
	}
	if o != "auto" {
		return false, nil
	}
	var other int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM ingest_files WHERE source = ? AND encoding IS DISTINCT FROM ?`, source, n).Scan(&other); err != nil {
		return false, fmt.Errorf("read the loaded files' encodings: %w", err)
	}
	return other == 0, nil
}

// readAsLoaded is how c's delimiter and column mappings would read the loaded
// files of a source, against how they were read, as the ledger records it for
// each (its delimiter, header row and columns). known is false when a loaded
// file has no such record (loaded before the ledger kept them) or none is
// loaded: then the settings are compared as written.
type readAsLoaded struct {
	known         bool
	sameDelimiter bool            // every file read with the delimiter c gives it
	fieldsMoved   map[string]bool // fields c takes from another column in some file
}

func readAsLoadedOf(ctx context.Context, db *sql.DB, source string, c config.Config) (readAsLoaded, error) {
	s := c.Scheduling
	if source == "billing" {
		s = c.Billing
	}
	want, explicit := delimiterSetting(s.Delimiter)
	rows, err := db.QueryContext(ctx, `SELECT delimiter, headers, mapping, path FROM ingest_files WHERE source = ?`, source)
	if err != nil {
		return readAsLoaded{}, fmt.Errorf("read how the loaded files were read: %w", err)
	}
	defer rows.Close()
	r := readAsLoaded{sameDelimiter: true, fieldsMoved: map[string]bool{}}
	files := 0
	for rows.Next() {
		files++
		var delim, headersJSON, mappingJSON, path sql.NullString
		if err := rows.Scan(&delim, &headersJSON, &mappingJSON, &path); err != nil {
			return readAsLoaded{}, fmt.Errorf("read how the loaded files were read: %w", err)
		}
		var headers []string
		var mapping map[string]int
		if !delim.Valid || !headersJSON.Valid || !mappingJSON.Valid ||
			json.Unmarshal([]byte(headersJSON.String), &headers) != nil || json.Unmarshal([]byte(mappingJSON.String), &mapping) != nil {
			return readAsLoaded{}, rows.Err()
		}
		was := []rune(delim.String)
		if len(was) != 1 {
			return readAsLoaded{}, rows.Err()
		}
		// With "auto" the delimiter is guessed from the header line, which the
		// header row joined by the delimiter stands for, names holding a
		// delimiter or a quote quoted as an export quotes them.
		d, set := want, explicit
		if l := s.LayoutOf(c.Path(path.String), c.Path); l >= 0 {
			d, set = delimiterSetting(s.Layout(l).Delimiter)
		}
		if !set {
			line := make([]string, len(headers))
			for i, h := range headers {
				line[i] = h
				if strings.ContainsAny(h, ",;\t|\"") {
					line[i] = `"` + strings.ReplaceAll(h, `"`, `""`) + `"`
				}
			}
			d = guessDelimiter([]byte(strings.Join(line, string(was[0]))))
		}
		if d != was[0] {
			r.sameDelimiter = false
		}
		now, _ := MapHeaders(source, headers, s.Layout(s.LayoutOf(c.Path(path.String), c.Path)).Columns)
		for f := range joinKeys(stringKeys(now), stringKeys(mapping)) {
			a, inNow := now[f]
			b, inWas := mapping[f]
			if inNow != inWas || a != b {
				r.fieldsMoved[f] = true
			}
		}
	}
	if err := rows.Err(); err != nil {
		return readAsLoaded{}, err
	}
	r.known = files > 0
	return r, nil
}

// stringKeys is m's keys as a set of strings, for joinKeys.
func stringKeys(m map[string]int) map[string]string {
	out := make(map[string]string, len(m))
	for k := range m {
		out[k] = ""
	}
	return out
}

func joinKeys(a, b map[string]string) map[string]bool {
	m := map[string]bool{}
	for k := range a {
		m[k] = true
	}
	for k := range b {
		m[k] = true
	}
	return m
}

// RecordReadSettings keeps c's settings as those each source's files were read
// with, where that is now true: after a rebuild (every file read again), for a
// source with no file loaded, and for a database that recorded none yet (made by
// a version that did not keep them: its files were read with the settings of
// their day, which the first run after the upgrade takes as these).
func RecordReadSettings(ctx context.Context, db *sql.DB, c config.Config, rebuilt bool) error {
	for _, source := range []string{"scheduling", "billing"} {
		var stored, files int
		if err := db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM read_settings WHERE source = ?),
			(SELECT count(*) FROM ingest_files WHERE source = ?)`, source, source).Scan(&stored, &files); err != nil {
			return fmt.Errorf("read read_settings: %w", err)
		}
		if !rebuilt && stored > 0 && files > 0 {
			continue
		}
		b, err := json.Marshal(ReadSettings(c, source))
		if err != nil {
			return err
		}
		if _, err := db.ExecContext(ctx, `DELETE FROM read_settings WHERE source = ?`, source); err != nil {
			return fmt.Errorf("record read settings: %w", err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO read_settings VALUES (?, ?)`, source, string(b)); err != nil {
			return fmt.Errorf("record read settings: %w", err)
		}
	}
	return nil
}

// RecordUnloadedLayouts takes a layout's settings as those its files were read
// with where no loaded file matches its patterns (a layout added, changed or
// taken out for files that never loaded): the files it reads from now on are
// read with them, so a later run compares its loaded files with these, not with
// the settings recorded before the layout was (which warned every night after
// the first of its files loaded, asking for a --rebuild for nothing). Run before
// the files are loaded; a layout over loaded files is left for
// ChangedReadSettings to warn of.
func RecordUnloadedLayouts(ctx context.Context, db *sql.DB, c config.Config) error {
	for _, source := range []string{"scheduling", "billing"} {
		var stored sql.NullString
		if err := db.QueryRowContext(ctx, `SELECT max(settings) FROM read_settings WHERE source = ?`, source).Scan(&stored); err != nil {
			return fmt.Errorf("read read_settings: %w", err)
		}
		if !stored.Valid {
			continue
		}
		var old map[string]string
		if err := json.Unmarshal([]byte(stored.String), &old); err != nil {
			return fmt.Errorf("read read_settings of %s: %w", source, err)
		}
		now := ReadSettings(c, source)
		// The layouts (by their patterns' prefix) with a setting that differs.
		changed := map[string][]string{}
		for k := range joinKeys(old, now) {
			if files := layoutKeyFiles(k); files != nil && old[k] != now[k] {
				changed[layoutKeyPrefix(files)] = files
			}
		}
		adopted := false
		for _, prefix := range slices.Sorted(maps.Keys(changed)) {
			match, err := loadedFilesMatch(ctx, db, c, source, changed[prefix])
			if err != nil {
				return err
			}
			if match {
				continue
			}
			for k := range old {
				if strings.HasPrefix(k, prefix) {
					delete(old, k)
				}
			}
			for k, v := range now {
				if strings.HasPrefix(k, prefix) {
					old[k] = v
				}
			}
			adopted = true
		}
		if !adopted {
			continue
		}
		b, err := json.Marshal(old)
		if err != nil {
			return err
		}
		if _, err := db.ExecContext(ctx, `UPDATE read_settings SET settings = ? WHERE source = ?`, string(b), source); err != nil {
			return fmt.Errorf("record read settings: %w", err)
		}
	}
	return nil
}

// String is the change as a user reads it.
func (r ReadSettingsChange) String() string {
	return fmt.Sprintf("[%s] %s", r.Source, strings.Join(r.Keys, ", "))
}
