// Package explain answers "why is this referrer at stage X?" from the tables the
// models built: month by month over the last two years, the referrals, to whom
// they were assigned, whom they requested, the spread measure in the window and
// the stage, then a paragraph in plain English.
//
// It explains the report month the tables were last built for (the month of
// referrer_status, which is what the reports show); to explain another month,
// build the models for it first. The thresholds quoted in the paragraph are read
// from the DuckDB variables the models use (pipeline.Prepare sets them), with
// DOMAIN.md's defaults for any that are unset. It never prints client keys.
package explain

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/referrals/referrals/internal/config"
)

// historyMonths is how many months the table shows, ending at the report month.
const historyMonths = 24

// measured is the SQL condition of a referral referrer_months measures: one whose
// client an appointment or claim names a clinician for (an intake booked into an open
// slot has none yet).
const measured = "(assigned_clinician is not null)"

// Write resolves referrer (any spelling: canonical name, a raw spelling from the
// exports, its name key, NPI, or a unique part of the name) and writes the
// explanation to w. An unknown or ambiguous name gives an error that wraps
// ErrNoSuchReferrer (an *UnknownError with suggestions, or an *AmbiguousError
// with the candidates). db must be prepared for the report month (pipeline.Prepare:
// the macros and the variables), as BuildModels leaves it.
func Write(ctx context.Context, db *sql.DB, referrer string, w io.Writer) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("explain: %w", err)
	}
	defer conn.Close()
	name, err := resolve(ctx, conn, referrer)
	if err != nil {
		return err
	}
	th, err := readThresholds(ctx, conn)
	if err != nil {
		return err
	}
	var isChannel bool
	if err := conn.QueryRowContext(ctx, `select is_channel from stg_referrers where referrer = ?`, name).
		Scan(&isChannel); err != nil {
		return fmt.Errorf("explain: read stg_referrers for %q: %w", name, err)
	}
	if isChannel {
		return writeChannel(ctx, conn, name, w)
	}
	st, ok, err := readStatus(ctx, conn, name)
	if err != nil {
		return err
	}
	if !ok {
		_, err := fmt.Fprintf(w, "%s has no referral on or before the report month's end yet, so no stage.\n", name)
		return err
	}
	months, err := readMonths(ctx, conn, name, st.month)
	if err != nil {
		return err
	}
	if st.ppSource.String == "handed over" {
		if err := conn.QueryRowContext(ctx, `
			select m.point_person, (select max(c.end_date) from stg_clinicians c where c.clinician = m.point_person)
			from referrer_months m
			where m.referrer = ? and m.month <= ? and m.point_person is distinct from ?
			order by m.month desc limit 1`, name, st.month, st.pointPerson).Scan(&st.leaver, &st.leftOn); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("explain: read the point person before %q's: %w", name, err)
		}
	}
	inWindow, err := windowClinicians(ctx, conn, name, st.month, th.windowMonths)
	if err != nil {
		return err
	}
	counted, err := readPPCounts(ctx, conn, name, st.month, th.windowMonths)
	if err != nil {
		return err
	}
	notes, err := readFlags(ctx, conn, name, st, th)
	if err != nil {
		return err
	}
	bw := &errWriter{w: w}
	writeHeader(bw, st)
	writeTable(bw, months, th)
	fmt.Fprintln(bw)
	fmt.Fprintln(bw, wrap(paragraph(st, th, inWindow, counted, notes), 92))
	return bw.err
}

type thresholds struct {
	windowMonths        int
	stage3PracticeShare float64
	stage3MinReferrals  int
	stage3MinEffective  float64
	stage3MaxPPShare    float64
	stage1PPShare       float64
	lowEvidenceBelow    int
	readyMinReferrals   int
	recentDays          int
}

func readThresholds(ctx context.Context, conn *sql.Conn) (thresholds, error) {
	d := config.Default().Stage // for a variable that is not set
	th := thresholds{d.WindowMonths, d.Stage3PracticeShare, d.Stage3MinReferrals, d.Stage3MinEffective,
		d.Stage3MaxPPShare, d.Stage1PPShare, d.LowEvidenceBelow, d.ReadyMinReferrals, d.RecentDays}
	var (
		wm, s3min, low, ready, recent sql.NullInt64
		s3ps, s3eff, s3pp, s1p        sql.NullFloat64
	)
	err := conn.QueryRowContext(ctx, `select
		getvariable('window_months')::INTEGER, getvariable('stage3_practice_share')::DOUBLE,
		getvariable('stage3_min_referrals')::INTEGER, getvariable('stage3_min_effective')::DOUBLE,
		getvariable('stage3_max_pp_share')::DOUBLE, getvariable('stage1_pp_share')::DOUBLE,
		getvariable('low_evidence_below')::INTEGER, getvariable('ready_min_referrals')::INTEGER,
		getvariable('recent_days')::INTEGER`).Scan(&wm, &s3ps, &s3min, &s3eff, &s3pp, &s1p, &low, &ready, &recent)
	if err != nil {
		return th, fmt.Errorf("explain: read the stage thresholds: %w", err)
	}
	if wm.Valid {
		th.windowMonths = int(wm.Int64)
	}
	if s3ps.Valid {
		th.stage3PracticeShare = s3ps.Float64
	}
	if s3min.Valid {
		th.stage3MinReferrals = int(s3min.Int64)
	}
	if s3eff.Valid {
		th.stage3MinEffective = s3eff.Float64
	}
	if s3pp.Valid {
		th.stage3MaxPPShare = s3pp.Float64
	}
	if s1p.Valid {
		th.stage1PPShare = s1p.Float64
	}
	if low.Valid {
		th.lowEvidenceBelow = int(low.Int64)
	}
	if ready.Valid {
		th.readyMinReferrals = int(ready.Int64)
	}
	if recent.Valid {
		th.recentDays = int(recent.Int64)
	}
	return th, nil
}

// status is the referrer's referrer_status row.
type status struct {
	referrer, category, npi                 sql.NullString
	month, monthEnd                         time.Time
	referrals, clinicians                   int
	pointPerson, ppSource                   sql.NullString
	ppShare, practiceShare, coc, effective  sql.NullFloat64
	stage, previousStage                    sql.NullInt64
	lowEvidence                             bool
	ppReferrals, practiceReferrals, known   int
	stageSince, firstReferral, lastReferral sql.NullTime
	monthsTo2, monthsTo3                    sql.NullInt64
	regressions, referralsEver              int
	// The point person before this one, who left, and the day they left: for a
	// point person handed over.
	leaver sql.NullString
	leftOn sql.NullTime
	flags  string
}

func readStatus(ctx context.Context, conn *sql.Conn, name string) (status, bool, error) {
	var s status
	err := conn.QueryRowContext(ctx, `select referrer, category, npi, month, month_end, referrals, clinicians,
			point_person, point_person_source, point_person_share, practice_share, coc, effective_clinicians,
			stage, previous_stage, low_evidence, point_person_referrals, practice_referrals, requests_known,
			stage_since, first_referral, last_referral, months_to_stage2, months_to_stage3, regressions,
			referrals_ever, flags
		from referrer_status where referrer = ?`, name).Scan(
		&s.referrer, &s.category, &s.npi, &s.month, &s.monthEnd, &s.referrals, &s.clinicians,
		&s.pointPerson, &s.ppSource, &s.ppShare, &s.practiceShare, &s.coc, &s.effective,
		&s.stage, &s.previousStage, &s.lowEvidence, &s.ppReferrals, &s.practiceReferrals, &s.known,
		&s.stageSince, &s.firstReferral, &s.lastReferral, &s.monthsTo2, &s.monthsTo3, &s.regressions,
		&s.referralsEver, &s.flags)
	if err == sql.ErrNoRows {
		return s, false, nil
	}
	if err != nil {
		return s, false, fmt.Errorf("explain: read referrer_status for %q: %w", name, err)
	}
	return s, true, nil
}

// monthRow is one line of the table.
type monthRow struct {
	month                   time.Time
	newReferrals, referrals int
	assigned, requested     string
	pointPerson             sql.NullString
	ppShare, practiceShare  sql.NullFloat64
	coc, effective          sql.NullFloat64
	stage                   sql.NullInt64
	lowEvidence             bool
}

func readMonths(ctx context.Context, conn *sql.Conn, name string, report time.Time) ([]monthRow, error) {
	from := report.AddDate(0, -(historyMonths - 1), 0)
	rows, err := conn.QueryContext(ctx, `
		with assigned as (
			select referral_month, string_agg(case when n = 1 then who else who || ' ×' || n end, ', ' order by n desc, who) as list
			from (select referral_month, assigned_clinician as who, count(*) as n from referrals
			      where referrer = ? and `+measured+` group by all)
			group by referral_month
		), requested as (
			select referral_month, string_agg(case when n = 1 then who else who || ' ×' || n end, ', ' order by n desc, who) as list
			from (select referral_month,
			             case when requested_practice then 'the practice' else requested_clinician end as who, count(*) as n
			      from referrals where referrer = ? and requested_known and `+measured+` group by all)
			group by referral_month
		)
		select m.month, m.referrals_this_month, m.referrals, coalesce(a.list, ''), coalesce(r.list, ''),
		       m.point_person, m.point_person_share, m.practice_share, m.coc, m.effective_clinicians, m.stage, m.low_evidence
		from referrer_months m
		left join assigned a on a.referral_month = m.month
		left join requested r on r.referral_month = m.month
		where m.referrer = ? and m.month between ? and ?
		order by m.month`, name, name, name, from, report)
	if err != nil {
		return nil, fmt.Errorf("explain: read referrer_months for %q: %w", name, err)
	}
	defer rows.Close()
	var out []monthRow
	for rows.Next() {
		var r monthRow
		if err := rows.Scan(&r.month, &r.newReferrals, &r.referrals, &r.assigned, &r.requested, &r.pointPerson,
			&r.ppShare, &r.practiceShare, &r.coc, &r.effective, &r.stage, &r.lowEvidence); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// windowClinicians lists the assigned clinicians of the referrals in the window
// ending at the report month, most first: "Ann Alder 3, Ben Birch 2".
func windowClinicians(ctx context.Context, conn *sql.Conn, name string, report time.Time, window int) (string, error) {
	var list sql.NullString
	err := conn.QueryRowContext(ctx, `
		select string_agg(assigned_clinician || ' ' || n, ', ' order by n desc, assigned_clinician)
		from (select assigned_clinician, count(*) as n from referrals
		      where referrer = ? and `+measured+` and referral_month > ?::DATE - to_months(?) and referral_month <= ?::DATE
		      group by all)`, name, report, window, report).Scan(&list)
	if err != nil {
		return "", fmt.Errorf("explain: read the window's referrals for %q: %w", name, err)
	}
	return list.String, nil
}

// ppCounts splits the window's referrals counted for the point person by why they count:
// asked for by name (of which some were taken by a colleague), or assigned to them when
// addressed to the practice or with no request on record.
type ppCounts struct {
	byName, byNameTakenElsewhere, practiceAssigned, noRequestAssigned int
	unmeasured                                                        int // no clinician yet: not measured
}

func readPPCounts(ctx context.Context, conn *sql.Conn, name string, report time.Time, window int) (ppCounts, error) {
	var c ppCounts
	err := conn.QueryRowContext(ctx, `
		select count(*) filter (where to_point_person and requested_clinician is not null),
		       count(*) filter (where to_point_person and requested_clinician is not null
		                        and assigned_clinician is distinct from point_person),
		       count(*) filter (where to_point_person and requested_practice),
		       count(*) filter (where to_point_person and not requested_known),
		       count(*) filter (where not `+measured+`)
		from referrals
		where referrer = ? and referral_month > ?::DATE - to_months(?) and referral_month <= ?::DATE`,
		name, report, window, report).Scan(&c.byName, &c.byNameTakenElsewhere, &c.practiceAssigned, &c.noRequestAssigned, &c.unmeasured)
	if err != nil {
		return c, fmt.Errorf("explain: read the point person's referrals for %q: %w", name, err)
	}
	return c, nil
}

// readFlags returns a sentence per flag: the watch list's details and the
// suggested introductions, or why none is suggested to a ready referrer.
func readFlags(ctx context.Context, conn *sql.Conn, name string, st status, th thresholds) ([]string, error) {
	var notes []string
	rows, err := conn.QueryContext(ctx, `select list, detail from watch_list where referrer = ?
		order by case list when 'stalled' then 1 when 'cooling' then 2 when 'lapsed' then 3 else 4 end`, name)
	if err != nil {
		return nil, fmt.Errorf("explain: read watch_list for %q: %w", name, err)
	}
	for rows.Next() {
		var list, detail string
		if err := rows.Scan(&list, &detail); err != nil {
			rows.Close()
			return nil, err
		}
		notes = append(notes, fmt.Sprintf("%s: %s", list, detail))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	intro, err := queryStrings(ctx, conn, `select colleague || ' (' || reasons || ')' from introductions
		where referrer = ? order by rank`, name)
	if err != nil {
		return nil, fmt.Errorf("explain: read introductions for %q: %w", name, err)
	}
	if len(intro) > 0 {
		notes = append([]string{"ready for introductions to " + strings.Join(intro, "; ")}, notes...)
		return notes, nil
	}
	var ready bool
	if err := conn.QueryRowContext(ctx, `select count(*) > 0 from introductions where referrer = ?`, name).Scan(&ready); err != nil {
		return nil, fmt.Errorf("explain: read introductions for %q: %w", name, err)
	}
	if ready {
		why, err := noColleague(ctx, conn, st)
		if err != nil {
			return nil, err
		}
		notes = append([]string{fmt.Sprintf("on the list of referrers ready for introductions (stage 1, %d or more referrals "+
			"in the window and one in the last %d days), but with %s", th.readyMinReferrals, th.recentDays, why)}, notes...)
	}
	return notes, nil
}

// noColleague says why a ready referrer gets no colleague to meet, from the roster at the
// report month as the introductions mart reads it (the reports' introductions list says
// the same): no clinician but the point person; none accepting new clients; or none with
// a reason to be suggested.
func noColleague(ctx context.Context, conn *sql.Conn, st status) (string, error) {
	var others, open int
	err := conn.QueryRowContext(ctx, `
		with roster as (
			select clinician, bool_or(accepting is distinct from false) as open
			from stg_clinicians
			where (start_date is null or start_date <= ?::DATE) and (end_date is null or end_date >= ?::DATE)
			group by clinician
		)
		select count(*), count(*) filter (where open) from roster where clinician <> coalesce(?, '')`,
		st.monthEnd, st.month, st.pointPerson).Scan(&others, &open)
	if err != nil {
		return "", fmt.Errorf("explain: read the roster for %q: %w", st.referrer.String, err)
	}
	const lead = "no colleague to suggest: "
	switch {
	case others == 0:
		return lead + "the roster lists no clinician but the point person this month", nil
	case open == 0 && others == 1:
		return lead + "the roster says the one other clinician is not accepting new clients", nil
	case open == 0:
		return fmt.Sprintf(lead+"the roster says none of the %d other clinicians is accepting new clients", others), nil
	case open == 1:
		return lead + "the one other clinician accepting new clients does not bill the payers of this referrer's clients, " +
			"have room or share a specialty with the point person", nil
	}
	return fmt.Sprintf(lead+"none of the %d other clinicians accepting new clients bills the payers of this referrer's clients, "+
		"has room or shares a specialty with the point person", open), nil
}

func writeHeader(w io.Writer, st status) {
	fmt.Fprintf(w, "%s", st.referrer.String)
	var about []string
	if st.category.Valid {
		about = append(about, st.category.String)
	}
	if st.npi.Valid {
		about = append(about, "NPI "+st.npi.String)
	}
	if len(about) > 0 {
		fmt.Fprintf(w, " (%s)", strings.Join(about, ", "))
	}
	fmt.Fprintf(w, ", report month %s\n", st.month.Format("2006-01"))
	fmt.Fprintf(w, "First referral %s, last %s, %d in all.\n\n", day(st.firstReferral), day(st.lastReferral), st.referralsEver)
}

func writeTable(w io.Writer, months []monthRow, th thresholds) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "month\tnew\tassigned to\trequested\tN\tpoint person\tto pp\tpractice\tCOC\teff.\tstage\n")
	var lastPP string
	anyLow := false
	for _, m := range months {
		pp := m.pointPerson.String
		if !m.pointPerson.Valid {
			pp = "(none yet)"
		}
		if pp == lastPP {
			pp = `"`
		} else {
			lastPP = pp
		}
		assigned, requested := m.assigned, m.requested
		if m.newReferrals == 0 {
			assigned, requested = "", ""
		} else if requested == "" {
			requested = "(not recorded)"
		}
		stage := "–"
		if m.stage.Valid {
			stage = fmt.Sprint(m.stage.Int64)
			if m.lowEvidence {
				stage += "*"
				anyLow = true
			}
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", m.month.Format("2006-01"), m.newReferrals,
			assigned, requested, m.referrals, pp, pct(m.ppShare), pct(m.practiceShare), num(m.coc, 2),
			effective(m.coc, m.effective), stage)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nN, to pp (point-person share), practice (practice share), COC and eff. (effective clinicians)\n"+
		"are over the %d months to each month's end. – is no stage (no referral in the window), or no\n"+
		"figure: COC needs 2 referrals, the practice share a request on record. A referral is for the\n"+
		"point person (to pp) when it asked for them by name, else when they were assigned it; so one\n"+
		"addressed to the practice counts for the point person when they took it.\n"+
		"eff. is 1 / COC: from few referrals, an estimate of how widely they would spread with more, so\n"+
		"it can exceed the clinicians assigned (∞: no two share one).\n", th.windowMonths)
	if anyLow {
		fmt.Fprintf(w, "* low evidence: fewer than %d referrals in the window.\n", th.lowEvidenceBelow)
	}
}

var stageNames = map[int64]string{1: "Stage 1 (point person)", 2: "Stage 2 (trying colleagues)", 3: "Stage 3 (whole practice)"}

// paragraph answers "why is this referrer at its stage?" in words.
func paragraph(st status, th thresholds, inWindow string, counted ppCounts, notes []string) string {
	var b strings.Builder
	window := fmt.Sprintf("the %d months to %s", th.windowMonths, st.monthEnd.Format("2006-01-02"))
	pp := st.pointPerson.String
	if !st.pointPerson.Valid {
		pp = "(none yet)"
	}
	// "For the point person", not "went to": a referral that asked for the point person
	// by name counts for them whoever took the client (see ppCounted).
	ppPart := fmt.Sprintf("%d %s for the point person %s (%s", st.ppReferrals, wasWere(st.ppReferrals), pp, pct(st.ppShare))
	practicePart := ""
	if st.practiceShare.Valid {
		practicePart = fmt.Sprintf("%d %s addressed to the practice (%s of the %d whose request is known",
			st.practiceReferrals, wasWere(st.practiceReferrals), pct(st.practiceShare), st.known)
	}
	if !st.stage.Valid {
		if counted.unmeasured > 0 {
			fmt.Fprintf(&b, "No stage yet: %s in %s %s no clinician yet (an intake booked into an open slot, say), and a referral "+
				"is measured from the night one is assigned.", count(counted.unmeasured, "referral"), window, hasHave(counted.unmeasured))
		} else {
			fmt.Fprintf(&b, "No stage (inactive): no referral in %s; the last was on %s.", window, day(st.lastReferral))
		}
	} else {
		fmt.Fprintf(&b, "%s: of the %d %s in %s, ", stageNames[st.stage.Int64], st.referrals, plural(st.referrals, "referral"), window)
		switch st.stage.Int64 {
		case 3:
			if st.practiceShare.Valid && st.practiceShare.Float64 >= th.stage3PracticeShare {
				overlap := ""
				if st.practiceReferrals+st.ppReferrals > st.referrals {
					// Not a contradiction: a referral addressed to the practice counts for
					// the point person when they took it.
					overlap = "; a referral addressed to the practice counts for the point person too when they took it"
				}
				fmt.Fprintf(&b, "%s, at least the %s needed for stage 3); %s%s).", practicePart,
					pctf(th.stage3PracticeShare), ppPart, overlap)
			} else {
				fmt.Fprintf(&b, "%s, under the %s allowed for stage 3), and with no referred-to field the spread decides: "+
					"%d clinicians, %s effective (at least %s needed), from %d referrals (at least %d needed).",
					ppPart, pctf(th.stage3MaxPPShare), st.clinicians, effective(st.coc, st.effective),
					trimFloat(th.stage3MinEffective), st.referrals, th.stage3MinReferrals)
			}
		case 1:
			fmt.Fprintf(&b, "%s, at least the %s needed for stage 1)", ppPart, pctf(th.stage1PPShare))
			if practicePart != "" {
				fmt.Fprintf(&b, " and %s, below the %s needed for stage 3)", practicePart, pctf(th.stage3PracticeShare))
			}
			b.WriteString(".")
		case 2:
			fmt.Fprintf(&b, "%s, below the %s needed for stage 1)", ppPart, pctf(th.stage1PPShare))
			if practicePart != "" {
				fmt.Fprintf(&b, " and %s, below the %s needed for stage 3).", practicePart, pctf(th.stage3PracticeShare))
			} else {
				var short []string
				if st.referrals < th.stage3MinReferrals {
					short = append(short, fmt.Sprintf("there %s only %d %s", isAre(st.referrals), st.referrals, plural(st.referrals, "referral")))
				}
				if st.coc.Valid && st.coc.Float64 > 0 && st.effective.Float64 < th.stage3MinEffective {
					short = append(short, fmt.Sprintf("they spread over only %s effective clinicians", effective(st.coc, st.effective)))
				}
				if st.ppShare.Float64 >= th.stage3MaxPPShare {
					short = append(short, fmt.Sprintf("the point person still has %s", pct(st.ppShare)))
				}
				fmt.Fprintf(&b, ". With no referred-to field, stage 3 needs at least %d referrals, %s or more effective "+
					"clinicians and under %s to the point person; here %s.", th.stage3MinReferrals,
					trimFloat(th.stage3MinEffective), pctf(th.stage3MaxPPShare), strings.Join(short, " and "))
			}
		}
		b.WriteString(ppCounted(st, counted))
		if counted.unmeasured > 0 {
			fmt.Fprintf(&b, " Besides these, %s in the window %s no clinician yet: measured from the night %s one.",
				count(counted.unmeasured, "referral"), hasHave(counted.unmeasured), itThey(counted.unmeasured))
		}
		if inWindow != "" {
			fmt.Fprintf(&b, " Assigned, whoever was asked for: %s", inWindow)
			if st.coc.Valid {
				fmt.Fprintf(&b, " (COC %s, %s effective clinicians%s)", num(st.coc, 2), effective(st.coc, st.effective), effectiveAbove(st))
			}
			b.WriteString(".")
		}
		if st.lowEvidence {
			fmt.Fprintf(&b, " With fewer than %d referrals in the window this is low evidence.", th.lowEvidenceBelow)
		}
	}
	switch st.ppSource.String {
	case "directory":
		fmt.Fprintf(&b, " %s is the point person named in the referrer directory.", pp)
	case "first referral":
		fmt.Fprintf(&b, " %s is the point person: they took the first referral.", pp)
	case "handed over":
		if st.leaver.Valid && st.leftOn.Valid {
			fmt.Fprintf(&b, " %s is the point person: %s, the point person before them, left the practice on %s, and %s took the referrer's "+
				"first referral after that; the point-person share counts for %s from then on.", pp, st.leaver.String, day(st.leftOn), pp, pp)
		} else {
			fmt.Fprintf(&b, " %s is the point person: the point person before them left the practice, and they took the referrer's first referral after that.", pp)
		}
	case "left the practice":
		fmt.Fprintf(&b, " %s is the point person, though they have left the practice: no referral has come since to show who takes the referrer on.", pp)
	case "no clinician yet":
		b.WriteString(" It has no point person yet: none of its clients has a clinician yet.")
	}
	if st.stageSince.Valid {
		k := monthsBetween(st.stageSince.Time, st.month) + 1
		what := "at this stage"
		if !st.stage.Valid {
			what = "inactive"
		}
		fmt.Fprintf(&b, " It has been %s since %s (%d %s)", what, st.stageSince.Time.Format("2006-01"), k, plural(k, "month"))
		if st.previousStage.Valid {
			fmt.Fprintf(&b, "; before that it was at stage %d", st.previousStage.Int64)
		}
		b.WriteString(".")
	}
	switch {
	case st.monthsTo3.Valid && st.monthsTo3.Int64 == 0:
		b.WriteString(" It started at stage 3.")
	case st.monthsTo2.Valid && st.monthsTo2.Int64 == 0 && st.monthsTo3.Valid:
		fmt.Fprintf(&b, " It started at stage 2 and took %d %s to reach stage 3.", st.monthsTo3.Int64, plural(int(st.monthsTo3.Int64), "month"))
	case st.monthsTo2.Valid && st.monthsTo2.Int64 == 0:
		b.WriteString(" It started at stage 2.")
	case st.monthsTo2.Valid && st.monthsTo3.Valid && st.monthsTo2.Int64 == st.monthsTo3.Int64:
		fmt.Fprintf(&b, " From its first referral it took %d %s to reach stage 3, with no month at stage 2.",
			st.monthsTo3.Int64, plural(int(st.monthsTo3.Int64), "month"))
	case st.monthsTo2.Valid && st.monthsTo3.Valid:
		fmt.Fprintf(&b, " From its first referral it took %d %s to reach stage 2 and %d to reach stage 3.",
			st.monthsTo2.Int64, plural(int(st.monthsTo2.Int64), "month"), st.monthsTo3.Int64)
	case st.monthsTo2.Valid:
		fmt.Fprintf(&b, " From its first referral it took %d %s to reach stage 2.", st.monthsTo2.Int64, plural(int(st.monthsTo2.Int64), "month"))
	}
	if st.regressions > 0 {
		fmt.Fprintf(&b, " Its stage has fallen %d %s.", st.regressions, plural(st.regressions, "time"))
	}
	if len(notes) > 0 {
		fmt.Fprintf(&b, " This month: %s.", strings.Join(notes, "; "))
	}
	return b.String()
}

// ppCounted says what counted for the point person: the point-person share counts a
// referral that asked for them by name, else one assigned to them, so it can differ from
// the clients they were assigned.
func ppCounted(st status, c ppCounts) string {
	if st.ppReferrals == 0 {
		return ""
	}
	pp := st.pointPerson.String
	var why []string
	if c.byName > 0 {
		s := fmt.Sprintf("%d asked for %s by name", c.byName, pp)
		if c.byNameTakenElsewhere > 0 {
			s += fmt.Sprintf(" (%d of them taken by a colleague)", c.byNameTakenElsewhere)
		}
		why = append(why, s)
	}
	if c.practiceAssigned > 0 {
		why = append(why, fmt.Sprintf("%d %s addressed to the practice and assigned to them", c.practiceAssigned, wasWere(c.practiceAssigned)))
	}
	if c.noRequestAssigned > 0 {
		why = append(why, fmt.Sprintf("%d %s assigned to them with no request on record", c.noRequestAssigned, wasWere(c.noRequestAssigned)))
	}
	if len(why) == 0 {
		return ""
	}
	return fmt.Sprintf(" A referral counts for the point person when it asked for them by name, else when they were assigned it: here %s.",
		andList(why))
}

func writeChannel(ctx context.Context, conn *sql.Conn, name string, w io.Writer) error {
	var n int
	var first, last sql.NullTime
	if err := conn.QueryRowContext(ctx, `select count(*), min(referral_date), max(referral_date) from referrals where referrer = ?`, name).
		Scan(&n, &first, &last); err != nil {
		return fmt.Errorf("explain: read referrals for %q: %w", name, err)
	}
	_, err := fmt.Fprintln(w, wrap(fmt.Sprintf("%s is a marketing channel, not a referrer: its %d %s (first %s, last %s) are counted "+
		"in the volume reports, but a channel never gets a stage. If it is a person or an organisation that refers clients, "+
		"say so in the referrer directory (channel = no).", name, n, plural(n, "referral"), day(first), day(last)), 92))
	return err
}

func pct(x sql.NullFloat64) string {
	if !x.Valid {
		return "–"
	}
	return pctf(x.Float64)
}

// pctf is x as a whole percentage, halves rounded up as the workbook's 12.5% reads
// (fmt would round 12.5 to the even 12).
// x × 100 just under a half (23/40: 57.49999999999999) is that half, rounded up as
// the reports round it.
func pctf(x float64) string { return fmt.Sprintf("%.0f%%", math.Round(x*100+math.Copysign(1e-9, x))) }

func num(x sql.NullFloat64, prec int) string {
	if !x.Valid {
		return "–"
	}
	return fmt.Sprintf("%.*f", prec, x.Float64)
}

// effective shows effective clinicians, infinite when no two referrals went to
// the same clinician (COC 0).
func effective(coc, eff sql.NullFloat64) string {
	if coc.Valid && coc.Float64 == 0 {
		return "∞"
	}
	return num(eff, 1)
}

// effectiveAbove says why effective clinicians exceed the clinicians assigned, when they
// do: from few referrals 1 / COC estimates how widely they would spread with more, and can
// exceed the clinicians so far (4 and 3 referrals to two make 2.3; 11 referrals to 10
// clinicians, one of them twice, make 55); it is infinite when no two share one.
func effectiveAbove(st status) string {
	if st.coc.Valid && st.coc.Float64 == 0 {
		return ": no two referrals went to the same clinician, so 1 / COC has no bound"
	}
	if !st.coc.Valid || !st.effective.Valid || st.effective.Float64 <= float64(st.clinicians) {
		return ""
	}
	return fmt.Sprintf(": 1 / COC, from few referrals an estimate of how widely they would spread with more, so above the %d %s so far", st.clinicians,
		plural(st.clinicians, "clinician"))
}

// andList joins "a", "b" and "c" as "a, b and c".
func andList(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

func trimFloat(x float64) string { return strings.TrimSuffix(fmt.Sprintf("%g", x), ".0") }

func day(t sql.NullTime) string {
	if !t.Valid {
		return "–"
	}
	return t.Time.Format("2006-01-02")
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

func wasWere(n int) string {
	if n == 1 {
		return "was"
	}
	return "were"
}

func monthsBetween(a, b time.Time) int {
	return (b.Year()-a.Year())*12 + int(b.Month()) - int(a.Month())
}

// wrap breaks text into lines of at most width runes at spaces.
func wrap(text string, width int) string {
	var out, line strings.Builder
	n := 0
	for _, word := range strings.Fields(text) {
		wl := len([]rune(word))
		if n > 0 && n+1+wl > width {
			out.WriteString(line.String() + "\n")
			line.Reset()
			n = 0
		}
		if n > 0 {
			line.WriteByte(' ')
			n++
		}
		line.WriteString(word)
		n += wl
	}
	out.WriteString(line.String())
	return out.String()
}

// errWriter keeps the first write error so the many Fprintf calls need no checks.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return len(p), nil
	}
	n, err := e.w.Write(p)
	if err != nil {
		e.err = err
	}
	return n, err
}

// count is n and noun, plural when n is not 1: "1 referral", "2 referrals".
func count(n int, noun string) string { return fmt.Sprintf("%d %s", n, plural(n, noun)) }

func hasHave(n int) string {
	if n == 1 {
		return "has"
	}
	return "have"
}

func itThey(n int) string {
	if n == 1 {
		return "it has"
	}
	return "each has"
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}
