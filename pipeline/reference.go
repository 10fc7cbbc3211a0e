package pipeline

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gocarina/gocsv"
	"github.com/referrals/referrals/internal/refcsv"
	"github.com/referrals/referrals/queries"
	"golang.org/x/text/encoding/charmap"
)

// The rows of the reference files, shared with the sample generator.
type (
	RosterRow    = refcsv.Roster
	DirectoryRow = refcsv.Directory
	AliasRow     = refcsv.Alias
)

// BuiltinChannels are marketing channels, never given a stage. The
// configuration's [referrers] channels and the directory's channel column
// add to them.
var BuiltinChannels = []string{
	"Psychology Today", "Google", "Google Ads", "Google Search", "Self", "Self-referral", "Self referred",
	"Insurance directory", "Insurance", "Friend/Family", "Friend", "Family", "Word of mouth", "Website",
	"Facebook", "Instagram", "Yelp", "Zocdoc", "Headway", "Alma", "Walk-in", "Returning client",
	"Former client", "Internet search", "Online search", "Advertisement", "Flyer", "Other",
}

// ReferenceFiles are the small files the user maintains; empty paths are
// optional files that are not used.
type ReferenceFiles struct {
	Roster, Directory, Aliases string
	Channels                   []string
}

// LoadReference replaces the ref_* tables with the current contents of the
// roster, directory and alias files. They are small and the user edits
// them, so they are reread and checked on every run; the tables are only
// rewritten when what they would hold changed (ref_state).
func LoadReference(ctx context.Context, db *sql.DB, files ReferenceFiles) error {
	if err := EnsureSchema(ctx, db); err != nil {
		return err
	}
	var roster []RosterRow
	var dir []DirectoryRow
	var aliases []AliasRow
	if err := readSmallCSV(files.Roster, &roster, "roster", "name"); err != nil {
		return err
	}
	if err := readSmallCSV(files.Directory, &dir, "directory", "name"); err != nil {
		return err
	}
	if err := readSmallCSV(files.Aliases, &aliases, "aliases", "alias"); err != nil {
		return err
	}
	var rosterRows, dirRows, aliasRows, channelRows [][]any
	for i, r := range roster {
		line := i + 2
		if strings.TrimSpace(r.Name) == "" {
			return fmt.Errorf("roster %s line %d: the name is blank; every clinician needs a name", files.Roster, line)
		}
		start, err := parseRefDate(r.StartDate)
		if err != nil {
			return fmt.Errorf("roster %s line %d column start_date: %v", files.Roster, line, err)
		}
		end, err := parseRefDate(r.EndDate)
		if err != nil {
			return fmt.Errorf("roster %s line %d column end_date: %v", files.Roster, line, err)
		}
		acc, err := parseYesNo(r.Accepting)
		if err != nil {
			return fmt.Errorf("roster %s line %d column accepting: %v", files.Roster, line, err)
		}
		var accepting any // NULL when the roster leaves it blank
		if acc != nil {
			accepting = *acc
		}
		rosterRows = append(rosterRows, []any{strings.TrimSpace(r.Name), nullIfBlank(r.Aliases), nullIfBlank(r.NPI), start, end,
			nullIfBlank(r.Specialties), nullIfBlank(r.Payers), accepting})
	}
	for i, r := range dir {
		line := i + 2
		if strings.TrimSpace(r.Name) == "" {
			return fmt.Errorf("directory %s line %d: the name is blank", files.Directory, line)
		}
		ch, err := parseYesNo(r.Channel)
		if err != nil {
			return fmt.Errorf("directory %s line %d column channel: %v", files.Directory, line, err)
		}
		dirRows = append(dirRows, []any{strings.TrimSpace(r.Name), nullIfBlank(r.Aliases), nullIfBlank(r.NPI), nullIfBlank(r.Category),
			nullIfBlank(r.Organisation), nullIfBlank(r.PointPerson), ch != nil && *ch})
	}
	for i, r := range aliases {
		if strings.TrimSpace(r.Alias) == "" || strings.TrimSpace(r.Referrer) == "" {
			return fmt.Errorf("aliases %s line %d: both alias and referrer are needed", files.Aliases, i+2)
		}
		aliasRows = append(aliasRows, []any{strings.TrimSpace(r.Alias), strings.TrimSpace(r.Referrer)})
	}
	for _, c := range append(append([]string{}, BuiltinChannels...), files.Channels...) {
		channelRows = append(channelRows, []any{c})
	}
	tables := []struct {
		table string
		rows  [][]any
	}{{"ref_roster", rosterRows}, {"ref_directory", dirRows}, {"ref_aliases", aliasRows}, {"ref_channels", channelRows}}
	// The rows, fingerprinted as SQL literals: when they equal what was loaded last
	// time the tables are left alone. A network's directory of 27,000 referrers took
	// about 2 s to replace, on every night.
	h := sha256.New()
	for _, t := range tables {
		fmt.Fprintf(h, "%s\x00", t.table)
		for _, r := range t.rows {
			for _, v := range r {
				lit, err := sqlLiteral(v)
				if err != nil {
					return fmt.Errorf("load %s: %w", t.table, err)
				}
				fmt.Fprintf(h, "%s\x1f", lit)
			}
			h.Write([]byte{0x1e})
		}
	}
	fingerprint := hex.EncodeToString(h.Sum(nil))
	var loaded sql.NullString
	if err := db.QueryRowContext(ctx, `SELECT max(fingerprint) FROM ref_state`).Scan(&loaded); err != nil {
		return err
	}
	if loaded.Valid && loaded.String == fingerprint {
		return nil
	}
	// The rows go in through DuckDB's appender, in the transaction that empties the
	// tables: literal INSERT statements cost DuckDB about 120 ms to parse per 2,000
	// rows (2.2 s for a network's 27,000 reference rows). None of these columns is a
	// DECIMAL, which the appender stores wrongly from float64.
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, t := range []string{"ref_roster", "ref_directory", "ref_aliases", "ref_channels", "ref_state"} {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+t); err != nil {
			return err
		}
	}
	for _, t := range tables {
		if err := appendRows(conn, t.table, t.rows); err != nil {
			return fmt.Errorf("load %s: %w", t.table, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO ref_state VALUES (?)`, fingerprint); err != nil {
		return err
	}
	return tx.Commit()
}

// readSmallCSV reads a small typed CSV with gocsv. A missing optional file
// (empty path) leaves out empty; a named file that is missing is an error.
func readSmallCSV(path string, out any, what, required string) error {
	if path == "" {
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%s file %s does not exist; create it or set [reference] %s = \"\" in the configuration", what, path, what)
		}
		return fmt.Errorf("read %s file %s: %w", what, path, err)
	}
	b = bytes.TrimPrefix(b, bomUTF8)
	if !utf8.Valid(b) {
		if d, err := charmap.Windows1252.NewDecoder().Bytes(b); err == nil {
			b = d
		}
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	header := strings.ToLower(strings.SplitN(string(b), "\n", 2)[0])
	// The reference files are read with commas only: a sheet saved with another
	// separator would read as one column, and its message would mislead.
	if !strings.Contains(header, ",") {
		for _, sep := range []struct{ c, name string }{{";", "semicolons"}, {"\t", "tabs"}} {
			if strings.Contains(header, sep.c) {
				return fmt.Errorf("%s file %s separates its values with %s (as spreadsheets save CSV in some countries); save it as \"CSV (comma delimited)\", or replace them with commas", what, path, sep.name)
			}
		}
	}
	if !strings.Contains(header, required) {
		return fmt.Errorf("%s file %s: the first line must be a header with a %q column; found %q", what, path, required, strings.TrimSpace(header))
	}
	if err := gocsv.UnmarshalBytes(b, out); err != nil {
		return fmt.Errorf("%s file %s: %v", what, path, err)
	}
	return nil
}

func nullIfBlank(s string) any {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	return s
}

func parseRefDate(s string) (any, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	for _, layout := range []string{"2006-01-02", "01/02/2006", "1/2/2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return nil, fmt.Errorf("%q is not a date; write it as YYYY-MM-DD", s)
}

func parseYesNo(s string) (*bool, error) {
	t, f := true, false
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return nil, nil
	case "yes", "y", "true", "1", "x":
		return &t, nil
	case "no", "n", "false", "0":
		return &f, nil
	}
	return nil, fmt.Errorf("%q is neither yes nor no", s)
}

// UnknownPointPersons lists, as referrer and name, the directory's point persons
// that name no clinician of the roster (queries/staging/stg_unknown_point_persons.sql,
// and the stg_clinician_names it reads), from the reference tables LoadReference
// filled in db: for check to warn of before a run. db is a scratch database: it
// gets the models' macros and a temporary table.
func UnknownPointPersons(ctx context.Context, db *sql.DB) ([][2]string, error) {
	models, err := queries.Models()
	if err != nil {
		return nil, err
	}
	sqlOf := map[string]string{}
	for _, m := range models {
		sqlOf[m.Name] = trimSQL(m.SQL)
	}
	for _, q := range []string{queries.MacrosSQL, "CREATE OR REPLACE TEMP TABLE stg_clinician_names AS " + sqlOf["stg_clinician_names"]} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("match the directory's point persons with the roster: %w", err)
		}
	}
	rows, err := db.QueryContext(ctx, "SELECT referrer, point_person FROM ("+sqlOf["stg_unknown_point_persons"]+")")
	if err != nil {
		return nil, fmt.Errorf("match the directory's point persons with the roster: %w", err)
	}
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var u [2]string
		if err := rows.Scan(&u[0], &u[1]); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}
