package pipeline

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/referrals/referrals/internal/config"
	"golang.org/x/text/encoding/charmap"
)

// hostileCase is one broken or unusual export from testdata/hostile (or
// generated here when large) and what loading it must give.
type hostileCase struct {
	file     string
	source   string
	status   string // loaded or failed
	loaded   int64
	rejected int64
	// problem (for failed files) or reject messages/types must contain each.
	want []string
	// query returning one string that must equal value, to check content.
	query, value string
}

var hostileCases = []hostileCase{
	{file: "empty.csv", status: "failed", want: []string{"empty"}},
	{file: "header-only.csv", status: "loaded"},
	{file: "no-header.csv", status: "failed", want: []string{"looks like a data row, not a header", "must have its header line"}},
	// The first row's values are never repeated: its client id is patient data.
	{file: "no-header-text-ids.csv", status: "failed", want: []string{"no-header-text-ids.csv looks like a data row, not a header"}},
	{file: "semicolon.csv", status: "loaded", loaded: 2},
	// Lines of empty fields, as Excel leaves at the end of a sheet: skipped and
	// listed, not counted as rejected rows.
	{file: "trailing-empty-rows.csv", status: "loaded", loaded: 2, want: []string{"4 Appointment ID EMPTY ROW an empty row (every field blank", "6 Appointment ID EMPTY ROW"}},
	// Empty quoted values read as NULL too; so does a UTF-16 file's row of empty
	// fields, which the scan cannot count. A short row of delimiters is a short row.
	{file: "quoted-empty-rows.csv", status: "loaded", loaded: 2, want: []string{"4 Appointment ID EMPTY ROW"}},
	{file: "empty-row-utf16.csv", status: "loaded", loaded: 2, want: []string{"EMPTY ROW"}},
	{file: "blank-and-short-rows.csv", status: "loaded", loaded: 2, rejected: 1, want: []string{"4 Appointment ID EMPTY ROW", "5  MISSING COLUMNS"}},
	{file: "header-and-blank-rows.csv", status: "loaded", want: []string{"2 Appointment ID EMPTY ROW", "3 Appointment ID EMPTY ROW"}},
	{file: "header-only-utf16.csv", status: "loaded"},
	// A row whose values are all in columns the loader does not keep is no empty
	// row: it stays a rejected row, counted. (So does the empty one beside it: the
	// rows kept cannot tell the two apart.)
	{file: "unmapped-values-row.csv", status: "loaded", loaded: 2, rejected: 2, want: []string{"MISSING VALUE a row has no Appointment ID"}},
	// Dates written day first where date_format says month first: those with a day
	// up to 12 would load swapped, so with many failing the file is not loaded.
	{file: "day-first.csv", status: "failed", want: []string{`6 of the file's 10 rows have dates such as "13/09/2026" that do not read as date_format "%m/%d/%Y" but do as "%d/%m/%Y"`,
		`Set [scheduling] date_format = "%d/%m/%Y"`}},
	// One such date among many right ones is a typo: that row alone is rejected.
	{file: "day-first-typo.csv", status: "loaded", loaded: 24, rejected: 1, want: []string{`26 date (Appointment Date) CAST Could not convert string "13/09/2026" to 'DATE' (expected date format %m/%d/%Y; it reads with day and month the other way round, as %d/%m/%Y`}},
	// Three such dates in a month-first file whose other dates have days above 12:
	// typos, rejected alone; the file is no day-first one.
	{file: "month-first-typos.csv", status: "loaded", loaded: 47, rejected: 3, want: []string{`49 date (Appointment Date) CAST Could not convert string "13/02/2026"`}},
	// Two-digit years read by %Y as the years 1 to 99.
	{file: "two-digit-year.csv", status: "failed", want: []string{`5 of the file's 5 rows have dates with a two-digit year, which date_format "%m/%d/%Y" reads as written (such as the year 26)`,
		`Set [scheduling] date_format = "%m/%d/%y"`}},
	// Most dates in another format than date_format (here a spreadsheet's
	// "6/15/2026 11:30", saved over the system's export): every such row would be
	// rejected and the file load next to nothing, so it is not loaded at all, and
	// the message names a format to set.
	{file: "excel-date-time.csv", status: "failed", want: []string{`4 of the file's 5 rows have dates such as "10/12/2026 16:30" that do not read as date_format "%m/%d/%Y"`,
		`set [scheduling] date_format to the export's format ("%m/%d/%Y %H:%M"`, "opened and saved in a spreadsheet"}},
	// A report's title, its date range and a blank line above the header, as
	// practice systems' reports are exported (UTF-8 with a BOM, CRLF): the header
	// is found below them, and every row keeps its line in the file.
	{file: "title-lines.csv", status: "loaded", loaded: 3, rejected: 2, want: []string{`6 date (Appointment Date) CAST Could not convert string "05/32/2026"`,
		"10  MISSING COLUMNS the row has 1 field where the header has 10"},
		query: "SELECT string_agg(appointment_id || ':' || referral_source, '|' ORDER BY appointment_id) FROM raw_appointments", value: "A1:Google|A3:Dr. Lee|A4:Google"},
	// The same in Windows-1252 with amounts in a currency format, a line of
	// empty fields under the title, and a "Grand Total" row at the end.
	{file: "title-lines-billing.csv", source: "billing", status: "loaded", loaded: 2, rejected: 2, want: []string{"6 paid (Paid) CAST", "9 Patient Account MISSING VALUE row Grand Total has no client id"},
		query: "SELECT string_agg(line_id || ':' || charge || '/' || paid || '/' || rendering_provider, ' ' ORDER BY line_id) FROM raw_claim_lines",
		value: "L1:1234.50/90.00/Zoë Martín L3:150.00/0.00/Zoë Martín"},
	{file: "tab.csv", status: "loaded", loaded: 2},
	{file: "quoted-newlines.csv", status: "loaded", loaded: 2,
		query: "SELECT referral_source FROM raw_appointments WHERE appointment_id = 'A1'", value: "Dr. Maria Lopez\nSt. Mary's Clinic"},
	{file: "unclosed-quote.csv", status: "loaded", loaded: 1, rejected: 4, want: []string{"UNQUOTED VALUE", "LOST ROWS", "swallowed 3 more line(s)"}},
	{file: "mixed-line-endings.csv", status: "loaded", loaded: 3},
	{file: "bom-crlf.csv", status: "loaded", loaded: 2,
		query: "SELECT appointment_id FROM raw_appointments ORDER BY 1 LIMIT 1", value: "A1"},
	{file: "windows-1252.csv", status: "loaded", loaded: 2,
		query: "SELECT string_agg(referral_source, '|' ORDER BY appointment_id) FROM raw_appointments", value: "José Núñez|\u201cSt. Anne\u2019s\u201d EAP \u20ac"},
	{file: "utf-16.csv", status: "loaded", loaded: 2, rejected: 1, want: []string{"CAST", "date (Appointment Date)", "02/30/2026"},
		query: "SELECT string_agg(referral_source, '|' ORDER BY appointment_id) FROM raw_appointments", value: "José Núñez|\u201cSt. Anne\u2019s\u201d EAP"},
	{file: "invalid-utf8.csv", status: "loaded", loaded: 2, rejected: 1, want: []string{"INVALID ENCODING", "not valid text"}},
	// The same bad row with a field too few: its reject stays the encoding's, which
	// the reader gave it; only cast and missing-column rejects are rewritten.
	{file: "invalid-utf8-short.csv", status: "loaded", loaded: 2, rejected: 1, want: []string{"3 service (Service) INVALID ENCODING the row has bytes that are not valid text"}},
	{file: "nul-bytes.csv", status: "loaded", loaded: 2, want: []string{"NUL BYTES"},
		query: "SELECT referral_source FROM raw_appointments WHERE appointment_id = 'A2'", value: "Dr. Lo"},
	{file: "field-count.csv", status: "loaded", loaded: 2, rejected: 2, want: []string{"TOO MANY COLUMNS", "MISSING COLUMNS", "more fields than the header",
		"4  MISSING COLUMNS the row has 3 fields where the header has 10: a value left out moves every later one a column to the left, and a row cut short loses the last ones"}},
	// A value left out in the middle: the reader fails the date that moved into the
	// clinician's place; the reject says what happened to the row.
	{file: "field-missing.csv", status: "loaded", loaded: 2, rejected: 1, want: []string{"3  MISSING COLUMNS the row has 9 fields where the header has 10: a value left out moves every later one a column to the left"}},
	// The same past a value with a line break: the scan numbers its rows as the
	// reader does (a record is a line), so the short row's reject is still found
	// and rewritten, and the shifted row has the reader's line.
	{file: "rows-after-line-break.csv", status: "loaded", loaded: 2, rejected: 2, want: []string{"3  MISSING COLUMNS the row has 9 fields where the header has 10",
		"4  TOO MANY COLUMNS the row has 11 fields"},
		query: "SELECT string_agg(appointment_id, ',' ORDER BY appointment_id) FROM raw_appointments", value: "A1,A4"},
	// A quote inside an unquoted value (5'10") is text to the reader, and to the
	// scan: the shifted row between two such values is found, on its line.
	{file: "stray-quotes.csv", status: "loaded", loaded: 4, rejected: 1, want: []string{"4  TOO MANY COLUMNS"},
		query: "SELECT string_agg(appointment_id, ',' ORDER BY appointment_id) FROM raw_appointments", value: "A1,A2,A4,A5"},
	// One space before a quote still opens a quoted value for the reader, and
	// for the scan: no row is taken for shifted, and the records keep their lines.
	{file: "space-before-quote.csv", status: "loaded", loaded: 2, rejected: 2, want: []string{"3  TOO MANY COLUMNS", "5 date (Appointment Date) CAST"},
		query: "SELECT string_agg(appointment_id || ':' || replace(referral_source, chr(10), '/'), ',' ORDER BY appointment_id) FROM raw_appointments", value: "A1:Dr Lopez/St Mary,A3:Lopez, Maria"},
	{file: "unquoted-delimiter.csv", status: "loaded", loaded: 2, rejected: 2, want: []string{"3  TOO MANY COLUMNS", "4  TOO MANY COLUMNS", "not quoted"},
		query: "SELECT string_agg(appointment_id, ',' ORDER BY appointment_id) FROM raw_appointments", value: "A1,A4"},
	// A shifted row whose id the file holds on a right row too (and on a row the
	// reader rejects for its date): the rows loaded cannot be told apart, so both
	// go, and the right one is said to go with the shifted one.
	{file: "shifted-id-twice.csv", status: "loaded", loaded: 1, rejected: 4, want: []string{"2  TOO MANY COLUMNS", "3 date (Appointment Date) CAST", "6  TOO MANY COLUMNS",
		" Appointment ID DUPLICATE ID Appointment ID A1 is on 2 rows of this file, one of them the row at line 2: the other one was skipped with it"},
		query: "SELECT string_agg(appointment_id || ':' || referral_source, ',' ORDER BY appointment_id) FROM raw_appointments", value: "A2:Google"},
	{file: "shifted-id-twice-after.csv", status: "loaded", loaded: 1, rejected: 2, want: []string{"3  TOO MANY COLUMNS",
		" Appointment ID DUPLICATE ID Appointment ID A1 is on 2 rows of this file, one of them the row at line 3: the other one was skipped with it"},
		query: "SELECT string_agg(appointment_id || ':' || referral_source, ',' ORDER BY appointment_id) FROM raw_appointments", value: "A2:Google"},
	// Two shifted rows of one id beside a right one: one reject each, and one for
	// the right row, so the file's rows add up (4 = 1 loaded + 3 rejected).
	{file: "shifted-id-thrice.csv", status: "loaded", loaded: 1, rejected: 3, want: []string{"3  TOO MANY COLUMNS", "4  TOO MANY COLUMNS",
		" Appointment ID DUPLICATE ID Appointment ID A1 is on 3 rows of this file, 2 of them read wrong (the first at line 3): the other one was skipped with them"},
		query: "SELECT string_agg(appointment_id, ',') FROM raw_appointments", value: "A2"},
	{file: "bad-dates.csv", status: "loaded", loaded: 2, rejected: 4, want: []string{"CAST", "2026-01-05", "02/30/2026", "OUT OF RANGE", "a date in 1900, outside", "a date in 2090, outside", "expected date format",
		"5 Appointment Date OUT OF RANGE row A4", "6 Appointment Date OUT OF RANGE row A5"}},
	// Rows rejected after the read (no id, no client id, a date out of range) are
	// found again in the file for their lines: past a row without an id that the
	// reader rejected itself, and numbered as the reader numbers its own rejects
	// (the value spanning lines 2-3 is one line, as in a spreadsheet).
	{file: "missing-values.csv", status: "loaded", loaded: 2, rejected: 5, want: []string{
		"3 date (Appointment Date) CAST", "4 Appointment ID MISSING VALUE a row has no Appointment ID", "5 Patient Account MISSING VALUE row A2 has no client id",
		"6 Appointment ID MISSING VALUE a row has no Appointment ID", "8 Appointment Date OUT OF RANGE row A4 has a date in 2099, outside"}},
	// Rows shifted by two unquoted delimiters, or with a quoted empty value as the
	// extra field: the reader drops any number of empty fields at the end of a
	// row. A5's extra field holds doubled quotes, which the reader rejects, or
	// now and then takes shifted: one reject either way.
	{file: "shifted-by-two.csv", status: "loaded", loaded: 2, rejected: 3, want: []string{
		"2  TOO MANY COLUMNS the row has 12 fields where the header has 10 and its last 2 are empty: values holding the delimiter were probably not quoted, so later values moved 2 columns",
		"5  TOO MANY COLUMNS the row has 11 fields where the header has 10 and its last field is empty", "6  TOO MANY COLUMNS"},
		query: "SELECT string_agg(appointment_id || ':' || referral_source, '|' ORDER BY appointment_id) FROM raw_appointments", value: "A2:Google|A3:Lopez, Maria"},
	// A carriage return alone inside a value stops DuckDB's reader, which would
	// fail the whole file: it is read as a space, and the file's notice says so.
	{file: "lone-cr.csv", status: "loaded", loaded: 2, want: []string{"2  CARRIAGE RETURN the file held 1 carriage return(s) not followed by a line feed"},
		query: "SELECT string_agg(referral_source, '|' ORDER BY appointment_id) FROM raw_appointments", value: "Dr. Maria Lopez|Google"},
	// In a file of CRLF lines, quoted or not.
	{file: "lone-cr-crlf.csv", status: "loaded", loaded: 3, want: []string{"3  CARRIAGE RETURN the file held 2 carriage return(s)"},
		query: "SELECT string_agg(referral_source, '|' ORDER BY appointment_id) FROM raw_appointments", value: "Google|St. Anne EAP|Dr. Maria Lopez"},
	// A carriage return alone anywhere, whether or not the reader would fail on
	// it: at a value's start it ends the record for the reader; CR CR LF; the
	// file's last byte; before a quote, where the copy's space stops the quote
	// opening the value (the copy is scanned again: the row is shifted).
	{file: "cr-value-start.csv", status: "loaded", loaded: 2, want: []string{"2  CARRIAGE RETURN the file held 1 carriage return(s)"},
		query: "SELECT string_agg(referral_source, '|' ORDER BY appointment_id) FROM raw_appointments", value: " Google|Dr. Lee"},
	{file: "cr-cr-lf.csv", status: "loaded", loaded: 3, want: []string{"2  CARRIAGE RETURN the file held 1 carriage return(s)"},
		query: "SELECT string_agg(referrer_npi, '|' ORDER BY appointment_id) FROM raw_appointments", value: "1234567890 "},
	{file: "cr-at-end.csv", status: "loaded", loaded: 2, want: []string{"2  CARRIAGE RETURN the file held 1 carriage return(s)"},
		query: "SELECT string_agg(referral_source || '/' || coalesce(referrer_npi, ''), '|' ORDER BY appointment_id) FROM raw_appointments", value: "Goo gle/|Dr. Lee/1234567890"},
	// The same last CR in a file of LF lines, alone: dropped from a copy.
	{file: "lf-final-cr.csv", status: "loaded", loaded: 2,
		query: "SELECT string_agg(coalesce(referrer_npi, '-'), '|' ORDER BY appointment_id) FROM raw_appointments", value: "-|1234567890"},
	{file: "cr-before-quote.csv", status: "loaded", loaded: 1, rejected: 1, want: []string{"2  CARRIAGE RETURN the file held 2 carriage return(s)", "2  TOO MANY COLUMNS"},
		query: "SELECT string_agg(referral_source, '|' ORDER BY appointment_id) FROM raw_appointments", value: "Dr. Lee"},
	// Past a carriage return that ended a record for the reader, a shifted row
	// the reader rejects is on the scan's line too: one reject, and the right row
	// of its id stays.
	{file: "cr-then-shifted.csv", status: "loaded", loaded: 4, rejected: 1, want: []string{"4  TOO MANY COLUMNS"},
		query: "SELECT string_agg(appointment_id || ':' || referral_source, '|' ORDER BY appointment_id) FROM raw_appointments", value: "A1: Google|A2:Dr. Lee|A5:Lee, Ann|A6:Web"},
	// A column no field uses: the reader takes a row whose extra field is quoted
	// with a space after it.
	{file: "shifted-quoted-extra.csv", status: "loaded", loaded: 2, rejected: 1, want: []string{"3  TOO MANY COLUMNS"},
		query: "SELECT string_agg(appointment_id || ':' || referral_source, '|' ORDER BY appointment_id) FROM raw_appointments", value: "A1:Google|A3:Web"},
	// A NUL before a quote: the copy without it is scanned again, as the reader
	// reads the copy, so the quoted value is no shifted row.
	{file: "nul-before-quote.csv", status: "loaded", loaded: 2, want: []string{"NUL BYTES"},
		query: "SELECT string_agg(referral_source, '|' ORDER BY appointment_id) FROM raw_appointments", value: "Lopez, Maria|Google"},
	// A file of CRLF lines whose last byte is a CR: the reader takes it for the
	// line's end, and so does the loader.
	{file: "crlf-final-cr.csv", source: "billing", status: "loaded", loaded: 2,
		query: "SELECT string_agg(line_id || ':' || coalesce(paid::VARCHAR, '-'), '|' ORDER BY line_id) FROM raw_claim_lines", value: "C1:90.00|C2:-"},
	// UTF-16 exports are not mended: the message says what to do.
	{file: "lone-cr-utf16.csv", status: "failed", want: []string{"carriage return inside a value", `export the file again as "CSV UTF-8"`}},
	// One line ending in LF, the others in CRLF: DuckDB reads it as it is.
	{file: "lf-header-crlf-rows.csv", status: "loaded", loaded: 2,
		query: "SELECT string_agg(referral_source, '|' ORDER BY appointment_id) FROM raw_appointments", value: "Google|Dr. Lee"},
	// A line of an LF file ending in CR, NUL, LF: the copy without the NUL ends
	// it in LF, as the others.
	{file: "cr-nul-lf.csv", status: "loaded", loaded: 3, want: []string{"NUL BYTES"},
		query: "SELECT string_agg(coalesce(referrer_npi, '-'), '|' ORDER BY appointment_id) FROM raw_appointments", value: "1234567893|1234567893|-"},
	{file: "duplicate-ids.csv", status: "loaded", loaded: 2, rejected: 1, want: []string{"2 Appointment ID DUPLICATE ID Appointment ID A1 appears 2 times in this file (lines 2 and 3); the last one was kept"},
		query: "SELECT referral_source FROM raw_appointments WHERE appointment_id = 'A1'", value: "Google"},
	// An id on three rows, one of them out of range: the two duplicates are not
	// placed (the walk finds three records), and never on the rejected row's line.
	{file: "duplicate-ids-rejected.csv", status: "loaded", loaded: 2, rejected: 3, want: []string{
		" Appointment ID DUPLICATE ID Appointment ID A1 appears 2 times in this file; the last one was kept",
		"5 Appointment ID DUPLICATE ID Appointment ID A2 appears 2 times in this file (lines 5 and 6); the last one was kept"},
		query: "SELECT string_agg(appointment_id || ':' || referral_source, ',' ORDER BY appointment_id) FROM raw_appointments", value: "A1:Dr. Maria Lopez,A2:Dr. Maria Lopez"},
	{file: "renamed-column.csv", status: "failed", want: []string{`"Provider Full Name"`, "[scheduling.columns] clinician"}},
	// $90 loads as 90.00: the copy drops the currency sign.
	{file: "billing-amounts.csv", source: "billing", status: "loaded", loaded: 3, rejected: 2, want: []string{"3 charge/paid OUT OF RANGE claim line L2 has a negative amount", "n/a", "such as 1250.00 or $1,250.00"},
		query: "SELECT string_agg(line_id || ':' || charge || '/' || paid, ' ' ORDER BY line_id) FROM raw_claim_lines", value: "L1:150.00/90.00 L4:150.00/90.00 L5:1250.00/90.00"},
	// Amounts in a spreadsheet's currency format load without the sign, quoted or
	// not, before or after the number; a '$' elsewhere (the payer) stays. A negative
	// one is rejected as -25.00 is, and a sign before no number by the reader.
	{file: "billing-currency.csv", source: "billing", status: "loaded", loaded: 3, rejected: 3,
		want: []string{"4 charge/paid OUT OF RANGE claim line L3 has a negative amount", "6 charge (Charge) CAST Could not convert a value with letters",
			"7 charge/paid OUT OF RANGE claim line L6 has a negative amount"},
		query: "SELECT string_agg(line_id || ':' || charge || '/' || paid || '/' || payer, ' ' ORDER BY line_id) FROM raw_claim_lines",
		value: "L1:150.00/90.00/Self-pay $ L2:1234.50/0.00/Aetna L4:150.00/1000.00/Aetna"},
	// A dash alone is how a spreadsheet's accounting format writes zero (" $-   "
	// as Excel saves it, or "-" without the sign): read as 0.00, where it was
	// rejected and the claim line lost with it. Two dashes are no amount.
	{file: "billing-dash-zero.csv", source: "billing", status: "loaded", loaded: 4, rejected: 2,
		want:  []string{"6 charge/paid OUT OF RANGE claim line L5 has a negative amount", `7 paid (Paid) CAST Could not convert string "--"`},
		query: "SELECT string_agg(line_id || ':' || charge || '/' || paid, ' ' ORDER BY line_id) FROM raw_claim_lines",
		value: "L1:150.00/0.00 L2:150.00/0.00 L3:1250.00/0.00 L4:0.00/0.00"},
	{file: "billing-dash-zero-1252.csv", source: "billing", status: "loaded", loaded: 4,
		query: "SELECT string_agg(line_id || ':' || charge || '/' || paid || '/' || rendering_provider, ' ' ORDER BY line_id) FROM raw_claim_lines",
		value: "L1:150.00/0.00/Zoë Martín L2:1250.00/0.00/Zoë Martín L3:150.00/90.00/Zoë Martín L4:0.00/0.00/Zoë Martín"},
	// Windows-1252, ';' between values, a decimal comma and thousands points, and
	// the euro sign (its own byte in that encoding) after or before the number.
	{file: "billing-currency-1252.csv", source: "billing", status: "loaded", loaded: 2,
		query: "SELECT string_agg(line_id || ':' || charge || '/' || paid || '/' || rendering_provider, ' ' ORDER BY line_id) FROM raw_claim_lines",
		value: "L1:1234.50/90.00/Zoë Martín L2:225.00/0.00/Zoë Martín"},
	// A decimal comma (225,00) is read as one, not as a thousands separator
	// (22500): with ';' between values, quoted with ',', with '.' thousands.
	{file: "decimal-comma.csv", source: "billing", status: "loaded", loaded: 3,
		query: "SELECT string_agg(charge || '/' || coalesce(paid::VARCHAR, ''), ' ' ORDER BY line_id) FROM raw_claim_lines", value: "225.00/0.00 1250.00/90.50 158.00/"},
	{file: "decimal-comma-thousands-dot.csv", source: "billing", status: "loaded", loaded: 2,
		query: "SELECT string_agg(charge || '/' || paid, ' ' ORDER BY line_id) FROM raw_claim_lines", value: "1250.00/90.00 225.00/0.00"},
	{file: "decimal-comma-quoted.csv", source: "billing", status: "loaded", loaded: 2,
		query: "SELECT string_agg(charge || '/' || paid, ' ' ORDER BY line_id) FROM raw_claim_lines", value: "225.00/0.00 158.00/90.00"},
	// A decimal comma first seen past the rows the style is judged from: with ';'
	// between values and no thousands comma on the first rows, it is rejected,
	// never read as 22550.
	{file: "late-decimal-comma.csv", source: "billing", status: "loaded", loaded: 1500, rejected: 1,
		want:  []string{"CAST", "cannot be read safely"},
		query: "SELECT max(charge)::VARCHAR FROM raw_claim_lines", value: "150.00"},
	// Both marks in one file: no amount holding a comma is trusted.
	{file: "mixed-decimal-marks.csv", source: "billing", status: "loaded", loaded: 1, rejected: 2,
		want:  []string{"2 charge (Charge) CAST", "3 charge (Charge) CAST", "some amounts with a decimal comma", "export every amount the same way"},
		query: "SELECT string_agg(line_id || ':' || charge, ' ') FROM raw_claim_lines", value: "L3:150.00"},
	// Lines ended by a carriage return alone: refused whole, and never named by the
	// values the header line would run into (client ids among them).
	{file: "cr-only.csv", status: "failed", want: []string{"carriage return alone", "CSV UTF-8"}},
	// The same with a line feed inside a quoted value, with a header ended by a
	// carriage return before rows ended by line feeds, and in UTF-16 (where Ċ
	// holds the byte of a line feed): judged on the header line, decoded.
	{file: "cr-only-lf-in-cell.csv", status: "failed", want: []string{"carriage return alone"}},
	{file: "cr-header-then-lf.csv", status: "failed", want: []string{"carriage return alone"}},
	{file: "cr-only-utf16.csv", status: "failed", want: []string{"carriage return alone"}},
	{file: "workbook.xlsx.csv", status: "failed", want: []string{"zip", "export the report as CSV"}},
	{file: "long-line.csv", status: "loaded", loaded: 2, rejected: 1, want: []string{"LINE SIZE OVER MAXIMUM", "longer than 4 MB"}},
	{file: "many-shifted.csv", status: "failed", want: []string{"100001 rows have more fields than the header", "re-export with quoted values"}},
	{file: "folder.csv", status: "failed", want: []string{"is a folder"}},
	{file: "broken-link.csv", status: "failed", want: []string{"cannot read"}},
	{file: "changing.csv", status: "failed", want: []string{"changed while it was being read", "next run"}},
}

const hostileHeader = "Appointment ID,Patient Account,Clinician,Appointment Date,Start Time,Status,Service,Referral Source,Referred To,Referrer NPI\n"

// place puts the case's file into dir (generating the large or special
// ones) and returns its path.
func (c hostileCase) place(t *testing.T, dir string) string {
	t.Helper()
	dst := filepath.Join(dir, c.file)
	switch c.file {
	case "long-line.csv":
		body := hostileHeader +
			"A1,900001,Jane Smith,01/05/2026,9:00 AM,Attended,Intake,Google,,\n" +
			"A2,900002,Jane Smith,01/05/2026,9:00 AM,Attended,Intake," + strings.Repeat("x", 10<<20) + ",,\n" +
			"A3,900003,Jane Smith,01/05/2026,9:00 AM,Attended,Intake,Google,,\n"
		must(t, os.WriteFile(dst, []byte(body), 0o644))
	case "many-shifted.csv":
		var b strings.Builder
		b.WriteString(hostileHeader)
		for i := range maxShiftedRows + 1 {
			fmt.Fprintf(&b, "A%d,%d,Jane Smith,01/05/2026,9:00 AM,Attended,Intake,Smith, Jane,,\n", i, 900000+i)
		}
		must(t, os.WriteFile(dst, []byte(b.String()), 0o644))
	case "late-decimal-comma.csv":
		var b strings.Builder
		b.WriteString("Claim Line ID;Patient Account;DOS;Rendering Provider;Rendering Provider NPI;Referring Provider;Referring Provider NPI;Payer;CPT Code;Charge;Paid\n")
		for i := range 1500 {
			fmt.Fprintf(&b, "L%d;%d;01/05/2026;Jane Smith;;Maria Lopez;1457392811;Aetna;90837;150;0\n", i, 900000+i)
		}
		b.WriteString("LX;901999;01/06/2026;Jane Smith;;Maria Lopez;1457392811;Aetna;90837;225,50;92,09\n")
		must(t, os.WriteFile(dst, []byte(b.String()), 0o644))
	case "folder.csv":
		must(t, os.Mkdir(dst, 0o755))
	case "broken-link.csv":
		must(t, os.Symlink(filepath.Join(dir, "does-not-exist"), dst))
	case "changing.csv":
		must(t, os.WriteFile(dst, []byte(hostileHeader+"A1,900001,Jane Smith,01/05/2026,9:00 AM,Attended,Intake,Google,,\n"), 0o644))
	default:
		b, err := os.ReadFile(filepath.Join("testdata", "hostile", c.file))
		must(t, err)
		must(t, os.WriteFile(dst, b, 0o644))
	}
	return dst
}

// ingestSchedulingFolder loads dir/exports/*.csv as scheduling exports into a
// new database in dir, closed when the test ends.
func ingestSchedulingFolder(t *testing.T, dir string) (*sql.DB, IngestSummary) {
	t.Helper()
	in := folderIngester(t, dir, "scheduling")
	sum, err := in.Ingest(context.Background())
	must(t, err)
	return in.DB, sum
}

// folderIngester loads dir/exports/*.csv as source's exports (the other source
// has none) into dir/db.duckdb, closed when the test ends.
func folderIngester(t *testing.T, dir, source string) *Ingester {
	t.Helper()
	cfg := config.Default()
	cfg.Dir = dir
	cfg.Scheduling.Files, cfg.Billing.Files = nil, nil
	if source == "billing" {
		cfg.Billing.Files = []string{"exports/*.csv"}
	} else {
		cfg.Scheduling.Files = []string{"exports/*.csv"}
	}
	db, err := Open(context.Background(), filepath.Join(dir, "db.duckdb"), Settings{Threads: 2})
	must(t, err)
	t.Cleanup(func() { db.Close() })
	return &Ingester{DB: db, Config: cfg, Secret: []byte("hostile-secret-0123456789")}
}

// writeExports writes files (name: content) into dir/exports.
func writeExports(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	must(t, os.MkdirAll(filepath.Join(dir, "exports"), 0o755))
	for name, body := range files {
		must(t, os.WriteFile(filepath.Join(dir, "exports", name), []byte(body), 0o644))
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestHostileInput(t *testing.T) {
	ctx := context.Background()
	for _, c := range hostileCases {
		t.Run(c.file, func(t *testing.T) {
			dir := t.TempDir()
			exports := filepath.Join(dir, "exports")
			must(t, os.Mkdir(exports, 0o755))
			path := c.place(t, exports)
			cfg := config.Default()
			cfg.Dir = dir
			cfg.Scheduling.Files, cfg.Billing.Files = nil, nil
			if c.source == "billing" {
				cfg.Billing.Files = []string{"exports/*.csv"}
			} else {
				cfg.Scheduling.Files = []string{"exports/*.csv"}
			}
			db, err := Open(ctx, filepath.Join(dir, "db.duckdb"), Settings{Threads: 2})
			must(t, err)
			defer db.Close()
			if c.file == "changing.csv" {
				testHookBeforeCommit = func(p string) {
					if p == path {
						f, _ := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
						f.WriteString("A2,900002,Jane Smith,01/06/2026,9:00 AM,Scheduled,Intake,Google,,\n")
						f.Close()
					}
				}
				defer func() { testHookBeforeCommit = nil }()
			}
			in := &Ingester{DB: db, Config: cfg, Secret: []byte("hostile-secret-0123456789"), TmpDir: dir}
			sum, err := in.Ingest(ctx)
			if err != nil {
				t.Fatalf("ingest stopped instead of reporting the file: %v", err)
			}
			var res *FileResult
			for i := range sum.Files {
				if strings.HasSuffix(sum.Files[i].Path, c.file) {
					res = &sum.Files[i]
				}
			}
			if res == nil {
				t.Fatalf("no result for %s: %+v", c.file, sum.Files)
			}
			// A file of its header alone says so; a file with rows does not.
			if c.status == "loaded" && res.Empty != strings.HasPrefix(c.file, "header-") {
				t.Errorf("Empty = %v", res.Empty)
			}
			if res.Status != c.status || res.Loaded != c.loaded || res.Rejected != c.rejected {
				t.Fatalf("status %s, loaded %d, rejected %d; want %s, %d, %d (problem: %s)",
					res.Status, res.Loaded, res.Rejected, c.status, c.loaded, c.rejected, res.Problem)
			}
			var text string
			if c.status == "failed" {
				text = res.Problem
				if strings.Contains(text, "90000") {
					t.Errorf("problem holds a client id: %q", text)
				}
				if !strings.Contains(res.Path, c.file) {
					t.Errorf("problem names %q, not the file", res.Path)
				}
				var n int
				must(t, db.QueryRow("SELECT count(*) FROM ingest_problems WHERE path LIKE ?", "%"+c.file).Scan(&n))
				if n != 1 {
					t.Errorf("ingest_problems has %d rows for the file, want 1", n)
				}
				var ledger int
				must(t, db.QueryRow("SELECT count(*) FROM ingest_files").Scan(&ledger))
				if ledger != 0 {
					t.Errorf("a failed file is in the ledger")
				}
			} else {
				rows, err := db.Query("SELECT path, coalesce(line::VARCHAR, ''), coalesce(column_name, ''), error_type, message FROM rejected_rows")
				must(t, err)
				for rows.Next() {
					var p, line, col, typ, msg string
					must(t, rows.Scan(&p, &line, &col, &typ, &msg))
					if !strings.HasSuffix(p, c.file) {
						t.Errorf("reject names %q, not the file", p)
					}
					if strings.Contains(msg, "90000") || strings.Contains(col, "90000") {
						t.Errorf("reject holds a client id: column %q, message %q", col, msg)
					}
					text += strings.Join([]string{line, col, typ, msg}, " ") + "\n"
				}
				rows.Close()
				var stored int64
				table := "raw_appointments"
				if c.source == "billing" {
					table = "raw_claim_lines"
				}
				must(t, db.QueryRow("SELECT count(*) FROM "+table).Scan(&stored))
				if stored != c.loaded {
					t.Errorf("table holds %d rows, summary says %d", stored, c.loaded)
				}
			}
			for _, w := range c.want {
				if !strings.Contains(text, w) {
					t.Errorf("messages do not mention %q:\n%s", w, text)
				}
			}
			if c.query != "" {
				var got string
				must(t, db.QueryRow(c.query).Scan(&got))
				if got != c.value {
					t.Errorf("%s = %q, want %q", c.query, got, c.value)
				}
			}
		})
	}
}

// TestFilesReadTogether loads several exports of the same layout in one
// read: per-file counts, rejects and duplicates stay per file, and a file
// that fails (here: it changes while read) does not keep the others out.
func TestFilesReadTogether(t *testing.T) {
	dir := t.TempDir()
	must(t, os.Mkdir(filepath.Join(dir, "exports"), 0o755))
	row := func(id, date, src string) string {
		return id + ",9" + id[1:] + ",Jane Smith," + date + ",9:00 AM,Attended,Intake," + src + ",,\n"
	}
	files := map[string]string{
		"a.csv": hostileHeader + row("A1", "01/05/2026", "Google") + row("A2", "01/06/2026", "Google"),
		"b.csv": hostileHeader + row("A3", "01/05/2026", "Google"),
		"c.csv": hostileHeader + row("A4", "02/30/2026", "Google") + row("A5", "01/05/2026", "Google") + row("A5", "01/05/2026", "Self") + row("A6", "01/05/2026", "Google"),
	}
	for name, body := range files {
		must(t, os.WriteFile(filepath.Join(dir, "exports", name), []byte(body), 0o644))
	}
	changing := filepath.Join(dir, "exports", "b.csv")
	testHookBeforeCommit = func(p string) {
		if p == changing {
			f, _ := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
			f.WriteString(row("A9", "01/07/2026", "Google"))
			f.Close()
		}
	}
	defer func() { testHookBeforeCommit = nil }()
	db, sum := ingestSchedulingFolder(t, dir)
	got := fileOutcomes(sum)
	want := map[string]string{"a.csv": "loaded 2 0", "b.csv": "failed 0 0", "c.csv": "loaded 2 2"}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s: %q, want %q", name, got[name], w)
		}
	}
	var ids string
	must(t, db.QueryRow("SELECT string_agg(appointment_id || ':' || referral_source, ',' ORDER BY appointment_id) FROM raw_appointments").Scan(&ids))
	if ids != "A1:Google,A2:Google,A5:Self,A6:Google" {
		t.Errorf("rows %s", ids)
	}
	var ledger string
	must(t, db.QueryRow("SELECT string_agg(path || '=' || rows_loaded || '/' || rows_rejected, ',' ORDER BY path) FROM ingest_files").Scan(&ledger))
	if ledger != filepath.Join("exports", "a.csv")+"=2/0,"+filepath.Join("exports", "c.csv")+"=2/2" {
		t.Errorf("ledger %s", ledger)
	}
}

// referrals check reads an export's rows as the loader does, whatever the encoding:
// the one bad date of the UTF-16 file is named as written, and the others pass.
func TestCheckReadsEncodings(t *testing.T) {
	ctx := context.Background()
	mem, err := openCheckDB(ctx, config.Statuses{})
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	src := config.Default().Scheduling
	for _, c := range []struct {
		file, encoding string
		rows           int
		warning        string
	}{
		// One bad date of three: its row would be rejected, the file loads.
		{"utf-16.csv", "utf-16", 3, `1 of 3 dates in column "Appointment Date", such as "02/30/2026", do not match date_format "%m/%d/%Y": their rows would be rejected`},
		{"windows-1252.csv", "windows-1252", 2, ""},
		{"bom-crlf.csv", "utf-8", 2, ""},
	} {
		fc := checkFile(ctx, mem, "scheduling", src, filepath.Join("testdata", "hostile", c.file), c.file, testYears)
		if fc.Encoding != c.encoding || fc.Rows != c.rows {
			t.Errorf("%s: encoding %q, %d rows; want %q, %d", c.file, fc.Encoding, fc.Rows, c.encoding, c.rows)
		}
		if !fc.OK() {
			t.Errorf("%s: problems %q", c.file, fc.Problems)
		}
		if got := strings.Join(fc.Warnings, "; "); (c.warning == "") != (got == "") || !strings.Contains(got, c.warning) {
			t.Errorf("%s: warnings %q, want %q", c.file, got, c.warning)
		}
	}
}

// A file that ends inside a quoted value (cut off mid-value, or a quote never
// closed) loses that row: it is reported with its line and counted as
// rejected, whether the file is read alone or with others (DuckDB, reading
// five files or more together, drops the row without a reject).
func TestFileEndingInsideQuoteIsReported(t *testing.T) {
	row := func(id, src string) string {
		return id + ",9" + id[1:] + ",Jane Smith,01/05/2026,9:00 AM,Attended,Intake," + src + ",Practice,\n"
	}
	cut := hostileHeader + row("A1", "Google") + row("A2", "Self") + `A3,903,Jane Smith,01/05/2026,9:00 AM,Attended,Intake,"Garcia, Sandr`
	stray := hostileHeader + row("A1", "Google") + row("A2", `Dr Lopez 5'10"`) + row("A3", "Self")
	// Past a value with a line break, the cut-off row is line 4 as the reader
	// numbers it (physical line 5), and no line counts as swallowed.
	broken := hostileHeader + row("A1", "\"Dr Lopez\nSt Mary's\"") + row("A2", "Self") + `A3,903,Jane Smith,01/05/2026,9:00 AM,Attended,Intake,"Garcia, Sandr`
	unclosed, err := os.ReadFile(filepath.Join("testdata", "hostile", "unclosed-quote.csv"))
	must(t, err)
	for _, c := range []struct {
		name, body       string
		others           int
		loaded, rejected int64
		want             []string
	}{
		{"cut off, alone", cut, 0, 2, 1, []string{"4 referral_source (Referral Source) UNQUOTED VALUE the file ends inside a quoted value"}},
		{"cut off, read with five others", cut, 5, 2, 1, []string{"4 referral_source (Referral Source) UNQUOTED VALUE the file ends inside a quoted value"}},
		{"cut off past a line break, alone", broken, 0, 2, 1, []string{"4 referral_source (Referral Source) UNQUOTED VALUE the file ends inside a quoted value"}},
		{"cut off past a line break, read with five others", broken, 5, 2, 1, []string{"4 referral_source (Referral Source) UNQUOTED VALUE the file ends inside a quoted value"}},
		{"unclosed to the end, read with five others", string(unclosed), 5, 1, 4, []string{"3 referral_source (Referral Source) UNQUOTED VALUE", "swallowed 3 more line(s)"}},
		// After a quote inside an unquoted value, which is text: the same count.
		{"unclosed after a stray quote, alone", hostileHeader + row("A1", `Dr 5'10" Lopez`) + row("A2", "Self") +
			row("A3", `"Dr. Maria Lopez`) + row("A4", "Google") + row("A5", "Self"), 0, 2, 3,
			[]string{"4 referral_source (Referral Source) UNQUOTED VALUE", "swallowed 2 more line(s)"}},
		// A quote inside an unquoted value is text to the reader, which loads
		// every row: nothing is rejected, although the scan sees a quote open.
		{"a quote inside a value, alone", stray, 0, 3, 0, nil},
		{"a quote inside a value, read with five others", stray, 5, 3, 0, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			must(t, os.Mkdir(filepath.Join(dir, "exports"), 0o755))
			for i := range c.others {
				body := hostileHeader + row(fmt.Sprintf("B%d1", i), "Google") + row(fmt.Sprintf("B%d2", i), "Self")
				must(t, os.WriteFile(filepath.Join(dir, "exports", fmt.Sprintf("a%d.csv", i)), []byte(body), 0o644))
			}
			// Named and dated last: the last file of the read.
			path := filepath.Join(dir, "exports", "z.csv")
			must(t, os.WriteFile(path, []byte(c.body), 0o644))
			later := time.Now().Add(time.Minute)
			must(t, os.Chtimes(path, later, later))
			db, sum := ingestSchedulingFolder(t, dir)
			var res FileResult
			for _, f := range sum.Files {
				if filepath.Base(f.Path) == "z.csv" {
					res = f
				} else if f.Status != "loaded" || f.Loaded != 2 || f.Rejected != 0 {
					t.Errorf("%s: %s, %d loaded, %d rejected; want loaded, 2, 0", f.Path, f.Status, f.Loaded, f.Rejected)
				}
			}
			if res.Status != "loaded" || res.Loaded != c.loaded || res.Rejected != c.rejected {
				t.Fatalf("z.csv: %s, %d loaded, %d rejected; want loaded, %d, %d (%s)", res.Status, res.Loaded, res.Rejected, c.loaded, c.rejected, res.Problem)
			}
			var text string
			must(t, db.QueryRow(`SELECT coalesce(string_agg(concat_ws(' ', line, column_name, error_type, message), '\n' ORDER BY line, error_type), '')
				FROM rejected_rows WHERE path LIKE '%z.csv'`).Scan(&text))
			for _, w := range c.want {
				if !strings.Contains(text, w) {
					t.Errorf("rejects do not say %q:\n%s", w, text)
				}
			}
			if c.rejected == 1 && strings.Contains(text, "swallowed") {
				t.Errorf("a cut-off last row swallows no line:\n%s", text)
			}
			var ledger int64
			must(t, db.QueryRow(`SELECT rows_rejected FROM ingest_files WHERE path LIKE '%z.csv'`).Scan(&ledger))
			if ledger != c.rejected {
				t.Errorf("ledger: %d rejected, want %d", ledger, c.rejected)
			}
		})
	}
}

// referrals check reads every byte of an export: a file cut off inside a
// quoted value is a problem, named by line and column.
func TestCheckFindsFileEndingInsideQuote(t *testing.T) {
	ctx := context.Background()
	mem, err := openCheckDB(ctx, config.Statuses{})
	must(t, err)
	defer mem.Close()
	path := filepath.Join(t.TempDir(), "cut.csv")
	must(t, os.WriteFile(path, []byte(hostileHeader+
		"A1,901,Jane Smith,01/05/2026,9:00 AM,Attended,Intake,Google,,\n"+
		`A2,902,Jane Smith,01/05/2026,9:00 AM,Attended,Intake,"Garcia, Sandr`), 0o644))
	fc := checkFile(ctx, mem, "scheduling", config.Default().Scheduling, path, "cut.csv", testYears)
	if len(fc.Problems) != 1 || !strings.Contains(fc.Problems[0], `line 3: the file ends inside a quoted value that opens on that line, in column "Referral Source"`) {
		t.Errorf("problems %q, want one naming line 3 and the column", fc.Problems)
	}
	// After a value with a line break, the line as the reader numbers it.
	must(t, os.WriteFile(path, []byte(hostileHeader+
		"A1,901,Jane Smith,01/05/2026,9:00 AM,Attended,Intake,\"Dr Lopez\nSt Mary's\",,\n"+
		`A2,902,Jane Smith,01/05/2026,9:00 AM,Attended,Intake,"Garcia, Sandr`), 0o644))
	fc = checkFile(ctx, mem, "scheduling", config.Default().Scheduling, path, "cut.csv", testYears)
	if len(fc.Problems) != 1 || !strings.Contains(fc.Problems[0], `line 3: the file ends inside a quoted value`) {
		t.Errorf("problems %q past a line break, want one naming line 3", fc.Problems)
	}
	// The same file, closed, and with a quote inside an unquoted value, which
	// the reader takes as text: no problem.
	for _, last := range []string{`"Garcia, Sandra",,`, `Dr Lopez 5'10",,`} {
		must(t, os.WriteFile(path, []byte(hostileHeader+
			"A1,901,Jane Smith,01/05/2026,9:00 AM,Attended,Intake,Google,,\n"+
			`A2,902,Jane Smith,01/05/2026,9:00 AM,Attended,Intake,`+last), 0o644))
		if fc := checkFile(ctx, mem, "scheduling", config.Default().Scheduling, path, "cut.csv", testYears); !fc.OK() {
			t.Errorf("problems %q on a whole file ending %s", fc.Problems, last)
		}
	}
}

// The scan names the record a file ends in with a quoted value open, read the
// reader's way, whatever the chunks.
func TestFieldCounterFindsOpenQuoteAtEnd(t *testing.T) {
	const h = "id,a,b\n"
	for _, c := range []struct {
		data  string
		line  int64
		field int
	}{
		{h + "1,x,y\n2,x,\"cut", 3, 3},
		{h + "1,\"open,x\n2,x,y\n", 2, 2},
		{h + "1,x,y\n2,\"multi\nline\",\"cut\r\nmore", 3, 3},
		{h + "1,x,y\n2,5'10\",y\n3,x,y\n", 0, 0},           // a quote inside a value is text
		{h + "1,x 5'10\",y\n2,x,\"cut", 3, 3},              // …and a real one after it
		{h + "1,\"a \"\"quoted\"\" word\",y\n2,x,y", 0, 0}, // doubled quotes
		{h + "1,x,y\n", 0, 0},
	} {
		for cut := range len(c.data) + 1 {
			fc := newFieldCounter(',', 3, 0)
			fc.Write([]byte(c.data[:cut]))
			fc.Write([]byte(c.data[cut:]))
			fc.Close()
			if fc.openLine != c.line || fc.openField != c.field {
				t.Fatalf("%q cut at %d: open quote at line %d field %d, want %d, %d", c.data, cut, fc.openLine, fc.openField, c.line, c.field)
			}
		}
	}
}

// How a file writes its amounts is decided per file: exports with the same
// header and delimiter, one with decimal commas and one with thousands commas,
// read in one run, are read each its own way. check says which, and calls a
// file with both a problem.
func TestAmountStyleIsPerFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	const h = "Claim Line ID;Patient Account;DOS;Rendering Provider;Charge;Paid\n"
	writeExports(t, dir, map[string]string{
		"a-comma.csv": h + "L1;900001;01/05/2026;Jane Smith;225,00;90,00\nL2;900002;01/05/2026;Jane Smith;1250,00;0,00\n",
		"b-point.csv": h + "L3;900003;01/05/2026;Jane Smith;1,250.00;90.00\nL4;900004;01/05/2026;Jane Smith;225.00;0.00\n",
		"c-comma.csv": h + "L5;900005;01/05/2026;Jane Smith;158,00;1,5\n",
	})
	in := folderIngester(t, dir, "billing")
	db, cfg := in.DB, in.Config
	sum, err := in.Ingest(ctx)
	must(t, err)
	if sum.Loaded != 5 || sum.Rejected != 0 {
		t.Fatalf("%d loaded, %d rejected; want 5, 0: %+v", sum.Loaded, sum.Rejected, sum.Files)
	}
	for _, f := range sum.Files {
		want := ""
		if strings.Contains(f.Path, "comma") {
			want = "decimal comma"
		}
		if f.Amounts != want {
			t.Errorf("%s: amounts %q, want %q", f.Path, f.Amounts, want)
		}
	}
	var got string
	must(t, db.QueryRow(`SELECT string_agg(line_id || '=' || charge || '/' || paid, ' ' ORDER BY line_id) FROM raw_claim_lines`).Scan(&got))
	if want := "L1=225.00/90.00 L2=1250.00/0.00 L3=1250.00/90.00 L4=225.00/0.00 L5=158.00/1.50"; got != want {
		t.Errorf("amounts %s, want %s", got, want)
	}

	mem, err := openCheckDB(ctx, config.Statuses{})
	must(t, err)
	defer mem.Close()
	fc := checkFile(ctx, mem, "billing", cfg.Billing, filepath.Join(dir, "exports", "a-comma.csv"), "a-comma.csv", testYears)
	if !fc.OK() || fc.Amounts != "decimal comma" {
		t.Errorf("check a-comma.csv: amounts %q, problems %q; want decimal comma and none", fc.Amounts, fc.Problems)
	}
	fc = checkFile(ctx, mem, "billing", config.Default().Billing, filepath.Join("testdata", "hostile", "mixed-decimal-marks.csv"), "mixed-decimal-marks.csv", testYears)
	if len(fc.Problems) != 1 || !strings.Contains(fc.Problems[0], "both with a decimal comma (225,00) and with a decimal point") {
		t.Errorf("check mixed-decimal-marks.csv: problems %q, want one about both decimal marks", fc.Problems)
	}
}

// An amount whose thousands separator does not stand between groups of three
// digits, past the rows the file's style is judged from, is rejected with its
// line and column, not read a hundred times too large: DuckDB drops a
// thousands separator wherever it stands. A re-exported line whose newest
// version is rejected keeps the older version. check names the first one.
func TestLateMisplacedSeparatorIsRejected(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	// Enough rows that the late ones are past the 64 KiB the style is judged from.
	// Line ids are the prefix and the row's number; row i is on line i+1.
	body := func(prefix, delim, good string, late map[int]string) string {
		var b strings.Builder
		b.WriteString(strings.Join([]string{"Claim Line ID", "Patient Account", "DOS", "Rendering Provider", "Charge", "Paid"}, delim) + "\n")
		for i := 1; i <= 1500; i++ {
			charge := good
			if v, ok := late[i]; ok {
				charge = v
			}
			b.WriteString(strings.Join([]string{fmt.Sprintf("%s%d", prefix, i), fmt.Sprintf("9%05d", i), "01/05/2026", "Jane Smith", charge, "0"}, delim) + "\n")
		}
		return b.String()
	}
	files := map[string]string{
		// ',' between values: a comma in a value is quoted.
		// A1405's date cannot be read either: one reject, the reader's.
		"a-point.csv": strings.Replace(body("A", ",", `"1,250.00"`, map[int]string{1400: `"225,50"`, 1401: `"1,25,0.00"`, 1402: `"12,345.67"`, 1403: `"2,500"`, 1405: `"99,5"`}),
			"A1405,901405,01/05/2026", "A1405,901405,13/45/2026", 1),
		// ';' with thousands commas in its first rows.
		"b-semi.csv": body("B", ";", "1,250.00", map[int]string{1450: "225,50"}),
		// A decimal comma with thousands points: 225.50 would load as 22550.
		"c-dot.csv": body("C", ";", "1.250,00", map[int]string{1490: "225.50", 1491: "2.500"}),
	}
	writeExports(t, dir, files)
	in := folderIngester(t, dir, "billing")
	db, cfg := in.DB, in.Config
	sum, err := in.Ingest(ctx)
	must(t, err)
	if sum.Loaded != 4500-5 || sum.Rejected != 5 {
		t.Fatalf("%d loaded, %d rejected; want %d, 5: %+v", sum.Loaded, sum.Rejected, 4500-5, sum.Files)
	}
	var rejects string
	must(t, db.QueryRow(`SELECT string_agg(regexp_extract(path, '[a-z]-[a-z]+\.csv') || ' ' || line || ' ' || column_name || ': ' || message, '\n' ORDER BY path, line)
		FROM rejected_rows`).Scan(&rejects))
	for _, w := range []string{
		"a-point.csv 1401 charge (Charge): the amount 225,50 holds a comma that does not separate thousands, where this file writes amounts such as 1,250.00: the reader would drop the comma and load 22550",
		// Not an amount's shape (shownAmount): described, not repeated.
		"a-point.csv 1402 charge (Charge): the amount a number (not shown: it may be a client id or another patient's number) holds a comma",
		"b-semi.csv 1451 charge (Charge): the amount 225,50 holds a comma",
		"c-dot.csv 1491 charge (Charge): the amount 225.50 holds a point that does not separate thousands, where this file writes amounts such as 1.250,00: the reader would drop the point and load 22550, so the row was skipped; export every amount the same way, e.g. 1250,00",
		"a-point.csv 1406 service_date (DOS): Could not convert string \"13/45/2026\"",
	} {
		if !strings.Contains(rejects, w) {
			t.Errorf("rejects do not say %q:\n%s", w, rejects)
		}
	}
	if n := strings.Count(rejects, "a-point.csv 1406 "); n != 1 {
		t.Errorf("line 1406 has %d rejects, want 1 (the date's):\n%s", n, rejects)
	}
	var got string
	must(t, db.QueryRow(`SELECT string_agg(line_id || '=' || charge, ' ' ORDER BY line_id) FROM raw_claim_lines
		WHERE line_id IN ('A1', 'B1', 'C1') OR charge <> 1250`).Scan(&got))
	if want := "A1=1250.00 A1402=12345.67 A1403=2500.00 B1=1250.00 C1=1250.00 C1491=2500.00"; got != want {
		t.Errorf("amounts %s, want %s", got, want)
	}

	// check names the first such amount, and the rows it would skip.
	mem, err := openCheckDB(ctx, config.Statuses{})
	must(t, err)
	defer mem.Close()
	fc := checkFile(ctx, mem, "billing", cfg.Billing, filepath.Join(dir, "exports", "a-point.csv"), "a-point.csv", testYears)
	if len(fc.Problems) != 1 || !strings.Contains(fc.Problems[0], `line 1401: the amount 225,50 in column "Charge" holds a comma that does not separate thousands`) ||
		!strings.Contains(fc.Problems[0], "3 such rows would be skipped") {
		t.Errorf("check a-point.csv: problems %q, want one naming line 1401 and 3 rows", fc.Problems)
	}

	// check finds them in a file set to a single-byte encoding too.
	cp := cfg.Billing
	cp.Encoding = "windows-1252"
	if fc := checkFile(ctx, mem, "billing", cp, filepath.Join(dir, "exports", "b-semi.csv"), "b-semi.csv", testYears); len(fc.Problems) != 1 ||
		!strings.Contains(fc.Problems[0], `line 1451: the amount 225,50 in column "Charge"`) {
		t.Errorf("check b-semi.csv as windows-1252: problems %q, want one naming line 1451", fc.Problems)
	}

	// A later export of a line whose amount is misread keeps the version loaded
	// before: on an earlier night (d re-exports a), or by an older file of the
	// same read, whose row the read first left out (f re-exports e).
	writeExports(t, dir, map[string]string{
		"d-point.csv": body("A", ",", `"1,250.00"`, map[int]string{1450: `"99,50"`}),
		"e-point.csv": body("E", ",", `"1,250.00"`, nil),
		"f-point.csv": body("E", ",", `"1,250.00"`, map[int]string{1460: `"99,50"`}),
	})
	sum, err = in.Ingest(ctx)
	must(t, err)
	if sum.Rejected != 2 {
		t.Fatalf("second night: %d rejected, want 2: %+v", sum.Rejected, sum.Files)
	}
	must(t, db.QueryRow(`SELECT string_agg(line_id || '=' || charge || ' ' || regexp_extract(path, '[a-z]-point'), ' ' ORDER BY line_id)
		FROM raw_claim_lines JOIN ingest_files USING (file_id) WHERE line_id IN ('A1400', 'A1450', 'A1451', 'E1459', 'E1460')`).Scan(&got))
	if want := "A1400=1250.00 d-point A1450=1250.00 a-point A1451=1250.00 d-point E1459=1250.00 f-point E1460=1250.00 e-point"; got != want {
		t.Errorf("after the re-export: %s, want %s", got, want)
	}

	// Within one read, the line misread in both files is loaded from neither, and the
	// line misread in the older file only comes from the newer: never read back
	// misread (g, h), never counted twice (i, j). A line id twice in one file, the
	// earlier row right and the later misread, keeps the earlier row. A misread row
	// without an id is rejected once, for the id.
	kRows := strings.Replace(body("K", ",", `"1,250.00"`, map[int]string{1460: `"77,5"`, 1470: `"88,5"`}), "K1460,", "K5,", 1)
	kRows = strings.Replace(kRows, "K1470,", ",", 1)
	writeExports(t, dir, map[string]string{
		"g-point.csv": body("G", ",", `"1,250.00"`, map[int]string{1450: `"99,50"`}),
		"h-point.csv": body("G", ",", `"1,250.00"`, map[int]string{1450: `"99,50"`, 3: `"2,500.00"`}),
		"i-point.csv": body("I", ",", `"1,250.00"`, map[int]string{1450: `"99,50"`}),
		"j-point.csv": body("I", ",", `"1,250.00"`, nil),
		"k-point.csv": kRows,
	})
	sum, err = in.Ingest(ctx)
	must(t, err)
	perFile := map[string]int64{}
	for _, f := range sum.Files {
		if f.Status == "loaded" {
			perFile[filepath.Base(f.Path)] = f.Rejected
		}
	}
	if want := map[string]int64{"g-point.csv": 1, "h-point.csv": 1, "i-point.csv": 1, "j-point.csv": 0, "k-point.csv": 2}; !reflect.DeepEqual(perFile, want) {
		t.Errorf("third night's rejects per file %v, want %v", perFile, want)
	}
	must(t, db.QueryRow(`SELECT string_agg(line_id || '=' || charge || ' ' || regexp_extract(path, '[a-z]-point'), ' ' ORDER BY line_id)
		FROM raw_claim_lines JOIN ingest_files USING (file_id) WHERE line_id IN ('G1450', 'I1450', 'K5')`).Scan(&got))
	if want := "I1450=1250.00 j-point K5=1250.00 k-point"; got != want {
		t.Errorf("third night: %s, want %s", got, want)
	}
	var kRejects string
	must(t, db.QueryRow(`SELECT string_agg(coalesce(line::VARCHAR, '-') || ' ' || error_type, ', ' ORDER BY line) FROM rejected_rows WHERE path LIKE '%k-point.csv'`).Scan(&kRejects))
	if !strings.HasPrefix(kRejects, "1461 CAST") || strings.Count(kRejects, ",") != 1 || !strings.Contains(kRejects, "MISSING VALUE") {
		t.Errorf("k-point.csv rejects %q, want the misread K5 on line 1461 and the row without an id, once each", kRejects)
	}
}

// A quote inside a text value after the amounts (5'10") is text to the reader:
// the amount check, walking from the record's end, gives that record to the
// walk from its start, which reads quotes the reader's way, and a misplaced
// separator before it is still caught, never loaded a hundred times too large.
func TestMisplacedSeparatorBeforeAStrayQuote(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("Claim Line ID,Patient Account,DOS,Rendering Provider,Charge,Paid,Payer\n")
	for i := 1; i <= 1400; i++ {
		fmt.Fprintf(&b, "L%d,9%05d,01/05/2026,Jane Smith,\"1,250.00\",0,Aetna\n", i, i)
	}
	b.WriteString("L1401,901401,01/05/2026,Jane Smith,\"225,50\",0,Bob 5'10\" Ins\n")
	b.WriteString("L1402,901402,01/05/2026,Jane Smith,\"225,50\",0,\"Blue, Cross\"\n")
	b.WriteString("L1403,901403,01/05/2026,Jane Smith,\"2,500.00\",0,Bob 5'10\" Ins\n")
	writeExports(t, dir, map[string]string{"a.csv": b.String()})
	in := folderIngester(t, dir, "billing")
	sum, err := in.Ingest(ctx)
	must(t, err)
	if sum.Loaded != 1401 || sum.Rejected != 2 {
		t.Fatalf("%d loaded, %d rejected; want 1401, 2: %+v", sum.Loaded, sum.Rejected, sum.Files)
	}
	var rejected, charges string
	must(t, in.DB.QueryRow(`SELECT string_agg(line || ' ' || column_name, ', ' ORDER BY line) FROM rejected_rows`).Scan(&rejected))
	if rejected != "1402 charge (Charge), 1403 charge (Charge)" {
		t.Errorf("rejects %q, want lines 1402 and 1403, charge", rejected)
	}
	must(t, in.DB.QueryRow(`SELECT string_agg(DISTINCT charge::VARCHAR, ' ' ORDER BY charge::VARCHAR) FROM raw_claim_lines`).Scan(&charges))
	if charges != "1250.00 2500.00" {
		t.Errorf("charges loaded %q, want 1250.00 2500.00", charges)
	}
}

// A carriage return alone inside a value fails the read of the files read
// together with it; they are read one by one, and that file from a copy with
// the return as a space: every row loads, once, and a rerun loads nothing.
func TestStrayCRAmongOtherFiles(t *testing.T) {
	dir := t.TempDir()
	const h = "Appointment ID,Patient Account,Clinician,Appointment Date,Start Time,Status,Service,Referral Source,Referred To,Referrer NPI\r\n"
	row := func(id, client, source string) string {
		return id + "," + client + ",Jane Smith,01/05/2026,9:00 AM,Attended,Intake," + source + ",,\r\n"
	}
	writeExports(t, dir, map[string]string{
		"a.csv": h + row("A1", "900001", "Google") + row("A2", "900002", "Dr. Lee"),
		"b.csv": h + row("B1", "900003", "Dr. Maria\rLopez") + row("B2", "900004", "Google"),
		"c.csv": h + row("C1", "900005", "St. Anne EAP"),
	})
	in := folderIngester(t, dir, "scheduling")
	sum, err := in.Ingest(context.Background())
	must(t, err)
	if sum.Count("failed") != 0 || sum.Loaded != 5 || sum.Rejected != 0 {
		t.Fatalf("%d files failed, %d rows loaded, %d rejected; want 0, 5, 0: %+v", sum.Count("failed"), sum.Loaded, sum.Rejected, sum.Files)
	}
	var sources, notice string
	must(t, in.DB.QueryRow(`SELECT string_agg(referral_source, '|' ORDER BY appointment_id) FROM raw_appointments`).Scan(&sources))
	if sources != "Google|Dr. Lee|Dr. Maria Lopez|Google|St. Anne EAP" {
		t.Errorf("referral sources %q", sources)
	}
	must(t, in.DB.QueryRow(`SELECT string_agg(regexp_replace(path, '.*/', '') || ':' || line || ':' || error_type, '|') FROM rejected_rows`).Scan(&notice))
	if notice != "b.csv:2:CARRIAGE RETURN" {
		t.Errorf("notices %q, want b.csv:2:CARRIAGE RETURN", notice)
	}
	sum, err = in.Ingest(context.Background())
	must(t, err)
	if sum.Loaded != 0 || sum.Count("failed") != 0 {
		t.Errorf("rerun: %d rows loaded, %d files failed; want none", sum.Loaded, sum.Count("failed"))
	}
	var n int
	must(t, in.DB.QueryRow(`SELECT count(*) FROM raw_appointments`).Scan(&n))
	if n != 5 {
		t.Errorf("after the rerun: %d rows, want 5", n)
	}
}

// Of an id twice in a file, the row kept is the file's last. The loader takes
// the table's row order for the file's: DuckDB keeps it only when the
// statement that reads the files has no join (its BATCH_INSERT); an IN list
// of constants became one, and then threads inserted a large file's parts in
// any order: the middle row was kept in about one load in three.
func TestDuplicateIDKeepsTheFileLast(t *testing.T) {
	dir := t.TempDir()
	const h = hostileHeader
	const n = 300_000
	files := map[string]string{}
	for f := range 3 {
		var b strings.Builder
		b.WriteString(h)
		for i := range n {
			id, source := fmt.Sprintf("F%d-%d", f, i), "Google"
			if f == 2 {
				// b.csv and c.csv overlap, as monthly exports do: rows left out at load.
				id = fmt.Sprintf("F1-%d", i+n/2)
			}
			if f == 0 && (i == 0 || i == n/2 || i == n-1) {
				id, source = "DUP", fmt.Sprintf("row %d", i+2)
			}
			fmt.Fprintf(&b, "%s,%d,Jane Smith,01/05/2026,9:00 AM,Attended,Intake,%s,,\n", id, 900000+i, source)
		}
		files[string(rune('a'+f))+".csv"] = b.String()
	}
	writeExports(t, dir, files)
	readPlans := recordReadPlans(t)
	for run := range 3 {
		in := folderIngester(t, filepath.Join(dir, fmt.Sprint(run)), "scheduling")
		in.Config.Dir = dir
		*readPlans = (*readPlans)[:0]
		sum, err := in.Ingest(context.Background())
		must(t, err)
		if sum.Count("failed") != 0 {
			t.Fatalf("files failed: %+v", sum.Files)
		}
		plans := *readPlans
		var kept string
		must(t, in.DB.QueryRow(`SELECT string_agg(referral_source, '|') FROM raw_appointments WHERE appointment_id = 'DUP'`).Scan(&kept))
		if want := fmt.Sprintf("row %d", n+1); kept != want {
			t.Errorf("load %d: the row of DUP kept is %q; the file's last is %q", run, kept, want)
		}
		// The reads' plans keep the file's order, every time.
		if len(plans) == 0 {
			t.Fatal("no read statement seen")
		}
		for _, plan := range plans {
			if !strings.Contains(plan, "BATCH_INSERT") || strings.Contains(plan, "JOIN") {
				t.Errorf("load %d: a read's plan does not keep the file's order (BATCH_INSERT, no join):\n%s", run, plan)
			}
		}
	}
}

// Files whose scans saw no id twice are read without keeping their order (a
// plain parallel INSERT), and the setting is back to DuckDB's default after.
func TestReadWithoutOrderWhereNoIDRepeats(t *testing.T) {
	dir := t.TempDir()
	const h = hostileHeader
	writeExports(t, dir, map[string]string{
		"a.csv": h + "A1,900001,Jane Smith,01/05/2026,9:00 AM,Attended,Intake,Google,,\n",
		"b.csv": h + "B1,900002,Jane Smith,01/05/2026,9:00 AM,Attended,Intake,Google,,\n",
	})
	readPlans := recordReadPlans(t)
	in := folderIngester(t, dir, "scheduling")
	sum, err := in.Ingest(context.Background())
	must(t, err)
	plans := *readPlans
	if sum.Loaded != 2 || len(plans) != 1 {
		t.Fatalf("%d rows loaded in %d reads, want 2 in 1", sum.Loaded, len(plans))
	}
	if strings.Contains(plans[0], "BATCH_INSERT") {
		t.Errorf("the read keeps the files' order, which no id needs:\n%s", plans[0])
	}
	var keep bool
	must(t, in.DB.QueryRow("SELECT current_setting('preserve_insertion_order')").Scan(&keep))
	if !keep {
		t.Error("preserve_insertion_order left off after the load")
	}
}

// A NUL before a quote hid from the scan of the file an id the reader, reading
// the copy without NULs, sees twice: the copy is scanned, and the read keeps
// the file's order.
func TestOrderKeptWhereTheCopyHoldsRepeats(t *testing.T) {
	dir := t.TempDir()
	const h = hostileHeader
	writeExports(t, dir, map[string]string{
		"a.csv": h + "A0,800000,Jane Smith,01/05/2026,9:00 AM,Attended,Intake,\x00\",\",,\n" +
			"DUP,900001,Jane Smith,01/05/2026,9:00 AM,Attended,Intake,first,,\n" +
			"DUP,900001,Jane Smith,01/05/2026,9:00 AM,Attended,Intake,last,,\n",
	})
	readPlans := recordReadPlans(t)
	in := folderIngester(t, dir, "scheduling")
	_, err := in.Ingest(context.Background())
	must(t, err)
	plans := *readPlans
	if len(plans) != 1 || !strings.Contains(plans[0], "BATCH_INSERT") {
		t.Errorf("the read does not keep the file's order:\n%s", strings.Join(plans, "\n"))
	}
	var got string
	must(t, in.DB.QueryRow(`SELECT string_agg(appointment_id || ':' || referral_source, '|' ORDER BY appointment_id) FROM raw_appointments`).Scan(&got))
	if got != "A0:,|DUP:last" {
		t.Errorf("rows %q, want A0:,|DUP:last", got)
	}
}

// A load cancelled during a read without order leaves the setting as DuckDB
// has it by default: it is the database's, and later reads need it.
func TestOrderSettingResetAfterCancel(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("Appointment ID,Patient Account,Clinician,Appointment Date,Start Time,Status,Service,Referral Source,Referred To,Referrer NPI\n")
	for i := range 300_000 {
		fmt.Fprintf(&b, "A%d,%d,Jane Smith,01/05/2026,9:00 AM,Attended,Intake,Google,,\n", i, 900000+i)
	}
	writeExports(t, dir, map[string]string{"a.csv": b.String()})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var seen bool
	testHookInsert = func(tx *sql.Tx, q string, args []any) {
		var keep bool
		must(t, tx.QueryRow("SELECT current_setting('preserve_insertion_order')").Scan(&keep))
		seen = !keep
		// Cancelled while DuckDB reads: the transaction is left aborted.
		time.AfterFunc(30*time.Millisecond, cancel)
	}
	defer func() { testHookInsert = nil }()
	in := folderIngester(t, dir, "scheduling")
	if _, err := in.Ingest(ctx); err == nil {
		t.Fatal("the load ended before it was cancelled: the test tests nothing")
	}
	if !seen {
		t.Fatal("the read was not made without order: the test tests nothing")
	}
	var keep bool
	must(t, in.DB.QueryRow("SELECT current_setting('preserve_insertion_order')").Scan(&keep))
	if !keep {
		t.Error("preserve_insertion_order left off after a cancelled load")
	}
}

// Should a read made without the files' order (the scans saw every id once)
// find an id twice, or two rows without an id, after all, the group is read
// again in order: the last row of the id is kept, the blank ids' rejects are
// on their lines.
func TestOrderRegainedWhereTheScanMissedARepeat(t *testing.T) {
	const h = hostileHeader
	row := func(id, source string) string {
		return id + ",900001,Jane Smith,01/05/2026,9:00 AM,Attended,Intake," + source + ",,\n"
	}
	for _, c := range []struct {
		name, body, query, want string
	}{
		{"id twice", h + row("DUP", "first") + row("A2", "x") + row("DUP", "last"),
			`SELECT string_agg(appointment_id || ':' || referral_source, '|' ORDER BY appointment_id) FROM raw_appointments`, "A2:x|DUP:last"},
		{"two blank ids", h + row("A1", "x") + row("", "first") + row("A3", "x") + row(" ", "second"),
			`SELECT string_agg(line::VARCHAR, '|' ORDER BY line) FROM rejected_rows WHERE error_type = 'MISSING VALUE'`, "3|5"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeExports(t, dir, map[string]string{"a.csv": c.body})
			var calls int
			testHookKeepOrder = func(items []*prepared, keep bool) bool {
				calls++
				return keep && calls > 1
			}
			readPlans := recordReadPlans(t)
			defer func() { testHookKeepOrder = nil }()
			in := folderIngester(t, dir, "scheduling")
			sum, err := in.Ingest(context.Background())
			must(t, err)
			if sum.Count("failed") != 0 {
				t.Fatalf("failed: %+v", sum.Files)
			}
			plans := *readPlans
			if len(plans) != 2 || strings.Contains(plans[0], "BATCH_INSERT") || !strings.Contains(plans[1], "BATCH_INSERT") {
				t.Fatalf("%d reads; want one without order, then one in order", len(plans))
			}
			var got string
			must(t, in.DB.QueryRow(c.query).Scan(&got))
			if got != c.want {
				t.Errorf("%s = %q, want %q", c.query, got, c.want)
			}
			var keep bool
			must(t, in.DB.QueryRow("SELECT current_setting('preserve_insertion_order')").Scan(&keep))
			if !keep {
				t.Error("preserve_insertion_order left off")
			}
		})
	}
}

// check warns of the rows the run would skip as shifted (the first one's line
// and fields, and how many), and of carriage returns it would read as spaces.
func TestCheckFindsShiftedRows(t *testing.T) {
	ctx := context.Background()
	mem, err := openCheckDB(ctx, config.Statuses{})
	must(t, err)
	defer mem.Close()
	path := filepath.Join("testdata", "hostile", "shifted-by-two.csv")
	fc := checkFile(ctx, mem, "scheduling", config.Default().Scheduling, path, "shifted-by-two.csv", testYears)
	if !fc.OK() || len(fc.Warnings) != 1 || !strings.Contains(fc.Warnings[0], "line 2: the row has 12 fields where the header has 10; 3 row(s) have more fields than the header and would be skipped") {
		t.Errorf("problems %q, warnings %q; want one warning naming line 2, 12 fields and 3 rows", fc.Problems, fc.Warnings)
	}
	// Rows the reader rejects itself, with too many fields or too few, as the run
	// rejects lines 3 and 4.
	fc = checkFile(ctx, mem, "scheduling", config.Default().Scheduling, filepath.Join("testdata", "hostile", "field-count.csv"), "field-count.csv", testYears)
	if got := strings.Join(fc.Warnings, "; "); !fc.OK() || len(fc.Warnings) != 2 ||
		!strings.Contains(got, "line 3: the row has 12 fields where the header has 10; 1 row(s) have more fields") ||
		!strings.Contains(got, "line 4: the row has 3 fields where the header has 10; 1 row(s) have fewer fields") {
		t.Errorf("field-count.csv: problems %q, warnings %q; want lines 3 and 4", fc.Problems, got)
	}
	// Carriage returns alone are a warning too, with the first one's line; a CRLF
	// file's last one is no such, nor one that only NULs part from its LF (the run
	// drops them first). In UTF-16 a byte 13 is no carriage return of its own: no
	// warning there.
	for file, want := range map[string]string{"lone-cr-crlf.csv": "line 3: 2 carriage return(s)", "cr-at-end.csv": "1 carriage return(s)", "crlf-final-cr.csv": "", "lone-cr-utf16.csv": "", "cr-nul-lf.csv": ""} {
		source, src := "scheduling", config.Default().Scheduling
		if file == "crlf-final-cr.csv" {
			source, src = "billing", config.Default().Billing
		}
		fc := checkFile(ctx, mem, source, src, filepath.Join("testdata", "hostile", file), file, testYears)
		got := strings.Join(fc.Warnings, "; ")
		if !fc.OK() || (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("%s: problems %q, warnings %q; want a warning with %q", file, fc.Problems, got, want)
		}
	}
}

// recordReadPlans collects the plan of each statement that reads a group of
// files, taken while it runs (its functions need the load), until the test
// ends.
func recordReadPlans(t *testing.T) *[]string {
	var plans []string
	testHookInsert = func(tx *sql.Tx, q string, args []any) {
		rows, err := tx.Query("EXPLAIN "+q, args...)
		must(t, err)
		defer rows.Close()
		var plan string
		for rows.Next() {
			var k, v string
			must(t, rows.Scan(&k, &v))
			plan += v
		}
		plans = append(plans, plan)
	}
	t.Cleanup(func() { testHookInsert = nil })
	return &plans
}

// A file refused for its dates' order, read with a good file of the same
// layout (one group): the good one loads, the other fails alone.
func TestDayFirstFileFailsAloneInItsGroup(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{}
	for _, f := range []string{"day-first.csv", "day-first-typo.csv"} {
		b, err := os.ReadFile(filepath.Join("testdata", "hostile", f))
		must(t, err)
		files[f] = string(b)
	}
	// Other ids, so that neither file replaces the other's rows.
	files["day-first.csv"] = strings.ReplaceAll(files["day-first.csv"], "\nA", "\nB")
	writeExports(t, dir, files)
	in := folderIngester(t, dir, "scheduling")
	sum, err := in.Ingest(context.Background())
	must(t, err)
	got := fileOutcomes(sum)
	if got["day-first.csv"] != "failed 0 0" || got["day-first-typo.csv"] != "loaded 24 1" {
		t.Errorf("files: %v; want day-first.csv failed, day-first-typo.csv loaded with 24 rows and 1 rejected", got)
	}
	var n int
	must(t, in.DB.QueryRow(`SELECT count(*) FROM raw_appointments WHERE appointment_id LIKE 'B%'`).Scan(&n))
	if n != 0 {
		t.Errorf("%d rows of the refused file loaded", n)
	}
}

// check reads the dates of the file's rows, not only the first: a file written
// day first whose first rows all have a day up to 12 is still found, as is one
// with two-digit years; a date typo is a warning (its row would be rejected),
// not a problem whose advice would break the file's other rows.
func TestCheckFindsDateOrderAndTwoDigitYears(t *testing.T) {
	ctx := context.Background()
	mem, err := openCheckDB(ctx, config.Statuses{})
	must(t, err)
	defer mem.Close()
	dir := t.TempDir()
	write := func(name string, date func(i int) string) string {
		var b strings.Builder
		b.WriteString(hostileHeader)
		for i := range 120 {
			fmt.Fprintf(&b, "A%d,9%05d,Jane Smith,%s,9:00 AM,Attended,Intake,Google,,\n", i, i, date(i))
		}
		path := filepath.Join(dir, name)
		must(t, os.WriteFile(path, []byte(b.String()), 0o600))
		return path
	}
	src := config.Default().Scheduling
	for _, c := range []struct {
		name          string
		date          func(i int) string
		problem, warn string
	}{
		// The first 60 rows dated 1 to 12 September, day first; then days 13 to 30.
		{"day-first-late.csv", func(i int) string {
			if i < 60 {
				return fmt.Sprintf("%02d/09/2026", i%12+1)
			}
			return fmt.Sprintf("%02d/09/2026", i%18+13)
		}, `60 of 120 dates in column "Appointment Date", such as "13/09/2026", do not read as date_format "%m/%d/%Y" but do as "%d/%m/%Y"`, ""},
		{"two-digit.csv", func(i int) string { return fmt.Sprintf("9/%d/26", i%28+1) },
			`120 of 120 dates in column "Appointment Date", such as "9/1/26", have a two-digit year, which date_format "%m/%d/%Y" reads as the year 26 (the run refuses such a file); set [scheduling] date_format = "%m/%d/%y"`, ""},
		// Month first with three day-first typos: the days above 12 say which it is.
		{"month-first-typos.csv", func(i int) string {
			if i < 3 {
				return fmt.Sprintf("%d/02/2026", 13+i)
			}
			return fmt.Sprintf("01/%02d/2026", i%31+1)
		}, "", `3 of 120 dates in column "Appointment Date", such as "13/02/2026", do not match date_format "%m/%d/%Y": their rows would be rejected; "13/02/2026" reads with day and month the other way round, a typo most likely`},
		{"iso-typo.csv", func(i int) string {
			if i == 7 {
				return "2026-10-05"
			}
			return fmt.Sprintf("10/%02d/2026", i%28+1)
		}, "", `1 of 120 dates in column "Appointment Date", such as "2026-10-05", do not match date_format "%m/%d/%Y": their rows would be rejected`},
		// An export written YYYY-MM-DD with one typo that fits no format: the example,
		// and the format suggested, are the export's, not the typo's (which suggested
		// the date_format already set).
		{"iso-with-typo.csv", func(i int) string {
			if i == 0 {
				return "02/30/2026"
			}
			return fmt.Sprintf("2026-10-%02d", i%28+1)
		}, `dates in column "Appointment Date" such as "2026-10-`, ""},
	} {
		fc := checkFile(ctx, mem, "scheduling", src, write(c.name, c.date), c.name, testYears)
		got, warned := strings.Join(fc.Problems, "; "), strings.Join(fc.Warnings, "; ")
		if (c.problem == "") != (got == "") || !strings.Contains(got, c.problem) || (c.warn == "") != (warned == "") || !strings.Contains(warned, c.warn) ||
			c.name == "iso-with-typo.csv" && !strings.Contains(got, `date_format to the export's format ("%Y-%m-%d")`) {
			t.Errorf("%s: problems %q, warnings %q; want problem %q, warning %q", c.name, got, warned, c.problem, c.warn)
		}
	}
}

func TestSwappedDateFormat(t *testing.T) {
	for in, want := range map[string]string{"%m/%d/%Y": "%d/%m/%Y", "%d.%m.%Y": "%m.%d.%Y", "%-m/%-d/%Y": "%-d/%-m/%Y",
		"%Y-%m-%d %H:%M": "%Y-%d-%m %H:%M", "%Y%m": "", "%d/%b/%Y": ""} {
		if got := swappedDateFormat(in); got != want {
			t.Errorf("swappedDateFormat(%q) = %q, want %q", in, got, want)
		}
	}
}

// With a delimiter outside ASCII the first lone CR's line is not given (a
// character ending in the delimiter's last byte would mislead the count), by
// the run's notice and by check alike; the CR is still read as a space.
func TestLoneCRWithNonASCIIDelimiterHasNoLine(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	body := strings.Join([]string{
		"Appointment ID§Patient Account§Clinician§Appointment Date§Start Time§Status§Service§Referral Source§Referred To§Referrer NPI",
		"A1§900001§Franç\"oise Smith§01/05/2026§9:00 AM§Attended§Intake§Google§§",
		"A2§900002§Jane Smith§01/05/2026§9:00 AM§Attended§Intake§Dr\rSmith§§",
		"A3§900003§Jane Smith§01/06/2026§9:00 AM§Attended§Intake§Web§§", ""}, "\n")
	writeExports(t, dir, map[string]string{"section.csv": body})
	in := folderIngester(t, dir, "scheduling")
	in.Config.Scheduling.Delimiter = "§"
	_, err := in.Ingest(ctx)
	must(t, err)
	db := in.DB
	var line sql.NullInt64
	var msg, source string
	must(t, db.QueryRow(`SELECT line, message FROM rejected_rows WHERE error_type = 'CARRIAGE RETURN'`).Scan(&line, &msg))
	must(t, db.QueryRow(`SELECT referral_source FROM raw_appointments WHERE appointment_id = 'A2'`).Scan(&source))
	if line.Valid || strings.Contains(msg, "first on this line") || source != "Dr Smith" {
		t.Errorf("notice: line %v, %q; A2's source %q; want no line and \"Dr Smith\"", line, msg, source)
	}
	mem, err := openCheckDB(ctx, config.Statuses{})
	must(t, err)
	defer mem.Close()
	fc := checkFile(ctx, mem, "scheduling", in.Config.Scheduling, filepath.Join(dir, "exports", "section.csv"), "section.csv", testYears)
	if got := strings.Join(fc.Warnings, "; "); !strings.HasPrefix(got, "1 carriage return(s) not followed by a line feed, which") {
		t.Errorf("check warnings %q, want one about 1 carriage return without a line", got)
	}
}

// check warns of an export of its header alone.
func TestCheckWarnsOfHeaderOnly(t *testing.T) {
	ctx := context.Background()
	mem, err := openCheckDB(ctx, config.Statuses{})
	must(t, err)
	defer mem.Close()
	for _, f := range []string{"header-only.csv", "header-and-blank-rows.csv", "header-only-utf16.csv"} {
		fc := checkFile(ctx, mem, "scheduling", config.Default().Scheduling, filepath.Join("testdata", "hostile", f), f, testYears)
		if got := strings.Join(fc.Warnings, "; "); !fc.OK() || !strings.Contains(got, "the file holds its header and no row") {
			t.Errorf("%s: problems %q, warnings %q; want a warning", f, fc.Problems, got)
		}
	}
}

// check warns of a lone CR in a file whose encoding is named (Windows-1252)
// and whose delimiter is outside ASCII, as the run reads it as a space.
func TestCheckWarnsOfCRWithNamedEncoding(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	body := strings.Join([]string{
		"Appointment ID§Patient Account§Clinician§Appointment Date§Start Time§Status§Service§Referral Source§Referred To§Referrer NPI",
		"A1§900001§Jane Smith§01/05/2026§9:00 AM§Attended§Intake§Dr\rSmith§§", ""}, "\n")
	enc, err := charmap.Windows1252.NewEncoder().String(body)
	must(t, err)
	path := filepath.Join(dir, "sect1252.csv")
	must(t, os.WriteFile(path, []byte(enc), 0o600))
	src := config.Default().Scheduling
	src.Delimiter, src.Encoding = "§", "windows-1252"
	mem, err := openCheckDB(ctx, config.Statuses{})
	must(t, err)
	defer mem.Close()
	fc := checkFile(ctx, mem, "scheduling", src, path, "sect1252.csv", testYears)
	if got := strings.Join(fc.Warnings, "; "); !strings.Contains(got, "1 carriage return(s) not followed by a line feed") {
		t.Errorf("problems %q, warnings %q; want one about the carriage return", fc.Problems, got)
	}
}

// A rejected cell's value is shown only when a date or an amount could be
// written so: a shifted row puts a patient's name or client id into the date
// column, and neither may reach rejected_rows (the workbook's Data quality
// sheet, stdout) or check's warnings.
func TestRejectMessagesHideNamesAndIDs(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("Appointment ID,Patient Account,Clinician,Appointment Date,Start Time,Status,Service,Referral Source,Referred To,Referrer NPI\n")
	for i := range 40 {
		fmt.Fprintf(&b, "A%d,9000%02d,Jane Smith,09/%02d/2026,9:00 AM,Attended,Intake,Google,,\n", i, i, i%28+1)
	}
	b.WriteString("B1,900101,Jane Smith,Zoe Secretname,9:00 AM,Attended,Intake,Google,,\n")
	b.WriteString("B2,900102,Jane Smith,900777,9:00 AM,Attended,Intake,Google,,\n")
	b.WriteString("B3,900103,Jane Smith,02/30/2026,9:00 AM,Attended,Intake,Google,,\n")
	b.WriteString("B4,900104,Jane Smith,SECRETID10,9:00 AM,Attended,Intake,Google,,\n")
	writeExports(t, dir, map[string]string{"s.csv": b.String()})
	db, sum := ingestSchedulingFolder(t, dir)
	if sum.Rejected != 4 {
		t.Fatalf("%d rows rejected, want 4", sum.Rejected)
	}
	var msgs string
	must(t, db.QueryRow(`SELECT string_agg(line || ': ' || message, '\n' ORDER BY line) FROM rejected_rows`).Scan(&msgs))
	mem, err := openCheckDB(ctx, config.Statuses{})
	must(t, err)
	defer mem.Close()
	fc := checkFile(ctx, mem, "scheduling", config.Default().Scheduling, filepath.Join(dir, "exports", "s.csv"), "s.csv", testYears)
	said := msgs + "\n" + strings.Join(fc.Warnings, "\n") + "\n" + strings.Join(fc.Problems, "\n")
	for _, secret := range []string{"Zoe", "Secretname", "900777", "SECRETID10"} {
		if strings.Contains(said, secret) {
			t.Errorf("%q is quoted:\n%s", secret, said)
		}
	}
	for _, w := range []string{
		`42: Could not convert a value with letters or signs a date or an amount does not have (not shown: it may be a name or an id) to 'DATE'`,
		`43: Could not convert a number (not shown: it may be a client id or another patient's number) to 'DATE'`,
		`44: Could not convert string "02/30/2026" to 'DATE'`,
	} {
		if !strings.Contains(msgs, w) {
			t.Errorf("rejects do not say %q:\n%s", w, msgs)
		}
	}
	if !strings.Contains(strings.Join(fc.Warnings, "\n"), "4 of 44 dates") {
		t.Errorf("check's warnings %q do not count the 4 dates", fc.Warnings)
	}
}

func TestShownValue(t *testing.T) {
	for _, c := range []struct {
		v            string
		date, amount string
	}{
		{"02/30/2026", `"02/30/2026"`, hiddenNumber},
		{"2026-13-01 10:30", `"2026-13-01 10:30"`, hiddenNumber},
		// A date out of range (min_year to max_years_ahead) may be a birth date: its year alone.
		{"1961-02-30", dateInYear(1961), hiddenNumber},
		{"13/45/1961", dateInYear(1961), hiddenNumber},
		{"1961-02-03", dateInYear(1961), hiddenNumber},
		{"02/30/61", dateInYear(1961), hiddenNumber},
		{"9:75 PM", `"9:75 PM"`, hiddenWithLetters},
		{"", `""`, `""`},
		{"n/a", `"n/a"`, `"n/a"`},
		{"#VALUE!", `"#VALUE!"`, `"#VALUE!"`},
		{"$1,234.50", hiddenNumber, `"$1,234.50"`},
		{"(25.00)", hiddenNumber, `"(25.00)"`},
		{"$(25.00)", hiddenNumber, `"$(25.00)"`},
		{"--", `"--"`, `"--"`},
		{"1.234,50 €", hiddenNumber, `"1.234,50 €"`},
		{"$90", hiddenNumber, `"$90"`},
		// Ids, phone and social security numbers, however written: never shown.
		{"900777", hiddenNumber, hiddenNumber},
		{" 12 ", hiddenNumber, hiddenNumber},
		{"+900777", hiddenNumber, hiddenNumber},
		{"-900777", hiddenNumber, hiddenNumber},
		{"900777.0", hiddenNumber, hiddenNumber},
		{"900 777", hiddenNumber, hiddenNumber},
		{"$900777", hiddenNumber, hiddenNumber},
		{"900-777", hiddenNumber, hiddenNumber},
		{"123-45-6789", hiddenNumber, hiddenNumber},
		{"(555) 123-4567", hiddenNumber, hiddenNumber},
		{"555-123-4567", hiddenNumber, hiddenNumber},
		{"Zoe", hiddenWithLetters, hiddenWithLetters},
		{"1.23457E+17", hiddenWithLetters, hiddenWithLetters},
		{"Jan 5, 2026", hiddenWithLetters, hiddenWithLetters},
		{`"x"`, hiddenWithLetters, hiddenWithLetters},
	} {
		if got := shownDate(c.v, testYears); got != c.date {
			t.Errorf("shownDate(%q) = %s, want %s", c.v, got, c.date)
		}
		if got := shownAmount(c.v); got != c.amount {
			t.Errorf("shownAmount(%q) = %s, want %s", c.v, got, c.amount)
		}
	}
}

// The run's rejects hide what check hides, by the same patterns in SQL: every
// value of TestShownValue, in the date column and in an amount column.
func TestRejectsHideWhatCheckHides(t *testing.T) {
	dir := t.TempDir()
	values := []string{"02/30/2026", "13/45/2026", "13/45/1961", "1961-02-30", "02/30/61", "n/a", "$1,234.50", "(25.00)", "$90", "900777", "+900777", "900777.0", "900 777", "$900777",
		"900-777", "123-45-6789", "(555) 123-4567", "555-123-4567", "Zoe Secretname", "1.23457E+17", "Jan 5, 2026"}
	b := goodClaimLines(40)
	for i, v := range values {
		fmt.Fprintf(b, "D%d,9001%02d,\"%s\",Jane Smith,,Maria Lopez,,Aetna,90837,150.00,90.00\n", i, i, v)
		fmt.Fprintf(b, "C%d,9002%02d,01/05/2026,Jane Smith,,Maria Lopez,,Aetna,90837,\"%s\",90.00\n", i, i, v)
	}
	// A value with a line break is cut there in DuckDB's message.
	b.WriteString("M1,900301,\"Zoe Secretname\n12 Elm Street\",Jane Smith,,Maria Lopez,,Aetna,90837,150.00,90.00\n")
	writeExports(t, dir, map[string]string{"b.csv": b.String()})
	in := folderIngester(t, dir, "billing")
	_, err := in.Ingest(context.Background())
	must(t, err)
	rows, err := in.DB.Query(`SELECT line, column_name, message FROM rejected_rows ORDER BY line`)
	must(t, err)
	defer rows.Close()
	got := map[int]string{}
	for rows.Next() {
		var line int
		var col, msg string
		must(t, rows.Scan(&line, &col, &msg))
		got[line] = msg
	}
	for i, v := range values {
		for j, want := range []string{shownDate(v, testYears), shownAmount(v)} {
			line := 42 + 2*i + j
			msg, ok := got[line]
			switch {
			case !ok && j == 0:
				t.Errorf("line %d (%q): no reject", line, v)
			case !ok:
				// read as an amount (900777), or rejected for another reason
			case !strings.Contains(msg, "Could not convert"):
				if strings.Contains(msg, v) {
					t.Errorf("line %d: %q is quoted: %s", line, v, msg)
				}
			case strings.HasPrefix(want, `"`):
				// Shown, as the reader read it ($1234.50 for $1,234.50).
				if !strings.Contains(msg, `Could not convert string "`) {
					t.Errorf("line %d: %q is not shown: %s", line, v, msg)
				}
			case strings.Contains(msg, v) || !strings.Contains(msg, want):
				t.Errorf("line %d: %q, want %s: %s", line, v, want, msg)
			}
		}
	}
	if msg := got[42+2*len(values)]; strings.Contains(msg, "Zoe") || !strings.Contains(msg, hiddenLines) {
		t.Errorf("a value over two lines: %s", msg)
	}
}

// A headerless export's first line is a patient's row: no problem of check
// repeats it, the unmatched mapping's included.
func TestCheckNeverQuotesAHeaderlessRow(t *testing.T) {
	dir := t.TempDir()
	writeExports(t, dir, map[string]string{
		"a.csv": "A1,900001,Zoe Secretname,09/01/2026,Attended,Dr. Who\nA2,900002,Jane Smith,09/02/2026,Attended,Dr. Who\n",
		"b.csv": "Appointment ID,Patient Account,Clinician,Appointment Date,Status,Referral Source\nB1,900003,Jane Smith,09/02/2026,Attended,Dr. Who\n",
	})
	cfg := config.Default()
	cfg.Dir, cfg.File = dir, filepath.Join(dir, "referrals.toml")
	cfg.Scheduling.Files, cfg.Billing.Files = []string{"exports/*.csv"}, nil
	cfg.Scheduling.Columns = map[string]string{"referred_to": "Requested Therapist"}
	checks, err := CheckExports(context.Background(), cfg)
	must(t, err)
	var said []string
	for _, c := range checks {
		said = append(said, c.Problems...)
		said = append(said, c.Warnings...)
		said = append(said, c.Headers...)
		said = append(said, c.Ignored...)
	}
	got := strings.Join(said, "\n")
	for _, secret := range []string{"900001", "Zoe Secretname"} {
		if strings.Contains(got, secret) {
			t.Errorf("%q is quoted:\n%s", secret, got)
		}
	}
	if !strings.Contains(got, `none of the 1 scheduling file(s) has`) {
		t.Errorf("the mapping no readable file has is not refused:\n%s", got)
	}
}

// check refuses a billing export whose amounts Excel saved in its accounting
// format, in parentheses: the reader rejects every such row, and check said it
// could be read. Its currency format ($1,234.50) loads, the sign dropped.
func TestCheckFindsCurrencyAmounts(t *testing.T) {
	const header = "Claim Line ID,Patient Account,DOS,Rendering Provider,Rendering Provider NPI,Referring Provider,Referring Provider NPI,Payer,CPT Code,Charge,Paid\n"
	for _, c := range []struct{ rows, want string }{
		{"L1,900001,01/05/2026,Jane Smith,,Maria Lopez,,Aetna,90837,150.00,90.00\nL2,900002,01/06/2026,Jane Smith,,Maria Lopez,,Aetna,90837,\"$1,234.50\",$100.00\n", ""},
		{"L1,900001,01/05/2026,Jane Smith,,Maria Lopez,,Aetna,90837,150.00,(25.00)\n", `row 1: the amount "(25.00)" in column "Paid" is written in parentheses`},
		{"L1,900001,01/05/2026,Jane Smith,,Maria Lopez,,Aetna,90837,150.00,($25.00)\n", `row 1: the amount "($25.00)" in column "Paid" is written in parentheses`},
		// The sign before the parentheses, as billing systems write it.
		{"L1,900001,01/05/2026,Jane Smith,,Maria Lopez,,Aetna,90837,$150.00,$90.00\nL2,900002,01/06/2026,Jane Smith,,Maria Lopez,,Aetna,90837,$150.00,$(25.00)\n", `row 2: the amount "$(25.00)" in column "Paid" is written in parentheses`},
		{"L1,900001,01/05/2026,Jane Smith,,Maria Lopez,,Aetna,90837,USD 150.00,0\n", `in column "Charge" is written in parentheses or with a currency code`},
		{"L1,900001,01/05/2026,Jane Smith,,Maria Lopez,,Aetna,90837,150.00 €,0\n", ""},
		// Decimal marks are read behind the sign too.
		{"L1,900001,01/05/2026,Jane Smith,,Maria Lopez,,Aetna,90837,\"$1,250.00\",0\nL2,900002,01/06/2026,Jane Smith,,Maria Lopez,,Aetna,90837,\"$225,50\",0\n", "written both with a decimal comma"},
		{"L1,900001,01/05/2026,Jane Smith,,Maria Lopez,,Aetna,90837,\"1,234.50\",-25.00\n", ""},
		// An accounting format's zero is read as 0.
		{"L1,900001,01/05/2026,Jane Smith,,Maria Lopez,,Aetna,90837,$150.00, $-   \nL2,900002,01/06/2026,Jane Smith,,Maria Lopez,,Aetna,90837,150.00,-\n", ""},
	} {
		fc := checkText(t, "billing", config.Default().Billing, header+c.rows)
		got := strings.Join(fc.Problems, "\n")
		if c.want == "" && got != "" || c.want != "" && !strings.Contains(got, c.want) {
			t.Errorf("%q: problems %q, want %q", c.rows, got, c.want)
		}
	}
}

// A column mapping naming a header no file of its source has is a typo: check
// says so, where an optional field (referred_to) was dropped without a word and
// the stages changed. One that some files have (a newer export's) is fine.
func TestCheckFindsMappingMatchingNoFile(t *testing.T) {
	dir := t.TempDir()
	writeExports(t, dir, map[string]string{
		"a.csv": "Appointment ID,Patient Account,Clinician,Appointment Date,Status,Referral Source,Therapist Req\nA1,900001,Jane Smith,09/01/2026,Attended,Dr. Who,Jane Smith\n",
		"b.csv": "Appointment ID,Patient Account,Clinician,Appointment Date,Status,Lead,Therapist Req\nB1,900002,Jane Smith,09/02/2026,Attended,Dr. Who,\n",
	})
	cfg := config.Default()
	cfg.Dir, cfg.File = dir, filepath.Join(dir, "referrals.toml")
	cfg.Scheduling.Files, cfg.Billing.Files = []string{"exports/*.csv"}, nil
	cfg.Scheduling.Columns = map[string]string{"referred_to": "Requested Therapist", "referral_source": "lead"}
	checks, err := CheckExports(context.Background(), cfg)
	must(t, err)
	var problems []string
	for _, c := range checks {
		problems = append(problems, c.Problems...)
	}
	got := strings.Join(problems, "\n")
	want := `[scheduling.columns] referred_to = "Requested Therapist" names a header that none of the 2 scheduling file(s) has (a typo?); the nearest is "Therapist Req"`
	if len(problems) != 1 || !strings.Contains(got, want) {
		t.Errorf("problems:\n%s\nwant one saying %q", got, want)
	}
}

// check warns of a UTF-8 export with a row saved in Windows-1252 (the run
// rejects that row), where it said the file was fine.
func TestCheckWarnsOfMixedEncodings(t *testing.T) {
	body := "Appointment ID,Patient Account,Clinician,Appointment Date,Status,Referral Source\n" +
		"A1,900001,Amélie Côté,09/01/2026,Attended,Dr. Who\n" +
		"A2,900002,Sean O\x92Neil,09/02/2026,Attended,Dr. Who\n" +
		"A3,900003,Amélie Côté,09/03/2026,Attended,Dr. Who\n"
	fc := checkText(t, "scheduling", config.Default().Scheduling, body)
	if got := strings.Join(fc.Warnings, "\n"); !strings.Contains(got, "line 3: the file is UTF-8 but 1 line(s) hold bytes that are not") {
		t.Errorf("warnings %q, want one naming line 3", fc.Warnings)
	}
}

// check refuses client ids that Excel saved in scientific notation: different
// clients became one, and the figures moved without a word. The id is not shown.
func TestCheckFindsIDsInScientificNotation(t *testing.T) {
	body := "Claim Line ID,Patient Account,DOS,Rendering Provider,Rendering Provider NPI,Referring Provider,Referring Provider NPI,Payer,CPT Code,Charge,Paid\n" +
		"L1,456,01/05/2026,Jane Smith,,Maria Lopez,,Aetna,90837,150.00,90.00\n" +
		"L2,1.23457E+17,01/06/2026,Jane Smith,,Maria Lopez,,Aetna,90837,150.00,90.00\n"
	fc := checkText(t, "billing", config.Default().Billing, body)
	got := strings.Join(fc.Problems, "\n")
	if !strings.Contains(got, `row 2: the client id in column "Patient Account" is written in scientific notation`) || strings.Contains(got, "1.23457") {
		t.Errorf("problems %q, want one naming row 2 without its value", got)
	}
}

// Excel in a decimal-comma locale saves a long id as 1,23457E+17; short ids
// such as 1E5 or 8e2 are ids, not Excel's notation (which writes E+ and two digits).
func TestSciNotationPattern(t *testing.T) {
	for v, want := range map[string]bool{"1.23457E+17": true, "1,23457E+17": true, "4,5E+11": true, "1E+12": true, "1E5": false, "8e2": false, "2e10": false, "12345": false} {
		if got := sciNotationRE.MatchString(v); got != want {
			t.Errorf("%q: %v, want %v", v, got, want)
		}
	}
}

// A database whose rejects were recorded before values were hidden has them
// hidden when it is opened by this version; a date stays shown.
func TestEarlierRejectsHaveTheirValuesHidden(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "db.duckdb"), Settings{Threads: 1})
	must(t, err)
	defer db.Close()
	must(t, EnsureSchema(ctx, db))
	for _, m := range []string{
		`Could not convert string "Zoe Secretname" to 'DATE' (expected date format %m/%d/%Y; set date_format for this source if the export uses another)`,
		`Could not convert string "900777" to 'DECIMAL(12,2)' (amounts must be numbers such as 1250.00 or $1,250.00)`,
		`Could not convert string "02/30/2026" to 'DATE' (expected date format %m/%d/%Y; set date_format for this source if the export uses another)`,
	} {
		_, err := db.ExecContext(ctx, `INSERT INTO rejected_rows VALUES (1, 'a.csv', 2, 'date', 'CAST', ?)`, m)
		must(t, err)
	}
	_, err = db.ExecContext(ctx, `INSERT INTO rejected_rows VALUES (1, 'a.csv', 3, 'DOB', 'OUT OF RANGE', 'row C1 has date 1932-03-17, outside 2000-2028; it was skipped (set [ingest] min_year or max_years_ahead if that date is real)')`)
	must(t, err)
	_, err = UpgradeDatabase(ctx, db)
	must(t, err)
	var got string
	must(t, db.QueryRow(`SELECT string_agg(message, '\n' ORDER BY message) FROM rejected_rows`).Scan(&got))
	for _, secret := range []string{"Zoe", "900777", "1932-03-17"} {
		if strings.Contains(got, secret) {
			t.Errorf("%q is still quoted:\n%s", secret, got)
		}
	}
	for _, w := range []string{`Could not convert string "02/30/2026" to 'DATE'`, "row C1 has a date in 1932, outside 2000-2028", "Could not convert " + hiddenWithLetters + " to 'DATE' (expected date format",
		"Could not convert " + hiddenNumber + " to 'DECIMAL(12,2)'"} {
		if !strings.Contains(got, w) {
			t.Errorf("the rejects do not say %q:\n%s", w, got)
		}
	}
}

// A field mapped to a column of patients' own data (their name, birth date,
// phone…) is refused, as one mapped to the client id is: every patient's name
// reached every report as a referrer's.
func TestMappingToPatientColumnIsRefused(t *testing.T) {
	body := "Appointment ID,Patient Account,Clinician,Client Name,Appointment Date,Status,Referral Source,DOB,Client Phone\n" +
		"A1,900001,Jane Smith,Zoe Secretname,09/01/2026,Attended,Dr. Who,03/17/1980,555-123-4567\n"
	for field, header := range map[string]string{"referral_source": "Client Name", "date": "DOB", "referred_to": "Client Phone"} {
		src := config.Default().Scheduling
		src.Columns = map[string]string{field: header}
		fc := checkText(t, "scheduling", src, body)
		want := fmt.Sprintf("[scheduling.columns] %s is mapped to %q, which by its name holds patients' data", field, header)
		if got := strings.Join(fc.Problems, "\n"); !strings.Contains(got, want) {
			t.Errorf("%s = %q: problems %q, want %q", field, header, got, want)
		}
	}
	for _, h := range []string{"Referral Source", "Referring Provider Name", "Clinician Name", "Payer Name", "Service Date",
		// Payers, plans and sources named beside a person's word or contact words.
		"Patient Insurance Name", "Insured Plan Name", "Member Plan Name", "Client Referral Source Name", "Patient's Primary Clinician Name",
		"Client Clinician Name", "Referring Provider Phone", "Referral Source (Phone/Web)", "Client ID", "Patient Account", "Member ID",
		"Referral Source Address", "Guarantor Insurance Name", "Patient Payer Name", "Service Address", "Place of Service Zip",
		"Source (Email/Phone/Web)", "Mobile Crisis Referral", "Telephone Intake Source"} {
		if patientColumn(h) {
			t.Errorf("%q is taken for a patient's column", h)
		}
	}
	for _, h := range []string{"Client Name", "Patient Name", "Patient Last Name", "Client First Name", "DOB", "Date of Birth",
		"Patient SSN", "Client Phone", "Member Email", "Patient Home Address", "Guarantor Name"} {
		if !patientColumn(h) {
			t.Errorf("%q is not taken for a patient's column", h)
		}
	}
}

// A data row run into the header line (a lost line break) puts a client id among
// the headers: check's "not used" list and the ledger never repeat it.
func TestHeaderCellsThatAreValuesAreNotRepeated(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	body := "Appointment ID,Patient Account,Clinician,Appointment Date,Status,Referral Source,A9990021,900777,10/15/2026\n" +
		"A1,900001,Jane Smith,09/01/2026,Attended,Dr. Who,,,\n"
	writeExports(t, dir, map[string]string{"s.csv": body})
	mem, err := openCheckDB(ctx, config.Statuses{})
	must(t, err)
	defer mem.Close()
	fc := checkFile(ctx, mem, "scheduling", config.Default().Scheduling, filepath.Join(dir, "exports", "s.csv"), "s.csv", testYears)
	db, _ := ingestSchedulingFolder(t, dir)
	var ledger string
	must(t, db.QueryRow(`SELECT string_agg(headers, ' ') FROM ingest_files`).Scan(&ledger))
	said := strings.Join(fc.Ignored, " ") + " " + ledger
	for _, secret := range []string{"900777", "10/15/2026", "A9990021"} {
		if strings.Contains(said, secret) {
			t.Errorf("%q is repeated: ignored %q, ledger %s", secret, fc.Ignored, ledger)
		}
	}
}

// The converted copy of an export (it holds the rows in clear) goes to the
// Ingester's TmpDir, and a run removes the copies a killed run left there.
func TestCopiesGoToTmpDirAndLeftoversAreRemoved(t *testing.T) {
	dir := t.TempDir()
	tmp := filepath.Join(dir, "copies")
	must(t, os.MkdirAll(tmp, 0o700))
	left := filepath.Join(tmp, "referrals-utf8-123.csv")
	must(t, os.WriteFile(left, []byte("A1,PTSECRET1,Zoe\n"), 0o600))
	writeExports(t, dir, map[string]string{"s.csv": "Appointment ID,Patient Account,Clinician,Appointment Date,Status,Referral Source\n" +
		"A1,900001,Am\xe9lie C\xf4t\xe9,09/01/2026,Attended,Dr. Who\n"})
	in := folderIngester(t, dir, "scheduling")
	in.TmpDir = tmp
	var seen []string
	testHookBeforeCommit = func(string) {
		seen, _ = filepath.Glob(filepath.Join(tmp, copyPattern))
	}
	defer func() { testHookBeforeCommit = nil }()
	sum, err := in.Ingest(context.Background())
	must(t, err)
	if sum.Loaded != 1 || sum.Files[0].Encoding != "windows-1252" {
		t.Fatalf("loaded %d rows, files %+v; want the Windows-1252 row", sum.Loaded, sum.Files)
	}
	if _, err := os.Stat(left); !os.IsNotExist(err) {
		t.Errorf("the copy a killed run left is still there: %v", err)
	}
	if len(seen) != 1 || seen[0] == left {
		t.Errorf("copies in TmpDir while loading: %q, want this run's one", seen)
	}
	if now, _ := filepath.Glob(filepath.Join(tmp, copyPattern)); len(now) != 0 {
		t.Errorf("copies left after the run: %q", now)
	}
}

// checkText is what check says of an export holding body, read as source's
// export by src's settings.
func checkText(t *testing.T, source string, src config.Source, body string) FileCheck {
	t.Helper()
	ctx := context.Background()
	mem, err := openCheckDB(ctx, config.Statuses{})
	must(t, err)
	defer mem.Close()
	path := filepath.Join(t.TempDir(), "export.csv")
	must(t, os.WriteFile(path, []byte(body), 0o644))
	return checkFile(ctx, mem, source, src, path, "export.csv", testYears)
}

// The folder for copies is made when a file needs one, not on every run, and
// goes with the copies: a night leaves none beside the database.
func TestCopiesFolderMadeOnlyWhenNeeded(t *testing.T) {
	for _, c := range []struct {
		name, clinician string
		folder          bool // while loading
	}{{"utf-8", "Jane Smith", false}, {"windows-1252", "Am\xe9lie C\xf4t\xe9", true}} {
		dir := t.TempDir()
		tmp := filepath.Join(dir, "db.duckdb.copies")
		writeExports(t, dir, map[string]string{"s.csv": "Appointment ID,Patient Account,Clinician,Appointment Date,Status,Referral Source\n" +
			"A1,900001," + c.clinician + ",09/01/2026,Attended,Dr. Who\n"})
		in := folderIngester(t, dir, "scheduling")
		in.TmpDir = tmp
		var during bool
		testHookBeforeCommit = func(string) {
			_, err := os.Stat(tmp)
			during = err == nil
		}
		sum, err := in.Ingest(context.Background())
		testHookBeforeCommit = nil
		must(t, err)
		if sum.Loaded != 1 {
			t.Fatalf("%s: loaded %d rows, files %+v", c.name, sum.Loaded, sum.Files)
		}
		if during != c.folder {
			t.Errorf("%s: the copies folder existed while loading: %v, want %v", c.name, during, c.folder)
		}
		if _, err := os.Stat(tmp); err == nil {
			t.Errorf("%s: the copies folder is left after the run", c.name)
		}
	}
}

// A number with separators where no amount has them, in an amount column (a phone
// 555,867,5309 or a social security number 98,765,4321 shifted there), is rejected
// as a misplaced separator; its message described it by the value as written and by
// the number the reader would load (5558675309), in check's output, the rejected
// rows, the run's summary and the Data quality sheet. It is now described, as any
// other bare number; an amount's shape (225,50) is still shown
// (TestLateMisplacedSeparatorIsRejected).
func TestMisplacedSeparatorValueNotRepeated(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("Claim Line ID,Patient Account,DOS,Rendering Provider,Charge,Paid\n")
	for i := 1; i <= 5; i++ {
		b.WriteString(fmt.Sprintf("L%d,9%05d,01/05/2026,Jane Smith,\"1,250.00\",0\n", i, i))
	}
	b.WriteString("L6,900006,01/05/2026,Jane Smith,\"555,867,5309\",0\n")
	b.WriteString("L7,900007,01/05/2026,Jane Smith,\"98,765,4321\",0\n")
	writeExports(t, dir, map[string]string{"phone.csv": b.String()})
	in := folderIngester(t, dir, "billing")
	sum, err := in.Ingest(ctx)
	must(t, err)
	if sum.Rejected != 2 {
		t.Fatalf("%d rejected, want 2: %+v", sum.Rejected, sum.Files)
	}
	var rejects string
	must(t, in.DB.QueryRow(`SELECT string_agg(line || ': ' || message, '\n' ORDER BY line) FROM rejected_rows`).Scan(&rejects))
	secrets := []string{"555,867,5309", "5558675309", "98,765,4321", "987654321"}
	for _, s := range secrets {
		if strings.Contains(rejects, s) {
			t.Errorf("rejected rows repeat %q:\n%s", s, rejects)
		}
	}
	for _, w := range []string{
		"7: the amount a number (not shown: it may be a client id or another patient's number) holds a comma that does not separate thousands",
		"8: the amount a number (not shown: it may be a client id or another patient's number) holds a comma that does not separate thousands, where this file writes amounts such as 1,250.00: the reader would drop the comma and load its digits as one number",
	} {
		if !strings.Contains(rejects, w) {
			t.Errorf("rejects do not say %q:\n%s", w, rejects)
		}
	}
	// A database whose rejects an earlier version worded with the value has them
	// reworded when a newer one opens it; an amount's shape keeps its wording.
	old := "the amount 555,867,5309 holds a comma that does not separate thousands, where this file writes amounts such as 1,250.00: the reader would drop the comma and load 5558675309, so the row was skipped; export every amount the same way, e.g. 1250.00"
	kept := "the amount 225,50 holds a comma that does not separate thousands, where this file writes amounts such as 1,250.00: the reader would drop the comma and load 22550, so the row was skipped; export every amount the same way, e.g. 1250.00"
	_, err = in.DB.ExecContext(ctx, `UPDATE rejected_rows SET message = CASE line WHEN 7 THEN ? ELSE ? END`, old, kept)
	must(t, err)
	_, err = UpgradeDatabase(ctx, in.DB)
	must(t, err)
	var upgraded string
	must(t, in.DB.QueryRow(`SELECT string_agg(line || ': ' || message, chr(10) ORDER BY line) FROM rejected_rows`).Scan(&upgraded))
	if want := "7: " + badAmountMessage("555,867,5309", amountsPoint) + "\n8: " + kept; upgraded != want {
		t.Errorf("earlier rejects reworded as\n%s\nwant\n%s", upgraded, want)
	}
	mem, err := openCheckDB(ctx, config.Statuses{})
	must(t, err)
	defer mem.Close()
	fc := checkFile(ctx, mem, "billing", in.Config.Billing, filepath.Join(dir, "exports", "phone.csv"), "phone.csv", testYears)
	if len(fc.Problems) != 1 || !strings.Contains(fc.Problems[0], "line 7: the amount a number (not shown") {
		t.Errorf("check phone.csv: problems %q, want one describing line 7's amount", fc.Problems)
	}
	for _, p := range fc.Problems {
		for _, s := range secrets {
			if strings.Contains(p, s) {
				t.Errorf("check repeats %q: %s", s, p)
			}
		}
	}
}

// testYears are the years a date may have under the default settings.
var testYears = yearsOf(config.Default().Ingest)

// A birth date in a date column, where the row's date should be, is the
// patient's: a date outside min_year to max_years_ahead is given by its year
// alone in every message, also when it fails date_format (written another way)
// or has a two-digit year, as README's "Patient data" says; and the messages an
// earlier version recorded with the whole date are reworded when a newer one
// opens the database.
func TestBirthDatesGivenByTheirYear(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b := goodClaimLines(60)
	b.WriteString("B1,900101,1961-03-14,Jane Smith,,Maria Lopez,,Aetna,90837,150.00,90.00\n") // line 62: another format
	b.WriteString("B2,900102,11/21/59,Jane Smith,,Maria Lopez,,Aetna,90837,150.00,90.00\n")   // line 63: a two-digit year
	b.WriteString("B3,900103,02/30/1958,Jane Smith,,Maria Lopez,,Aetna,90837,150.00,90.00\n") // line 64: no such day
	writeExports(t, dir, map[string]string{"b.csv": b.String()})
	in := folderIngester(t, dir, "billing")
	_, err := in.Ingest(ctx)
	must(t, err)
	var rejects string
	must(t, in.DB.QueryRow(`SELECT string_agg(line || ': ' || message, chr(10) ORDER BY line) FROM rejected_rows`).Scan(&rejects))
	secrets := []string{"03-14", "03/14", "11/21", "11-21", "02/30/1958"}
	for _, s := range secrets {
		if strings.Contains(rejects, s) {
			t.Errorf("rejected rows repeat %q:\n%s", s, rejects)
		}
	}
	for _, w := range []string{"62: Could not convert a date in 1961 (only its year shown", "63: row B2 has a date with a two-digit year, read as the year 59;",
		"64: Could not convert a date in 1958 (only its year shown"} {
		if !strings.Contains(rejects, w) {
			t.Errorf("rejects do not say %q:\n%s", w, rejects)
		}
	}
	mem, err := openCheckDB(ctx, config.Statuses{})
	must(t, err)
	defer mem.Close()
	fc := checkFile(ctx, mem, "billing", in.Config.Billing, filepath.Join(dir, "exports", "b.csv"), "b.csv", testYears)
	said := strings.Join(append(fc.Problems, fc.Warnings...), "\n")
	for _, s := range secrets {
		if strings.Contains(said, s) {
			t.Errorf("check repeats %q:\n%s", s, said)
		}
	}
	if !strings.Contains(said, "a date in 19") {
		t.Errorf("check does not give the dates by their year:\n%s", said)
	}
	// As an earlier version worded the two-digit year, then reworded on opening.
	_, err = in.DB.ExecContext(ctx, `UPDATE rejected_rows SET message = 'row B2 has date 0059-11-21, a two-digit year read as written; it was skipped (set date_format for this source to ''%m/%d/%y'', which reads two-digit years)' WHERE line = 63`)
	must(t, err)
	_, err = UpgradeDatabase(ctx, in.DB)
	must(t, err)
	var upgraded string
	must(t, in.DB.QueryRow(`SELECT message FROM rejected_rows WHERE line = 63`).Scan(&upgraded))
	if want := "row B2 has a date with a two-digit year, read as the year 59; it was skipped (set date_format for this source to '%m/%d/%y', which reads two-digit years)"; upgraded != want {
		t.Errorf("earlier reject reworded as\n%s\nwant\n%s", upgraded, want)
	}
}

// goodClaimLines is a billing export's header and n claim lines that load, for a
// test to add the rows it is about (lines n+2 on).
func goodClaimLines(n int) *strings.Builder {
	var b strings.Builder
	b.WriteString("Claim Line ID,Patient Account,DOS,Rendering Provider,Rendering Provider NPI,Referring Provider,Referring Provider NPI,Payer,CPT Code,Charge,Paid\n")
	for i := range n {
		fmt.Fprintf(&b, "L%d,9000%02d,01/%02d/2026,Jane Smith,,Maria Lopez,,Aetna,90837,150.00,90.00\n", i, i, i%28+1)
	}
	return &b
}

// The format a date message suggests reads the example: a 12-hour time with AM
// or PM is %I:%M %p (the 24-hour %H:%M would fail again), an ISO time has its T,
// a month written in letters is %b or %B.
func TestSuggestFormatFitsTheExample(t *testing.T) {
	ctx := context.Background()
	mem, err := Open(ctx, ":memory:", Settings{Threads: 1})
	must(t, err)
	defer mem.Close()
	if got := suggestFormat("2026-10-03T20:30:00-05:00"); strings.Contains(got, "%z") {
		t.Errorf("suggestFormat of a time with an offset = %s: %%z reads it as UTC, the next day", got)
	}
	for _, v := range []string{"2026-10-03", "2026-10-03T14:30:00", "2026-10-03T14:30:00.000", "2026-10-03T14:30:00Z",
		"2026-10-03 14:30:00", "10/03/2026", "10/3/26",
		"10/03/2026 2:30 PM", "10/3/2026 2:30:00 pm", "10/3/2026 14:30", "Oct 3, 2026", "October 3, 2026", "03-Oct-2026", "03.10.2026"} {
		got := suggestFormat(v)
		format := strings.Split(got, `"`)[1]
		var ok bool
		must(t, mem.QueryRow(`SELECT try_strptime(?, ?) IS NOT NULL`, v, format).Scan(&ok))
		if !ok {
			t.Errorf("suggestFormat(%q) = %s, which does not read it", v, got)
		}
	}
}

// check finds the header below a report's title as the run does, and judges the
// rows below it: the lines of the title are no rows with too few fields, and the
// dates tried are the rows' own.
func TestCheckReadsBelowATitle(t *testing.T) {
	for _, c := range []struct {
		file, source string
		rows         int
		warnings     []string
	}{
		{"title-lines.csv", "scheduling", 5, []string{`line 10: the row has 1 fields where the header has 10`, `1 of 4 dates in column "Appointment Date", such as "05/32/2026"`}},
		{"title-lines-billing.csv", "billing", 4, nil},
	} {
		b, err := os.ReadFile(filepath.Join("testdata", "hostile", c.file))
		must(t, err)
		src := config.Default().Scheduling
		if c.source == "billing" {
			src = config.Default().Billing
		}
		fc := checkText(t, c.source, src, string(b))
		if len(fc.Problems) > 0 {
			t.Errorf("%s: problems %q, want none", c.file, fc.Problems)
		}
		if fc.Rows != c.rows || fc.Mapping["client_id"] != "Patient Account" {
			t.Errorf("%s: %d rows, client_id from %q; want %d rows, from \"Patient Account\"", c.file, fc.Rows, fc.Mapping["client_id"], c.rows)
		}
		got := strings.Join(fc.Warnings, "\n")
		for _, w := range c.warnings {
			if !strings.Contains(got, w) {
				t.Errorf("%s: warnings do not say %q:\n%s", c.file, w, got)
			}
		}
		if len(fc.Warnings) != len(c.warnings) {
			t.Errorf("%s: %d warnings, want %d:\n%s", c.file, len(fc.Warnings), len(c.warnings), got)
		}
	}
}

// A header below a report's title whose names need a mapping: the problem names
// the header's line and its names, not the title's, which is no header.
func TestTitleAboveAHeaderThatNeedsAMapping(t *testing.T) {
	body := "Appointment List Report\r\n\r\nEvent #,Date/Time,Patient Account #,Clinician,Status\r\n" +
		"5001,10/03/2026 2:30 PM,900001,Jane Smith,Show\r\n"
	fc := checkText(t, "scheduling", config.Default().Scheduling, body)
	got := strings.Join(fc.Problems, "\n")
	for _, want := range []string{`the header is on line 3, below a report's title`, `no column for required field "appointment_id"`,
		`Headers found: "Event #", "Date/Time", "Patient Account #", "Clinician", "Status"`} {
		if !strings.Contains(got, want) {
			t.Errorf("problems do not say %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "Appointment List Report") {
		t.Errorf("problems name the title as the header:\n%s", got)
	}
	src := config.Default().Scheduling
	src.Columns = map[string]string{"appointment_id": "Event #"}
	src.DateFormat = "%m/%d/%Y %I:%M %p"
	if fc := checkText(t, "scheduling", src, body); len(fc.Problems) > 0 || fc.TitleLines != 2 {
		t.Errorf("mapped: problems %q, title lines %d; want none, 2", fc.Problems, fc.TitleLines)
	}
}

// A file with a report's title is read in one group with files of its layout that
// have none: each keeps its rows, its rejects and their lines.
func TestTitledFileReadWithUntitledOnes(t *testing.T) {
	dir := t.TempDir()
	titled, err := os.ReadFile(filepath.Join("testdata", "hostile", "title-lines.csv"))
	must(t, err)
	_, body, _ := strings.Cut(string(titled), "\r\n\r\n") // the rows under the title, header first
	writeExports(t, dir, map[string]string{
		"a-titled.csv": string(titled),
		"b-plain.csv":  strings.ReplaceAll(body, "\r\nA", "\r\nB"),
	})
	in := folderIngester(t, dir, "scheduling")
	sum, err := in.Ingest(context.Background())
	must(t, err)
	got := fileOutcomes(sum)
	if got["a-titled.csv"] != "loaded 3 2" || got["b-plain.csv"] != "loaded 3 2" {
		t.Errorf("files: %v; want each loaded with 3 rows and 2 rejected", got)
	}
	lines := rejectedLines(t, in.DB)
	if lines != "a-titled.csv:6,a-titled.csv:10,b-plain.csv:3,b-plain.csv:7" {
		t.Errorf("rejected lines %s; want a-titled.csv:6,a-titled.csv:10,b-plain.csv:3,b-plain.csv:7", lines)
	}
}

// rejectedLines lists the rejected rows as file:line, in file and line order.
func rejectedLines(t *testing.T, db *sql.DB) string {
	t.Helper()
	var s string
	must(t, db.QueryRow(`SELECT string_agg(regexp_extract(path, '[^/]+$') || ':' || line, ',' ORDER BY path, line) FROM rejected_rows`).Scan(&s))
	return s
}

// fileOutcomes is each file of an ingest, by its base name: its status, rows
// loaded and rows rejected ("loaded 24 1").
func fileOutcomes(sum IngestSummary) map[string]string {
	got := map[string]string{}
	for _, f := range sum.Files {
		got[filepath.Base(f.Path)] = fmt.Sprintf("%s %d %d", f.Status, f.Loaded, f.Rejected)
	}
	return got
}
