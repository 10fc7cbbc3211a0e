package reports

import (
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// pageWidths are the widths the page is read at: a phone, a printed A4 page (about 700 CSS
// pixels inside its margins), a tablet, a laptop.
var pageWidths = []int64{390, 700, 768, 1280}

// atWidth lays the page out at width CSS pixels, as a device of that width would, and
// lets the charts follow.
func (bp *browserPage) atWidth(t *testing.T, width int64) {
	t.Helper()
	if _, err := chromedp.Call(bp.ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
		Width: width, Height: 900, DeviceScaleFactor: 1, Mobile: width < 600}); err != nil {
		t.Fatalf("lay the page out at %d pixels: %v", width, err)
	}
	if _, err := chromedp.Run(bp.ctx, chromedp.Sleep(400*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
}

type chartBox struct {
	ID      string  `json:"id"`
	Legend  bool    `json:"legend"`
	AxisEnd float64 `json:"axisEnd"` // the bottom of the month labels
	Top     float64 `json:"top"`     // the top of the legend
}

// TestChartLegendsClearTheMonths: the legend under the two bar and line charts wraps onto
// more lines on a narrow page, and was drawn over the month labels and the bars at a
// phone's and a tablet's width (and on a printed page). At every width it now lies below
// the labels.
func TestChartLegendsClearTheMonths(t *testing.T) {
	path, _ := writeFixtureHTML(t)
	bp := openInBrowser(t, path)
	for _, w := range pageWidths {
		bp.atWidth(t, w)
		// ECharts keeps each component's drawing in a view; its rectangle, placed, is
		// where the legend and the axis (line and labels) were drawn.
		boxes, err := chromedp.Run(bp.ctx, chromedp.Evaluate[[]chartBox](`
window.referralCharts.map(function (chart) {
  var out = {id: chart.getDom().id, legend: false, axisEnd: 0, top: 0};
  chart._componentsViews.forEach(function (v) {
    var type = v.__model && v.__model.mainType;
    if (type !== "legend" && type !== "xAxis") { return; }
    var r = v.group.getBoundingRect().clone();
    r.applyTransform(v.group.getLocalTransform());
    if (type === "legend") { out.legend = true; out.top = r.y + 5; } // less the legend's padding
    else { out.axisEnd = Math.max(out.axisEnd, r.y + r.height); }
  });
  return out;
})`))
		if err != nil {
			t.Fatal(err)
		}
		legends := 0
		for _, b := range boxes {
			if !b.Legend || b.AxisEnd == 0 {
				continue
			}
			legends++
			if b.Top < b.AxisEnd {
				t.Errorf("at %d pixels, %s: the legend starts at %.0f, over the month labels, which end at %.0f", w, b.ID, b.Top, b.AxisEnd)
			}
		}
		if legends != 2 {
			t.Errorf("at %d pixels: %d charts with a legend and a month axis, want 2", w, legends)
		}
	}
	bp.check(t)
}

// TestReadyListReadableOnAPhone: on a phone the ready list's last column, the colleagues to
// introduce and why, was pushed off the screen and squeezed to a word a line, each row
// several screens tall. There each referrer is now a card: the colleagues are in view and
// take the page's width, every value under its column's name.
func TestReadyListReadableOnAPhone(t *testing.T) {
	path, _ := writeFixtureHTML(t)
	bp := openInBrowser(t, path)
	type listBox struct {
		Found                      bool
		Left, Right, Width, Screen float64
		Labelled                   bool
	}
	for _, w := range []int64{390, 1280} {
		bp.atWidth(t, w)
		box, err := chromedp.Run(bp.ctx, chromedp.Evaluate[listBox](`
(function () {
  var ul = document.querySelector("#introductions tbody td ul");
  if (!ul) { return {Found: false}; }
  var r = ul.getBoundingClientRect(), td = ul.parentElement;
  return {Found: true, Left: r.left, Right: r.right, Width: r.width, Screen: document.documentElement.clientWidth,
    Labelled: td.getAttribute("data-label") === "Suggested colleagues"};
})()`))
		if err != nil {
			t.Fatal(err)
		}
		if !box.Found {
			t.Fatal("the fixture's ready list suggests no colleague: the case is not built")
		}
		if box.Right > box.Screen || box.Width < 250 || !box.Labelled {
			t.Errorf("at %d pixels the suggested colleagues lie at %.0f-%.0f (%.0f wide) on a %.0f-pixel screen, labelled: %v",
				w, box.Left, box.Right, box.Width, box.Screen, box.Labelled)
		}
	}
	bp.check(t)
}
