package pipeline

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"golang.org/x/text/encoding/unicode"
)

// TestLocateRecords walks files as the reader reads and numbers them: a value
// with line breaks is one line, blank lines count, a quote opens a value only as
// its first byte (5'10" is text), two quotes in a quoted value are one, ids are
// trimmed of spaces only, skipped lines are passed over, and a UTF-16 export is
// decoded first.
func TestLocateRecords(t *testing.T) {
	body := "ID;Client;Note\n" + // 1
		"A1;900001;\"two\nlines\"\n" + // 2
		"\n" + // 3: blank
		";900002;no id\n" + // 4
		"A2;900003;plain\n" + // 5
		" A3 ;900004;\"a ; in it\"\n" + // 6
		";900005;no id, skipped\n" + // 7
		"A2;900006;again\r\n" + // 8
		"A4;900008;Dr 5'10\" Lopez\n" + // 9: a stray quote is text
		"A5;900009;\"say \"\"hi\"\"; then\nmore\"\n" + // 10: doubled quotes, a line break
		"\t;900010;a tab is an id\n" + // 11
		"\"A\"\"6\";900011;quoted id\n" + // 12
		"\"\" ;900012;quoted blank\n" + // 13
		"A7;900013;Google \"x\n" + // 14: a stray quote is text
		" \"A8\";900014; \"one space;\nthen a quote\"\n" + // 15: one space before a quote opens a value
		";900007;last, no newline" // 16
	want := map[string]bool{"A2": true, "A3": true, "A9": true, "A4": true, "A5": true, "A\"6": true, "A7": true, "A8": true}
	skip := map[int64]bool{7: true}
	wantLines := recordLines{byID: map[string][]int64{"A2": {5, 8}, "A3": {6}, "A4": {9}, "A5": {10}, "A\"6": {12}, "A7": {14}, "A8": {15}},
		blank: []int64{4, 13, 16}}

	dir := t.TempDir()
	utf8Path := filepath.Join(dir, "utf8.csv")
	must(t, os.WriteFile(utf8Path, []byte(body), 0o644))
	enc, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().String(body)
	must(t, err)
	utf16Path := filepath.Join(dir, "utf16.csv")
	must(t, os.WriteFile(utf16Path, []byte(enc), 0o644))

	for _, c := range []struct{ path, enc string }{{utf8Path, "utf-8"}, {utf16Path, "utf-16"}} {
		got, err := locateRecords(&prepared{readPath: c.path, duckEnc: c.enc, delim: ';'}, 0, want, skip)
		must(t, err)
		if !reflect.DeepEqual(got, wantLines) {
			t.Errorf("%s: got %+v, want %+v", c.enc, got, wantLines)
		}
	}
}

// A row of nothing but delimiters is a row without an id, also when the
// delimiter is a tab (which a blank line's whitespace might be taken for).
func TestLocateRecordsDelimiterOnlyRows(t *testing.T) {
	for _, d := range []rune{'\t', ','} {
		sep := string(d)
		body := "ID" + sep + "A" + sep + "B\n" + sep + sep + "\n" + "A1" + sep + "x" + sep + "y\n" + "  \n" + sep + " " + sep + "\n"
		path := filepath.Join(t.TempDir(), "f.csv")
		must(t, os.WriteFile(path, []byte(body), 0o644))
		got, err := locateRecords(&prepared{readPath: path, duckEnc: "utf-8", delim: d}, 0, map[string]bool{"A1": true}, nil)
		must(t, err)
		want := recordLines{byID: map[string][]int64{"A1": {3}}, blank: []int64{2, 5}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("delimiter %q: got %+v, want %+v", d, got, want)
		}
	}
}

func TestLineList(t *testing.T) {
	for _, c := range []struct {
		in   []int64
		want string
	}{
		{[]int64{4}, "4"},
		{[]int64{2, 3}, "2 and 3"},
		{[]int64{2, 9, 14}, "2, 9 and 14"},
		{[]int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, "1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and 2 more"},
	} {
		if got := lineList(c.in); got != c.want {
			t.Errorf("lineList(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}

// BenchmarkLocateRecords walks a 200,000-row export for one id and its blank
// ids: the cost a file with rows rejected after the read adds to its load.
func BenchmarkLocateRecords(b *testing.B) {
	var sb []byte
	sb = append(sb, hostileHeader...)
	for i := range 200000 {
		sb = fmt.Appendf(sb, "A%d,%d,Jane Smith,01/05/2026,9:00 AM,Attended,Intake,\"Lopez, Maria\",,1457392811\n", i, 900000+i)
	}
	path := filepath.Join(b.TempDir(), "big.csv")
	if err := os.WriteFile(path, sb, 0o644); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(sb)))
	for b.Loop() {
		if _, err := locateRecords(&prepared{readPath: path, duckEnc: "utf-8", delim: ','}, 0, map[string]bool{"A100": true}, nil); err != nil {
			b.Fatal(err)
		}
	}
}
