package reports

import (
	"context"
	stdhtml "html"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/xuri/excelize/v2"
)

// A share halfway between two whole percentages (1 of 8 referrals: 12.5%) must read the same
// on the page as in the workbook (12.5%) and in explain (13%): halves round up, as a reader
// rounds 12.5% and as explain does, not to the even 12%.
func TestHTMLSharesRoundHalvesUpAsTheWorkbookReads(t *testing.T) {
	db := openFixtureDB(t)
	month := reportMonth(t, db)
	ctx := context.Background()

	// Two active referrers get shares that sit on a half: 1/8 and 5/8.
	want := map[string]string{}
	rows, err := db.Query(`SELECT referrer FROM referrer_status WHERE referrals > 0 AND stage IS NOT NULL
        ORDER BY referrals DESC, referrer LIMIT 2`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	rows.Close()
	if len(names) != 2 {
		t.Fatalf("the fixture has %d active referrers, want 2", len(names))
	}
	for i, share := range []float64{0.125, 0.625} {
		if _, err := db.Exec(`UPDATE referrer_status SET point_person_share = ? WHERE referrer = ?`, share, names[i]); err != nil {
			t.Fatal(err)
		}
	}
	want[names[0]], want[names[1]] = "13%", "63%"

	dir := t.TempDir()
	xlsx := filepath.Join(dir, "referrals.xlsx")
	page := filepath.Join(dir, "referrals.html")
	if err := WriteWorkbook(ctx, db, month, xlsx); err != nil {
		t.Fatal(err)
	}
	if err := WriteHTML(ctx, db, month, page); err != nil {
		t.Fatal(err)
	}

	// The workbook, reopened, shows the exact halves.
	f, err := excelize.OpenFile(xlsx)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sheet, err := f.GetRows("Referrers")
	if err != nil {
		t.Fatal(err)
	}
	col := -1
	for i, h := range sheet[0] {
		if h == "Point-person share" {
			col = i
		}
	}
	if col < 0 {
		t.Fatal("no Point-person share column on the Referrers sheet")
	}
	inBook := map[string]string{}
	for _, r := range sheet[1:] {
		if len(r) > col {
			inBook[r[0]] = r[col]
		}
	}
	if inBook[names[0]] != "12.5%" || inBook[names[1]] != "62.5%" {
		t.Fatalf("the workbook shows %q and %q, want 12.5%% and 62.5%%", inBook[names[0]], inBook[names[1]])
	}

	// The page's Active referrers table: name first, point-person share seventh.
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile(`<tr><td class="name">([^<]*)</td>(?:<td[^>]*>.*?</td>){5}<td class="num">([^<]*)</td>`)
	got := map[string]string{}
	for _, m := range row.FindAllStringSubmatch(string(b), -1) {
		got[stdhtml.UnescapeString(m[1])] = m[2]
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s: the page shows a point-person share of %q where the workbook shows %s: want %q",
				name, got[name], inBook[name], w)
		}
	}
	for in, w := range map[float64]string{0.125: "13%", 0.625: "63%", 0.375: "38%", -0.125: "-13%", 0.5: "50%"} {
		if g := fmtPct(in); g != w {
			t.Errorf("fmtPct(%v) = %q, want %q", in, g, w)
		}
	}
}

// A half whose product by 100 lands just under it in floating point (23/40 is
// 57.49999999999999 × 100) still rounds up: the workbook shows 57.5%.
func TestFmtPctHalvesInFloatingPoint(t *testing.T) {
	for _, c := range []struct {
		k, n float64
		want string
	}{{23, 40, "58%"}, {29, 200, "15%"}, {1, 8, "13%"}, {1, 3, "33%"}, {2, 3, "67%"}, {0, 5, "0%"}, {5, 5, "100%"}} {
		if got := fmtPct(c.k / c.n); got != c.want {
			t.Errorf("fmtPct(%v/%v) = %s, want %s", c.k, c.n, got, c.want)
		}
	}
}
