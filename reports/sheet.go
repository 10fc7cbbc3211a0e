package reports

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// kind says how a column's values are written and formatted in the workbook.
type kind int

const (
	kText    kind = iota
	kInt          // #,##0
	kDecimal      // 0.00
	kShare        // 0.0 %
	kMoney        // #,##0.00
	kDate         // yyyy-mm-dd
	kMonth        // yyyy-mm
	kStamp        // yyyy-mm-dd hh:mm
	kStage        // 1, 2, 3 on the stage colour
	kYesNo        // yes / no
)

type column struct {
	header string
	kind   kind
}

// block is one titled table on a sheet.
type block struct {
	title string // bold line above the table; empty for none
	note  string // one explanatory line under the title; empty for none
	cols  []column
	rows  [][]any
	total int // rows in the database when rows were capped; 0 when not capped
}

// Stage colours, colour-blind safe (Okabe-Ito), the same in the workbook and the HTML page.
var (
	stageColour     = [4]string{"", "E69F00", "56B4E9", "009E73"}
	stageFill       = [4]string{"", "FBE3B3", "CDE8F8", "B8E6D5"}
	channelColour   = "999999"
	unknownColour   = "D0D0D0"
	noStageColour   = "CC79A7"
	stageSeriesName = [4]string{"", "Stage 1: point person", "Stage 2: trying colleagues", "Stage 3: whole practice"}
)

// styles are the workbook's cell styles, created once per file.
type styles struct {
	title, note, header, text, wrap, bold  int
	integer, decimal, share, money         int
	date, month, stamp                     int
	stage, stageCount                      [4]int // index = stage; 0 = no stage
	kpiLabel, kpiValue, kpiShare, kpiMoney int
	headerLeft                             int
}

func newStyles(f *excelize.File) (*styles, error) {
	var err error
	s := &styles{}
	mk := func(st *excelize.Style) int {
		if err != nil {
			return 0
		}
		var id int
		id, err = f.NewStyle(st)
		return id
	}
	custom := func(format string) *string { return &format }
	border := []excelize.Border{{Type: "bottom", Color: "808080", Style: 1}}

	s.title = mk(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 14}})
	s.note = mk(&excelize.Style{Font: &excelize.Font{Italic: true, Color: "595959"}})
	s.header = mk(&excelize.Style{
		Font:      &excelize.Font{Bold: true},
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"E7E6E6"}},
		Border:    border,
		Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"},
	})
	s.text = mk(&excelize.Style{NumFmt: 49}) // "@": Excel keeps the cell as text when edited
	s.bold = mk(&excelize.Style{Font: &excelize.Font{Bold: true}})
	s.integer = mk(&excelize.Style{NumFmt: 3})
	s.decimal = mk(&excelize.Style{NumFmt: 2})
	s.share = mk(&excelize.Style{CustomNumFmt: custom("0.0%")})
	s.money = mk(&excelize.Style{NumFmt: 4})
	s.date = mk(&excelize.Style{CustomNumFmt: custom("yyyy-mm-dd")})
	s.month = mk(&excelize.Style{CustomNumFmt: custom("yyyy-mm")})
	s.stamp = mk(&excelize.Style{CustomNumFmt: custom("yyyy-mm-dd hh:mm")})
	s.stage[0] = s.integer
	s.stageCount[0] = s.integer
	for st := 1; st <= 3; st++ {
		fill := excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{stageFill[st]}}
		s.stage[st] = mk(&excelize.Style{Fill: fill, Font: &excelize.Font{Bold: true},
			Alignment: &excelize.Alignment{Horizontal: "center"}})
		s.stageCount[st] = mk(&excelize.Style{Fill: fill, NumFmt: 3})
	}
	s.kpiLabel = mk(&excelize.Style{NumFmt: 49})
	s.kpiValue = mk(&excelize.Style{NumFmt: 3, Font: &excelize.Font{Bold: true}})
	s.kpiShare = mk(&excelize.Style{CustomNumFmt: custom("0.0%"), Font: &excelize.Font{Bold: true}})
	s.kpiMoney = mk(&excelize.Style{NumFmt: 4, Font: &excelize.Font{Bold: true}})
	if err != nil {
		return nil, fmt.Errorf("create workbook styles: %w", err)
	}
	return s, nil
}

// numberStyle is the number format of a decimal, share, money, date, month or stamp column.
func (s *styles) numberStyle(k kind) int {
	switch k {
	case kDecimal:
		return s.decimal
	case kShare:
		return s.share
	case kMoney:
		return s.money
	case kDate:
		return s.date
	case kMonth:
		return s.month
	case kStamp:
		return s.stamp
	}
	return s.integer
}

// cell turns a database value into a workbook cell. Text is always an explicit string cell:
// excelize writes strings as inline strings and never as formulas, so "=1+1" stays text.
func (s *styles) cell(k kind, v any) any {
	if c, ok := v.(excelize.Cell); ok {
		return c
	}
	if v == nil {
		return nil
	}
	switch k {
	case kInt:
		if i, ok := asInt(v); ok {
			return excelize.Cell{StyleID: s.integer, Value: i}
		}
	case kDecimal, kShare, kMoney:
		if x, ok := asFloat(v); ok {
			return excelize.Cell{StyleID: s.numberStyle(k), Value: x}
		}
		return nil // NULL, NaN or infinite: blank
	case kDate, kMonth, kStamp:
		if t, ok := asTime(v); ok {
			return excelize.Cell{StyleID: s.numberStyle(k), Value: t}
		}
	case kStage:
		if i, ok := asInt(v); ok {
			st := 0
			if i >= 1 && i <= 3 {
				st = int(i)
			}
			return excelize.Cell{StyleID: s.stage[st], Value: i}
		}
	case kYesNo:
		if b, ok := asBool(v); ok {
			if b {
				return excelize.Cell{StyleID: s.text, Value: "yes"}
			}
			return excelize.Cell{StyleID: s.text, Value: "no"}
		}
	}
	str, _ := asString(v)
	return excelize.Cell{StyleID: s.text, Value: str}
}

// width is a readable column width for a column: wide enough for the header and most values,
// never wider than 60 characters (a 300-character name is cut on screen, not in the cell).
func width(c column, rows [][]any, idx int) float64 {
	w := 10
	switch c.kind {
	case kDate, kMonth:
		w = 11
	case kStamp:
		w = 17
	case kMoney:
		w = 13
	case kStage, kYesNo:
		w = 8
	case kText:
		for i, r := range rows {
			if i > 500 {
				break
			}
			if idx < len(r) {
				v := r[idx]
				if c, ok := v.(excelize.Cell); ok {
					v = c.Value
				}
				if s, ok := v.(string); ok {
					w = max(w, utf8.RuneCountInString(s)+2)
				}
			}
		}
	}
	// Headers wrap, so a long header needs about half its length, but its longest word whole.
	w = max(w, min(utf8.RuneCountInString(c.header)/2+2, 24))
	for _, word := range strings.Fields(c.header) {
		w = max(w, utf8.RuneCountInString(word)+2)
	}
	return float64(min(w, 60))
}

// sheetWriter writes blocks of rows to a StreamWriter, top to bottom.
type sheetWriter struct {
	f      *excelize.File
	sw     *excelize.StreamWriter
	st     *styles
	name   string
	row    int    // last row written
	filter [3]int // header row, last row, columns of the autofilter; zero for none
}

func newSheetWriter(f *excelize.File, st *styles, name string, blocks []block) (*sheetWriter, error) {
	sw, err := f.NewStreamWriter(name)
	if err != nil {
		return nil, fmt.Errorf("sheet %s: %w", name, err)
	}
	// Column widths must be set before the first row: take the widest need over all blocks.
	widths := map[int]float64{}
	for _, b := range blocks {
		for i, c := range b.cols {
			widths[i] = max(widths[i], width(c, b.rows, i))
		}
	}
	for i := 0; i < len(widths); i++ {
		if err := sw.SetColWidth(i+1, i+1, widths[i]); err != nil {
			return nil, fmt.Errorf("sheet %s: %w", name, err)
		}
	}
	return &sheetWriter{f: f, sw: sw, st: st, name: name}, nil
}

// freezeAt freezes the rows above row (1-based); it must come before the first row is written.
func (w *sheetWriter) freezeAt(row int) error {
	return w.sw.SetPanes(&excelize.Panes{
		Freeze: true, YSplit: row - 1, TopLeftCell: fmt.Sprintf("A%d", row), ActivePane: "bottomLeft",
		Selection: []excelize.Selection{{SQRef: fmt.Sprintf("A%d", row), ActiveCell: fmt.Sprintf("A%d", row), Pane: "bottomLeft"}},
	})
}

func (w *sheetWriter) line(text string, style int) error {
	w.row++
	return w.sw.SetRow(fmt.Sprintf("A%d", w.row), []any{excelize.Cell{StyleID: style, Value: text}})
}

func (w *sheetWriter) skip() { w.row++ }

// table writes the block's title, note, header and rows; it returns the header row and the
// last row so the caller can add an autofilter.
func (w *sheetWriter) table(b block) (header, last int, err error) {
	if b.title != "" {
		if err := w.line(b.title, w.st.title); err != nil {
			return 0, 0, err
		}
	}
	if b.note != "" {
		if err := w.line(b.note, w.st.note); err != nil {
			return 0, 0, err
		}
	}
	if b.total > len(b.rows) {
		if err := w.line(fmt.Sprintf("Showing the first %d of %d rows.", len(b.rows), b.total), w.st.note); err != nil {
			return 0, 0, err
		}
	}
	hdr := make([]any, len(b.cols))
	for i, c := range b.cols {
		hdr[i] = excelize.Cell{StyleID: w.st.header, Value: c.header}
	}
	w.row++
	header = w.row
	if err := w.sw.SetRow(fmt.Sprintf("A%d", w.row), hdr, excelize.RowOpts{Height: 30}); err != nil {
		return 0, 0, err
	}
	if len(b.rows) == 0 {
		if err := w.line("None.", w.st.note); err != nil {
			return 0, 0, err
		}
		return header, header, nil
	}
	vals := make([]any, len(b.cols))
	for _, r := range b.rows {
		for i, c := range b.cols {
			vals[i] = nil
			if i < len(r) {
				vals[i] = w.st.cell(c.kind, r[i])
			}
		}
		w.row++
		if err := w.sw.SetRow(fmt.Sprintf("A%d", w.row), vals); err != nil {
			return 0, 0, fmt.Errorf("sheet %s row %d: %w", w.name, w.row, err)
		}
	}
	return header, w.row, nil
}

// autofilter adds filter buttons over a table. With a StreamWriter it must run before Flush:
// the worksheet XML is assembled at Flush and anything added later is silently lost.
func (w *sheetWriter) autofilter(header, last, cols int) error {
	if last <= header {
		return nil
	}
	end, err := excelize.CoordinatesToCellName(cols, last)
	if err != nil {
		return err
	}
	return w.f.AutoFilter(w.name, fmt.Sprintf("A%d:%s", header, end), nil)
}

// filterOn asks for filter buttons over a table, added by finish.
func (w *sheetWriter) filterOn(header, last, cols int) { w.filter = [3]int{header, last, cols} }

// finish adds the autofilter, if any, and flushes the sheet. It touches the workbook, so
// it runs one sheet at a time.
func (w *sheetWriter) finish() error {
	if w.filter[0] > 0 {
		if err := w.autofilter(w.filter[0], w.filter[1], w.filter[2]); err != nil {
			return err
		}
	}
	return w.flush()
}

func (w *sheetWriter) flush() error {
	if err := w.sw.Flush(); err != nil {
		return fmt.Errorf("sheet %s: %w", w.name, err)
	}
	return nil
}
