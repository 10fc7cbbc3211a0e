package sample

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// Options say what to generate.
type Options struct {
	Out        string    // output folder
	Scale      float64   // 1 = the committed sample practice; K multiplies clinicians, referrers and clients
	Seed       int64     // same options, same seed: byte-identical files
	End        time.Time // last month covered (any day of it); data runs to its last day. Zero: 2026-10
	Months     int       // how many months; 0 means 40
	SingleFile bool      // one scheduling file and one billing file, no re-exports and no planted quirks
	// Progress, if set, is called after every few thousand export rows with
	// the total so far. Calls come from the writer goroutines, one at a time.
	Progress func(rowsWritten int64)
}

// Summary counts what Generate wrote. Rows are data rows, without headers.
type Summary struct {
	SchedulingFiles, BillingFiles  int
	SchedulingRows, BillingRows    int64
	Clients, Referrers, Clinicians int // Referrers includes the channels
}

// DefaultEnd is the last month of the committed sample when Options.End is zero.
var DefaultEnd = time.Date(2026, time.October, 1, 0, 0, 0, 0, time.UTC)

// DefaultMonths is the length of the period when Options.Months is zero.
const DefaultMonths = 40

// rowsPerScale is the export rows (scheduling + billing) that one unit of
// scale gives in the default layout with 40 months, measured over seeds and
// scales from 0.25 to 10 (TestScaleForRows keeps it honest).
const rowsPerScale = 28300

// ScaleForRows returns the Scale at which Generate writes about rows export
// rows (scheduling plus billing) in the default layout (monthly and
// quarterly files) over the default 40 months, as `referrals bench --rows`
// generates them. With SingleFile the same Scale writes about two-thirds as
// many rows, because no month is exported twice.
func ScaleForRows(rows int64) float64 {
	if rows <= 0 {
		return 0
	}
	return float64(rows) / rowsPerScale
}

type quirkPlan struct {
	cp1252Month   int // scheduling file in Windows-1252 (José Núñez is in it)
	bomQuarter    int // quarter key of the billing file with a BOM and CRLF
	badDateMonth  int // scheduling file with an impossible date
	tooManyMonth  int // scheduling file with a row of too many fields
	naChargeMonth int // month whose claims get a Charge of n/a
}

type badRow struct {
	File    string `csv:"file"`
	Line    int64  `csv:"line"`
	Column  string `csv:"column"`
	Problem string `csv:"problem"`
}

// world is one generation run: the practice, the calendar, the open files.
// Everything random comes from rng, used in a fixed order, so a seed fixes
// every byte.
type world struct {
	o           Options
	scale       float64
	months      int
	rng         *rand.Rand
	names       *namePool
	npis        *npiGen
	start       time.Time
	month       []monthInfo
	days        int
	dayStr      []string
	dayYear     []int16
	dayMonthIdx []int16
	holiday     []bool
	slotText    []string
	moneyText   map[int64]string
	payerShares []float64

	clinicians []*clinician
	referrers  []*referrer
	nonChannel int // referrers[:nonChannel] are people, the rest channels
	physicians []*referrer
	active     []*clinician // clinicians working some day of the month being simulated

	clients     int
	nextAppt    int64
	nextClaim   int64
	billingAsOf int
	buckets     [][]*appointment // appointments by month; a month is dropped once exported twice
	truth       []referralTruth
	plan        quirkPlan
	badRows     []badRow

	sum         Summary
	progressMu  sync.Mutex // the writer goroutines report rows through it
	rowsWritten int64
	sched       *csvFile // the single scheduling file
	schedBatch  *batch[appointmentRow]
	bill        *csvFile // the billing file of the current quarter
	billBatch   *batch[claimRow]
	billQuarter int
	claimLines  []claimRow
}

// Generate writes a synthetic practice's exports, reference files and the
// truth behind them into o.Out (files of an earlier run with other options
// are not removed). Files are written under temporary names and renamed when
// complete; when ctx is cancelled Generate stops within a batch of rows and
// returns ctx's error, leaving the files completed so far and no truth.
func Generate(ctx context.Context, o Options) (Summary, error) {
	if o.Out == "" {
		return Summary{}, errors.New("sample: no output folder")
	}
	if o.Scale <= 0 || math.IsNaN(o.Scale) || math.IsInf(o.Scale, 0) {
		o.Scale = 1
	}
	if o.Months <= 0 {
		o.Months = DefaultMonths
	}
	end := DefaultEnd
	if !o.End.IsZero() {
		end = time.Date(o.End.Year(), o.End.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	w := &world{
		o:         o,
		scale:     o.Scale,
		months:    o.Months,
		start:     end.AddDate(0, -(o.Months - 1), 0),
		rng:       rand.New(rand.NewPCG(uint64(o.Seed), 0x5a3b1e_2026)),
		moneyText: map[int64]string{},
	}
	w.payerShares = payerShares()
	for _, mins := range slotMinutes {
		h, mm := mins/60, mins%60
		ampm := "AM"
		if h >= 12 {
			ampm = "PM"
		}
		if h > 12 {
			h -= 12
		}
		w.slotText = append(w.slotText, fmt.Sprintf("%d:%02d %s", h, mm, ampm))
	}
	w.buildMonths()
	w.billingAsOf = w.month[w.months-1].exportDay
	w.planQuirks()
	w.names = newNamePool(w.rng)
	w.npis = &npiGen{used: map[string]bool{}}
	w.buildClinicians()
	w.buildReferrers()
	w.choosePointPersons()
	w.finishPaths()
	w.buildChannels()
	for _, r := range w.referrers {
		if !r.channel && r.category == "physician" {
			w.physicians = append(w.physicians, r)
		}
	}
	w.buckets = make([][]*appointment, w.months)
	w.sum.Referrers = len(w.referrers)
	w.sum.Clinicians = len(w.clinicians)

	if err := w.writeReference(); err != nil {
		return w.sum, fmt.Errorf("sample: %w", err)
	}
	if err := w.run(ctx); err != nil {
		if w.sched != nil {
			w.schedBatch.close()
			w.sched.abort()
		}
		if w.bill != nil {
			w.billBatch.close()
			w.bill.abort()
		}
		w.sum.Clients = w.clients
		return w.sum, fmt.Errorf("sample: %w", err)
	}
	w.sum.Clients = w.clients
	if err := w.writeTruth(); err != nil {
		return w.sum, fmt.Errorf("sample: %w", err)
	}
	return w.sum, nil
}

func (w *world) run(ctx context.Context) error {
	for m := range w.months {
		if err := ctx.Err(); err != nil {
			return err
		}
		w.simulateMonth(m)
		slices.SortFunc(w.buckets[m], func(a, b *appointment) int {
			switch {
			case a.day != b.day:
				return int(a.day - b.day)
			case a.slot != b.slot:
				return int(a.slot) - int(b.slot)
			}
			return int(a.id - b.id)
		})
		if err := w.writeScheduling(ctx, m); err != nil {
			return err
		}
		if err := w.writeBilling(ctx, m); err != nil {
			return err
		}
		if m > 0 {
			w.buckets[m-1] = nil
		}
	}
	if w.sched != nil {
		if err := w.schedBatch.close(); err != nil {
			return err
		}
		w.sum.SchedulingRows += w.sched.rows
		w.sum.SchedulingFiles++
		err := w.sched.commit()
		w.sched = nil
		if err != nil {
			return err
		}
	}
	return w.closeBilling()
}

func (w *world) create(rel string, ff fileFormat) (*csvFile, error) {
	f, err := createCSV(w.o.Out, rel, ff)
	if err != nil {
		return nil, err
	}
	f.onRows = func(n int64) {
		w.progressMu.Lock()
		defer w.progressMu.Unlock()
		w.rowsWritten += n
		if w.o.Progress != nil {
			w.o.Progress(w.rowsWritten)
		}
	}
	return f, nil
}

// planQuirks places the planted file quirks (monthly layout only) at fixed
// positions in the period, so with the default 40 months ending 2026-10 they
// are: cp1252 appointments-2025-03, BOM+CRLF claims-2024-Q2, 02/30/2025 in
// appointments-2025-02, too many fields in appointments-2026-01, Charge n/a
// in claims-2025-Q3.
func (w *world) planQuirks() {
	M := w.months
	w.plan = quirkPlan{-1, -1, -1, -1, -1}
	if w.o.SingleFile {
		return
	}
	p := &w.plan
	p.cp1252Month = M / 2
	p.bomQuarter = w.quarterKey(M / 4)
	target := M/2 - 1
	for m := 0; m < M-1; m++ {
		if w.month[m].first.Month() != time.February || m == p.cp1252Month {
			continue
		}
		if p.badDateMonth < 0 || abs(m-target) < abs(p.badDateMonth-target) {
			p.badDateMonth = m
		}
	}
	if p.badDateMonth < 0 {
		p.badDateMonth = clamp(target, 0, M-1)
	}
	p.tooManyMonth = clamp(3*M/4, 0, max(0, M-2))
	p.naChargeMonth = clamp(5*M/8, 0, M-1)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func (w *world) quarterKey(m int) int {
	f := w.month[m].first
	return f.Year()*4 + (int(f.Month())-1)/3
}

// pickMiddle returns the first appointment from the middle of the month on
// that ok accepts, so a planted row sits well inside its file.
func pickMiddle(apps []*appointment, ok func(*appointment) bool) *appointment {
	n := len(apps)
	for i := range n {
		if a := apps[(n/2+i)%n]; ok(a) {
			return a
		}
	}
	return nil
}

func (w *world) writeScheduling(ctx context.Context, m int) error {
	if w.o.SingleFile {
		if w.sched == nil {
			f, err := w.create("exports/scheduling/appointments.csv", fileFormat{})
			if err != nil {
				return err
			}
			b, err := newBatch[appointmentRow](ctx, f)
			if err != nil {
				f.abort()
				return err
			}
			w.sched, w.schedBatch = f, b
		}
		for _, a := range w.buckets[m] {
			if a.flags&fBillingOnly == 0 {
				if err := w.schedBatch.add(w.appointmentRow(a, w.billingAsOf)); err != nil {
					return err
				}
			}
		}
		return nil
	}

	mi := w.month[m]
	rel := "exports/scheduling/appointments-" + mi.label + ".csv"
	f, err := w.create(rel, fileFormat{cp1252: m == w.plan.cp1252Month})
	if err != nil {
		return err
	}
	err = w.writeSchedulingFile(ctx, f, m)
	if err != nil {
		f.abort()
		return err
	}
	w.sum.SchedulingRows += f.rows
	w.sum.SchedulingFiles++
	return f.commit()
}

// writeSchedulingFile writes month m's export: last month's appointments
// again with their final statuses, then this month's as of the export day.
func (w *world) writeSchedulingFile(ctx context.Context, f *csvFile, m int) error {
	mi := w.month[m]
	var prev []*appointment
	if m > 0 {
		prev = w.buckets[m-1]
	}
	cur := w.buckets[m]

	// Planted rows are follow-up visits of clients with a known source, so a
	// rejected row changes no referral; the next export carries them intact.
	plain := func(a *appointment) bool {
		return a.flags&(fBillingOnly|fFirst) == 0 && a.cl.source != ""
	}
	var badDate, tooMany *appointment
	if m == w.plan.badDateMonth {
		badDate = pickMiddle(cur, plain)
	}
	if m == w.plan.tooManyMonth {
		tooMany = pickMiddle(cur, func(a *appointment) bool {
			return plain(a) && a != badDate && containsComma(a.cl.source)
		})
		if tooMany == nil {
			tooMany = pickMiddle(cur, func(a *appointment) bool { return plain(a) && a != badDate })
		}
	}
	if tooMany != nil {
		// The writer goroutine reads splitAt, so it is set before any row goes out.
		row := int64(0)
		for _, a := range slices.Concat(prev, cur) {
			if a.flags&fBillingOnly == 0 {
				row++
			}
			if a == tooMany {
				break
			}
		}
		f.splitAt = map[int64]int{row: referralSourceField}
	}

	b, err := newBatch[appointmentRow](ctx, f)
	if err != nil {
		return err
	}
	for _, a := range prev {
		if a.flags&fBillingOnly == 0 {
			if err := b.add(w.appointmentRow(a, mi.exportDay)); err != nil {
				b.close()
				return err
			}
		}
	}
	for _, a := range cur {
		if a.flags&fBillingOnly != 0 {
			continue
		}
		row := w.appointmentRow(a, mi.exportDay)
		switch a {
		case badDate:
			row.AppointmentDate = impossibleDate(mi)
			w.badRows = append(w.badRows, badRow{f.rel, b.nextLine(), "Appointment Date",
				"impossible date " + row.AppointmentDate})
		case tooMany:
			problem := "11 fields where the header has 10: the Referral Source " + row.ReferralSource + " was written without quotes"
			if !containsComma(row.ReferralSource) {
				problem = "11 fields where the header has 10: an empty field after Referral Source"
				row.ReferralSource += ","
			}
			w.badRows = append(w.badRows, badRow{f.rel, b.nextLine(), "", problem})
		}
		if err := b.add(row); err != nil {
			b.close()
			return err
		}
	}
	return b.close()
}

func containsComma(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == ',' {
			return true
		}
	}
	return false
}

func (w *world) writeBilling(ctx context.Context, m int) error {
	var rel string
	var ff fileFormat
	key := w.quarterKey(m)
	switch {
	case w.o.SingleFile && w.bill == nil:
		rel = "exports/billing/claims.csv"
	case !w.o.SingleFile && (w.bill == nil || key != w.billQuarter):
		if err := w.closeBilling(); err != nil {
			return err
		}
		rel = fmt.Sprintf("exports/billing/claims-%d-Q%d.csv", key/4, key%4+1)
		ff = fileFormat{bom: key == w.plan.bomQuarter, crlf: key == w.plan.bomQuarter}
	}
	if rel != "" {
		f, err := w.create(rel, ff)
		if err != nil {
			return err
		}
		b, err := newBatch[claimRow](ctx, f)
		if err != nil {
			f.abort()
			return err
		}
		w.bill, w.billBatch, w.billQuarter = f, b, key
	}
	var na *appointment
	if m == w.plan.naChargeMonth {
		na = pickMiddle(w.buckets[m], func(a *appointment) bool {
			return a.flags&fClaim != 0 && a.flags&(fFirstClaim|fBillingOnly) == 0 && a.cl.source != ""
		})
	}
	for _, a := range w.buckets[m] {
		if a.flags&fClaim == 0 {
			continue
		}
		w.claimLines = w.claimRows(a, w.claimLines[:0])
		if a == na {
			w.claimLines[0].Charge = "n/a"
			w.badRows = append(w.badRows, badRow{w.bill.rel, w.billBatch.nextLine(), "Charge", "Charge is n/a, not an amount"})
		}
		for _, l := range w.claimLines {
			if err := w.billBatch.add(l); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *world) closeBilling() error {
	if w.bill == nil {
		return nil
	}
	f := w.bill
	if err := w.billBatch.close(); err != nil {
		return err
	}
	w.bill = nil
	w.sum.BillingRows += f.rows
	w.sum.BillingFiles++
	return f.commit()
}
