package reports

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/referrals/referrals/internal/stagetest"
	"github.com/referrals/referrals/pipeline"
)

// The watch lists' and introductions' titles state the settings they were made with:
// a practice that sets stalled_months = 4 must not read "6 months" over its list. The
// second pass also proves the cached sheets and page follow a changed setting.
func TestListTitlesFollowTheSettings(t *testing.T) {
	ctx := context.Background()
	data := filepath.Join("..", "sample-data")
	db := stagetest.RunSample(t, data, sampleMonth, "titles")
	dir := t.TempDir()
	cacheDir := filepath.Join(dir, "cache")

	texts := func(name string) (sheet, page string) {
		t.Helper()
		xlsx, html := filepath.Join(dir, name+".xlsx"), filepath.Join(dir, name+".html")
		if err := WriteWorkbookCached(ctx, db, sampleMonth, xlsx, cacheDir); err != nil {
			t.Fatal(err)
		}
		if err := WriteHTMLCached(ctx, db, sampleMonth, html, cacheDir); err != nil {
			t.Fatal(err)
		}
		f, err := excelize.OpenFile(xlsx)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rows, err := f.GetRows(sheetIntroduction)
		if err != nil {
			t.Fatal(err)
		}
		var cells []string
		for _, r := range rows {
			cells = append(cells, strings.Join(r, "\t"))
		}
		b, err := os.ReadFile(html)
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(cells, "\n"), string(b)
	}
	expect := func(what, sheet, page string, want []string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(sheet, w) {
				t.Errorf("%s: the Introductions sheet does not say %q", what, w)
			}
			if !strings.Contains(page, w) {
				t.Errorf("%s: the page does not say %q", what, w)
			}
		}
	}

	sheet, page := texts("defaults")
	expect("defaults", sheet, page, []string{
		"Stalled: at stage 2 for 6 months or more",
		"Cooling: referring at less than half of their usual rate",
		"The last 90 days are below half of the rate of the 9 months before",
		"Lapsed: no referral for 6 months after 3 or more",
		"Stage-1 referrers with 3 or more referrals in the window and one in the last 90 days",
	})

	cfg := stagetest.SampleConfig(data)
	cfg.Stage.StalledMonths = 4
	cfg.Stage.CoolingRatio = 0.4
	cfg.Stage.RecentDays = 60
	cfg.Stage.LapsedMonths = 1
	cfg.Stage.LapsedMinReferrals = 5
	cfg.Stage.ReadyMinReferrals = 2
	if _, err := pipeline.BuildModels(ctx, db, pipeline.ModelVars(cfg, sampleMonth), nil); err != nil {
		t.Fatal(err)
	}
	sheet, page = texts("changed")
	expect("changed settings", sheet, page, []string{
		"Stalled: at stage 2 for 4 months or more",
		"Cooling: referring at less than 40% of their usual rate",
		"The last 60 days are below 40% of the rate of the 9 months before",
		"Lapsed: no referral for 1 month after 5 or more",
		"Stage-1 referrers with 2 or more referrals in the window and one in the last 60 days",
	})
	for _, stale := range []string{"6 months", "90 days", "half"} {
		if strings.Contains(sheet, stale) {
			t.Errorf("changed settings: the Introductions sheet still says %q", stale)
		}
	}
}

func TestRatioWords(t *testing.T) {
	for r, want := range map[float64]string{0.5: "half of", 0.25: "a quarter of", 1.0 / 3: "a third of", 0.4: "40% of", 0.45: "45% of", 0.125: "12.5% of"} {
		if got := ratioWords(r); got != want {
			t.Errorf("ratioWords(%v) = %q, want %q", r, got, want)
		}
	}
}
