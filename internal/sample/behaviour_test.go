package sample

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// The behaviour tests read the exports the way the pipeline is specified to
// (docs: DOMAIN.md), with a deliberately small resolver, and check that
// what was planted can be measured back.

var titleTokens = map[string]bool{
	"dr": true, "md": true, "do": true, "phd": true, "psyd": true, "lcsw": true, "lpc": true,
	"lmft": true, "lmhc": true, "np": true, "mr": true, "mrs": true, "ms": true,
}

// nameKey folds case, accents, punctuation, titles and credentials, and
// "Last, First" order.
func nameKey(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(strings.ToLower(s)) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == ',':
			b.WriteRune(r)
		default:
			b.WriteByte(' ')
		}
	}
	strip := func(s string) []string {
		return slices.DeleteFunc(strings.Fields(s), func(t string) bool { return titleTokens[t] })
	}
	last, rest, comma := strings.Cut(b.String(), ",")
	words := strip(last)
	if comma {
		if first := strip(strings.ReplaceAll(rest, ",", " ")); len(first) > 0 {
			words = append(first, words...)
		}
	}
	return strings.Join(words, " ")
}

func TestNameKey(t *testing.T) {
	for in, want := range map[string]string{
		"Dr. Maria Lopez": "maria lopez", "Lopez, Maria MD": "maria lopez", "maria lopez": "maria lopez",
		"Jane Smith, LCSW": "jane smith", "Smith, Jane": "jane smith", "José Núñez": "jose nunez",
		"Friend/Family": "friend family", "O'Brien, Hannah": "hannah o brien",
	} {
		if got := nameKey(in); got != want {
			t.Errorf("nameKey(%q) = %q, want %q", in, got, want)
		}
	}
}

type exportReferral struct {
	account    string
	date       time.Time
	referrer   string // canonical, "" unknown, "?…" unresolved spelling
	requested  string // canonical clinician, "" = the practice
	assigned   string
	fromBill   bool
	nearDupRef bool // the source is a spelling left unmerged on purpose
}

type sampleData struct {
	referrals []exportReferral
	pp        map[string]string            // referrer → point person (truth)
	planted   map[string]map[string]int    // referrer → month → stage
	months    []string                     // all months, in order
	paths     map[string]string            // referrer → path
	roster    map[string][2]time.Time      // clinician → employed from, to
	truth     map[string]map[string]string // account → truth/referrals.csv row
}

// loadSample derives every referral from the exports alone: the client's
// first appointment, its source resolved by NPI, name key, directory alias
// or alias file, else the referring provider on the earliest claim.
func loadSample(t *testing.T, dir string) *sampleData {
	t.Helper()
	files := readTree(t, dir)
	table := func(name string) []map[string]string {
		recs := readCSV(t, decode(files[name]))
		var rows []map[string]string
		for _, r := range recs[1:] {
			m := map[string]string{}
			for i, h := range recs[0] {
				m[h] = r[i]
			}
			rows = append(rows, m)
		}
		return rows
	}
	d := &sampleData{pp: map[string]string{}, planted: map[string]map[string]int{}, paths: map[string]string{},
		roster: map[string][2]time.Time{}, truth: map[string]map[string]string{}}

	clinicianByKey := map[string]string{}
	for _, r := range table("roster.csv") {
		for _, n := range append([]string{r["name"]}, strings.Split(r["aliases"], ";")...) {
			if n != "" {
				clinicianByKey[nameKey(n)] = r["name"]
			}
		}
		from, _ := time.Parse(time.DateOnly, r["start_date"])
		to := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
		if r["end_date"] != "" {
			to, _ = time.Parse(time.DateOnly, r["end_date"])
		}
		d.roster[r["name"]] = [2]time.Time{from, to}
	}
	referrerByKey, referrerByNPI := map[string]string{}, map[string]string{}
	for _, r := range table("truth/referrers.csv") {
		referrerByKey[nameKey(r["referrer"])] = r["referrer"]
		if r["npi"] != "" {
			referrerByNPI[r["npi"]] = r["referrer"]
		}
		d.pp[r["referrer"]] = r["point_person"]
		d.paths[r["referrer"]] = r["path"]
	}
	for _, r := range table("directory.csv") {
		for _, n := range append([]string{r["name"]}, strings.Split(r["aliases"], ";")...) {
			if n != "" {
				referrerByKey[nameKey(n)] = r["name"]
			}
		}
	}
	for _, r := range table("aliases.csv") {
		referrerByKey[nameKey(r["alias"])] = r["referrer"]
	}
	nearDup := map[string]bool{}
	for _, r := range table("truth/near-duplicates.csv") {
		nearDup[r["spelling"]] = true
	}
	monthSet := map[string]bool{}
	for _, r := range table("truth/planted-stages.csv") {
		if d.planted[r["referrer"]] == nil {
			d.planted[r["referrer"]] = map[string]int{}
		}
		d.planted[r["referrer"]][r["month"]] = int(r["stage"][0] - '0')
		monthSet[r["month"]] = true
	}
	for m := range monthSet {
		d.months = append(d.months, m)
	}
	slices.Sort(d.months)
	for _, r := range table("truth/referrals.csv") {
		d.truth[r["patient_account"]] = r
	}

	// Appointments: the newest export of each id wins; files sort by month.
	type appt struct {
		id, account, clinician, status, source, referredTo, npi string
		when                                                    time.Time
	}
	appts := map[string]appt{}
	for _, name := range exportFiles(files) {
		if !strings.Contains(name, "/scheduling/") {
			continue
		}
		recs := readCSV(t, decode(files[name]))
		for _, r := range recs[1:] {
			if len(r) != 10 {
				continue // the planted row with too many fields
			}
			when, err := time.Parse("01/02/2006 3:04 PM", r[3]+" "+r[4])
			if err != nil {
				continue // the planted impossible date
			}
			appts[r[0]] = appt{r[0], r[1], r[2], r[5], r[7], r[8], r[9], when}
		}
	}
	byClient := map[string][]appt{}
	for _, a := range appts {
		byClient[a.account] = append(byClient[a.account], a)
	}
	type claim struct {
		id, rendering, refName, refNPI string
		dos                            time.Time
	}
	claims := map[string][]claim{}
	for _, name := range exportFiles(files) {
		if !strings.Contains(name, "/billing/") {
			continue
		}
		for _, r := range readCSV(t, decode(files[name]))[1:] {
			if dos, err := time.Parse("01/02/2006", r[2]); err == nil && len(r) == 11 {
				claims[r[1]] = append(claims[r[1]], claim{r[0], r[3], r[5], r[6], dos})
			}
		}
	}
	earliestClaim := func(account string) (claim, bool) {
		cs := claims[account]
		if len(cs) == 0 {
			return claim{}, false
		}
		return slices.MinFunc(cs, func(a, b claim) int { return cmp.Or(a.dos.Compare(b.dos), cmp.Compare(a.id, b.id)) }), true
	}
	clinician := func(name string) string {
		c, ok := clinicianByKey[nameKey(name)]
		if !ok {
			t.Fatalf("clinician %q is not on the roster", name)
		}
		return c
	}
	attributeByClaim := func(account string) string {
		if c, ok := earliestClaim(account); ok && c.refNPI != "" {
			if r, ok := referrerByNPI[c.refNPI]; ok {
				return r
			}
			return "?" + c.refNPI
		}
		return ""
	}

	for account, as := range byClient {
		slices.SortFunc(as, func(a, b appt) int { return cmp.Or(a.when.Compare(b.when), cmp.Compare(a.id, b.id)) })
		first := as[0]
		ref := exportReferral{account: account, date: first.when.Truncate(24 * time.Hour)}
		assignedFrom := first
		for _, a := range as {
			if a.status == "Attended" || a.status == "Arrived" || a.status == "Show" {
				assignedFrom = a
				break
			}
		}
		ref.assigned = clinician(assignedFrom.clinician)
		switch {
		case first.source == "":
			ref.referrer = attributeByClaim(account)
		case first.npi != "" && referrerByNPI[first.npi] != "":
			ref.referrer = referrerByNPI[first.npi]
		default:
			r, ok := referrerByKey[nameKey(first.source)]
			if !ok {
				r = "?" + first.source
			}
			ref.referrer = r
			ref.nearDupRef = nearDup[first.source]
		}
		ref.requested = clinicianByKey[nameKey(first.referredTo)]
		d.referrals = append(d.referrals, ref)
	}
	for account := range claims {
		if _, ok := byClient[account]; ok {
			continue
		}
		c, _ := earliestClaim(account)
		d.referrals = append(d.referrals, exportReferral{
			account: account, date: c.dos, referrer: attributeByClaim(account),
			assigned: clinician(c.rendering), fromBill: true,
		})
	}
	slices.SortFunc(d.referrals, func(a, b exportReferral) int {
		return cmp.Or(a.date.Compare(b.date), cmp.Compare(a.account, b.account))
	})
	return d
}

// TestTruthMatchesExports: truth/referrals.csv says what the exports say.
func TestTruthMatchesExports(t *testing.T) {
	dir, _ := scaleOne(t)
	d := loadSample(t, dir)
	if len(d.referrals) != len(d.truth) {
		t.Errorf("exports show %d referred clients, truth lists %d", len(d.referrals), len(d.truth))
	}
	nearDups := 0
	for _, r := range d.referrals {
		tr, ok := d.truth[r.account]
		if !ok {
			t.Errorf("client %s is not in truth/referrals.csv", r.account)
			continue
		}
		if r.nearDupRef {
			nearDups++
			continue
		}
		got := fmt.Sprintf("%s %s %s %t", r.date.Format(time.DateOnly), r.referrer, r.assigned, r.fromBill)
		want := fmt.Sprintf("%s %s %s %t", tr["referral_date"], tr["referrer"], tr["assigned_clinician"], tr["origin"] == "billing")
		if got != want {
			t.Errorf("client %s: exports say %s, truth says %s", r.account, got, want)
		}
		if !r.fromBill && tr["requested_clinician"] != r.requested {
			t.Errorf("client %s: Referred To resolves to %q, truth says %q", r.account, r.requested, tr["requested_clinician"])
		}
	}
	if nearDups == 0 {
		t.Error("the unmerged near-duplicate spelling is never used")
	}
}

func TestPlantedStageBehaviour(t *testing.T) {
	dir, _ := scaleOne(t)
	d := loadSample(t, dir)

	// Per planted stage, what the referrals of that month look like.
	type tally struct{ n, askPP, toPP, practice, askColleague int }
	by := map[int]*tally{1: {}, 2: {}, 3: {}}
	firstSeen := map[string]bool{}
	for _, r := range d.referrals {
		st := d.planted[r.referrer][r.date.Format("2006-01")]
		if st == 0 {
			continue
		}
		pp := d.pp[r.referrer]
		if !firstSeen[r.referrer] {
			firstSeen[r.referrer] = true
			if r.assigned != pp {
				t.Errorf("%s's first referral went to %s, not its point person %s", r.referrer, r.assigned, pp)
			}
			if e := d.roster[pp]; r.date.Before(e[0]) || r.date.After(e[1]) {
				t.Errorf("%s's point person %s was not employed at its first referral %s", r.referrer, pp, r.date.Format(time.DateOnly))
			}
			if month := r.date.Format("2006-01"); month != firstPlanted(d, r.referrer) {
				t.Errorf("%s's first referral is in %s, its planted stages start %s", r.referrer, month, firstPlanted(d, r.referrer))
			}
		}
		if r.fromBill {
			continue
		}
		x := by[st]
		x.n++
		switch {
		case r.requested == "":
			x.practice++
		case r.requested == pp:
			x.askPP++
		default:
			x.askColleague++
		}
		if r.assigned == pp {
			x.toPP++
		}
	}
	share := func(a, n int) float64 { return float64(a) / float64(n) }
	for st, x := range by {
		t.Logf("stage %d: %d referrals, asked point person %.2f, went to point person %.2f, practice %.2f, named colleague %.2f",
			st, x.n, share(x.askPP, x.n), share(x.toPP, x.n), share(x.practice, x.n), share(x.askColleague, x.n))
		if x.n < 100 {
			t.Errorf("stage %d: only %d referrals", st, x.n)
		}
	}
	if x := by[1]; share(x.askPP, x.n) < 0.9 || share(x.toPP, x.n) < 0.9 {
		t.Errorf("stage 1 referrals name and reach the point person too rarely")
	}
	if x := by[2]; share(x.toPP, x.n) < 0.3 || share(x.toPP, x.n) > 0.6 || share(x.askColleague, x.n) < 0.3 || share(x.practice, x.n) > 0.2 {
		t.Errorf("stage 2 referrals do not split between point person and colleagues")
	}
	if x := by[3]; share(x.practice, x.n) < 0.75 {
		t.Errorf("stage 3 referrals are addressed to the practice too rarely")
	}

	// The DOMAIN.md stage rule over trailing 12-month windows agrees with the
	// plant wherever the window lies in one planted stage and has N ≥ 4.
	byReferrer := map[string][]exportReferral{}
	for _, r := range d.referrals {
		if _, staged := d.planted[r.referrer]; staged {
			byReferrer[r.referrer] = append(byReferrer[r.referrer], r)
		}
	}
	agree, total, busy := 0, 0, 0
	confusion := map[[2]int]int{}
	for ref, rs := range byReferrer {
		windows, fullWindows := 0, 0
		for i := 11; i < len(d.months); i++ {
			win := d.months[i-11 : i+1]
			var n, toPP, practice int
			for _, r := range rs {
				if m := r.date.Format("2006-01"); m >= win[0] && m <= win[11] {
					n++
					if r.assigned == d.pp[ref] {
						toPP++
					}
					if !r.fromBill && r.requested == "" {
						practice++
					}
				}
			}
			stages := map[int]bool{}
			for _, m := range win {
				stages[d.planted[ref][m]] = true
			}
			if !stages[0] {
				windows++
				if n >= 4 {
					fullWindows++
				}
			}
			if n < 4 || len(stages) != 1 || stages[0] {
				continue
			}
			measured := 2
			switch {
			case share(practice, n) >= 0.5:
				measured = 3
			case share(toPP, n) >= 0.8:
				measured = 1
			}
			planted := d.planted[ref][win[11]]
			total++
			confusion[[2]int{planted, measured}]++
			if measured == planted {
				agree++
			}
		}
		if windows > 0 && float64(fullWindows) >= 0.75*float64(windows) {
			busy++
		}
	}
	t.Logf("stage rule agrees with the plant in %d of %d single-stage windows; planted→measured %v", agree, total, confusion)
	if total < 300 || share(agree, total) < 0.88 {
		t.Errorf("stage rule agrees with the plant in %d of %d windows", agree, total)
	}
	t.Logf("%d referrers have ≥ 4 referrals in at least 75%% of their full windows", busy)
	if busy < 25 {
		t.Errorf("only %d referrers have ≥ 4 referrals in most trailing windows, want ≥ 25", busy)
	}

	// Every kind of path is there, and the planted point person who leaves.
	paths := map[string]int{}
	for _, p := range d.paths {
		paths[p]++
	}
	t.Logf("paths %v", paths)
	for _, p := range []string{"1", "1>2", "1>2>3", "3"} {
		if paths[p] < 3 {
			t.Errorf("only %d referrers with path %s", paths[p], p)
		}
	}
	if paths["3>2"]+paths["2>1"]+paths["1>2>1"]+paths["1>2>3>2"] < 3 {
		t.Errorf("fewer than three referrers regress: %v", paths)
	}
	leftPP := 0
	for ref, pp := range d.pp {
		if e := d.roster[pp]; e[1].Year() < 9999 && d.paths[ref] != "" {
			leftPP++
		}
	}
	if leftPP == 0 {
		t.Error("no point person leaves during the period")
	}
}

func firstPlanted(d *sampleData, referrer string) string {
	first := ""
	for m := range d.planted[referrer] {
		if first == "" || m < first {
			first = m
		}
	}
	return first
}
