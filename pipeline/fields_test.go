package pipeline

import (
	"reflect"
	"testing"
)

// oracleShifted is the byte-at-a-time field count the scan used before its
// one-line fast path: every record's fields, quotes toggling, a record
// ending at a newline outside quotes. It returns the shifted rows' lines,
// the records and the newlines seen.
func oracleShifted(data []byte, delim byte, nfields int) (lines []int64, records, newlines int64) {
	inQuote, lastDelim, fields, recStart := false, false, 1, int64(1)
	end := func() {
		records++
		if records > 1 && fields == nfields+1 && lastDelim {
			lines = append(lines, recStart)
		}
		fields, lastDelim, recStart = 1, false, newlines+1
	}
	pending := false
	for _, b := range data {
		switch {
		case b == '"':
			inQuote, lastDelim, pending = !inQuote, false, true
		case b == delim:
			lastDelim, pending = !inQuote, true
			if !inQuote {
				fields++
			}
		case b == '\n':
			newlines++
			if !inQuote {
				end()
				pending = false
			}
		case b == '\r':
			pending = true
		default:
			lastDelim, pending = false, true
		}
	}
	if pending && !inQuote {
		end()
	}
	return lines, records, newlines
}

// FuzzFieldCounter checks the scan's field counting, fed in two chunks cut
// anywhere, against the plain byte loop: the same shifted rows on the same
// lines, the same records.
func FuzzFieldCounter(f *testing.F) {
	for _, s := range []string{
		"id,a,b\n1,x,y\n2,x,y,\n3,\"q,r\",y,\n",
		"id,a,b\r\n1,\"multi\nline\",y,\r\n2,x,y\r\n",
		"id,a,b\n1,\"a \"\"quoted\"\" word\",y,\n\"2\",x,\"y\",\n",
		"id,a,b\n1,\"open,x,y,\n2,x,y,\n3,x,\"y\",\n",
		"id;a;b\n1;x;y;\n2;\"x;\";y;\r\r\n",
		"id,a,b\n1,x,y,",
		"id,a,b\n\n,,,\n\"\",,,\n",
	} {
		f.Add([]byte(s), uint16(len(s)/2), byte(','))
	}
	f.Fuzz(func(t *testing.T, data []byte, cut uint16, delim byte) {
		if delim == '"' || delim == '\n' || delim == '\r' || delim >= 128 {
			delim = ','
		}
		const nfields = 3
		fc := newFieldCounter(delim, nfields, 0)
		c := int(cut) % (len(data) + 1)
		fc.Write(data[:c])
		fc.Write(data[c:])
		fc.Close()
		var got []int64
		for _, r := range fc.shifted {
			got = append(got, r.line)
		}
		want, records, newlines := oracleShifted(data, delim, nfields)
		if !reflect.DeepEqual(got, want) || fc.records != records || fc.line != newlines {
			t.Fatalf("%q cut at %d: shifted lines %v, records %d, newlines %d; the byte loop gives %v, %d, %d",
				data, c, got, fc.records, fc.line, want, records, newlines)
		}
	})
}
