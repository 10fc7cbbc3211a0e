package pipeline

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"hash/maphash"
	"slices"
)

// shiftedRow is a record with more fields than the header whose extra fields
// are all empty. DuckDB's reader accepts such a row silently, dropping the
// empty fields, although it usually means a value with the delimiter in it
// was not quoted ("McCarthy, Mateo", or "Lopez, Maria, MD" twice over) and
// every later value moved a column to the right for each.
type shiftedRow struct {
	line   int64  // the record's line as the reader numbers it (see locateRecords)
	id     string // the value in the id column, as the reader would see it
	fields int    // the record's fields
	empty  bool   // its extra fields are empty (see extraFields)
}

// shortRow is a record with fewer fields than the header: a value left out, so
// every later value moved one column to the left.
type shortRow struct {
	line   int64 // the record's line as the reader numbers it (see locateRecords)
	fields int
}

// badAmount is a record whose amount holds the thousands separator the file is
// read with, but not between groups of three digits: 225,50 where 1,250.00 is
// the file's way. DuckDB's reader drops the separator wherever it stands, so
// the amount would load a hundred times too large.
type badAmount struct {
	line   int64  // the record's line as the reader numbers it (see locateRecords)
	id     string // the value in the id column, as the reader would see it
	column int    // the amount's field (0-based)
	value  string // the amount as written (an amount, never a client id)
}

// amountCheck is what the counter checks amounts against: the fields that hold
// amounts, and the thousands separator and decimal mark they are read with.
type amountCheck struct {
	columns     []int
	first, last int // the lowest and highest of columns
	thousands   byte
	decimal     byte
}

func newAmountCheck(columns []int, thousands, decimal byte) amountCheck {
	return amountCheck{columns: columns, first: slices.Min(columns), last: slices.Max(columns), thousands: thousands, decimal: decimal}
}

// fieldCounter counts the fields of every record as the file streams past
// (quotes respected, records may span lines) and remembers shifted rows.
// It is one tight loop over the bytes, riding on the hashing pass.
type fieldCounter struct {
	delim   byte
	nfields int
	idIdx   int

	line   int64      // newlines seen so far
	quotes quoteState // where the byte loop is in the current record's quotes
	// continuation: the newlines inside quoted values of the records ended so
	// far (a value with line breaks), which are no record of their own;
	// quotedNewlines: those of the current record.
	continuation, quotedNewlines int64
	// records: the records ended so far, the header and blank lines included. The
	// current record's number, once ended, is its line as the reader numbers it.
	records   int64
	lastDelim bool
	fields    int
	recStart  int64  // line the current record starts on (1-based)
	carry     []byte // the current record's bytes from earlier chunks
	shifted   []shiftedRow
	total     int64 // shifted rows found, including those past maxShiftedRows
	// openLine is the line (as the reader numbers them) of the record the file
	// ends in while a quoted value is still open (a file cut off mid-value, or a
	// quote never closed), and openField that value's field (1-based); 0 when
	// every quote was closed.
	openLine  int64
	openField int

	ids idSet // what the id column holds, to tell whether an id can repeat in the file

	// short: records with fewer fields than the header, by line (the reader
	// rejects them, often as a cast error of the value that moved into a column).
	short []shortRow
	// blank: the records of delimiters alone (every field empty, as a
	// spreadsheet leaves lines at the end of a sheet).
	blank int64

	// wide: the records with more fields than the header (shifted or not:
	// the reader rejects the others), and the first one's line and fields.
	wide                 int64
	wideLine, wideFields int64

	amounts    amountCheck // none when amounts.thousands is 0
	badAmounts []badAmount
	badTotal   int64 // bad amounts found, including those past maxShiftedRows
}

// idSet notes each record's id, reduced to a 64-bit hash of its bytes without
// quotes, whitespace, NULs and non-ASCII bytes. Two rows that DuckDB reads with
// the same id always reduce to the same hash: removing those bytes can merge ids,
// never part them, and each is removed wherever the reader or the conversions
// before it (trimming, unquoting, re-encoding, NUL removal) could change them. So
// a file in which no hash repeats has no id twice, and the loader can skip its
// duplicate check. A repeat only sends the file to that check, which decides.
//
// While every id is plain (printable ASCII, no space, no quote inside), the
// set also keeps a 128-bit hash of each id's exact bytes, which are then what
// DuckDB stores: the loader uses those to leave out rows that a later file of
// the same read holds again (see supersede.go).
type idSet struct {
	hashes    []uint64    // one per data record, until finish
	exact     [][2]uint64 // one per data record while all ids are plain; nil after
	records   int64       // data records noted (not the header, not blank lines)
	repeats   bool        // some reduced id is there twice (set by finish)
	irregular bool        // a record whose id field cannot be told the reader's way
	finished  bool
}

// finish looks for a repeated hash with one open-addressing table (faster
// than sorting at a million records) and lets the hashes go.
func (s *idSet) finish() {
	bits := 4
	for 1<<bits < 2*len(s.hashes) {
		bits++
	}
	slots := make([]uint64, 1<<bits)
	mask := uint64(len(slots) - 1)
	for _, h := range s.hashes {
		h |= 1 // 0 marks an empty slot; merging two hashes only adds a false repeat
		i := (h * 0x9E3779B97F4A7C15) >> (64 - bits)
		for slots[i] != 0 {
			if slots[i] == h {
				s.repeats = true
				s.hashes, s.exact, s.finished = nil, nil, true
				return
			}
			i = (i + 1) & mask
		}
		slots[i] = h
	}
	s.hashes, s.finished = nil, true
}

// presize makes room for the ids of a file of size bytes, estimated from the
// records noted in its first read bytes: a slice grown by doubling copied
// every id hash seen so far each time (a fifth of the scan's time). A tenth
// more than the estimate absorbs uneven records; a file whose records grow
// longer past its start still grows by doubling.
func (s *idSet) presize(read, size int64) {
	if s.records == 0 || read <= 0 || size <= read {
		return
	}
	n := int(float64(s.records) * float64(size) / float64(read) * 1.1)
	s.hashes = slices.Grow(s.hashes, n-len(s.hashes))
	if s.exact != nil {
		s.exact = slices.Grow(s.exact, n-len(s.exact))
	}
}

// unique says the file holds no id twice and has at least rows data records
// (the rows the reader loaded from it): fewer records than rows means the
// reader split the file otherwise than this scan did, and nothing is assumed.
func (s *idSet) unique(rows int64) bool {
	return s.finished && !s.irregular && !s.repeats && rows <= s.records
}

// note reduces the id field (field idx, quotes respected) of one record.
func (s *idSet) note(rec []byte, delim byte, idx int) {
	blank := true
	for _, c := range rec {
		if c != ' ' && c != '\t' && c != '\r' {
			blank = false
			break
		}
	}
	if blank {
		return // a blank line: the reader skips it too
	}
	s.records++
	start, field := 0, 0
	var q quoteState
	for j := 0; j < len(rec) && field < idx; j++ {
		if q.step(rec[j], delim) == qDelim {
			field++
			start = j + 1
		}
	}
	if field < idx {
		s.irregular = true // too few fields: rejected by the reader, but say nothing
		s.exact = nil
		return
	}
	// Plain so far: every earlier record's exact hash is there.
	plain := int64(len(s.exact)) == s.records-1
	idStart, idEnd := start, start
	h := uint64(fnvOffset)
	if start < len(rec) && rec[start] == '"' {
		j := start + 1
		idStart = j
		for ; j < len(rec); j++ {
			if c := rec[j]; c != '"' {
				h, plain = mixID(h, c, plain)
				continue
			}
			if j+1 < len(rec) && rec[j+1] == '"' {
				j++ // an escaped quote
				plain = false
				continue
			}
			break
		}
		idEnd = j
		// After the closing quote only the delimiter or the line's end may follow.
		if j >= len(rec) || (j+1 < len(rec) && rec[j+1] != delim && rec[j+1] != '\r') {
			s.irregular = true
			s.exact = nil
			return
		}
	} else {
		j := start
		for ; j < len(rec) && rec[j] != delim; j++ {
			c := rec[j]
			if c == '"' {
				s.irregular = true // a quote inside an unquoted value
				s.exact = nil
				return
			}
			h, plain = mixID(h, c, plain)
		}
		idEnd = j
	}
	s.hashes = append(s.hashes, h)
	if idEnd == idStart {
		plain = false // a blank id: the row is rejected, not replaced
	}
	if !plain {
		s.exact = nil
		return
	}
	s.exact = append(s.exact, exactID(rec[idStart:idEnd]))
}

const fnvOffset, fnvPrime = 14695981039346656037, 1099511628211

// mixID adds byte c of an id to its reduced hash h (FNV-1a over the bytes the
// reduction keeps), and says whether the id is still plain after it.
func mixID(h uint64, c byte, plain bool) (uint64, bool) {
	if c > ' ' && c < 0x7f {
		return (h ^ uint64(c)) * fnvPrime, plain
	}
	if c == 0x7f {
		h = (h ^ uint64(c)) * fnvPrime
	}
	return h, false
}

// exactIDBytes is the memory an exact id hash takes.
const exactIDBytes = 16

// idSeeds are this process's seeds for exactID: the scan and the loader's
// function share them, nothing else sees the hashes.
var idSeeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}

// exactID is a 128-bit hash of an id's bytes (two independent 64-bit hashes):
// two different ids share one with a chance of about 2^-128.
func exactID(b []byte) [2]uint64 {
	return [2]uint64{maphash.Bytes(idSeeds[0], b), maphash.Bytes(idSeeds[1], b)}
}

// exactIDString is exactID of a string, without copying it.
func exactIDString(s string) [2]uint64 {
	return [2]uint64{maphash.String(idSeeds[0], s), maphash.String(idSeeds[1], s)}
}

// maxShiftedRows is how many shifted rows a file may have: each is listed as a
// rejected row, and a file with more is broken beyond listing (it fails).
const maxShiftedRows = 100_000

func newFieldCounter(delim byte, nfields, idIdx int) *fieldCounter {
	return &fieldCounter{delim: delim, nfields: nfields, idIdx: idIdx, fields: 1, recStart: 1}
}

func (fc *fieldCounter) Write(p []byte) (int, error) {
	// Locals, not fields: the loop runs once per byte.
	start := 0
	delim := fc.delim
	q, lastDelim, fields := fc.quotes, fc.lastDelim, fc.fields
	// Most records are one line with quotes closed on it: for those,
	// vectorised scans (newline, quotes, delimiters between quotes) replace
	// the byte loop. A quote left open at the line's end falls back to it.
	fast := delim != '"' && delim != '\n' && delim != '\r'
	for i := 0; i < len(p); i++ {
		if fast && i == start && !q.in && (i > 0 || len(fc.carry) == 0) {
			if n, delims, ok := oneLineRecord(p[i:], delim); ok {
				line := p[i : i+n]
				end := len(line) - 1
				for end >= 0 && line[end] == '\r' {
					end--
				}
				fc.line++
				fc.fields, fc.lastDelim = 1+delims, end >= 0 && line[end] == delim
				fc.endRecord(line)
				start = i + n + 1
				i = start - 1
				continue
			}
		}
		// Quotes read the reader's way (quoteState).
		b := p[i]
		switch q.step(b, delim) {
		case qDelim:
			lastDelim = true
			fields++
		case qNewline:
			fc.line++
			fc.fields, fc.lastDelim = fields, lastDelim
			fc.endRecord(p[start:i])
			fields, lastDelim = 1, false
			start = i + 1
		case qCR:
			// part of a CRLF: the record's last field is unchanged
		default:
			lastDelim = false
			if b == '\n' {
				fc.line++
				fc.quotedNewlines++
			}
		}
	}
	fc.quotes, fc.lastDelim, fc.fields = q, lastDelim, fields
	fc.carry = append(fc.carry, p[start:]...)
	return len(p), nil
}

func (fc *fieldCounter) endRecord(tail []byte) {
	fc.records++
	if fc.records > 1 {
		rec := tail
		if len(fc.carry) > 0 {
			fc.carry = append(fc.carry, tail...)
			rec = fc.carry
		}
		fc.ids.note(rec, fc.delim, fc.idIdx)
		if fc.fields == fc.nfields && len(rec) <= 3*fc.nfields && blankRecord(rec, fc.delim) {
			fc.blank++
		}
		if fc.fields > fc.nfields {
			if fc.wide++; fc.wide == 1 {
				fc.wideLine, fc.wideFields = fc.records, int64(fc.fields)
			}
		}
		switch {
		case fc.fields == fc.nfields+1 && fc.lastDelim:
			fc.found(fc.records, rec, true)
		case fc.fields > fc.nfields:
			if shifted, empty := extraFields(rec, fc.delim, fc.nfields); shifted {
				fc.found(fc.records, rec, empty)
			}
		case fc.amounts.thousands != 0 && fc.fields == fc.nfields:
			fc.checkAmounts(rec)
		case fc.fields < fc.nfields && len(fc.short) < maxShiftedRows && len(bytes.TrimSpace(rec)) > 0:
			fc.short = append(fc.short, shortRow{line: fc.records, fields: fc.fields})
		}
	}
	fc.carry = fc.carry[:0]
	fc.fields = 1
	fc.lastDelim = false
	fc.recStart = fc.line + 1
	fc.continuation += fc.quotedNewlines
	fc.quotedNewlines = 0
}

// oneLineRecord looks at the record at the start of p: when it ends on its
// first line (every quote on that line closed), it returns the line's
// length without the newline and the delimiters outside quotes. A doubled
// quote inside a quoted value closes and reopens it, which counts the same.
func oneLineRecord(p []byte, delim byte) (n, delims int, ok bool) {
	n = bytes.IndexByte(p, '\n')
	if n < 0 {
		return 0, 0, false
	}
	pos, closed := 0, -1 // where the rest of the line starts in p; just after the last closing quote
	for {
		line := p[pos:n]
		q := bytes.IndexByte(line, '"')
		if q < 0 {
			return n, delims + bytes.Count(line, []byte{delim}), true
		}
		// A quote opens a value only as its first byte (or reopens it right
		// after closing: a doubled quote); one elsewhere (5'10") is text, left
		// to the byte loop.
		at := pos + q
		if at != 0 && p[at-1] != delim && at != closed && !(p[at-1] == ' ' && delim != ' ' && (at == 1 || p[at-2] == delim)) {
			return 0, 0, false
		}
		delims += bytes.Count(line[:q], []byte{delim})
		c := bytes.IndexByte(p[at+1:n], '"')
		if c < 0 {
			return 0, 0, false
		}
		pos = at + 1 + c + 1
		closed = pos
	}
}

// Close handles a last record without a newline, and notes a file that ends
// inside a quoted value: DuckDB drops that record, and when it reads several
// files together it does so without a reject.
func (fc *fieldCounter) Close() {
	open := fc.quotes.open() // a quote as the file's last byte closed its value
	if len(fc.carry) > 0 && fc.recStart > 1 {
		// What is left after the last newline the loop saw end a record is read
		// again, for the record and field where the quoted value left open
		// starts.
		if records, field, open := openQuoteIn(fc.carry, fc.delim); open {
			fc.openLine, fc.openField = fc.records+1+records, field
		}
	}
	if len(fc.carry) > 0 && !open {
		fc.endRecord(nil)
	}
	fc.ids.finish()
}

// openQuoteIn reads rec, the bytes from a record's start to the end of the
// file, as DuckDB's reader does (quoteState). It says whether the file ends
// inside a quoted value, how many records of rec end before the one that value
// is in (the reader numbers records, not lines: see locateRecords), and its
// field (1-based). It runs once per file, on what the byte loop left open.
func openQuoteIn(rec []byte, delim byte) (records int64, field int, open bool) {
	var ended int64
	var q quoteState
	field = 1
	for _, b := range rec {
		switch q.step(b, delim) {
		case qDelim:
			field++
		case qNewline:
			ended++
			records, field = ended, 1
		}
	}
	return records, field, q.open()
}

func (fc *fieldCounter) found(line int64, rec []byte, empty bool) {
	fc.total++
	if len(fc.shifted) >= maxShiftedRows {
		return
	}
	fc.shifted = append(fc.shifted, shiftedRow{line: line, id: recordID(rec, fc.delim, fc.idIdx), fields: fc.fields, empty: empty})
}

// emptyField says whether f, one field's bytes, reads as an empty value:
// nothing, or "" with at most one space before it and any after. A carriage
// return outside the quotes is read as nothing, as in quoteState.
func emptyField(f []byte) bool {
	const (
		start  = iota
		space  // one space at the start
		opened // the opening quote
		closed // the closing quote
	)
	state := start
	for _, b := range f {
		switch {
		case b == '\r' && state != opened:
		case b == ' ' && state == start:
			state = space
		case b == '"' && (state == start || state == space):
			state = opened
		case b == '"' && state == opened:
			state = closed
		case b == ' ' && state == closed:
		default:
			return false
		}
	}
	return state == start || state == closed
}

// shiftedMessage is a shifted row's reject message: the row has fields where
// the header has header, and the extra ones are empty (or, when not empty,
// the last is quoted: see extraFields).
func shiftedMessage(fields, header int, empty bool) string {
	moved := fields - header
	switch {
	case moved == 1 && empty:
		return fmt.Sprintf("the row has %d fields where the header has %d and its last field is empty: a value holding the delimiter was probably not quoted, so every later value moved one column; the row was skipped", fields, header)
	case empty:
		return fmt.Sprintf("the row has %d fields where the header has %d and its last %d are empty: values holding the delimiter were probably not quoted, so later values moved %d columns; the row was skipped", fields, header, moved, moved)
	default:
		return fmt.Sprintf("the row has %d fields where the header has %d: a value holding the delimiter was probably not quoted, so later values moved to the right; the row was skipped", fields, header)
	}
}

// extraFields looks at the fields of rec past the first nfields (rec has more
// than nfields) and says whether DuckDB's reader may take the row, dropping
// them without a word (shifted), and whether they are all empty.
//
// The reader drops extra fields that are empty, however many: nothing, or a
// quoted empty value ("", see emptyField). A space alone, or an unquoted
// value, makes it reject the row for too many columns. When the last extra
// field is a quoted value ("Main St", or with a space after it), or holds two
// quotes in a row, DuckDB 1.5 takes the row or rejects it depending on which
// columns the statement reads: reading a file with a column no field uses,
// it took such rows every time, reading one column about half the time
// (TestShiftedRowsAsTheReaderTakesThem). So such a row is taken for shifted
// too, whatever the reader does: when the reader rejects it, its own reject
// stands and the scan's is dropped (it is on the same line).
func extraFields(rec []byte, delim byte, nfields int) (shifted, empty bool) {
	var q quoteState
	field, start := 1, 0
	for i, b := range rec {
		if q.step(b, delim) != qDelim {
			continue
		}
		if field > nfields && !emptyField(rec[start:i]) {
			return false, false
		}
		field++
		start = i + 1
	}
	if field <= nfields {
		return false, false
	}
	if last := rec[start:]; !emptyField(last) {
		if !bytes.Contains(last, []byte(`""`)) && !quotedField(last) {
			return false, false
		}
		return true, false
	}
	return true, true
}

// quotedField says whether f, one field's bytes, is a quoted value, with one
// space before it at most and any after (carriage returns outside the quotes
// read as nothing).
func quotedField(f []byte) bool {
	f = bytes.TrimLeft(f, "\r")
	if len(f) > 0 && f[0] == ' ' {
		f = bytes.TrimLeft(f[1:], "\r")
	}
	f = bytes.TrimRight(f, " \r")
	return len(f) >= 2 && f[0] == '"' && f[len(f)-1] == '"'
}

// checkAmounts notes a record whose amount would be misread: it holds the
// thousands separator, is otherwise a number the reader takes, and its groups
// are not of three digits. Most records are passed over by one byte search: an
// amount without the separator is read as written, and with ',' between values
// a comma inside a value needs quotes. The fields are walked from the nearer
// end of the record (amounts are usually the last columns); the record has
// the header's number of fields.
func (fc *fieldCounter) checkAmounts(rec []byte) {
	a := fc.amounts
	if bytes.IndexByte(rec, a.thousands) < 0 || (a.thousands == fc.delim && bytes.IndexByte(rec, '"') < 0) {
		return
	}
	end := len(rec)
	for end > 0 && rec[end-1] == '\r' {
		end--
	}
	rec = rec[:end]
	first, last := a.first, a.last
	check := func(field, start, end int) {
		if !slices.Contains(a.columns, field) {
			return
		}
		v := bytes.TrimSpace(rec[start:end])
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = bytes.TrimSpace(v[1 : len(v)-1])
		}
		// As the reader gets it: without a currency sign (the copy drops it), also
		// one a Windows-1252 file writes in a byte of its own (the copy decodes it,
		// then drops it).
		if p, ok := plainAmount(v); ok {
			v = p
		} else if p, ok := plainAmountCP1252(v); ok {
			v = p
		}
		if bytes.IndexByte(v, a.thousands) >= 0 && !amountGroupsOK(v, a.thousands, a.decimal) {
			fc.badTotal++
			if len(fc.badAmounts) < maxShiftedRows {
				fc.badAmounts = append(fc.badAmounts, badAmount{line: fc.records, id: recordID(rec, fc.delim, fc.idIdx), column: field, value: string(v)})
			}
		}
	}
	if first > fc.nfields-1-last && fc.checkAmountsFromEnd(rec, first, check) {
		return
	}
	// From the start, reading quotes the reader's way.
	field, start := 0, 0
	var q quoteState
	for j := 0; j < len(rec) && field <= last; j++ {
		if q.step(rec[j], fc.delim) == qDelim {
			check(field, start, j)
			field++
			start = j + 1
		}
	}
	if field <= last {
		check(field, start, len(rec))
	}
}

// checkAmountsFromEnd walks rec's fields from its end down to field first,
// checking each (the amounts are usually the last columns). Read backwards, a
// quote closes a value only before a delimiter or the record's end, and opens
// it only after a delimiter or the record's start (or one space there), two
// quotes inside being one: a quote anywhere else is text to the reader (5'10"),
// which the walk cannot pair from this end, so it says false and the caller
// walks from the start.
func (fc *fieldCounter) checkAmountsFromEnd(rec []byte, first int, check func(field, start, end int)) bool {
	delim := fc.delim
	field, stop := fc.nfields-1, len(rec)
	inQuote := false
	// The fields found, checked only once the walk has read the record through:
	// a walk given up leaves them all to the walk from the start.
	var found [][3]int
	for j := len(rec) - 1; j >= 0 && field >= first; j-- {
		switch b := rec[j]; {
		case b == '"' && !inQuote:
			if j+1 < len(rec) && rec[j+1] != delim {
				return false
			}
			inQuote = true
		case b == '"':
			switch {
			case j > 0 && rec[j-1] == '"':
				j-- // a doubled quote inside the value
			case j == 0 || rec[j-1] == delim || rec[j-1] == ' ' && delim != ' ' && (j == 1 || rec[j-2] == delim):
				inQuote = false
			default:
				return false
			}
		case b == delim && !inQuote:
			found = append(found, [3]int{field, j + 1, stop})
			field--
			stop = j
		}
	}
	if field >= first {
		found = append(found, [3]int{field, 0, stop})
	}
	for _, f := range found {
		check(f[0], f[1], f[2])
	}
	return true
}

// amountGroupsOK says whether the reader gets v, an amount holding the
// thousands separator sep, right: it is false when v is made only of a sign,
// digits, separators and one decimal mark dec (so the reader takes it) but the
// separators do not stand between groups of three digits before the mark
// (225,50; 1,25,0; 1,250.0,0). It is true for 1,250.00, and for a value the
// reader rejects itself (a currency sign, two decimal marks).
func amountGroupsOK(v []byte, sep, dec byte) bool {
	i := 0
	if i < len(v) && (v[i] == '-' || v[i] == '+') {
		i++
	}
	intEnd := len(v)
	for j := i; j < len(v); j++ {
		c := v[j]
		switch {
		case c >= '0' && c <= '9', c == sep:
		case c == dec && intEnd == len(v):
			intEnd = j
		default:
			return true // not a number the reader takes: it rejects the row itself
		}
	}
	for j := intEnd + 1; j < len(v); j++ {
		if v[j] == sep {
			return false // a separator after the decimal mark
		}
	}
	// Before the decimal mark: 1-3 digits, then groups of a separator and three digits.
	group := 0
	first := true
	for j := i; j < intEnd; j++ {
		if v[j] != sep {
			group++
			continue
		}
		if group == 0 || group > 3 || (!first && group != 3) {
			return false
		}
		first, group = false, 0
	}
	return first || group == 3
}

// recordID is the value of field idx of rec, as the reader sees it.
func recordID(rec []byte, delim byte, idx int) string {
	r := csv.NewReader(bytes.NewReader(bytes.TrimRight(rec, "\r")))
	r.Comma = rune(delim)
	r.LazyQuotes = true
	r.FieldsPerRecord = -1
	fields, err := r.Read()
	if err == nil && idx < len(fields) {
		return fields[idx]
	}
	return ""
}

// blankRecord says whether rec (a record, its line end left out but for a CR)
// is delimiters alone, or empty quoted values (""), which the reader reads as
// NULL too: a row of empty fields.
func blankRecord(rec []byte, delim byte) bool {
	rec = bytes.TrimSuffix(rec, []byte{'\r'})
	if len(rec) == 0 {
		return false
	}
	for _, field := range bytes.Split(rec, []byte{delim}) {
		if len(field) != 0 && !bytes.Equal(field, []byte(`""`)) {
			return false
		}
	}
	return true
}
