package reports

import (
	"context"
	"fmt"
	stdhtml "html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

func writeFixtureHTML(t *testing.T) (string, string) {
	t.Helper()
	db := openFixtureDB(t)
	month := reportMonth(t, db)
	path := filepath.Join(t.TempDir(), "referrals-"+month.Format("2006-01")+".html")
	if err := WriteHTML(context.Background(), db, month, path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, string(b)
}

// TestHTMLFile checks the page as a file: self-contained, escaped, small.
func TestHTMLFile(t *testing.T) {
	_, page := writeFixtureHTML(t)
	if len(page) > 3<<20 {
		t.Errorf("page is %d bytes, over 3 MB", len(page))
	}
	if strings.Count(page, echartsJS) != 1 {
		t.Fatal("page does not embed ECharts exactly once")
	}
	// The page without the library: ECharts' own code builds markup in strings (its SVG export).
	html := strings.Replace(page, echartsJS, "", 1)
	// Nothing is loaded from anywhere: no element with a src or href to another file or host.
	ext := regexp.MustCompile(`(?i)<(script|link|img|iframe|object|embed|source|video|audio)\b[^>]*\b(src|href|data)\s*=`)
	if m := ext.FindString(html); m != "" {
		t.Errorf("page loads a resource: %s", m)
	}
	if strings.Count(html, "<script") != 3 {
		t.Errorf("page should hold the data, the embedded ECharts and the glue script")
	}
	// The payloads never reach the page as markup.
	for _, raw := range []string{`</script><img`, `<svg onload`, `<img src=x onerror`} {
		if strings.Contains(html, raw) {
			t.Errorf("page contains raw %q", raw)
		}
	}
	for _, want := range []string{`&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;`, `&#34;&gt;&lt;svg onload=alert(1)&gt;`} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks the escaped text %q", want)
		}
	}
	for _, id := range []string{"chart-volume", "chart-stages", "chart-flow", "chart-transitions", "introductions",
		"watch-stalled", "watch-cooling", "watch-lapsed", "watch-regressed", "referrers"} {
		if !strings.Contains(html, `id="`+id+`"`) {
			t.Errorf("page lacks #%s", id)
		}
	}
}

// chromiumPath finds the browser, or skips: unless REFERRALS_REQUIRE_BROWSER=1, where a missing
// browser fails the test so that CI cannot pass by skipping.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	msg := "chromium not found: install it (apt-get install -y chromium) to run the browser test"
	if os.Getenv("REFERRALS_REQUIRE_BROWSER") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

type canvasInfo struct {
	ID      string `json:"id"`
	Width   int    `json:"w"`
	Height  int    `json:"h"`
	Painted int    `json:"painted"`
}

// browserPage is a report page opened from a file:// URL in headless Chromium with the
// network off, recording every request, dialog, console error and exception.
type browserPage struct {
	ctx      context.Context
	url      string
	mu       sync.Mutex
	requests []string
	dialogs  []string
	problems []string
}

func openInBrowser(t *testing.T, path string) *browserPage {
	t.Helper()
	bin := chromiumPath(t)
	bp := &browserPage{url: "file://" + path}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	allocOpts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, allocOpts...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelBrowser)
	bp.ctx = bctx

	dialogOpened := make(chan struct{}, 16)
	if err := chromedp.Listen(bctx, func(ev any) {
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			bp.mu.Lock()
			bp.requests = append(bp.requests, e.Request.URL)
			bp.mu.Unlock()
		case *page.EventJavascriptDialogOpening:
			bp.mu.Lock()
			bp.dialogs = append(bp.dialogs, fmt.Sprintf("%s: %q", e.Type, e.Message))
			bp.mu.Unlock()
			select {
			case dialogOpened <- struct{}{}:
			default:
			}
		}
	}); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	// A dialog blocks the page; close it from another goroutine (never from the listener).
	go func() {
		for {
			select {
			case <-bctx.Done():
				return
			case <-dialogOpened:
				_, _ = chromedp.Call(bctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
			}
		}
	}()
	messages := chromedp.Console(bctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException {
				bp.mu.Lock()
				bp.problems = append(bp.problems, fmt.Sprintf("%s: %s", m.Type, m.Text))
				bp.mu.Unlock()
			}
		}
	}()

	offline := []*network.Conditions{{Offline: true, DownloadThroughput: -1, UploadThroughput: -1}}
	if _, err := chromedp.Call(bctx, network.EmulateNetworkConditionsByRule,
		network.EmulateNetworkConditionsByRuleParams{MatchedNetworkConditions: offline}); err != nil {
		t.Fatalf("take the network offline: %v", err)
	}
	if _, err := chromedp.Call(bctx, network.OverrideNetworkState,
		network.OverrideNetworkStateParams{Offline: true, DownloadThroughput: -1, UploadThroughput: -1}); err != nil {
		t.Fatalf("take the network offline: %v", err)
	}
	if err := chromedp.Do(bctx, chromedp.Navigate(bp.url)); err != nil {
		t.Fatalf("open %s: %v", bp.url, err)
	}
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](
		`window.referralCharts !== undefined && window.referralCharts.length === document.querySelectorAll("div.chart").length`,
		chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatalf("charts were not set up: %v", err)
	}
	return bp
}

// check fails the test for every dialog, console error, exception and request that went
// anywhere but the file itself or a data: URL.
func (bp *browserPage) check(t *testing.T) {
	t.Helper()
	if _, err := chromedp.Run(bp.ctx, chromedp.Sleep(300*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	bp.mu.Lock()
	defer bp.mu.Unlock()
	for _, d := range bp.dialogs {
		t.Errorf("a dialog opened (a payload ran): %s", d)
	}
	for _, p := range bp.problems {
		t.Errorf("console: %s", p)
	}
	if len(bp.requests) == 0 {
		t.Error("no request recorded: the network listener saw nothing, so this check cannot fail")
	}
	for _, u := range bp.requests {
		if u != bp.url && !strings.HasPrefix(u, "data:") {
			t.Errorf("the page requested %s", u)
		}
	}
}

// TestHTMLInBrowser opens the page from a file:// URL in headless Chromium with the network
// off and checks that it draws every chart, logs no error, loads nothing and runs no payload.
func TestHTMLInBrowser(t *testing.T) {
	path, _ := writeFixtureHTML(t)
	bp := openInBrowser(t, path)
	bctx := bp.ctx

	canvases, err := chromedp.Run(bctx, chromedp.Evaluate[[]canvasInfo](`
Array.from(document.querySelectorAll("div.chart")).map(function (el) {
  var c = el.querySelector("canvas");
  if (!c || c.width === 0 || c.height === 0) { return {id: el.id, w: c ? c.width : 0, h: c ? c.height : 0, painted: 0}; }
  var d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data, n = 0;
  for (var i = 3; i < d.length; i += 4) { if (d[i] !== 0) { n++; } }
  return {id: el.id, w: c.width, h: c.height, painted: n};
})`))
	if err != nil {
		t.Fatal(err)
	}
	if len(canvases) != 4 {
		t.Errorf("found %d chart containers, want 4", len(canvases))
	}
	for _, c := range canvases {
		if c.Width == 0 || c.Height == 0 || c.Painted < 1000 {
			t.Errorf("chart %s is not drawn: canvas %dx%d with %d painted pixels", c.ID, c.Width, c.Height, c.Painted)
		}
	}

	// Show every tooltip: ECharts builds them as HTML from the names in the data.
	tooltips, err := chromedp.Run(bctx, chromedp.Evaluate[string](`
(function () {
  var text = "";
  window.referralCharts.forEach(function (chart) {
    var el = chart.getDom();
    (chart.getOption().series || []).forEach(function (s, si) {
      var n = (s.data || []).length;
      for (var i = 0; i < n; i++) {
        chart.dispatchAction({type: "showTip", seriesIndex: si, dataIndex: i});
        text += el.innerText + "\n";
      }
      var links = (s.links || []).length;
      for (var j = 0; j < links; j++) {
        chart.dispatchAction({type: "showTip", seriesIndex: si, dataIndex: j, dataType: "edge"});
        text += el.innerText + "\n";
      }
    });
    chart.dispatchAction({type: "hideTip"});
  });
  return text;
})()`))
	if err != nil {
		t.Fatal(err)
	}
	bodyText, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range hostileNames {
		if !strings.Contains(bodyText, name) {
			t.Errorf("payload %q is not shown as text", name)
		}
	}
	if !regexp.MustCompile(`Riverside Community Hospital[^\n]{250,}`).MatchString(bodyText) {
		t.Error("the 300-character referrer name is not shown")
	}
	flowNames, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](
		`echarts.getInstanceByDom(document.getElementById("chart-flow")).getOption().series[0].data.map(function (d) { return d.name; })`))
	if err != nil {
		t.Fatal(err)
	}
	inFlow := 0
	for _, name := range hostileNames {
		for _, n := range flowNames {
			if n == name {
				inFlow++
				if !strings.Contains(tooltips, name) {
					t.Errorf("the tooltip of %q does not show it as text", name)
				}
			}
		}
	}
	if inFlow == 0 || !slices.Contains(flowNames, hostileNames[0]) {
		t.Errorf("%q does not reach the referrer Sankey: the path through the chart data is untested", hostileNames[0])
	}
	xss, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`window.__xss !== undefined`))
	if err != nil {
		t.Fatal(err)
	}
	if xss {
		t.Error("a payload ran: window.__xss is set")
	}

	if dir := os.Getenv("REFERRALS_SCREENSHOTS"); dir != "" {
		for _, id := range []string{"chart-volume-section", "chart-flow-section", "chart-transitions-section", "introductions", "watch-stalled", "referrers"} {
			png, err := chromedp.Run(bctx, chromedp.Screenshot(chromedp.ID(id)))
			if err == nil {
				_ = os.WriteFile(filepath.Join(dir, id+".png"), png, 0o644)
			}
		}
		if png, err := chromedp.Run(bctx, chromedp.CaptureScreenshot()); err == nil {
			_ = os.WriteFile(filepath.Join(dir, "top.png"), png, 0o644)
		}
	}

	bp.check(t)
}

// TestEmptyTables writes every report from tables that exist but hold no rows, as on the first
// night of a new installation: nothing may fail, and the page must still draw without errors.
func TestEmptyTables(t *testing.T) {
	db := openFixtureDB(t)
	month := reportMonth(t, db)
	for _, table := range []string{"referrals", "referrer_months", "referrer_status", "stage_transitions", "introductions",
		"watch_list", "follow_through_referrer", "follow_through_clinician", "referrer_value", "monthly_volume",
		"ingest_files", "ingest_problems", "rejected_rows", "stg_clinician_spellings",
		"stg_referrer_spellings", "referrer_near_duplicates", "stg_unknown_statuses"} {
		if _, err := db.Exec("DELETE FROM " + table); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	ctx := context.Background()
	ym := month.Format("2006-01")
	if err := WriteWorkbook(ctx, db, month, filepath.Join(dir, "referrals-"+ym+".xlsx")); err != nil {
		t.Fatal(err)
	}
	if err := WriteHTML(ctx, db, month, filepath.Join(dir, "referrals-"+ym+".html")); err != nil {
		t.Fatal(err)
	}
	if err := WriteReferrerCSV(ctx, db, month, filepath.Join(dir, "referrers-"+ym+".csv")); err != nil {
		t.Fatal(err)
	}
	if err := WriteIndex(dir); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "referrers-"+ym+".csv"))
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(string(b)), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], "\ufeffreferrer,category,") {
		t.Errorf("empty CSV = %q, want the header only", b)
	}
	html := filepath.Join(dir, "referrals-"+ym+".html")
	page, _ := os.ReadFile(html)
	if !strings.Contains(string(page), "None this month.") || strings.Contains(string(page), `"data":null`) {
		t.Error("empty page does not say the lists are empty, or hands ECharts null data")
	}
	openInBrowser(t, html).check(t)
}

// A stage that rests on fewer referrals than the low-evidence threshold is marked * on
// the page, as the workbook's and the CSV's low-evidence columns mark it, and the note
// says what the mark means.
func TestHTMLMarksLowEvidence(t *testing.T) {
	db := openFixtureDB(t)
	month := reportMonth(t, db)
	path := filepath.Join(t.TempDir(), "referrals.html")
	if err := WriteHTML(context.Background(), db, month, path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	if !strings.Contains(page, "A stage marked * is low evidence: fewer than 3 referrals in the window.") {
		t.Error("the page does not say what * means")
	}
	// The Active referrers table: one row per referrer, its name first and its stage third.
	start := strings.Index(page, `id="referrers"`)
	if start < 0 {
		t.Fatal("no Active referrers table")
	}
	table := page[start:]
	table = table[:strings.Index(table, "</table>")]
	row := regexp.MustCompile(`<tr><td class="name">([^<]*)</td><td>[^<]*</td><td><span class="stage s\d">(\d\*?)</span>`)
	got := map[string]string{}
	for _, m := range row.FindAllStringSubmatch(table, -1) {
		got[stdhtml.UnescapeString(m[1])] = m[2]
	}
	rows, err := db.Query(`SELECT referrer, stage, low_evidence FROM referrer_status WHERE referrals > 0 AND stage IS NOT NULL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var low, sure int
	for rows.Next() {
		var name string
		var stage int
		var lowEvidence bool
		if err := rows.Scan(&name, &stage, &lowEvidence); err != nil {
			t.Fatal(err)
		}
		badge, shown := got[name]
		if !shown {
			continue // beyond the rows the page shows
		}
		want := fmt.Sprint(stage)
		if lowEvidence {
			want += "*"
			low++
		} else {
			sure++
		}
		if badge != want {
			t.Errorf("%s: badge %q, want %q", name, badge, want)
		}
	}
	if low == 0 || sure == 0 {
		t.Errorf("the fixture's page shows %d low-evidence and %d other staged referrers: want both", low, sure)
	}
}
