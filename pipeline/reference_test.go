package pipeline_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/referrals/referrals/internal/stagetest"
	"github.com/referrals/referrals/pipeline"
)

// The reference tables are rewritten only when what they would hold changed: an unchanged
// set of files leaves them alone, an edited one replaces them whole.
func TestReferenceReloadedOnlyWhenChanged(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := openRefDB(t, dir)
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	files := pipeline.ReferenceFiles{
		Roster:    write("roster.csv", "name,aliases,npi,start_date,end_date,specialties,payers,accepting\nAnn Ash,,,2020-01-01,,,,yes\n"),
		Directory: write("directory.csv", "name,aliases,npi,category,organisation,point_person,channel\nDr Dee,,,physician,,Ann Ash,\n"),
		Aliases:   write("aliases.csv", "alias,referrer\nDee MD,Dr Dee\n"),
	}
	aliases := func() []string {
		rows, err := db.QueryContext(ctx, `SELECT alias FROM ref_aliases ORDER BY alias`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var a string
			if err := rows.Scan(&a); err != nil {
				t.Fatal(err)
			}
			out = append(out, a)
		}
		return out
	}
	if err := pipeline.LoadReference(ctx, db, files); err != nil {
		t.Fatal(err)
	}
	// A row no file holds: it survives a reload of unchanged files, and only then.
	if _, err := db.ExecContext(ctx, `INSERT INTO ref_aliases VALUES ('marker', 'x')`); err != nil {
		t.Fatal(err)
	}
	if err := pipeline.LoadReference(ctx, db, files); err != nil {
		t.Fatal(err)
	}
	if got := aliases(); len(got) != 2 || got[0] != "Dee MD" || got[1] != "marker" {
		t.Fatalf("after a reload of unchanged files: aliases %q, want the tables left alone", got)
	}
	write("aliases.csv", "alias,referrer\nDee MD,Dr Dee\nD. Dee,Dr Dee\n")
	if err := pipeline.LoadReference(ctx, db, files); err != nil {
		t.Fatal(err)
	}
	if got := aliases(); len(got) != 2 || got[0] != "D. Dee" || got[1] != "Dee MD" {
		t.Fatalf("after an edit: aliases %q, want exactly the file's two", got)
	}
	// Extra channels from the configuration count as a change too.
	files.Channels = []string{"Billboard"}
	if err := pipeline.LoadReference(ctx, db, files); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM ref_channels WHERE name = 'Billboard'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("configured channel stored %d times (%v), want once", n, err)
	}
}

// A reference file saved with semicolons (or tabs) between its values is refused
// with a message that says so, not that a column is missing.
func TestReferenceFileWithSemicolonsSaysSo(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := openRefDB(t, dir)
	for sep, name := range map[string]string{";": "semicolons", "\t": "tabs"} {
		p := filepath.Join(dir, "aliases.csv")
		if err := os.WriteFile(p, []byte("alias"+sep+"referrer\nDee MD"+sep+"Dr Dee\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		err := pipeline.LoadReference(ctx, db, pipeline.ReferenceFiles{Aliases: p})
		if err == nil || !strings.Contains(err.Error(), "aliases file "+p+" separates its values with "+name) {
			t.Errorf("aliases with %s: %v, want a message naming the file and the %s", name, err, name)
		}
	}
}

// openRefDB opens a database in dir for the reference files' tests.
func openRefDB(t *testing.T, dir string) *sql.DB {
	t.Helper()
	db, err := pipeline.Open(context.Background(), filepath.Join(dir, "r.duckdb"), pipeline.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// writeRef writes a reference file in dir and returns its path.
func writeRef(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// The reference files' headers are matched as the exports' are: case, spaces,
// punctuation and underscores ignored, with the usual other names. A roster
// headed "Start Date", "End Date", "Accepting new clients" loaded every date and
// accepting value as NULL, without a word, and "Name" failed as a blank name; a
// directory's "Point Person" and "Organization" were dropped.
func TestReferenceHeadersMatchedAsExportHeaders(t *testing.T) {
	ctx := context.Background()
	for _, rosterHeader := range []string{
		"name,aliases,npi,Start Date,End Date,specialties,payers,Accepting new clients",
		"Name,Aliases,NPI,Start date,END_DATE,Specialties,Payers,Accepting",
	} {
		dir := t.TempDir()
		db := openRefDB(t, dir)
		files := pipeline.ReferenceFiles{
			Roster: writeRef(t, dir, "roster.csv", rosterHeader+"\n"+
				"Ann Ash,,1234567893,2020-01-01,,anxiety,Aetna,yes\n"+
				"Ben Birch,,,2019-05-01,2025-06-30,child,Cigna,no\n"),
			Directory: writeRef(t, dir, "directory.csv", "Name,Aliases,NPI,Category,Organization,Point Person,Channel\n"+
				"Dr Dee,D Dee,,physician,Elm Clinic,Ann Ash,no\n"),
			Aliases: writeRef(t, dir, "aliases.csv", "Alias,Referrer\nDee MD,Dr Dee\n"),
		}
		if err := pipeline.LoadReference(ctx, db, files); err != nil {
			t.Fatalf("headers %s: %v", rosterHeader, err)
		}
		got := stagetest.JoinRows(stagetest.Rows(t, db, `SELECT name || ' ' || coalesce(start_date::VARCHAR, '-') || ' ' || coalesce(end_date::VARCHAR, '-') || ' ' ||
			coalesce(accepting::VARCHAR, '-') || ' ' || coalesce(npi, '-') AS r FROM ref_roster ORDER BY name`), "r")
		if want := "Ann Ash 2020-01-01 - true 1234567893\nBen Birch 2019-05-01 2025-06-30 false -"; got != want {
			t.Errorf("headers %s: roster loaded as\n%s\nwant\n%s", rosterHeader, got, want)
		}
		got = stagetest.JoinRows(stagetest.Rows(t, db, `SELECT concat_ws('|', name, aliases, category, organisation, point_person, channel) AS r FROM ref_directory`), "r")
		if want := "Dr Dee|D Dee|physician|Elm Clinic|Ann Ash|false"; got != want {
			t.Errorf("directory loaded as %q, want %q", got, want)
		}
		got = stagetest.JoinRows(stagetest.Rows(t, db, `SELECT alias || '>' || referrer AS r FROM ref_aliases`), "r")
		if got != "Dee MD>Dr Dee" {
			t.Errorf("aliases loaded as %q", got)
		}
		if w := mustWarnings(t, ctx, db, files); len(w) != 0 {
			t.Errorf("headers %s: warnings %q, want none", rosterHeader, w)
		}
	}
}

// A column the tool needs and cannot find, two headers for one column, and a file
// whose column is not one the tool reads: each said, naming the file and the column.
func TestReferenceHeaderProblemsAndIgnoredColumns(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := openRefDB(t, dir)
	for _, c := range []struct {
		file, body string
		problem    string   // in LoadReference's error, after "<file> file <path>: "
		warnings   []string // ReferenceWarnings, after "<file> file <path>: "
	}{
		{file: "roster", body: "Clinician Name,npi\nAnn Ash,\n"}, // another name for name
		{file: "roster", body: "Nom,npi\nAnn Ash,\n", problem: `no name column: add a header "name" to the first line (the headers found: "Nom", "npi")`},
		// Two headers for one column: its own name wins, then its other names in
		// their order, then the first; the other is ignored with a word. A file
		// with an extra column such as "Type" beside "category" loaded before
		// headers were matched loosely, and must still.
		{file: "roster", body: "name,Start Date,start_date\nAnn Ash,2020-01-01,2020-01-01\n", warnings: []string{
			`the column "start_date" is another name for the start_date column, which is read from the column "Start Date": it is ignored`}},
		{file: "roster", body: "name,Accepting new clients,Accepting\nAnn Ash,yes,yes\n", warnings: []string{
			`the column "Accepting new clients" is another name for the accepting column, which is read from the column "Accepting": it is ignored`}},
		{file: "directory", body: "name,Organization,organisation\nDr Dee,Elm,Elm\n", warnings: []string{
			`the column "Organization" is another name for the organisation column, which is read from the column "organisation"`}},
		{file: "directory", body: "name,category,Type,Practice,Referral Source,Marketing Channel\nDr Dee,physician,Individual,Main St,Conference,Newsletter\n", warnings: []string{
			`the column "Type" is another name for the category column, which is read from the column "category"`,
			`the column "Practice" is not one referrals reads`,
			`the column "Referral Source" is not one referrals reads`,
			`the column "Marketing Channel" is not one referrals reads`}},
		{file: "roster", body: "name,New Clients,Left,Provider,Provider NPI,NPI\nAnn Ash,3,Smith practice,LCSW,1234567893,1234567893\n", warnings: []string{
			`the column "Provider NPI" is another name for the npi column, which is read from the column "NPI"`,
			`the column "New Clients" is not one referrals reads`,
			`the column "Left" is not one referrals reads`,
			`the column "Provider" is not one referrals reads`}},
		{file: "aliases", body: "alias,target\nDee MD,Dr Dee\n", problem: `no referrer column: add a header "referrer"`},
		{file: "roster", body: "name,Leaving,accepting,Notes\nAnn Ash,2025-01-01,yes,x\n", warnings: []string{
			`the column "Leaving" is not one referrals reads, so it is ignored (a roster file's columns: name, aliases, npi, start_date, end_date, specialties, payers, accepting); the file has no aliases, npi, start_date, end_date, specialties or payers column: if this is one of them, rename its header`,
			`the column "Notes" is not one referrals reads, so it is ignored`,
		}},
		{file: "directory", body: "name,Referrer Website\nDr Dee,x\n", warnings: []string{`the column "Referrer Website" is not one referrals reads, so it is ignored`}},
		// A column without a header: ignored without a word while empty (a sheet's
		// trailing comma), with a warning when it holds values.
		{file: "roster", body: "name,accepting,\nAnn Ash,yes,\n"},
		{file: "roster", body: "name,,accepting\nAnn Ash,x,yes\n", warnings: []string{`column 2 has no header, so its values are ignored`}},
	} {
		path := writeRef(t, dir, c.file+".csv", c.body)
		files := oneReferenceFile(c.file, path)
		prefix := c.file + " file " + path + ": "
		got, err := pipeline.LoadReferenceWarnings(ctx, db, files)
		switch {
		case c.problem == "" && err != nil:
			t.Errorf("%s %q: %v, want it loaded", c.file, c.body, err)
		case c.problem != "" && (err == nil || !strings.Contains(err.Error(), prefix+c.problem)):
			t.Errorf("%s %q: %v, want %q", c.file, c.body, err, prefix+c.problem)
		}
		if len(got) != len(c.warnings) {
			t.Errorf("%s %q: warnings %q, want %d", c.file, c.body, got, len(c.warnings))
			continue
		}
		for i, w := range c.warnings {
			if !strings.HasPrefix(got[i], prefix+w) {
				t.Errorf("%s %q: warning %q, want it to start %q", c.file, c.body, got[i], prefix+w)
			}
		}
	}
}

// A roster that spells its headers otherwise measures what the standard one does:
// a clinician who left (End Date) takes no new referrer's clients as point person,
// and neither a leaver nor one not accepting (Accepting new clients) is suggested
// for an introduction. With those columns dropped, both were.
func TestRosterHeadersReachTheReports(t *testing.T) {
	p := newPractice(t)
	p.write("roster.csv", []byte("name,aliases,npi,Start Date,End Date,specialties,payers,Accepting new clients\n"+
		"Ann Ash,,,2020-01-01,,anxiety,,yes\n"+
		"Ben Birch,,,2020-01-01,2025-06-30,anxiety,,yes\n"+
		"Cal Cole,,,2020-01-01,,anxiety,,no\n"+
		"Dee Dunn,,,2020-01-01,,anxiety,,yes\n"), 0)
	var rows []string
	// Each referral asks for the clinician who takes it.
	add := func(clinician, date, source string) {
		n := len(rows)
		rows = append(rows, strings.Join([]string{fmt.Sprintf("A%d", n), fmt.Sprintf("9%03d", n), clinician, date, "9:00 AM", "Attended", "Intake", source, clinician, ""}, ","))
	}
	// Dr Loyal sends every client to Ann: stage 1, ready for introductions.
	for _, d := range []string{"09/02/2025", "10/07/2025", "11/04/2025", "12/02/2025", "01/06/2026"} {
		add("Ann Ash", d, "Dr Loyal")
	}
	// Dr Leaver's first client went to Ben, who left on 2025-06-30; Dee took the next.
	add("Ben Birch", "03/03/2025", "Dr Leaver")
	for _, d := range []string{"09/01/2025", "10/06/2025", "12/01/2025"} {
		add("Dee Dunn", d, "Dr Leaver")
	}
	p.write("exports/scheduling/a.csv", []byte(schedHeader+strings.Join(rows, "\n")+"\n"), 1)
	p.write("exports/billing/b.csv", []byte(billHeader), 2)
	if err := pipeline.LoadReference(context.Background(), p.db, pipeline.ReferenceFiles{Roster: filepath.Join(p.dir, "roster.csv")}); err != nil {
		t.Fatal(err)
	}
	p.ingest()
	p.build()
	if got := p.dump(`SELECT colleague FROM introductions WHERE referrer = 'Dr Loyal' ORDER BY rank`); got != "Dee Dunn" {
		t.Errorf("Dr Loyal's suggested colleagues %q, want only Dee Dunn (Ben Birch left, Cal Cole is not accepting)", got)
	}
	if got := p.dump(`SELECT point_person FROM referrer_status WHERE referrer = 'Dr Leaver'`); got != "Dee Dunn" {
		t.Errorf("Dr Leaver's point person %q, want Dee Dunn (Ben Birch left on 2025-06-30)", got)
	}
}

// One clinician on two roster rows (the same name, or names that differ only in
// case, accents, spaces or punctuation) is refused: the key then named neither
// row, so a referral asking for her counted as addressed to the practice. Each
// problem names the
// file, both lines and the name. Names the key folds alike that differ in more
// (titles, credentials, Jr and Sr, "Last, First") may be two people, whom no
// edit can tell apart, and an alias two clinicians share (a nickname) or that
// is another's name names neither: a warning, and the roster loads.
func TestRosterOneRowPerClinician(t *testing.T) {
	ctx := context.Background()
	const header = "name,aliases,npi,start_date,end_date,specialties,payers,accepting\n"
	for _, c := range []struct {
		body string
		want []string // in the error, after "roster <path>: "; none: it loads
		warn string   // in ReferenceWarnings, where it loads
	}{
		{"Amélie Côté,,1234567893,2020-01-01,,anxiety,Aetna,yes\nAmelie Cote,,,2021-01-01,,child,Cigna,yes\n",
			[]string{`lines 2 and 3 name one clinician: "Amélie Côté" and "Amelie Cote" differ only in case, accents, spaces or punctuation`, "keep one row per clinician (other spellings of a name go in its aliases column)"}, ""},
		// Line numbers are the file's: a blank line counts.
		{"Ann Ash,,,,,,,\nAmélie Côté,,,,,,,\n\n\"Côté, Amélie, PhD\",,,,,,,\n", nil,
			`lines 3 and 5, "Amélie Côté" and "Côté, Amélie, PhD", are one name to referrals`},
		{"\"John Smith, Jr., LCSW\",,,,,,,\n\"John Smith, Sr., PhD\",,,,,,,\n", nil,
			`lines 2 and 3, "John Smith, Jr., LCSW" and "John Smith, Sr., PhD", are one name to referrals, which ignores case, accents, punctuation, titles and credentials: if they are one clinician, keep one row`},
		{"\"Jenny Ma, MA\",,,,,,,\n\"Jenny Do, MA\",,,,,,,\n", nil, ""},
		{"Amélie Côté,,,,,,,\nAnn Ash,,,,,,,\nAmélie Côté,,,,,,,\n",
			[]string{`lines 2 and 4 both name "Amélie Côté": keep one row per clinician`}, ""},
		{"Ann Ash,Annie Ash;Dr. Ben Birch,,,,,,\nBen Birch,,,,,,,\n",
			nil, `"Dr. Ben Birch" (an alias of Ann Ash on line 2) and "Ben Birch" on line 3 are one name to referrals, which ignores case, accents, punctuation, titles and credentials, so a referral or appointment under that name matches neither clinician; give that spelling to one clinician only`},
		{"Ann Ash,A. Smith,,,,,,\nBen Birch,\"smith, a\",,,,,,\n",
			nil, `"A. Smith" (an alias of Ann Ash on line 2) and "smith, a" (an alias of Ben Birch on line 3) are one name to referrals`},
		// A nickname two clinicians share: a warning, not a refusal (it stopped the run).
		{"Patricia Gomez,Pat Gomez,,,,,,\nPatrick Gomez,Pat Gomez,,,,,,\n",
			nil, `"Pat Gomez" (an alias of Patricia Gomez on line 2) and "Pat Gomez" (an alias of Patrick Gomez on line 3) are one name to referrals`},
		{"Ann Ash,,,,,,,\nBen Birch,Ann Ash,,,,,,\n",
			nil, `"Ann Ash" on line 2 and "Ann Ash" (an alias of Ben Birch on line 3) are one name to referrals`},
		// Two problems, both said.
		{"Ann Ash,,,,,,,\nAnn Ash,,,,,,,\nBen Birch,,,,,,,\nBEN BIRCH,,,,,,,\n",
			[]string{`lines 2 and 3 both name "Ann Ash"`, `; lines 4 and 5 name one clinician: "Ben Birch" and "BEN BIRCH"`}, ""},
		// An alias that is a spelling of its own clinician's name, and distinct names: fine.
		{"Jane Smith,\"Smith, Jane LCSW;Janie Smith\",,,,,,\nJane Smithe,,,,,,,\nAnn Ash,,,,,,,\n", nil, ""},
		// Ma and Do are surnames as well as credentials: two people.
		{"\"Jenny Ma, LCSW\",,,,,,,\n\"Jenny Do, LMFT\",,,,,,,\nJenny Smith MA,,,,,,,\n", nil, ""},
		// Two clinicians with one NPI (a typo): every claim line with it would count for
		// the first by name, whoever rendered it. A warning, and the roster loads.
		{"Ben Birch,,1234567893,,,,,\nAnn Ash,,123-456-7893,,,,,\nCal Cole,,1234567894,,,,,\n",
			nil, `lines 2 and 3, "Ben Birch" and "Ann Ash", have the same NPI 1234567893: claim lines with it are matched by the provider's name instead, and a claim whose name matches neither counts for no roster clinician; correct the NPI of the one it is not`},
	} {
		dir := t.TempDir()
		db := openRefDB(t, dir)
		path := writeRef(t, dir, "roster.csv", header+c.body)
		err := pipeline.LoadReference(ctx, db, pipeline.ReferenceFiles{Roster: path})
		if len(c.want) == 0 {
			if err != nil {
				t.Errorf("roster %q: %v, want it loaded", c.body, err)
			}
			warnings := strings.Join(mustWarnings(t, ctx, db, pipeline.ReferenceFiles{Roster: path}), "\n")
			if c.warn == "" && warnings != "" || c.warn != "" && !strings.Contains(warnings, "roster "+path+": "+c.warn) {
				t.Errorf("roster %q: warnings %q, want %q", c.body, warnings, c.warn)
			}
			continue
		}
		if err == nil {
			t.Errorf("roster %q loaded, want it refused", c.body)
			continue
		}
		if !strings.HasPrefix(err.Error(), "roster "+path+": ") {
			t.Errorf("roster %q: %v, want it to name the file", c.body, err)
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("roster %q: %v\nwant %q", c.body, err, w)
			}
		}
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM ref_roster`).Scan(&n); err != nil || n != 0 {
			t.Errorf("roster %q: %d rows loaded (%v), want none", c.body, n, err)
		}
	}
}

// The roster's name warnings are kept between nights (ref_warnings) but never
// name a line or a file that moved: a blank line inserted, or the roster moved,
// gives the warnings a fresh run gives.
func TestRosterWarningsFollowTheirLines(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := openRefDB(t, dir)
	const header = "name,aliases,npi,start_date,end_date,specialties,payers,accepting\n"
	rows := "Patricia Gomez,Pat Gomez,,,,,,\nAnn Ash,,,,,,,\nPatrick Gomez,Pat Gomez,,,,,,\n"
	path := writeRef(t, dir, "roster.csv", header+rows)
	first := strings.Join(mustWarnings(t, ctx, db, pipeline.ReferenceFiles{Roster: path}), "\n")
	if !strings.Contains(first, "(an alias of Patricia Gomez on line 2) and \"Pat Gomez\" (an alias of Patrick Gomez on line 4)") {
		t.Fatalf("warnings %q, want the shared alias on lines 2 and 4", first)
	}
	writeRef(t, dir, "roster.csv", header+"\n"+rows)
	moved := strings.Join(mustWarnings(t, ctx, db, pipeline.ReferenceFiles{Roster: path}), "\n")
	if !strings.Contains(moved, "on line 3) and \"Pat Gomez\" (an alias of Patrick Gomez on line 5)") {
		t.Errorf("after a blank line: warnings %q, want lines 3 and 5", moved)
	}
	other := writeRef(t, dir, "roster-2026.csv", header+"\n"+rows)
	renamed := strings.Join(mustWarnings(t, ctx, db, pipeline.ReferenceFiles{Roster: other}), "\n")
	if !strings.Contains(renamed, "roster "+other+":") || strings.Contains(renamed, "roster "+path+":") {
		t.Errorf("after the roster moved: warnings %q, want them to name %s", renamed, other)
	}
}

// mustWarnings is LoadReferenceWarnings' warnings, failing the test on its error.
func mustWarnings(t *testing.T, ctx context.Context, db *sql.DB, files pipeline.ReferenceFiles) []string {
	t.Helper()
	w, err := pipeline.LoadReferenceWarnings(ctx, db, files)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// A referrer entered twice in the directory (the same name, whatever its case)
// is warned of, naming both lines, and the first row is used: both loaded made
// the referrer two rows of referrer_status, and the data check stopped every
// run (exit 4).
func TestDirectoryReferrerTwice(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := openRefDB(t, dir)
	path := writeRef(t, dir, "directory.csv", "name,aliases,npi,category,organisation,point_person,channel\n"+
		"Dr Maria Lopez,,,physician,Valley Clinic,Ann Ash,no\nDr Sam Ross,,,school,,,no\ndr maria lopez,,,attorney,,Ben Birch,no\n")
	files := pipeline.ReferenceFiles{Directory: path}
	if err := pipeline.LoadReference(ctx, db, files); err != nil {
		t.Fatal(err)
	}
	want := "directory " + path + `: lines 2 and 4 both name "dr maria lopez": line 2 is used and line 4 left out; keep one row per referrer`
	if w := strings.Join(mustWarnings(t, ctx, db, files), "\n"); !strings.Contains(w, want) {
		t.Errorf("warnings %q, want %q", w, want)
	}
	var n int
	var category string
	if err := db.QueryRow(`SELECT count(*), min(category) FROM ref_directory WHERE lower(name) = 'dr maria lopez'`).Scan(&n, &category); err != nil {
		t.Fatal(err)
	}
	if n != 1 || category != "physician" {
		t.Errorf("ref_directory holds %d rows for the referrer (category %q), want the first row alone", n, category)
	}
}

// An alias given to two referrers is warned of, naming both lines, and the
// first row is used: its referrals went to whichever name sorted first.
func TestAliasForTwoReferrers(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := openRefDB(t, dir)
	path := writeRef(t, dir, "aliases.csv", "alias,referrer\nBob Brown,Robert Brown\nKen Cook,Kenneth Cook\nbob brown,Anna Gomez\nKEN COOK,Kenneth Cook\n")
	files := pipeline.ReferenceFiles{Aliases: path}
	if err := pipeline.LoadReference(ctx, db, files); err != nil {
		t.Fatal(err)
	}
	w := strings.Join(mustWarnings(t, ctx, db, files), "\n")
	want := "aliases " + path + `: lines 2 and 4 give "bob brown" to two referrers, "Robert Brown" and "Anna Gomez": line 2 is used and line 4 left out`
	if !strings.Contains(w, want) || strings.Contains(w, "KEN COOK") {
		t.Errorf("warnings %q, want %q and none for the same alias given twice to one referrer", w, want)
	}
	if got := dumpAliases(t, db); got != "Bob Brown=Robert Brown;Ken Cook=Kenneth Cook" {
		t.Errorf("ref_aliases = %q, want the first rows alone", got)
	}
}

func dumpAliases(t *testing.T, db *sql.DB) string {
	t.Helper()
	var s string
	if err := db.QueryRow(`SELECT string_agg(alias || '=' || referrer, ';' ORDER BY alias) FROM ref_aliases`).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// A reference file whose first line is a data row (a headerless file, or an export
// or client list named in [reference] by mistake) is refused without repeating
// that line: its cells may be a client id, a patient's name, birth date or social
// security number. The message said "the headers found: ..." with every cell of it.
// A header cell that reads as a value is not repeated in a warning either.
func TestReferenceDataRowHeaderNotRepeated(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := openRefDB(t, dir)
	secrets := []string{"CLIENTSECRET401", "987-65-4321", "Zelda Patientname", "02/03/1961", "07/08/2026"}
	for _, c := range []struct{ file, body, problem string }{
		{"roster", "A0401,CLIENTSECRET401,Liam Tanaka,07/08/2026,8:00 AM,Attended\nA0402,CLIENTSECRET402,Liam Tanaka,07/08/2026,8:00 AM,Attended\n",
			"no name column: the first line looks like a data row, not a header"},
		{"directory", "Zelda Patientname,CLIENTSECRET401,987-65-4321,02/03/1961\n", "no name column: the first line looks like a data row"},
		{"aliases", "Zelda Patientname,CLIENTSECRET401,987-65-4321\n", "no alias column: the first line looks like a data row"},
	} {
		path := writeRef(t, dir, c.file+".csv", c.body)
		files := oneReferenceFile(c.file, path)
		_, err := pipeline.LoadReferenceWarnings(ctx, db, files)
		if err == nil || !strings.Contains(err.Error(), c.problem) {
			t.Errorf("%s %q: %v, want %q", c.file, c.body, err, c.problem)
			continue
		}
		for _, s := range secrets {
			if strings.Contains(err.Error(), s) {
				t.Errorf("%s: the message repeats %q of the first line: %v", c.file, s, err)
			}
		}
	}
	// A real header with a value among its cells: the column is ignored, unnamed.
	path := writeRef(t, dir, "directory.csv", "name,category,CLIENTSECRET401\nDr Dee,physician,x\n")
	ws, err := pipeline.LoadReferenceWarnings(ctx, db, pipeline.ReferenceFiles{Directory: path})
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 1 || strings.Contains(ws[0], "CLIENTSECRET401") || !strings.Contains(ws[0], "is not one referrals reads") {
		t.Errorf("warnings %q, want one for the ignored column without its value", ws)
	}
}

// oneReferenceFile is the reference files with path as the one of this kind
// (roster, directory or aliases).
func oneReferenceFile(kind, path string) pipeline.ReferenceFiles {
	var files pipeline.ReferenceFiles
	switch kind {
	case "roster":
		files.Roster = path
	case "directory":
		files.Directory = path
	case "aliases":
		files.Aliases = path
	}
	return files
}
