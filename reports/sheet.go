package reports

import (
	"fmt"
	"strconv"
	"strings"
	"time"
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
	kWrap         // text that wraps within the column (the reasons for a suggested colleague)
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
	// noStageSeries: referrals from referrers with no stage that month, as none of
	// their referrals in the window has a clinician yet.
	noStageSeries = "Referrer with no stage yet (no clinician assigned)"
)

// styles are the workbook's cell styles, created once per file.
type styles struct {
	title, note, header, text, bold        int
	wrap                                   int // text that wraps, at the top of its row
	banner, notice                         int // a warning, a notice across the top of the Overview
	integer, decimal, share, money         int
	change                                 int // a change in percent, signed: +51.5%, -7.1%
	date, month, stamp                     int
	stage, stageCount                      [4]int // index = stage; 0 = no stage
	kpiLabel, kpiValue, kpiShare, kpiMoney int
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
	s.banner = mk(&excelize.Style{
		Font:      &excelize.Font{Bold: true, Color: "9C0006"},
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"FFC7CE"}},
		Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"},
	})
	s.notice = mk(&excelize.Style{
		Font:      &excelize.Font{Bold: true, Color: "7D4E00"},
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"FFEB9C"}},
		Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"},
	})
	s.text = mk(&excelize.Style{NumFmt: 49}) // "@": Excel keeps the cell as text when edited
	s.wrap = mk(&excelize.Style{NumFmt: 49, Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}})
	s.bold = mk(&excelize.Style{Font: &excelize.Font{Bold: true}})
	s.integer = mk(&excelize.Style{NumFmt: 3})
	s.decimal = mk(&excelize.Style{NumFmt: 2})
	s.share = mk(&excelize.Style{CustomNumFmt: custom("0.0%")})
	s.change = mk(&excelize.Style{CustomNumFmt: custom("+0.0%;-0.0%;0.0%")})
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

// styled is a value with its own cell style, for rows built cell by cell (the Monthly
// sheet's counts take the colour of the month's stage).
type styled struct {
	style int
	value any
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
	case kText, kWrap:
		for i, r := range rows {
			if i > 500 {
				break
			}
			if idx < len(r) {
				v := r[idx]
				if c, ok := v.(styled); ok {
					v = c.value
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

// sheetWriter writes one table sheet's worksheet XML (see sheetxml.go), top to bottom.
// Everything but finish writes only to the sheet's own part, so sheets are written side by side.
type sheetWriter struct {
	st     *styles
	name   string
	part   *sheetPart
	sink   *xmlSink
	widths []float64
	cols   []string // column letters, A, B, ..., one per column of the widest block
	freeze int      // first row below the frozen panes; 0 for none
	frozen int      // columns left of the frozen panes; 0 for none
	row    int      // last row written
	rowNum []byte   // the current row's number, in decimal
	begun  bool
	filter [3]int // header row, last row, columns of the autofilter; zero for none
	cached bool   // the part came whole from the part cache
}

// newSheetWriter starts the sheet's part. It runs on the goroutine that opens sheets.
func newSheetWriter(b *book, st *styles, name string, blocks []block) (*sheetWriter, error) {
	part, err := b.part(name)
	if err != nil {
		return nil, err
	}
	// Column widths: the widest need over all blocks.
	var widths []float64
	for _, b := range blocks {
		for i, c := range b.cols {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], width(c, b.rows, i))
		}
	}
	cols := make([]string, len(widths))
	for i := range cols {
		if cols[i], err = excelize.ColumnNumberToName(i + 1); err != nil {
			return nil, fmt.Errorf("sheet %s: %w", name, err)
		}
	}
	return &sheetWriter{st: st, name: name, part: part, sink: newXMLSink(part), widths: widths, cols: cols}, nil
}

// freezeAt freezes the rows above row (1-based); it must come before the first row is written.
func (w *sheetWriter) freezeAt(row int) error {
	if w.begun {
		return fmt.Errorf("sheet %s: panes frozen after the first row", w.name)
	}
	w.freeze = row
	return nil
}

// freezeColumns keeps the first n columns in view; like freezeAt, before the first row.
func (w *sheetWriter) freezeColumns(n int) { w.frozen = n }

const worksheetHead = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
	`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ` +
	`xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">`

// begin writes what precedes the rows: the view (frozen panes), the column widths.
func (w *sheetWriter) begin() {
	w.begun = true
	b := append(w.sink.buf, worksheetHead...)
	switch {
	case w.freeze > 1 && w.frozen > 0:
		// Rows and columns: four panes, the cursor in the bottom right one.
		col, _ := excelize.ColumnNumberToName(w.frozen + 1)
		top := col + strconv.Itoa(w.freeze)
		b = append(b, `<sheetViews><sheetView workbookViewId="0"><pane xSplit="`...)
		b = strconv.AppendInt(b, int64(w.frozen), 10)
		b = append(b, `" ySplit="`...)
		b = strconv.AppendInt(b, int64(w.freeze-1), 10)
		b = append(b, `" topLeftCell="`+top+`" activePane="bottomRight" state="frozen"/>`+
			`<selection pane="topRight"/><selection pane="bottomLeft"/>`+
			`<selection pane="bottomRight" activeCell="`+top+`" sqref="`+top+`"/></sheetView></sheetViews>`...)
	case w.freeze > 1:
		top := "A" + strconv.Itoa(w.freeze)
		b = append(b, `<sheetViews><sheetView workbookViewId="0"><pane ySplit="`...)
		b = strconv.AppendInt(b, int64(w.freeze-1), 10)
		b = append(b, `" topLeftCell="`+top+`" activePane="bottomLeft" state="frozen"/>`+
			`<selection pane="bottomLeft" activeCell="`+top+`" sqref="`+top+`"/></sheetView></sheetViews>`...)
	default:
		b = append(b, `<sheetViews><sheetView workbookViewId="0"/></sheetViews>`...)
	}
	b = append(b, `<sheetFormatPr defaultRowHeight="15"/>`...)
	if len(w.widths) > 0 {
		b = append(b, "<cols>"...)
		for i, wd := range w.widths {
			b = append(b, `<col min="`...)
			b = strconv.AppendInt(b, int64(i+1), 10)
			b = append(b, `" max="`...)
			b = strconv.AppendInt(b, int64(i+1), 10)
			b = append(b, `" width="`...)
			b = strconv.AppendFloat(b, wd, 'f', -1, 64)
			b = append(b, `" customWidth="1"/>`...)
		}
		b = append(b, "</cols>"...)
	}
	w.sink.buf = append(b, "<sheetData>"...)
}

// startRow opens the next row; height 0 is the default height.
func (w *sheetWriter) startRow(height int) {
	if !w.begun {
		w.begin()
	}
	w.row++
	w.rowNum = strconv.AppendInt(w.rowNum[:0], int64(w.row), 10)
	b := append(w.sink.buf, `<row r="`...)
	b = append(b, w.rowNum...)
	if height > 0 {
		b = append(b, `" ht="`...)
		b = strconv.AppendInt(b, int64(height), 10)
		b = append(b, `" customHeight="1`...)
	}
	w.sink.buf = append(b, `">`...)
}

func (w *sheetWriter) endRow() error {
	w.sink.buf = append(w.sink.buf, "</row>"...)
	return w.sink.spill()
}

// cellStart appends a cell's opening tag up to its type attribute.
func (w *sheetWriter) cellStart(col, style int) []byte {
	b := append(w.sink.buf, `<c r="`...)
	b = append(b, w.cols[col]...)
	b = append(b, w.rowNum...)
	b = append(b, '"')
	if style != 0 {
		b = append(b, ` s="`...)
		b = strconv.AppendInt(b, int64(style), 10)
		b = append(b, '"')
	}
	return b
}

func (w *sheetWriter) intCell(col, style int, v int64) {
	b := append(w.cellStart(col, style), "><v>"...)
	b = strconv.AppendInt(b, v, 10)
	w.sink.buf = append(b, "</v></c>"...)
}

func (w *sheetWriter) numberCell(col, style int, x float64) {
	b := append(w.cellStart(col, style), "><v>"...)
	b = appendNumber(b, x)
	w.sink.buf = append(b, "</v></c>"...)
}

// textCell writes an inline string cell: text is never a formula, so "=1+1" stays text.
func (w *sheetWriter) textCell(col, style int, s string) {
	b := append(w.cellStart(col, style), ` t="inlineStr">`...)
	b = appendInlineString(b, s)
	w.sink.buf = append(b, "</c>"...)
}

// timeCell writes a date or time as Excel's serial number in the kind's format, or as
// ISO text when Excel cannot hold it as a date.
func (w *sheetWriter) timeCell(col int, k kind, t time.Time) {
	if serial, ok := excelSerial(t); ok {
		w.numberCell(col, w.st.numberStyle(k), serial)
		return
	}
	layout := map[kind]string{kDate: "2006-01-02", kMonth: "2006-01", kStamp: "2006-01-02 15:04"}[k]
	w.textCell(col, w.st.text, t.Format(layout))
}

// cell writes a database value as a cell of the column's kind; NULL is a blank cell.
func (w *sheetWriter) cell(col int, k kind, v any) {
	st := w.st
	if c, ok := v.(styled); ok {
		switch x := c.value.(type) {
		case int64:
			w.intCell(col, c.style, x)
		case string:
			w.textCell(col, c.style, x)
		case nil:
		default:
			str, _ := asString(x)
			w.textCell(col, c.style, str)
		}
		return
	}
	if v == nil {
		return
	}
	switch k {
	case kInt:
		if i, ok := asInt(v); ok {
			w.intCell(col, st.integer, i)
			return
		}
	case kDecimal, kShare, kMoney:
		if x, ok := asFloat(v); ok {
			w.numberCell(col, st.numberStyle(k), x)
		}
		return // NULL, NaN or infinite: blank
	case kDate, kMonth, kStamp:
		if t, ok := asTime(v); ok {
			w.timeCell(col, k, t)
			return
		}
	case kStage:
		if i, ok := asInt(v); ok {
			stage := 0
			if i >= 1 && i <= 3 {
				stage = int(i)
			}
			w.intCell(col, st.stage[stage], i)
			return
		}
	case kYesNo:
		if b, ok := asBool(v); ok {
			if b {
				w.textCell(col, st.text, "yes")
			} else {
				w.textCell(col, st.text, "no")
			}
			return
		}
	}
	str, _ := asString(v)
	if k == kWrap {
		w.textCell(col, st.wrap, str)
		return
	}
	w.textCell(col, st.text, str)
}

func (w *sheetWriter) line(text string, style int) error {
	w.startRow(0)
	w.textCell(0, style, text)
	return w.endRow()
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
	w.startRow(30)
	header = w.row
	for i, c := range b.cols {
		w.textCell(i, w.st.header, c.header)
	}
	if err := w.endRow(); err != nil {
		return 0, 0, err
	}
	if len(b.rows) == 0 {
		if err := w.line("None.", w.st.note); err != nil {
			return 0, 0, err
		}
		return header, header, nil
	}
	for _, r := range b.rows {
		w.startRow(0)
		for i, c := range b.cols {
			if i < len(r) {
				w.cell(i, c.kind, r[i])
			}
		}
		if err := w.endRow(); err != nil {
			return 0, 0, fmt.Errorf("sheet %s row %d: %w", w.name, w.row, err)
		}
	}
	return header, w.row, nil
}

// filterOn asks for filter buttons over a table, added by finish.
func (w *sheetWriter) filterOn(header, last, cols int) { w.filter = [3]int{header, last, cols} }

// finish closes the sheet's XML, with its autofilter if any. The filter also needs a
// defined name in the workbook part, which excelize writes: finish touches the workbook,
// so it runs one sheet at a time.
func (w *sheetWriter) finish(f *excelize.File) error {
	ref := ""
	if header, last, cols := w.filter[0], w.filter[1], w.filter[2]; header > 0 && last > header {
		end, err := excelize.CoordinatesToCellName(cols, last)
		if err != nil {
			return fmt.Errorf("sheet %s: %w", w.name, err)
		}
		ref = fmt.Sprintf("A%d:%s", header, end)
		if err := f.AutoFilter(w.name, ref, nil); err != nil {
			return fmt.Errorf("sheet %s: %w", w.name, err)
		}
	}
	if w.cached {
		return nil // the part holds its autoFilter element already
	}
	if !w.begun {
		w.begin()
	}
	w.sink.buf = append(w.sink.buf, "</sheetData>"...)
	if ref != "" {
		w.sink.buf = append(w.sink.buf, `<autoFilter ref="`+ref+`"/>`...)
	}
	w.sink.buf = append(w.sink.buf, `<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>`...)
	if err := w.sink.close(); err != nil {
		return fmt.Errorf("sheet %s: %w", w.name, err)
	}
	return nil
}
