package pipeline_test

// Referrer identity cases a review of the NPI rules found (two NPIs, one name).

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/referrals/referrals/pipeline"
)

// identity loads a directory, an alias file and scheduling rows (source, NPI), builds,
// and returns the practice.
func identity(t *testing.T, directory, aliases string, refs [][2]string) *practice {
	t.Helper()
	p := newPractice(t)
	p.write("roster.csv", []byte("name,aliases,npi,start_date,end_date,specialties,payers,accepting\n"+
		"Jane Smith,,1234567893,2020-01-01,,anxiety,Aetna,yes\nBen Birch,,,2020-01-01,,,,yes\n"), 0)
	p.write("directory.csv", []byte("name,aliases,npi,category,organisation,point_person,channel\n"+directory), 0)
	p.write("aliases.csv", []byte("alias,referrer\n"+aliases), 0)
	var rows []string
	for i, r := range refs {
		rows = append(rows, strings.Join([]string{fmt.Sprintf("A%d", i), fmt.Sprintf("9%03d", i), "Ben Birch", "01/05/2026", "9:00 AM", "Attended", "Intake", r[0], "", r[1]}, ","))
	}
	p.write("exports/scheduling/a.csv", []byte(schedHeader+strings.Join(rows, "\n")+"\n"), 1)
	p.write("exports/billing/b.csv", []byte(billHeader), 2)
	ctx := context.Background()
	if err := pipeline.LoadReference(ctx, p.db, pipeline.ReferenceFiles{
		Roster: filepath.Join(p.dir, "roster.csv"), Directory: filepath.Join(p.dir, "directory.csv"), Aliases: filepath.Join(p.dir, "aliases.csv"),
	}); err != nil {
		t.Fatal(err)
	}
	p.ingest()
	if _, err := pipeline.BuildModels(ctx, p.db, pipeline.ModelVars(p.cfg, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)), nil); err != nil {
		t.Fatal(err)
	}
	return p
}

const (
	spellingsQ = `SELECT raw_name || ' | ' || coalesce(npi, '-') || ' -> ' || referrer || ' (' || resolved_by || ')' FROM stg_referrer_spellings ORDER BY 1`
	factsQ     = `SELECT referrer, count(*) FROM referral_facts GROUP BY ALL ORDER BY ALL`
	x, y       = "1987654328", "1122334455" // both with a right check digit
)

// E1: the spelling typed without an NPI is "several NPIs" (warned: counted apart),
// yet it is named exactly like one NPI's referrer, and counted with it.
func TestSeveralNPIsSpellingNeverTakesAnNPIsName(t *testing.T) {
	for _, c := range []struct {
		name, dir string
		refs      [][2]string
	}{
		{"directory names x otherwise", "Jonathan Smith,,1987654328,physician,,,no\n",
			[][2]string{{"John Smith", x}, {"John Smith", y}, {"John Smith", ""}, {"John Smith", ""}}},
		{"x mostly typed J. Smith", "",
			[][2]string{{"J. Smith", x}, {"J. Smith", x}, {"J. Smith", x}, {"John Smith", x}, {"John Smith", y}, {"John Smith", ""}, {"John Smith", ""}}},
	} {
		p := identity(t, c.dir, "", c.refs)
		t.Logf("%s:\n%s\nreferral_facts:\n%s", c.name, p.dump(spellingsQ), p.dump(factsQ))
		var n int64 = p.count(`SELECT count(*) FROM (SELECT DISTINCT s.referrer FROM stg_referrer_spellings s JOIN stg_referrer_spellings o
			ON o.referrer = s.referrer AND o.npi IS NOT NULL WHERE s.resolved_by = 'several NPIs')`)
		if n > 0 {
			t.Errorf("%s: a 'several NPIs' spelling is counted under an NPI's referrer", c.name)
		}
	}
}

// E2: a directory entry without an NPI (category, point person) matches John Smith
// NPI x; once a second John Smith (NPI y) appears, x is renamed
// "John Smith (NPI x)" and loses the directory's category and point person, with
// no warning ('several NPIs' is empty).
func TestDirectoryWithoutNPINamesEveryNPI(t *testing.T) {
	dir := "John Smith,,,physician,,Jane Smith,no\n"
	for _, refs := range [][][2]string{
		{{"John Smith", x}, {"John Smith", x}, {"John Smith", x}},
		{{"John Smith", x}, {"John Smith", x}, {"John Smith", x}, {"Dr John Smith", y}},
	} {
		p := identity(t, dir, "", refs)
		// The directory names one John Smith, without an NPI: both NPIs are that one
		// referrer, as it says, and keep its category and point person.
		if got := p.dump(`SELECT referrer, category, coalesce(directory_point_person, '-') FROM stg_referrers ORDER BY 1`); got != "John Smith physician Jane Smith" {
			t.Errorf("stg_referrers with %d rows of John Smith:\n%s\nwant John Smith physician Jane Smith", len(refs), got)
		}
	}
}

// E3: the alias line README recommends ("john smith,John Smith (NPI x)") stops
// working when the most presentable spelling of the name key changes (here the other
// physician's "Dr. John Smith" is on more clients): x is then "Dr. John Smith (NPI x)"
// and the aliased spellings are a separate referrer named "John Smith (NPI x)".
func TestAliasToAnNPIFollowsItsReferrer(t *testing.T) {
	p := identity(t, "", "john smith,John Smith (NPI 1987654328)\n",
		[][2]string{{"John Smith", x}, {"Dr. John Smith", y}, {"Dr. John Smith", y}, {"john smith", ""}})
	// Whatever NPI x's referrer is called, the aliased spelling is counted with it.
	if got := p.dump(`SELECT count(DISTINCT referrer) FROM stg_referrer_spellings WHERE npi = '1987654328' OR (raw_name = 'john smith' AND npi IS NULL)`); got != "1" {
		t.Errorf("the aliased spelling is not NPI x's referrer:\n%s", p.dump(spellingsQ))
	}
}

// E4: a referrer NPI cell that clean_npi passes but that is not ten digits
// (' 123456789', '+123456789'): npi_valid casts each character and the whole
// build fails.
func TestOddNPICellIsNoNPI(t *testing.T) {
	for _, npi := range []string{`" 123456789"`, `"123456789 "`, `+123456789`} {
		p := newPractice(t)
		p.write("exports/scheduling/a.csv", []byte(schedHeader+"A1,1001,Ben Birch,01/05/2026,9:00 AM,Attended,Intake,Dr Bob Stone,,"+npi+"\n"), 1)
		p.write("exports/billing/b.csv", []byte(billHeader), 2)
		p.ingest()
		_, err := pipeline.BuildModels(context.Background(), p.db, pipeline.ModelVars(p.cfg, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)), nil)
		t.Logf("NPI %s: raw=%q build error: %v", npi, p.dump(`SELECT referrer_npi FROM raw_appointments`), err)
		if err != nil {
			t.Errorf("NPI cell %s fails the whole build", npi)
		}
	}
}

// E5 (716156b): TestOneKindPerReferrer's data plus what every practice has, clients
// who typed "Friend/Family" with no NPI. Dr Roberts' NPI group is then named
// "Friend/Family" (npi_display's pool takes every spelling of the name key, and the
// channel's no-NPI rows outnumber hers), so all her referrals become the channel's.
func TestChannelNameDoesNotNameAPhysician(t *testing.T) {
	p := newPractice(t)
	var rows []string
	for i, r := range [][2]string{
		{"Dr Fatima Roberts", "1987654328"}, {"Dr Fatima Roberts", "1987654328"}, {"Friend/Family", "1987654328"},
		{"Friend/Family", ""}, {"Friend/Family", ""}, {"Friend/Family", ""},
	} {
		rows = append(rows, strings.Join([]string{fmt.Sprintf("A%d", i), fmt.Sprintf("9%03d", i), "Jane Smith", "01/05/2026", "9:00 AM", "Attended", "Intake", r[0], "", r[1]}, ","))
	}
	p.write("exports/scheduling/a.csv", []byte(schedHeader+strings.Join(rows, "\n")+"\n"), 1)
	p.write("exports/billing/b.csv", []byte(billHeader), 2)
	if err := pipeline.LoadReference(context.Background(), p.db, pipeline.ReferenceFiles{}); err != nil {
		t.Fatal(err)
	}
	p.ingest()
	if _, err := pipeline.BuildModels(context.Background(), p.db, pipeline.ModelVars(p.cfg, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)), nil); err != nil {
		t.Fatal(err)
	}
	got := p.dump(`SELECT referrer, source_kind, count(*) FROM referral_facts GROUP BY ALL ORDER BY ALL`)
	t.Logf("referral_facts:\n%s\nspellings:\n%s", got, p.dump(spellingsQ))
	if !strings.Contains(got, "Dr Fatima Roberts referrer 3") {
		t.Errorf("Dr Fatima Roberts' referrals are not hers")
	}
}
