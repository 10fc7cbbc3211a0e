package reports

import (
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// TestSheetXMLReadsBackLikeExcelize writes awkward values through the sheet writer and
// reopens the file with excelize. Text must read back as written (characters XML cannot
// hold become U+FFFD, text over Excel's limit is cut), never as a formula. Numbers, dates
// and times are also written through excelize's own cell API on another sheet: they must
// read back the same, formatted, and equal to 15 significant digits, raw.
func TestSheetXMLReadsBackLikeExcelize(t *testing.T) {
	long := strings.Repeat("é", maxCellChars+10)
	texts := []string{
		"plain", "a&b<c>d \"q\" 'a'", "</t></is><script>x</script>", "=1+1", "_x0041_", "a_x00e9_b_", "_x12_",
		" leading", "trailing ", "tab\tin", "line\nbreak", "cr\r\nlf", "\nstarts", "bell\x07ring", "bad \xff utf8",
		"emoji 😀 and 中文", "\uFFFE not a char", long, "",
	}
	when := []time.Time{
		time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1900, 3, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 11, 26, 23, 50, 30, 0, time.UTC),
		time.Date(2026, 11, 26, 23, 50, 30, 0, time.FixedZone("EST", -5*3600)),
	}
	numbers := []float64{0, 1, -2.5, 680.8, 1.0 / 3, 2.0 / 3 * 1e6, 123456789012345, 1e-7, 0.1 + 0.2, 1234.5678}

	bk, st, err := newBook()
	if err != nil {
		t.Fatal(err)
	}
	f := bk.f
	defer f.Close()
	if _, err := f.NewSheet("Mine"); err != nil {
		t.Fatal(err)
	}
	bk.mapSheets()
	cols := []column{{"Text", kText}, {"Date", kDate}, {"Stamp", kStamp}, {"Number", kDecimal}, {"Count", kInt}}
	var rows [][]any
	for i := range max(len(texts), len(when), len(numbers)) {
		r := make([]any, len(cols))
		if i < len(texts) {
			r[0] = texts[i]
		}
		if i < len(when) {
			r[1], r[2] = when[i], when[i]
		}
		if i < len(numbers) {
			r[3] = numbers[i]
			r[4] = int64(i * 1000)
		}
		rows = append(rows, r)
	}
	w, err := newSheetWriter(bk, st, "Mine", []block{{cols: cols, rows: rows}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.freezeAt(2); err != nil {
		t.Fatal(err)
	}
	header, last, err := w.table(block{cols: cols, rows: rows})
	if err != nil {
		t.Fatal(err)
	}
	w.filterOn(header, last, len(cols))
	if err := w.finish(f); err != nil {
		t.Fatal(err)
	}
	// The same numbers and times through excelize, on the first sheet.
	for i, r := range rows {
		for j, c := range cols {
			if r[j] == nil || c.kind == kText {
				continue
			}
			cell, _ := excelize.CoordinatesToCellName(j+1, i+2)
			v := r[j]
			if x, ok := v.(int64); ok {
				v = x
			}
			if err := f.SetCellValue("Sheet1", cell, v); err != nil {
				t.Fatal(err)
			}
			if err := f.SetCellStyle("Sheet1", cell, cell, st.numberStyle(c.kind)); err != nil {
				t.Fatal(err)
			}
		}
	}
	path := filepath.Join(t.TempDir(), "cells.xlsx")
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	if err := bk.checkPlaced(); err != nil {
		t.Fatal(err)
	}

	g, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	wantText := map[string]string{
		"bell\x07ring": "bell\uFFFDring", "bad \xff utf8": "bad \uFFFD utf8", "\uFFFE not a char": "\uFFFD not a char",
		long: strings.Repeat("é", maxCellChars),
	}
	for i, r := range rows {
		for j, c := range cols {
			if r[j] == nil {
				continue
			}
			cell, _ := excelize.CoordinatesToCellName(j+1, i+2)
			got, err := g.GetCellValue("Mine", cell)
			if err != nil {
				t.Fatal(err)
			}
			if c.kind == kText {
				want, ok := wantText[r[j].(string)]
				if !ok {
					want = r[j].(string)
				}
				if got != want {
					t.Errorf("%s: text %q reads back %q, want %q", cell, short(r[j]), short(got), short(want))
				}
				if typ, _ := g.GetCellType("Mine", cell); typ != excelize.CellTypeInlineString {
					t.Errorf("%s: type %v, want an inline string", cell, typ)
				}
				if formula, _ := g.GetCellFormula("Mine", cell); formula != "" {
					t.Errorf("%s: text %q became formula %q", cell, short(r[j]), formula)
				}
				continue
			}
			if want, _ := g.GetCellValue("Sheet1", cell); got != want {
				t.Errorf("%s: %v reads %q, written by excelize %q", cell, r[j], got, want)
			}
			rawGot, _ := g.GetCellValue("Mine", cell, excelize.Options{RawCellValue: true})
			rawWant, _ := g.GetCellValue("Sheet1", cell, excelize.Options{RawCellValue: true})
			a, errA := strconv.ParseFloat(rawGot, 64)
			b, errB := strconv.ParseFloat(rawWant, 64)
			if errA != nil || errB != nil || math.Abs(a-b) > 1e-14*math.Max(1, math.Abs(b)) {
				t.Errorf("%s: %v is stored as %q, excelize stores %q", cell, r[j], rawGot, rawWant)
			}
		}
	}
	if got, _ := g.GetCellValue("Mine", "A2"); got != "plain" {
		t.Errorf("A2 = %q: the part was not read", got)
	}
	if got, _ := g.GetCellValue("Mine", "A19"); len([]rune(got)) != maxCellChars {
		t.Errorf("the long text reads back with %d characters, want Excel's limit %d", len([]rune(got)), maxCellChars)
	}
	panes, err := g.GetPanes("Mine")
	if err != nil || !panes.Freeze || panes.YSplit != 1 {
		t.Errorf("panes = %+v, %v; want the header row frozen", panes, err)
	}
}

func short(v any) string {
	s, _ := asString(v)
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
