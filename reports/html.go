package reports

import (
	"bufio"
	"context"
	"database/sql"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
)

// The page embeds ECharts from the binary: it must open offline and load nothing from a CDN.
//
//go:embed assets/echarts/echarts.min.js
var echartsJS string

//go:embed templates/report.html.tmpl
var reportTemplateText string

var reportTemplate = template.Must(template.New("report").Parse(reportTemplateText))

// Caps keep the page under 3 MB and readable for 5,000 referrers; each capped part says so.
const (
	maxSankeyReferrers = 15
	maxIntroductions   = 100
	maxWatchRows       = 50
	maxReferrerRows    = 250
)

type kpi struct {
	Label, Value, Detail string
	Stage                int // colours the tile when 1..3
}

type chartView struct {
	ID, Title, Explain, Note string
	Height                   int
	Empty                    string // shown instead of a chart with nothing to draw
}

type htmlTable struct {
	ID, Title, Explain string
	Headers            []string
	Rows               [][]htmlCell
	Shown, Total       int
	// Cards: on a phone each row is a card, every cell under its header's name, so
	// that a long last column (the suggested colleagues) takes the page's width.
	Cards bool
}

// Capped says how much of a list is shown, or "" when it is complete.
func (t htmlTable) Capped() string {
	if t.Total <= t.Shown {
		return ""
	}
	return fmt.Sprintf("Showing %d of %d; the workbook has the full list.", t.Shown, t.Total)
}

type htmlCell struct {
	Text   string
	Stage  int          // a stage badge when 1..3
	List   []suggestion // suggested colleagues
	Num    bool         // right-aligned
	Nowrap bool         // dates
}

type suggestion struct{ Name, Why string }

type reportPage struct {
	Title, Subtitle string
	Banners         []banner // shown above everything: partial data, a month without data
	KPIs            []kpi
	Charts          []chartView
	Tables          []htmlTable
	Data            template.JS // chart options as JSON, escaped by encoding/json
	ECharts         template.JS
}

// WriteHTML writes the month's self-contained HTML report to path (out/referrals-YYYY-MM.html).
func WriteHTML(ctx context.Context, db *sql.DB, month time.Time, path string) error {
	p, err := loadPeriod(ctx, db, month)
	if err != nil {
		return fmt.Errorf("HTML report %s: %w", path, err)
	}
	page, err := buildPage(ctx, db, p)
	if err != nil {
		return fmt.Errorf("HTML report %s: %w", path, err)
	}
	warning, err := pageBanner(ctx, db)
	if err != nil {
		return fmt.Errorf("HTML report %s: %w", path, err)
	}
	if warning != "" {
		page.Banners = append([]banner{{Text: warning, Warning: true}}, page.Banners...)
	}
	return writeAtomic(path, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 1<<16)
		if err := reportTemplate.Execute(bw, page); err != nil {
			return err
		}
		return bw.Flush()
	})
}

// pageBanner is the page's warning that export files could not be loaded; it reads the
// ledger of failed files, not a model table, so it stays out of buildPage and goes into
// the page cache's key.
func pageBanner(ctx context.Context, db querier) (string, error) {
	failed, err := loadFailedFiles(ctx, db)
	if err != nil {
		return "", err
	}
	return partialDataBanner(failed, `the workbook's Data quality sheet ("Files that failed")`), nil
}

func buildPage(ctx context.Context, db querier, p period) (reportPage, error) {
	o, err := loadOverview(ctx, db, p)
	if err != nil {
		return reportPage{}, err
	}
	page := reportPage{
		Title: "Referrals report: " + p.monthLabel(),
		Subtitle: fmt.Sprintf("Window: %s to %s (%d months). Stages: 1 = one point person, 2 = trying colleagues, 3 = whole practice.",
			p.windowStart.Format("January 2006"), p.month.Format("January 2006"), p.window),
		ECharts: template.JS(echartsJS),
	}
	page.KPIs = kpis(o)
	if n := o.noDataNotice(); n != "" {
		page.Banners = append(page.Banners, banner{Text: n})
	}

	type chartOption struct {
		ID     string         `json:"id"`
		Option map[string]any `json:"option"`
	}
	options := []chartOption{} // [] not null in JSON
	// addChart adds a chart, or in its place the sentence empty when it has nothing to draw.
	addChart := func(v chartView, option map[string]any, empty string) {
		if empty != "" {
			v.Empty = empty
		} else {
			options = append(options, chartOption{v.ID, option})
		}
		page.Charts = append(page.Charts, v)
	}
	emptyIf := func(isEmpty bool, sentence string) string {
		if isEmpty {
			return sentence
		}
		return ""
	}
	addChart(chartView{ID: "chart-volume", Height: 380,
		Title:   "Referrals per month, by the referrer's stage",
		Explain: "Each bar is one month's new clients, coloured by how far along each referrer's relationship with the practice was that month."},
		volumeChart(o), emptyIf(!o.hasVolume(), fmt.Sprintf("No referral in the %d months to %s: there is nothing to chart.", volumeMonths, p.monthLabel())))
	addChart(chartView{ID: "chart-stages", Height: 320,
		Title:   "Referrers in each stage",
		Explain: "How many active referrers were at each stage at each month end: growth in stages 2 and 3 means relationships are maturing."},
		stagesChart(o), emptyIf(!o.hasStages(), fmt.Sprintf("No referrer had a stage at any of the %d month ends to %s: there is nothing to chart.", stageMonths, p.monthLabel())))

	flow, shown, total, err := referrerFlowChart(ctx, db, p)
	if err != nil {
		return page, err
	}
	note := ""
	if total > shown {
		note = fmt.Sprintf("The %d referrers with the most referrals in the window are shown, of %d.", shown, total)
	}
	addChart(chartView{ID: "chart-flow", Height: 560, Note: note,
		Title:   "Who sends clients to whom",
		Explain: "Referrals in the window from the largest referrers (left) to the clinicians who took the client (right): one thick band means one point person. A referrer's bar has its stage's colour, as in the stages chart (stage 1 orange, 2 blue, 3 green); clinicians are grey."},
		flow, emptyIf(!hasLinks(flow), "No referral from a referrer in the window: there is nothing to chart."))

	moves, err := transitionsChart(ctx, db, p)
	if err != nil {
		return page, err
	}
	addChart(chartView{ID: "chart-transitions", Height: 360,
		Title:   "Stage changes in the last 12 months",
		Explain: "Every change of a referrer's stage over the year, from the old stage (left) to the new one (right); new or returning referrers enter on the left, inactive ones leave on the right."},
		moves, emptyIf(!hasLinks(moves), fmt.Sprintf("No referrer changed stage in the %d months to %s: there is nothing to chart.", stageMonths, p.monthLabel())))

	data, err := json.Marshal(map[string]any{"charts": options})
	if err != nil {
		return page, fmt.Errorf("encode chart data: %w", err)
	}
	page.Data = template.JS(data)

	tables, err := pageTables(ctx, db, p)
	if err != nil {
		return page, err
	}
	page.Tables = tables
	return page, nil
}

func kpis(o overview) []kpi {
	this, prev, ago := o.this(), o.lastMonth(), o.yearAgo()
	out := []kpi{{
		Label: "New referrals in " + o.month.Format("January"),
		Value: fmtInt(this.total),
		Detail: fmt.Sprintf("%s in %s (%s), %s in %s (%s)",
			fmtInt(prev.total), prev.month.Format("January"), change(this.total, prev.total),
			fmtInt(ago.total), ago.month.Format("January 2006"), change(this.total, ago.total)),
	}, {
		Label:  "Active referrers",
		Value:  fmtInt(o.active),
		Detail: fmt.Sprintf("a referral in the last %d months; %s with fewer than %d (low evidence)", o.window, fmtInt(o.lowEvidence), o.rules.LowEvidenceBelow),
	}}
	for s := 1; s <= 3; s++ {
		out = append(out, kpi{Label: stageSeriesName[s], Value: fmtInt(o.byStage[s]), Stage: s,
			Detail: pctOf(o.byStage[s], o.active) + " of active referrers"})
	}
	out = append(out, kpi{
		Label:  "Stage changes this month",
		Value:  fmt.Sprintf("%d up, %d down", o.up, o.down),
		Detail: fmt.Sprintf("%d new or returning, %d became inactive", o.start, o.lapse),
	}, kpi{
		Label:  "Action lists",
		Value:  fmt.Sprintf("%d ready", o.ready),
		Detail: fmt.Sprintf("for introductions; %d stalled, %d cooling, %d lapsed, %d regressed", o.stalled, o.cooling, o.lapsed, o.regressed),
	})
	share := "n/a"
	if s, ok := o.unknownShare(); ok {
		share = fmtPct(s)
	}
	out = append(out, kpi{
		Label:  "Referrals with no source",
		Value:  share,
		Detail: fmt.Sprintf("%s of %s referrals in the window", fmtInt(o.unknownWindow), fmtInt(o.totalWindow)),
	}, kpi{
		Label:  "Paid for referred clients",
		Value:  fmtMoney(o.paidWindow),
		Detail: fmt.Sprintf("clients referred in the window; billed %s; %s of it from referrers' clients", fmtMoney(o.billedWindow), fmtMoney(o.paidFromReferrersWindow)),
	})
	return out
}

// chartJSON turns a go-echarts chart into its option object. Only the option structs of
// go-echarts are used: its page renderer writes data into <script> unescaped and loads a CDN.
func chartJSON(c interface {
	Validate()
	JSON() map[string]any
}) map[string]any {
	c.Validate()
	m := c.JSON()
	m["animation"] = false // drawn at once: for print and for the browser test
	delete(m, "toolbox")
	return m
}

func volumeChart(o overview) map[string]any {
	bar := charts.NewBar()
	bar.SetGlobalOptions(
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Bottom: "0"}),
		charts.WithGridOpts(opts.Grid{Left: "50", Right: "20", Top: "36", Bottom: "60"}),
		charts.WithYAxisOpts(opts.YAxis{Name: "referrals", MinInterval: 1}), // counts: no 0.5 referral on the axis
	)
	months := make([]string, len(o.volume))
	for i, v := range o.volume {
		months[i] = v.month.Format("Jan 06")
	}
	bar.SetXAxis(months)
	add := func(name, colour string, get func(volumeMonth) int64) {
		data := make([]opts.BarData, len(o.volume))
		for i, v := range o.volume {
			data[i] = opts.BarData{Value: get(v)}
		}
		bar.AddSeries(name, data,
			charts.WithBarChartOpts(opts.BarChart{Stack: "referrals"}),
			charts.WithItemStyleOpts(opts.ItemStyle{Color: "#" + colour}))
	}
	add(stageSeriesName[1], stageColour[1], func(v volumeMonth) int64 { return v.stage1 })
	add(stageSeriesName[2], stageColour[2], func(v volumeMonth) int64 { return v.stage2 })
	add(stageSeriesName[3], stageColour[3], func(v volumeMonth) int64 { return v.stage3 })
	if o.hasNoStage() {
		add(noStageSeries, noStageColour, func(v volumeMonth) int64 { return v.noStage })
	}
	add("Marketing channels", channelColour, func(v volumeMonth) int64 { return v.channel })
	add("No source", unknownColour, func(v volumeMonth) int64 { return v.unknown })
	return chartJSON(bar)
}

func stagesChart(o overview) map[string]any {
	line := charts.NewLine()
	line.SetGlobalOptions(
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Bottom: "0"}),
		charts.WithGridOpts(opts.Grid{Left: "50", Right: "20", Top: "36", Bottom: "60"}),
		charts.WithYAxisOpts(opts.YAxis{Name: "referrers", MinInterval: 1}),
	)
	months := make([]string, len(o.stages))
	for i, v := range o.stages {
		months[i] = v.month.Format("Jan 06")
	}
	line.SetXAxis(months)
	for s := 1; s <= 3; s++ {
		data := make([]opts.LineData, len(o.stages))
		for i, v := range o.stages {
			data[i] = opts.LineData{Value: [4]int64{0, v.stage1, v.stage2, v.stage3}[s]}
		}
		line.AddSeries(stageSeriesName[s], data,
			charts.WithItemStyleOpts(opts.ItemStyle{Color: "#" + stageColour[s]}),
			charts.WithLineStyleOpts(opts.LineStyle{Width: 3}))
	}
	return chartJSON(line)
}

// sankeyNode carries an id: ECharts drops a node whose id repeats, and referrer and clinician
// names may coincide (a clinician who also refers).
type sankeyNode struct {
	ID        string            `json:"id"`
	Name      string            `json:"name"`
	Depth     int               `json:"depth"`
	ItemStyle *opts.ItemStyle   `json:"itemStyle,omitempty"`
	Label     map[string]string `json:"label,omitempty"`
}

type sankeyLink struct {
	Source string `json:"source"`
	Target string `json:"target"`
	Value  int64  `json:"value"`
}

func sankeyOption(nodes []sankeyNode, links []sankeyLink, name string) map[string]any {
	return map[string]any{
		"animation": false,
		"tooltip":   map[string]any{"trigger": "item"},
		"series": []any{map[string]any{
			"type": "sankey", "name": name, "data": nodes, "links": links,
			"left": 10, "right": 170, "top": 10, "bottom": 10,
			"nodeAlign": "justify", "nodeGap": 6, "draggable": false,
			"emphasis":  map[string]any{"focus": "adjacency"},
			"lineStyle": map[string]any{"color": "gradient", "curveness": 0.5, "opacity": 0.35},
			"label":     map[string]any{"fontSize": 11, "overflow": "truncate", "width": 160},
		}},
	}
}

// hasLinks is false for a Sankey option (sankeyOption) without a link to draw.
func hasLinks(option map[string]any) bool {
	series, _ := option["series"].([]any)
	for _, s := range series {
		if m, ok := s.(map[string]any); ok {
			if links, ok := m["links"].([]sankeyLink); ok && len(links) > 0 {
				return true
			}
		}
	}
	return false
}

// referrerFlowChart is the Sankey of the top referrers' referrals in the window to clinicians.
func referrerFlowChart(ctx context.Context, db querier, p period) (map[string]any, int, int, error) {
	rows, err := queryAll(ctx, db, "referrer to clinician flows", `
WITH top AS (
    SELECT referrer, referrals, stage FROM referrer_status WHERE referrals > 0
    ORDER BY referrals DESC, referrer LIMIT ?
)
SELECT t.referrer, t.stage, v.clinician, sum(v.referrals)::BIGINT AS n, t.referrals
FROM top t JOIN monthly_volume v ON v.referrer = t.referrer AND v.source_kind = 'referrer'
    AND v.month BETWEEN ?::DATE AND ?::DATE
WHERE v.clinician IS NOT NULL
GROUP BY ALL
ORDER BY t.referrals DESC, t.referrer, n DESC, v.clinician`,
		maxSankeyReferrers, iso(p.windowStart), iso(p.month))
	if err != nil {
		return nil, 0, 0, err
	}
	total, err := countWhere(ctx, db, "referrers in the window", `SELECT count(*) FROM referrer_status WHERE referrals > 0`)
	if err != nil {
		return nil, 0, 0, err
	}
	// ECharts labels a Sankey node and its links with the node's id, so the id is the name;
	// a clinician whose name is also a referrer's gets a suffix to keep ids unique.
	nodes, clinicians, links := []sankeyNode{}, []sankeyNode{}, []sankeyLink{} // [] not null in JSON
	referrers := map[string]bool{}
	for _, r := range rows {
		ref, _ := asString(r[0])
		referrers[ref] = true
	}
	seen := map[string]bool{}
	clinID := func(clin string) string {
		if referrers[clin] {
			return clin + " (clinician)"
		}
		return clin
	}
	for _, r := range rows {
		ref, _ := asString(r[0])
		stage, _ := asInt(r[1])
		clin, _ := asString(r[2])
		n, _ := asInt(r[3])
		if !seen[ref] {
			seen[ref] = true
			node := sankeyNode{ID: ref, Name: ref, Depth: 0}
			if stage >= 1 && stage <= 3 {
				node.ItemStyle = &opts.ItemStyle{Color: "#" + stageColour[stage]}
			}
			nodes = append(nodes, node)
		}
		id := clinID(clin)
		if !seen[id] {
			seen[id] = true
			clinicians = append(clinicians, sankeyNode{ID: id, Name: clin, Depth: 1,
				ItemStyle: &opts.ItemStyle{Color: "#7F7F7F"}})
		}
		links = append(links, sankeyLink{Source: ref, Target: id, Value: n})
	}
	nodes = append(nodes, clinicians...)
	return sankeyOption(nodes, links, "Referrals"), len(referrers), total, nil
}

// transitionsChart is the Sankey of stage changes over the last 12 months. Each stage appears
// twice, "(from)" on the left and "(to)" on the right: ECharts' Sankey needs unique node names
// and no cycles, and 1 -> 2 -> 1 would be one.
func transitionsChart(ctx context.Context, db querier, p period) (map[string]any, error) {
	rows, err := queryAll(ctx, db, "stage transitions by kind", `
SELECT coalesce(from_stage, 0)::BIGINT, coalesce(to_stage, 0)::BIGINT, count(*)::BIGINT
FROM stage_transitions WHERE month BETWEEN ?::DATE AND ?::DATE
GROUP BY ALL ORDER BY 1, 2`, iso(p.monthsBack(stageMonths-1)), iso(p.month))
	if err != nil {
		return nil, err
	}
	fromName := func(s int64) string {
		if s == 0 {
			return "New or returning"
		}
		return fmt.Sprintf("Stage %d (from)", s)
	}
	toName := func(s int64) string {
		if s == 0 {
			return "Inactive (to)"
		}
		return fmt.Sprintf("Stage %d (to)", s)
	}
	colour := func(s int64) *opts.ItemStyle {
		if s >= 1 && s <= 3 {
			return &opts.ItemStyle{Color: "#" + stageColour[s]}
		}
		return &opts.ItemStyle{Color: "#" + channelColour}
	}
	seen := map[string]bool{}
	nodes, links := []sankeyNode{}, []sankeyLink{} // [] not null in JSON
	node := func(name string, depth int, s int64) string {
		if !seen[name] {
			seen[name] = true
			nodes = append(nodes, sankeyNode{ID: name, Name: name, Depth: depth, ItemStyle: colour(s)})
		}
		return name
	}
	for _, r := range rows {
		from, _ := asInt(r[0])
		to, _ := asInt(r[1])
		n, _ := asInt(r[2])
		if from == to { // not a change; never expected, but it would make a cycle-free graph lie
			continue
		}
		links = append(links, sankeyLink{Source: node(fromName(from), 0, from), Target: node(toName(to), 1, to), Value: n})
	}
	return sankeyOption(nodes, links, "Stage changes"), nil
}

func pageTables(ctx context.Context, db querier, p period) ([]htmlTable, error) {
	r := p.rules
	var tables []htmlTable

	// The stage badges of referrers with too few referrals to be sure of carry a *.
	lowRows, err := queryAll(ctx, db, "low-evidence referrers", `SELECT referrer FROM referrer_status WHERE low_evidence`)
	if err != nil {
		return nil, err
	}
	low := make(map[string]bool, len(lowRows))
	for _, row := range lowRows {
		if name, ok := asString(row[0]); ok {
			low[name] = true
		}
	}
	stageOf := func(referrer, stage any) htmlCell {
		name, _ := asString(referrer)
		return stageCell(stage, low[name])
	}

	intro, err := queryAll(ctx, db, "introductions", introductionQuery+` LIMIT ?`, iso(p.month), iso(p.month), maxIntroductions)
	if err != nil {
		return nil, err
	}
	introTotal, err := countWhere(ctx, db, "introductions", `SELECT count(DISTINCT referrer) FROM introductions`)
	if err != nil {
		return nil, err
	}
	t := htmlTable{ID: "introductions", Title: "Ready for introductions", Cards: true,
		Explain: readyRule(r) + ", with up to three colleagues of the point person to introduce and why.",
		Headers: []string{"Referrer", "Point person", "Referrals (window)", "Last referral", "Suggested colleagues"},
		Shown:   len(intro), Total: introTotal}
	for _, r := range intro {
		var suggestions []suggestion
		for i := 4; i+1 < 10; i += 2 {
			if c, ok := asString(r[i]); ok && c != "" {
				reason, _ := asString(r[i+1])
				suggestions = append(suggestions, suggestion{Name: c, Why: reason})
			}
		}
		colleagues := htmlCell{List: suggestions}
		if len(suggestions) == 0 {
			colleagues = textCell(r[10]) // why no colleague is suggested
		}
		t.Rows = append(t.Rows, []htmlCell{textCell(r[0]), textCell(r[1]), numCell(r[2]), dateCell(r[3]), colleagues})
	}
	tables = append(tables, t)

	for _, wl := range watchLists(r) {
		rows, err := queryAll(ctx, db, wl.list+" referrers", watchQuery, wl.list, maxWatchRows)
		if err != nil {
			return nil, err
		}
		total, err := countWhere(ctx, db, wl.list+" referrers", `SELECT count(*) FROM watch_list WHERE list = ?`, wl.list)
		if err != nil {
			return nil, err
		}
		t := htmlTable{ID: "watch-" + wl.list, Title: wl.title, Explain: wl.note + " " + lowEvidenceNote(r),
			Headers: []string{"Referrer", "Point person", "Stage", "What happened", "Since", "Referrals (window)", "Last referral"},
			Shown:   len(rows), Total: total}
		for _, r := range rows {
			t.Rows = append(t.Rows, []htmlCell{textCell(r[0]), textCell(r[1]), stageOf(r[0], r[2]), textCell(r[3]), dateCell(r[4]), numCell(r[5]), dateCell(r[6])})
		}
		tables = append(tables, t)
	}

	rows, err := queryAll(ctx, db, "referrers", `
SELECT referrer, category, stage, referrals, clinicians, `+shownPointPerson("s")+`, point_person_share::DOUBLE, last_referral, flags
FROM referrer_status s WHERE referrals > 0
ORDER BY referrals DESC, referrer LIMIT ?`, maxReferrerRows)
	if err != nil {
		return nil, err
	}
	total, err := countWhere(ctx, db, "referrers", `SELECT count(*) FROM referrer_status WHERE referrals > 0`)
	if err != nil {
		return nil, err
	}
	t = htmlTable{ID: "referrers", Title: "Active referrers",
		Explain: "Every referrer with a referral in the window, largest first: stage, how many clinicians they reached, and the point-person share. " +
			ppShareMeaning + " " + lowEvidenceNote(r),
		Headers: []string{"Referrer", "Category", "Stage", "Referrals (window)", "Clinicians", "Point person", "Point-person share", "Last referral", "Flags"},
		Shown:   len(rows), Total: total}
	for _, r := range rows {
		t.Rows = append(t.Rows, []htmlCell{textCell(r[0]), textCell(r[1]), stageOf(r[0], r[2]), numCell(r[3]), numCell(r[4]), textCell(r[5]), pctCell(r[6]), dateCell(r[7]), textCell(r[8])})
	}
	tables = append(tables, t)
	return tables, nil
}

func textCell(v any) htmlCell { s, _ := asString(v); return htmlCell{Text: s} }

func numCell(v any) htmlCell {
	if i, ok := asInt(v); ok {
		return htmlCell{Text: fmtInt(i), Num: true}
	}
	return htmlCell{Num: true}
}

func pctCell(v any) htmlCell {
	if f, ok := asFloat(v); ok {
		return htmlCell{Text: fmtPct(f), Num: true}
	}
	return htmlCell{Num: true}
}

func dateCell(v any) htmlCell {
	if t, ok := asTime(v); ok {
		return htmlCell{Text: t.Format("2006-01-02"), Nowrap: true}
	}
	return htmlCell{}
}

// lowEvidenceNote explains the * on a stage badge.
func lowEvidenceNote(r rules) string {
	return fmt.Sprintf("A stage marked * is low evidence: fewer than %d referrals in the window.", r.LowEvidenceBelow)
}

// stageCell is a stage badge, marked * when the stage rests on too few referrals.
func stageCell(v any, lowEvidence bool) htmlCell {
	if i, ok := asInt(v); ok && i >= 1 && i <= 3 {
		text := strconv.FormatInt(i, 10)
		if lowEvidence {
			text += "*"
		}
		return htmlCell{Text: text, Stage: int(i)}
	}
	return htmlCell{Text: "inactive"}
}

// fmtInt writes an integer with thousands separators: 12,345.
func fmtInt(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// fmtPct is f as a whole percentage, halves rounded away from zero as the workbook's 12.5%
// reads and as explain writes it (FormatFloat alone would round 12.5 to the even 12).
// A share is a ratio of counts, so a product just under a half (23/40 × 100 is
// 57.49999999999999) is that half: nudged before it is rounded.
func fmtPct(f float64) string {
	return strconv.FormatFloat(math.Round(f*100+math.Copysign(1e-9, f)), 'f', 0, 64) + "%"
}

func fmtMoney(f float64) string {
	whole := int64(math.Round(f))
	return fmtInt(whole)
}

func pctOf(n, of int64) string {
	if of == 0 {
		return "0%"
	}
	return fmtPct(float64(n) / float64(of))
}

// change is the relative change from before to now, "+12%", or "new" when before was 0.
func change(now, before int64) string {
	if before == 0 {
		if now == 0 {
			return "no change"
		}
		return "none before"
	}
	d := float64(now)/float64(before) - 1
	s := fmtPct(d)
	if d >= 0 {
		s = "+" + s
	}
	return s
}
