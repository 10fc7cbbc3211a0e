package pipeline_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/referrals/referrals/pipeline"
)

// TestReferrerIdentity checks that one referrer is one referrer however it
// was typed: NPI first, then the name key, then the alias file; channels
// are recognised; look-alikes that were not merged are listed.
func TestReferrerIdentity(t *testing.T) {
	p := newPractice(t)
	p.write("roster.csv", []byte("name,aliases,npi,start_date,end_date,specialties,payers,accepting\n"+
		"Jane Smith,\"Smith, Jane LCSW\",1234567893,2020-01-01,,anxiety,Aetna,yes\n"), 0)
	p.write("directory.csv", []byte("name,aliases,npi,category,organisation,point_person,channel\n"+
		"St. Anne's EAP,St Annes,,EAP,St. Anne's,Jane Smith,no\n"+
		"Psychology Today,PT listing,,,,,yes\n"), 0)
	p.write("aliases.csv", []byte("alias,referrer\nKen Cook,Kenneth Cook\n"), 0)
	var rows []string
	for i, src := range []string{
		"Dr. Maria Lopez", "\"Lopez, Maria MD\"", "maria lopez", // name key
		"Ken Cook", "\"Cook, Kenneth\"", "KENNETH COOK", // alias, and the alias target's own spellings
		"st annes", "St. Anne's EAP", // directory alias
		"psychology today", "PT listing", "Google", // channels
		"Jon Smith", "Jon Smithe", // near duplicates
		"Bob Lee", // NPI-merged with Robert Lee below (an NPI whose check digit is right)
	} {
		npi := ""
		if src == "Bob Lee" {
			npi = "1922334457"
		}
		rows = append(rows, strings.Join([]string{"A" + string(rune('a'+i)), "9000" + string(rune('a'+i)), "Jane Smith", "01/05/2026", "9:00 AM", "Attended", "Intake", src, "", npi}, ","))
	}
	p.write("exports/scheduling/a.csv", []byte(schedHeader+strings.Join(rows, "\n")+"\n"), 1)
	p.write("exports/billing/b.csv", []byte(billHeader+
		"L1,CL1,01/05/2026,Jane Smith,,MARIA LOPEZ,1457392811,Aetna,90791,200.00,150.00\n"+
		"L2,CL2,01/05/2026,Jane Smith,,Robert Lee MD,1922334457,Aetna,90791,200.00,150.00\n"), 2)
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
	want := map[string]string{
		"Dr. Maria Lopez": "Dr. Maria Lopez", "Lopez, Maria MD": "Dr. Maria Lopez", "maria lopez": "Dr. Maria Lopez", "MARIA LOPEZ": "Dr. Maria Lopez",
		"Ken Cook": "Kenneth Cook", "Cook, Kenneth": "Kenneth Cook", "KENNETH COOK": "Kenneth Cook",
		"st annes": "St. Anne's EAP", "St. Anne's EAP": "St. Anne's EAP",
		"psychology today": "Psychology Today", "PT listing": "Psychology Today",
		"Jon Smith": "Jon Smith", "Jon Smithe": "Jon Smithe",
	}
	got := map[string]string{}
	channel := map[string]bool{}
	r, err := p.db.Query("SELECT raw_name, referrer, is_channel FROM stg_referrer_spellings")
	if err != nil {
		t.Fatal(err)
	}
	for r.Next() {
		var raw, ref string
		var ch bool
		if err := r.Scan(&raw, &ref, &ch); err != nil {
			t.Fatal(err)
		}
		got[raw] = ref
		channel[ref] = ch
	}
	r.Close()
	// The billing spelling of Maria Lopez carries an NPI the scheduling
	// spellings lack; it joins them through its name key.
	for raw, ref := range want {
		if got[raw] != ref {
			t.Errorf("%q resolved to %q, want %q", raw, got[raw], ref)
		}
	}
	if got["Bob Lee"] == "" || got["Bob Lee"] != got["Robert Lee MD"] {
		t.Errorf("Bob Lee (%q) and Robert Lee MD (%q) share an NPI but are not one referrer", got["Bob Lee"], got["Robert Lee MD"])
	}
	for _, c := range []string{"Psychology Today", "Google"} {
		if !channel[c] {
			t.Errorf("%s is not marked as a channel", c)
		}
	}
	if channel["Dr. Maria Lopez"] {
		t.Error("a referrer was marked as a channel")
	}
	var a, b string
	if err := p.db.QueryRow("SELECT referrer_a, referrer_b FROM referrer_near_duplicates").Scan(&a, &b); err != nil {
		t.Fatalf("near duplicates: %v", err)
	}
	if a != "Jon Smith" || b != "Jon Smithe" {
		t.Errorf("near duplicate pair %q / %q, want Jon Smith / Jon Smithe", a, b)
	}
}

// identity loads a directory, an alias file and one scheduling row per reference
// (source, NPI, each a client of its own), builds the models, and returns the
// practice.
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
	p.build()
	return p
}

const (
	spellingsQ = `SELECT raw_name || ' ' || coalesce(npi, '-') || ' -> ' || referrer || ' (' || resolved_by || ')' FROM stg_referrer_spellings ORDER BY 1`
	factsQ     = `SELECT referrer, source_kind, count(*) FROM referral_facts GROUP BY ALL ORDER BY ALL`
	x, y       = "1987654328", "1122334455" // both with a right check digit
)

// TestTwoNPIsAreTwoReferrers: two physicians named John Smith, each with an NPI
// whose check digit is right, are two referrers, each shown with its NPI; a
// "john smith" typed without an NPI could be either and is counted apart, listed
// as such, until an alias line says which. A name the directory gives another NPI
// is not taken by a second one, while a mistyped NPI (check digit wrong) still
// merges by name. "Xavier Young, MD" is no "Last, First".
func TestTwoNPIsAreTwoReferrers(t *testing.T) {
	directory := "Dana Doe,,1555555550,physician,,,no\n" +
		"Evan Eve,Dr E. Eve,,physician,,,no\n" // no NPI: its name matches any
	refs := [][2]string{
		{"John Smith", x}, {"John Smith", x}, {"Dr. John Smith", y},
		{"john smith", ""},
		{"Dana Doe", "1666666668"}, {"Dana Doe", ""},
		{"Pat Poe", "1777777776"}, {"Pat Poe", "1777777775"}, // the second NPI mistyped
		{"Dr E. Eve", "1222222220"},
		{`"Young, Xavier"`, "1888888884"}, {`"Dr. Xavier Young, MD"`, "1888888884"},
	}
	for _, aliased := range []bool{false, true} {
		aliases := ""
		// The alias names NPI x's referrer: the other NPI's spelling alone is then
		// left "John Smith", no longer alike any other.
		lone := "john smith - -> John Smith (no NPI) (several NPIs)"
		other := "Dr. John Smith 1122334455 -> John Smith (NPI 1122334455) (npi)"
		referrers := "Dana Doe 1555555550 1\nDana Doe (NPI 1666666668) 1666666668 1\nJohn Smith (NPI 1122334455) 1122334455 1\n" +
			"John Smith (NPI 1987654328) 1987654328 2\nJohn Smith (no NPI) - 1"
		if aliased {
			aliases = "john smith,John Smith (NPI 1987654328)\n"
			lone = "john smith - -> John Smith (NPI 1987654328) (alias)"
			other = "Dr. John Smith 1122334455 -> John Smith (npi)"
			referrers = "Dana Doe 1555555550 1\nDana Doe (NPI 1666666668) 1666666668 1\nJohn Smith 1122334455 1\nJohn Smith (NPI 1987654328) 1987654328 3"
		}
		p := identity(t, directory, aliases, refs)
		want := strings.Join([]string{
			"Dana Doe - -> Dana Doe (directory)",
			"Dana Doe 1666666668 -> Dana Doe (NPI 1666666668) (npi)",
			"Dr E. Eve 1222222220 -> Evan Eve (npi)",
			other,
			"Dr. Xavier Young, MD 1888888884 -> Dr. Xavier Young, MD (npi)",
			"John Smith 1987654328 -> John Smith (NPI 1987654328) (npi)",
			"Pat Poe 1777777775 -> Pat Poe (name)", // merged by name: the check digit is wrong
			"Pat Poe 1777777776 -> Pat Poe (npi)",
			"Young, Xavier 1888888884 -> Dr. Xavier Young, MD (npi)",
			lone,
		}, "\n")
		if got := p.dump(spellingsQ); got != want {
			t.Errorf("aliased %v: spellings resolved as\n%s\nwant\n%s", aliased, got, want)
		}
		// Each referrer keeps its own NPI and its own referrals.
		got := p.dump(`SELECT s.referrer, coalesce(s.npi, '-'), count(f.client_key)
			FROM stg_referrers s LEFT JOIN referral_facts f ON f.referrer = s.referrer
			WHERE s.referrer LIKE 'John Smith%' OR s.referrer LIKE 'Dana Doe%' GROUP BY ALL ORDER BY 1`)
		if got != referrers {
			t.Errorf("aliased %v: referrers\n%s\nwant\n%s", aliased, got, referrers)
		}
	}
}

// An NPI whose check digit is wrong is no NPI to tell referrers by: two people
// typed with one such number (a placeholder such as 0000000000 that the system
// fills in, or the same typo) are two referrers, each by its name, and a mistyped
// NPI on a name that several NPIs share is as good as none: counted with the
// spellings typed without an NPI, not as a referrer of its own under the bare name.
// Before, such an NPI grouped its spellings like a valid one: Carl Dee's client
// was Ann Bee's, and "John Smith" with the mistyped NPI was a third John Smith.
func TestMistypedNPIIsNoIdentity(t *testing.T) {
	p := identity(t, "", "", [][2]string{
		{"Ann Bee", "0000000000"}, {"Carl Dee", "0000000000"},
		{"John Smith", x}, {"Dr. John Smith", y}, {"john smith", ""},
		{"John Smith", "1987654327"}, // x with its last digit mistyped
	})
	want := "Ann Bee 1\nCarl Dee 1\nJohn Smith (NPI 1122334455) 1\nJohn Smith (NPI 1987654328) 1\nJohn Smith (no NPI) 2"
	if got := p.dump(`SELECT referrer, count(*) FROM referral_facts GROUP BY ALL ORDER BY ALL`); got != want {
		t.Errorf("referrals per referrer\n%s\nwant\n%s\nspellings:\n%s", got, want, p.dump(spellingsQ))
	}
	// Nor is such an NPI shown as the referrer's (and passed to the CRM): "John
	// Smith (no NPI)" showed 1987654327, Ann Bee and Carl Dee 0000000000.
	want = "Ann Bee -\nCarl Dee -\nJohn Smith (NPI 1122334455) 1122334455\nJohn Smith (NPI 1987654328) 1987654328\nJohn Smith (no NPI) -"
	if got := p.dump(`SELECT referrer, coalesce(npi, '-') FROM stg_referrers ORDER BY ALL`); got != want {
		t.Errorf("referrers' NPIs\n%s\nwant\n%s", got, want)
	}
}

// A name typed without its ø, ł or ß ("Soren Owens", "SOREN OWENS" from a billing
// system that writes ASCII) is the referrer typed with them. The name key used to
// turn such a letter into a space ("s ren owens"), so they were two referrers.
func TestLettersWithoutDecompositionFold(t *testing.T) {
	p := identity(t, "Søren Owens,,,EAP,,,no\n", "", [][2]string{
		{"Søren Owens", ""}, {"Soren Owens", ""}, {`"OWENS, SOREN"`, ""},
		{"Łukasz Nowak", ""}, {"Lukasz Nowak", ""},
	})
	want := "Lukasz Nowak 2\nSøren Owens 3" // a tie of spellings goes to the alphabetical first
	if got := p.dump(`SELECT referrer, count(*) FROM referral_facts GROUP BY ALL ORDER BY ALL`); got != want {
		t.Errorf("referrals per referrer\n%s\nwant\n%s\nspellings:\n%s", got, want, p.dump(spellingsQ))
	}
}

// A credential written with points or a hyphen ("M.D.", "PA-C") is folded as one
// written without: "Maria Lopez, M.D." is Dr. Maria Lopez. Before, its letters
// stayed ("m", "d") and made the part after the comma a first name: the key was
// "m d maria lopez", another referrer.
func TestDottedCredentialsFold(t *testing.T) {
	p := identity(t, "", "", [][2]string{
		{"Dr. Maria Lopez", ""}, {`"Maria Lopez, M.D."`, ""}, {`"Lopez, Maria M.D., Ph.D."`, ""},
		{`"Ann Lee, PA-C"`, ""}, {"Ann Lee", ""},
	})
	want := "Ann Lee 2\nDr. Maria Lopez 3"
	if got := p.dump(`SELECT referrer, count(*) FROM referral_facts GROUP BY ALL ORDER BY ALL`); got != want {
		t.Errorf("referrals per referrer\n%s\nwant\n%s\nspellings:\n%s", got, want, p.dump(spellingsQ))
	}
}

// A spelling typed without an NPI where several NPIs share its key never takes the
// name of one NPI's referrer, however those are named (by the directory, or by
// another spelling), so it is never counted with it.
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
		if n := p.count(`SELECT count(*) FROM (SELECT DISTINCT s.referrer FROM stg_referrer_spellings s JOIN stg_referrer_spellings o
			ON o.referrer = s.referrer AND o.npi IS NOT NULL WHERE s.resolved_by = 'several NPIs')`); n > 0 {
			t.Errorf("%s: a 'several NPIs' spelling is counted under an NPI's referrer:\n%s", c.name, p.dump(spellingsQ))
		}
	}
}

// A directory entry without an NPI names one referrer: the NPIs its name matches are
// that one, as it says, and keep its category and point person when a second NPI
// appears (before, the established referrer was renamed and lost them).
func TestDirectoryWithoutNPINamesEveryNPI(t *testing.T) {
	dir := "John Smith,,,physician,,Jane Smith,no\n"
	for _, refs := range [][][2]string{
		{{"John Smith", x}, {"John Smith", x}, {"John Smith", x}},
		{{"John Smith", x}, {"John Smith", x}, {"John Smith", x}, {"Dr John Smith", y}},
	} {
		p := identity(t, dir, "", refs)
		if got := p.dump(`SELECT referrer, category, coalesce(directory_point_person, '-') FROM stg_referrers ORDER BY 1`); got != "John Smith physician Jane Smith" {
			t.Errorf("stg_referrers with %d rows of John Smith:\n%s\nwant John Smith physician Jane Smith", len(refs), got)
		}
	}
}

// An alias whose referrer ends in "(NPI x)" puts its spellings with NPI x's referrer,
// whatever that is called (here "Dr. John Smith (NPI x)": the other physician's
// "Dr. John Smith" is on more clients and names both).
func TestAliasToAnNPIFollowsItsReferrer(t *testing.T) {
	p := identity(t, "", "john smith,John Smith (NPI 1987654328)\n",
		[][2]string{{"John Smith", x}, {"Dr. John Smith", y}, {"Dr. John Smith", y}, {"john smith", ""}})
	if got := p.count(`SELECT count(DISTINCT referrer) FROM stg_referrer_spellings WHERE npi = '1987654328' OR (raw_name = 'john smith' AND npi IS NULL)`); got != 1 {
		t.Errorf("the aliased spelling is not NPI x's referrer:\n%s", p.dump(spellingsQ))
	}
}

// An NPI cell that is ten characters but not ten digits (' 123456789',
// '+123456789') is no valid NPI, and the build goes through.
func TestOddNPICellIsNoNPI(t *testing.T) {
	for _, npi := range []string{`" 123456789"`, `"123456789 "`, `+123456789`} {
		p := identity(t, "", "", [][2]string{{"Dr Bob Stone", npi}})
		if got := p.dump(`SELECT referrer FROM referral_facts`); got != "Dr Bob Stone" {
			t.Errorf("NPI cell %s: referral_facts says %q", npi, got)
		}
	}
}

// TestOneKindPerReferrer: a channel's name typed with a physician's NPI is hers, and
// all her referrals are a referrer's (before, that one was a channel's and
// follow_through_referrer and referrer_value showed either kind); "Google" typed with
// two NPIs is two channels, each under its NPI. However often clients type the
// channel's name without an NPI, it does not name her.
func TestOneKindPerReferrer(t *testing.T) {
	refs := [][2]string{
		{"Dr Fatima Roberts", x}, {"Dr Fatima Roberts", x}, {"Friend/Family", x},
		{"Google", y}, {"Google", "1234567893"},
	}
	for _, typedAlone := range []int{0, 3} {
		all := refs
		for range typedAlone {
			all = append(all, [2]string{"Friend/Family", ""})
		}
		p := identity(t, "", "", all)
		want := "Dr Fatima Roberts referrer 3"
		if typedAlone > 0 {
			want += fmt.Sprintf("\nFriend/Family channel %d", typedAlone)
		}
		want += "\nGoogle (NPI 1122334455) channel 1\nGoogle (NPI 1234567893) channel 1"
		if got := p.dump(factsQ); got != want {
			t.Errorf("with Friend/Family typed %d times alone, referrals by referrer and kind:\n%s\nwant\n%s", typedAlone, got, want)
		}
		for _, q := range []string{"follow_through_referrer", "referrer_value"} {
			if got := p.dump(`SELECT source_kind FROM ` + q + ` WHERE referrer = 'Dr Fatima Roberts'`); got != "referrer" {
				t.Errorf("%s says Dr Fatima Roberts is a %q", q, got)
			}
		}
	}
}
