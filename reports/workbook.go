package reports

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/xuri/excelize/v2"
)

// Sheet names, in workbook order.
const (
	sheetOverview     = "Overview"
	sheetReferrers    = "Referrers"
	sheetIntroduction = "Introductions"
	sheetMonthly      = "Monthly"
	sheetClinicians   = "Clinicians"
	sheetTransitions  = "Transitions"
	sheetDataQuality  = "Data quality"
)

var sheetOrder = []string{sheetOverview, sheetReferrers, sheetIntroduction, sheetMonthly, sheetClinicians,
	sheetTransitions, sheetDataQuality}

// Caps keep the workbook openable when a data problem floods a table; each capped table says so.
const (
	maxRejectedRows  = 50000
	maxQualityRows   = 20000
	maxWorkbookWatch = 100000
)

// WriteWorkbook writes the month's Excel workbook to path (out/referrals-YYYY-MM.xlsx).
func WriteWorkbook(ctx context.Context, db *sql.DB, month time.Time, path string) error {
	return WriteWorkbookCached(ctx, db, month, path, "")
}

// WriteWorkbookCached writes the workbook like WriteWorkbook, keeping in cacheDir the
// sheets that read only model tables and reusing them while no model changed (partCache).
func WriteWorkbookCached(ctx context.Context, db *sql.DB, month time.Time, path, cacheDir string) error {
	p, err := loadPeriod(ctx, db, month)
	if err != nil {
		return fmt.Errorf("workbook %s: %w", path, err)
	}
	o, err := loadOverview(ctx, db, p)
	if err != nil {
		return fmt.Errorf("workbook %s: %w", path, err)
	}

	bk, st, err := newBook()
	if err != nil {
		return fmt.Errorf("workbook %s: %w", path, err)
	}
	f := bk.f
	defer f.Close()
	if err := f.SetSheetName("Sheet1", sheetOverview); err != nil {
		return fmt.Errorf("workbook %s: %w", path, err)
	}
	for _, name := range sheetOrder[1:] {
		if _, err := f.NewSheet(name); err != nil {
			return fmt.Errorf("workbook %s: sheet %s: %w", path, name, err)
		}
	}
	f.SetActiveSheet(0)
	bk.mapSheets()
	cache, err := newPartCache(ctx, db, cacheDir, st, p)
	if err != nil {
		return fmt.Errorf("workbook %s: %w", path, err)
	}
	_ = f.SetDocProps(&excelize.DocProperties{
		Title:   "Referrals report " + p.month.Format("2006-01"),
		Creator: "referrals",
	})

	// The sheets' rows are fetched in order by one goroutine (the database has one
	// connection, so queries cannot overlap each other) while the main goroutine opens
	// each sheet as its rows arrive and hands the rows to a writer of their own: only
	// opening a sheet and finishing it (filters, flush) touch the workbook, and those run
	// one at a time. At network scale (32,000 referrers) the queries overlap the writing,
	// and the Referrers and Monthly sheets are written on both cores.
	steps := workbookSteps
	type fetched struct {
		job sheetJob
		err error
	}
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make(chan fetched, len(steps))
	go func() {
		defer close(results)
		for _, s := range steps {
			if part, filter, ok := cache.load(s.name); ok {
				results <- fetched{job: cachedJob(st, s.name, part, filter)}
				continue
			}
			job, err := s.fetch(fctx, db, st, o)
			results <- fetched{job, err}
			if err != nil {
				return
			}
		}
	}()
	var writing sync.WaitGroup
	defer writing.Wait() // no row writer outlives the workbook
	writers := make([]*sheetWriter, len(steps))
	rowErrs := make([]error, len(steps))
	for i, s := range steps {
		r := <-results
		if r.err == nil {
			writers[i], r.err = r.job.open(bk)
		}
		if r.err != nil {
			return fmt.Errorf("workbook %s: sheet %s: %w", path, s.name, r.err)
		}
		if writers[i] != nil && r.job.rows != nil {
			writing.Go(func() { rowErrs[i] = r.job.rows(writers[i]) })
		}
	}
	writing.Wait()
	for i, s := range steps {
		if rowErrs[i] != nil {
			return fmt.Errorf("workbook %s: sheet %s: %w", path, s.name, rowErrs[i])
		}
	}
	for i, s := range steps {
		if writers[i] == nil {
			continue
		}
		if err := writers[i].finish(f); err != nil {
			return fmt.Errorf("workbook %s: sheet %s: %w", path, s.name, err)
		}
		if !writers[i].cached {
			// A cache that cannot be written costs the next night time, never data.
			_ = cache.store(s.name, writers[i].part, writers[i].filter)
		}
	}
	return writeAtomic(path, func(w io.Writer) error {
		if err := f.Write(w); err != nil {
			return err
		}
		return bk.checkPlaced()
	})
}

// book is the workbook being written: excelize's file and the table sheets' own parts.
type book struct {
	f     *excelize.File
	paths map[string]string     // sheet name -> its part's path in the zip
	parts map[string]*sheetPart // by path
}

// newBook starts a workbook whose table sheets sheetWriter writes: its zip writer stores
// their parts in place of excelize's worksheets, and its cell styles.
func newBook() (*book, *styles, error) {
	f := excelize.NewFile()
	bk := &book{f: f, parts: map[string]*sheetPart{}}
	f.SetZipWriter(func(w io.Writer) excelize.ZipWriter { return newPartZip(w, bk.parts) })
	st, err := newStyles(f)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return bk, st, nil
}

// mapSheets finds each sheet's part: excelize names a new workbook's worksheet parts
// after the sheets' ids. checkPlaced proves the mapping on every write.
func (b *book) mapSheets() {
	b.paths = map[string]string{}
	for id, name := range b.f.GetSheetMap() {
		b.paths[name] = fmt.Sprintf("xl/worksheets/sheet%d.xml", id)
	}
}

// part starts the part of a table sheet; it runs on the goroutine that opens sheets.
func (b *book) part(sheet string) (*sheetPart, error) {
	return b.install(sheet, &sheetPart{})
}

// install makes p the part of a sheet.
func (b *book) install(sheet string, p *sheetPart) (*sheetPart, error) {
	path, ok := b.paths[sheet]
	if !ok {
		return nil, fmt.Errorf("no sheet named %q in the workbook", sheet)
	}
	p.path = path
	b.parts[path] = p
	return p, nil
}

// cachedJob puts a sheet kept by the part cache in place: no query, no rows to write.
func cachedJob(st *styles, name string, part *sheetPart, filter [3]int) sheetJob {
	return sheetJob{open: func(b *book) (*sheetWriter, error) {
		if _, err := b.install(name, part); err != nil {
			return nil, err
		}
		return &sheetWriter{st: st, name: name, part: part, filter: filter, cached: true}, nil
	}}
}

// checkPlaced fails when a sheet's part was not stored in the zip: excelize did not write a
// worksheet under the path mapSheets expected, and the sheet would be empty.
func (b *book) checkPlaced() error {
	for path, p := range b.parts {
		if !p.placed {
			return fmt.Errorf("internal error: worksheet part %s was not written", path)
		}
	}
	return nil
}

// workbookSteps fetch the sheets' data, in sheet order.
var workbookSteps = []struct {
	name  string
	fetch func(context.Context, querier, *styles, overview) (sheetJob, error)
}{
	{sheetOverview, fetchOverviewSheet},
	{sheetReferrers, fetchReferrersSheet},
	{sheetIntroduction, fetchIntroductionsSheet},
	{sheetMonthly, fetchMonthlySheet},
	{sheetClinicians, fetchCliniciansSheet},
	{sheetTransitions, fetchTransitionsSheet},
	{sheetDataQuality, fetchDataQualitySheet},
}

// sheetJob writes a sheet whose data is already fetched. open touches the workbook and
// runs one sheet at a time; rows writes only to the sheet's own stream and may run beside
// other sheets' rows. A sheet written whole by open returns no writer.
type sheetJob struct {
	open func(*book) (*sheetWriter, error)
	rows func(*sheetWriter) error
}

func fetchOverviewSheet(ctx context.Context, db querier, st *styles, o overview) (sheetJob, error) {
	failed, err := loadFailedFiles(ctx, db)
	if err != nil {
		return sheetJob{}, err
	}
	var banners []banner
	if b := partialDataBanner(failed, `the Data quality sheet ("Files that failed")`); b != "" {
		banners = append(banners, banner{Text: b, Warning: true})
	}
	if b := o.noDataNotice(); b != "" {
		banners = append(banners, banner{Text: b})
	}
	return sheetJob{open: func(b *book) (*sheetWriter, error) { return nil, writeOverviewSheet(b.f, st, o, banners) }}, nil
}

// bannerWidth is about how many characters of the banner style fit on one line of the
// Overview's merged cells A:G (one 52-character column and six of 14).
const bannerWidth = 120

// writeOverviewSheet writes the month at a glance and the two native charts. It is small, so it
// uses the ordinary cell API; the chart data sits in a visible table under the figures. Each
// banner (the report was made from partial data) is a line of its own under the title, across
// the figures' columns.
func writeOverviewSheet(f *excelize.File, st *styles, o overview, banners []banner) error {
	const sh = sheetOverview
	var err error
	set := func(cell string, v any, style int) {
		if err != nil {
			return
		}
		switch x := v.(type) {
		case string:
			err = f.SetCellStr(sh, cell, x)
		default:
			err = f.SetCellValue(sh, cell, x)
		}
		if err == nil && style != 0 {
			err = f.SetCellStyle(sh, cell, cell, style)
		}
	}
	row := 1
	set("A1", "Referrals report: "+o.monthLabel(), st.title)
	for _, b := range banners {
		row++
		cell := fmt.Sprintf("A%d", row)
		style := st.notice
		if b.Warning {
			style = st.banner
		}
		set(cell, b.Text, style)
		if err == nil {
			err = f.MergeCell(sh, cell, fmt.Sprintf("G%d", row))
		}
		if err == nil {
			err = f.SetCellStyle(sh, cell, fmt.Sprintf("G%d", row), style)
		}
		if err == nil {
			lines := (len([]rune(b.Text)) + bannerWidth - 1) / bannerWidth
			err = f.SetRowHeight(sh, row, float64(16*lines+4))
		}
	}
	row++
	set(fmt.Sprintf("A%d", row), fmt.Sprintf("Window: %s to %s (%d months). Every figure comes from the finished tables of the referrals database.",
		o.windowStart.Format("January 2006"), o.month.Format("January 2006"), o.window), st.note)
	row++
	guidePointer := fmt.Sprintf("A%d", row) // filled in once the guide's row is known

	// New referrals compared with last month and the same month last year.
	row += 2
	set(fmt.Sprintf("A%d", row), "New referrals", st.header)
	set(fmt.Sprintf("B%d", row), o.month.Format("Jan 2006"), st.header)
	set(fmt.Sprintf("C%d", row), o.monthsBack(1).Format("Jan 2006"), st.header)
	set(fmt.Sprintf("D%d", row), o.monthsBack(12).Format("Jan 2006"), st.header)
	set(fmt.Sprintf("E%d", row), "vs last month", st.header)
	set(fmt.Sprintf("F%d", row), "vs last year", st.header)
	this, prev, ago := o.this(), o.lastMonth(), o.yearAgo()
	volumeRows := []struct {
		label         string
		now, lm, year int64
	}{
		{"All sources", this.total, prev.total, ago.total},
		{"From referrers", this.stage1 + this.stage2 + this.stage3 + this.noStage,
			prev.stage1 + prev.stage2 + prev.stage3 + prev.noStage, ago.stage1 + ago.stage2 + ago.stage3 + ago.noStage},
		{"From marketing channels", this.channel, prev.channel, ago.channel},
		{"No source recorded", this.unknown, prev.unknown, ago.unknown},
	}
	for _, v := range volumeRows {
		row++
		set(fmt.Sprintf("A%d", row), v.label, st.kpiLabel)
		set(fmt.Sprintf("B%d", row), v.now, st.kpiValue)
		set(fmt.Sprintf("C%d", row), v.lm, st.integer)
		set(fmt.Sprintf("D%d", row), v.year, st.integer)
		if v.lm > 0 {
			set(fmt.Sprintf("E%d", row), float64(v.now)/float64(v.lm)-1, st.change)
		}
		if v.year > 0 {
			set(fmt.Sprintf("F%d", row), float64(v.now)/float64(v.year)-1, st.change)
		}
	}

	row += 2
	set(fmt.Sprintf("A%d", row), "Referrers and relationships", st.header)
	set(fmt.Sprintf("B%d", row), "", st.header)
	share, hasShare := o.unknownShare()
	lists := watchLists(o.rules) // the lists' titles, with the settings that made them
	figures := []struct {
		label string
		value any
		style int
	}{
		{"Active referrers (a referral in the window)", o.active, st.kpiValue},
		{stageSeriesName[1], o.byStage[1], st.stageCount[1]},
		{stageSeriesName[2], o.byStage[2], st.stageCount[2]},
		{stageSeriesName[3], o.byStage[3], st.stageCount[3]},
		{fmt.Sprintf("Of the active, low evidence (fewer than %d referrals)", o.rules.LowEvidenceBelow), o.lowEvidence, st.integer},
		{"Moved up a stage this month", o.up, st.integer},
		{"Moved down a stage this month", o.down, st.integer},
		{"New or returning referrers this month", o.start, st.integer},
		{"Became inactive this month", o.lapse, st.integer},
		{"Ready for introductions", o.ready, st.integer},
		{lists[0].title, o.stalled, st.integer},
		{lists[1].title, o.cooling, st.integer},
		{lists[2].title, o.lapsed, st.integer},
		{lists[3].title, o.regressed, st.integer},
		{"Referrals with no source, share of the window", nil, st.kpiShare},
		{"Billed for clients referred in the window", o.billedWindow, st.kpiMoney},
		{"Paid for clients referred in the window", o.paidWindow, st.kpiMoney},
		{"  of which clients sent by referrers", o.paidFromReferrersWindow, st.money},
	}
	if hasShare {
		figures[14].value = share
	}
	for _, fg := range figures {
		row++
		set(fmt.Sprintf("A%d", row), fg.label, st.kpiLabel)
		if fg.value != nil {
			set(fmt.Sprintf("B%d", row), fg.value, fg.style)
		}
	}

	// Chart data: referrals per month by the referrer's stage, then referrers per stage.
	row += 2
	set(fmt.Sprintf("A%d", row), "Chart data: referrals per month by the stage of the referrer", st.bold)
	row++
	volHeader := row
	series := []struct {
		name   string
		colour string
		get    func(volumeMonth) int64
	}{
		{stageSeriesName[1], stageColour[1], func(v volumeMonth) int64 { return v.stage1 }},
		{stageSeriesName[2], stageColour[2], func(v volumeMonth) int64 { return v.stage2 }},
		{stageSeriesName[3], stageColour[3], func(v volumeMonth) int64 { return v.stage3 }},
		{"Marketing channels", channelColour, func(v volumeMonth) int64 { return v.channel }},
		{"No source", unknownColour, func(v volumeMonth) int64 { return v.unknown }},
	}
	if o.hasNoStage() {
		series = append(series, struct {
			name   string
			colour string
			get    func(volumeMonth) int64
		}{noStageSeries, noStageColour, func(v volumeMonth) int64 { return v.noStage }})
	}
	set(fmt.Sprintf("A%d", row), "Month", st.header)
	for i, s := range series {
		c, _ := excelize.CoordinatesToCellName(i+2, row)
		set(c, s.name, st.header)
	}
	for _, v := range o.volume {
		row++
		set(fmt.Sprintf("A%d", row), v.month.Format("2006-01"), st.text)
		for i, s := range series {
			c, _ := excelize.CoordinatesToCellName(i+2, row)
			set(c, s.get(v), st.integer)
		}
	}
	volLast := row
	var volSeries []excelize.ChartSeries
	for i, s := range series {
		col, _ := excelize.ColumnNumberToName(i + 2)
		volSeries = append(volSeries, excelize.ChartSeries{
			Name:       fmt.Sprintf("'%s'!$%s$%d", sh, col, volHeader),
			Categories: fmt.Sprintf("'%s'!$A$%d:$A$%d", sh, volHeader+1, volLast),
			Values:     fmt.Sprintf("'%s'!$%s$%d:$%s$%d", sh, col, volHeader+1, col, volLast),
			Fill:       excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{s.colour}},
		})
	}

	row += 2
	set(fmt.Sprintf("A%d", row), "Chart data: referrers in each stage at each month end", st.bold)
	row++
	stHeader := row
	set(fmt.Sprintf("A%d", row), "Month", st.header)
	for s := 1; s <= 3; s++ {
		c, _ := excelize.CoordinatesToCellName(s+1, row)
		set(c, stageSeriesName[s], st.header)
	}
	for _, v := range o.stages {
		row++
		set(fmt.Sprintf("A%d", row), v.month.Format("2006-01"), st.text)
		set(fmt.Sprintf("B%d", row), v.stage1, st.integer)
		set(fmt.Sprintf("C%d", row), v.stage2, st.integer)
		set(fmt.Sprintf("D%d", row), v.stage3, st.integer)
	}
	stLast := row
	var stSeries []excelize.ChartSeries
	for s := 1; s <= 3; s++ {
		col, _ := excelize.ColumnNumberToName(s + 1)
		stSeries = append(stSeries, excelize.ChartSeries{
			Name:       fmt.Sprintf("'%s'!$%s$%d", sh, col, stHeader),
			Categories: fmt.Sprintf("'%s'!$A$%d:$A$%d", sh, stHeader+1, stLast),
			Values:     fmt.Sprintf("'%s'!$%s$%d:$%s$%d", sh, col, stHeader+1, col, stLast),
			// excelize colours a line chart's line from the series fill.
			Fill:   excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{stageColour[s]}},
			Line:   excelize.LineOptions{Width: 2.25},
			Marker: excelize.ChartMarker{Symbol: "circle", Size: 5, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{stageColour[s]}}},
		})
	}
	if err != nil {
		return err
	}

	// What the other sheets' columns mean, for a reader without the README.
	row += 2
	set(fmt.Sprintf("A%d", row), "What the columns mean", st.bold)
	set(guidePointer, fmt.Sprintf("What the columns of the other sheets mean: see \"What the columns mean\" below, from row %d.", row), st.note)
	row++
	set(fmt.Sprintf("A%d", row), "Column (sheet)", st.header)
	set(fmt.Sprintf("B%d", row), "Meaning", st.header)
	for _, g := range columnGuide(o) {
		row++
		set(fmt.Sprintf("A%d", row), g[0], st.kpiLabel)
		set(fmt.Sprintf("B%d", row), g[1], st.text)
	}

	// Printed, the figures and the charts beside them fit one landscape page wide.
	landscape, one, auto, fit := "landscape", 1, 0, true
	if err := f.SetPageLayout(sh, &excelize.PageLayoutOptions{Orientation: &landscape, FitToWidth: &one, FitToHeight: &auto}); err != nil {
		return err
	}
	if err := f.SetSheetProps(sh, &excelize.SheetPropsOptions{FitToPage: &fit}); err != nil {
		return err
	}
	if err := f.SetColWidth(sh, "A", "A", 52); err != nil {
		return err
	}
	if err := f.SetColWidth(sh, "B", "G", 14); err != nil {
		return err
	}
	// An empty chart says so in its title, rather than showing bare axes.
	volTitle, stTitle := "Referrals per month by the referrer's stage (24 months)", "Referrers in each stage (12 month ends)"
	if !o.hasVolume() {
		volTitle += ": no referral in these months"
	}
	if !o.hasStages() {
		stTitle += ": no active referrer at these month ends"
	}
	noVary := false
	if err := f.AddChart(sh, "I2", &excelize.Chart{
		Type:       excelize.ColStacked,
		Series:     volSeries,
		VaryColors: &noVary,
		Title:      excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: volTitle}}},
		Legend:     excelize.ChartLegend{Position: "bottom"},
		Dimension:  excelize.ChartDimension{Width: 820, Height: 380},
		YAxis:      excelize.ChartAxis{MajorGridLines: true},
		Format:     excelize.GraphicOptions{LockAspectRatio: false},
	}); err != nil {
		return fmt.Errorf("referrals chart: %w", err)
	}
	for _, r := range []int{volHeader, stHeader} {
		if err := f.SetRowHeight(sh, r, 30); err != nil {
			return err
		}
	}
	if err := f.AddChart(sh, "I25", &excelize.Chart{
		Type:       excelize.Line,
		Series:     stSeries,
		VaryColors: &noVary,
		Title:      excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: stTitle}}},
		Legend:     excelize.ChartLegend{Position: "bottom"},
		Dimension:  excelize.ChartDimension{Width: 820, Height: 340},
		YAxis:      excelize.ChartAxis{MajorGridLines: true},
	}); err != nil {
		return fmt.Errorf("stages chart: %w", err)
	}
	// excelize leaves the sheet's declared range at A1 whatever was written; readers
	// that trust it (openpyxl in read-only mode) would see one cell.
	rows, err := f.GetRows(sh)
	if err != nil {
		return err
	}
	cols := 1
	for _, r := range rows {
		cols = max(cols, len(r))
	}
	last, err := excelize.CoordinatesToCellName(cols, max(len(rows), 1))
	if err != nil {
		return err
	}
	return f.SetSheetDimension(sh, "A1:"+last)
}

// ppShareMeaning says what the point-person share counts, in the workbook's guide and on
// the page: a referral that asked for the point person by name counts for them whoever took
// the client, so the share can differ from the clients the point person was assigned.
const ppShareMeaning = "Share of the referrals that were for the point person: asked for by name (where the schedule " +
	"records whom a referral asked for), or assigned to them when no clinician was named. A referral that asked for the " +
	"point person counts for them even if a colleague took the client, so this can differ from the clients they were assigned."

// columnGuide explains the columns of the sheets that need it, with the settings in force.
func columnGuide(o overview) [][2]string {
	w := o.window
	return [][2]string{
		{"Stage (Referrers, Monthly)", "1 point person: most referrals go to one clinician; 2 trying colleagues: they go to several; " +
			"3 whole practice: the referrer sends to the practice and trusts it to assign. Blank or 'inactive': no referral in the window."},
		{"Low evidence (Referrers)", fmt.Sprintf("Yes when the stage rests on fewer than %d referrals in the window: treat it as a first impression.", o.rules.LowEvidenceBelow)},
		{"Referrals (window) (Referrers)", fmt.Sprintf("Clients the referrer sent in the %d months ending with the report month; every measure below is over these. "+
			"A client none of whose appointments or claims names a clinician yet (an intake booked into an open slot) is counted from the night one is assigned.", w)},
		{"Clinicians (Referrers)", "How many different clinicians were assigned those clients."},
		{"Point person (Referrers)", "The clinician the referrer directory names, else the one assigned the referrer's first referral; " +
			"when they leave the practice, whoever took the referrer's first referral after that; \"(left the practice)\" while nobody has yet."},
		{"Point-person share (Referrers)", ppShareMeaning},
		{"Practice share (Referrers)", "Share of the referrals addressed to the practice rather than to a clinician, among those whose request the schedule records; blank when none is recorded."},
		{"COC (Referrers)", "Continuity of care, 0 to 1: 1 when every referral went to one clinician, 0 when no two went to the same one; blank under 2 referrals."},
		{"Effective clinicians (Referrers)", "1 / COC: about how many clinicians the referrals are spread over, as if evenly. From few referrals " +
			"it is an estimate of how widely they would spread with more, and can exceed Clinicians (4 and 3 referrals to two clinicians give 2.3; " +
			"11 referrals to 10 clinicians, one of them twice, give 55): read a value above Clinicians as a spread still widening. " +
			"Blank when COC is 0 (no two referrals share a clinician) or blank."},
		{"Stage since, Previous stage (Referrers)", "The first month of the current stage, and the stage before it."},
		{"Months to stage 2, Months to stage 3 (Referrers)", "Months from the first referral to the first month at stage 2 or above (0 for a referrer at stage 3 from the start), and to the first month at stage 3: the referrer's pace."},
		{"Regressions (Referrers)", "How many times the stage fell."},
		{"Flags (Referrers)", "The lists on the Introductions sheet the referrer is on: ready, stalled, cooling, lapsed, regressed."},
		{"Attended-intake rate (Referrers, Clinicians)", "Share of the clients referred in the window who attended an appointment (or were billed), among those whose intake is not still to come."},
		{"Pending intakes (Referrers, Clinicians)", "Clients not seen yet whose intake is still to come: booked (an appointment without a status counts as booked) on or after the last day the exports mark an appointment attended or no-show, or after the report month. Left out of the rates, as neither attended nor missed."},
		{"Rate with point person, Rate with colleagues (Referrers)", "The same rate for clients assigned to the point person, and to anyone else: do colleagues serve the referrer's clients as well? " +
			"A client with no clinician yet is in the Attended-intake rate only, so it can lie below both."},
		{"Referrers sending (Clinicians)", "How many different referrers (marketing channels aside) sent the clients the clinician received in the window."},
		{"Rate as point person, Rate as colleague (Clinicians)", "The clinician's attended-intake rate for referrers whose point person they are, and for the others."},
		{"Billed, Paid (Referrers, Clinicians)", "Amounts on the claim lines of the clients referred in the window."},
		{"Referrals this month (Referrers)", "Clients the referrer sent in the report month, counted as Referrals (window) is: from the night a clinician is assigned."},
		{"First referral, Last referral (Referrers)", "The referrer's first and latest referral, also one whose intake has no clinician yet."},
		{"Months (Monthly)", "Referrals per month for 24 months, coloured by the referrer's stage that month; the Stage columns after the total repeat the stages as numbers. " +
			"Every referral counts here, as on the Overview, also one whose intake has no clinician yet: a month can show more than Referrals this month on the Referrers sheet."},
		{"NPI (Referrers, Data quality)", "The referrer's National Provider Identifier (10 digits), as the exports or the referrer directory record it; blank when none is. Two NPIs are two referrers, even with one name."},
		{"Clients (Referrers)", "The clients the referrer sent in the window, whose claim lines make Billed and Paid: one per referral, so the same number as Referrals (window), " +
			"plus any whose intake has no clinician yet (counted in Referrals from the night one is assigned)."},
		{"Month, From stage, To stage, Direction (Transitions)", "The month at whose end the stage changed; the stage before and after it (From stage blank: " +
			"a new or returning referrer; To stage blank: no referral left in the window, so no stage). Direction: up (to a higher stage), " +
			"down (to a lower one), start (new or returning), lapse (became inactive)."},
		{"Matched by (Data quality)", "How a spelling was counted under its referrer: npi (the same NPI); name (the same name once case, accents, " +
			"punctuation, titles and credentials are set aside and \"Last, First\" is reordered); alias (your alias file); directory (the " +
			"referrer directory); new (the only spelling of its referrer, listed because the name is shown tidied, e.g. reordered); " +
			"several NPIs (typed without an NPI where referrers with different NPIs share the name, so counted on its own)."},
		{"Similarity (Data quality)", fmt.Sprintf("How alike two referrer names are, from 0 to 1 (Jaro-Winkler similarity of the names "+
			"with case, accents, punctuation and titles set aside; 1 is the same). Pairs at %s or more that were not merged are listed, "+
			"and names with the same words in another order or but for a part in parentheses (Dr. Jane Smith (Pediatrics), Jane Smith MD), "+
			"however low: add an alias if they are one referrer.", strconv.FormatFloat(o.rules.NearDuplicateCutoff, 'f', -1, 64))},
	}
}

var referrerColumns = []column{
	{"Referrer", kText}, {"Category", kText}, {"NPI", kText}, {"Stage", kStage}, {"Low evidence", kYesNo},
	{"Stage since", kDate}, {"Previous stage", kStage}, {"Referrals (window)", kInt}, {"Referrals this month", kInt},
	{"Clinicians", kInt}, {"Point person", kText}, {"Point-person share", kShare}, {"Practice share", kShare},
	{"COC", kDecimal}, {"Effective clinicians", kDecimal}, {"First referral", kDate}, {"Last referral", kDate},
	{"Months to stage 2", kInt}, {"Months to stage 3", kInt}, {"Regressions", kInt}, {"Flags", kText},
	{"Attended intakes", kInt}, {"Pending intakes", kInt}, {"Attended-intake rate", kShare}, {"Rate with point person", kShare},
	{"Rate with colleagues", kShare}, {"Clients", kInt}, {"Billed", kMoney}, {"Paid", kMoney},
}

var referrerQuery = `
SELECT s.referrer, s.category, s.npi, s.stage, s.low_evidence, s.stage_since, s.previous_stage,
    s.referrals, s.referrals_this_month, s.clinicians, ` + shownPointPerson("s") + `, s.point_person_share::DOUBLE,
    s.practice_share::DOUBLE, s.coc::DOUBLE, s.effective_clinicians::DOUBLE, s.first_referral, s.last_referral,
    s.months_to_stage2, s.months_to_stage3, s.regressions, s.flags,
    f.attended_intakes, f.pending_intakes, f.attended_rate::DOUBLE, f.to_point_person_rate::DOUBLE, f.to_colleagues_rate::DOUBLE,
    v.clients, v.billed::DOUBLE, v.paid::DOUBLE
FROM referrer_status s
LEFT JOIN follow_through_referrer f ON f.referrer = s.referrer
LEFT JOIN referrer_value v ON v.referrer = s.referrer
WHERE s.referrals > 0
ORDER BY s.stage NULLS LAST, s.referrals DESC, s.referrer`

func fetchReferrersSheet(ctx context.Context, db querier, st *styles, _ overview) (sheetJob, error) {
	rows, err := queryAll(ctx, db, "referrers", referrerQuery)
	if err != nil {
		return sheetJob{}, err
	}
	return singleTable(st, sheetReferrers, block{cols: referrerColumns, rows: rows}), nil
}

// nameFrozen are the wide sheets whose first column (the referrer) stays in view as the
// reader scrolls right, as the header row does as they scroll down.
var nameFrozen = map[string]bool{sheetReferrers: true, sheetMonthly: true}

func singleTable(st *styles, name string, b block) sheetJob {
	return sheetJob{
		open: func(bk *book) (*sheetWriter, error) {
			w, err := newSheetWriter(bk, st, name, []block{b})
			if err != nil {
				return nil, err
			}
			row := 1
			if b.title != "" {
				row++
			}
			if b.note != "" {
				row++
			}
			if b.total > len(b.rows) {
				row++
			}
			if nameFrozen[name] {
				w.freezeColumns(1)
			}
			return w, w.freezeAt(row + 1)
		},
		// One table: frozen header, autofilter.
		rows: func(w *sheetWriter) error {
			header, last, err := w.table(b)
			if err != nil {
				return err
			}
			w.filterOn(header, last, len(b.cols))
			return nil
		},
	}
}

// stackedTables writes blocks one under another, a blank row between them. A sheet has one
// autofilter: with filterFirst it is on the first block.
func stackedTables(st *styles, name string, blocks []block, filterFirst bool) sheetJob {
	return sheetJob{
		open: func(b *book) (*sheetWriter, error) { return newSheetWriter(b, st, name, blocks) },
		rows: func(w *sheetWriter) error {
			for i, b := range blocks {
				if i > 0 {
					w.skip()
				}
				header, last, err := w.table(b)
				if err != nil {
					return err
				}
				if i == 0 && filterFirst {
					w.filterOn(header, last, len(b.cols))
				}
			}
			return nil
		},
	}
}

var introductionColumns = []column{
	{"Referrer", kText}, {"Point person", kText}, {"Referrals (window)", kInt}, {"Last referral", kDate},
	{"Colleague 1", kText}, {"Why colleague 1", kWrap}, {"Colleague 2", kText}, {"Why colleague 2", kWrap},
	{"Colleague 3", kText}, {"Why colleague 3", kWrap},
}

// introductionQuery is one row per ready referrer: referrer, point person, referrals,
// last referral, then colleague and reasons three times, then why no colleague is suggested
// (NULL when one is). Its two parameters are the report month.
//
// A ready referrer with no colleague to suggest (the introductions mart gives it one row
// without a colleague) gets the reason in words, from the roster at the report month as
// the mart reads it: no other clinician; none accepting new clients; or none with a reason
// (shared payers, room, a shared specialty).
var introductionQuery = `
WITH intro AS (
    SELECT referrer, any_value(point_person) AS point_person, max(referrals) AS referrals, max(last_referral) AS last_referral,
        max(colleague) FILTER (WHERE "rank" = 1) AS c1, max(reasons) FILTER (WHERE "rank" = 1) AS r1,
        max(colleague) FILTER (WHERE "rank" = 2) AS c2, max(reasons) FILTER (WHERE "rank" = 2) AS r2,
        max(colleague) FILTER (WHERE "rank" = 3) AS c3, max(reasons) FILTER (WHERE "rank" = 3) AS r3
    FROM introductions
    GROUP BY referrer
), roster AS (
    SELECT clinician, bool_or(accepting IS DISTINCT FROM false) AS open
    FROM stg_clinicians
    WHERE (start_date IS NULL OR start_date <= last_day(?::DATE)) AND (end_date IS NULL OR end_date >= ?::DATE)
    GROUP BY clinician
), alone AS (
    SELECT i.referrer, count(r.clinician) AS others, count(r.clinician) FILTER (WHERE r.open) AS open
    FROM intro i LEFT JOIN roster r ON r.clinician <> coalesce(i.point_person, '')
    WHERE i.c1 IS NULL
    GROUP BY i.referrer
)
SELECT i.referrer, ` + shownPointPerson("i") + `, i.referrals, i.last_referral, i.c1, i.r1, i.c2, i.r2, i.c3, i.r3,
    CASE WHEN a.referrer IS NOT NULL THEN 'no colleague to suggest: ' || CASE
        WHEN a.others = 0 THEN 'the roster lists no clinician but the point person this month'
        WHEN a.open = 0 AND a.others = 1 THEN 'the roster says the one other clinician is not accepting new clients'
        WHEN a.open = 0 THEN 'the roster says none of the ' || a.others || ' other clinicians is accepting new clients'
        WHEN a.open = 1 THEN 'the one other clinician accepting new clients does not bill the payers of this referrer''s clients, '
            || 'have room or share a specialty with the point person'
        ELSE 'none of the ' || a.open || ' other clinicians accepting new clients bills the payers of this referrer''s clients, '
            || 'has room or shares a specialty with the point person'
    END END AS no_colleague -- NULL where a colleague is suggested
FROM intro i LEFT JOIN alone a USING (referrer) LEFT JOIN referrer_status s USING (referrer)
ORDER BY i.referrals DESC, i.last_referral DESC, i.referrer`

var watchColumns = []column{
	{"Referrer", kText}, {"Point person", kText}, {"Stage", kStage}, {"What happened", kWrap}, {"Since", kDate},
	{"Referrals (window)", kInt}, {"Last referral", kDate},
}

// shownPointPerson is the SQL text of the point person of the table aliased t as the
// lists show it, read beside referrer_status s: with " (left the practice)" when the
// point person has left (the roster's end date before the report month) and nobody has
// taken the referrer on since, as explain says it; "(none yet)" when none of the
// referrer's clients has a clinician yet.
func shownPointPerson(t string) string {
	return `coalesce(` + t + `.point_person || CASE WHEN s.point_person_source = 'left the practice' AND s.point_person = ` + t +
		`.point_person THEN ' (left the practice)' ELSE '' END, '(none yet)')`
}

// watchQuery reads one list, oldest first by its since; the cooling list, whose since is
// one day for every referrer (the start of the period compared), puts first the referrers
// who sent the most in the 9 months before, so that its largest losses lead it, and the
// page, which shows the first rows only, keeps them. The lapsed list, whose since is the
// last referral, is newest first: a referrer who stopped last season is the one to win
// back, and a list that keeps every referrer who ever lapsed put on the page's first
// rows those silent for years.
var watchQuery = `
SELECT w.referrer, ` + shownPointPerson("w") + `, w.stage, w.detail, w.since, s.referrals, s.last_referral
FROM watch_list w LEFT JOIN referrer_status s ON s.referrer = w.referrer
WHERE w.list = ?
ORDER BY CASE WHEN w.list = 'cooling' THEN s.referrals_prior END DESC NULLS LAST,
    CASE WHEN w.list = 'cooling' THEN s.referrals_recent END NULLS LAST,
    CASE WHEN w.list = 'lapsed' THEN w.since END DESC NULLS LAST,
    w.since NULLS LAST, w.referrer
LIMIT ?`

// watchList is one of the marketing lead's lists, with the words the page and the sheet show.
type watchList struct{ list, title, note string }

// watchLists are the marketing lead's lists, titled with the settings that made them.
func watchLists(r rules) []watchList {
	return []watchList{
		{"stalled", fmt.Sprintf("Stalled: at stage 2 for %s or more", plural(r.StalledMonths, "month")),
			"The referrer tries colleagues but has not moved to sending to the practice as a whole."},
		{"cooling", fmt.Sprintf("Cooling: referring at less than %s their usual rate", ratioWords(r.CoolingRatio)),
			fmt.Sprintf("The last %d days are below %s the rate of the 9 months before: a call from the point person may help. Since is the first of those %d days, the same for every referrer on the list.",
				r.RecentDays, ratioWords(r.CoolingRatio), r.RecentDays)},
		{"lapsed", fmt.Sprintf("Lapsed: no referral for %s after %d or more", plural(r.LapsedMonths, "month"), r.LapsedMinReferrals),
			"A referrer who used to send clients and stopped: the most recent first, the easiest to win back."},
		{"regressed", "Regressed: stage went down in the last 3 months",
			"The referrer went back to fewer clinicians: check whether a colleague's intake went badly (unless the detail says no referral came since: then older referrals leaving the window moved the stage)."},
	}
}

// readyRule says in words who is on the introductions list.
func readyRule(r rules) string {
	return fmt.Sprintf("Stage-1 referrers with %d or more referrals in the window and one in the last %d days",
		r.ReadyMinReferrals, r.RecentDays)
}

// plural is "1 month", "6 months".
func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// ratioWords is a share as the lists say it: "half of", "a third of", else a
// percentage ("40% of").
func ratioWords(r float64) string {
	switch {
	case math.Abs(r-0.5) < 1e-9:
		return "half of"
	case math.Abs(r-1.0/3) < 1e-4:
		return "a third of"
	case math.Abs(r-0.25) < 1e-9:
		return "a quarter of"
	}
	return strconv.FormatFloat(math.Round(r*1000)/10, 'f', -1, 64) + "% of"
}

func countWhere(ctx context.Context, db querier, what, query string, args ...any) (int, error) {
	var n int64
	if err := db.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count %s: %w", what, err)
	}
	return int(n), nil
}

func fetchIntroductionsSheet(ctx context.Context, db querier, st *styles, o overview) (sheetJob, error) {
	intro, err := queryAll(ctx, db, "introductions", introductionQuery, iso(o.month), iso(o.month))
	if err != nil {
		return sheetJob{}, err
	}
	for _, r := range intro {
		if r[4] == nil && r[10] != nil {
			r[5] = r[10] // the Why cell says why there is no colleague
		}
	}
	blocks := []block{{
		title: "Ready for introductions",
		note:  readyRule(o.rules) + ": colleagues of the point person to introduce, and why.",
		cols:  introductionColumns, rows: intro,
	}}
	for _, wl := range watchLists(o.rules) {
		rows, err := queryAll(ctx, db, wl.list+" referrers", watchQuery, wl.list, maxWorkbookWatch)
		if err != nil {
			return sheetJob{}, err
		}
		total, err := countWhere(ctx, db, wl.list+" referrers", `SELECT count(*) FROM watch_list WHERE list = ?`, wl.list)
		if err != nil {
			return sheetJob{}, err
		}
		blocks = append(blocks, block{title: wl.title, note: wl.note, cols: watchColumns, rows: rows, total: total})
	}
	return stackedTables(st, sheetIntroduction, blocks, true), nil // the filter is on the introductions list
}

// writeMonthlySheet writes referrals per referrer per month for 24 months: one row per source,
// a count column per month coloured by the referrer's stage that month, then the stages themselves.
func fetchMonthlySheet(ctx context.Context, db querier, st *styles, o overview) (sheetJob, error) {
	months := make([]time.Time, 0, volumeMonths)
	for i := volumeMonths - 1; i >= 0; i-- {
		months = append(months, o.monthsBack(i))
	}
	// One row per source. A source's months arrive as one text value, "month:count:stage"
	// triples joined by commas (month 0 is the first of the 24; an empty count or stage is
	// NULL): at network scale (32,000 referrers) this one aggregate took a tenth of the
	// time of 48 filtered ones, and a row costs one value to read instead of 48.
	from, to := iso(months[0]), iso(o.month)
	rows, err := queryAll(ctx, db, "monthly referrals", `
WITH cells AS (
    -- Every referral of the month, from the volumes: also one with no clinician yet,
    -- which the stage measures from the night one is assigned (referrer_months).
    SELECT 0 AS part, m.referrer, m.month, coalesce(v.referrals, 0)::BIGINT AS referrals, m.stage
    FROM referrer_months m
    LEFT JOIN (SELECT referrer, month, sum(referrals) AS referrals FROM monthly_volume
               WHERE source_kind = 'referrer' AND month BETWEEN ?::DATE AND ?::DATE GROUP BY ALL) v
        ON v.referrer = m.referrer AND v.month = m.month
    WHERE m.month BETWEEN ?::DATE AND ?::DATE
    UNION ALL
    SELECT CASE WHEN source_kind = 'channel' THEN 1 ELSE 2 END AS part,
        CASE WHEN source_kind = 'unknown' THEN '(no source)' ELSE referrer END AS referrer,
        month, sum(referrals)::BIGINT AS referrals, NULL AS stage
    FROM monthly_volume
    WHERE source_kind IN ('channel', 'unknown') AND month BETWEEN ?::DATE AND ?::DATE
    GROUP BY ALL
), sources AS (
    SELECT part, referrer, sum(referrals)::BIGINT AS total, count(stage) AS staged,
        string_agg(datediff('month', ?::DATE, month) || ':' || coalesce(referrals::VARCHAR, '')
            || ':' || coalesce(stage::VARCHAR, ''), ',') AS months
    FROM cells GROUP BY part, referrer
)
SELECT c.referrer,
    CASE c.part WHEN 0 THEN coalesce(s.category, 'referrer') WHEN 1 THEN 'marketing channel'
        ELSE 'no source recorded' END AS category,
    c.total, c.months
FROM sources c LEFT JOIN referrer_status s ON s.referrer = c.referrer -- the category is read for part 0 only
WHERE c.part > 0 OR c.total > 0 OR c.staged > 0
ORDER BY c.part, c.total DESC, c.referrer`, from, to, from, to, from, to, from)
	if err != nil {
		return sheetJob{}, err
	}
	cols := []column{{"Referrer or source", kText}, {"Category", kText}}
	for _, m := range months {
		cols = append(cols, column{m.Format("2006-01"), kInt})
	}
	cols = append(cols, column{"Total (24 months)", kInt})
	for _, m := range months {
		cols = append(cols, column{"Stage " + m.Format("2006-01"), kStage})
	}

	out := make([][]any, 0, len(rows))
	for _, r := range rows {
		// referrer, category, total, months
		cur := make([]any, len(cols))
		name, _ := asString(r[0])
		cur[0] = styled{st.text, name}
		cat, _ := asString(r[1])
		cur[1] = styled{st.text, cat}
		total, _ := asInt(r[2])
		cur[2+volumeMonths] = styled{st.integer, total}
		cells, _ := asString(r[3])
		for cell := range strings.SplitSeq(cells, ",") {
			m, n, stage, err := parseMonthCell(cell)
			if err != nil {
				return sheetJob{}, fmt.Errorf("monthly referrals of %q: %w", name, err)
			}
			if m < 0 || m >= volumeMonths {
				continue
			}
			colour := 0
			if stage >= 1 && stage <= 3 {
				colour = int(stage)
			}
			if n >= 0 {
				cur[2+m] = styled{st.stageCount[colour], n}
			}
			if stage >= 0 {
				cur[3+volumeMonths+m] = styled{st.stage[colour], stage}
			}
		}
		out = append(out, cur)
	}
	return singleTable(st, sheetMonthly, block{cols: cols, rows: out}), nil
}

// parseMonthCell reads one "month:count:stage" triple of the Monthly query; a count or
// stage that is NULL (empty) comes back as -1.
func parseMonthCell(cell string) (month int, count, stage int64, err error) {
	parts := strings.Split(cell, ":")
	if len(parts) != 3 {
		return 0, 0, 0, fmt.Errorf("month cell %q is not month:count:stage", cell)
	}
	if month, err = strconv.Atoi(parts[0]); err != nil {
		return 0, 0, 0, fmt.Errorf("month cell %q: %w", cell, err)
	}
	num := func(s string) (int64, error) {
		if s == "" {
			return -1, nil
		}
		return strconv.ParseInt(s, 10, 64)
	}
	if count, err = num(parts[1]); err != nil {
		return 0, 0, 0, fmt.Errorf("month cell %q: %w", cell, err)
	}
	if stage, err = num(parts[2]); err != nil {
		return 0, 0, 0, fmt.Errorf("month cell %q: %w", cell, err)
	}
	return month, count, stage, nil
}

func fetchCliniciansSheet(ctx context.Context, db querier, st *styles, _ overview) (sheetJob, error) {
	rows, err := queryAll(ctx, db, "clinicians", `
SELECT clinician, referrals, from_referrers, point_person_for, attended_intakes, pending_intakes, attended_rate::DOUBLE,
    attended_rate_as_point_person::DOUBLE, attended_rate_as_colleague::DOUBLE, billed::DOUBLE, paid::DOUBLE
FROM follow_through_clinician
ORDER BY referrals DESC, clinician`)
	if err != nil {
		return sheetJob{}, err
	}
	cols := []column{
		{"Clinician", kText}, {"Referrals received", kInt}, {"Referrers sending", kInt}, {"Point person for", kInt},
		{"Attended intakes", kInt}, {"Pending intakes", kInt}, {"Attended-intake rate", kShare}, {"Rate as point person", kShare},
		{"Rate as colleague", kShare}, {"Billed", kMoney}, {"Paid", kMoney},
	}
	return singleTable(st, sheetClinicians, block{cols: cols, rows: rows}), nil
}

func fetchTransitionsSheet(ctx context.Context, db querier, st *styles, o overview) (sheetJob, error) {
	rows, err := queryAll(ctx, db, "stage transitions", `
SELECT referrer, month, from_stage, to_stage, direction
FROM stage_transitions
WHERE month BETWEEN ?::DATE AND ?::DATE
ORDER BY month DESC, referrer, direction`, iso(o.monthsBack(stageMonths-1)), iso(o.month))
	if err != nil {
		return sheetJob{}, err
	}
	cols := []column{{"Referrer", kText}, {"Month", kMonth}, {"From stage", kStage}, {"To stage", kStage}, {"Direction", kText}}
	return singleTable(st, sheetTransitions, block{cols: cols, rows: rows}), nil
}

func fetchDataQualitySheet(ctx context.Context, db querier, st *styles, o overview) (sheetJob, error) {
	type part struct {
		title, note string
		cols        []column
		query       string
		count       string
		args        []any
		limit       int
	}
	window := []any{iso(o.windowStart), iso(o.month)}
	parts := []part{
		{"Files loaded", "Every export file version in the ledger, newest first. A version that a later one at the same path " +
			"replaced names it: its rejected rows are no longer listed (the later version's are).",
			[]column{{"File id", kInt}, {"Source", kText}, {"Path", kText}, {"Encoding", kText}, {"Rows loaded", kInt},
				{"Rows rejected", kInt}, {"Rows replaced", kInt}, {"Loaded at", kStamp}, {"Replaced by file", kInt}},
			`SELECT file_id, source, path, encoding, rows_loaded, rows_rejected, rows_replaced, loaded_at,
                 (SELECT min(n.file_id) FROM ingest_files n WHERE n.path = f.path AND n.file_id > f.file_id)
             FROM ingest_files f ORDER BY file_id DESC LIMIT ?`, `SELECT count(*) FROM ingest_files`, nil, maxQualityRows},
		{"Files that failed", "Files that could not be loaded at all, and file patterns of the configuration that match no file " +
			"(the path is the pattern): the message says what to fix or check. A file or pattern is listed while it fails.",
			[]column{{"Source", kText}, {"Path", kText}, {"Problem", kText}, {"Seen at (UTC)", kStamp}},
			`SELECT source, path, problem, seen_at FROM ingest_problems ORDER BY seen_at DESC, path LIMIT ?`,
			`SELECT count(*) FROM ingest_problems`, nil, maxQualityRows},
		{"Unresolved clinician names", "Names in the exports that match no clinician of the roster: add them to the roster's aliases. (Rows with no clinician at all are not listed: a client none of whose rows names one is measured once one does.)",
			[]column{{"Name as exported", kText}, {"Export", kText}, {"Rows", kInt}, {"First date", kDate}, {"Last date", kDate}},
			`SELECT trim(s.provider), s.export, sum(p.n)::BIGINT AS n, min(p.first_date), max(p.last_date)
             FROM stg_clinician_spellings s
             JOIN client_providers p ON p.export = s.export AND p.provider IS NOT DISTINCT FROM s.provider
                 AND p.provider_npi IS NOT DISTINCT FROM s.provider_npi
             WHERE NOT s.clinician_resolved AND nullif(trim(s.provider), '') IS NOT NULL
             GROUP BY trim(s.provider), s.export ORDER BY n DESC, 1, 2 LIMIT ?`,
			`SELECT count(*) FROM (SELECT DISTINCT trim(provider), export FROM stg_clinician_spellings
             WHERE NOT clinician_resolved AND nullif(trim(provider), '') IS NOT NULL)`, nil, maxQualityRows},
		{"Appointment statuses not understood", "Status spellings of the loaded appointments that are none of the words the tool knows, with how many appointments carry each, " +
			"the most common first. Such an appointment counts as neither attended nor booked: a client whose appointments carry only such statuses has no attended intake " +
			"(the follow-through rates fall), is assigned the clinician of the first appointment instead of the first attended one, and has no intake still to come. " +
			"Say what each means under [scheduling.statuses] in the configuration (attended, no_show, late_cancelled, cancelled, scheduled; other for a word that is none of them, which leaves this list).",
			[]column{{"Status as exported", kText}, {"Appointments", kInt}},
			`SELECT status, appointments FROM stg_unknown_statuses ORDER BY appointments DESC, status LIMIT ?`,
			`SELECT count(*) FROM stg_unknown_statuses`, nil, maxQualityRows},
		{"Directory point persons not on the roster", "Point persons the referrer directory names that match no clinician of the roster (a typo, or a clinician missing from it): such a referrer's point person is the clinician of its first referral until the directory or the roster is fixed.",
			[]column{{"Referrer", kText}, {"Point person in the directory", kText}},
			`SELECT referrer, point_person FROM stg_unknown_point_persons ORDER BY 1, 2 LIMIT ?`,
			`SELECT count(*) FROM stg_unknown_point_persons`, nil, maxQualityRows},
		{"Reference file warnings", "What the roster's and the directory's rows say that the tool cannot take as meant (two clinicians whose names are one name to it, an alias two share, one NPI for two, a referrer entered twice, an alias given to two referrers): each says which lines, what happens meanwhile and what to change. The run and check print them too.",
			[]column{{"Warning", kText}},
			`SELECT message FROM ref_warnings ORDER BY rowid LIMIT ?`,
			`SELECT count(*) FROM ref_warnings`, nil, maxQualityRows},
		{"Referrals with no source", "Referrals in the window with neither a referral source nor a referring provider, by month and clinician: ask the front desk to record the source.",
			[]column{{"Month", kMonth}, {"Assigned clinician", kText}, {"Found in", kText}, {"Referrals", kInt}},
			`SELECT referral_month, coalesce(assigned_clinician, '(no clinician yet)'), origin, count(*)::BIGINT AS n FROM referrals
             WHERE source_kind = 'unknown' AND referral_month BETWEEN ?::DATE AND ?::DATE
             GROUP BY ALL ORDER BY 1 DESC, n DESC, 2, 3 LIMIT ?`,
			`SELECT count(*) FROM (SELECT DISTINCT referral_month, assigned_clinician, origin FROM referrals
             WHERE source_kind = 'unknown' AND referral_month BETWEEN ?::DATE AND ?::DATE)`, window, maxQualityRows},
		{"Merged referrer spellings", "Spellings that were counted as one referrer, and how they were matched.",
			[]column{{"Referrer", kText}, {"Spelling", kText}, {"NPI", kText}, {"Matched by", kText}},
			`SELECT referrer, raw_name, npi, resolved_by FROM stg_referrer_spellings
             WHERE raw_name IS DISTINCT FROM referrer ORDER BY referrer, raw_name, npi NULLS FIRST, resolved_by LIMIT ?`,
			`SELECT count(*) FROM stg_referrer_spellings WHERE raw_name IS DISTINCT FROM referrer`, nil, maxQualityRows},
		{"Names typed without an NPI that several NPIs share", "Two NPIs are two referrers, even with one name: each is shown with its NPI. A spelling typed without an NPI could be any of them, so it is counted as a referrer of its own: record the NPI with the referral, or add the spelling to the alias file under the one it is.",
			[]column{{"Spelling", kText}, {"Counted as", kText}, {"Referrers with NPIs", kText}},
			`SELECT s.raw_name, s.referrer, string_agg(DISTINCT o.referrer, '; ' ORDER BY o.referrer)
             FROM stg_referrer_spellings s JOIN stg_referrer_spellings o ON o.name_key = s.name_key AND o.npi IS NOT NULL
             WHERE s.resolved_by = 'several NPIs' GROUP BY ALL ORDER BY 1, 2 LIMIT ?`,
			`SELECT count(*) FROM stg_referrer_spellings WHERE resolved_by = 'several NPIs'`, nil, maxQualityRows},
		{"Near-duplicate referrer names", "Similar names that were not merged (or with the same words, in another order or but for a part in parentheses): if they are the same person, add an alias.",
			[]column{{"Referrer", kText}, {"Similar referrer", kText}, {"Similarity", kDecimal}},
			`SELECT referrer_a, referrer_b, similarity::DOUBLE FROM referrer_near_duplicates
             ORDER BY similarity DESC, referrer_a, referrer_b LIMIT ?`,
			`SELECT count(*) FROM referrer_near_duplicates`, nil, maxQualityRows},
		{"Rejected rows", "Rows that were not loaded, with the line in the file and what to do.",
			[]column{{"File", kText}, {"Line", kInt}, {"Column", kText}, {"Error", kText}, {"Message", kText}},
			`SELECT path, line, column_name, error_type, message FROM rejected_rows
             ORDER BY file_id NULLS LAST, path, line, column_name, error_type, message LIMIT ?`,
			`SELECT count(*) FROM rejected_rows`, nil, maxRejectedRows},
	}
	var blocks []block
	for _, p := range parts {
		rows, err := queryAll(ctx, db, p.title, p.query, append(append([]any{}, p.args...), p.limit)...)
		if err != nil {
			return sheetJob{}, err
		}
		total, err := countWhere(ctx, db, p.title, p.count, p.args...)
		if err != nil {
			return sheetJob{}, err
		}
		blocks = append(blocks, block{title: p.title, note: p.note, cols: p.cols, rows: rows, total: total})
	}
	return stackedTables(st, sheetDataQuality, blocks, false), nil
}
