package reports

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/referrals/referrals/internal/explain"
	"github.com/referrals/referrals/internal/stagetest"
)

// A ready referrer with no colleague to suggest says why in the Why cell, on the page and in
// explain, in the same words: here nobody but the point person accepts new clients, and then
// the point person is alone on the roster.
func TestReadyWithoutColleague(t *testing.T) {
	for _, c := range []struct {
		name, edit, why string
	}{
		{"nobody accepting", `UPDATE ref_roster SET accepting = false WHERE name <> 'Ann Alder'`,
			"no colleague to suggest: the roster says none of the 4 other clinicians is accepting new clients"},
		{"one clinician", `DELETE FROM ref_roster WHERE name <> 'Ann Alder'`,
			"no colleague to suggest: the roster lists no clinician but the point person this month"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			month := stagetest.ReportMonth
			db := stagetest.BuildAfter(t, stagetest.SamplePractice(), stagetest.DefaultVars(month), c.edit)
			xlsx, html := writeWorkbookAndPage(t, db, month)
			rows := sheetRows(t, xlsx, "Introductions")
			found := false
			for _, r := range rows {
				if len(r) > 0 && r[0] == "Dr Journey" {
					found = true
					if len(r) < 6 || r[4] != "" || r[5] != c.why {
						t.Errorf("Introductions row = %q, want no colleague and the Why %q", r, c.why)
					}
				}
			}
			if !found {
				t.Fatalf("Dr Journey is not on the Introductions sheet: %q", rows)
			}
			b, err := os.ReadFile(html)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), `<td data-label="Suggested colleagues">`+c.why+"</td>") {
				t.Errorf("the page's introductions do not say %q", c.why)
			}
			var buf bytes.Buffer
			if err := explain.Write(ctx, db, "Dr Journey", &buf); err != nil {
				t.Fatal(err)
			}
			text := strings.Join(strings.Fields(buf.String()), " ")
			want := "on the list of referrers ready for introductions (stage 1, 3 or more referrals in the window and one in the last 90 days), but with " + c.why
			if !strings.Contains(text, want) {
				t.Errorf("explain lacks %q:\n%s", want, text)
			}
		})
	}
}

// A point person who has left the practice (the roster's end date before the report month),
// with no referral since to hand the referrer on, is named "(left the practice)" on the watch
// lists of both reports, as explain says it.
func TestLeftThePracticeOnLists(t *testing.T) {
	ctx := context.Background()
	month := stagetest.ReportMonth
	db := stagetest.BuildAfter(t, stagetest.SamplePractice(), stagetest.DefaultVars(month),
		`UPDATE ref_roster SET end_date = DATE '2025-10-31' WHERE name = 'Ann Alder'`)
	if n := count(t, db, `SELECT count(*) FROM referrer_status WHERE referrer IN ('Dr Old Three', 'Dr Cool')
		AND point_person = 'Ann Alder' AND point_person_source = 'left the practice'`); n != 2 {
		t.Fatalf("%d of Dr Old Three and Dr Cool have Ann Alder, who left, as point person: the case is not built", n)
	}
	xlsx, html := writeWorkbookAndPage(t, db, month)
	rows := sheetRows(t, xlsx, "Introductions")
	shown := map[string]string{}
	list := ""
	for _, r := range rows {
		for _, title := range []string{"Ready", "Stalled", "Cooling", "Lapsed", "Regressed"} {
			if len(r) == 1 && strings.HasPrefix(r[0], title) {
				list = title
			}
		}
		if len(r) > 1 && (r[0] == "Dr Old Three" || r[0] == "Dr Cool" || r[0] == "Dr Leaver") {
			shown[list+" "+r[0]] = r[1]
		}
	}
	for _, k := range []string{"Lapsed Dr Old Three", "Cooling Dr Cool"} {
		if shown[k] != "Ann Alder (left the practice)" {
			t.Errorf("%s: point person %q, want %q (lists: %v)", k, shown[k], "Ann Alder (left the practice)", shown)
		}
	}
	b, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	i := strings.Index(page, `id="watch-lapsed"`)
	if i < 0 || !strings.Contains(page[i:], "<td class=\"name\">Dr Old Three</td><td>Ann Alder (left the practice)</td>") {
		t.Error("the page's lapsed list does not say Dr Old Three's point person left the practice")
	}
	// The Referrers sheet says so too, and the CSV in a column of its own, the name
	// left clean for a CRM.
	for _, r := range sheetRows(t, xlsx, "Referrers") {
		if len(r) > 10 && (r[0] == "Dr Old Three" || r[0] == "Dr Cool") && r[10] != "Ann Alder (left the practice)" {
			t.Errorf("Referrers sheet: %s's point person %q, want %q", r[0], r[10], "Ann Alder (left the practice)")
		}
	}
	csvPath := filepath.Join(t.TempDir(), "referrers.csv")
	if err := WriteReferrerCSV(ctx, db, month, csvPath); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	records, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	rs, err := db.Query(`SELECT referrer, coalesce(point_person_source = 'left the practice', false)::VARCHAR FROM referrer_status WHERE referrals > 0`)
	if err != nil {
		t.Fatal(err)
	}
	for rs.Next() {
		var name, left string
		if err := rs.Scan(&name, &left); err != nil {
			t.Fatal(err)
		}
		want[name] = left
	}
	rs.Close()
	seen := map[string]bool{}
	for _, r := range records[1:] {
		if r[17] != want[r[0]] {
			t.Errorf("CSV: %s (point person %q) has point_person_left %q, want %q", r[0], r[3], r[17], want[r[0]])
		}
		seen[r[17]] = true
	}
	if !seen["true"] || !seen["false"] || want["Dr Cool"] != "true" {
		t.Errorf("CSV: point_person_left takes %v and Dr Cool's is %q: want both values, and true for Dr Cool", seen, want["Dr Cool"])
	}
	var buf bytes.Buffer
	if err := explain.Write(ctx, db, "Dr Old Three", &buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(strings.Fields(buf.String()), " "), "Ann Alder is the point person, though they have left the practice") {
		t.Errorf("explain and the lists disagree:\n%s", buf.String())
	}
}

// writeWorkbookAndPage writes the month's workbook and page into a test folder and
// returns their paths.
func writeWorkbookAndPage(t *testing.T, db *sql.DB, month time.Time) (xlsx, html string) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	xlsx, html = filepath.Join(dir, "r.xlsx"), filepath.Join(dir, "r.html")
	if err := WriteWorkbook(ctx, db, month, xlsx); err != nil {
		t.Fatal(err)
	}
	if err := WriteHTML(ctx, db, month, html); err != nil {
		t.Fatal(err)
	}
	return xlsx, html
}

// Referrals with no clinician yet (intakes booked into an open slot) are measured
// once one is assigned: the reports leave them out of the referrer's figures and say
// so in explain, and the Data quality sheet lists no blank clinician name to fix.
func TestNoClinicianYetIsSaid(t *testing.T) {
	ctx := context.Background()
	month := stagetest.ReportMonth
	p := stagetest.SamplePractice()
	p.Appointment("open-1", "client-open-1", "", "2025-11-01", "9:00 AM", "Cancelled", "Dr Open Slot")
	p.Appointment("open-2", "client-open-2", stagetest.Ann, "2025-08-01", "9:00 AM", "Attended", "Dr Open Slot")
	p.Appointment("open-3", "client-open-3", stagetest.Ann, "2025-09-01", "9:00 AM", "Attended", "Dr Open Slot")
	p.Appointment("open-4", "client-open-4", stagetest.Ann, "2025-11-03", "9:00 AM", "Attended", "Dr Open Slot")
	p.Appointment("none-1", "client-none-1", " ", "2025-10-01", "9:00 AM", "No Show", "Dr Nobody Yet")
	// The open slot asked for the practice, and open-2 for Ann by name: explain's
	// "requested" column counts only the referrals "new" and "assigned to" count.
	db := stagetest.BuildAfter(t, p, stagetest.DefaultVars(month),
		`UPDATE raw_appointments SET referred_to = 'Practice', has_referred_to = true WHERE appointment_id = 'open-1'`,
		`UPDATE raw_appointments SET referred_to = '`+stagetest.Ann+`', has_referred_to = true WHERE appointment_id IN ('open-2', 'open-3', 'open-4')`)
	xlsx, _ := writeWorkbookAndPage(t, db, month)
	var open []string
	for _, r := range sheetRows(t, xlsx, "Referrers") {
		if len(r) > 10 && r[0] == "Dr Nobody Yet" {
			t.Errorf("Dr Nobody Yet is on the Referrers sheet: %q", r)
		}
		if len(r) > 10 && r[0] == "Dr Open Slot" {
			open = r
		}
	}
	// Stage 1, 3 referrals, Ann: the open slot is not counted.
	if len(open) < 11 || open[3] != "1" || open[7] != "3" || open[10] != stagetest.Ann {
		t.Errorf("Referrers sheet: Dr Open Slot %q, want stage 1, 3 referrals, point person Ann", open)
	}
	// The Monthly sheet counts every referral, as the volumes do: 4 for Dr Open Slot.
	monthly := false
	for _, r := range sheetRows(t, xlsx, "Monthly") {
		if len(r) > 26 && r[0] == "Dr Open Slot" {
			monthly = true
			// Two categories of column then 24 months, 2024-01..2025-12, then the total.
			if r[2+22] != "2" || r[2+24] != "4" {
				t.Errorf("Monthly: Dr Open Slot 2025-11 %q, total %q; want 2 and 4 (row %q)", r[2+22], r[2+24], r)
			}
		}
	}
	if !monthly {
		t.Error("Dr Open Slot is not on the Monthly sheet")
	}
	// The Overview's chart counts every referral by its referrer's stage that month, as
	// the Monthly sheet colours it: the open slot of 2025-11 with Dr Open Slot's stage 1;
	// only Dr Nobody Yet's, with no stage, in the series of referrers without one.
	overviewRows := sheetRows(t, xlsx, "Overview")
	col := map[string]int{}
	byMonth := map[string][]string{}
	for i, r := range overviewRows {
		if len(r) > 0 && r[0] == "Chart data: referrals per month by the stage of the referrer" && i+1 < len(overviewRows) {
			for j, h := range overviewRows[i+1] {
				col[h] = j
			}
			for _, m := range overviewRows[i+2:] {
				if len(m) == 0 || m[0] == "" {
					break
				}
				byMonth[m[0]] = m
			}
		}
	}
	cell := func(month, series string) string {
		j, ok := col[series]
		if r := byMonth[month]; ok && j < len(r) {
			return r[j]
		}
		return "0"
	}
	if _, ok := col[noStageSeries]; !ok {
		t.Errorf("Overview chart data has no %q series: %v", noStageSeries, col)
	}
	for _, c := range []struct{ month, series, want string }{
		{"2025-10", noStageSeries, "1"}, {"2025-11", noStageSeries, "0"},
	} {
		if got := cell(c.month, c.series); got != c.want && !(c.want == "0" && got == "") {
			t.Errorf("Overview chart data %s %q = %q, want %s", c.month, c.series, got, c.want)
		}
	}
	quality := sheetRows(t, xlsx, "Data quality")
	for i, r := range quality {
		if len(r) > 0 && r[0] == "Name as exported" && i+1 < len(quality) {
			if next := quality[i+1]; len(next) > 1 && strings.TrimSpace(next[0]) == "" && next[1] != "" {
				t.Errorf("Unresolved clinician names lists a blank name: %q", next)
			}
		}
	}
	for name, wants := range map[string][]string{
		"Dr Nobody Yet": {"No stage yet: 1 referral in the 12 months to 2025-12-31 has no clinician yet",
			"It has no point person yet: none of its clients has a clinician yet."},
		"Dr Open Slot": {"Besides these, 1 referral in the window has no clinician yet: measured from the night it has one.",
			"2025-11 1 Ann Alder Ann Alder 3"},
	} {
		var buf bytes.Buffer
		if err := explain.Write(ctx, db, name, &buf); err != nil {
			t.Fatal(err)
		}
		text := strings.Join(strings.Fields(buf.String()), " ")
		for _, want := range wants {
			if !strings.Contains(text, want) {
				t.Errorf("explain %s lacks %q:\n%s", name, want, buf.String())
			}
		}
	}
}
