package reports

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// guide reads the Overview's "What the columns mean" table of a workbook written from db:
// column (sheet) -> meaning.
func writeGuide(t *testing.T) map[string]string {
	t.Helper()
	db := openFixtureDB(t)
	month := reportMonth(t, db)
	path := filepath.Join(t.TempDir(), "r.xlsx")
	if err := WriteWorkbook(context.Background(), db, month, path); err != nil {
		t.Fatal(err)
	}
	return guideOf(t, path)
}

func guideOf(t *testing.T, path string) map[string]string {
	t.Helper()
	rows := overviewTop(t, path, 1000)
	guide := map[string]string{}
	in := false
	for _, r := range rows {
		cells := strings.SplitN(r, " | ", 2)
		switch {
		case cells[0] == "Column (sheet)":
			in = true
		case in && len(cells) == 2:
			guide[cells[0]] = cells[1]
		case in:
			in = false
		}
	}
	if len(guide) == 0 {
		t.Fatal("no column guide on the Overview")
	}
	return guide
}

// The point-person share counts a referral that asked for the point person by name, whoever
// took the client: the guide and the page say "for the point person", never "went to".
func TestPointPersonShareWording(t *testing.T) {
	guide := writeGuide(t)
	got := guide["Point-person share (Referrers)"]
	for _, want := range []string{"were for the point person", "asked for by name", "assigned to them when no clinician was named",
		"even if a colleague took the client"} {
		if !strings.Contains(got, want) {
			t.Errorf("guide: Point-person share = %q, lacks %q", got, want)
		}
	}
	_, page := writeFixtureHTML(t)
	if strings.Contains(page, "went to the point person") || !strings.Contains(page, ppShareMeaning) {
		t.Error("the page says the share is what went to the point person, or does not say what it counts")
	}
}

// Effective clinicians is 1 / COC and can exceed the clinicians count: the guide says so.
func TestEffectiveCliniciansWording(t *testing.T) {
	got := writeGuide(t)["Effective clinicians (Referrers)"]
	for _, want := range []string{"1 / COC", "an estimate of how widely they would spread with more, and can exceed Clinicians", "4 and 3 referrals to two clinicians give 2.3"} {
		if !strings.Contains(got, want) {
			t.Errorf("guide: Effective clinicians = %q, lacks %q", got, want)
		}
	}
}
