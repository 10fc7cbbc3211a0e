package reports

import (
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/gocarina/gocsv"
)

// referrerRecord is one row of the CRM export. Every field is a string so the formatting
// (4 decimals, ISO dates, blanks for NULL) is decided here and not by the CSV library.
type referrerRecord struct {
	Referrer            string `csv:"referrer"`
	Category            string `csv:"category"`
	NPI                 string `csv:"npi"`
	PointPerson         string `csv:"point_person"`
	Referrals           string `csv:"referrals"`
	Clinicians          string `csv:"clinicians"`
	PointPersonShare    string `csv:"point_person_share"`
	PracticeShare       string `csv:"practice_share"`
	COC                 string `csv:"coc"`
	EffectiveClinicians string `csv:"effective_clinicians"`
	Stage               string `csv:"stage"`
	LowEvidence         string `csv:"low_evidence"`
	StageSince          string `csv:"stage_since"`
	PreviousStage       string `csv:"previous_stage"`
	FirstReferral       string `csv:"first_referral"`
	LastReferral        string `csv:"last_referral"`
	Flags               string `csv:"flags"`
	// The point person has left the practice and nobody has taken the referrer on
	// since (the lists say "(left the practice)"): last, so that an import that
	// reads the columns by position still finds the others where they were.
	PointPersonLeft string `csv:"point_person_left"`
}

const referrerCSVQuery = `
SELECT referrer, category, npi, point_person, referrals, clinicians, point_person_share::DOUBLE,
    practice_share::DOUBLE, coc::DOUBLE, effective_clinicians::DOUBLE, stage, low_evidence, stage_since,
    previous_stage, first_referral, last_referral, flags, coalesce(point_person_source = 'left the practice', false)
FROM referrer_status
WHERE referrals > 0
ORDER BY stage NULLS LAST, referrals DESC, referrer`

// WriteReferrerCSV writes one row per referrer with a referral in the window, for a CRM
// (out/referrers-YYYY-MM.csv). The order is fixed, so two runs on the same data are
// byte-identical.
func WriteReferrerCSV(ctx context.Context, db *sql.DB, month time.Time, path string) error {
	return writeReferrerCSV(ctx, db, month, path)
}

func writeReferrerCSV(ctx context.Context, db querier, month time.Time, path string) error {
	if _, err := loadPeriod(ctx, db, month); err != nil {
		return fmt.Errorf("referrer CSV %s: %w", path, err)
	}
	rows, err := queryAll(ctx, db, "referrer_status", referrerCSVQuery)
	if err != nil {
		return fmt.Errorf("referrer CSV %s: %w", path, err)
	}
	records := make([]referrerRecord, 0, len(rows))
	for _, r := range rows {
		records = append(records, referrerRecord{
			Referrer:            csvText(r[0]),
			Category:            csvText(r[1]),
			NPI:                 csvText(r[2]),
			PointPerson:         csvText(r[3]),
			Referrals:           csvInt(r[4]),
			Clinicians:          csvInt(r[5]),
			PointPersonShare:    csvDecimal(r[6]),
			PracticeShare:       csvDecimal(r[7]),
			COC:                 csvDecimal(r[8]),
			EffectiveClinicians: csvDecimal(r[9]),
			Stage:               csvInt(r[10]),
			LowEvidence:         csvBool(r[11]),
			StageSince:          csvDate(r[12]),
			PreviousStage:       csvInt(r[13]),
			FirstReferral:       csvDate(r[14]),
			LastReferral:        csvDate(r[15]),
			Flags:               csvText(r[16]),
			PointPersonLeft:     csvBool(r[17]),
		})
	}
	return writeAtomic(path, func(w io.Writer) error {
		if _, err := io.WriteString(w, utf8BOM); err != nil {
			return err
		}
		// An explicit writer, not gocsv's package-wide one that any other package may replace.
		// The header is written even when there are no rows, so the CRM always gets a valid file.
		return gocsv.MarshalCSV(records, gocsv.NewSafeCSVWriter(csv.NewWriter(w)))
	})
}

// utf8BOM opens the CSV: Excel on Windows reads a CSV without it in the system's code page
// (Windows-1252), so "Søren Brennan" would open as "SÃ¸ren Brennan". CRM importers and
// spreadsheet programs that read UTF-8 skip it.
const utf8BOM = "\ufeff"

// neutralise defuses CSV injection as OWASP recommends: a cell that a spreadsheet would read
// as a formula (leading =, +, -, @, tab or carriage return) gets a leading single quote.
func neutralise(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

func csvText(v any) string {
	s, _ := asString(v)
	return neutralise(s)
}

func csvInt(v any) string {
	if i, ok := asInt(v); ok {
		return strconv.FormatInt(i, 10)
	}
	return ""
}

func csvDecimal(v any) string {
	if f, ok := asFloat(v); ok {
		return strconv.FormatFloat(f, 'f', 4, 64)
	}
	return ""
}

func csvDate(v any) string {
	if t, ok := asTime(v); ok {
		return t.Format("2006-01-02")
	}
	return ""
}

func csvBool(v any) string {
	if b, ok := asBool(v); ok {
		return strconv.FormatBool(b)
	}
	return ""
}
