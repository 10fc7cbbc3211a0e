package pipeline

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/referrals/referrals/internal/config"
)

// A renamed optional header (Referral Source exported as Lead, Charge as Charge
// Amt) does not stop a file: the field is simply absent from its rows. Missing
// from one export when the export before it had it, that is rarely what the
// practice meant, so it is named.

// ColumnGap is a loaded file without a column for optional fields that the
// previous loaded file of its block (the source's, or its layout's) had.
type ColumnGap struct {
	Source, Path string
	Fields       []string // canonical field names, e.g. referral_source
	Previous     string   // the path of the file before it
	// Columns names the column mapping that reads the file: [scheduling.columns],
	// or a layout block's (config.Source.ColumnsName); "" is the source's.
	Columns string
}

// MissingColumns lists, for the files loaded in sum, the optional fields the
// previous loaded file (by ledger order) of the same block had a column for and
// the file has not. The block is the one c reads the file with: the source's,
// or a [[….layout]]'s, whose files are another system's (or another version's),
// with other columns: a file of one is not compared with a file of the other,
// which said every night of a switch, when both systems export, that the new
// one lacked the old one's columns. Files loaded by a version that did not
// record their fields are not compared.
func MissingColumns(ctx context.Context, db *sql.DB, c config.Config, sum IngestSummary) ([]ColumnGap, error) {
	loaded := map[int64]bool{}
	for _, f := range sum.Files {
		if f.Status == "loaded" {
			loaded[f.FileID] = true
		}
	}
	if len(loaded) == 0 {
		return nil, nil
	}
	// The ledger is a row per file loaded: its block is found in Go, per file.
	rows, err := db.QueryContext(ctx, `SELECT file_id, source, path, fields FROM ingest_files ORDER BY file_id`)
	if err != nil {
		return nil, fmt.Errorf("compare the exports' columns: %w", err)
	}
	defer rows.Close()
	type last struct {
		fields sql.NullString
		path   string
	}
	prev := map[string]last{}
	var out []ColumnGap
	for rows.Next() {
		var id int64
		var source, path string
		var fields sql.NullString
		if err := rows.Scan(&id, &source, &path, &fields); err != nil {
			return nil, fmt.Errorf("compare the exports' columns: %w", err)
		}
		src := c.Scheduling
		if source == "billing" {
			src = c.Billing
		}
		layout := src.LayoutOf(c.Path(path), c.Path)
		block := fmt.Sprintf("%s\x00%d", source, layout)
		p, seen := prev[block]
		prev[block] = last{fields, path}
		if !loaded[id] || !seen || !fields.Valid || !p.fields.Valid {
			continue
		}
		if gap := FieldsDropped(source, strings.Split(p.fields.String, ","), strings.Split(fields.String, ",")); len(gap) > 0 {
			out = append(out, ColumnGap{Source: source, Path: path, Fields: gap, Previous: p.path, Columns: src.Layout(layout).ColumnsName(source)})
		}
	}
	return out, rows.Err()
}

// FieldsDropped are the optional fields of source in before and not in after.
func FieldsDropped(source string, before, after []string) []string {
	has := map[string]bool{}
	for _, f := range after {
		has[f] = true
	}
	var out []string
	for _, fd := range config.Fields(source) {
		if fd.Required || has[fd.Name] {
			continue
		}
		for _, f := range before {
			if f == fd.Name {
				out = append(out, fd.Name)
			}
		}
	}
	return out
}

// String says what is missing and what to do.
func (g ColumnGap) String() string {
	return fmt.Sprintf("%s has no column for %s, which the export before it (%s) had: its rows load without it. %s",
		g.Path, strings.Join(g.Fields, ", "), g.Previous, g.Advice())
}

// Advice is what to do about the gap. A mapping under [source.columns] adds a
// header name for the field; files with the usual name keep it (MapHeaders).
func (g ColumnGap) Advice() string {
	columns := g.Columns
	if columns == "" {
		columns = "[" + g.Source + ".columns]"
	}
	return fmt.Sprintf("If its header was renamed, map the new name under %s (the exports with the usual name keep it) "+
		"and run with --rebuild, or export the file again with the usual header", columns)
}

// UnmatchedMappings are the warnings of the configuration's column mappings
// that name a header none of the source's loaded files has (by the ledger's
// headers of each file's newest version): what `check` refuses, said by every
// run while it lasts. Such a field is read from its usual headers or, for an
// optional one such as referred_to, not at all, and the stages differ without
// a word otherwise.
// Files loaded by a version that did not record their headers are not
// compared, nor is a source with no such file.
func UnmatchedMappings(ctx context.Context, db *sql.DB, cfg config.Config) ([]string, error) {
	var out []string
	for _, s := range []struct {
		name string
		src  config.Source
	}{{"scheduling", cfg.Scheduling}, {"billing", cfg.Billing}} {
		if len(s.src.Columns) == 0 && !slices.ContainsFunc(s.src.Layouts, func(l config.Layout) bool { return len(l.Columns) > 0 }) {
			continue
		}
		// Each file's newest version: a re-export that renamed the header back is what
		// the file holds now, and a file loaded twice is one file.
		rows, err := db.QueryContext(ctx, `SELECT path, headers, mapping FROM ingest_files f
			WHERE source = ? AND headers IS NOT NULL AND mapping IS NOT NULL
			  AND file_id = (SELECT max(file_id) FROM ingest_files g WHERE g.path = f.path)
			ORDER BY file_id`, s.name)
		if err != nil {
			return nil, fmt.Errorf("compare the column mappings with the exports: %w", err)
		}
		var files []FileCheck
		for rows.Next() {
			var path, headersJSON, mappingJSON string
			if err := rows.Scan(&path, &headersJSON, &mappingJSON); err != nil {
				rows.Close()
				return nil, fmt.Errorf("compare the column mappings with the exports: %w", err)
			}
			var headers []string
			var mapping map[string]int
			if json.Unmarshal([]byte(headersJSON), &headers) != nil || json.Unmarshal([]byte(mappingJSON), &mapping) != nil {
				continue
			}
			fc := FileCheck{Source: s.name, Headers: headers, Mapping: map[string]string{},
				columnsOf: s.src.ColumnsBlock(s.src.LayoutOf(cfg.Path(path), cfg.Path))}
			for field, i := range mapping {
				if i >= 0 && i < len(headers) {
					fc.Mapping[field] = headers[i]
				}
			}
			files = append(files, fc)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		for _, l := range s.src.Settings(s.name) {
			if l.Index >= 0 && s.src.Layouts[l.Index].Columns == nil {
				continue
			}
			for _, p := range unmatchedMappings(s.name, s.src.ColumnsBlock(l.Index), l.Source.Columns, cfg.File, files) {
				out = append(out, p.Problems...)
			}
		}
	}
	return out, nil
}
