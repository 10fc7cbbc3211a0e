package reports

import (
	"archive/zip"
	"bytes"
	"hash/crc32"
	"io"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/klauspost/compress/flate"
)

// The table sheets are written as worksheet XML by this file rather than through
// excelize's StreamWriter. At network scale (32,000 referrers, 2.4 million cells) the
// StreamWriter's per-cell path (a cell name built and parsed per cell, a regular
// expression per string, a temporary file) was most of the workbook's time. Here a row is
// appended to a byte slice and deflated as it goes, on the goroutine that writes the sheet,
// so the sheets are also compressed side by side. excelize still builds the rest of the
// workbook (styles, the Overview sheet and its charts, the workbook part with the
// filters' defined names); partZip puts these parts in place of the empty worksheets
// excelize writes for the same sheets.

// sheetPart is one worksheet's XML, deflated, ready to be stored in the zip as it is.
type sheetPart struct {
	path       string // xl/worksheets/sheetN.xml
	compressed bytes.Buffer
	crc        uint32
	size       int64 // uncompressed bytes
	placed     bool
}

// partZip is the workbook's zip writer: the worksheets it holds parts for are stored from
// those parts, and excelize's own (empty) version of them is discarded.
type partZip struct {
	*zip.Writer
	parts map[string]*sheetPart
}

func newPartZip(w io.Writer, parts map[string]*sheetPart) *partZip {
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.BestSpeed)
	})
	return &partZip{Writer: zw, parts: parts}
}

func (z *partZip) Create(name string) (io.Writer, error) {
	p := z.parts[name]
	if p == nil {
		return z.Writer.Create(name)
	}
	hdr := &zip.FileHeader{
		Name:               name,
		Method:             zip.Deflate,
		CRC32:              p.crc,
		CompressedSize64:   uint64(p.compressed.Len()),
		UncompressedSize64: uint64(p.size),
	}
	w, err := z.CreateRaw(hdr)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(p.compressed.Bytes()); err != nil {
		return nil, err
	}
	p.placed = true
	return io.Discard, nil
}

// xmlSink collects a part's XML in a small buffer and deflates it in chunks.
type xmlSink struct {
	part *sheetPart
	buf  []byte
	zw   *flate.Writer
}

const sinkChunk = 256 << 10

func newXMLSink(part *sheetPart) *xmlSink {
	zw, _ := flate.NewWriter(&part.compressed, flate.BestSpeed) // the level is valid
	return &xmlSink{part: part, buf: make([]byte, 0, sinkChunk+4096), zw: zw}
}

// spill deflates the buffered XML once it is large enough.
func (s *xmlSink) spill() error {
	if len(s.buf) < sinkChunk {
		return nil
	}
	return s.drain()
}

func (s *xmlSink) drain() error {
	s.part.crc = crc32.Update(s.part.crc, crc32.IEEETable, s.buf)
	s.part.size += int64(len(s.buf))
	_, err := s.zw.Write(s.buf)
	s.buf = s.buf[:0]
	return err
}

func (s *xmlSink) close() error {
	if err := s.drain(); err != nil {
		return err
	}
	return s.zw.Close()
}

// maxCellChars is Excel's limit on a cell's text, in UTF-16 code units.
const maxCellChars = 32767

// appendInlineString appends a cell's text as the content of <is>, escaped for XML the way
// excelize escapes it, so the workbook reads back as it did when excelize wrote it: &, <, >
// and carriage returns are escaped; characters XML 1.0 cannot hold become U+FFFD (so does
// invalid UTF-8); a literal "_xHHHH_", which Excel would read as an escaped character, is
// itself escaped as "_x005F_xHHHH_"; text longer than Excel's 32,767 characters is cut.
func appendInlineString(dst []byte, s string) []byte {
	if len(s) > maxCellChars {
		s = truncateUTF16(s, maxCellChars)
	}
	dst = append(dst, "<is><t"...)
	if s != "" {
		switch first, last := s[0], s[len(s)-1]; {
		case first == ' ' || first == '\t' || first == '\n' || first == '\r',
			last == ' ' || last == '\t' || last == '\n' || last == '\r':
			dst = append(dst, ` xml:space="preserve"`...)
		}
	}
	dst = append(dst, '>')
	dst = appendXMLText(dst, s)
	return append(dst, "</t></is>"...)
}

func appendXMLText(dst []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < utf8.RuneSelf && c != '&' && c != '<' && c != '>' && c != '_' {
			i++
			continue
		}
		dst = append(dst, s[start:i]...)
		if c < utf8.RuneSelf {
			switch c {
			case '&':
				dst = append(dst, "&amp;"...)
			case '<':
				dst = append(dst, "&lt;"...)
			case '>':
				dst = append(dst, "&gt;"...)
			case '\r':
				dst = append(dst, "&#xD;"...)
			case '\t', '\n':
				dst = append(dst, c)
			case '_':
				dst = append(dst, '_')
				if isBSTREscape(s[i:]) {
					dst = append(dst, "x005F_"...)
				}
			default: // other control characters are not allowed in XML 1.0
				dst = append(dst, "\uFFFD"...)
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || !isXMLChar(r) {
			dst = append(dst, "\uFFFD"...)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
		start = i
	}
	return append(dst, s[start:]...)
}

// isBSTREscape reports whether s starts with "_xHHHH_", the form Excel reads as an escaped
// character.
func isBSTREscape(s string) bool {
	if len(s) < 7 || s[1] != 'x' || s[6] != '_' {
		return false
	}
	for _, c := range []byte(s[2:6]) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// isXMLChar is XML 1.0's Char production, above ASCII.
func isXMLChar(r rune) bool {
	return r >= 0x80 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

// truncateUTF16 cuts s to at most n UTF-16 code units, on a character boundary.
func truncateUTF16(s string, n int) string {
	units := 0
	for i, r := range s {
		u := utf16.RuneLen(r)
		if u < 0 {
			u = 1
		}
		if units+u > n {
			return s[:i]
		}
		units += u
	}
	return s
}

// appendNumber appends a float as Excel stores it: at most 15 significant digits.
func appendNumber(dst []byte, x float64) []byte {
	return strconv.AppendFloat(dst, x, 'g', 15, 64)
}

var excelEpoch = time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)

// excelSerial is a time as Excel's serial day number, read on the time's own wall clock,
// as excelize writes it. ok is false before March 1900 (Excel's calendar is wrong there)
// and after 2190, where the arithmetic would overflow.
func excelSerial(t time.Time) (float64, bool) {
	wall := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
	if wall.Year() < 1900 || wall.Year() == 1900 && wall.Month() < time.March || wall.Year() > 2190 {
		return 0, false
	}
	d := wall.Sub(excelEpoch)
	const day = 24 * time.Hour
	return float64(d/day) + float64(d%day)/float64(day), true
}
