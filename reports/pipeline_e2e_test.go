package reports

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/referrals/referrals/internal/sample"
	"github.com/referrals/referrals/internal/stagetest"
	"github.com/xuri/excelize/v2"
)

// The payloads a referrer, clinician or payer name can carry in an export.
var e2ePayloads = []string{
	`</script><img src=x onerror=alert(1)>`,
	`"><svg onload=alert(1)>`,
	`=HYPERLINK("http://x","y")`,
	`+1+1`,
	`@SUM(1)`,
	`<img src=x onerror="window.__xss=1">`,
	strings.TrimSpace(strings.Repeat("Very Long Community Behavioral Health Referral Partner ", 6)),
}

// TestHostileNamesEndToEnd puts the payloads into real exports (as referral
// sources, as a clinician on the roster, as payers), runs the real pipeline
// and checks that every report shows them as text and runs nothing: the
// HTML in headless Chromium, the workbook reopened, the CSV neutralised.
func TestHostileNamesEndToEnd(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	end := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	if _, err := sample.Generate(ctx, sample.Options{Out: data, Scale: 1, Seed: 5, End: end}); err != nil {
		t.Fatal(err)
	}
	// Their own payloads, so that finding one in a report cannot be a referrer's.
	clinicianPayload := `"><svg onload=alert(2)> Clinician`
	payerPayload := `=HYPERLINK("http://x","payer")`
	// The clinician joins the roster.
	roster, err := os.OpenFile(filepath.Join(data, "roster.csv"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(roster)
	w.Write([]string{clinicianPayload, "", "", "2020-01-01", "", "anxiety", "Aetna", "yes"})
	w.Flush()
	roster.Close()
	// Each payload referrer sends four clients in October 2026, to the
	// payload clinician, and they are billed to the payload payer.
	var sched, bill bytes.Buffer
	sw, bw := csv.NewWriter(&sched), csv.NewWriter(&bill)
	n := 0
	for i, p := range e2ePayloads {
		for k := 0; k < 4; k++ {
			n++
			client := fmt.Sprintf("99%04d", n)
			day := fmt.Sprintf("10/%02d/2026", 5+k*5)
			sw.Write([]string{fmt.Sprintf("XA%04d", n), client, clinicianPayload, day, "9:00 AM", "Attended", "Intake", p, "", ""})
			bw.Write([]string{fmt.Sprintf("XL%04d", n), client, day, clinicianPayload, "", "", "", payerPayload, "90791", "200.00", fmt.Sprint(100 + i)})
		}
	}
	sw.Flush()
	bw.Flush()
	appendTo := func(glob string, extra []byte) {
		files, _ := filepath.Glob(filepath.Join(data, glob))
		if len(files) == 0 {
			t.Fatalf("no file for %s", glob)
		}
		last := files[len(files)-1]
		f, err := os.OpenFile(last, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.Write(extra)
		f.Close()
	}
	appendTo("exports/scheduling/appointments-2026-10.csv", sched.Bytes())
	appendTo("exports/billing/claims-2026-Q4.csv", bill.Bytes())

	db := stagetest.RunSample(t, data, end, "e2e-secret-0123456789")
	var active int
	if err := db.QueryRow(`SELECT count(*) FROM referrer_status WHERE referrals > 0 AND referrer IN (SELECT unnest(?::VARCHAR[]))`, e2ePayloads).Scan(&active); err != nil {
		t.Fatal(err)
	}
	if active != len(e2ePayloads) {
		t.Fatalf("%d of %d payload referrers are active: the fixture does not reach the reports", active, len(e2ePayloads))
	}
	out := t.TempDir()
	html := filepath.Join(out, "referrals-2026-10.html")
	xlsx := filepath.Join(out, "referrals-2026-10.xlsx")
	csvPath := filepath.Join(out, "referrers-2026-10.csv")
	if err := WriteHTML(ctx, db, end, html); err != nil {
		t.Fatal(err)
	}
	if err := WriteWorkbook(ctx, db, end, xlsx); err != nil {
		t.Fatal(err)
	}
	if err := WriteReferrerCSV(ctx, db, end, csvPath); err != nil {
		t.Fatal(err)
	}

	// The workbook: every payload is a plain string cell, no formula anywhere.
	f, err := excelize.OpenFile(xlsx)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	shown := append(slices.Clone(e2ePayloads), clinicianPayload)
	for _, sheet := range f.GetSheetList() {
		rows, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		for r, row := range rows {
			for c, v := range row {
				cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
				if formula, _ := f.GetCellFormula(sheet, cell); formula != "" {
					t.Errorf("%s!%s holds a formula %q", sheet, cell, formula)
				}
				for _, p := range shown {
					if strings.Contains(v, p) {
						found[p] = true
					}
				}
			}
		}
	}
	f.Close()
	for _, p := range e2ePayloads {
		if !found[p] {
			t.Errorf("workbook does not show %q", p)
		}
	}
	if !found[clinicianPayload] {
		t.Errorf("workbook does not show the clinician %q", clinicianPayload)
	}
	// No report shows payers; the payer reached the models as text.
	var payers int
	if err := db.QueryRow(`SELECT count(*) FROM client_payers WHERE payer = ?`, payerPayload).Scan(&payers); err != nil || payers == 0 {
		t.Errorf("payer %q is on %d client rows (%v)", payerPayload, payers, err)
	}

	// The CSV: payload referrers present, leading = + - @ neutralised.
	b, err := os.ReadFile(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, r := range recs[1:] {
		names[r[0]] = true
		for _, v := range r {
			if v != "" && strings.ContainsRune("=+-@", rune(v[0])) && !isNumber(v) {
				t.Errorf("CSV cell %q starts with a formula character", v)
			}
		}
	}
	for _, p := range e2ePayloads {
		want := p
		if strings.ContainsRune("=+-@", rune(p[0])) {
			want = "'" + p
		}
		if !names[want] {
			t.Errorf("CSV does not hold referrer %q", want)
		}
	}

	// The HTML in a real browser, network off.
	bp := openInBrowser(t, html)
	body, err := chromedp.Run(bp.ctx, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range shown {
		if !strings.Contains(body, strings.TrimSpace(p)) {
			t.Errorf("page does not show %q as text", p)
		}
	}
	xss, err := chromedp.Run(bp.ctx, chromedp.Evaluate[bool](`window.__xss !== undefined`))
	if err != nil {
		t.Fatal(err)
	}
	if xss {
		t.Error("a payload ran: window.__xss is set")
	}
	bp.check(t)
}

func isNumber(s string) bool {
	_, err := fmt.Sscanf(s, "%f", new(float64))
	return err == nil
}
