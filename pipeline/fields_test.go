package pipeline

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// oracleShifted is the plain byte-at-a-time field count, read the reader's
// way: a quote opens a value only as its first byte (or after one space at its
// start), two quotes inside a quoted
// value are one, a record ends at a newline outside quotes. A record is
// shifted when it has more fields than the header and every extra one reads
// as empty (emptyExtra), the last one holding two quotes in a row or quoted
// (quotedExtra) also counting. It returns the
// shifted rows' lines as the reader numbers them (records, the header first:
// see locateRecords), the records and the newlines seen.
func oracleShifted(data []byte, delim byte, nfields int) (lines []int64, records, newlines int64) {
	inQuote, quoteSeen, atStart, spaceStart, fields := false, false, true, false, 1
	var cur []byte       // the current field's bytes, as written
	earlierEmpty := true // the extra fields before the current one read as empty
	endField := func() {
		if fields > nfields && !emptyExtra.Match(cur) {
			earlierEmpty = false
		}
		cur = cur[:0]
	}
	end := func() {
		records++
		// The last extra field may also hold a quote (extraFields).
		lastOK := emptyExtra.Match(cur) || bytes.Contains(cur, []byte(`""`)) || quotedExtra.Match(cur)
		if records > 1 && fields > nfields && earlierEmpty && lastOK {
			lines = append(lines, records)
		}
		cur = cur[:0]
		fields, atStart, spaceStart, earlierEmpty = 1, true, false, true
	}
	pending := false
	for _, b := range data {
		if inQuote {
			if quoteSeen {
				quoteSeen = false
				if b == '"' {
					cur = append(cur, b)
					continue
				}
				inQuote = false
			} else {
				if b == '"' {
					quoteSeen = true
				} else if b == '\n' {
					newlines++
				}
				cur = append(cur, b)
				continue
			}
		}
		// One space before the quote still opens a value, as in the reader.
		switch {
		case b == '"':
			inQuote = atStart || spaceStart
			atStart, spaceStart, pending = false, false, true
		case b == delim:
			endField()
			atStart, spaceStart, pending = true, false, true
			fields++
			continue
		case b == '\n':
			newlines++
			end()
			pending = false
			continue
		case b == '\r':
			pending = true
		case b == ' ' && atStart && delim != ' ':
			atStart, spaceStart, pending = false, true, true
		default:
			atStart, spaceStart, pending = false, false, true
		}
		cur = append(cur, b)
	}
	if pending && (!inQuote || quoteSeen) {
		end()
	}
	return lines, records, newlines
}

// emptyExtra is a field the reader drops, past the header's, without a word:
// nothing, or a quoted empty value with one space before it at most and any
// after (carriage returns outside the quotes read as nothing). Checked against
// DuckDB in TestShiftedRowsAsTheReaderTakesThem.
var emptyExtra = regexp.MustCompile(`^\r*$|^\r*(?: \r*)?""[ \r]*$`)

// quotedExtra is a quoted value, with one space before it at most and any
// after: past the header's fields, the reader takes its row or not depending
// on the columns it reads.
var quotedExtra = regexp.MustCompile(`(?s)^\r*(?: \r*)?".*"[ \r]*$`)

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
		"id,a,b\n1,x,y,,\n2,x,y, \"\" ,\"\"\r\n3,x,y, ,\n4,x,y,\"\r\",\n",
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

// The scan's id check may only say "no id twice" when the reader would see
// no id twice: ids that differ only by quotes, padding, NULs or bytes the
// conversions rewrite count as the same, and a record it cannot read the
// reader's way, or fewer records than rows loaded, leave the question open.
func TestIDSetUnique(t *testing.T) {
	const h = "id,name\n"
	for _, c := range []struct {
		name, body string
		rows       int64
		want       bool
	}{
		{"distinct ids", "A1,x\nA2,y\nA3,z\n", 3, true},
		{"blank lines are not records", "A1,x\n\n  \r\nA2,y\n", 2, true},
		{"the same id", "A1,x\nA2,y\nA1,z\n", 3, false},
		{"quoted and plain", "A1,x\n\"A1\",y\n", 2, false},
		{"padded", " A1 ,x\nA1,y\n", 2, false},
		{"escaped quotes", "\"A\"\"1\",x\n\"A\"\"1\",y\n", 2, false},
		{"a NUL inside", "A1,x\nA\x001,y\n", 2, false},
		{"bytes a conversion may rewrite", "A\x811,x\nA\x8d1,y\n", 2, false},
		{"a quote inside an unquoted id", "A\"1,x\nA2,y\n", 2, false},
		{"text after a closing quote", "\"A1\"z,x\nA2,y\n", 2, false},
		{"an unclosed quote", "\"A1,x\nA2,y\n", 1, false},
		{"more rows loaded than records seen", "A1,x\rA2,y\r", 2, false},
		{"a multi-line record", "A1,\"two\nlines\"\nA2,y\n", 2, true},
		{"the id not first", "x,A1\ny,A1\n", 2, false},
	} {
		idx := 0
		if c.name == "the id not first" {
			idx = 1
		}
		fc := newFieldCounter(',', 2, idx)
		// In small pieces, so records cross the chunk boundaries.
		data := []byte(h + c.body)
		for i := 0; i < len(data); i += 3 {
			fc.Write(data[i:min(i+3, len(data))])
		}
		fc.Close()
		if got := fc.ids.unique(c.rows); got != c.want {
			t.Errorf("%s: unique = %v, want %v (records %d, irregular %v, repeats %v)", c.name, got, c.want, fc.ids.records, fc.ids.irregular, fc.ids.repeats)
		}
	}
}

// The scan validates UTF-8 chunk by chunk (1 MiB reads): a sequence cut by a
// chunk's end must be judged whole, whatever the cut, valid or not.
func TestScanFileUTF8AcrossChunks(t *testing.T) {
	dir := t.TempDir()
	const chunk = 1 << 20
	for _, seq := range []string{"é", "€", "😀", "\xe2\x82", "\xe2\x28\xa1", "\xf0\x9f\x98", "\xc3", "\xff"} {
		for shift := 0; shift <= 4; shift++ {
			for _, tail := range []string{"", "x\n", "é\n"} {
				pad := chunk - shift
				data := append(bytes.Repeat([]byte{'a'}, pad), seq+tail...)
				path := filepath.Join(dir, "f.csv")
				if err := os.WriteFile(path, data, 0o600); err != nil {
					t.Fatal(err)
				}
				sc, err := scanFile(path, nil, false)
				if err != nil {
					t.Fatal(err)
				}
				if want := utf8.Valid(data); sc.validUTF8 != want {
					t.Errorf("%q at %d bytes before the chunk's end, then %q: valid = %v, want %v", seq, shift, tail, sc.validUTF8, want)
				}
			}
		}
	}
}

// amountGroupsOK passes what the reader reads as written, or rejects itself,
// and stops a separator outside groups of three digits.
func TestAmountGroupsOK(t *testing.T) {
	for v, want := range map[string]bool{
		"1,250.00": true, "1,250": true, "12,345,678.9": true, "-1,250.00": true, "+999,000": true,
		"$1,250.00": true, "1,250.00.00": true, "abc,de": true, // the reader rejects these itself
		"225,50": false, "1,25,0.00": false, ",250": false, "1,250,": false, "1250,000": false,
		"12,34": false, "1,250.0,0": false, "-22,5": false, "1,,250": false,
	} {
		if got := amountGroupsOK([]byte(v), ',', '.'); got != want {
			t.Errorf("%s: %v, want %v", v, got, want)
		}
	}
	for v, want := range map[string]bool{"1.250,00": true, "2.500": true, "225.50": false, "1.25,00": false} {
		if got := amountGroupsOK([]byte(v), '.', ','); got != want {
			t.Errorf("%s with thousands points: %v, want %v", v, got, want)
		}
	}
}

// The scan finds a misread amount in whichever column it is, walking from
// either end of the record, past quoted values holding the delimiter.
func TestFieldCounterFindsMisreadAmounts(t *testing.T) {
	for _, c := range []struct {
		header  string
		columns []int
		data    string
		want    string // line:column=value of each bad amount
	}{
		{"id,name,charge,paid", []int{2, 3},
			"1,\"Smith, Ann\",\"1,250.00\",\"22,5\"\n2,\"Lee, Bo\",\"225,50\",0\n3,x,\"1,250\",\"1,000\"\n", "2:3=22,5 3:2=225,50"},
		{"charge,paid,id,name,note", []int{0, 1},
			"\"1,25\",0,1,\"Smith, Ann\",x\n\"1,250.00\",\"9,99\",2,\"Lee, Bo\",\"a, b\"\r\n\"1,250.00\",\"9,999\",3,x,y\n", "2:0=1,25 3:1=9,99"},
		{"id,charge", []int{1}, "1,\"1,25\"", "2:1=1,25"}, // the last record without a newline
	} {
		fc := newFieldCounter(',', strings.Count(c.header, ",")+1, 0)
		fc.amounts = newAmountCheck(c.columns, ',', '.')
		fc.Write([]byte(c.header + "\n" + c.data))
		fc.Close()
		var got []string
		for _, b := range fc.badAmounts {
			got = append(got, fmt.Sprintf("%d:%d=%s", b.line, b.column, b.value))
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("%s: %q, want %q", c.header, got, c.want)
		}
	}
}

// TestShiftedRowsAsTheReaderTakesThem checks the scan's rule for a shifted row
// against DuckDB's reader itself, on rows with more fields than the header,
// read two ways: every column, and one column only (the reader takes some
// rows one way and not the other):
//   - the scan flags every row the reader takes, either way;
//   - of those, the rows whose extra fields the scan finds empty are taken
//     both ways;
//   - the others it flags have a quoted last extra field, or two quotes in a
//     row in it (see extraFields);
//   - the fuzz oracle flags the same rows.
func TestShiftedRowsAsTheReaderTakesThem(t *testing.T) {
	extras := []string{
		",", ",,", ",,,", `,""`, `,"",""`, `,,""`, `,"",`, `, ""`, `,"" `, `, "" `, `,""  `,
		", ", ",x", ",,x", ",x,", `,  ""`, ",\t", `,"",x`, `,""x`, `,"x",`, `,"""",`, `,"x"` + "\t", `,"a,b" ,`, `,x"y"`,
		// The reader takes these depending on the columns it reads.
		`,"x"`, `,"  "`, `," "" "`, `,""""`, `,"a""b"`, `,"",""""`, `,"a,""b"""`, `,"" ""`, `,","`, `,"a,b"`,
		`,"x" `, `,"a,b" `, `,",x" `, `,,"a,b" `, `, "a,b" `, `,"Main St"  `,
	}
	for _, eol := range []string{"\n", "\r\n"} {
		t.Run(fmt.Sprintf("%q", eol), func(t *testing.T) {
			var b strings.Builder
			b.WriteString("id,a,b" + eol)
			for i, e := range extras {
				fmt.Fprintf(&b, "%d,x,y%s%s", i+1, e, eol)
			}
			data := []byte(b.String())
			fc := newFieldCounter(',', 3, 0)
			fc.Write(data)
			fc.Close()
			flagged := map[string]shiftedRow{}
			for _, r := range fc.shifted {
				flagged[r.id] = r
			}
			inOracle := map[string]bool{}
			oracle, _, _ := oracleShifted(data, ',', 3)
			for _, l := range oracle {
				inOracle[fmt.Sprint(l-1)] = true
			}
			takenAll, takenOne := readerTakes(t, data, true), readerTakes(t, data, false)
			var always int
			for i, e := range extras {
				id := fmt.Sprint(i + 1)
				r, ok := flagged[id]
				switch {
				case ok != inOracle[id]:
					t.Errorf("row %s (x,y then %q): the scan flags it: %v; the oracle: %v", id, e, ok, inOracle[id])
				case (takenAll[id] || takenOne[id]) && !ok:
					t.Errorf("row %s (x,y then %q): the reader takes it, shifted (reading every column: %v, one: %v), and the scan does not flag it", id, e, takenAll[id], takenOne[id])
				case ok && !strings.Contains(e, `"`) && r.fields != 3+strings.Count(e, ","):
					t.Errorf("row %s (x,y then %q): %d fields", id, e, r.fields)
				case ok && r.empty && !(takenAll[id] && takenOne[id]):
					t.Errorf("row %s (x,y then %q): the scan takes its extra fields for empty, and the reader rejects it (reading every column: %v, one: %v)", id, e, !takenAll[id], !takenOne[id])
				case ok && !r.empty && !strings.Contains(e, `"`):
					t.Errorf("row %s (x,y then %q): flagged with a value unquoted", id, e)
				}
				if ok && r.empty {
					always++
				}
			}
			if always < 10 || len(flagged) == len(extras) {
				t.Errorf("%d rows flagged, %d with empty extras, of %d: the cases no longer test both ways", len(flagged), always, len(extras))
			}
		})
	}
}

// readerTakes reads data (columns id, a, b) with DuckDB's reader, set as the
// loader sets it, and returns the ids of the rows it takes: reading every
// column (all), or only id.
func readerTakes(t *testing.T, data []byte, all bool) map[string]bool {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "extra.csv")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("duckdb", filepath.Join(dir, "r.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cols := "id"
	if all {
		cols = "id, a || b AS ab"
	}
	rows, err := conn.QueryContext(context.Background(), `SELECT `+cols+` FROM read_csv(`+QuoteString(path)+`, header = true, auto_detect = false,
		delim = ',', quote = '"', escape = '"', columns = {'id': 'VARCHAR', 'a': 'VARCHAR', 'b': 'VARCHAR'}, store_rejects = true)`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	taken := map[string]bool{}
	for rows.Next() {
		var id string
		var ab sql.NullString
		dest := []any{&id}
		if all {
			dest = append(dest, &ab)
		}
		if err := rows.Scan(dest...); err != nil {
			t.Fatal(err)
		}
		taken[id] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return taken
}
