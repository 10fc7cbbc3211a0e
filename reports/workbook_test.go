package reports

import (
	"archive/zip"
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

func TestWorkbook(t *testing.T) {
	db := openFixtureDB(t)
	month := reportMonth(t, db)
	dir := t.TempDir()
	path := filepath.Join(dir, "referrals-"+month.Format("2006-01")+".xlsx")
	if err := WriteWorkbook(context.Background(), db, month, path); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("the folder holds %d files, want only the workbook (a temporary file left behind?)", len(entries))
	}

	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	t.Run("sheets in order", func(t *testing.T) {
		want := []string{"Overview", "Referrers", "Introductions", "Monthly", "Clinicians", "Transitions", "Data quality"}
		if got := f.GetSheetList(); !slices.Equal(got, want) {
			t.Fatalf("sheets = %q, want %q", got, want)
		}
	})

	// A sheet that declares its range must declare all of it: readers that trust the
	// declaration (openpyxl in read-only mode) read no further.
	t.Run("declared ranges cover the rows", func(t *testing.T) {
		for _, sheet := range f.GetSheetList() {
			dim, err := f.GetSheetDimension(sheet)
			if err != nil {
				t.Fatal(err)
			}
			if dim == "" {
				continue // no declaration: readers scan the rows
			}
			r, err := f.GetRows(sheet)
			if err != nil {
				t.Fatal(err)
			}
			ref := dim[strings.LastIndex(dim, ":")+1:]
			_, lastRow, err := excelize.CellNameToCoordinates(ref)
			if err != nil {
				t.Fatalf("%s: dimension %q: %v", sheet, dim, err)
			}
			if lastRow < len(r) {
				t.Errorf("%s declares the range %s but has %d rows", sheet, dim, len(r))
			}
		}
	})

	rows := func(t *testing.T, sheet string) [][]string {
		t.Helper()
		r, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}

	t.Run("headers and row counts", func(t *testing.T) {
		cases := []struct {
			sheet  string
			header []string
			count  string
		}{
			{"Referrers", []string{"Referrer", "Category", "NPI", "Stage", "Low evidence", "Stage since", "Previous stage",
				"Referrals (window)", "Referrals this month", "Clinicians", "Point person", "Point-person share", "Practice share",
				"COC", "Effective clinicians", "First referral", "Last referral", "Months to stage 2", "Months to stage 3",
				"Regressions", "Flags", "Attended intakes", "Pending intakes", "Attended-intake rate", "Rate with point person",
				"Rate with colleagues", "Clients", "Billed", "Paid"},
				`SELECT count(*) FROM referrer_status WHERE referrals > 0`},
			{"Clinicians", []string{"Clinician", "Referrals received", "Referrers sending", "Point person for", "Attended intakes",
				"Pending intakes", "Attended-intake rate", "Rate as point person", "Rate as colleague", "Billed", "Paid"},
				`SELECT count(*) FROM follow_through_clinician`},
			{"Transitions", []string{"Referrer", "Month", "From stage", "To stage", "Direction"},
				`SELECT count(*) FROM stage_transitions WHERE month > (SELECT max(month) FROM referrer_status) - INTERVAL 12 MONTH`},
			{"Monthly", nil,
				`SELECT (SELECT count(DISTINCT referrer) FROM referrer_months
                           WHERE month > (SELECT max(month) FROM referrer_status) - INTERVAL 24 MONTH
                             AND (referrals_this_month > 0 OR stage IS NOT NULL))
                      + (SELECT count(DISTINCT coalesce(referrer, '(no source)')) FROM monthly_volume
                           WHERE source_kind IN ('channel', 'unknown')
                             AND month > (SELECT max(month) FROM referrer_status) - INTERVAL 24 MONTH)`},
		}
		for _, c := range cases {
			r := rows(t, c.sheet)
			if len(r) == 0 {
				t.Fatalf("%s is empty", c.sheet)
			}
			if c.header != nil && !slices.Equal(r[0], c.header) {
				t.Errorf("%s header = %q, want %q", c.sheet, r[0], c.header)
			}
			if want := count(t, db, c.count); len(r)-1 != want {
				t.Errorf("%s has %d data rows, the database %d", c.sheet, len(r)-1, want)
			}
		}
		monthly := rows(t, "Monthly")[0]
		if len(monthly) != 2+24+1+24 || monthly[2] != month.AddDate(0, -23, 0).Format("2006-01") ||
			monthly[25] != month.Format("2006-01") || monthly[26] != "Total (24 months)" {
			t.Errorf("Monthly header = %q", monthly)
		}
	})

	t.Run("monthly cells", func(t *testing.T) {
		// Every referrer's row: each month's count and stage as referrer_months has them,
		// blank where it has no row for that month.
		type cell struct{ count, stage string }
		want := map[string]map[string]cell{}
		rs, err := db.Query(`SELECT referrer, strftime(month, '%Y-%m'), referrals_this_month::VARCHAR, coalesce(stage::VARCHAR, '')
			FROM referrer_months WHERE month BETWEEN ?::DATE - INTERVAL 23 MONTH AND ?::DATE`, month, month)
		if err != nil {
			t.Fatal(err)
		}
		for rs.Next() {
			var name, m string
			var c cell
			if err := rs.Scan(&name, &m, &c.count, &c.stage); err != nil {
				t.Fatal(err)
			}
			if want[name] == nil {
				want[name] = map[string]cell{}
			}
			want[name][m] = c
		}
		rs.Close()
		sheet := rows(t, "Monthly")
		header := sheet[0]
		checked := 0
		for _, r := range sheet[1:] {
			if len(r) < 2 || r[1] == "marketing channel" || r[1] == "no source recorded" {
				continue
			}
			months, ok := want[r[0]]
			if !ok {
				t.Errorf("Monthly row %q: no such referrer in referrer_months", r[0])
				continue
			}
			get := func(i int) string {
				if i < len(r) {
					return r[i]
				}
				return ""
			}
			for i := 0; i < 24; i++ {
				m := header[2+i]
				got := cell{get(2 + i), get(27 + i)}
				if got != months[m] {
					t.Errorf("Monthly %q %s = %+v, referrer_months has %+v", r[0], m, got, months[m])
				}
			}
			checked++
		}
		if checked == 0 {
			t.Fatal("no referrer rows in Monthly")
		}
	})

	t.Run("overview figures", func(t *testing.T) {
		figure := map[string]string{}
		for _, row := range rows(t, "Overview") {
			if len(row) >= 2 {
				if _, dup := figure[row[0]]; !dup {
					figure[row[0]] = row[1]
				}
			}
		}
		m := month.Format("2006-01-02")
		checks := map[string]string{
			"All sources":                                 `SELECT count(*) FROM referrals WHERE referral_month = ?::DATE`,
			"From referrers":                              `SELECT count(*) FROM referrals WHERE referral_month = ?::DATE AND source_kind = 'referrer'`,
			"No source recorded":                          `SELECT count(*) FROM referrals WHERE referral_month = ?::DATE AND source_kind = 'unknown'`,
			"Stage 1: point person":                       `SELECT count(*) FROM referrer_status WHERE stage = 1 AND month = ?::DATE`,
			"Stage 3: whole practice":                     `SELECT count(*) FROM referrer_status WHERE stage = 3 AND month = ?::DATE`,
			"Active referrers (a referral in the window)": `SELECT count(*) FROM referrer_status WHERE referrals > 0 AND month = ?::DATE`,
			"Moved down a stage this month":               `SELECT count(*) FROM stage_transitions WHERE direction = 'down' AND month = ?::DATE`,
		}
		for label, q := range checks {
			want := itoa(count(t, db, q, m))
			if got := strings.ReplaceAll(figure[label], ",", ""); got != want {
				t.Errorf("Overview %q = %q, the database says %s", label, figure[label], want)
			}
		}
	})

	// The Overview explains the columns the other sheets use, by the names they carry.
	t.Run("column guide", func(t *testing.T) {
		headers := map[string][]string{}
		for _, sheet := range []string{"Referrers", "Clinicians", "Monthly", "Transitions"} {
			headers[sheet] = rows(t, sheet)[0]
		}
		// Data quality stacks its tables: every header row counts.
		for _, r := range rows(t, "Data quality") {
			headers["Data quality"] = append(headers["Data quality"], r...)
		}
		month := regexp.MustCompile(`^\d{4}-\d{2}$`)
		// has says whether sheet has a column for name: the Monthly sheet's columns
		// are one per month ("2026-10", "Stage 2026-10"), which its entries name as
		// "Months" and "Stage".
		has := func(sheet, name string) bool {
			for _, h := range headers[sheet] {
				switch {
				case h == name,
					sheet == "Monthly" && name == "Months" && month.MatchString(h),
					sheet == "Monthly" && name == "Stage" && strings.HasPrefix(h, "Stage ") && month.MatchString(h[6:]):
					return true
				}
			}
			return false
		}
		start := -1
		ov := rows(t, "Overview")
		for i, r := range ov {
			if len(r) > 0 && r[0] == "What the columns mean" {
				start = i + 2 // after the title and the table's header
			}
		}
		if start < 0 {
			t.Fatal("the Overview has no column guide")
		}
		entries := 0
		for _, r := range ov[start:] {
			if len(r) < 2 || r[0] == "" {
				break
			}
			entries++
			i := strings.LastIndex(r[0], " (")
			if i < 0 || !strings.HasSuffix(r[0], ")") || r[1] == "" {
				t.Errorf("guide entry %q: want \"Column (sheet)\" and a meaning", r[0])
				continue
			}
			for _, sheet := range strings.Split(r[0][i+2:len(r[0])-1], ", ") {
				if _, ok := headers[sheet]; !ok {
					t.Errorf("guide entry %q names the sheet %q, which the workbook does not have", r[0], sheet)
					continue
				}
				for _, name := range strings.Split(r[0][:i], ", ") {
					if !has(sheet, name) {
						t.Errorf("guide entry %q names %q, which the %s sheet has no column for", r[0], name, sheet)
					}
				}
			}
		}
		if entries < 15 {
			t.Errorf("the guide explains %d columns, want 15 or more", entries)
		}
		// The top of the Overview points to the guide by its row.
		pointer := ""
		for _, r := range ov[:8] {
			if len(r) > 0 && strings.HasPrefix(r[0], "What the columns of the other sheets mean") {
				pointer = r[0]
			}
		}
		if want := fmt.Sprintf(`see "What the columns mean" below, from row %d.`, start-1); !strings.HasSuffix(pointer, want) {
			t.Errorf("the Overview's top says %q, want a line ending %q", pointer, want)
		}
		// The columns a reader asked about have an entry.
		for _, name := range []string{"NPI", "Clients", "Matched by", "Similarity", "Direction", "From stage"} {
			found := false
			for _, r := range ov[start:] {
				if len(r) > 0 && slices.Contains(strings.Split(r[0][:max(strings.LastIndex(r[0], " ("), 0)], ", "), name) {
					found = true
				}
			}
			if !found {
				t.Errorf("the guide does not explain %q", name)
			}
		}
	})

	t.Run("data text stays text", func(t *testing.T) {
		r := rows(t, "Referrers")
		found := map[string]string{}
		for i, row := range r[1:] {
			found[row[0]] = "A" + itoa(i+2)
		}
		long := ""
		for name := range found {
			if len([]rune(name)) == 300 {
				long = name
			}
		}
		if long == "" {
			t.Error("the 300-character referrer name is missing or cut")
		}
		for _, name := range hostileNames {
			cell, ok := found[name]
			if !ok {
				t.Errorf("referrer %q missing from Referrers", name)
				continue
			}
			formula, err := f.GetCellFormula("Referrers", cell)
			if err != nil || formula != "" {
				t.Errorf("%s (%q) has formula %q, %v", cell, name, formula, err)
			}
			v, _ := f.GetCellValue("Referrers", cell)
			if v != name {
				t.Errorf("%s = %q, want %q", cell, v, name)
			}
			typ, _ := f.GetCellType("Referrers", cell)
			if typ != excelize.CellTypeInlineString && typ != excelize.CellTypeSharedString {
				t.Errorf("%s (%q) has type %v, want a string cell", cell, name, typ)
			}
		}
	})

	t.Run("formats and stage colours", func(t *testing.T) {
		r := rows(t, "Referrers")
		var stage1 string
		for i, row := range r[1:] {
			if row[3] == "1" {
				stage1 = "D" + itoa(i+2)
				// First referral is a date shown as yyyy-mm-dd.
				if !regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`).MatchString(row[15]) {
					t.Errorf("first referral %q is not formatted yyyy-mm-dd", row[15])
				}
				if !strings.HasSuffix(row[11], "%") {
					t.Errorf("point-person share %q is not a percentage", row[11])
				}
				break
			}
		}
		if stage1 == "" {
			t.Fatal("no stage-1 referrer in Referrers")
		}
		style := cellStyle(t, f, "Referrers", stage1)
		if len(style.Fill.Color) == 0 || !strings.EqualFold(style.Fill.Color[0], stageFill[1]) {
			t.Errorf("stage-1 cell fill = %v, want %s", style.Fill.Color, stageFill[1])
		}
		// The wide sheets keep the header row and the referrer's name in view: frozen at B2.
		for _, sheet := range []string{"Referrers", "Monthly"} {
			panes, err := f.GetPanes(sheet)
			if err != nil || !panes.Freeze || panes.YSplit != 1 || panes.XSplit != 1 || panes.TopLeftCell != "B2" {
				t.Errorf("%s is not frozen at B2: %+v %v", sheet, panes, err)
			}
		}
		if panes, err := f.GetPanes("Clinicians"); err != nil || !panes.Freeze || panes.YSplit != 1 || panes.XSplit != 0 {
			t.Errorf("Clinicians is not frozen below its header alone: %+v %v", panes, err)
		}
	})

	t.Run("introductions and watch lists", func(t *testing.T) {
		var text strings.Builder
		for _, row := range rows(t, "Introductions") {
			text.WriteString(strings.Join(row, "\t") + "\n")
		}
		for _, title := range []string{"Ready for introductions", "Stalled", "Cooling", "Lapsed", "Regressed"} {
			if !strings.Contains(text.String(), title) {
				t.Errorf("Introductions lacks the block %q", title)
			}
		}
		var ready int
		for _, row := range rows(t, "Introductions")[3:] {
			if len(row) == 0 {
				break
			}
			ready++
		}
		if want := count(t, db, `SELECT count(DISTINCT referrer) FROM introductions`); ready != want {
			t.Errorf("introductions list has %d referrers, the database %d", ready, want)
		}
	})

	t.Run("data quality", func(t *testing.T) {
		var text strings.Builder
		for _, row := range rows(t, "Data quality") {
			text.WriteString(strings.Join(row, "\t") + "\n")
		}
		s := text.String()
		for _, title := range []string{"Files loaded", "Files that failed", "Unresolved clinician names", "Reference file warnings",
			"Referrals with no source", "Merged referrer spellings", "Names typed without an NPI that several NPIs share",
			"Near-duplicate referrer names", "Rejected rows"} {
			if !strings.Contains(s, title) {
				t.Errorf("Data quality lacks the block %q", title)
			}
		}
		msgs, err := db.Query(`SELECT message FROM rejected_rows UNION ALL SELECT problem FROM ingest_problems UNION ALL SELECT message FROM ref_warnings
            UNION ALL SELECT DISTINCT clinician FROM stg_clinician_spellings WHERE NOT clinician_resolved`)
		if err != nil {
			t.Fatal(err)
		}
		defer msgs.Close()
		for msgs.Next() {
			var m string
			_ = msgs.Scan(&m)
			if !strings.Contains(s, m) {
				t.Errorf("Data quality lacks %q", m)
			}
		}
	})

	t.Run("native charts on Overview", func(t *testing.T) {
		parts := zipParts(t, path)
		var charts []string
		for name := range parts {
			if regexp.MustCompile(`^xl/charts/chart\d+\.xml$`).MatchString(name) {
				charts = append(charts, name)
			}
		}
		if len(charts) != 2 {
			t.Fatalf("workbook has charts %q, want 2", charts)
		}
		all := ""
		for _, c := range charts {
			all += parts[c]
		}
		if !regexp.MustCompile(`<(c:)?barChart>`).MatchString(all) || !regexp.MustCompile(`<(c:)?grouping val="stacked"`).MatchString(all) {
			t.Error("no stacked column chart")
		}
		if !regexp.MustCompile(`<(c:)?lineChart>`).MatchString(all) {
			t.Error("no line chart")
		}
		// The charts hang on the Overview sheet (sheet1) through its drawing.
		rels := parts["xl/worksheets/_rels/sheet1.xml.rels"]
		if !strings.Contains(rels, "drawing") {
			t.Errorf("Overview has no drawing relation: %s", rels)
		}
		drawingRels := ""
		for name, body := range parts {
			if strings.HasPrefix(name, "xl/drawings/_rels/") {
				drawingRels += body
			}
		}
		if strings.Count(drawingRels, "../charts/chart") != 2 {
			t.Errorf("drawing relations do not point at both charts: %s", drawingRels)
		}
		if !strings.Contains(all, "Overview&#39;!$A$") && !strings.Contains(all, "Overview'!$A$") {
			t.Error("chart series do not reference the Overview data")
		}
	})

	t.Run("streamed sheets keep filter and frozen panes", func(t *testing.T) {
		parts := zipParts(t, path)
		for _, sheet := range []string{"Referrers", "Monthly", "Clinicians", "Transitions"} {
			idx, _ := f.GetSheetIndex(sheet)
			body := parts["xl/worksheets/sheet"+itoa(idx+1)+".xml"]
			if !strings.Contains(body, "<autoFilter ref=") {
				t.Errorf("%s has no autofilter (added after Flush?)", sheet)
			}
			if !strings.Contains(body, `state="frozen"`) {
				t.Errorf("%s has no frozen pane", sheet)
			}
			if strings.Contains(body, "<f>") {
				t.Errorf("%s contains a formula", sheet)
			}
		}
	})
}

func zipParts(t *testing.T, path string) map[string]string {
	t.Helper()
	z, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	parts := map[string]string{}
	for _, zf := range z.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		parts[zf.Name] = string(b)
	}
	return parts
}

func itoa(i int) string { return strconv.Itoa(i) }

// A file version that a later one at the same path replaced says so on the Data
// quality sheet: its rejected count is that version's, whose rejects the
// loader no longer lists.
func TestFilesLoadedNameTheReplacingVersion(t *testing.T) {
	db := openFixtureDB(t)
	if _, err := db.Exec(`INSERT INTO ingest_files (file_id, source, path, sha256, encoding, rows_loaded, rows_rejected, rows_replaced, loaded_at)
		VALUES (5, 'scheduling', 'exports/appointments-2025-05.csv', sha256('a1 fixed'), 'utf-8', 15237, 0, 15234, TIMESTAMP '2025-07-02 02:00:05')`); err != nil {
		t.Fatal(err)
	}
	xlsx, _ := writeWorkbookAndPage(t, db, reportMonth(t, db))
	replacedBy := map[string]string{}
	col := -1
	for _, r := range sheetRows(t, xlsx, "Data quality") {
		if len(r) > 0 && r[0] == "File id" {
			col = slices.Index(r, "Replaced by file")
			continue
		}
		if col < 0 || len(r) == 0 || r[0] == "" {
			if len(replacedBy) > 0 {
				break
			}
			continue
		}
		cell := ""
		if col < len(r) {
			cell = r[col]
		}
		replacedBy[r[0]] = cell
	}
	if col < 0 {
		t.Fatal(`the "Files loaded" block has no "Replaced by file" column`)
	}
	want := map[string]string{"5": "", "4": "", "3": "", "2": "", "1": "5"}
	if !maps.Equal(replacedBy, want) {
		t.Errorf("replaced by = %v, want %v", replacedBy, want)
	}
}
