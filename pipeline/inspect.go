package pipeline

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	gounicode "unicode"
	"unicode/utf8"

	"github.com/referrals/referrals/internal/clientkey"
	"github.com/referrals/referrals/internal/config"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

var (
	bomUTF8    = []byte{0xEF, 0xBB, 0xBF}
	bomUTF16LE = []byte{0xFF, 0xFE}
	bomUTF16BE = []byte{0xFE, 0xFF}
)

// fileScan is what one pass over a file learns.
type fileScan struct {
	sum       string
	size      int64
	lines     int64 // a last line without a newline counts
	crlf      int64
	crs       int64 // carriage returns, those of CRLFs included
	lastCR    bool  // the file's last byte is a carriage return
	nuls      int64
	validUTF8 bool
	// moneyMarks: the file holds a currency sign ($, €, £ or ¥ in UTF-8) or a
	// no-break space (U+00A0, U+202F) somewhere, perhaps in an amount (see
	// plainAmount).
	moneyMarks bool
}

// scanFile reads the whole file once: content hash, line count, CRLF and
// NUL counts, and whether it is valid UTF-8; with currency, whether it holds a
// currency sign or a no-break space (asked only of files with amount columns:
// the four searches for the signs cost 15% of the scan).
func scanFile(path string, fields *fieldCounter, currency bool) (fileScan, error) {
	var sc fileScan
	f, err := os.Open(path)
	if err != nil {
		return sc, err
	}
	defer f.Close()
	var size int64
	if fi, err := f.Stat(); err == nil {
		size = fi.Size()
	}
	h := sha256.New()
	buf := make([]byte, 1<<20)
	var carry []byte
	var prevCR bool
	var last byte
	sc.validUTF8 = true
	for {
		n, rerr := f.Read(buf)
		if n > 0 {
			chunk := buf[:n]
			h.Write(chunk)
			if fields != nil {
				fields.Write(chunk)
				if sc.size == 0 {
					fields.ids.presize(int64(n), size)
				}
			}
			sc.size += int64(n)
			sc.lines += int64(bytes.Count(chunk, []byte{'\n'}))
			sc.crlf += int64(bytes.Count(chunk, []byte("\r\n")))
			sc.crs += int64(bytes.Count(chunk, []byte{'\r'}))
			sc.nuls += int64(bytes.Count(chunk, []byte{0}))
			if currency && !sc.moneyMarks {
				sc.moneyMarks = bytes.IndexByte(chunk, '$') >= 0 || bytes.Contains(chunk, []byte("€")) ||
					bytes.Contains(chunk, []byte("£")) || bytes.Contains(chunk, []byte("¥")) ||
					bytes.Contains(chunk, noBreakSpace) || bytes.Contains(chunk, narrowNoBreakSpace)
			}
			if prevCR && chunk[0] == '\n' {
				sc.crlf++
			}
			prevCR = chunk[n-1] == '\r'
			last = chunk[n-1]
			if sc.validUTF8 {
				// Validated in place: only a sequence cut by the chunk's end is
				// carried, and finished with the next chunk's first bytes (copying
				// every chunk behind the carry cost 0.1 s per 100 MB).
				data := chunk
				if len(carry) > 0 {
					need := 4
					if carry[0] < 0xE0 {
						need = 2
					} else if carry[0] < 0xF0 {
						need = 3
					}
					take := min(need-len(carry), len(data))
					carry = append(carry, data[:take]...)
					data = data[take:]
					if len(carry) == need { // else the chunk ended first: carry on
						if !utf8.Valid(carry) {
							sc.validUTF8 = false
						}
						carry = carry[:0]
					}
				}
				cut := incompleteTail(data)
				if !utf8.Valid(data[:cut]) {
					sc.validUTF8 = false
				}
				carry = append(carry, data[cut:]...)
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return sc, rerr
		}
	}
	if len(carry) > 0 {
		sc.validUTF8 = false
	}
	if fields != nil {
		fields.Close()
	}
	if sc.size > 0 && last != '\n' {
		sc.lines++
	}
	sc.lastCR = sc.size > 0 && last == '\r'
	sc.sum = hex.EncodeToString(h.Sum(nil))
	return sc, nil
}

// strayCRs is how many carriage returns the file holds that no line feed
// follows, but for one as its last byte: the last line's end (DuckDB reads it
// in a file of CRLF lines, and fails on it in an LF one, where a copy drops
// it). Only a file read as bytes (not UTF-16) has them.
func (sc fileScan) strayCRs() int64 {
	n := sc.crs - sc.crlf
	if sc.lastCR {
		n--
	}
	return n
}

// incompleteTail returns the length of data without a trailing, possibly
// incomplete UTF-8 sequence.
func incompleteTail(data []byte) int {
	for i := 1; i <= 3 && i <= len(data); i++ {
		b := data[len(data)-i]
		if b < 0x80 {
			return len(data)
		}
		if b >= 0xC0 { // start byte
			need := 2
			if b >= 0xF0 {
				need = 4
			} else if b >= 0xE0 {
				need = 3
			}
			if need > i {
				return len(data) - i
			}
			return len(data)
		}
	}
	return len(data)
}

// guessEncoding decides how to read a file whose encoding is "auto".
// A BOM decides; valid UTF-8 is UTF-8; otherwise a file that still has more
// well-formed multi-byte UTF-8 sequences than stray bytes is UTF-8 with a
// few bad bytes (those rows are rejected), and anything else is
// Windows-1252, the usual encoding of exports from Windows systems.
func guessEncoding(path string, head []byte, valid bool) string {
	switch {
	case bytes.HasPrefix(head, bomUTF8):
		return "utf-8"
	case bytes.HasPrefix(head, bomUTF16LE), bytes.HasPrefix(head, bomUTF16BE):
		return "utf-16"
	case valid:
		return "utf-8"
	}
	f, err := os.Open(path)
	if err != nil {
		return "windows-1252"
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	var goodMulti, bad int
	for {
		ru, size, err := r.ReadRune()
		if err != nil {
			break
		}
		if ru == utf8.RuneError && size == 1 {
			bad++
		} else if size > 1 {
			goodMulti++
		}
	}
	if goodMulti > bad {
		return "utf-8"
	}
	return "windows-1252"
}

// headEncoding guesses the encoding from the first bytes alone, enough to
// read the header row before the whole file is scanned.
func headEncoding(head []byte) string {
	switch {
	case bytes.HasPrefix(head, bomUTF8):
		return "utf-8"
	case bytes.HasPrefix(head, bomUTF16LE), bytes.HasPrefix(head, bomUTF16BE):
		return "utf-16"
	case utf8.Valid(head[:incompleteTail(head)]):
		return "utf-8"
	}
	return "windows-1252"
}

// decoderFor turns an export's text into UTF-8 as the loader reads it; nil for UTF-8.
// UTF-16 takes its byte order from the BOM, little-endian without one (what Windows writes).
func decoderFor(enc string) *encoding.Decoder {
	switch enc {
	case "windows-1252", "latin-1":
		return charmap.Windows1252.NewDecoder()
	case "utf-16":
		return unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewDecoder()
	}
	return nil
}

func normaliseEncoding(e string) string {
	switch strings.ToLower(strings.TrimSpace(e)) {
	case "", "auto":
		return "auto"
	case "utf-8", "utf8":
		return "utf-8"
	case "windows-1252", "cp1252":
		return "windows-1252"
	case "latin-1", "latin1", "iso-8859-1":
		return "latin-1"
	case "utf-16":
		return "utf-16"
	}
	return e
}

// copyFixes says what a copy made for DuckDB changes: Windows-1252 or Latin-1
// decoded to UTF-8 (decode), the CR of each CRLF dropped (mixed line endings), NUL bytes
// dropped, and each carriage return not before a line feed made a space
// (delim is the file's delimiter, to number the first one's line).
type copyFixes struct {
	fixNewlines, dropNUL, strayCRs bool
	// decode: the file's single-byte encoding, decoded to UTF-8 (its no-break
	// space, euro, pound and yen are bytes of their own, which the amounts'
	// mender, reading UTF-8, would not find); nil for a file copied as it is.
	decode *charmap.Charmap
	delim  rune
	// money: the fields (0-based) of the amounts, whose currency signs and
	// spaces between thousands the copy drops ($1,234.50 becomes 1,234.50, and
	// 1 234,50 € 1234,50); none, to leave every value as it is.
	money []int
	// titleLines: the lines above the header, moved below it (headerMover).
	titleLines int
}

// copied is what a copy changed: the carriage returns alone it made spaces, the
// amounts whose currency sign it dropped, and those whose spaces between
// thousands it dropped.
type copied struct {
	stray                    strayCRCount
	currency, spaces, dashes int64
}

// strayCRCount is how many carriage returns alone a copy made spaces, and
// the line of the first as the reader numbers lines (records: see
// locateRecords).
type strayCRCount struct{ n, firstLine int64 }

// convertCopy writes a copy of the file at path into tmpDir that DuckDB can
// read strictly, with fixes: Windows-1252 decoded to UTF-8 (DuckDB reads only
// UTF-8, UTF-16 and Latin-1 itself); for files that mix CRLF and LF line
// endings (which DuckDB's strict parser refuses), every CRLF made LF; NUL
// bytes dropped; a CR alone made a space; the lines above the header (a
// report's title) made empty lines below it. Line numbers stay the same. It
// returns the copy's path and the CRs made spaces.
// copyPattern names the copies convertCopy makes (os.CreateTemp's pattern, a glob
// too): a run removes those a killed run left in its TmpDir.
const copyPattern = "referrals-utf8-*.csv"

func convertCopy(path, tmpDir string, fixes copyFixes) (string, copied, error) {
	in, err := os.Open(path)
	if err != nil {
		return "", copied{}, err
	}
	defer in.Close()
	out, err := os.CreateTemp(tmpDir, copyPattern)
	if err != nil {
		return "", copied{}, fmt.Errorf("create temporary file for %s: %w", path, err)
	}
	fail := func(err error) (string, copied, error) {
		out.Close()
		os.Remove(out.Name())
		return "", copied{}, err
	}
	w := bufio.NewWriterSize(out, 1<<20)
	var r io.Reader = bufio.NewReaderSize(in, 1<<20)
	if fixes.decode != nil {
		r = fixes.decode.NewDecoder().Reader(r)
	}
	var dst io.Writer = w
	var m *lineMender
	if fixes.fixNewlines || fixes.dropNUL || fixes.strayCRs {
		m = newLineMender(w, fixes)
		dst = m
	}
	var mm *moneyMender
	if len(fixes.money) > 0 && fixes.delim < 128 {
		mm = newMoneyMender(dst, byte(fixes.delim), fixes.money)
		dst = mm
	}
	var hm *headerMover
	if fixes.titleLines > 0 {
		// First, on the decoded text: the menders after it see a file whose
		// header is its first line.
		hm = &headerMover{w: dst, skip: fixes.titleLines}
		dst = hm
	}
	if _, err := io.Copy(dst, r); err != nil {
		return fail(fmt.Errorf("convert %s: %w", path, err))
	}
	if hm != nil {
		if err := hm.flush(); err != nil {
			return fail(err)
		}
	}
	var c copied
	if mm != nil {
		if err := mm.Close(); err != nil {
			return fail(err)
		}
		c.currency, c.spaces, c.dashes = mm.signs, mm.spaces, mm.dashes
	}
	// A CR still pending is the file's last byte: dropped (see lineMender).
	if m != nil {
		c.stray = m.stray
	}
	if err := w.Flush(); err != nil {
		return fail(err)
	}
	if err := out.Close(); err != nil {
		os.Remove(out.Name())
		return "", copied{}, err
	}
	return out.Name(), c, nil
}

// moneyMender passes a file's bytes on, but for the values of its amount fields
// written with a currency sign ($1,234.50, "$1,234.50", 1.234,50 €) or spaces
// between thousands (1 234,50), which it passes on without them (plainAmount),
// in their quotes if they had them, and for a dash alone (" $-   "), passed on as 0.
// Fields are followed the reader's way (quoteState), so a delimiter inside
// quotes splits nothing; lines are left as they are.
type moneyMender struct {
	w     io.Writer
	delim byte
	money []bool // by field
	q     quoteState
	field int
	val   []byte // the current amount field's bytes so far
	long  bool   // the current field is too long for an amount: passed on
	out   []byte
	// signs and spaces count the values passed on without a currency sign, and
	// without spaces between thousands; dashes the dashes alone passed on as 0.
	signs, spaces, dashes int64
}

func newMoneyMender(w io.Writer, delim byte, fields []int) *moneyMender {
	money := make([]bool, slices.Max(fields)+1)
	for _, f := range fields {
		money[f] = true
	}
	return &moneyMender{w: w, delim: delim, money: money}
}

func (m *moneyMender) Write(p []byte) (int, error) {
	m.out = m.out[:0]
	for _, b := range p {
		switch m.q.step(b, m.delim) {
		case qDelim, qNewline, qCR:
			m.endValue()
			m.out = append(m.out, b)
			switch b {
			case m.delim:
				m.field++
			case '\n':
				m.field = 0
			}
			continue
		}
		if m.field < len(m.money) && m.money[m.field] && !m.long {
			m.val = append(m.val, b)
			if len(m.val) > 256 {
				// No amount: a long text, or a quote left open. Passed on as it is.
				m.out = append(m.out, m.val...)
				m.val, m.long = m.val[:0], true
			}
		} else {
			m.out = append(m.out, b)
		}
	}
	if _, err := m.w.Write(m.out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// endValue writes the amount field read so far, without its currency sign and
// spaces between thousands.
func (m *moneyMender) endValue() {
	m.long = false
	if len(m.val) == 0 {
		return
	}
	v := m.val
	lead := len(v) - len(bytes.TrimLeft(v, " \t"))
	trail := len(bytes.TrimRight(v, " \t"))
	core := v[lead:trail]
	quoted := len(core) >= 2 && core[0] == '"' && core[len(core)-1] == '"' && bytes.IndexByte(core[1:len(core)-1], '"') < 0
	inner := core
	if quoted {
		inner = core[1 : len(core)-1]
	}
	if plain, ok := plainAmount(inner); ok {
		switch {
		case dashZero(plainSpaces(inner)):
			m.dashes++
		case hasCurrencySign(inner):
			m.signs++
		}
		if hasGroupSpace(inner) {
			m.spaces++
		}
		m.out = append(m.out, v[:lead]...)
		if quoted {
			m.out = append(m.out, '"')
		}
		m.out = append(m.out, plain...)
		if quoted {
			m.out = append(m.out, '"')
		}
		m.out = append(m.out, v[trail:]...)
	} else {
		m.out = append(m.out, v...)
	}
	m.val = m.val[:0]
}

// Close writes the last value of a file without a final newline.
func (m *moneyMender) Close() error {
	m.out = m.out[:0]
	m.endValue()
	_, err := m.w.Write(m.out)
	return err
}

// strayCRsAsCopied counts the carriage returns alone that the run's copy of
// the file at path reads as spaces, and the line of the first (see
// convertCopy): the scan's count (fileScan.strayCRs), but for a CR that only
// NUL bytes part from a line feed, which the copy, dropping them, reads as a
// line's end.
func strayCRsAsCopied(path string, delim rune) (strayCRCount, error) {
	f, err := os.Open(path)
	if err != nil {
		return strayCRCount{}, err
	}
	defer f.Close()
	m := newLineMender(bufio.NewWriterSize(io.Discard, 1<<16), copyFixes{dropNUL: true, strayCRs: true, delim: delim})
	if _, err := io.Copy(m, bufio.NewReaderSize(f, 1<<20)); err != nil {
		return strayCRCount{}, err
	}
	return m.stray, nil
}

// errLoneCR is a header line ended by a carriage return alone (the old Mac
// format). Read up to a line feed, the header would run into the rows, and
// their values, client ids among them, would be taken for column names, while
// the reader splits the rows itself; so such a file is refused whole, never
// named by its values.
var errLoneCR = errors.New(`the file ends its lines with a carriage return alone (the old "CSV (Macintosh)" format), which is not read; export it again as "CSV UTF-8" or "CSV (Windows)", whose lines end with a line feed`)

// readHeader returns the header record of a UTF-8 (or Latin-1) file, and
// the delimiter, guessed from the header line when asked to.
func readHeader(head []byte, encoding string, delim string) ([]string, rune, error) {
	head = bytes.TrimPrefix(head, bomUTF8)
	decoded := true
	if dec := decoderFor(encoding); dec != nil {
		if d, err := dec.Bytes(head); err == nil {
			head = d
		} else {
			decoded = false
		}
	}
	// A header line that ends in a carriage return alone: the old Mac format,
	// whose lines this reading would run together (see errLoneCR).
	if i := bytes.IndexAny(head, "\r\n"); decoded && i >= 0 && head[i] == '\r' && (i+1 == len(head) || head[i+1] != '\n') {
		return nil, 0, errLoneCR
	}
	line := head
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		line = head[:i]
	}
	line = bytes.TrimRight(line, "\r")
	if len(bytes.TrimSpace(line)) == 0 {
		return nil, 0, errors.New("the file is empty or its first line is blank: an export must start with a header row")
	}
	d, ok := delimiterSetting(delim)
	if !ok {
		d = guessDelimiter(line)
	}
	r := csv.NewReader(bytes.NewReader(line))
	r.Comma = d
	r.LazyQuotes = true
	r.FieldsPerRecord = -1
	rec, err := r.Read()
	if err != nil {
		return nil, d, fmt.Errorf("cannot read the header row: %v", err)
	}
	for i := range rec {
		rec[i] = strings.TrimSpace(rec[i])
	}
	return rec, d, nil
}

// delimiterSetting is the delimiter a setting names, or ok false for "auto"
// (or none), which guesses it from each file's header line.
func delimiterSetting(delim string) (d rune, ok bool) {
	switch {
	case delim == "" || delim == "auto":
		return 0, false
	case delim == `\t` || delim == "tab":
		return '\t', true
	default:
		d, _ = utf8.DecodeRuneInString(delim)
		return d, true
	}
}

// guessDelimiter picks the most frequent of , ; tab | outside quotes.
func guessDelimiter(line []byte) rune {
	counts := map[rune]int{}
	inQuote := false
	for _, b := range string(line) {
		if b == '"' {
			inQuote = !inQuote
			continue
		}
		if !inQuote && (b == ',' || b == ';' || b == '\t' || b == '|') {
			counts[b]++
		}
	}
	best, n := ',', 0
	for _, c := range []rune{',', ';', '\t', '|'} {
		if counts[c] > n {
			best, n = c, counts[c]
		}
	}
	return best
}

// MapHeaders matches a file's headers to the canonical fields: an explicit
// mapping from the configuration first, then, for the fields it does not
// place, the common names every practice-management system uses. It returns
// the missing required fields.
func MapHeaders(source string, headers []string, explicit map[string]string) (mapping map[string]int, missing []string) {
	mapping = map[string]int{}
	used := map[int]bool{}
	for field, want := range explicit {
		for i, h := range headers {
			if strings.EqualFold(strings.TrimSpace(h), strings.TrimSpace(want)) && !used[i] {
				mapping[field] = i
				used[i] = true
				break
			}
		}
	}
	norm := make([]string, len(headers))
	for i, h := range headers {
		norm[i] = config.NormaliseHeader(h)
	}
	for _, f := range config.Fields(source) {
		if _, ok := mapping[f.Name]; ok {
			continue
		}
		// A field mapped to a header this file does not have falls back to the
		// common names: the mapping adds a name for the field, it does not take
		// away the usual ones (mapping referral_source = "Lead" for the newer
		// exports must not leave the older ones, which say "Referral Source",
		// without a source). Missing from both, it is reported as missing.
	search:
		for _, want := range f.Headers {
			for i, n := range norm {
				if n == want && !used[i] {
					mapping[f.Name] = i
					used[i] = true
					break search
				}
			}
		}
	}
	for _, f := range config.Fields(source) {
		if _, ok := mapping[f.Name]; !ok && f.Required {
			missing = append(missing, f.Name)
		}
	}
	return mapping, missing
}

// missingColumnProblem explains a missing required column and its fix.
func missingColumnProblem(source string, src config.Source, headers []string, missing []string, delim rune) string {
	explicit := src.Columns
	var b strings.Builder
	for i, m := range missing {
		if i > 0 {
			b.WriteString("; ")
		}
		if want, ok := explicit[m]; ok {
			fmt.Fprintf(&b, "required field %q is mapped to header %q, which this file does not have", m, want)
		} else {
			fmt.Fprintf(&b, "no column for required field %q", m)
		}
	}
	if len(headers) == 1 {
		if other, columns, known := otherDelimiter(source, headers[0], delim, explicit); other != 0 {
			// The columns advice would be wrong: the header is all there, read as one.
			fmt.Fprintf(&b, ". The header reads as a single column, %s: the file seems to use %s as its delimiter, not %s (split at them, the header gives %d columns, %d of them fields the tool knows). Set %s delimiter = %s in the configuration file, or remove the delimiter line to have it guessed from the header.",
				strings.Join(quotedHeaders(headers), ", "), delimiterNames[other], delimiterShown(delim), columns, known, src.Block(source), delimiterTOML(other))
			return b.String()
		}
	}
	fmt.Fprintf(&b, ". Headers found: %s. Set %s %s = \"<header name>\" in the configuration file", strings.Join(quotedHeaders(headers), ", "), src.ColumnsName(source), missing[0])
	if len(headers) == 1 && strings.ContainsAny(headers[0], ";\t|") {
		fmt.Fprintf(&b, ", or set %s delimiter: the header has a single column, so the file is probably not %q-separated", src.Block(source), string(delim))
	}
	b.WriteString(".")
	return b.String()
}

// delimiterNames name the delimiters the tool guesses among, in the plural.
var delimiterNames = map[rune]string{',': "commas", ';': "semicolons", '\t': "tabs", '|': "vertical bars (|)"}

// otherDelimiter is the delimiter other than delim that splits header, a file's
// only header, into columns of which at least two are fields of source (as
// MapHeaders matches them), with the most such: the file's own delimiter, when
// the configuration names another. columns and known say how many columns it
// gives and how many are fields. 0 when none does.
func otherDelimiter(source, header string, delim rune, explicit map[string]string) (other rune, columns, known int) {
	for _, d := range []rune{',', ';', '\t', '|'} {
		if d == delim || !strings.ContainsRune(header, d) {
			continue
		}
		parts := strings.Split(header, string(d))
		for i, p := range parts {
			parts[i] = strings.Trim(strings.TrimSpace(p), `"'`)
		}
		mapping, _ := MapHeaders(source, parts, explicit)
		if len(mapping) >= 2 && len(mapping) > known {
			other, columns, known = d, len(parts), len(mapping)
		}
	}
	return other, columns, known
}

// delimiterTOML writes d as a delimiter setting's value: "," or "\t".
func delimiterTOML(d rune) string {
	if d == '\t' {
		return `"\t"`
	}
	return fmt.Sprintf("%q", string(d))
}

// delimiterShown names d in a message: ";" or "\t" (tab).
func delimiterShown(d rune) string {
	if d == '\t' {
		return `"\t" (tab)`
	}
	return fmt.Sprintf("%q", string(d))
}

// lineMender drops each CR that comes right before an LF (fixNewlines), NUL
// bytes (dropNUL), and makes each CR not before an LF a space (strayCRs):
// DuckDB's reader fails on one inside a value, or ends the record there. A
// CR as the file's last byte is dropped: the last line's end, which DuckDB
// reads in a CRLF file and fails on in an LF one.
type lineMender struct {
	w           *bufio.Writer
	pendingCR   bool
	fixNewlines bool
	dropNUL     bool
	strayCRs    bool
	delim       byte
	noLines     bool // the delimiter is outside ASCII: no line for the first CR
	stray       strayCRCount
	// Until the first CR alone: the quotes and the records ended, as the
	// reader reads the copy, for that CR's line.
	q       quoteState
	records int64
}

func (c *lineMender) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if c.pendingCR {
			c.pendingCR = false
			switch {
			case p[0] == 0 && c.dropNUL:
				c.pendingCR = true // the CR waits for the byte after the NULs
				p = p[1:]
				continue
			case p[0] != '\n':
				if err := c.straycr(); err != nil {
					return 0, err
				}
			case !c.fixNewlines:
				if err := c.put([]byte{'\r'}); err != nil {
					return 0, err
				}
			}
		}
		// The bytes up to the next CR (or NUL, when dropped) go as they are.
		k := bytes.IndexByte(p, '\r')
		if c.dropNUL {
			if z := bytes.IndexByte(p, 0); z >= 0 && (k < 0 || z < k) {
				k = z
			}
		}
		if k < 0 {
			k = len(p)
		}
		if err := c.put(p[:k]); err != nil {
			return 0, err
		}
		if k == len(p) {
			break
		}
		if p[k] == '\r' {
			c.pendingCR = true
		}
		p = p[k+1:]
	}
	return n, nil
}

// straycr writes a CR not followed by an LF: a space where strayCRs asks,
// else as it is.
func (c *lineMender) straycr() error {
	if !c.strayCRs {
		return c.put([]byte{'\r'})
	}
	if c.stray.n++; c.stray.n == 1 && !c.noLines {
		c.stray.firstLine = c.records + 1
	}
	return c.put([]byte{' '})
}

// newLineMender is the lineMender of a copy with fixes, writing to w. A
// delimiter outside ASCII takes more than one byte in the copy, and a quote
// after another character ending in its last byte would seem to open a
// value: the first CR's line is not followed then (firstLine stays 0).
func newLineMender(w *bufio.Writer, fixes copyFixes) *lineMender {
	return &lineMender{w: w, fixNewlines: fixes.fixNewlines, dropNUL: fixes.dropNUL, strayCRs: fixes.strayCRs,
		delim: byte(fixes.delim), noLines: fixes.delim >= 128}
}

// put writes b, following the quotes until the first CR alone is found.
func (c *lineMender) put(b []byte) error {
	if c.strayCRs && c.stray.n == 0 && !c.noLines {
		for _, x := range b {
			if c.q.step(x, c.delim) == qNewline {
				c.records++
			}
		}
	}
	_, err := c.w.Write(b)
	return err
}

// readHead returns up to n bytes from the start of the file.
func readHead(path string, n int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, n)
	k, err := io.ReadFull(f, buf)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, err
	}
	return buf[:k], nil
}

// layout is what the first 64 KiB of an export say: how its header reads
// and which field each header is.
type layout struct {
	head     []byte
	headEnc  string // encoding as far as the head shows (the whole-file scan may revise it)
	headers  []string
	delim    rune
	mapping  map[string]int
	problem  string // why the file cannot be loaded; empty when it can
	readFail error  // the file could not be read at all
	amounts  amountStyle
	// spacedAmounts: an amount on the head's rows parts its thousands with plain
	// spaces (1 234,50), which the copy drops: no byte search can find them.
	spacedAmounts bool
	// dashAmounts: an amount on the head's rows is a dash alone (an accounting
	// format's zero), which the copy reads as 0: no byte search can find them either.
	dashAmounts bool
	rows        [][]string // the head's data rows (headRecords)
	// dataRow: the first line is a data row, not a header (problem says so);
	// headers then hold a patient's values, which no message may repeat.
	dataRow bool
	// titleLines: the lines above the header (a report's title, its date range,
	// blank lines), which a copy moves below it (headerMover); 0 when the header
	// is the first line.
	titleLines int
}

// fieldCounter is the counter the scan of the file feeds, with its amounts to
// check; nil where the scan cannot split fields the reader's way (a delimiter
// outside ASCII, UTF-16 text).
func (l layout) fieldCounter(source string) *fieldCounter {
	if l.delim >= 128 || l.headEnc == "utf-16" {
		return nil
	}
	_, idField := sourceTable(source)
	fc := newFieldCounter(byte(l.delim), len(l.headers), l.mapping[idField])
	fc.amounts = l.amounts.check(source, l.mapping)
	return fc
}

// readLayout reads the head of an export and maps its header to the
// source's fields. The loader and `referrals check` both start here, so
// they judge a file the same way and say the same thing about it.
func readLayout(path, source string, src config.Source) layout {
	var l layout
	l.head, l.readFail = readHead(path, 64<<10)
	if l.readFail != nil {
		return l
	}
	if len(l.head) == 0 {
		l.problem = fmt.Sprintf("the file is empty; re-export it from the %s system", source)
		return l
	}
	if kind := isBinaryExport(l.head); kind != "" {
		l.problem = fmt.Sprintf("this is not a CSV file but %s; export the report as CSV (comma-separated values) instead", kind)
		return l
	}
	l.headEnc = normaliseEncoding(src.Encoding)
	if l.headEnc == "auto" {
		l.headEnc = headEncoding(l.head)
	}
	var err error
	var missing []string
	l.headers, l.delim, err = readHeader(l.head, l.headEnc, src.Delimiter)
	if err == nil {
		l.mapping, missing = MapHeaders(source, l.headers, src.Columns)
	}
	headerAt := 0
	if (err != nil && err != errLoneCR || len(missing) > 0) && l.headEnc != "utf-16" {
		// A report's title above the header: the header is the first line below
		// that names every required field, or names more fields than the first.
		if k, at, headers, delim, mapping, miss := headerBelow(l.head, l.headEnc, source, src); k > 0 && (err != nil || len(miss) == 0 || len(mapping) > len(l.mapping)) {
			l.titleLines, headerAt = k, at
			l.headers, l.delim, l.mapping, missing, err = headers, delim, mapping, miss, nil
		}
	}
	if err != nil {
		l.problem = err.Error()
		return l
	}
	if p := clientColumnMisuse(source, l.headers, l.mapping, src); p != "" {
		l.problem = p
		return l
	}
	l.rows = headRecords(l.head[headerAt:], l.headEnc, l.delim)
	l.amounts = readAmountStyle(source, l.rows, l.delim, l.mapping)
	l.spacedAmounts = headAmount(source, l.rows, l.mapping, spacedAmount)
	l.dashAmounts = headAmount(source, l.rows, l.mapping, dashZero)
	if len(missing) > 0 {
		if looksLikeData(l.headers, l.mapping) {
			// Its values are a patient's row: none of them is repeated.
			l.dataRow = true
			l.problem = fmt.Sprintf("the first line of %s looks like a data row, not a header: the export must have its header line (the column names) first; export it again with column headers, or check that this file belongs under %s files",
				filepath.Base(path), src.Block(source))
		} else {
			l.problem = missingColumnProblem(source, src, l.headers, missing, l.delim)
			if l.titleLines > 0 {
				l.problem = fmt.Sprintf("the header is on line %d, below a report's title (the lines above it are not read): %s", l.titleLines+1, l.problem)
			}
		}
	}
	return l
}

// maxTitleLines is how many lines above its header an export may hold (a
// report's title, the practice's name, its date range, blank lines).
const maxTitleLines = 10

// headerBelow finds the header of an export whose first lines are a report's
// title: the first of the next maxTitleLines lines of head that names every
// required field of source (as MapHeaders matches them) and reads as no data
// row; else the one that names the most fields, at least two, with the required
// ones it lacks in missing (a header whose names need a mapping). k is the
// lines above it (0 when no line names two fields), at its offset in head.
// Lines are counted by their line feeds, as headerMover counts them.
func headerBelow(head []byte, enc, source string, src config.Source) (k, at int, headers []string, delim rune, mapping map[string]int, missing []string) {
	pos := len(head) - len(bytes.TrimPrefix(head, bomUTF8))
	for line := 1; line <= maxTitleLines; line++ {
		i := bytes.IndexByte(head[pos:], '\n')
		if i < 0 {
			break
		}
		pos += i + 1
		h, d, err := readHeader(head[pos:], enc, src.Delimiter)
		if err != nil {
			continue // a blank line
		}
		m, miss := MapHeaders(source, h, src.Columns)
		if looksLikeData(h, m) || len(m) < 2 || k > 0 && len(m) <= len(mapping) {
			continue
		}
		k, at, headers, delim, mapping, missing = line, pos, h, d, m, miss
		if len(miss) == 0 {
			break
		}
	}
	return k, at, headers, delim, mapping, missing
}

// headerMover passes a file's bytes on with its header line first: the lines
// above it (skip of them: see headerBelow) are passed on as empty lines after
// it, ended as the header line is, so that every later line keeps its number
// and the reader, which takes the first line for the header and skips empty
// lines, reads the rows as they are.
type headerMover struct {
	w      io.Writer
	skip   int    // lines above the header
	seen   int    // of them, those read
	header []byte // the header line so far
	done   bool
}

func (m *headerMover) Write(p []byte) (int, error) {
	n := len(p)
	for !m.done && len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if m.seen < m.skip {
			if i < 0 {
				return n, nil
			}
			p, m.seen = p[i+1:], m.seen+1
			continue
		}
		if i < 0 {
			m.header = append(m.header, p...)
			return n, nil
		}
		m.header = append(m.header, p[:i+1]...)
		p = p[i+1:]
		if err := m.flush(); err != nil {
			return 0, err
		}
	}
	if len(p) > 0 {
		if _, err := m.w.Write(p); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// flush writes the header line and the empty lines in place of those above it.
func (m *headerMover) flush() error {
	if m.done {
		return nil
	}
	m.done = true
	end := []byte("\n")
	if bytes.HasSuffix(m.header, []byte("\r\n")) {
		end = []byte("\r\n")
	} else if !bytes.HasSuffix(m.header, end) {
		m.header = append(m.header, end...) // a file of its header alone, without a line feed
	}
	_, err := m.w.Write(append(m.header, bytes.Repeat(end, m.skip)...))
	return err
}

var (
	// A date or a time at the start of a value: 09/01/2026, 2026-09-01, 1.9.26, 8:00 AM.
	dateOrTime = regexp.MustCompile(`^(\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}|\d{1,2}:\d{2})`)
	// Three digits in a row: an id (A009789, CLX101600Q, an NPI), a number or an amount.
	digitRun = regexp.MustCompile(`\d{3}`)
)

// valueLike says a header cell reads as a value rather than a column name: a
// date, a time, or three digits in a row (ids, numbers, amounts). Column names
// seldom hold one; any value may be a client id, so such a cell is never
// repeated in a message.
func valueLike(cell string) bool {
	cell = strings.TrimSpace(cell)
	return dateOrTime.MatchString(cell) || digitRun.MatchString(cell)
}

// maskValueCell is a header cell as a message or the ledger may show it: a cell
// that reads as a value (valueLike: a data row run into the header line, a
// client id among the headers) is never repeated.
func maskValueCell(h string) string {
	if valueLike(h) {
		return "(a value, not shown)"
	}
	return h
}

// quotedHeaders is headers quoted for a message, but a cell that reads as a value
// (maskValueCell: a client id?), never repeated.
func quotedHeaders(headers []string) []string {
	out := make([]string, len(headers))
	for i, h := range headers {
		if valueLike(h) {
			out[i] = maskValueCell(h)
		} else {
			out[i] = strconv.Quote(h)
		}
	}
	return out
}

// looksLikeData says a first line is a data row, not a header: it holds a date
// or a time, or two value-like cells, or a value-like cell and no known column
// name (mapping: the fields its cells were matched to).
func looksLikeData(cells []string, mapping map[string]int) bool {
	values := 0
	for _, c := range cells {
		if dateOrTime.MatchString(strings.TrimSpace(c)) {
			return true
		}
		if valueLike(c) {
			values++
		}
	}
	return values >= 2 || values == 1 && len(mapping) == 0
}

// clientColumns are the columns of a file that hold client ids, or may: the one
// mapped to client_id, the one the configuration names for it, and any whose
// header is a name the loader takes for a client id (Patient Account, MRN, …).
func clientColumns(source string, headers []string, mapping map[string]int, explicit map[string]string) map[int]bool {
	names := map[string]bool{}
	for _, f := range config.Fields(source) {
		if f.Name == "client_id" {
			for _, h := range f.Headers {
				names[h] = true
			}
		}
	}
	want, hasWant := explicit["client_id"]
	cols := map[int]bool{}
	for i, h := range headers {
		if names[config.NormaliseHeader(h)] || hasWant && strings.EqualFold(strings.TrimSpace(h), strings.TrimSpace(want)) {
			cols[i] = true
		}
	}
	if i, ok := mapping["client_id"]; ok {
		cols[i] = true
	}
	return cols
}

// clientColumnMisuse refuses a mapping that reads a client id column as another
// field: its values would be stored as text, or fail as dates or amounts on
// every row with the value quoted. It names the key to change.
func clientColumnMisuse(source string, headers []string, mapping map[string]int, src config.Source) string {
	cols := clientColumns(source, headers, mapping, src.Columns)
	block := src.ColumnsName(source)
	var fields []string
	for field, i := range mapping {
		if field != "client_id" && (cols[i] || patientColumn(headers[i])) {
			fields = append(fields, field)
		}
	}
	if len(fields) == 0 {
		return ""
	}
	sort.Strings(fields)
	f := fields[0]
	if !cols[mapping[f]] {
		return fmt.Sprintf("%s %s is mapped to %q, which by its name holds patients' data (a name, birth date, contact or identity number): it would be stored and shown as the %s; point %s %s at the column that really holds it",
			block, f, headers[mapping[f]], strings.ReplaceAll(f, "_", " "), block, f)
	}
	return fmt.Sprintf("%s %s is mapped to %q, which holds client ids: client ids are only ever keyed, never read as another field, stored or shown; point %s %s at the column that really holds it",
		block, f, headers[mapping[f]], block, f)
}

// patientColumn says a header names a column of patients' own data, which no
// field may be read from: a birth date, a social security number, or a patient's
// (client's, member's…) name, phone, email or address, the person named right
// before it ("Patient Name", "Client Last Name", "Member Phone"). Headers that
// name a payer or a source beside such words ("Patient Insurance Name",
// "Referral Source (Email/Phone/Web)") are not. A column of the client id is told
// by clientColumns.
func patientColumn(header string) bool {
	n := " " + strings.Join(strings.FieldsFunc(strings.ToLower(header), func(r rune) bool {
		return !gounicode.IsLetter(r) && !gounicode.IsDigit(r)
	}), " ") + " "
	for _, w := range []string{" dob ", " date of birth ", " birth date ", " birthdate ", " ssn ", " social security "} {
		if strings.Contains(n, w) {
			return true
		}
	}
	for _, who := range []string{"client", "patient", "patients", "member", "guarantor", "insured", "subscriber"} {
		for _, what := range []string{"name", "first name", "last name", "full name", "phone", "email", "e mail", "address", "home address", "cell phone", "mobile"} {
			if strings.Contains(n, " "+who+" "+what+" ") {
				return true
			}
		}
	}
	return false
}

// amountStyle is how an export writes its amounts (charge, paid).
type amountStyle string

const (
	// amountsPoint: 1250.00 or 1,250.00 (a comma is a thousands separator), the default.
	amountsPoint amountStyle = ""
	// amountsComma: 1250,00 (a decimal comma); amountsCommaDot also 1.250,00.
	amountsComma    amountStyle = "decimal comma"
	amountsCommaDot amountStyle = "decimal comma, thousands dot"
	// amountsMixed: both 225,00 and 225.00 in one file. No comma can be read
	// safely, so an amount holding one is rejected.
	amountsMixed amountStyle = "mixed decimal marks"
	// amountsNoThousands: a file with ';' (or another delimiter than ',') whose
	// first rows show no amount with a thousands comma (1,250.00). Read without
	// one, so that a 225,50 further down is rejected rather than read as 22550:
	// exports with ';' between values often write a decimal comma.
	amountsNoThousands amountStyle = "no thousands separator"
)

// shown is the style as the run's summary and check name it: "" for the ways
// that need no word (1250.00, or plain numbers read without a thousands comma).
func (a amountStyle) shown() string {
	if a == amountsNoThousands {
		return ""
	}
	return string(a)
}

var (
	// An amount ending in a comma and one or two digits: a decimal comma (a
	// thousands separator is followed by three digits).
	decimalComma = regexp.MustCompile(`^[-+]?(\d{1,3}(\.\d{3})+|\d+),\d{1,2}$`)
	thousandsDot = regexp.MustCompile(`^[-+]?\d{1,3}(\.\d{3})+,\d{1,2}$`)
	// An amount ending in a point and one or two digits: a decimal point.
	decimalPoint = regexp.MustCompile(`^[-+]?(\d{1,3}(,\d{3})+|\d+)\.\d{1,2}$`)
	// An amount with a comma between thousands: 1,250.00 or 1,250.
	thousandsComma = regexp.MustCompile(`^[-+]?\d{1,3}(,\d{3})+(\.\d{1,2})?$`)
)

// headRecords are the data rows of an export's head, each row's fields: the rows
// complete in its first bytes (head, in encoding enc), after the header. The
// layout reads them once; what the head shows of amounts and ids is read off them.
func headRecords(head []byte, enc string, delim rune) [][]string {
	head = bytes.TrimPrefix(head, bomUTF8)
	if dec := decoderFor(enc); dec != nil {
		if d, err := dec.Bytes(head); err == nil {
			head = d
		}
	}
	// Only whole rows: the head may end inside one (225,0 of 225,00).
	i := bytes.LastIndexByte(head, '\n')
	if i < 0 {
		return nil
	}
	r := csv.NewReader(bytes.NewReader(head[:i+1]))
	r.Comma = delim
	r.LazyQuotes = true
	r.FieldsPerRecord = -1
	var rows [][]string
	for n := 0; ; n++ {
		rec, err := r.Read()
		if err == io.EOF {
			return rows
		}
		if err != nil || n == 0 {
			continue // the header, or a row the loader will reject
		}
		rows = append(rows, rec)
	}
}

// signedAmount is the first amount on the head's rows (headRecords) written
// in an accountant's parentheses ((25.00), ($25.00), $(25.00)) or with a currency code
// (USD 25.00), as Excel's accounting formats save them: the reader takes plain
// numbers only and rejects such rows. A currency sign alone ($1,234.50) is
// dropped as the file is read (plainAmount), and not reported. row counts the data rows from 1; value is
// "" when there is none.
func signedAmount(source string, rows [][]string, mapping map[string]int) (row int, value string, col int) {
	cols := moneyColumns(source, mapping)
	for n, rec := range rows {
		for _, i := range cols {
			if i >= len(rec) {
				continue
			}
			if v := strings.TrimSpace(rec[i]); signedAmountRE.MatchString(v) && plainAmountString(v) == v {
				return n + 1, strings.TrimSpace(rec[i]), i
			}
		}
	}
	return 0, "", 0
}

var signedAmountRE = regexp.MustCompile(`^-?\s*([$€£¥]\s*-?[0-9]|[0-9][0-9.,]*\s*[$€£¥]$|[$€£¥]?\s*\(\s*[$€£¥]?\s*[0-9][0-9.,]*\s*\)$|[A-Z]{3}\s*-?[0-9])`)

// currencyAmountRE is an amount with a currency sign before or after it, as a
// spreadsheet's currency format saves it: $1,234.50, -$25.00, $-25.00, € 12,50,
// 1.234,50 €, 1 234,50 € (spaces between thousands, see spacedAmountRE). Its
// groups are the signs and the number.
var currencyAmountRE = regexp.MustCompile(`^(?:([-+]?)\s*[$€£¥]\s*([-+]?)\s*(` + amountNumber + `)|([-+]?)\s*(` + amountNumber + `)\s*[$€£¥])$`)

// amountNumber is an amount's number as the patterns above read it: digits in
// groups of three parted by spaces (1 234,50), or digits, points and commas,
// which the reader judges.
const amountNumber = spacedNumber + `|[0-9][0-9.,]*`

// spacedNumber is a number whose groups of three digits are parted by spaces.
const spacedNumber = `[0-9]{1,3}(?: [0-9]{3})+(?:[.,][0-9]+)?`

// spacedAmountRE is an amount without a currency sign whose thousands are parted
// by spaces, as French, Canadian French and other locales write them: 1 234,50.
var spacedAmountRE = regexp.MustCompile(`^([-+]?)\s*(` + spacedNumber + `)$`)

// Spreadsheets part thousands with a no-break space (U+00A0) or, in newer
// French formats, a narrow one (U+202F), and write one between the number and
// a currency sign after it: read as spaces.
var (
	noBreakSpace       = []byte("\u00a0")
	narrowNoBreakSpace = []byte("\u202f")
)

// plainAmount is v, an amount column's value, as the reader takes it: without a
// currency sign before or after its number, and without the spaces (plain,
// no-break or narrow) between its groups of three digits (1 234,50 € is
// 1234,50). ok is false when v has neither, when its spaces do not part groups
// of three digits, or when it has two minus signs: the reader is then left to
// judge it as written.
func plainAmount(v []byte) (plain []byte, ok bool) {
	// Most amounts have nothing to drop: one pass over their bytes for the first byte
	// of each thing dropped ($, a space, € and the narrow no-break space start with
	// 0xE2, £, ¥ and the no-break space with 0xC2) says so. The scan asks this of
	// every amount in a record with quotes: the six searches below made it 11% slower.
	if !mayDrop(v) {
		return nil, false
	}
	t := plainSpaces(v)
	if dashZero(t) {
		return []byte("0"), true
	}
	sign := hasCurrencySign(t)
	if !sign && !digitSpaceDigit(t) {
		return nil, false
	}
	t = bytes.TrimSpace(t)
	var signs, num []byte
	if sign {
		m := currencyAmountRE.FindSubmatch(t)
		if m == nil {
			return nil, false
		}
		if m[3] == nil { // the sign after the number
			signs, num = m[4], m[5]
		} else {
			if len(m[1]) > 0 && len(m[2]) > 0 {
				return nil, false // -$-25.00
			}
			signs, num = append(append([]byte{}, m[1]...), m[2]...), m[3]
		}
	} else {
		m := spacedAmountRE.FindSubmatch(t)
		if m == nil {
			return nil, false
		}
		signs, num = m[1], m[2]
	}
	return append(append([]byte{}, signs...), bytes.ReplaceAll(num, []byte(" "), nil)...), true
}

// mayDrop says v holds a byte that starts something plainAmount drops, or a
// dash (dashZero).
func mayDrop(v []byte) bool {
	for _, c := range v {
		if c == '$' || c == ' ' || c == 0xC2 || c == 0xE2 || c == '-' {
			return true
		}
	}
	return false
}

// dashZero says v is a dash alone, with spaces and a currency sign before or
// after it or not (" $-   ", "-", "$ -"): how a spreadsheet's accounting format
// writes zero, and saves it in a CSV. plainAmount reads it as 0.
func dashZero(v []byte) bool {
	v = bytes.TrimSpace(v)
	for _, sign := range []string{"$", "€", "£", "¥"} {
		v = bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimPrefix(v, []byte(sign)), []byte(sign)))
	}
	return len(v) == 1 && v[0] == '-'
}

// hasCurrencySign says v holds a currency sign plainAmount drops.
func hasCurrencySign(v []byte) bool {
	return bytes.IndexByte(v, '$') >= 0 || bytes.Contains(v, []byte("€")) || bytes.Contains(v, []byte("£")) || bytes.Contains(v, []byte("¥"))
}

// hasGroupSpace says v holds a space (plain, no-break or narrow) between two
// digits: in an amount plainAmount takes, a space between thousands.
func hasGroupSpace(v []byte) bool {
	return digitSpaceDigit(plainSpaces(v))
}

// plainSpaces is v with its no-break and narrow no-break spaces made plain
// spaces; v itself when it has none.
func plainSpaces(v []byte) []byte {
	if bytes.Contains(v, noBreakSpace) || bytes.Contains(v, narrowNoBreakSpace) {
		v = bytes.ReplaceAll(bytes.ReplaceAll(v, noBreakSpace, []byte(" ")), narrowNoBreakSpace, []byte(" "))
	}
	return v
}

// digitSpaceDigit says v holds a space between two digits.
func digitSpaceDigit(v []byte) bool {
	for i := 1; i+1 < len(v); i++ {
		if v[i] == ' ' && v[i-1] >= '0' && v[i-1] <= '9' && v[i+1] >= '0' && v[i+1] <= '9' {
			return true
		}
	}
	return false
}

// plainAmountCP1252 is plainAmount for a value as a Windows-1252 file writes it,
// the euro, pound or yen sign or a no-break space in a byte of its own (0x80,
// 0xA3, 0xA5, 0xA0), which is no UTF-8: the scan reads the file's bytes before the copy decodes them.
func plainAmountCP1252(v []byte) (plain []byte, ok bool) {
	if utf8.Valid(v) || bytes.IndexByte(v, 0x80) < 0 && bytes.IndexByte(v, 0xa3) < 0 && bytes.IndexByte(v, 0xa5) < 0 && bytes.IndexByte(v, 0xa0) < 0 {
		return nil, false
	}
	d, err := charmap.Windows1252.NewDecoder().Bytes(v)
	if err != nil {
		return nil, false
	}
	return plainAmount(d)
}

// plainAmountString is plainAmount for a string: v itself when it has no sign to drop.
func plainAmountString(v string) string {
	if p, ok := plainAmount([]byte(v)); ok {
		return string(p)
	}
	return v
}

// headAmount says an amount on the head's rows (headRecords) is one that is:
// spacedAmount or dashZero, which the reader would reject and the copy mends.
func headAmount(source string, rows [][]string, mapping map[string]int, is func([]byte) bool) bool {
	cols := moneyColumns(source, mapping)
	for _, rec := range rows {
		for _, i := range cols {
			if i < len(rec) && is([]byte(rec[i])) {
				return true
			}
		}
	}
	return false
}

// spacedAmount says v is an amount that parts its thousands with spaces, plain,
// no-break or narrow (1 234,50), as the reader, which takes no space in a number,
// would reject.
func spacedAmount(v []byte) bool {
	if !hasGroupSpace(v) {
		return false
	}
	_, ok := plainAmount(v)
	return ok
}

// sciNotationID is the first of the head's rows (headRecords) whose client id,
// appointment id or claim line id is written in scientific notation
// (1.23457E+17), as Excel shows a long number and saves it so: its digits are
// lost, and different clients (or rows) become one. field is "" when none is.
func sciNotationID(rows [][]string, mapping map[string]int) (row int, field string) {
	for n, rec := range rows {
		for _, f := range []string{"client_id", "appointment_id", "line_id"} {
			if i, ok := mapping[f]; ok && i < len(rec) && sciNotationRE.MatchString(strings.TrimSpace(rec[i])) {
				return n + 1, f
			}
		}
	}
	return 0, ""
}

var sciNotationRE = regexp.MustCompile(`^[0-9]([.,][0-9]+)?[eE]\+[0-9]{2}$`)

// zeroPaddedID says a client id on the head's rows (headRecords) is digits with
// leading zeros (00501), which a database keyed before such ids were keyed
// without them (ClientKeyCanonical) keys as written: another client than the
// 501 an export saved through a spreadsheet holds.
func zeroPaddedID(rows [][]string, mapping map[string]int) bool {
	i, ok := mapping["client_id"]
	if !ok {
		return false
	}
	for _, rec := range rows {
		if i < len(rec) {
			id := strings.Trim(rec[i], clientkey.Whitespace)
			if clientkey.Canonical(id) != id {
				return true
			}
		}
	}
	return false
}

// readAmountStyle looks at the amounts in the rows (headRecords) of an export's
// first 64 KiB (head). DuckDB reads amounts with a comma as thousands
// separator, so 225,00 (a decimal comma, as exports with ';' between values
// write it) became 22500. A file whose amounts end in a comma and one or two
// digits, and none in a point and one or two digits, is read with a decimal
// comma; one with both has its comma amounts rejected, whichever way they
// were meant. A file with another delimiter than ',' whose head shows no
// thousands comma (1,250.00) is read without one, so that a comma amount
// further down is rejected rather than multiplied. It is one look per file, at
// its head: the rows after it are taken to write amounts the same way.
func readAmountStyle(source string, rows [][]string, delim rune, mapping map[string]int) amountStyle {
	cols := moneyColumns(source, mapping)
	if len(cols) == 0 {
		return amountsPoint
	}
	var comma, dot, point, thousands int
	for _, rec := range rows {
		for _, i := range cols {
			if i >= len(rec) {
				continue
			}
			v := plainAmountString(strings.TrimSpace(rec[i]))
			switch {
			case decimalComma.MatchString(v):
				comma++
				if thousandsDot.MatchString(v) {
					dot++
				}
			case decimalPoint.MatchString(v):
				point++
			}
			if thousandsComma.MatchString(v) {
				thousands++
			}
		}
	}
	switch {
	case comma > 0 && point > 0:
		return amountsMixed
	case comma > 0 && dot > 0:
		return amountsCommaDot
	case comma > 0:
		return amountsComma
	case delim != ',' && thousands == 0:
		// Nothing in the head says a comma separates thousands, and with ';'
		// between values a comma in an amount is more likely a decimal comma.
		return amountsNoThousands
	}
	return amountsPoint
}

// readOptions are read_csv's options for amounts written this way.
func (a amountStyle) readOptions() string {
	switch a {
	case amountsComma:
		return "decimal_separator = ','"
	case amountsCommaDot:
		return "decimal_separator = ',', thousands = '.'"
	case amountsMixed, amountsNoThousands:
		return "" // no thousands separator: every amount holding a comma is rejected
	}
	return "thousands = ','"
}

// marks are the thousands separator and decimal mark this style reads amounts
// with; ok is false for the styles read without a thousands separator.
func (a amountStyle) marks() (thousands, decimal byte, ok bool) {
	switch a {
	case amountsPoint:
		return ',', '.', true
	case amountsCommaDot:
		return '.', ',', true
	}
	return 0, 0, false
}

// moneyColumns are the header positions of source's amount fields.
func moneyColumns(source string, mapping map[string]int) []int {
	var cols []int
	for _, f := range config.Fields(source) {
		if i, ok := mapping[f.Name]; ok && f.Kind == "money" {
			cols = append(cols, i)
		}
	}
	return cols
}

// check is what the field scan checks this file's amounts against: the
// thousands separator the reader drops wherever it stands. Styles read
// without one need no check: the reader rejects a separator itself.
func (a amountStyle) check(source string, mapping map[string]int) amountCheck {
	thousands, decimal, ok := a.marks()
	cols := moneyColumns(source, mapping)
	if !ok || len(cols) == 0 {
		return amountCheck{}
	}
	return newAmountCheck(cols, thousands, decimal)
}

// badAmountReason says why an amount whose thousands separator does not stand
// between groups of three digits (badAmount) cannot be loaded.
func badAmountReason(v string, style amountStyle) string {
	thousands, decimal, _ := style.marks()
	sep := string(thousands)
	mark := map[byte]string{',': "comma", '.': "point"}[thousands]
	example := "1" + sep + "250" + string(decimal) + "00"
	load := strings.ReplaceAll(v, sep, "")
	if _, ok := badAmountShown(v); !ok {
		load = "its digits as one number"
	}
	return fmt.Sprintf("holds a %s that does not separate thousands, where this file writes amounts such as %s: the reader would drop the %s and load %s",
		mark, example, mark, load)
}

// badAmountShown is v, an amount the reader would misread (amountGroupsOK), as a
// message shows it: as written where it reads as an amount (shownAmount: 225,50),
// else described, since digits with separators in odd places may be a phone or
// social security number (555,867,5309), which no message repeats, nor the
// number the reader would make of it. ok says v is shown.
func badAmountShown(v string) (shown string, ok bool) {
	if shownAmountRE.MatchString(v) {
		return v, true
	}
	return hiddenNumber, false
}

// badAmountMessage is the reject message for such an amount.
func badAmountMessage(v string, style amountStyle) string {
	shown, _ := badAmountShown(v)
	return "the amount " + shown + " " + badAmountReason(v, style) + ", so the row was skipped; " + style.sameWay()
}

// sameWay is the advice for amounts written more than one way, in the style
// the file reads them with.
func (a amountStyle) sameWay() string {
	return "export every amount the same way, e.g. " + a.written("1250.00")
}

// written is n, a plain number such as 1250.00, with this style's decimal mark:
// 1250,00 with a decimal comma.
func (a amountStyle) written(n string) string {
	if a == amountsComma || a == amountsCommaDot {
		return strings.Replace(n, ".", ",", 1)
	}
	return n
}

// misreadAmount is the number the reader makes of v, an amount whose separators
// it drops: its digits, with a point for the decimal mark.
func misreadAmount(v string, style amountStyle) string {
	thousands, decimal, _ := style.marks()
	return strings.Replace(strings.ReplaceAll(v, string(thousands), ""), string(decimal), ".", 1)
}

// spacedHint is what a rejected amount's message adds where the amount parts its
// thousands with spaces (1 234,50), in a group of files read with duckEnc: the copy
// that drops such spaces is made only for a file whose first rows show them or that
// holds a no-break space, and never for a UTF-16 file, which DuckDB reads as it is.
func (a amountStyle) spacedHint(duckEnc string) string {
	if duckEnc == "utf-16" {
		return " (amounts with spaces between thousands, as 1 234,50, are not read in a UTF-16 file such as Excel's Unicode Text: export it again as CSV UTF-8, or its amounts without spaces)"
	}
	return " (this file's first rows write no amount with spaces between thousands, as 1 234,50, so this one was not read: export amounts without spaces, such as " + a.written("1234.50") + ")"
}

// rejectHint is what a rejected amount's message adds, for amounts written this way.
func (a amountStyle) rejectHint() string {
	switch a {
	case amountsComma, amountsCommaDot:
		return " (this file writes amounts with a decimal comma, such as 1250,00, and they are read that way; amounts must be numbers like that, with a currency sign or without)"
	case amountsNoThousands:
		return " (its first rows show amounts without a comma, so a comma in this one cannot be read safely: 225,50 may be 225.50 or 22550; export amounts as plain numbers such as 1250.00)"
	case amountsMixed:
		return " (this file writes some amounts with a decimal comma, such as 225,00, and others with a decimal point, such as 225.00 or 1,250.00, so an amount holding a comma cannot be read safely and its row was skipped; export every amount the same way, e.g. 1250.00)"
	}
	return " (amounts must be numbers such as 1250.00 or $1,250.00)"
}
