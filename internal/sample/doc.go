// Package sample generates a synthetic mental-health group practice: the
// scheduling and billing exports its systems would produce, the small
// reference files its owner keeps (clinician roster, referrer directory,
// hand-made aliases), and the truth behind them (the referral stage planted
// for every referrer and month, every referred client's intended
// attribution, and the file and line of every planted bad row).
//
// The practice at Scale 1 has about 20 clinicians (some join, some leave,
// one of them a point person), 92 referrers plus 8 marketing channels, and
// about 1,700 referred clients over 40 months. Scale K repeats that mix K
// times in one organisation, so tens of millions of export rows are
// reachable; ScaleForRows picks K for a row count.
//
// Each referrer follows a planted stage path such as 1>2>3 or 3>2. In a
// stage-1 month it asks for its point person by name (95%) and the client
// goes to that clinician; in stage 2 it asks for the point person (45%) or
// one of one to three colleagues (45%); in stage 3 it addresses the practice
// (85%: blank, Any, Practice, First available) and the practice assigns
// whoever has had the fewest new clients lately. A referrer's first-ever
// referral always goes to its point person, so "the assigned clinician of
// the first referral" recovers the point person for referrers not in the
// directory. Stages last 8–18 months (the last one to the end), long enough
// for a trailing 12-month window to agree with the plant.
//
// The layout under Options.Out:
//
//	exports/scheduling/appointments-YYYY-MM.csv  one a month: the month, plus last month re-exported
//	exports/billing/claims-YYYY-Qn.csv           one a quarter
//	roster.csv directory.csv aliases.csv
//	truth/planted-stages.csv truth/referrers.csv truth/referrals.csv
//	truth/bad-rows.csv truth/near-duplicates.csv truth/events.csv
//
// With SingleFile the exports are exports/scheduling/appointments.csv (each
// appointment once, final status) and exports/billing/claims.csv, with no
// planted encoding or bad-row quirks.
//
// Generation is deterministic (one seeded generator used in a fixed order)
// and streams: a month is simulated, its files written through gocsv in
// batches, and its appointments dropped once both exports that carry them
// are written.
package sample
