package pipeline

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/referrals/referrals/internal/config"
)

// A renamed optional header (Referral Source exported as Lead, Charge as Charge
// Amt) does not stop a file: the field is simply absent from its rows. Missing
// from one export when the export before it had it, that is rarely what the
// practice meant, so it is named.

// ColumnGap is a loaded file without a column for optional fields that the
// source's previous loaded file had.
type ColumnGap struct {
	Source, Path string
	Fields       []string // canonical field names, e.g. referral_source
	Previous     string   // the path of the file before it
}

// MissingColumns lists, for the files loaded in sum, the optional fields the
// source's previous loaded file (by ledger order) had a column for and the
// file has not. Files loaded by a version that did not record their fields are
// not compared.
func MissingColumns(ctx context.Context, db *sql.DB, sum IngestSummary) ([]ColumnGap, error) {
	var out []ColumnGap
	for _, f := range sum.Files {
		if f.Status != "loaded" {
			continue
		}
		var fields, prevFields, prevPath sql.NullString
		err := db.QueryRowContext(ctx, `SELECT f.fields, p.fields, p.path FROM ingest_files f
			LEFT JOIN LATERAL (SELECT fields, path FROM ingest_files p WHERE p.source = f.source AND p.file_id < f.file_id
				ORDER BY p.file_id DESC LIMIT 1) p ON true
			WHERE f.file_id = ?`, f.FileID).Scan(&fields, &prevFields, &prevPath)
		if err == sql.ErrNoRows {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("compare the columns of %s: %w", f.Path, err)
		}
		if !fields.Valid || !prevFields.Valid {
			continue
		}
		if gap := FieldsDropped(f.Source, strings.Split(prevFields.String, ","), strings.Split(fields.String, ",")); len(gap) > 0 {
			out = append(out, ColumnGap{Source: f.Source, Path: f.Path, Fields: gap, Previous: prevPath.String})
		}
	}
	return out, nil
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
	return fmt.Sprintf("If its header was renamed, map the new name under [%s.columns] (the exports with the usual name keep it) "+
		"and run with --rebuild, or export the file again with the usual header", g.Source)
}
