package sample

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
)

// At scale 1 the practice has clinicianBlock clinicians and referrerBlock
// referrers (not counting channels). Larger scales repeat the same mix, so a
// scale-K practice behaves like K practices' worth of clinicians, referrers
// and clients in one organisation.
const (
	clinicianBlock = 20
	referrerBlock  = 92
)

type payer struct {
	name    string
	share   float64 // of clients
	allowed float64 // paid / charge
}

var payers = []payer{
	{"Aetna", 0.15, 0.62}, {"BCBS", 0.21, 0.66}, {"Cigna", 0.11, 0.60}, {"United", 0.13, 0.58},
	{"Medicaid", 0.17, 0.42}, {"Medicare", 0.06, 0.55}, {"Tricare", 0.04, 0.57}, {"Self-pay", 0.13, 0.80},
}

const selfPay = 7

const never = math.MaxInt32

type clinician struct {
	idx         int
	name        personName
	cred        string
	canonical   string   // roster name
	aliases     []string // roster aliases (spellings that do not fold to the name)
	schedName   string   // as the scheduling system shows it
	billName    string   // as the billing system shows it
	billAlt     string   // the occasional other spelling on claims
	asked       []string // how front desks type the name in Referred To
	npi         string
	startDay    int // day index; negative when hired before the data starts
	endDay      int // last working day, never when still employed
	specialties []string
	payers      uint16 // bit per payer index
	accepting   bool
	ppWeight    float64 // how likely to become a referrer's point person
	intake      string  // the service label this clinician's intakes get
	load        float64 // new clients, decayed with a 30-day half-life-ish
	loadDay     int
	leaverPP    bool // planted: a point person who leaves
}

func (c *clinician) activeOn(day int) bool { return day >= c.startDay && day <= c.endDay }

func (c *clinician) takes(p int) bool { return c.payers&(1<<p) != 0 }

func (c *clinician) loadAt(day int) float64 {
	return c.load * math.Exp(-float64(day-c.loadDay)/30)
}

func (c *clinician) addLoad(day int) {
	c.load = c.loadAt(day) + 1
	c.loadDay = day
}

type referrer struct {
	idx         int
	name        personName
	canonical   string
	category    string
	org         string
	npi         string
	channel     bool
	spellings   []string
	spellCum    []float64 // cumulative weights
	npiOnly     int       // spelling index that only ever appears with the NPI (a typo), -1 if none
	billName    string    // how the billing system prints a referring physician
	listed      bool      // in directory.csv
	listedPP    bool      // directory names the point person
	dirAliases  []string
	handAlias   []string // spellings in aliases.csv
	nearDup     string   // an unmapped spelling (listed in truth/near-duplicates.csv)
	nearDupUsed bool
	referrals   int     // so far
	rate        float64 // referrals a month before seasonality
	tier        int     // 0 big, 1 regular, 2 occasional
	startMonth  int
	endMonth    int    // exclusive; < months when the referrer lapses
	stage       []int8 // planted stage per month, 0 = not (yet / any more) referring
	coolFrom    int    // month from which volume drops to a quarter, never if not cooling
	pp          *clinician
	colleagues  []*clinician
	domPayer    int
	npiOnRows   float64 // share of clients whose scheduling rows carry the NPI
	path        string
	nunez       bool
}

func (r *referrer) spelling(rng *rand.Rand) (string, int) {
	u := rng.Float64() * r.spellCum[len(r.spellCum)-1]
	for i, c := range r.spellCum {
		if u < c {
			return r.spellings[i], i
		}
	}
	return r.spellings[0], 0
}

func setSpellings(r *referrer, sp []string, w []float64) {
	r.spellings = sp
	r.spellCum = make([]float64, len(w))
	s := 0.0
	for i, x := range w {
		s += x
		r.spellCum[i] = s
	}
}

// npiGen issues unique, Luhn-valid NPIs (the check digit is computed over the
// "80840" prefix and the first nine digits, as CMS specifies).
type npiGen struct {
	used map[string]bool
}

func (g *npiGen) next(rng *rand.Rand) string {
	for {
		d := make([]byte, 10)
		d[0] = byte('1' + rng.IntN(2))
		for i := 1; i < 9; i++ {
			d[i] = byte('0' + rng.IntN(10))
		}
		sum := 24 // the doubled-and-summed digits of the 80840 prefix
		for i := 8; i >= 0; i-- {
			x := int(d[i] - '0')
			if (8-i)%2 == 0 {
				x *= 2
				if x > 9 {
					x -= 9
				}
			}
			sum += x
		}
		d[9] = byte('0' + (10-sum%10)%10)
		s := string(d)
		if !g.used[s] {
			g.used[s] = true
			return s
		}
	}
}

func weighted(rng *rand.Rand, w []float64) int {
	t := 0.0
	for _, x := range w {
		t += x
	}
	u := rng.Float64() * t
	for i, x := range w {
		if u < x {
			return i
		}
		u -= x
	}
	return len(w) - 1
}

// buildClinicians creates the roster. Positions within each block of 20 have
// fixed roles so the planted events exist at every scale: 0 is the owner,
// 1 a point person who leaves, 7 and 13 leave, 16–19 join during the period.
func (w *world) buildClinicians() {
	n := max(3, int(math.Round(clinicianBlock*w.scale)))
	M := w.months
	for i := 0; i < n; i++ {
		pos, block := blockPosition(i, n, clinicianBlock)
		c := &clinician{idx: i, endDay: never, ppWeight: 1, loadDay: 0}
		if block == 0 && pos == 2 {
			c.name = personName{smithFirst, smithLast}
			c.cred = "LCSW"
		} else {
			c.name = w.names.take()
			c.cred = credentials[w.rng.IntN(len(credentials))]
		}
		if pos == 0 {
			c.cred = "PhD"
			c.ppWeight = 6
		}
		c.canonical = c.name.String()
		c.npi = w.npis.next(w.rng)
		c.startDay = -30 - w.rng.IntN(2500)
		switch {
		case pos == 1:
			c.leaverPP = true
			c.ppWeight = 1.5
			c.endDay = w.monthLastDay(clamp(int(math.Round(0.6*float64(M)))-1, 0, M-1))
		case pos == 7:
			c.ppWeight = 0
			c.endDay = w.monthLastDay(clamp(int(math.Round(0.3*float64(M)))-1, 0, M-1))
		case pos == 13:
			c.ppWeight = 0
			c.endDay = w.monthLastDay(clamp(int(math.Round(0.85*float64(M)))-1, 0, M-1))
		case pos >= 16:
			frac := []float64{0.15, 0.35, 0.55, 0.75}[pos-16]
			m := clamp(int(math.Round(frac*float64(M)))+w.rng.IntN(2), 0, M-1)
			c.startDay = w.month[m].firstDay + w.rng.IntN(5)
		case pos == 2 || pos == 3:
			c.ppWeight = 2
		}
		if c.endDay < never && c.endDay < 0 {
			c.endDay = 0
		}
		w.clinicianNames(c, block == 0 && pos == 5)
		nsp := 2 + w.rng.IntN(3)
		for _, k := range w.rng.Perm(len(specialtyList))[:nsp] {
			c.specialties = append(c.specialties, specialtyList[k])
		}
		c.payers = 1 << selfPay
		for p := range payers[:selfPay] {
			if w.rng.Float64() < 0.65 {
				c.payers |= 1 << p
			}
		}
		c.accepting = c.endDay == never && w.rng.Float64() < 0.8
		c.intake = "Intake"
		if w.rng.Float64() < 0.3 {
			c.intake = "90791 Diagnostic Eval"
		}
		w.clinicians = append(w.clinicians, c)
	}
}

func (w *world) clinicianNames(c *clinician, renamed bool) {
	f, l, cr := c.name.first, c.name.last, c.cred
	doctor := cr == "PhD" || cr == "PsyD"
	styles := []string{f + " " + l + ", " + cr, l + ", " + f, f + " " + l + " " + cr, l + ", " + f + " " + cr}
	if doctor {
		styles = append(styles, "Dr. "+f+" "+l)
	}
	c.schedName = styles[w.rng.IntN(len(styles))]
	if c.name == (personName{smithFirst, smithLast}) {
		c.schedName = "Jane Smith, LCSW"
	}
	if w.rng.Float64() < 0.5 {
		c.billName = strings.ToUpper(l + ", " + f)
	} else {
		c.billName = l + ", " + f + " " + cr
	}
	c.billAlt = f + " " + l
	c.asked = []string{f + " " + l, f + " " + l + ", " + cr, l + ", " + f, strings.ToLower(f + " " + l)}
	if nick, ok := nicknames[f]; ok && w.rng.Float64() < 0.6 {
		alias := nick + " " + l
		c.aliases = append(c.aliases, alias)
		c.asked = append(c.asked, alias)
	}
	if renamed {
		// Changed her name; the billing system still has the old one.
		old := lastNames[w.rng.IntN(len(lastNames))]
		if old == l {
			old = "Holloway"
		}
		c.aliases = append(c.aliases, f+" "+old)
		c.billName = strings.ToUpper(old + ", " + f)
		c.billAlt = old + ", " + f
	}
}

var askedWeights = []float64{0.35, 0.25, 0.2, 0.1, 0.1}

func (c *clinician) askedName(rng *rand.Rand) string {
	return c.asked[weighted(rng, askedWeights[:len(c.asked)])]
}

var categories = []string{"physician", "school counsellor", "clergy", "attorney", "EAP", "hospital", "therapist", "other"}
var categoryWeights = []float64{0.42, 0.13, 0.05, 0.05, 0.09, 0.08, 0.12, 0.06}

// The stage paths of the big and regular referrers (positions 0–29 of each
// block), so every kind of path has enough volume to be measured.
var steadyPaths = []string{
	"1>2>3", "1", "1>2", "1>2>3", "3", "2>3", "1", "1>2>3", "3>2", "1>2",
	"2>1", "1", "1>2>3", "3", "1>2>1", "1>2", "1", "1>2>3>2", "2", "1>2>3",
	"3", "1", "1>2", "2>3", "1>2>3", "1", "3", "1>2", "1>2>3", "1",
}

var occasionalPaths = []string{"1", "1>2", "1>2>3", "3", "2", "2>3", "3>2", "2>1", "1>2>1"}
var occasionalPathWeights = []float64{0.35, 0.15, 0.12, 0.15, 0.06, 0.07, 0.04, 0.03, 0.03}

func (w *world) buildReferrers() {
	n := max(4, int(math.Round(referrerBlock*w.scale)))
	M := w.months
	aliasBudget := max(3, int(math.Round(6*w.scale)))
	nearDupBudget := max(1, int(math.Round(w.scale)))
	for i := 0; i < n; i++ {
		pos, block := blockPosition(i, n, referrerBlock)
		r := &referrer{idx: len(w.referrers), npiOnly: -1, endMonth: M, coolFrom: never}
		switch {
		case pos < 5:
			r.tier = 0
			r.rate = 1.9 + w.rng.Float64()
		case pos < 30:
			r.tier = 1
			r.rate = 0.5 + 0.4*w.rng.Float64()
		default:
			r.tier = 2
			u := w.rng.Float64()
			r.rate = 0.02 + 0.22*u*u
		}
		r.category = categories[weighted(w.rng, categoryWeights)]
		switch {
		case block == 0 && pos == 0:
			r.name = personName{lopezFirst, lopezLast}
			r.category = "physician"
		case block == 0 && pos == 7:
			r.name = personName{nunezFirst, nunezLast}
			r.category = "physician"
			r.nunez = true
		default:
			r.name = w.names.take()
		}
		r.canonical = r.name.String()
		r.org = organisation(w.rng, r.category, r.name)
		switch r.category {
		case "physician":
			r.npi = w.npis.next(w.rng)
			r.npiOnRows = 0.85
		case "therapist":
			if w.rng.Float64() < 0.6 {
				r.npi = w.npis.next(w.rng)
				r.npiOnRows = 0.3
			}
		}
		if r.tier == 2 {
			r.listed = w.rng.Float64() < 0.5
		} else {
			r.listed = w.rng.Float64() < 0.7
		}
		if r.nunez {
			r.listed = false // resolved by name folding and NPI only
		}
		if block == 0 && pos == 0 {
			r.listed = true
		}
		r.listedPP = r.listed && w.rng.Float64() < 0.8
		r.domPayer = weighted(w.rng, w.payerShares)

		switch {
		case r.tier < 2 && pos >= 25:
			r.startMonth = min(M-1, 1+w.rng.IntN(8))
		case r.tier < 2:
			r.startMonth = 0
		case w.rng.Float64() < 0.35:
			r.startMonth = 0
		default:
			r.startMonth = 1 + w.rng.IntN(max(1, M-4))
		}
		r.startMonth = clamp(r.startMonth, 0, M-1)
		path := ""
		if r.tier < 2 {
			path = steadyPaths[pos]
		} else {
			path = occasionalPaths[weighted(w.rng, occasionalPathWeights)]
		}
		w.planStages(r, path)
		if r.tier == 2 && (pos == 40 || pos == 55 || pos == 70) {
			end := r.startMonth + 10 + w.rng.IntN(11)
			if end < M-3 {
				r.endMonth = end
			}
		}
		if (pos == 12 || pos == 21) && M-5 > r.startMonth+6 {
			r.coolFrom = M - 5
		}
		w.referrerSpellings(r, &aliasBudget, &nearDupBudget)
		w.referrers = append(w.referrers, r)
	}
	w.nonChannel = len(w.referrers)
}

// team is the block of the roster that clinician index i falls in.
func (w *world) team(i int) []*clinician {
	b := i / clinicianBlock * clinicianBlock
	return w.clinicians[b:min(len(w.clinicians), b+clinicianBlock)]
}

func payerShares() []float64 {
	s := make([]float64, len(payers))
	for i, p := range payers {
		s[i] = p.share
	}
	return s
}

// planStages lays a path such as "1>2>3" over the months from the
// referrer's start. Every stage but the last lasts 12–18 months (some 8–11,
// the fast movers), so a trailing 12-month window mostly sees one stage; a
// path that does not fit is cut short and keeps at least 10 months of its
// last stage.
func (w *world) planStages(r *referrer, path string) {
	M := w.months
	var stages []int8
	for _, s := range strings.Split(path, ">") {
		stages = append(stages, int8(s[0]-'0'))
	}
	lengths := make([]int, len(stages))
	for i := range stages[:len(stages)-1] {
		if w.rng.Float64() < 0.3 {
			lengths[i] = 8 + w.rng.IntN(4)
		} else {
			lengths[i] = 12 + w.rng.IntN(7)
		}
	}
	remaining := M - r.startMonth
	for len(stages) > 1 {
		used := 0
		for _, l := range lengths[:len(stages)-1] {
			used += l
		}
		if used+10 <= remaining {
			break
		}
		// Quicken the pace before giving up a stage: no stage shorter than 8 months.
		shrunk := false
		for i := range lengths[:len(stages)-1] {
			if lengths[i] > 8 && used+10 > remaining {
				cut := min(lengths[i]-8, used+10-remaining)
				lengths[i] -= cut
				used -= cut
				shrunk = true
			}
		}
		if used+10 <= remaining {
			break
		}
		if !shrunk {
			stages = stages[:len(stages)-1]
		}
	}
	r.stage = make([]int8, M)
	m := r.startMonth
	for i, s := range stages {
		end := M
		if i < len(stages)-1 {
			end = m + lengths[i]
		}
		for ; m < end; m++ {
			r.stage[m] = s
		}
	}
}

// finishPaths applies what the plan cannot know before point persons are
// chosen and writes the realised path: a referrer whose point person leaves
// moves on to colleagues or the practice, or (one per leaver) stops
// referring; lapsed referrers have no stage after their last month.
func (w *world) finishPaths() {
	lapsedFor := map[*clinician]bool{}
	for _, r := range w.referrers {
		if r.channel {
			continue
		}
		pp := r.pp
		if pp.endDay != never {
			gone := w.dayMonth(pp.endDay) + 1
			if gone < w.months && r.stage[gone-1] == 1 && !lapsedFor[pp] && r.tier > 0 && r.endMonth == w.months {
				lapsedFor[pp] = true
				r.endMonth = gone
			}
			for m := gone; m < w.months; m++ {
				if r.stage[m] == 1 {
					r.stage[m] = int8(2 + r.idx%2)
				}
			}
		}
		for m := r.endMonth; m < w.months; m++ {
			r.stage[m] = 0
		}
		var path []string
		prev := int8(0)
		for _, s := range r.stage {
			if s != 0 && s != prev {
				path = append(path, fmt.Sprint(s))
			}
			if s != 0 {
				prev = s
			}
		}
		r.path = strings.Join(path, ">")
	}
}

func (w *world) referrerSpellings(r *referrer, aliasBudget, nearDupBudget *int) {
	f, l := r.name.first, r.name.last
	var sp []string
	switch {
	case r.name.first == lopezFirst && r.name.last == lopezLast:
		sp = []string{"Dr. Maria Lopez", "Lopez, Maria MD", "maria lopez", "Maria Lopez, MD"}
	case r.nunez:
		sp = []string{"Dr. José Núñez", "Nunez, Jose MD", "José Núñez", "Jose Nunez"}
	case r.category == "physician":
		sp = []string{"Dr. " + f + " " + l, l + ", " + f + " MD", strings.ToLower(f + " " + l), f + " " + l + ", MD", strings.ToUpper("Dr " + f + " " + l)}
	case r.category == "therapist":
		sp = []string{f + " " + l + ", LCSW", l + ", " + f, f + " " + l, strings.ToLower(f + " " + l)}
	default:
		sp = []string{f + " " + l, l + ", " + f, strings.ToLower(f + " " + l), strings.ToUpper(f + " " + l)}
	}
	if !r.nunez && !(f == lopezFirst && l == lopezLast) {
		w.rng.Shuffle(len(sp), func(i, j int) { sp[i], sp[j] = sp[j], sp[i] })
	}
	keep := []int{4, 3, 2}[r.tier]
	sp = sp[:min(keep, len(sp))]
	weights := make([]float64, len(sp))
	for i := range weights {
		if i == 0 {
			weights[i] = 0.55
		} else {
			weights[i] = 0.45 / float64(len(sp)-1)
		}
	}
	// Spellings that do not fold to the name key: each is resolvable some other way.
	nick, hasNick := nicknames[f]
	if !r.listed && r.npi == "" && r.rate > 0.3 && r.startMonth < w.months/2 && *nearDupBudget > 0 {
		// Typed once with a slip and never merged: the near-duplicate the
		// user is asked about. Used on one client only (see newClient).
		r.nearDup = f + " " + typo(l)
		*nearDupBudget--
	}
	switch {
	case r.category == "physician" && r.tier < 2 && w.rng.Float64() < 0.35:
		// A typo the front desk keeps making; those rows always carry the NPI.
		sp = append(sp, f+" "+typo(l))
		weights = append(weights, 0.08)
		r.npiOnly = len(sp) - 1
	case hasNick && r.listed && w.rng.Float64() < 0.6:
		r.dirAliases = append(r.dirAliases, nick+" "+l)
		sp = append(sp, nick+" "+l)
		weights = append(weights, 0.15)
	case hasNick && !r.listed && r.category != "physician" && *aliasBudget > 0:
		r.handAlias = append(r.handAlias, nick+" "+l)
		*aliasBudget--
		sp = append(sp, nick+" "+l)
		weights = append(weights, 0.2)
	case r.category == "clergy" && *aliasBudget > 0:
		r.handAlias = append(r.handAlias, "Rev. "+f+" "+l)
		*aliasBudget--
		sp = append(sp, "Rev. "+f+" "+l)
		weights = append(weights, 0.3)
	case r.listed && w.rng.Float64() < 0.3:
		mid := f + " " + string(rune('A'+w.rng.IntN(26))) + ". " + l
		r.dirAliases = append(r.dirAliases, mid)
		sp = append(sp, mid)
		weights = append(weights, 0.15)
	}
	setSpellings(r, sp, weights)
	if w.rng.Float64() < 0.5 {
		r.billName = strings.ToUpper(l + ", " + f)
	} else {
		r.billName = f + " " + l + " MD"
	}
}

// typo drops or doubles a letter of a surname, the kind of slip a front desk makes.
func typo(s string) string {
	rs := []rune(s)
	if len(rs) < 4 {
		return s + "e"
	}
	i := len(rs) / 2
	if rs[i] == rs[i-1] {
		return string(append(rs[:i:i], rs[i+1:]...))
	}
	return string(rs[:i]) + string(rs[i]) + string(rs[i:])
}

func (w *world) buildChannels() {
	for _, cs := range channelSpecs {
		r := &referrer{idx: len(w.referrers), channel: true, npiOnly: -1, endMonth: w.months, coolFrom: never}
		r.canonical = cs.spellings[0]
		r.category = "other"
		r.listed = true
		r.dirAliases = cs.aliases
		// A channel's total volume grows with the practice, not with the referrer count.
		r.rate = cs.share * 7.5 * w.scale
		weights := make([]float64, len(cs.spellings))
		for i := range weights {
			weights[i] = 1
		}
		weights[0] = 4
		setSpellings(r, cs.spellings, weights)
		r.domPayer = weighted(w.rng, w.payerShares)
		w.referrers = append(w.referrers, r)
	}
}

// choosePointPersons picks each referrer's point person among the clinicians
// present when the relationship starts, weighted towards the owner and the
// senior clinicians. Clinicians who are planted to leave are never chosen,
// except the one planted to leave as a point person.
func (w *world) choosePointPersons() {
	for _, r := range w.referrers {
		if r.channel {
			continue
		}
		day := w.month[r.startMonth].firstDay
		// A referrer meets a clinician of its own part of the practice: the
		// clinician block matching its referrer block.
		team := w.team(r.idx * len(w.clinicians) / max(1, w.nonChannel))
		var cands []*clinician
		var wts []float64
		for _, c := range team {
			if !c.activeOn(day) || c.ppWeight == 0 {
				continue
			}
			if c.endDay != never && (!c.leaverPP || w.dayMonth(c.endDay) < r.startMonth+6) {
				continue
			}
			cands = append(cands, c)
			wts = append(wts, c.ppWeight)
		}
		if len(cands) == 0 {
			for _, c := range team {
				if c.activeOn(day) {
					cands = append(cands, c)
					wts = append(wts, 1)
				}
			}
		}
		if len(cands) == 0 {
			cands, wts = team[:1], []float64{1}
		}
		r.pp = cands[weighted(w.rng, wts)]
	}
}

// blockPosition maps the i-th of n members to a role position in its block.
// Whole blocks use every position; a partial block (any fractional scale)
// spreads its members over the positions, so a scale-0.5 practice has half
// as many of each kind rather than only the first half of the list.
func blockPosition(i, n, size int) (pos, block int) {
	full := n / size * size
	if i < full {
		return i % size, i / size
	}
	return (i - full) * size / (n - full), i / size
}

func clamp(x, lo, hi int) int { return max(lo, min(hi, x)) }
