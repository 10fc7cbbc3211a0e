package pipeline

import (
	"bytes"
	"encoding/csv"
)

// shiftedRow is a record with one field more than the header whose last
// field is empty. DuckDB's reader accepts such a row silently, dropping the
// empty field, although it usually means a value with the delimiter in it
// was not quoted ("McCarthy, Mateo") and every later value moved one
// column to the right.
type shiftedRow struct {
	line int64  // line the record starts on
	id   string // the value in the id column, as the reader would see it
}

// fieldCounter counts the fields of every record as the file streams past
// (quotes respected, records may span lines) and remembers shifted rows.
// Lines without quotes take a fast path (bytes.Count), so it adds little to
// the hashing pass it rides on.
type fieldCounter struct {
	delim   byte
	nfields int
	idIdx   int
	max     int

	line     int64 // lines seen so far
	partial  []byte
	inQuote  bool
	fields   int
	recStart int64
	rec      []byte // the current record's bytes, kept only on the slow path
	shifted  []shiftedRow
	total    int64 // shifted rows found, including those past max
}

func newFieldCounter(delim byte, nfields, idIdx int) *fieldCounter {
	return &fieldCounter{delim: delim, nfields: nfields, idIdx: idIdx, max: 100000}
}

func (fc *fieldCounter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			fc.partial = append(fc.partial, p...)
			break
		}
		line := p[:i]
		if len(fc.partial) > 0 {
			fc.partial = append(fc.partial, line...)
			line = fc.partial
		}
		fc.onLine(line)
		fc.partial = fc.partial[:0]
		p = p[i+1:]
	}
	return n, nil
}

// Close handles a last line without a newline.
func (fc *fieldCounter) Close() {
	if len(fc.partial) > 0 {
		fc.onLine(fc.partial)
		fc.partial = nil
	}
}

func (fc *fieldCounter) onLine(line []byte) {
	fc.line++
	line = bytes.TrimSuffix(line, []byte{'\r'})
	if fc.line == 1 {
		return // the header
	}
	if !fc.inQuote && bytes.IndexByte(line, '"') < 0 {
		// Fast path: a whole record on one line, no quotes.
		if len(line) == 0 {
			return
		}
		if bytes.Count(line, []byte{fc.delim})+1 == fc.nfields+1 && line[len(line)-1] == fc.delim {
			fc.found(fc.line, line)
		}
		return
	}
	if !fc.inQuote {
		fc.fields = 1
		fc.recStart = fc.line
		fc.rec = fc.rec[:0]
	} else {
		fc.rec = append(fc.rec, '\n')
	}
	fc.rec = append(fc.rec, line...)
	lastDelim := false
	for _, b := range line {
		switch {
		case b == '"':
			fc.inQuote = !fc.inQuote
			lastDelim = false
		case b == fc.delim && !fc.inQuote:
			fc.fields++
			lastDelim = true
		default:
			lastDelim = false
		}
	}
	if fc.inQuote {
		return // the record goes on on the next line
	}
	if fc.fields == fc.nfields+1 && lastDelim {
		fc.found(fc.recStart, fc.rec)
	}
}

func (fc *fieldCounter) found(line int64, rec []byte) {
	fc.total++
	if len(fc.shifted) >= fc.max {
		return
	}
	r := csv.NewReader(bytes.NewReader(rec))
	r.Comma = rune(fc.delim)
	r.LazyQuotes = true
	r.FieldsPerRecord = -1
	fields, err := r.Read()
	id := ""
	if err == nil && fc.idIdx < len(fields) {
		id = fields[fc.idIdx]
	}
	fc.shifted = append(fc.shifted, shiftedRow{line: line, id: id})
}
