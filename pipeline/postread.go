package pipeline

// The checks of a group's rows after the read that look at a file as a whole:
// dates in another order than date_format, two-digit years, rows of empty
// fields (loadGroup calls them).

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/referrals/referrals/internal/config"
)

// A file whose dates are written in another order than date_format says
// loads wrong without a word where day and month could be either (01/09/2026
// is 9 January as %m/%d/%Y, 1 September as %d/%m/%Y): only its dates with a
// day above 12 fail. And a format with %Y reads the two-digit years of
// "10/1/26" as the year 26. Either way the rows that did load are wrong too,
// so a file where such dates are many (at least minWrongDates, and a
// twentieth of its rows) is not loaded at all, with a message that names the
// format to set; a few such dates are rejected rows like any other.
const minWrongDates = 3

// swappedDateFormat is format with month and day exchanged (%m and %d, or
// their unpadded %-m and %-d), or "" when it lacks either.
func swappedDateFormat(format string) string {
	if !strings.Contains(format, "%m") && !strings.Contains(format, "%-m") || !strings.Contains(format, "%d") && !strings.Contains(format, "%-d") {
		return ""
	}
	return strings.NewReplacer("%m", "%d", "%d", "%m", "%-m", "%-d", "%-d", "%-m").Replace(format)
}

// twoDigitYearFormat is format reading two-digit years (%y for %Y).
func twoDigitYearFormat(format string) string {
	return strings.ReplaceAll(format, "%Y", "%y")
}

// castValue is the SQL expression of the value a reader's CAST reject quotes
// in its message (msg): Could not convert string "13/09/2026" to 'DATE'.
func castValue(msg string) string {
	return fmt.Sprintf(`regexp_extract(%s, 'Could not convert string "(.*)" to', 1)`, msg)
}

// readsSwapped is a SQL test that the value a CAST reject's message (msg)
// quotes reads as a date in the swapped format.
func readsSwapped(msg, swapped string) string {
	if swapped == "" {
		return "false"
	}
	return fmt.Sprintf("try_strptime(%s, %s) IS NOT NULL", castValue(msg), QuoteString(swapped))
}

// wrongDates counts a file's rows as wrong dates of one kind: many enough to
// refuse the file.
func wrongDates(n, rows int64) bool {
	return n >= minWrongDates && n*20 >= rows
}

// dayFirst says a file is written day first where date_format says month
// first: of its rows, swappedOnly dates read only the other way round, many
// enough (wrongDates), and next to none (onlyFormat) read only as date_format
// (a day above 12), which a month-first file with typos has many of. The run
// (dayFirstCheck) and check decide by it.
func dayFirst(swappedOnly, onlyFormat, rows int64) bool {
	return wrongDates(swappedOnly, rows) && onlyFormat*20 < swappedOnly
}

// fileRows is how many rows of the group's file fileID the read gave: those
// loaded into table and those the reader rejected (tmp_rejects, by the file's
// index in the group).
func fileRows(ctx context.Context, tx *sql.Tx, table string, fileID int64, index int, rejects bool) (int64, error) {
	q := fmt.Sprintf(`SELECT (SELECT count(*) FROM %s WHERE file_id = ?)`, table)
	args := []any{fileID}
	if rejects {
		q += ` + (SELECT count(DISTINCT line) FROM tmp_rejects WHERE file_id = ?)`
		args = append(args, index)
	}
	var n int64
	err := tx.QueryRowContext(ctx, q, args...).Scan(&n)
	return n, err
}

// rejectedDate is one file of the group with dates the reader rejected: its index
// in the group, how many such rows and one of their values, and how many rows the
// read gave for it (fileRows).
type rejectedDate struct {
	item     int
	n, total int64
	example  string
}

// rejectedDates finds, per file of the group, the rows whose date (col, the
// reader's name for the date column) the reader rejected as not date_format and
// whose value v passes cond (with args), with the file's rows for the share. Only
// files with minWrongDates such rows or more: both checks need as many.
func rejectedDates(ctx context.Context, tx *sql.Tx, items []*prepared, table, col, cond string, args ...any) ([]rejectedDate, error) {
	rows, err := tx.QueryContext(ctx, fmt.Sprintf(`SELECT file_id, count(DISTINCT line), min(v) FROM (
			SELECT file_id, line, %s AS v FROM tmp_rejects WHERE error_type = 'CAST' AND column_name = ?)
		WHERE %s GROUP BY file_id HAVING count(DISTINCT line) >= %d ORDER BY file_id`, castValue("error_message"), cond, minWrongDates),
		append([]any{col}, args...)...)
	if err != nil {
		return nil, err
	}
	all, err := readDateFindings(rows)
	if err != nil {
		return nil, err
	}
	var found []rejectedDate
	for _, f := range all {
		if f.key < 0 || f.key >= int64(len(items)) {
			continue
		}
		i := int(f.key)
		total, err := fileRows(ctx, tx, table, items[i].fileID, i, true)
		if err != nil {
			return nil, err
		}
		found = append(found, rejectedDate{item: i, n: f.n, total: total, example: f.example})
	}
	return found, nil
}

// dayFirstCheck refuses the group's files whose dates fail date_format but
// read with day and month the other way round, where they are many (see
// wrongDates) and the file has next to no date that reads only as
// date_format (a day above 12, loaded: a month-first file with typos has
// many): their other dates, with a day up to 12, loaded swapped. col is the
// reader's name for the date column (c1, c2…), dateCol the table's.
func dayFirstCheck(ctx context.Context, tx *sql.Tx, items []*prepared, table, dateCol, block, format, col string, years yearRange) error {
	swapped := swappedDateFormat(format)
	if swapped == "" {
		return nil
	}
	found, err := rejectedDates(ctx, tx, items, table, col, "try_strptime(v, ?) IS NOT NULL", swapped)
	if err != nil {
		return fmt.Errorf("check the order of day and month: %w", err)
	}
	for _, f := range found {
		i := f.item
		var onlyFormat int64
		if err := tx.QueryRowContext(ctx, fmt.Sprintf(`SELECT count(*) FROM %s WHERE file_id = ? AND day(%s) > 12`, table, dateCol),
			items[i].fileID).Scan(&onlyFormat); err != nil {
			return err
		}
		if dayFirst(f.n, onlyFormat, f.total) {
			return fmt.Errorf("%d of the file's %d rows have dates such as %s that do not read as date_format %q but do as %q, with day and month the other way round: "+
				"the export writes them so, and its other dates, with a day up to 12, would load swapped; nothing of this file was loaded. "+
				"Set %s date_format = %q (and run --rebuild if files loaded before were read with the old format)",
				f.n, f.total, shownDate(f.example, years), format, swapped, block, swapped)
		}
	}
	return nil
}

// otherFormatCheck refuses the group's files most of whose dates fail date_format
// (more than half of their rows, and at least minWrongDates), as check does: the
// export writes its dates another way (2026-06-15, or the "6/15/2026 11:30" a
// spreadsheet saves over the system's export), and loading the few that read
// would leave the file's rows out without failing the run. col is the reader's
// name for the date column (c1, c2…). Run after dayFirstCheck, which says more
// of a file whose dates read with day and month the other way round.
func otherFormatCheck(ctx context.Context, tx *sql.Tx, items []*prepared, table, block, format, col string, years yearRange) error {
	found, err := rejectedDates(ctx, tx, items, table, col, "v <> ''")
	if err != nil {
		return fmt.Errorf("check the date format: %w", err)
	}
	for _, f := range found {
		if f.n*2 > f.total {
			return fmt.Errorf("%d of the file's %d rows have dates such as %s that do not read as date_format %q; nothing of this file was loaded. "+
				"If the export writes its dates so, set %s date_format to the export's format (%s), and run --rebuild if files loaded before were read with the old one; "+
				"if the file was opened and saved in a spreadsheet, which rewrites dates its own way, export it again from the system instead",
				f.n, f.total, shownDate(f.example, years), format, block, suggestFormat(f.example))
		}
	}
	return nil
}

// dateFinding is one file's wrong dates: the file (its index in the group, or its
// id), how many, and one of them.
type dateFinding struct {
	key, n  int64
	example string
}

// readDateFindings reads every row of rows (file, count, example) and closes them.
func readDateFindings(rows *sql.Rows) ([]dateFinding, error) {
	defer rows.Close()
	var all []dateFinding
	for rows.Next() {
		var f dateFinding
		if err := rows.Scan(&f.key, &f.n, &f.example); err != nil {
			return nil, err
		}
		all = append(all, f)
	}
	return all, rows.Err()
}

// twoDigitYearCheck refuses the group's files with many dates of a year
// below 100 (see wrongDates): a two-digit year read by %Y. One pass over the
// group's rows finds the files that have any.
func twoDigitYearCheck(ctx context.Context, tx *sql.Tx, items []*prepared, table, dateCol, block, format string) error {
	index := map[int64]int{}
	ids := make([]string, len(items))
	for i, it := range items {
		index[it.fileID] = i
		ids[i] = fmt.Sprint(it.fileID)
	}
	rows, err := tx.QueryContext(ctx, fmt.Sprintf(`SELECT file_id, count(*), min(year(%[2]s))::VARCHAR FROM %[1]s
		WHERE file_id IN (%[3]s) AND year(%[2]s) < 100 GROUP BY file_id HAVING count(*) >= %[4]d ORDER BY file_id`,
		table, dateCol, strings.Join(ids, ", "), minWrongDates))
	if err != nil {
		return fmt.Errorf("check for two-digit years: %w", err)
	}
	all, err := readDateFindings(rows)
	if err != nil {
		return err
	}
	for _, f := range all {
		total, err := fileRows(ctx, tx, table, f.key, index[f.key], false)
		if err != nil {
			return err
		}
		if wrongDates(f.n, total) {
			return fmt.Errorf("%d of the file's %d rows have dates with a two-digit year, which date_format %q reads as written (such as the year %s); nothing of this file was loaded. "+
				"Set %s date_format = %q, which reads two-digit years",
				f.n, total, format, f.example, block, twoDigitYearFormat(format))
		}
	}
	return nil
}

// emptyRowExpr is a SQL test that a row of table came from a line of
// delimiters alone: every column the read fills is NULL (not file_id, nor the
// flag a file's header sets), in a file where the scan counted as many lines
// of delimiters alone as the table holds such rows, or could not count them.
// Elsewhere such a row may have had values in columns the table does not
// keep, and stays a rejected row.
func emptyRowExpr(ctx context.Context, tx *sql.Tx, table string, items []*prepared) (string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT column_name FROM duckdb_columns()
		WHERE schema_name = 'main' AND table_name = ? AND column_name NOT IN ('file_id', 'has_referred_to') ORDER BY column_index`, table)
	if err != nil {
		return "", err
	}
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			rows.Close()
			return "", err
		}
		cols = append(cols, QuoteIdent(c)+" IS NULL")
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return "", err
	}
	if len(cols) == 0 {
		return "false", nil
	}
	allNull := "(" + strings.Join(cols, " AND ") + ")"
	var files []string
	for _, it := range items {
		// Where the scan could not count (UTF-16, a delimiter outside ASCII), every
		// all-empty row is taken for one, as before the count was kept.
		if it.blankRows < 0 {
			files = append(files, fmt.Sprint(it.fileID))
			continue
		}
		if it.blankRows == 0 {
			continue
		}
		var n int64
		if err := tx.QueryRowContext(ctx, fmt.Sprintf(`SELECT count(*) FROM %s WHERE file_id = ? AND %s`, table, allNull), it.fileID).Scan(&n); err != nil {
			return "", err
		}
		if n == it.blankRows {
			files = append(files, fmt.Sprint(it.fileID))
		}
	}
	if len(files) == 0 {
		return "false", nil
	}
	return fmt.Sprintf("(file_id IN (%s) AND %s)", strings.Join(files, ", "), allNull), nil
}

// Values a message may quote. A reject's value is a cell of the patient's row,
// and a shifted or mistyped row puts a client id, a name, a phone or social
// security number into any column. So a value is shown only where it reads as
// what the column holds and could not be one of those: in a date column a date
// (month, day, year in 1-2 or 4 digits: 02/30/2026, 2026-13-01, with a time of
// day or not) or a time; in an amount column an amount with two decimals or
// thousands groups (1,234.50, (25.00), $1,234.50; parted by spaces, with two
// decimals: 1 234,50, where groups alone, 123 456 789, may be a social insurance
// number), or a currency sign and at most five digits ($90); anywhere, nothing, or a placeholder exports and
// spreadsheets write for no value (n/a, none, TBD, a dash, #VALUE!…). Never a bare
// number, which may be an id.
const (
	placeholderPattern = `(?i:n/?a|none|null|nil|tbd|unknown|pending|void|x|-+|#n/a|#value!|#ref!|#div/0!|#name\?|#num!)`
	timePattern        = `\d{1,2}:\d{2}(:\d{2})?( *[AaPp][Mm])?`
	datePattern        = `(\d{1,2}|\d{4})[/.-]\d{1,2}[/.-](\d{2}|\d{4})( +` + timePattern + `)?|` + timePattern
	amountPattern      = `[$€£¥]? *\(? *[-+]? *[$€£¥]? *[-+]? *(\d{1,3}([,.]\d{3})+([.,]\d{1,2})?|\d{1,3}(` + groupSpacePattern + `\d{3})+[.,]\d{2}|\d+[.,]\d{2}) *[$€£¥]? *\)?|[-+]? *[$€£¥] *\d{1,5}`
	// groupSpacePattern is a space between thousands: plain, no-break or narrow.
	groupSpacePattern  = `[ \x{00A0}\x{202F}]`
	shownDatePattern   = ` *(` + datePattern + `|` + placeholderPattern + `)? *`
	shownAmountPattern = ` *(` + amountPattern + `|` + placeholderPattern + `)? *`
	numberPattern      = `[ 0-9.,:;/()+#*$€£¥-]*`
	hiddenNumber       = "a number (not shown: it may be a client id or another patient's number)"
	hiddenWithLetters  = "a value with letters or signs a date or an amount does not have (not shown: it may be a name or an id)"
	hiddenLines        = "a value that runs over more than one line (not shown: it may be patient data)"
)

// spacedAmountPattern is an amount whose thousands are parted by spaces (1 234,50,
// -1 234 €), with a sign, a currency sign or parentheses or not: the value a
// reject tells to write without them (not a phone number, 555 123 4567, nor text).
const spacedAmountPattern = ` *\(? *[-+]? *[$€£¥]? *[-+]? *\d{1,3}(` + groupSpacePattern + `\d{3})+([.,]\d+)?` + groupSpacePattern + `*[$€£¥]? *\)? *`

var (
	shownDateRE   = regexp.MustCompile(`^(?:` + shownDatePattern + `)$`)
	shownAmountRE = regexp.MustCompile(`^(?:` + shownAmountPattern + `)$`)
	numberRE      = regexp.MustCompile(`^(?:` + numberPattern + `)$`)
)

// shownDate is v, a date column's value, quoted when a message may show it,
// or what kind of value it is. A date whose year lies outside years (min_year
// to max_years_ahead) is given by its year alone, as an out-of-range date that
// loads is: it may be a birth date, the patient's.
func shownDate(v string, years yearRange) string {
	if shownDateRE.MatchString(v) {
		if y, ok := dateYear(v, years); ok && (y < years.min || y > years.max) {
			return dateInYear(y)
		}
	}
	return shown(v, shownDateRE)
}

// yearRange is the years a date may have: [ingest] min_year to max_years_ahead
// years after this one.
type yearRange struct{ min, max int }

// yearsOf is the range the settings give.
func yearsOf(c config.IngestOpts) yearRange {
	return yearRange{c.MinYear, time.Now().Year() + c.MaxYearsAhead}
}

// dateInYear is how a message gives a date by its year alone; hideCastValue
// writes the same in SQL from yearShown.
func dateInYear(y int) string { return fmt.Sprintf("a date in %d%s", y, yearShown) }

const yearShown = " (only its year shown: a date so far out of range may be a birth date)"

var (
	fourDigitYearRE = regexp.MustCompile(`(?:^|[^0-9])([0-9]{4})(?:[^0-9]|$)`)
	twoDigitYearRE  = regexp.MustCompile(`^ *[0-9]{1,2}[/.-][0-9]{1,2}[/.-]([0-9]{2})(?:[^0-9]|$)`)
)

// dateYear is the year v, a date as written, is of: its four-digit year, else a
// two-digit one at the end, taken in the century that puts it at or before
// years.max. ok is false for a time alone.
func dateYear(v string, years yearRange) (int, bool) {
	if m := fourDigitYearRE.FindStringSubmatch(v); m != nil {
		y, err := strconv.Atoi(m[1])
		return y, err == nil
	}
	if m := twoDigitYearRE.FindStringSubmatch(v); m != nil {
		yy, err := strconv.Atoi(m[1])
		if err != nil {
			return 0, false
		}
		y := years.max/100*100 + yy
		if y > years.max {
			y -= 100
		}
		return y, true
	}
	return 0, false
}

// shownAmount is v, an amount column's value, quoted when a message may show
// it, or what kind of value it is.
func shownAmount(v string) string { return shown(v, shownAmountRE) }

func shown(v string, ok *regexp.Regexp) string {
	switch {
	case ok.MatchString(v):
		return strconv.Quote(v)
	case numberRE.MatchString(v):
		return hiddenNumber
	}
	return hiddenWithLetters
}

// hideCastValue is the SQL expression of a CAST reject's message (msg) with its
// quoted value replaced as shownDate and shownAmount do, by the type the value
// failed to convert to. A value with a line break is cut there in DuckDB's
// message, which then has no closing quote: hidden whole.
func hideCastValue(msg string, years yearRange) string {
	v := castValue(msg)
	// A date's year as dateYear reads it: four digits, else two at the end, in the
	// century that puts it at or before the last year a date may have.
	yy := fmt.Sprintf(`try_cast(nullif(regexp_extract(%s, '^ *[0-9]{1,2}[/.-][0-9]{1,2}[/.-]([0-9]{2})([^0-9]|$)', 1), '') AS INTEGER)`, v)
	year := fmt.Sprintf(`coalesce(try_cast(nullif(regexp_extract(%[1]s, '(^|[^0-9])([0-9]{4})([^0-9]|$)', 2), '') AS INTEGER),
		%[2]d + %[3]s - CASE WHEN %[2]d + %[3]s > %[4]d THEN 100 ELSE 0 END)`, v, years.max/100*100, yy, years.max)
	return fmt.Sprintf(`CASE
		WHEN NOT contains(%[1]s, 'Could not convert string "') THEN %[1]s
		WHEN NOT regexp_matches(%[1]s, 'Could not convert string "(.*)" to') THEN regexp_replace(%[1]s, 'string ".*$', %[8]s)
		WHEN regexp_matches(%[1]s, '" to ''(DATE|TIMESTAMP|TIME)') AND regexp_full_match(%[2]s, %[3]s)
			AND (%[9]s IS NULL OR %[9]s BETWEEN %[10]d AND %[11]d) THEN %[1]s
		WHEN regexp_matches(%[1]s, '" to ''(DATE|TIMESTAMP|TIME)') AND regexp_full_match(%[2]s, %[3]s)
			THEN replace(%[1]s, 'string "' || %[2]s || '"', 'a date in ' || %[9]s || %[12]s)
		WHEN regexp_matches(%[1]s, '" to ''DECIMAL') AND regexp_full_match(%[2]s, %[4]s) THEN %[1]s
		WHEN regexp_full_match(%[2]s, %[5]s) THEN replace(%[1]s, 'string "' || %[2]s || '"', %[6]s)
		ELSE replace(%[1]s, 'string "' || %[2]s || '"', %[7]s) END`,
		msg, v, QuoteString(shownDatePattern), QuoteString(shownAmountPattern), QuoteString(numberPattern),
		QuoteString(hiddenNumber), QuoteString(hiddenWithLetters), QuoteString(hiddenLines), year, years.min, years.max, QuoteString(yearShown))
}
