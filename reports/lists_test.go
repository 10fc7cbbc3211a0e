package reports

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/referrals/referrals/internal/stagetest"
	"github.com/xuri/excelize/v2"
)

// coolingPrior is the "vs N in the 9 months before" of a cooling list's detail.
var coolingPrior = regexp.MustCompile(`vs (\d+) in the 9 months before`)

// TestCoolingListLargestFirst: every referrer on the cooling list has the same "Since" (the
// first day of the period compared), so ordering by it left the list alphabetical, and the
// page, which shows its first 50 rows, could leave out the referrers who sent the most.
// Both reports list first the referrers who sent the most in the 9 months before.
func TestCoolingListLargestFirst(t *testing.T) {
	db := stagetest.RunSample(t, filepath.Join("..", "sample-data"), sampleMonth, "cache-test")
	xlsx, html := writeWorkbookAndPage(t, db, sampleMonth)

	checkOrder := func(where string, details []string) {
		t.Helper()
		if len(details) < 5 {
			t.Fatalf("%s: %d cooling rows: the sample's list is not built", where, len(details))
		}
		prev := -1
		var seen []int
		for _, d := range details {
			m := coolingPrior.FindStringSubmatch(d)
			if m == nil {
				t.Fatalf("%s: detail %q does not say the 9 months before", where, d)
			}
			n, _ := strconv.Atoi(m[1])
			seen = append(seen, n)
			if prev >= 0 && n > prev {
				t.Errorf("%s: cooling list not largest first: %v", where, seen)
				return
			}
			prev = n
		}
	}

	checkOrder("workbook", listColumn(t, xlsx, "Cooling", 3))
	section := pageSection(t, html, "watch-cooling")
	checkOrder("page", coolingPrior.FindAllString(section, -1))
	// Its Since is one day for every row: both reports say what that day is.
	if !strings.Contains(section, "Since is the first of those 90 days") {
		t.Error("the page's cooling list does not say what its Since is")
	}
	said := false
	for _, r := range sheetRows(t, xlsx, "Introductions") {
		said = said || len(r) == 1 && strings.Contains(r[0], "Since is the first of those 90 days")
	}
	if !said {
		t.Error("the workbook's cooling list does not say what its Since is")
	}
}

// TestLongReasonsWrap: the reasons for a suggested colleague run to 150-200 characters in a
// column at most 60 wide, with the next colleague's name in the column beside it, so
// Excel cut them after the payers: "has room" and the shared specialty were hidden. They
// and the watch lists' "What happened" now wrap within their column.
func TestLongReasonsWrap(t *testing.T) {
	db := openFixtureDB(t)
	month := reportMonth(t, db)
	xlsx, _ := writeWorkbookAndPage(t, db, month)
	f, rows := openSheet(t, xlsx, sheetIntroduction)
	checked := map[string]bool{}
	for i, r := range rows {
		for j, v := range r {
			header := ""
			for k := i; k >= 0; k-- { // the header row of this cell's table
				if k < len(rows) && len(rows[k]) > j && (rows[k][0] == "Referrer") {
					header = rows[k][j]
					break
				}
			}
			if k := header; (strings.HasPrefix(k, "Why colleague") || k == "What happened") && v != header && v != "" {
				cell, _ := excelize.CoordinatesToCellName(j+1, i+1)
				st := cellStyle(t, f, sheetIntroduction, cell)
				wraps := st.Alignment != nil && st.Alignment.WrapText
				if !wraps {
					t.Errorf("%s (%s, %d characters) does not wrap", cell, header, len(v))
				}
				checked[header] = checked[header] || len(v) > 60
			}
		}
	}
	if !checked["Why colleague 1"] || !checked["What happened"] {
		t.Errorf("no long reason or detail was checked (%v): the fixture does not build the case", checked)
	}
}

// TestChangesAreSigned: the Overview's "vs last month" and "vs last year" showed a rise of
// half as 51.5%, which reads as "51.5% of last month"; the page says +52%. A change now
// carries its sign in the workbook too.
func TestChangesAreSigned(t *testing.T) {
	db := stagetest.RunSample(t, filepath.Join("..", "sample-data"), sampleMonth, "cache-test")
	xlsx, _ := writeWorkbookAndPage(t, db, sampleMonth)
	f, rows := openSheet(t, xlsx, sheetOverview)
	seen := 0
	for i, r := range rows {
		if len(r) < 6 || r[0] != "All sources" {
			continue
		}
		for _, col := range []string{"E", "F"} {
			cell := col + strconv.Itoa(i+1)
			raw, err := f.GetCellValue(sheetOverview, cell, excelize.Options{RawCellValue: true})
			if err != nil {
				t.Fatal(err)
			}
			x, err := strconv.ParseFloat(raw, 64)
			if err != nil {
				t.Fatalf("%s = %q is not a number", cell, raw)
			}
			shown, _ := f.GetCellValue(sheetOverview, cell)
			if x > 0 && !strings.HasPrefix(shown, "+") || x < 0 && !strings.HasPrefix(shown, "-") || !strings.HasSuffix(shown, "%") {
				t.Errorf("%s holds %v and shows %q: want the change signed, in percent", cell, x, shown)
			}
			seen++
		}
	}
	if seen != 2 {
		t.Fatalf("found %d change cells on the Overview, want 2", seen)
	}
}

// TestLapsedListNewestFirst: the lapsed list keeps every referrer who ever lapsed, and it
// was oldest first, so on a big practice the page's first 50 rows were referrers silent
// for years and left out those who stopped last season, the ones to win back. Both
// reports now list the most recent last referral first.
func TestLapsedListNewestFirst(t *testing.T) {
	db := stagetest.RunSample(t, filepath.Join("..", "sample-data"), sampleMonth, "cache-test")
	xlsx, html := writeWorkbookAndPage(t, db, sampleMonth)

	sheet := listColumn(t, xlsx, "Lapsed", 4) // Since: the last referral, yyyy-mm-dd
	if len(sheet) < 3 {
		t.Fatalf("workbook: %d lapsed rows: the sample's list is not built", len(sheet))
	}
	if !sort.SliceIsSorted(sheet, func(i, j int) bool { return sheet[i] > sheet[j] }) {
		t.Errorf("workbook: lapsed list not newest first: %v", sheet)
	}

	var dates []string
	for _, m := range regexp.MustCompile(`no referral since (\d{4}-\d{2}-\d{2})`).FindAllStringSubmatch(pageSection(t, html, "watch-lapsed"), -1) {
		dates = append(dates, m[1])
	}
	if len(dates) != len(sheet) || !sort.SliceIsSorted(dates, func(i, j int) bool { return dates[i] > dates[j] }) {
		t.Errorf("page: lapsed list not newest first, or not the workbook's rows: %v (workbook %v)", dates, sheet)
	}
}

// TestOverviewFiguresFormatted: every figure on the Overview has a number format, the
// stage counts too (they were General: 1021 referrers read "1021", not "1,021").
func TestOverviewFiguresFormatted(t *testing.T) {
	db := stagetest.RunSample(t, filepath.Join("..", "sample-data"), sampleMonth, "cache-test")
	xlsx, _ := writeWorkbookAndPage(t, db, sampleMonth)
	f, rows := openSheet(t, xlsx, sheetOverview)
	stages := 0
	for i, r := range rows {
		if len(r) < 2 || r[1] == "" {
			continue
		}
		cell := "B" + strconv.Itoa(i+1)
		raw, _ := f.GetCellValue(sheetOverview, cell, excelize.Options{RawCellValue: true})
		if _, err := strconv.ParseFloat(raw, 64); err != nil {
			continue // text
		}
		st := cellStyle(t, f, sheetOverview, cell)
		if st.NumFmt == 0 && (st.CustomNumFmt == nil || *st.CustomNumFmt == "") {
			t.Errorf("%s (%s) = %s has no number format", cell, r[0], raw)
		}
		if strings.HasPrefix(r[0], "Stage ") {
			stages++
		}
	}
	if stages != 3 {
		t.Fatalf("found %d stage counts on the Overview, want 3", stages)
	}
}

// listColumn is one column of a list on the Introductions sheet (the list whose title
// starts with title), its header row left out.
func listColumn(t *testing.T, xlsx, title string, col int) []string {
	t.Helper()
	var values []string
	in := false
	for _, r := range sheetRows(t, xlsx, sheetIntroduction) {
		if len(r) == 1 { // a list's title, or the note under it
			for _, list := range []string{"Ready", "Stalled", "Cooling", "Lapsed", "Regressed"} {
				if strings.HasPrefix(r[0], list) {
					in = list == title
				}
			}
			continue
		}
		if in && len(r) > col && r[0] != "Referrer" {
			values = append(values, r[col])
		}
	}
	return values
}

// pageSection is the page's <section> with this id, up to its end.
func pageSection(t *testing.T, html, id string) string {
	t.Helper()
	b, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	i := strings.Index(page, `<section id="`+id+`">`)
	if i < 0 {
		t.Fatalf("the page has no section %s", id)
	}
	section := page[i:]
	return section[:strings.Index(section, "</section>")]
}

// cellStyle is the style of a cell of a written workbook.
func cellStyle(t *testing.T, f *excelize.File, sheet, cell string) *excelize.Style {
	t.Helper()
	id, err := f.GetCellStyle(sheet, cell)
	if err != nil {
		t.Fatal(err)
	}
	st, err := f.GetStyle(id)
	if err != nil {
		t.Fatal(err)
	}
	return st
}
