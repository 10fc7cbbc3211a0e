package sample

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/referrals/referrals/internal/refcsv"
)

type (
	rosterRow    = refcsv.Roster
	directoryRow = refcsv.Directory
	aliasRow     = refcsv.Alias
)

type plantedStageRow struct {
	Referrer string `csv:"referrer"`
	Month    string `csv:"month"`
	Stage    int8   `csv:"stage"`
}

type truthReferrerRow struct {
	Referrer    string `csv:"referrer"`
	Category    string `csv:"category"`
	NPI         string `csv:"npi"`
	PointPerson string `csv:"point_person"`
	Path        string `csv:"path"`
}

type truthReferralRow struct {
	PatientAccount     int64  `csv:"patient_account"`
	ReferralDate       string `csv:"referral_date"`
	Origin             string `csv:"origin"`
	SourceKind         string `csv:"source_kind"`
	Referrer           string `csv:"referrer"`
	RequestedClinician string `csv:"requested_clinician"`
	RequestedPractice  string `csv:"requested_practice"`
	AssignedClinician  string `csv:"assigned_clinician"`
	PlantedStage       string `csv:"planted_stage"`
}

type nearDuplicateRow struct {
	Spelling string `csv:"spelling"`
	Referrer string `csv:"referrer"`
}

type eventRow struct {
	Month  string `csv:"month"`
	Event  string `csv:"event"`
	Name   string `csv:"name"`
	Detail string `csv:"detail"`
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func (w *world) date(day int) time.Time { return w.start.AddDate(0, 0, day) }

func byName[T any](rows []T, name func(T) string) {
	slices.SortStableFunc(rows, func(a, b T) int { return cmp.Compare(name(a), name(b)) })
}

// writeReference writes the files a user keeps next to the exports: the
// clinician roster, the referrer directory (only some referrers are in it)
// and the hand-made alias list.
func (w *world) writeReference() error {
	var roster []rosterRow
	for _, c := range w.clinicians {
		row := rosterRow{
			Name:        c.canonical,
			Aliases:     strings.Join(c.aliases, ";"),
			NPI:         c.npi,
			StartDate:   w.date(c.startDay).Format(time.DateOnly),
			Specialties: strings.Join(c.specialties, ";"),
			Accepting:   yesNo(c.accepting),
		}
		if c.endDay != never {
			row.EndDate = w.date(c.endDay).Format(time.DateOnly)
		}
		var ps []string
		for i, p := range payers {
			if c.takes(i) {
				ps = append(ps, p.name)
			}
		}
		row.Payers = strings.Join(ps, ";")
		roster = append(roster, row)
	}
	byName(roster, func(r rosterRow) string { return r.Name })
	if err := writeTable(w.o.Out, "roster.csv", roster); err != nil {
		return err
	}

	var dir []directoryRow
	var aliases []aliasRow
	for _, r := range w.referrers {
		for _, a := range r.handAlias {
			aliases = append(aliases, aliasRow{Alias: a, Referrer: r.canonical})
		}
		if !r.listed {
			continue
		}
		row := directoryRow{
			Name:         r.canonical,
			Aliases:      strings.Join(r.dirAliases, ";"),
			NPI:          r.npi,
			Category:     r.category,
			Organisation: r.org,
			Channel:      yesNo(r.channel),
		}
		if r.listedPP {
			row.PointPerson = r.pp.canonical
		}
		dir = append(dir, row)
	}
	byName(dir, func(r directoryRow) string { return r.Name })
	if err := writeTable(w.o.Out, "directory.csv", dir); err != nil {
		return err
	}
	byName(aliases, func(r aliasRow) string { return r.Alias })
	return writeTable(w.o.Out, "aliases.csv", aliases)
}

// writeTruth writes what was planted, for tests and for anyone checking the
// pipeline's answers against the generator's intent.
func (w *world) writeTruth() error {
	staged := slices.DeleteFunc(slices.Clone(w.referrers), func(r *referrer) bool { return r.channel })
	byName(staged, func(r *referrer) string { return r.canonical })

	var stages []plantedStageRow
	var refs []truthReferrerRow
	var dups []nearDuplicateRow
	for _, r := range staged {
		for m, s := range r.stage {
			if s != 0 {
				stages = append(stages, plantedStageRow{r.canonical, w.month[m].label, s})
			}
		}
		refs = append(refs, truthReferrerRow{r.canonical, r.category, r.npi, r.pp.canonical, r.path})
		if r.nearDup != "" {
			dups = append(dups, nearDuplicateRow{r.nearDup, r.canonical})
		}
	}
	if err := writeTable(w.o.Out, "truth/planted-stages.csv", stages); err != nil {
		return err
	}
	if err := writeTable(w.o.Out, "truth/referrers.csv", refs); err != nil {
		return err
	}
	if err := writeTable(w.o.Out, "truth/near-duplicates.csv", dups); err != nil {
		return err
	}
	if err := writeTable(w.o.Out, "truth/bad-rows.csv", w.badRows); err != nil {
		return err
	}

	referrals := make([]truthReferralRow, 0, len(w.truth))
	for _, t := range w.truth {
		row := truthReferralRow{
			PatientAccount:    t.account,
			ReferralDate:      w.date(int(t.day)).Format(time.DateOnly),
			Origin:            "scheduling",
			SourceKind:        "unknown",
			AssignedClinician: t.assigned.canonical,
		}
		if t.billingOnly {
			row.Origin = "billing"
		}
		if t.ref != nil {
			row.Referrer = t.ref.canonical
			row.SourceKind = "referrer"
			if t.ref.channel {
				row.SourceKind = "channel"
			}
		}
		switch {
		case t.requested != nil:
			row.RequestedClinician = t.requested.canonical
			row.RequestedPractice = "no"
		case t.reqPractice == 1:
			row.RequestedPractice = "yes"
		}
		if t.stage != 0 {
			row.PlantedStage = fmt.Sprint(t.stage)
		}
		referrals = append(referrals, row)
	}
	if err := writeTable(w.o.Out, "truth/referrals.csv", referrals); err != nil {
		return err
	}

	var events []eventRow
	ppCount := map[*clinician]int{}
	for _, r := range staged {
		ppCount[r.pp]++
	}
	monthOf := func(day int) string { return w.date(day).Format("2006-01") }
	for _, c := range w.clinicians {
		if c.startDay >= 0 {
			events = append(events, eventRow{monthOf(c.startDay), "clinician joined", c.canonical, ""})
		}
		if c.endDay != never {
			detail := ""
			if n := ppCount[c]; n > 0 {
				detail = fmt.Sprintf("point person for %d referrers", n)
			}
			events = append(events, eventRow{monthOf(c.endDay), "clinician left", c.canonical, detail})
		}
	}
	for _, r := range staged {
		if r.endMonth < w.months {
			events = append(events, eventRow{w.month[r.endMonth].label, "referrer lapsed", r.canonical,
				"no referrals from this month on"})
		}
		if r.coolFrom < w.months {
			events = append(events, eventRow{w.month[r.coolFrom].label, "referrer cooling", r.canonical,
				"volume drops to a quarter from this month on"})
		}
	}
	slices.SortStableFunc(events, func(a, b eventRow) int {
		return cmp.Or(cmp.Compare(a.Month, b.Month), cmp.Compare(a.Event, b.Event), cmp.Compare(a.Name, b.Name))
	})
	return writeTable(w.o.Out, "truth/events.csv", events)
}
