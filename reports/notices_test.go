package reports

import (
	"context"
	"database/sql"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/referrals/referrals/internal/stagetest"
	"github.com/referrals/referrals/pipeline"
	"github.com/xuri/excelize/v2"
)

// copySample copies sample-data into a temporary folder the test may add files to.
func copySample(t *testing.T) string {
	t.Helper()
	src := filepath.Join("..", "sample-data")
	dst := filepath.Join(t.TempDir(), "data")
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		out := filepath.Join(dst, rel)
		if err := os.WriteFile(out, b, 0o644); err != nil {
			return err
		}
		return os.Chtimes(out, info.ModTime(), info.ModTime())
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// sheetRows is the rows of a sheet of the workbook at path, reopened.
func sheetRows(t *testing.T, path, sheet string) [][]string {
	t.Helper()
	_, rows := openSheet(t, path, sheet)
	return rows
}

// openSheet opens the workbook at path, closed when the test ends, and reads one
// sheet's rows.
func openSheet(t *testing.T, path, sheet string) (*excelize.File, [][]string) {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	rows, err := f.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	return f, rows
}

// overviewTop is the Overview's first rows, one string per row.
func overviewTop(t *testing.T, path string, n int) []string {
	t.Helper()
	rows := sheetRows(t, path, "Overview")
	var out []string
	for i := 0; i < n && i < len(rows); i++ {
		out = append(out, strings.Join(rows[i], " | "))
	}
	return out
}

// TestPartialDataBanner: a run in which an export file failed writes its reports from what
// loaded; the Overview sheet and the page say so at the top, naming the file, until a run
// meets no failure. The check holds whatever DuckDB's time zone (the failure is recorded in
// local time, the run's end in UTC), and the page's cached copy follows the banner.
func TestPartialDataBanner(t *testing.T) {
	ctx := context.Background()
	data := copySample(t)
	bad := filepath.Join(data, "exports", "billing", "claims-broken.csv")
	if err := os.WriteFile(bad, []byte("this is not,a claims export\n1,2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const secret = "banner-test"
	db := stagetest.RunSample(t, data, sampleMonth, secret)
	// The nights run in different zones (cron in one, an admin's shell in another): a
	// failure recorded in Tokyo's local time read as newer than New York's next run for
	// 14 hours, and in Honolulu's as older than the run that ended before it.
	night := func(zone string) {
		t.Helper()
		if _, err := db.ExecContext(ctx, `SET GLOBAL TimeZone = '`+zone+`'`); err != nil {
			t.Fatal(err)
		}
		if err := pipeline.Finish(ctx, db, pipeline.RunRecord{Command: "run", Started: time.Now(), Month: sampleMonth}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
		if _, err := (&pipeline.Ingester{DB: db, Config: stagetest.SampleConfig(data), Secret: []byte(secret)}).Ingest(ctx); err != nil {
			t.Fatal(err)
		}
	}
	night("Asia/Tokyo") // the file fails again on the next night

	dir := t.TempDir()
	cache := filepath.Join(dir, "cache")
	write := func(name string) (xlsx, page string) {
		t.Helper()
		return writeSampleReports(t, db, filepath.Join(dir, name), cache)
	}
	const want = "Incomplete figures: 1 export file could not be loaded when this report was made: " +
		"exports/billing/claims-broken.csv (billing). Its rows are missing from every figure in this report " +
		"until it is fixed and the run is repeated;"
	xlsx, page := write("failed")
	top := overviewTop(t, xlsx, 3)
	if len(top) < 2 || !strings.HasPrefix(top[1], want) || !strings.Contains(top[1], `the Data quality sheet ("Files that failed")`) {
		t.Errorf("Overview row 2 = %q, want the banner %q…", top[1:], want)
	}
	f, err := excelize.OpenFile(xlsx)
	if err != nil {
		t.Fatal(err)
	}
	merged, _ := f.GetMergeCells("Overview")
	f.Close()
	if len(merged) == 0 || merged[0].GetStartAxis() != "A2" || merged[0].GetEndAxis() != "G2" {
		t.Errorf("the banner is not across A2:G2: merged cells %v", merged)
	}
	if quality := failedFilesListed(t, xlsx); len(quality) != 1 || !strings.HasPrefix(quality[0], "billing | exports/billing/claims-broken.csv | no column for required field") {
		t.Errorf("Data quality lists under \"Files that failed\" %q, want the broken file", quality)
	}
	i := strings.Index(page, `<p class="banner" role="alert">`+want)
	if i < 0 || i > strings.Index(page, `<div class="kpis">`) {
		t.Errorf("the page does not open with the banner %q", want)
	}

	// The file is removed; the next night loads everything there is: no banner, and the
	// Data quality sheet no longer lists the file, which no longer fails.
	if err := os.Remove(bad); err != nil {
		t.Fatal(err)
	}
	night("America/New_York")
	xlsx, page = write("fixed")
	top = overviewTop(t, xlsx, 3)
	if strings.Contains(strings.Join(top, "\n"), "Incomplete figures") || strings.Contains(page, `class="banner"`) {
		t.Errorf("a night without failures still shows the banner: %q", top)
	}
	if !strings.HasPrefix(top[1], "Window: ") {
		t.Errorf("Overview row 2 = %q, want the window line", top[1])
	}
	if n := count(t, db, `SELECT count(*) FROM ingest_problems`); n != 0 {
		t.Errorf("ingest_problems holds %d rows, want none: the removed file no longer fails", n)
	}
	if quality := failedFilesListed(t, xlsx); len(quality) != 0 {
		t.Errorf("the Data quality sheet still lists files that failed: %q", quality)
	}
}

// failedFilesListed is the rows the Data quality sheet of the workbook at path, reopened,
// lists under "Files that failed", one string per row.
func failedFilesListed(t *testing.T, path string) []string {
	t.Helper()
	var out []string
	in := false
	for _, r := range sheetRows(t, path, "Data quality") {
		line := strings.Join(r, " | ")
		switch {
		case len(r) > 0 && strings.HasPrefix(r[0], "Files that failed"):
			in = true
		case !in:
		case line == "" || len(r) > 0 && strings.HasPrefix(r[0], "Unresolved clinician names"):
			return out
		case len(r) > 0 && (r[0] == "Source" || r[0] == "None." || strings.HasPrefix(r[0], "Files that could not")):
		default:
			out = append(out, line)
		}
	}
	return out
}

// TestPatternMatchingNoFileBanner: a file pattern of the configuration that matches no
// file (a share not mounted) is as much a hole in the figures as a file that failed: the
// Overview sheet and the page say so at the top, naming the pattern, and the Data quality
// sheet lists it with what to check, while it matches nothing, and no longer once it
// matches again or is taken out of the configuration.
func TestPatternMatchingNoFileBanner(t *testing.T) {
	ctx := context.Background()
	data := copySample(t)
	const secret = "pattern-banner-test"
	db := stagetest.RunSample(t, data, sampleMonth, secret)
	share := filepath.Join(data, "share")
	if err := os.MkdirAll(share, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := stagetest.SampleConfig(data)
	cfg.Billing.Files = append(cfg.Billing.Files, "share/*.csv")
	night := func() pipeline.IngestSummary {
		t.Helper()
		if err := pipeline.Finish(ctx, db, pipeline.RunRecord{Command: "run", Started: time.Now(), Month: sampleMonth}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
		sum, err := (&pipeline.Ingester{DB: db, Config: cfg, Secret: []byte(secret)}).Ingest(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return sum
	}
	dir := t.TempDir()
	cache := filepath.Join(dir, "cache")
	write := func(name string) (xlsx, page string) {
		t.Helper()
		return writeSampleReports(t, db, filepath.Join(dir, name), cache)
	}
	if sum := night(); sum.Count("missing") != 1 {
		t.Fatalf("the empty share's pattern does not match nothing: %+v", sum.Files)
	}
	pattern := filepath.Join("share", "*.csv")
	want := "Incomplete figures: 1 file pattern of the configuration matched no file when this report was made: " +
		pattern + " (billing). The exports it should find (a folder not mounted, files moved?) are missing from every figure " +
		"in this report until it matches them again and the run is repeated;"
	xlsx, page := write("empty-share")
	top := overviewTop(t, xlsx, 3)
	if len(top) < 2 || !strings.HasPrefix(top[1], want) || !strings.Contains(top[1], `the Data quality sheet ("Files that failed") says what to check for it.`) {
		t.Errorf("Overview row 2 = %q, want the banner %q…", top[1:], want)
	}
	if i := strings.Index(page, `<p class="banner" role="alert">`+want); i < 0 || i > strings.Index(page, `<div class="kpis">`) {
		t.Errorf("the page does not open with the banner %q", want)
	}
	quality := failedFilesListed(t, xlsx)
	if len(quality) != 1 || !strings.HasPrefix(quality[0], "billing | "+pattern+" | matches no file: ") ||
		!strings.Contains(quality[0], "mounted") || !strings.Contains(quality[0], "[billing] files") {
		t.Errorf("Data quality lists under \"Files that failed\" %q, want the pattern and what to check", quality)
	}

	// The share is back (a copy of an export already loaded: nothing new to load).
	b, err := os.ReadFile(filepath.Join(data, "exports", "billing", "claims-2026-Q3.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(share, "claims.csv"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if sum := night(); sum.Count("missing") != 0 || sum.Count("failed") != 0 {
		t.Fatalf("with the share back: %+v", sum.Files)
	}
	xlsx, page = write("share-back")
	if top := overviewTop(t, xlsx, 3); strings.Contains(strings.Join(top, "\n"), "Incomplete figures") || strings.Contains(page, `class="banner"`) {
		t.Errorf("the share is back, yet a banner: %q", top)
	}
	if quality := failedFilesListed(t, xlsx); len(quality) != 0 {
		t.Errorf("the share is back, yet Data quality lists %q", quality)
	}

	// Empty again, then taken out of the configuration.
	if err := os.Remove(filepath.Join(share, "claims.csv")); err != nil {
		t.Fatal(err)
	}
	if sum := night(); sum.Count("missing") != 1 {
		t.Fatalf("the share empty again: %+v", sum.Files)
	}
	cfg.Billing.Files = cfg.Billing.Files[:1]
	night()
	xlsx, page = write("pattern-gone")
	if top := overviewTop(t, xlsx, 3); strings.Contains(strings.Join(top, "\n"), "Incomplete figures") || strings.Contains(page, `class="banner"`) {
		t.Errorf("the pattern is out of the configuration, yet a banner: %q", top)
	}
	if quality := failedFilesListed(t, xlsx); len(quality) != 0 {
		t.Errorf("the pattern is out of the configuration, yet Data quality lists %q", quality)
	}
}

// TestBannerNamesFilesAndPatterns: a night with both a file that failed and a pattern that
// matched nothing counts each, and marks the pattern among the names.
func TestBannerNamesFilesAndPatterns(t *testing.T) {
	got := partialDataBanner([]failedFile{{source: "billing", path: "exports/billing/bad.csv"},
		{source: "scheduling", path: "share/*.csv", pattern: true}}, "the sheet")
	want := "Incomplete figures: 1 export file could not be loaded and 1 file pattern of the configuration matched no file " +
		"when this report was made: exports/billing/bad.csv (billing), share/*.csv (scheduling, matches no file). " +
		"Their rows are missing from every figure in this report until they are fixed and the run is repeated; the sheet says what is wrong with each."
	if got != want {
		t.Errorf("banner =\n%s\nwant\n%s", got, want)
	}
	got = partialDataBanner([]failedFile{{source: "billing", path: "a/*.csv", pattern: true}, {source: "scheduling", path: "b/*.csv", pattern: true}}, "the sheet")
	if !strings.HasPrefix(got, "Incomplete figures: 2 file patterns of the configuration matched no file when this report was made: a/*.csv (billing), b/*.csv (scheduling). The exports they should find") ||
		!strings.HasSuffix(got, "until they match them again and the run is repeated; the sheet says what to check for each.") {
		t.Errorf("banner for two patterns = %q", got)
	}
}

// TestNoBannerWithoutFailures: the sample loads whole, so neither report carries a banner.
func TestNoBannerWithoutFailures(t *testing.T) {
	db := stagetest.RunSample(t, filepath.Join("..", "sample-data"), sampleMonth, "cache-test")
	failed, err := loadFailedFiles(context.Background(), db)
	if err != nil || len(failed) != 0 {
		t.Errorf("failed files = %v, %v; want none", failed, err)
	}
	if got := partialDataBanner(nil, "x"); got != "" {
		t.Errorf("banner without failed files = %q", got)
	}
	var files []failedFile
	for _, p := range []string{"a.csv", "b.csv", "c.csv", "d.csv", "e.csv"} {
		files = append(files, failedFile{source: "billing", path: p})
	}
	got := partialDataBanner(files, "the sheet")
	if !strings.Contains(got, "5 export files could not be loaded") || !strings.Contains(got, "c.csv (billing), and 2 more. Their rows") ||
		!strings.Contains(got, "until the files are fixed and the run is repeated; the sheet says what is wrong with each.") ||
		strings.Contains(got, "d.csv") {
		t.Errorf("banner for five files = %q", got)
	}
}

// TestMonthWithoutData: a report month before the exports start (--month 2023-06 on the
// sample) says so in one sentence at the top of both reports, and every chart of the page
// is a sentence rather than an empty box; the Overview's charts say so in their titles.
func TestMonthWithoutData(t *testing.T) {
	month := time.Date(2023, 6, 1, 0, 0, 0, 0, time.UTC)
	db := stagetest.RunSample(t, filepath.Join("..", "sample-data"), month, "cache-test")
	xlsx, html := writeWorkbookAndPage(t, db, month)
	const want = "The exports start in July 2023; this month has no referrals, so every figure in this report is empty."
	if top := overviewTop(t, xlsx, 3); len(top) < 2 || top[1] != want {
		t.Errorf("Overview rows 1-3 = %q, want row 2 %q", top, want)
	}
	parts := zipParts(t, xlsx)
	charts := parts["xl/charts/chart1.xml"] + parts["xl/charts/chart2.xml"]
	for _, title := range []string{"no referral in these months", "no active referrer at these month ends"} {
		if !strings.Contains(charts, title) {
			t.Errorf("the Overview's charts do not say %q", title)
		}
	}
	b, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	if !strings.Contains(page, `<p class="banner notice">`+want+`</p>`) {
		t.Errorf("the page does not open with %q", want)
	}
	if strings.Contains(page, `class="chart"`) || strings.Count(page, `<p class="empty-chart"`) != 4 {
		t.Errorf("the page draws empty charts: want 4 sentences in their place, got %d", strings.Count(page, `<p class="empty-chart"`))
	}
	for _, s := range []string{"No referral in the 24 months to June 2023: there is nothing to chart.",
		"No referral from a referrer in the window: there is nothing to chart."} {
		if !strings.Contains(page, s) {
			t.Errorf("the page lacks %q", s)
		}
	}
	openInBrowser(t, html).check(t)

	// A month with referrals carries no such notice.
	if got := (overview{period: period{month: sampleMonth}, volume: []volumeMonth{{total: 3}}}).noDataNotice(); got != "" {
		t.Errorf("notice for a month with referrals = %q", got)
	}
	// A month after the last referral does not say the exports end: it may hold
	// follow-up appointments, which the referrals cannot tell.
	last := sql.NullTime{Time: sampleMonth, Valid: true}
	o := overview{period: period{month: sampleMonth.AddDate(0, 1, 0)}, volume: []volumeMonth{{total: 0}}, dataFrom: last, dataTo: last}
	if got, want := o.noDataNotice(), "No referral came in this month: the last came in October 2026."; got != want {
		t.Errorf("notice after the last referral = %q, want %q", got, want)
	}
}

// TestCountAxesAreWhole: the referrals and referrers axes step by whole numbers, so a
// month of one or two referrals does not show 0.5 on the axis.
func TestCountAxesAreWhole(t *testing.T) {
	_, page := writeFixtureHTML(t)
	for _, id := range []string{"chart-volume", "chart-stages"} {
		i := strings.Index(page, `"id":"`+id+`"`)
		if i < 0 {
			t.Fatalf("no chart data for %s", id)
		}
		option := page[i+1:]
		if end := strings.Index(option, `"id":"`); end > 0 {
			option = option[:end] // up to the next chart
		}
		y := strings.Index(option, `"yAxis":`)
		if y < 0 || !strings.Contains(option[y:], `"minInterval":1`) {
			t.Errorf("%s: the y axis has no minInterval 1", id)
		}
	}
}

// writeSampleReports writes the sample month's workbook and page (through the
// report cache in cache) as base.xlsx and base.html, and returns the workbook's
// path and the page's text.
func writeSampleReports(t *testing.T, db *sql.DB, base, cache string) (xlsx, page string) {
	t.Helper()
	ctx := context.Background()
	xlsx, html := base+".xlsx", base+".html"
	if err := WriteWorkbook(ctx, db, sampleMonth, xlsx); err != nil {
		t.Fatal(err)
	}
	if err := WriteHTMLCached(ctx, db, sampleMonth, html, cache); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	return xlsx, string(b)
}
