package pipeline

// quoteState follows a record's bytes the way DuckDB's reader reads quotes: a
// quote opens a value only as the value's first byte, or after one space there
// (`, "Lopez, Maria"`); inside a quoted value two quotes are one quote, and one
// quote closes it. A quote anywhere else (5'10") is text. The scan, the amount
// check, the end-of-file check and the walk for reject lines all read quotes
// through it, so that they count records and fields as the reader does.
type quoteState struct {
	in       bool // inside a quoted value
	seen     bool // a quote inside it: it closes the value unless a second follows
	notStart bool // past the value's first byte (false at a record's or value's start)
	space    bool // after one space at the value's start
}

// What step makes of a byte.
const (
	qText    = iota // a byte of a value: text outside quotes, anything inside them, the one quote of two
	qMark           // a quote that opens a value (or, seen later, closed it)
	qDelim          // a delimiter between values
	qNewline        // a newline outside quotes: the record ends
	qCR             // a carriage return outside quotes: part of a line end, read as nothing
)

// step reads b, the byte after those already read, and says what it is. A
// quote inside a quoted value says nothing until the byte after it: a second
// quote makes it qText, anything else closes the value and is read on its own.
func (q *quoteState) step(b, delim byte) int {
	if q.in {
		if !q.seen {
			if b == '"' {
				q.seen = true
				return qMark
			}
			return qText
		}
		q.seen = false
		if b == '"' {
			return qText
		}
		q.in = false // the quote closed the value: b is read below
	}
	switch {
	case b == '"':
		q.in = !q.notStart || q.space
		q.notStart, q.space = true, false
		if q.in {
			return qMark
		}
		return qText
	case b == delim:
		q.notStart, q.space = false, false
		return qDelim
	case b == '\n':
		q.notStart, q.space = false, false
		return qNewline
	case b == '\r':
		return qCR
	case b == ' ' && !q.notStart && delim != ' ':
		q.notStart, q.space = true, true
		return qText
	default:
		q.notStart, q.space = true, false
		return qText
	}
}

// open says whether the reader is inside a quoted value: a quote seen last
// closed it, as no second one followed.
func (q *quoteState) open() bool { return q.in && !q.seen }
