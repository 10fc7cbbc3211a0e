package pipeline

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/referrals/referrals/internal/config"
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
	// DayFirst reads the roster's dates written with slashes day first
	// (05/10/2026: 5 October), as the exports write theirs (config.DayFirst).
	DayFirst bool
}

// LoadReference replaces the ref_* tables with the current contents of the
// roster, directory and alias files. They are small and the user edits
// them, so they are reread and checked on every run; the tables are only
// rewritten when what they would hold changed (ref_state).
func LoadReference(ctx context.Context, db *sql.DB, files ReferenceFiles) error {
	_, err := LoadReferenceWarnings(ctx, db, files)
	return err
}

// refRules names the rules the roster and the directory are checked by
// (rosterNameClashes, rosterSharedNPIs, a directory name or an alias twice): part of the
// reference fingerprint, so that files loaded under other rules are checked again.
const refRules = "roster names: one person twice refused, else warned; one NPI for two warned; directory name and alias twice warned (2026-11-28)"

// LoadReferenceWarnings loads the reference files as LoadReference does and returns
// what they hold that the run does not use as written: a column whose header names
// no column of the file's kind (a misspelt header loads as blanks otherwise), a
// column without a header that holds values, a second header for one column, and
// roster spellings that name no clinician (rosterNameClashes). Each warning names
// the file.
func LoadReferenceWarnings(ctx context.Context, db *sql.DB, files ReferenceFiles) (warnings []string, err error) {
	if err := EnsureSchema(ctx, db); err != nil {
		return nil, err
	}
	roster, rosterLines, w, err := readRoster(files.Roster)
	if err != nil {
		return nil, err
	}
	warnings = append(warnings, w...)
	dir, dirLines, w, err := readDirectory(files.Directory)
	if err != nil {
		return nil, err
	}
	warnings = append(warnings, w...)
	aliases, aliasLines, w, err := readAliases(files.Aliases)
	if err != nil {
		return nil, err
	}
	warnings = append(warnings, w...)
	var rosterRows, dirRows, aliasRows, channelRows [][]any
	for i, r := range roster {
		line := rosterLines[i]
		if strings.TrimSpace(r.Name) == "" {
			return nil, fmt.Errorf("roster %s line %d: the name is blank; every clinician needs a name", files.Roster, line)
		}
		start, err := parseRefDate(r.StartDate, files.DayFirst)
		if err != nil {
			return nil, fmt.Errorf("roster %s line %d column start_date: %v", files.Roster, line, err)
		}
		end, err := parseRefDate(r.EndDate, files.DayFirst)
		if err != nil {
			return nil, fmt.Errorf("roster %s line %d column end_date: %v", files.Roster, line, err)
		}
		acc, err := parseYesNo(r.Accepting)
		if err != nil {
			return nil, fmt.Errorf("roster %s line %d column accepting: %v", files.Roster, line, err)
		}
		var accepting any // NULL when the roster leaves it blank
		if acc != nil {
			accepting = *acc
		}
		rosterRows = append(rosterRows, []any{strings.TrimSpace(r.Name), nullIfBlank(r.Aliases), nullIfBlank(r.NPI), start, end,
			nullIfBlank(r.Specialties), nullIfBlank(r.Payers), accepting})
	}
	// A referrer entered twice: the first row is taken, the others said (kept with
	// the roster's warnings). Loaded, both made the referrer two rows of its status
	// and failed a data check, stopping every run (exit 4).
	firstLine := map[string]int{}
	var refDups []string
	for i, r := range dir {
		line := dirLines[i]
		if strings.TrimSpace(r.Name) == "" {
			return nil, fmt.Errorf("directory %s line %d: the name is blank", files.Directory, line)
		}
		key := strings.ToLower(strings.TrimSpace(r.Name))
		if first, ok := firstLine[key]; ok {
			refDups = append(refDups, fmt.Sprintf("directory %s: lines %d and %d both name %q: line %d is used and line %d left out; keep one row per referrer (other spellings of its name go in its aliases column)",
				files.Directory, first, line, strings.TrimSpace(r.Name), first, line))
			continue
		}
		firstLine[key] = line
		ch, err := parseYesNo(r.Channel)
		if err != nil {
			return nil, fmt.Errorf("directory %s line %d column channel: %v", files.Directory, line, err)
		}
		dirRows = append(dirRows, []any{strings.TrimSpace(r.Name), nullIfBlank(r.Aliases), nullIfBlank(r.NPI), nullIfBlank(r.Category),
			nullIfBlank(r.Organisation), nullIfBlank(r.PointPerson), ch != nil && *ch})
	}
	// An alias given to two referrers: the first row is taken, the other said. Both
	// loaded, its referrals went to whichever name sorts first, without a word.
	type aliasAt struct {
		line     int
		referrer string
	}
	firstAlias := map[string]aliasAt{}
	for i, r := range aliases {
		if strings.TrimSpace(r.Alias) == "" || strings.TrimSpace(r.Referrer) == "" {
			return nil, fmt.Errorf("aliases %s line %d: both alias and referrer are needed", files.Aliases, aliasLines[i])
		}
		key := strings.ToLower(strings.TrimSpace(r.Alias))
		if first, ok := firstAlias[key]; ok {
			if !strings.EqualFold(first.referrer, strings.TrimSpace(r.Referrer)) {
				refDups = append(refDups, fmt.Sprintf("aliases %s: lines %d and %d give %q to two referrers, %q and %q: line %d is used and line %d left out; keep one row per alias",
					files.Aliases, first.line, aliasLines[i], strings.TrimSpace(r.Alias), first.referrer, strings.TrimSpace(r.Referrer), first.line, aliasLines[i]))
			}
			continue
		}
		firstAlias[key] = aliasAt{aliasLines[i], strings.TrimSpace(r.Referrer)}
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
	// The rules, and what the kept warnings quote besides the rows (the roster's
	// path and its rows' lines): a warning must not name a moved line or file.
	fmt.Fprintf(h, "%s\x00%s\x00%v\x00%s\x00%v\x00%s\x00%v\x00", refRules, files.Roster, rosterLines, files.Directory, dirLines, files.Aliases, aliasLines)
	// Each value by its length and bytes (a string as it is, anything else as its SQL
	// literal), so that no two tables' contents hash alike: formatting every value as
	// a literal took 25 ms of the 55 ms a night spends here at 10M exported rows.
	var buf []byte
	for _, t := range tables {
		fmt.Fprintf(h, "%s\x00", t.table)
		for _, r := range t.rows {
			buf = buf[:0]
			for _, v := range r {
				switch x := v.(type) {
				case nil:
					buf = append(buf, 'n')
				case string:
					buf = append(binary.AppendUvarint(append(buf, 's'), uint64(len(x))), x...)
				default:
					lit, err := sqlLiteral(v)
					if err != nil {
						return nil, fmt.Errorf("load %s: %w", t.table, err)
					}
					buf = append(binary.AppendUvarint(append(buf, 'l'), uint64(len(lit))), lit...)
				}
			}
			h.Write(append(buf, 0x1e))
		}
	}
	fingerprint := hex.EncodeToString(h.Sum(nil))
	var loaded sql.NullString
	if err := db.QueryRowContext(ctx, `SELECT max(fingerprint) FROM ref_state`).Scan(&loaded); err != nil {
		return nil, err
	}
	if loaded.Valid && loaded.String == fingerprint {
		// The same rows, checked by the same rules when they were loaded: their name
		// warnings are kept, and keying every name again cost 0.25 s a night at 10M.
		rows, err := db.QueryContext(ctx, `SELECT message FROM ref_warnings ORDER BY rowid`)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var m string
			if err := rows.Scan(&m); err != nil {
				return nil, err
			}
			warnings = append(warnings, m)
		}
		return warnings, rows.Err()
	}
	names, err := rosterNameClashes(ctx, db, files.Roster, roster, rosterLines)
	if err != nil {
		return nil, err
	}
	names = append(names, rosterSharedNPIs(files.Roster, roster, rosterLines)...)
	names = append(names, refDups...)
	warnings = append(warnings, names...)
	// The rows go in through DuckDB's appender, in the transaction that empties the
	// tables: literal INSERT statements cost DuckDB about 120 ms to parse per 2,000
	// rows (2.2 s for a network's 27,000 reference rows). None of these columns is a
	// DECIMAL, which the appender stores wrongly from float64.
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	for _, t := range []string{"ref_roster", "ref_directory", "ref_aliases", "ref_channels", "ref_state", "ref_warnings"} {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+t); err != nil {
			return nil, err
		}
	}
	for _, m := range names {
		if _, err := tx.ExecContext(ctx, `INSERT INTO ref_warnings VALUES (?)`, m); err != nil {
			return nil, err
		}
	}
	for _, t := range tables {
		if err := appendRows(conn, t.table, t.rows); err != nil {
			return nil, fmt.Errorf("load %s: %w", t.table, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO ref_state VALUES (?)`, fingerprint); err != nil {
		return nil, err
	}
	return warnings, tx.Commit()
}

// The three reference files, each with the columns it cannot do without.
func readRoster(path string) ([]RosterRow, []int, []string, error) {
	return readRefFile[RosterRow](path, "roster", "name")
}

func readDirectory(path string) ([]DirectoryRow, []int, []string, error) {
	return readRefFile[DirectoryRow](path, "directory", "name")
}

func readAliases(path string) ([]AliasRow, []int, []string, error) {
	return readRefFile[AliasRow](path, "aliases", "alias", "referrer")
}

// refColumn is a column of a reference file: the struct field it fills, the
// header it is written under (its csv tag) and every header it is read under
// (the csv tag and the aka tag's names), folded by config.NormaliseHeader as the
// exports' headers are.
type refColumn struct {
	field int
	name  string
	names []string
}

// refColumns lists the columns of a reference row type (package refcsv).
func refColumns(t reflect.Type) []refColumn {
	var cols []refColumn
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := f.Tag.Get("csv")
		if name == "" || name == "-" {
			continue
		}
		c := refColumn{field: i, name: name}
		for _, n := range append([]string{name}, strings.Split(f.Tag.Get("aka"), ",")...) {
			if n = config.NormaliseHeader(n); n != "" && !slices.Contains(c.names, n) {
				c.names = append(c.names, n)
			}
		}
		cols = append(cols, c)
	}
	return cols
}

// readRefFile reads a reference file (what: roster, directory or aliases) into
// rows of T, with each row's line in the file. Its headers are matched as the
// exports' are (case, spaces, punctuation and underscores ignored), against
// each column's name and other names (refColumns): "Start Date" is start_date,
// "Organization" is organisation. Of two headers for one column the column's own
// name wins, then its other names in their order; the other is ignored with a
// warning. A required column the file lacks, or a header that could be either
// of two columns, is an error
// naming the file; a column it does not use is a warning (nothing is dropped
// without a word). A missing optional file (empty path) gives no rows; a named
// file that is missing is an error.
func readRefFile[T any](path, what string, required ...string) (rows []T, lines []int, warnings []string, err error) {
	if path == "" {
		return nil, nil, nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil, nil, fmt.Errorf("%s file %s does not exist; create it or set [reference] %s = \"\" in the configuration", what, path, what)
		}
		return nil, nil, nil, fmt.Errorf("read %s file %s: %w", what, path, err)
	}
	b = bytes.TrimPrefix(b, bomUTF8)
	if !utf8.Valid(b) {
		if d, err := charmap.Windows1252.NewDecoder().Bytes(b); err == nil {
			b = d
		}
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, nil, nil, nil
	}
	first := strings.SplitN(string(b), "\n", 2)[0]
	// The reference files are read with commas only: a sheet saved with another
	// separator would read as one column, and its message would mislead.
	if !strings.Contains(first, ",") {
		for _, sep := range []struct{ c, name string }{{";", "semicolons"}, {"\t", "tabs"}} {
			if strings.Contains(first, sep.c) {
				return nil, nil, nil, fmt.Errorf("%s file %s separates its values with %s (as spreadsheets save CSV in some countries); save it as \"CSV (comma delimited)\", or replace them with commas", what, path, sep.name)
			}
		}
	}
	r := csv.NewReader(bytes.NewReader(b))
	header, err := r.Read()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s file %s: %v", what, path, err)
	}
	cols := refColumns(reflect.TypeFor[T]())
	byName := map[string][]int{} // folded header -> the columns it names
	for ci, c := range cols {
		for _, n := range c.names {
			byName[n] = append(byName[n], ci)
		}
	}
	at := make([]int, len(cols)) // each column's index in the file, -1 when it has none
	for ci := range at {
		at[ci] = -1
	}
	var problems []string
	var ignored, unnamed []int
	rank := make([]int, len(cols)) // the chosen header's place among the column's names
	var also [][2]int              // a header that names a column read from another one: header, column
	for i, h := range header {
		n := config.NormaliseHeader(h)
		if n == "" {
			unnamed = append(unnamed, i)
			continue
		}
		switch cs := byName[n]; len(cs) {
		case 0:
			ignored = append(ignored, i)
		case 1:
			// Two headers for one column: its own name wins, then the other
			// names in their order, then the first in the file; the other is
			// ignored with a word ("Type" beside "category", "NPI" beside
			// "Provider NPI"), as a column referrals does not read would be.
			ci := cs[0]
			r := slices.Index(cols[ci].names, n)
			if j := at[ci]; j >= 0 {
				if r < rank[ci] {
					also = append(also, [2]int{j, ci})
					at[ci], rank[ci] = i, r
				} else {
					also = append(also, [2]int{i, ci})
				}
				continue
			}
			at[ci], rank[ci] = i, r
		default:
			var names []string
			for _, ci := range cs {
				names = append(names, cols[ci].name)
			}
			problems = append(problems, fmt.Sprintf("the header %q could be the %s column; rename it to the one it is", h, strings.Join(names, " or the ")))
		}
	}
	for _, a := range also {
		warnings = append(warnings, fmt.Sprintf("%s file %s: the column %q is another name for the %s column, which is read from the column %q: it is ignored (rename one of them if that is the wrong one)",
			what, path, strings.TrimSpace(header[a[0]]), cols[a[1]].name, strings.TrimSpace(header[at[a[1]]])))
	}
	var missing []string
	trimmed := make([]string, len(header))
	matched := map[string]int{} // the columns the header names, as looksLikeData takes them
	for i, h := range header {
		trimmed[i] = strings.TrimSpace(h)
	}
	for ci, c := range cols {
		if at[ci] >= 0 {
			matched[c.name] = at[ci]
		}
	}
	// A header cell that reads as a value is not repeated (quotedHeaders), and a
	// first line that reads as a data row not at all: a file named here by
	// mistake (an export, a client list) puts a patient's values in its first line.
	found := strings.Join(quotedHeaders(trimmed), ", ")
	dataRow := looksLikeData(trimmed, matched)
	for _, req := range required {
		for ci, c := range cols {
			if c.name != req || at[ci] >= 0 {
				continue
			}
			if dataRow {
				problems = append(problems, fmt.Sprintf("no %s column: the first line looks like a data row, not a header (its values are not shown: they may be patient data); add the header line, with a %q column, as the file's first line, or check that [reference] %s names the right file", c.name, c.name, what))
			} else {
				problems = append(problems, fmt.Sprintf("no %s column: add a header %q to the first line (the headers found: %s)", c.name, c.name, found))
			}
		}
	}
	if len(problems) > 0 {
		return nil, nil, nil, fmt.Errorf("%s file %s: %s", what, path, strings.Join(problems, "; "))
	}
	var all []string
	for ci, c := range cols {
		all = append(all, c.name)
		if at[ci] < 0 {
			missing = append(missing, c.name)
		}
	}
	for _, i := range ignored {
		w := fmt.Sprintf("%s file %s: the column %s is not one referrals reads, so it is ignored (a %s file's columns: %s)", what, path, quotedHeaders(trimmed[i : i+1])[0], what, strings.Join(all, ", "))
		switch len(missing) {
		case 0:
		case 1:
			w += fmt.Sprintf("; the file has no %s column: if this is it, rename its header", missing[0])
		default:
			w += fmt.Sprintf("; the file has no %s or %s column: if this is one of them, rename its header", strings.Join(missing[:len(missing)-1], ", "), missing[len(missing)-1])
		}
		warnings = append(warnings, w)
	}
	filled := map[int]bool{} // the columns without a header that hold a value
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, nil, fmt.Errorf("%s file %s: %v", what, path, err)
		}
		var row T
		v := reflect.ValueOf(&row).Elem()
		for ci, c := range cols {
			if at[ci] >= 0 {
				v.Field(c.field).SetString(rec[at[ci]])
			}
		}
		for _, i := range unnamed {
			if strings.TrimSpace(rec[i]) != "" {
				filled[i] = true
			}
		}
		line, _ := r.FieldPos(0)
		rows = append(rows, row)
		lines = append(lines, line)
	}
	for _, i := range unnamed {
		if filled[i] {
			warnings = append(warnings, fmt.Sprintf("%s file %s: column %d has no header, so its values are ignored; give it the header of the column it is, or delete it", what, path, i+1))
		}
	}
	return rows, lines, warnings, nil
}

// rosterNameClashes refuses a roster where two rows' names are one person twice
// (they differ in no more than case, accents, spaces and punctuation), and warns
// where two rows' other spellings (names that differ in titles or credentials,
// such as Jr and Sr, which may be two people; an alias two clinicians share, or
// that is another's name) fold to one name key: the key the exports' clinician names and the referrals'
// requests are matched by (name_key in queries/macros.sql: case, accents,
// punctuation, titles and credentials folded, "Last, First" reordered). Such a
// key names neither clinician (stg_clinician_names), so a referral asking for
// either would count as addressed to the practice, and its clients as no one's on
// the roster. Two rows that name one clinician are the usual cause; an alias given
// to two clinicians, or one clinician's alias that is another's name, the others.
func rosterNameClashes(ctx context.Context, db *sql.DB, path string, roster []RosterRow, lines []int) (warnings []string, err error) {
	type spelling struct {
		row   int
		alias bool
		text  string
	}
	var sp []spelling
	for i, r := range roster {
		sp = append(sp, spelling{row: i, text: strings.TrimSpace(r.Name)})
		for _, a := range strings.Split(r.Aliases, ";") {
			if a = strings.TrimSpace(a); a != "" {
				sp = append(sp, spelling{row: i, alias: true, text: a})
			}
		}
	}
	if len(sp) == 0 {
		return nil, nil
	}
	// The keys come from the macro itself, so this check and the models cannot
	// disagree on what one name is.
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, queries.MacrosSQL); err != nil {
		return nil, fmt.Errorf("roster %s: key the names: %w", path, err)
	}
	// The spellings go in as one text, split in SQL: a VALUES list of a bound pair per
	// spelling took DuckDB 0.13 s to bind for the 11,000 of a network's roster. A
	// spelling holds no control character (a CSV field may, in quotes: it is kept
	// out). letters: the name without case, accents, spaces or punctuation.
	texts := make([]string, len(sp))
	for i, x := range sp {
		texts[i] = strings.Map(func(r rune) rune {
			if r < ' ' {
				return ' '
			}
			return r
		}, x.text)
	}
	rows, err := conn.QueryContext(ctx, `SELECT i - 1, name_key(s), regexp_replace(lower(strip_accents(s)), '[^a-z0-9]', '', 'g')
		FROM (SELECT generate_subscripts(l, 1) AS i, unnest(l) AS s FROM (SELECT string_split(?, chr(31)) AS l))
		ORDER BY i`, strings.Join(texts, "\x1f"))
	if err != nil {
		return nil, fmt.Errorf("roster %s: key the names: %w", path, err)
	}
	keys := make([]sql.NullString, len(sp))
	letters := make([]string, len(sp))
	for rows.Next() {
		var i int
		var k sql.NullString
		var l string
		if err := rows.Scan(&i, &k, &l); err != nil {
			rows.Close()
			return nil, err
		}
		keys[i], letters[i] = k, l
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	describe := func(s spelling) string {
		if s.alias {
			return fmt.Sprintf("%q (an alias of %s on line %d)", s.text, strings.TrimSpace(roster[s.row].Name), lines[s.row])
		}
		return fmt.Sprintf("%q on line %d", s.text, lines[s.row])
	}
	owner := map[string]int{}     // name key -> its first spelling
	reported := map[[2]int]bool{} // the pairs of rows already named
	var problems []string
	for i, s := range sp {
		if !keys[i].Valid {
			continue
		}
		j, ok := owner[keys[i].String]
		if !ok {
			owner[keys[i].String] = i
			continue
		}
		o := sp[j]
		if o.row == s.row || reported[[2]int{o.row, s.row}] {
			continue
		}
		reported[[2]int{o.row, s.row}] = true
		switch {
		case !o.alias && !s.alias && o.text == s.text:
			problems = append(problems, fmt.Sprintf("lines %d and %d both name %q: keep one row per clinician (other spellings of a name go in its aliases column)",
				lines[o.row], lines[s.row], s.text))
		case !o.alias && !s.alias && letters[i] == letters[j]:
			problems = append(problems, fmt.Sprintf("lines %d and %d name one clinician: %q and %q differ only in case, accents, spaces or punctuation; keep one row per clinician (other spellings of a name go in its aliases column)",
				lines[o.row], lines[s.row], o.text, s.text))
		case !o.alias && !s.alias:
			// Names that differ in more (credentials, titles, Jr and Sr: "John
			// Smith, Jr." and "John Smith, Sr.") may be two people: no row can
			// be dropped then, and refusing the roster would stop every run.
			warnings = append(warnings, fmt.Sprintf("roster %s: lines %d and %d, %q and %q, are one name to referrals, which ignores case, accents, punctuation, titles and credentials: if they are one clinician, keep one row (other spellings of a name go in its aliases column); if they are two, a referral or appointment under that name matches neither, and counts as addressed to the practice",
				path, lines[o.row], lines[s.row], o.text, s.text))
		default:
			// An alias two clinicians share (Pat, for Patricia and Patrick Gomez), or that
			// is another's name: a mistake in the roster, or a nickname two people have.
			// It names neither, as before; refusing the roster would stop every run.
			warnings = append(warnings, fmt.Sprintf("roster %s: %s and %s are one name to referrals, which ignores case, accents, punctuation, titles and credentials, so a referral or appointment under that name matches neither clinician; give that spelling to one clinician only (or keep one row, if lines %d and %d are one clinician)",
				path, describe(o), describe(s), lines[o.row], lines[s.row]))
		}
	}
	if len(problems) > 0 {
		return warnings, fmt.Errorf("roster %s: %s", path, strings.Join(problems, "; "))
	}
	return warnings, nil
}

// rosterSharedNPIs warns of roster rows of different clinicians with one NPI
// (its ten digits, as clean_npi reads it): a typo in one row, most likely.
// stg_clinician_spellings then matches that NPI's claim lines by the provider's
// name; refusing the roster would stop every run.
func rosterSharedNPIs(path string, roster []RosterRow, lines []int) []string {
	first := map[string]int{}
	var out []string
	for i, r := range roster {
		npi := strings.Map(func(c rune) rune {
			if c >= '0' && c <= '9' {
				return c
			}
			return -1
		}, r.NPI)
		if len(npi) != 10 {
			continue
		}
		j, ok := first[npi]
		if !ok {
			first[npi] = i
			continue
		}
		out = append(out, fmt.Sprintf("roster %s: lines %d and %d, %q and %q, have the same NPI %s: claim lines with it are matched by the provider's name instead, and a claim whose name matches neither counts for no roster clinician; correct the NPI of the one it is not",
			path, lines[j], lines[i], strings.TrimSpace(roster[j].Name), strings.TrimSpace(r.Name), npi))
	}
	return out
}

func nullIfBlank(s string) any {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	return s
}

// parseRefDate reads a roster date: YYYY-MM-DD, or with slashes in the order the
// exports write theirs (dayFirst: 05/10/2026 is 5 October; else 10 May). Read
// month first whatever the exports, a day-first practice's dates loaded a month
// or more off where the day was 12 or less, and were refused where it was more.
func parseRefDate(s string, dayFirst bool) (any, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	layouts := []string{"2006-01-02", "01/02/2006", "1/2/2006"}
	if dayFirst {
		layouts = []string{"2006-01-02", "02/01/2006", "2/1/2006"}
	}
	for _, layout := range layouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	order := "MM/DD/YYYY, as the exports' date_format writes the month first"
	if dayFirst {
		order = "DD/MM/YYYY, as the exports' date_format writes the day first"
	}
	return nil, fmt.Errorf("%q is not a date; write it as YYYY-MM-DD (or %s)", s, order)
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
