package sample

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"
)

type monthInfo struct {
	first     time.Time
	label     string // 2006-01
	firstDay  int    // day index of the 1st
	lastDay   int
	exportDay int   // the day the month's scheduling export was taken
	weekdays  []int // day indices of Monday–Friday
}

// Final appointment statuses. stStale is an appointment nobody updated: it
// still says Scheduled in every export.
const (
	stAttended uint8 = iota
	stNoShow
	stCancelled
	stLateCancel
	stStale
)

const (
	svcIntake uint8 = iota
	svcIndividual53
	svcIndividual38
	svcFamily
)

const (
	fFirst       uint8 = 1 << iota // the client's first appointment (the referral)
	fBillingOnly                   // on claims only, never on the schedule
	fClaim                         // billed
	fAddOn                         // billed with an interactive-complexity add-on line
	fFirstClaim                    // the client's earliest claim
)

type client struct {
	account     int64
	accountText string
	source      string // Referral Source as typed, "" when blank
	referredTo  string
	npi         string // Referrer NPI on scheduling rows
	refProvName string // Referring Provider on claims
	refProvNPI  string
	payer       uint8
	payFactor   uint8 // index into planFactors: the share a plan pays after the client's part
}

type appointment struct {
	id      int64
	cl      *client
	day     int32
	clin    int32
	slot    uint8
	status  uint8
	service uint8
	flags   uint8
}

// referralTruth is what a correct pipeline should find for one referred
// client (see truth/referrals.csv).
type referralTruth struct {
	account     int64
	day         int32
	billingOnly bool
	ref         *referrer // attributed referrer or channel, nil = unknown
	requested   *clinician
	reqPractice int8 // 1 practice, 0 a clinician, -1 unknown (billing only)
	assigned    *clinician
	stage       int8
}

type intent struct {
	r        *referrer // nil: a client with no known source
	day      int
	forced   bool   // the referrer's first-ever referral: goes to the point person
	spelling string // Referral Source override (the planted José Núñez)
}

func (w *world) buildMonths() {
	w.month = make([]monthInfo, w.months)
	day := 0
	for m := range w.months {
		first := w.start.AddDate(0, m, 0)
		n := first.AddDate(0, 1, -1).Day()
		mi := monthInfo{first: first, label: first.Format("2006-01"), firstDay: day, lastDay: day + n - 1}
		mi.exportDay = min(mi.lastDay, day+23)
		for d := range n {
			date := first.AddDate(0, 0, d)
			hol := isHoliday(date)
			w.holiday = append(w.holiday, hol)
			if wd := date.Weekday(); wd != time.Saturday && wd != time.Sunday && !hol {
				mi.weekdays = append(mi.weekdays, day+d)
			}
			w.dayStr = append(w.dayStr, first.AddDate(0, 0, d).Format("01/02/2006"))
			w.dayYear = append(w.dayYear, int16(first.Year()))
			w.dayMonthIdx = append(w.dayMonthIdx, int16(m))
		}
		w.month[m] = mi
		day += n
	}
	w.days = day
}

// isHoliday: the office is closed on New Year's Day, Independence Day,
// Thanksgiving and Christmas.
func isHoliday(d time.Time) bool {
	switch {
	case d.Month() == time.January && d.Day() == 1,
		d.Month() == time.July && d.Day() == 4,
		d.Month() == time.December && d.Day() == 25:
		return true
	case d.Month() == time.November && d.Weekday() == time.Thursday && d.Day() > 21 && d.Day() <= 28:
		return true
	}
	return false
}

func (w *world) dayMonth(day int) int {
	if day < 0 {
		return -1
	}
	if day >= w.days {
		return w.months
	}
	return int(w.dayMonthIdx[day])
}

func (w *world) monthLastDay(m int) int { return w.month[m].lastDay }

// season scales a referrer's monthly volume: school counsellors are quiet in
// summer and busy in autumn; everyone is slow in December.
func season(category string, mo time.Month) float64 {
	f := 1.0
	switch mo {
	case time.December:
		f = 0.75
	case time.January:
		f = 1.15
	}
	if category == "school counsellor" {
		switch mo {
		case time.July:
			f *= 0.3
		case time.August:
			f *= 0.6
		case time.September, time.October:
			f *= 1.4
		}
	}
	return f
}

func poisson(rng *rand.Rand, lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	if lambda > 30 {
		return max(0, int(math.Round(lambda+math.Sqrt(lambda)*rng.NormFloat64())))
	}
	l := math.Exp(-lambda)
	k, p := 0, 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// simulateMonth creates the month's referred clients and books their
// appointments (which may run into later months).
func (w *world) simulateMonth(m int) {
	mi := &w.month[m]
	w.active = w.active[:0]
	for _, c := range w.clinicians {
		if c.startDay <= mi.lastDay && c.endDay >= mi.firstDay {
			w.active = append(w.active, c)
		}
	}
	var intents []intent
	wd := mi.weekdays
	for _, r := range w.referrers {
		if !r.channel && r.stage[m] == 0 {
			continue
		}
		lambda := r.rate * season(r.category, mi.first.Month())
		if m >= r.coolFrom {
			lambda *= 0.25
		}
		if r.channel && r.canonical == "Psychology Today" {
			lambda *= 0.7 + 0.6*float64(m)/float64(w.months)
		}
		n := poisson(w.rng, lambda)
		forced := !r.channel && m == r.startMonth
		if forced && n == 0 {
			n = 1
		}
		if r.nunez && m == w.plan.cp1252Month && n == 0 {
			n = 1
		}
		if forced {
			// The first-ever referral is strictly the earliest, so "the assigned
			// clinician of the first referral" is the point person.
			d0 := wd[w.rng.IntN(max(1, len(wd)*6/10))]
			intents = append(intents, intent{r: r, day: d0, forced: true})
			later := wd[slices.Index(wd, d0)+1:]
			for range n - 1 {
				if len(later) == 0 {
					break
				}
				intents = append(intents, intent{r: r, day: later[w.rng.IntN(len(later))]})
			}
		} else {
			for range n {
				intents = append(intents, intent{r: r, day: wd[w.rng.IntN(len(wd))]})
			}
		}
		if r.nunez && m == w.plan.cp1252Month {
			intents[len(intents)-1].spelling = nunezFirst + " " + nunezLast
		}
	}
	for range poisson(w.rng, 0.8*w.scale) {
		intents = append(intents, intent{day: wd[w.rng.IntN(len(wd))]})
	}
	slices.SortStableFunc(intents, func(a, b intent) int { return a.day - b.day })
	for _, it := range intents {
		w.newClient(it, m)
	}
}

var practiceValues = []string{"", "Any", "Practice", "First available"}
var practiceWeights = []float64{0.45, 0.25, 0.2, 0.1}

func (w *world) newClient(it intent, m int) {
	rng := w.rng
	w.clients++
	cl := &client{account: 100000 + int64(w.clients)}
	cl.accountText = strconv.FormatInt(cl.account, 10)
	tr := referralTruth{account: cl.account, day: int32(it.day)}
	r := it.r
	var requested, assigned *clinician
	practice := false
	stage := int8(0)
	switch {
	case r == nil:
		practice = true
		assigned = w.byRoom(it.day, nil)
	case r.channel:
		assigned = w.byRoom(it.day, nil)
		if rng.Float64() < 0.4 {
			requested = assigned // found that clinician's profile
		} else {
			practice = true
		}
	default:
		stage = r.stage[m]
		pp := r.pp
		ppHere := pp.activeOn(it.day)
		u := rng.Float64()
		switch {
		case it.forced:
			assigned = pp
			if stage == 3 {
				practice = true
			} else {
				requested = pp
			}
		case stage == 1 && u < 0.95 && ppHere:
			requested, assigned = pp, pp
		case stage == 1 && u < 0.975 && ppHere:
			requested, assigned = pp, w.byRoom(it.day, pp) // the point person is full
		case stage == 1:
			practice = true
			assigned = w.byRoom(it.day, nil)
		case stage == 2 && u < 0.45 && ppHere:
			requested, assigned = pp, pp
		case stage == 2 && u < 0.9:
			c := w.colleague(r, it.day)
			requested, assigned = c, c
		case stage == 2:
			practice = true
			assigned = w.byRoom(it.day, nil)
		case u < 0.85: // stage 3
			practice = true
			assigned = w.byRoom(it.day, nil)
		case u < 0.93 && ppHere:
			requested, assigned = pp, pp
		default:
			c := w.byRoom(it.day, nil)
			requested, assigned = c, c
		}
	}
	assigned.addLoad(it.day)

	// Payer: the referrer's usual payer or the general mix, one the clinician takes.
	p := weighted(rng, w.payerShares)
	if r != nil && rng.Float64() < 0.4 {
		p = r.domPayer
	}
	for try := 0; try < 3 && !assigned.takes(p); try++ {
		p = weighted(rng, w.payerShares)
	}
	if !assigned.takes(p) {
		p = selfPay
	}
	cl.payer = uint8(p)
	cl.payFactor = uint8(rng.IntN(len(planFactors)))

	physician := r != nil && !r.channel && r.category == "physician"
	// About 3% of clients never reach the schedule (seen at a partner site,
	// booked by phone into the billing system). Only a physician's claims show
	// who sent them, through the claim's referring provider.
	billingOnly := !it.forced && it.spelling == "" && it.day <= w.billingAsOf && rng.Float64() < 0.03
	spellIdx := -1
	switch {
	case billingOnly || r == nil:
	case physician && !it.forced && it.spelling == "" && rng.Float64() < 0.12:
		// The front desk left the source blank; billing names the physician.
	default:
		cl.source, spellIdx = r.spelling(rng)
		switch {
		case it.spelling != "":
			cl.source, spellIdx = it.spelling, -1
		case r.nearDup != "" && !r.nearDupUsed && r.referrals > 0:
			cl.source, spellIdx = r.nearDup, -1 // make sure the unmerged spelling occurs
		}
		r.nearDupUsed = r.nearDupUsed || cl.source == r.nearDup
	}
	if r != nil {
		r.referrals++
	}
	if cl.source != "" && !r.channel && r.npi != "" && (spellIdx == r.npiOnly || rng.Float64() < r.npiOnRows) {
		cl.npi = r.npi
	}
	switch {
	case physician:
		pr := 0.9
		if billingOnly {
			pr = 1
		} else if cl.source == "" {
			pr = 0.85
		}
		if rng.Float64() < pr {
			cl.refProvName, cl.refProvNPI = r.billName, r.npi
		}
	case r != nil && r.channel && !billingOnly && len(w.physicians) > 0 && rng.Float64() < 0.04:
		// Insurance wanted a PCP referral; the scheduling source still wins.
		pcp := w.physicians[rng.IntN(len(w.physicians))]
		cl.refProvName, cl.refProvNPI = pcp.billName, pcp.npi
	}
	if !billingOnly {
		if practice {
			cl.referredTo = practiceValues[weighted(rng, practiceWeights)]
		} else {
			cl.referredTo = requested.askedName(rng)
		}
	}

	hasClaim := w.book(cl, assigned, it.day, billingOnly)

	tr.billingOnly = billingOnly
	tr.assigned = assigned
	switch {
	case billingOnly:
		tr.reqPractice = -1
	case practice:
		tr.reqPractice = 1
	default:
		tr.requested = requested
	}
	switch {
	case !billingOnly && cl.source != "":
		tr.ref = r
	case hasClaim && cl.refProvNPI != "" && physician:
		tr.ref = r // named by the referring provider on the claims
	}
	if tr.ref != nil && !tr.ref.channel {
		tr.stage = tr.ref.stage[m]
	}
	w.truth = append(w.truth, tr)
}

// byRoom is how the practice assigns a client addressed to it: look at a few
// clinicians who are working that day and give the client to whoever took
// the fewest new clients lately.
func (w *world) byRoom(day int, exclude *clinician) *clinician {
	var best *clinician
	bestLoad := 0.0
	for range 4 {
		c := w.active[w.rng.IntN(len(w.active))]
		if c == exclude || !c.activeOn(day) {
			continue
		}
		if l := c.loadAt(day); best == nil || l < bestLoad {
			best, bestLoad = c, l
		}
	}
	if best != nil {
		return best
	}
	for _, c := range w.active {
		if c != exclude && c.activeOn(day) {
			return c
		}
	}
	for _, c := range w.active {
		if c.activeOn(day) {
			return c
		}
	}
	return w.clinicians[0]
}

var colleagueWeights = []float64{0.5, 0.3, 0.2}

// colleague returns one of the colleagues the point person introduced; a
// colleague who has left is replaced by another.
func (w *world) colleague(r *referrer, day int) *clinician {
	if len(r.colleagues) == 0 {
		k := 1 + weighted(w.rng, []float64{0.3, 0.45, 0.25})
		for range k {
			if c := w.newColleague(r, day); c != nil {
				r.colleagues = append(r.colleagues, c)
			}
		}
		if len(r.colleagues) == 0 {
			return w.byRoom(day, r.pp)
		}
	}
	i := weighted(w.rng, colleagueWeights[:len(r.colleagues)])
	if !r.colleagues[i].activeOn(day) {
		c := w.newColleague(r, day)
		if c == nil {
			return w.byRoom(day, r.pp)
		}
		r.colleagues[i] = c
	}
	return r.colleagues[i]
}

// newColleague picks from the point person's team (their block of the
// roster), preferring clinicians who share a specialty and will stay a while.
func (w *world) newColleague(r *referrer, day int) *clinician {
	team := w.team(r.pp.idx)
	var cands []*clinician
	var wts []float64
	for _, c := range team {
		if c == r.pp || !c.activeOn(day) || slices.Contains(r.colleagues, c) {
			continue
		}
		wt := 1.0
		for _, s := range c.specialties {
			if slices.Contains(r.pp.specialties, s) {
				wt++
			}
		}
		if !c.activeOn(day + 120) {
			wt *= 0.1
		}
		cands = append(cands, c)
		wts = append(wts, wt)
	}
	if len(cands) == 0 {
		return nil
	}
	return cands[weighted(w.rng, wts)]
}

// Follow-up services and how a client's plan splits the cost.
var followUpServices = []uint8{svcIndividual53, svcIndividual38, svcFamily}
var followUpWeights = []float64{0.55, 0.33, 0.12}
var planFactors = []float64{1, 0.92, 0.85, 0.8}

// slotMinutes are the start times from 8:00 AM to 6:00 PM: even slots on
// the hour, odd ones on the half hour.
var slotMinutes = func() []int {
	var s []int
	for m := 8 * 60; m <= 18*60; m += 30 {
		s = append(s, m)
	}
	return s
}()

// book schedules the client's appointments: an intake (a no-show or a
// cancellation is rebooked a week later, or the client never comes back),
// then weekly or fortnightly sessions. A clinician who leaves hands the
// client to a colleague or the client stops. It reports whether the client
// has at least one claim in the billing exports.
func (w *world) book(cl *client, c *clinician, day int, billingOnly bool) bool {
	rng := w.rng
	slot := uint8(2 * rng.IntN(11))
	if rng.Float64() < 0.2 {
		slot = uint8(1 + 2*rng.IntN(10))
	}
	hasClaim := false
	first := true
	add := func(d int, c *clinician, svc, st uint8) {
		a := &appointment{id: w.nextAppt, cl: cl, day: int32(d), clin: int32(c.idx), slot: slot, status: st, service: svc}
		w.nextAppt++
		if first {
			a.flags |= fFirst
			first = false
		}
		if billingOnly {
			a.flags |= fBillingOnly
		}
		if st == stAttended && (billingOnly || rng.Float64() < 0.99) && d <= w.billingAsOf {
			a.flags |= fClaim
			if !hasClaim {
				a.flags |= fFirstClaim
				hasClaim = true
			}
			if rng.Float64() < 0.05 {
				a.flags |= fAddOn
			}
		}
		m := w.dayMonth(d)
		w.buckets[m] = append(w.buckets[m], a)
	}
	d := day
	for attempt := 0; ; attempt++ {
		st := stAttended
		if !billingOnly {
			st = uint8(weighted(rng, []float64{0.82, 0.10, 0.05, 0.03}))
		}
		add(d, c, svcIntake, st)
		if st == stAttended {
			break
		}
		if attempt >= 1 || rng.Float64() > 0.55 {
			return hasClaim
		}
		d += 7
		if d < w.days && w.holiday[d] {
			d += 7
		}
		if d >= w.days || !c.activeOn(d) {
			return hasClaim
		}
	}
	k := 0
	switch u := rng.Float64(); {
	case u < 0.12:
		k = rng.IntN(2)
	default:
		k = 2 + int(rng.ExpFloat64()*5)
	}
	k = min(k, 30)
	interval := 7
	if rng.Float64() < 0.35 {
		interval = 14
	}
	svc := followUpServices[weighted(rng, followUpWeights)]
	for range k {
		d += interval
		if d >= w.days {
			break
		}
		if !c.activeOn(d) {
			if rng.Float64() < 0.4 {
				break
			}
			c = w.byRoomAnyMonth(d, c)
			if c == nil {
				break
			}
		}
		st := stAttended
		if !billingOnly {
			st = uint8(weighted(rng, []float64{0.84, 0.05, 0.07, 0.04, 0.003}))
		}
		if w.holiday[d] {
			if billingOnly {
				continue
			}
			st = stCancelled // the office is closed
		}
		s := svc
		if rng.Float64() < 0.05 {
			s = followUpServices[rng.IntN(len(followUpServices))]
		}
		add(d, c, s, st)
	}
	return hasClaim
}

// byRoomAnyMonth finds a colleague for a transferred client on a day that
// may be months ahead, from the departing clinician's team.
func (w *world) byRoomAnyMonth(day int, from *clinician) *clinician {
	team := w.team(from.idx)
	var best *clinician
	for range 4 {
		c := team[w.rng.IntN(len(team))]
		if c == from || !c.activeOn(day) {
			continue
		}
		if best == nil || c.loadAt(day) < best.loadAt(day) {
			best = c
		}
	}
	return best
}
