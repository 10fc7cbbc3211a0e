package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/referrals/referrals/internal/config"
)

// FileCheck is what `referrals check` found for one export file.
type FileCheck struct {
	Source    string
	Path      string
	Encoding  string
	Delimiter rune
	Headers   []string
	Mapping   map[string]string // field -> header
	Ignored   []string          // headers no field uses
	Rows      int               // rows read to try the date format (up to dateRows)
	Amounts   string            // how amounts are written, where not 1250.00 (FileResult.Amounts)
	// TitleLines: the lines above the header (a report's title), which are not read.
	TitleLines int
	Problems   []string // each says what to change
	// Warnings: what loads, but not whole or not as written (rows skipped,
	// characters read otherwise); each says what to change.
	Warnings []string
	// UnknownStatuses: the status spellings of the rows read (scheduling) that
	// no class takes, with their rows: check says them once for the source.
	UnknownStatuses map[string]int
	// columnsOf is the block whose column mapping reads the file
	// (config.Source.ColumnsBlock).
	columnsOf int
	// Block tells apart the files read with one block's settings (the source's,
	// or a [[….layout]]'s: another system's files), which are compared with each
	// other alone; Columns names the block's column mapping.
	Block, Columns string
}

// OK reports a file with no problem.
func (f FileCheck) OK() bool { return len(f.Problems) == 0 }

// dateRows is how many data rows check reads to try the date format: a
// month's export of a large practice, and enough rows of a larger one to tell
// a file written day first (most days above 12 fail then).
const dateRows = 200_000

// maxDateValues caps the distinct date values check keeps (times of day make
// many).
const maxDateValues = 20_000

// openCheckDB is the in-memory database check reads files with (checkFile):
// the models' macros and the configuration's status words, so that statuses
// are classified as the run classifies them.
func openCheckDB(ctx context.Context, statuses config.Statuses) (*sql.DB, error) {
	mem, err := Open(ctx, ":memory:", Settings{Threads: 1})
	if err != nil {
		return nil, err
	}
	if err := Prepare(ctx, mem, Vars{"status_words": statuses.Words()}); err != nil {
		mem.Close()
		return nil, err
	}
	return mem, nil
}

// CheckExports inspects every export file the configuration matches, as
// the loader would read it, without loading anything: encoding, delimiter,
// headers and their mapping, and the date format on the first rows.
func CheckExports(ctx context.Context, cfg config.Config) ([]FileCheck, error) {
	mem, err := openCheckDB(ctx, cfg.Scheduling.Statuses)
	if err != nil {
		return nil, err
	}
	defer mem.Close()
	in := &Ingester{Config: cfg}
	var out []FileCheck
	for _, source := range Sources {
		src := in.source(source)
		files, problems := in.expand(source, src.AllFiles())
		for _, p := range problems {
			out = append(out, FileCheck{Source: source, Path: p.Path, Problems: []string{p.Problem}})
		}
		for _, f := range files {
			if err := ctx.Err(); err != nil {
				return out, err
			}
			fc := checkFile(ctx, mem, source, in.settingsOf(f), f.path, in.displayPath(f.path), yearsOf(cfg.Ingest))
			fc.columnsOf = src.ColumnsBlock(f.layout)
			fc.Block, fc.Columns = in.settingsOf(f).Block(source), in.settingsOf(f).ColumnsName(source)
			out = append(out, fc)
		}
		if len(files) > 0 {
			for _, l := range src.Settings(source) {
				if l.Index >= 0 && src.Layouts[l.Index].Columns == nil {
					continue // the source's mapping, compared with its files and these
				}
				out = append(out, unmatchedMappings(source, src.ColumnsBlock(l.Index), l.Source.Columns, cfg.File, out)...)
			}
		}
	}
	return out, nil
}

// unmatchedMappings are the problems of the configuration's column mappings
// for source that name a header none of the source's files has (checks): a
// mapping may name a header only some exports have (a newer system's), but
// one no file has is a typo, and the field is read from its usual headers or,
// for an optional one such as referred_to, not at all, with different stages.
// block is the mapping's block (Source.ColumnsBlock): only the files read with
// that mapping are compared.
func unmatchedMappings(source string, block int, explicit map[string]string, configFile string, checks []FileCheck) []FileCheck {
	var out []FileCheck
	fields := make([]string, 0, len(explicit))
	for f := range explicit {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	where := configFile
	if where == "" {
		where = "configuration"
	}
	for _, field := range fields {
		want := strings.TrimSpace(explicit[field])
		found, read := false, 0
		var headers []string
		for _, c := range checks {
			if c.Source != source || c.Headers == nil || c.columnsOf != block {
				continue
			}
			read++
			if h, ok := c.Mapping[field]; ok && strings.EqualFold(strings.TrimSpace(h), want) {
				found = true
				break
			}
			if headers == nil {
				headers = c.Headers
			}
		}
		if found || read == 0 {
			continue
		}
		p := fmt.Sprintf("[%s.columns] %s = %q names a header that none of the %d %s file(s) has (a typo?); ",
			source, field, want, read, source)
		if block >= 0 {
			p = fmt.Sprintf("[[%s.layout]] block %d's columns: %s = %q names a header that none of the block's %d file(s) has (a typo?); ",
				source, block+1, field, want, read)
		}
		if near := closestHeader(want, headers); near != "" {
			p += fmt.Sprintf("the nearest is %q; ", near)
		}
		p += fmt.Sprintf("the first such file's headers are: %s", strings.Join(quotedHeaders(headers), ", "))
		out = append(out, FileCheck{Source: source, Path: where, Problems: []string{p}})
	}
	return out
}

// closestHeader is the first of headers that shares a word of four letters or
// more with want ("Therapist Req" for "Requested Therapist"), or "".
func closestHeader(want string, headers []string) string {
	words := func(s string) []string {
		return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	}
	for _, h := range headers {
		if valueLike(h) {
			continue
		}
		for _, a := range words(h) {
			for _, b := range words(want) {
				if len(a) >= 4 && a == b {
					return h
				}
			}
		}
	}
	return ""
}

// invalidUTF8Lines is the first line of the file at path that is not valid
// UTF-8, and how many such lines it has (lines counted by line feeds).
func invalidUTF8Lines(path string) (first, n int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	for line := 1; ; line++ {
		b, err := r.ReadBytes('\n')
		if len(b) > 0 && !utf8.Valid(b) {
			if first == 0 {
				first = line
			}
			n++
		}
		if err == io.EOF {
			return first, n, nil
		}
		if err != nil {
			return first, n, err
		}
	}
}

// checkFile inspects one export file as the loader would read it with src;
// mem is openCheckDB's.
func checkFile(ctx context.Context, mem *sql.DB, source string, src config.Source, path, display string, years yearRange) FileCheck {
	fc := FileCheck{Source: source, Path: display}
	problem := func(format string, args ...any) FileCheck {
		fc.Problems = append(fc.Problems, fmt.Sprintf(format, args...))
		return fc
	}
	l := readLayout(path, source, src)
	if l.readFail != nil {
		return problem("cannot read the file: %v (check its permissions)", l.readFail)
	}
	if l.dataRow {
		// A patient's row, not headers: nothing of it is kept or shown.
		return problem("%s", l.problem)
	}
	fc.Headers, fc.Delimiter, fc.TitleLines = l.headers, l.delim, l.titleLines
	fc.Mapping = map[string]string{}
	used := map[int]bool{}
	for field, i := range l.mapping {
		fc.Mapping[field] = l.headers[i]
		used[i] = true
	}
	for i, h := range l.headers {
		if !used[i] {
			fc.Ignored = append(fc.Ignored, maskValueCell(h))
		}
	}
	if l.problem != "" {
		return problem("%s", l.problem)
	}
	headers, delim, mapping := l.headers, l.delim, l.mapping
	fc.Amounts = l.amounts.shown()
	if l.amounts == amountsMixed {
		fc.Problems = append(fc.Problems, "the amounts on the first rows are written both with a decimal comma (225,00) and with a decimal point (225.00 or 1,250.00): an amount holding a comma cannot be read safely, and its row would be rejected; export every amount the same way, e.g. 1250.00")
	}
	if row, field := sciNotationID(l.rows, mapping); field != "" {
		// The value is not shown: it is (what is left of) a client id.
		fc.Problems = append(fc.Problems, fmt.Sprintf("row %d: the %s in column %q is written in scientific notation (like 4.5E+11), as Excel saves a long number: its last digits are lost, so different %s become one; export the file from the system again without opening it in Excel, or format that column as Text before saving",
			row, strings.ReplaceAll(field, "_", " "), headers[mapping[field]], map[string]string{"client_id": "clients", "appointment_id": "appointments", "line_id": "claim lines"}[field]))
	}
	if row, v, col := signedAmount(source, l.rows, mapping); v != "" {
		fc.Problems = append(fc.Problems, fmt.Sprintf("row %d: the amount %s in column %q is written in parentheses or with a currency code, as a spreadsheet's accounting format saves it: amounts must be numbers such as 1234.50, -25.00 or $1,234.50, so such rows would be rejected; format the amount columns as numbers (in Excel: Format Cells, Number) and save the file again",
			row, shownAmount(v), headers[col]))
	}
	enc := normaliseEncoding(src.Encoding)
	counter := l.fieldCounter(source)
	if enc != "utf-16" {
		// Whether the whole file is valid UTF-8 takes a pass over it. The same
		// pass finds a file that ends inside a quoted value, rows with another
		// number of fields than the header, and amounts the reader would misread
		// (in any single-byte encoding: they are ASCII), and counts carriage
		// returns, in every encoding the run reads as bytes (not UTF-16).
		scanned := counter
		if l.titleLines > 0 {
			scanned = nil // counted below, as the run's copy reads
		}
		sc, err := scanFile(path, scanned, false)
		if err == nil && l.titleLines > 0 && counter != nil {
			err = countBelowTitle(path, l.titleLines, counter)
		}
		if err != nil {
			return problem("cannot read the file: %v (check its permissions)", err)
		}
		if counter != nil && counter.openLine > 0 {
			fc.Problems = append(fc.Problems, fmt.Sprintf("line %d: the file ends inside a quoted value that opens on that line, in column %q (the export was cut off, or a quote was never closed); that row would not load: export the file again",
				counter.openLine, headers[min(counter.openField, len(headers))-1]))
		}
		if counter != nil && counter.wide > 0 {
			fc.Warnings = append(fc.Warnings, fmt.Sprintf("line %d: the row has %d fields where the header has %d; %d row(s) have more fields than the header and would be skipped: a value holding the delimiter was probably not quoted, so later values moved to the right; export the file again with values quoted",
				counter.wideLine, counter.wideFields, len(headers), counter.wide))
		}
		if counter != nil && len(counter.short) > 0 {
			fc.Warnings = append(fc.Warnings, fmt.Sprintf("line %d: the row has %d fields where the header has %d; %d row(s) have fewer fields than the header and would be skipped: a value was left out, or the row was cut short",
				counter.short[0].line, counter.short[0].fields, len(headers), len(counter.short)))
		}
		if counter != nil && counter.badTotal > 0 {
			b := counter.badAmounts[0]
			shown, _ := badAmountShown(b.value)
			fc.Problems = append(fc.Problems, fmt.Sprintf("line %d: the amount %s in column %q %s; %d such rows would be skipped: %s",
				b.line, shown, headers[b.column], badAmountReason(b.value, l.amounts), counter.badTotal, l.amounts.sameWay()))
		}
		if enc == "auto" {
			enc = guessEncoding(path, l.head, sc.validUTF8)
			if enc == "utf-8" && !sc.validUTF8 {
				// Mostly UTF-8, with rows saved in another encoding (a name pasted
				// from a Windows program): the run rejects those rows.
				if line, n, err := invalidUTF8Lines(path); err == nil && n > 0 {
					fc.Warnings = append(fc.Warnings, fmt.Sprintf("line %d: the file is UTF-8 but %d line(s) hold bytes that are not (text saved in another encoding, such as Windows-1252's ’ or é, pasted in): those rows would be rejected; export the file again in one encoding", line, n))
				}
			}
		} else if enc == "utf-8" && !sc.validUTF8 {
			fc.Problems = append(fc.Problems, fmt.Sprintf("encoding is set to utf-8 but the file is not valid UTF-8; set %s encoding = \"auto\" or \"windows-1252\"", src.Block(source)))
		}
		// In UTF-16 a byte 13 is no carriage return of its own: not counted there.
		if enc != "utf-16" && sc.strayCRs() > 0 {
			// Counted again as the run's copy reads them, NUL bytes dropped first
			// (a CR, NUL, LF ends a line there), which also gives the first's line.
			stray, err := strayCRsAsCopied(path, delim)
			if err != nil {
				return problem("cannot read the file: %v (check its permissions)", err)
			}
			if stray.n > 0 {
				where, first := "", ""
				if stray.firstLine > 0 {
					where, first = fmt.Sprintf("line %d: ", stray.firstLine), " (the first on this line)"
				}
				fc.Warnings = append(fc.Warnings, fmt.Sprintf("%s%d carriage return(s) not followed by a line feed%s, which DuckDB's reader cannot read inside a value, would be read as spaces; if a value looks cut or joined, export the file again", where, stray.n, first))
			}
		}
	}
	fc.Encoding = enc
	if enc == "utf-16" && l.spacedAmounts {
		// The run reads a UTF-16 file as it is, without the copy that drops them.
		fc.Problems = append(fc.Problems, "the amounts on the first rows have spaces between thousands (1 234,50), which are not read in a UTF-16 file such as Excel's Unicode Text: every such row would be rejected; export the file again as CSV UTF-8, or its amounts without spaces")
	}
	// Try the date format on the dates of the first dateRows rows (each distinct
	// value once). The example of those that fail is the most frequent: a typo
	// that fits no format ("02/30/2026" in an export written 2026-10-05) would
	// otherwise stand for them all, and suggest the format already set.
	dateIdx := mapping[dateFieldName(source)]
	statusIdx := -1
	if i, ok := mapping["status"]; ok && source == "scheduling" {
		statusIdx = i
	}
	dates, statuses, rows, err := dateValues(path, enc, delim, dateIdx, statusIdx, dateRows, l.titleLines)
	if err != nil {
		return problem("cannot read the rows: %v", err)
	}
	fc.Rows = rows
	if len(statuses) > 0 {
		// Classified as the models classify them, once per spelling (mem holds the
		// macros and the configuration's status_words: CheckExports).
		var values []string
		for v, n := range statuses {
			values = append(values, fmt.Sprintf("(%s, %d)", QuoteString(v), n))
		}
		sort.Strings(values)
		rs, err := mem.QueryContext(ctx, `SELECT v, n FROM (VALUES `+strings.Join(values, ", ")+`) t(v, n)
			WHERE configured_status(v) IS NULL AND appointment_status(v) = 'other'`)
		if err != nil {
			return problem("statuses: %v", err)
		}
		for rs.Next() {
			var v string
			var n int
			if err := rs.Scan(&v, &n); err != nil {
				rs.Close()
				return problem("statuses: %v", err)
			}
			if fc.UnknownStatuses == nil {
				fc.UnknownStatuses = map[string]int{}
			}
			fc.UnknownStatuses[v] = n
		}
		rs.Close()
	}
	if len(dates) > 0 {
		var values []string
		for v, n := range dates {
			values = append(values, fmt.Sprintf("(%s, %d)", QuoteString(v), n))
		}
		sort.Strings(values)
		var swapped any
		if sw := swappedDateFormat(src.DateFormat); sw != "" {
			swapped = sw
		}
		var total, bad, swappedOnly, onlyFormat, twoDigit int64
		var badEx, swappedEx, twoDigitEx sql.NullString
		q := `SELECT sum(n)::BIGINT,
				coalesce(sum(n) FILTER (WHERE d IS NOT NULL AND try_strptime(v, $2) IS NULL), 0)::BIGINT,
				coalesce(sum(n) FILTER (WHERE d IS NULL), 0)::BIGINT, arg_min(v, {'n': -n, 'v': v}) FILTER (WHERE d IS NULL),
				coalesce(sum(n) FILTER (WHERE d IS NULL AND try_strptime(v, $2) IS NOT NULL), 0)::BIGINT, min(v) FILTER (WHERE d IS NULL AND try_strptime(v, $2) IS NOT NULL),
				coalesce(sum(n) FILTER (WHERE year(d) < 100), 0)::BIGINT, min(v) FILTER (WHERE year(d) < 100)
			FROM (SELECT v, n, try_strptime(v, $1) AS d FROM (VALUES ` + strings.Join(values, ", ") + `) t(v, n))`
		if err := mem.QueryRowContext(ctx, q, src.DateFormat, swapped).Scan(&total, &onlyFormat, &bad, &badEx, &swappedOnly, &swappedEx, &twoDigit, &twoDigitEx); err != nil {
			return problem("date format %q: %v", src.DateFormat, err)
		}
		col := headers[dateIdx]
		switch {
		// As the run decides: many dates that read only the other way round, and next
		// to none that read only as date_format (a day above 12).
		case swapped != nil && dayFirst(swappedOnly, onlyFormat, total):
			fc.Problems = append(fc.Problems, fmt.Sprintf("%d of %d dates in column %q, such as %s, do not read as date_format %q but do as %q, with day and month the other way round: the export writes them so, and its dates with a day up to 12 would load swapped (the run refuses such a file); set %s date_format = %q",
				swappedOnly, total, col, shownDate(swappedEx.String, years), src.DateFormat, swapped, src.Block(source), swapped))
		case wrongDates(twoDigit, total):
			fc.Problems = append(fc.Problems, fmt.Sprintf("%d of %d dates in column %q, such as %s, have a two-digit year, which date_format %q reads as the year %s (the run refuses such a file); set %s date_format = %q",
				twoDigit, total, col, shownDate(twoDigitEx.String, years), src.DateFormat, twoDigitYear(twoDigitEx.String), src.Block(source), twoDigitYearFormat(src.DateFormat)))
		case bad*2 > total:
			fc.Problems = append(fc.Problems, fmt.Sprintf("dates in column %q such as %s do not match date_format %q; set %s date_format to the export's format (%s)",
				col, shownDate(badEx.String, years), src.DateFormat, src.Block(source), suggestFormat(badEx.String)))
		case bad > 0:
			hint := ""
			if swappedOnly > 0 {
				hint = fmt.Sprintf("; %s reads with day and month the other way round, a typo most likely", shownDate(swappedEx.String, years))
			}
			fc.Warnings = append(fc.Warnings, fmt.Sprintf("%d of %d dates in column %q, such as %s, do not match date_format %q: their rows would be rejected%s",
				bad, total, col, shownDate(badEx.String, years), src.DateFormat, hint))
		}
		if twoDigit > 0 && !wrongDates(twoDigit, total) {
			fc.Warnings = append(fc.Warnings, fmt.Sprintf("%d of %d dates in column %q, such as %s, have a two-digit year: their rows would be rejected as out of range",
				twoDigit, total, col, shownDate(twoDigitEx.String, years)))
		}
	}
	if rows == 0 {
		fc.Warnings = append(fc.Warnings, "the file holds its header and no row: an export that failed, or a period without any? Export it again if rows were expected")
	}
	if len(dates) == 0 && rows > 0 {
		fc.Problems = append(fc.Problems, fmt.Sprintf("the first %d rows have no value in the date column %q; is it the right column?", rows, headers[dateIdx]))
	}
	sort.Strings(fc.Ignored)
	return fc
}

// suggestFormat names a strptime format that fits an example date, as the
// exports of practice systems and spreadsheets write them: "10/03/2026 2:30 PM"
// is "%m/%d/%Y %I:%M %p", not the 24-hour "%m/%d/%Y %H:%M", which would fail again.
func suggestFormat(v string) string {
	v = strings.TrimSpace(v)
	for _, f := range dateShapes {
		if f.shape.MatchString(v) {
			return f.format
		}
	}
	return "see https://duckdb.org/docs/sql/functions/dateformat"
}

// dateShapes are the date shapes suggestFormat knows, each with the format(s)
// to set; the first that matches is taken.
var dateShapes = []struct {
	shape  *regexp.Regexp
	format string
}{
	{regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`), `"%Y-%m-%d"`},
	{regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$`), `"%Y-%m-%dT%H:%M:%S"`},
	{regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d+$`), `"%Y-%m-%dT%H:%M:%S.%f"`},
	{regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$`), `"%Y-%m-%dT%H:%M:%SZ"`},
	// %z would move each time to UTC, and an evening appointment to the next day.
	{regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:?\d{2}$`), `none reads a time-zone offset without moving the dates to UTC: export them in local time without it, for "%Y-%m-%dT%H:%M:%S"`},
	{regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$`), `"%Y-%m-%dT%H:%M"`},
	{regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{1,2}:\d{2}:\d{2}$`), `"%Y-%m-%d %H:%M:%S"`},
	{regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{1,2}:\d{2}$`), `"%Y-%m-%d %H:%M"`},
	{regexp.MustCompile(`^\d{1,2}/\d{1,2}/\d{4}$`), `"%m/%d/%Y" or "%d/%m/%Y"`},
	{regexp.MustCompile(`^\d{1,2}/\d{1,2}/\d{2}$`), `"%m/%d/%y"`},
	{regexp.MustCompile(`^\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2} ?[AaPp][Mm]$`), `"%m/%d/%Y %I:%M %p"`},
	{regexp.MustCompile(`^\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}:\d{2} ?[AaPp][Mm]$`), `"%m/%d/%Y %I:%M:%S %p"`},
	{regexp.MustCompile(`^\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}$`), `"%m/%d/%Y %H:%M"`},
	{regexp.MustCompile(`^\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}:\d{2}$`), `"%m/%d/%Y %H:%M:%S"`},
	{regexp.MustCompile(`^[A-Za-z]{3} \d{1,2}, \d{4}$`), `"%b %d, %Y"`},
	{regexp.MustCompile(`^[A-Za-z]{4,9} \d{1,2}, \d{4}$`), `"%B %d, %Y"`},
	{regexp.MustCompile(`^\d{1,2}-[A-Za-z]{3}-\d{4}$`), `"%d-%b-%Y"`},
	{regexp.MustCompile(`^\d{1,2}\.\d{1,2}\.\d{4}$`), `"%d.%m.%Y"`},
	{regexp.MustCompile(`^\d{1,2}-\d{1,2}-\d{4}$`), `"%m-%d-%Y" or "%d-%m-%Y"`},
}

// countBelowTitle feeds counter the file at path as the run's copy holds it: its
// header first, the titleLines lines above it made empty lines (headerMover).
func countBelowTitle(path string, titleLines int, counter *fieldCounter) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	m := &headerMover{w: counter, skip: titleLines}
	if _, err := io.Copy(m, bufio.NewReaderSize(f, 1<<20)); err != nil {
		return err
	}
	if err := m.flush(); err != nil {
		return err
	}
	counter.Close()
	return nil
}

// dateValues reads the values of column col of up to n data rows after the
// header, which titleLines lines precede (a report's title), each distinct one
// with its count (at most maxDateValues of them), and says how many rows it read.
//
// statusCol (-1 for none) is the status column: its values are counted too
// (trimmed, blanks left out), which check classifies.
func dateValues(path, enc string, delim rune, col, statusCol, n, titleLines int) (map[string]int, map[string]int, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, 0, err
	}
	defer f.Close()
	var r io.Reader = bufio.NewReaderSize(f, 1<<20)
	if dec := decoderFor(enc); dec != nil {
		r = dec.Reader(r)
	}
	br := bufio.NewReader(r)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, bomUTF8) {
		br.Discard(3)
	}
	for range titleLines {
		if _, err := br.ReadString('\n'); err != nil {
			return nil, nil, 0, err
		}
	}
	cr := csv.NewReader(br)
	cr.Comma = delim
	cr.LazyQuotes = true
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	if _, err := cr.Read(); err != nil {
		return nil, nil, 0, err
	}
	values := map[string]int{}
	statuses := map[string]int{}
	rows := 0
	for rows < n {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			continue
		}
		empty := true
		for _, f := range rec {
			if strings.TrimSpace(f) != "" {
				empty = false
				break
			}
		}
		if empty {
			continue // a line of empty fields, as spreadsheets leave: no row
		}
		rows++
		if statusCol >= 0 && statusCol < len(rec) {
			if v := strings.TrimSpace(rec[statusCol]); v != "" {
				if _, ok := statuses[v]; ok || len(statuses) < maxDateValues {
					statuses[v]++
				}
			}
		}
		if col >= len(rec) {
			continue
		}
		v := strings.TrimSpace(rec[col])
		if v == "" {
			continue
		}
		if _, ok := values[v]; ok || len(values) < maxDateValues {
			values[v]++
		}
	}
	return values, statuses, rows, nil
}

// twoDigitYear is the year a date with a two-digit year reads as, as DuckDB
// shows it ("0026-10-01" reads as the year 26): the example's own digits.
func twoDigitYear(v string) string {
	i := strings.LastIndexAny(v, "/-.")
	if i < 0 {
		return "as written"
	}
	return strings.TrimLeft(v[i+1:], "0")
}
