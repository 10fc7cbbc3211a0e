package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/referrals/referrals/pipeline"
	"github.com/xuri/excelize/v2"
)

// ownPractice writes a practice's own exports (name: content, under exports/)
// and a configuration that reads them with settings added at its end, and
// returns the folder and the configuration.
func ownPractice(t *testing.T, files map[string]string, settings string) (dir, cfg string) {
	t.Helper()
	dir = t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, "exports", name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg = filepath.Join(dir, "referrals.toml")
	body := `database = "out/referrals.duckdb"
out_dir = "out"
[duckdb]
threads = 2
[scheduling]
files = ["exports/scheduling/*.csv"]
[billing]
files = ["exports/billing/*.csv"]
[reference]
roster = ""
directory = ""
aliases = ""
` + settings
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, cfg
}

// runMonth runs the job of the configuration cfg in dir for month (YYYY-MM),
// quietly, stops the test unless it exits 0, and returns the workbook it wrote.
func runMonth(t *testing.T, dir, cfg, month string) string {
	t.Helper()
	if r := runBin(t, "run", "--config", cfg, "--month", month, "--quiet"); r.code != 0 {
		t.Fatalf("run --month %s: exit %d\n%s", month, r.code, r.stderr)
	}
	return filepath.Join(dir, "out", "referrals-"+month+".xlsx")
}

// soleReferrerCell is the column's cell of the one referrer on the workbook's
// Referrers sheet; it stops the test where the sheet lists another number of
// referrers or has no such column.
func soleReferrerCell(t *testing.T, book, column string) string {
	t.Helper()
	rows := sheetRows(t, book, "Referrers")
	col := -1
	if len(rows) > 0 {
		col = slices.Index(strings.Split(rows[0], " | "), column)
	}
	if len(rows) != 2 || col < 0 {
		t.Fatalf("Referrers: %q; want one referrer and a %s column", rows, column)
	}
	return strings.Split(rows[1], " | ")[col]
}

// sheetRows reads a sheet of a written workbook, each row's cells joined by " | ".
func sheetRows(t *testing.T, path, sheet string) []string {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = strings.Join(r, " | ")
	}
	return out
}

// A referral source typed to say there is none ("N/A", "Unknown", "None", "-")
// names no referrer: such clients count as having no source (and a claim's
// referring provider is taken, as for a blank), where each placeholder became a
// referrer with a stage of its own, on the Referrers sheet and in the CSV.
func TestPlaceholderSourceIsNoReferrer(t *testing.T) {
	const header = "Appointment ID,Client ID,Clinician,Appointment Date,Status,Referral Source\n"
	sched := header +
		"1,501,Ann Lee,10/01/2026,Attended,Dr. Maria Lopez\n" +
		"2,502,Ann Lee,10/02/2026,Attended,Dr. Maria Lopez\n" +
		"3,503,Ann Lee,10/05/2026,Attended,Dr. Maria Lopez\n" +
		"4,504,Bob Ray,10/06/2026,Attended,N/A\n" +
		"5,505,Bob Ray,10/07/2026,Attended,Unknown\n" +
		"6,506,Bob Ray,10/08/2026,Attended,NONE\n" +
		"7,507,Bob Ray,10/09/2026,Attended,-\n" +
		"8,508,Ann Lee,10/12/2026,Attended,unknown\n"
	bill := "Claim Line ID,Client ID,DOS,Rendering Provider,Referring Provider,Charge,Paid\n" +
		"L1,508,10/12/2026,Ann Lee,\"Lopez, Maria MD\",200.00,100.00\n" +
		"L2,504,10/06/2026,Bob Ray,N/A,200.00,100.00\n"
	dir, cfg := ownPractice(t, map[string]string{"scheduling/a.csv": sched, "billing/b.csv": bill}, "")
	book := runMonth(t, dir, cfg, "2026-10")
	// Dr. Maria Lopez's fourth referral is the client whose source was "unknown",
	// from its claim; four clients have no source.
	checkReferrals(t, "run", book, map[string]string{"Dr. Maria Lopez": "4"}, "4")
}

// A date column that holds the time too ("Date/Time": 10/05/2026 2:30 PM) gives
// the appointments their time of day, as a time column does: a client's first
// appointment is the morning one, and its source the client's referrer, where the
// times were dropped and the afternoon one, first by its id, was taken.
func TestTimeInTheDateColumnOrdersTheDay(t *testing.T) {
	sched := "Appt #,Date/Time,Patient Account #,Clinician,Status,Referral Source\n" +
		"5001,10/05/2026 2:30 PM,900001,Ann Lee,Attended,Dr. Late\n" +
		"5002,10/05/2026 9:00 AM,900001,Ann Lee,No Show,Dr. Early\n"
	bill := "Claim Line ID,Client ID,DOS,Rendering Provider,Charge,Paid\n"
	dir, cfg := ownPractice(t, map[string]string{"scheduling/a.csv": sched, "billing/b.csv": bill},
		"")
	editConfig(t, cfg, `[scheduling]
files = ["exports/scheduling/*.csv"]`, `[scheduling]
files = ["exports/scheduling/*.csv"]
date_format = "%m/%d/%Y %I:%M %p"`)
	book := runMonth(t, dir, cfg, "2026-10")
	rows := sheetRows(t, book, "Referrers")
	if len(rows) != 2 || !strings.HasPrefix(rows[1], "Dr. Early | ") {
		t.Errorf("Referrers: %q; want the one referrer Dr. Early, the source of the 9:00 AM appointment", rows)
	}
}

// An NPI typed three ways ("1500000033", "1500 000 033", "150-000-0033") is one
// NPI: a spelling typed with it is one row of the Data quality sheet's merged
// spellings, where it was listed once per way of typing it, the rows alike.
func TestNPITypedThreeWaysIsOneSpelling(t *testing.T) {
	sched := "Appointment ID,Client ID,Clinician,Appointment Date,Status,Referral Source,Referrer NPI\n" +
		"1,501,Ann Lee,10/01/2026,Attended,\"Dubois, Anaïs MD\",1500000033\n" +
		"2,502,Ann Lee,10/02/2026,Attended,\"Dubois, Anaïs MD\",1500 000 033\n" +
		"3,503,Ann Lee,10/05/2026,Attended,\"Dubois, Anaïs MD\",150-000-0033\n" +
		"4,504,Ann Lee,10/06/2026,Attended,Dr. Anaïs Dubois,1500000033\n"
	bill := "Claim Line ID,Client ID,DOS,Rendering Provider,Charge,Paid\n"
	dir, cfg := ownPractice(t, map[string]string{"scheduling/a.csv": sched, "billing/b.csv": bill}, "")
	book := runMonth(t, dir, cfg, "2026-10")
	rows := sheetRows(t, book, "Data quality")
	var merged []string
	in := false
	for _, r := range rows {
		switch {
		case r == "Merged referrer spellings":
			in = true
		case in && strings.HasPrefix(r, "Names typed without an NPI"):
			in = false
		case in && strings.Contains(r, " | 1500000033 | "):
			merged = append(merged, r)
		}
	}
	if len(merged) != 1 || !strings.HasPrefix(merged[0], "Dr. Anaïs Dubois | Dubois, Anaïs MD | 1500000033 | npi") {
		t.Errorf("merged spellings with the NPI: %q; want the one row Dr. Anaïs Dubois | Dubois, Anaïs MD | 1500000033 | npi", merged)
	}
}

// A source that says there is none on a client's first appointment ("N/A") does
// not hide the referrer typed on a later one: the client is that referrer's, in a
// full build and when the later appointment comes on a night of its own (the kept
// row merged with the night's), where the claim's provider, or no source, was taken.
// The same holds for a referring provider "N/A" on the client's first claim line.
func TestPlaceholderOnFirstAppointmentDoesNotHideALaterSource(t *testing.T) {
	const header = "Appointment ID,Client ID,Clinician,Appointment Date,Status,Referral Source\n"
	sched := header +
		"1,601,Ann Lee,10/01/2026,Attended,N/A\n" +
		"2,601,Ann Lee,10/08/2026,Attended,Dr. Omar Haddad\n" +
		"3,602,Ann Lee,10/02/2026,Attended,Dr. Omar Haddad\n" +
		"4,603,Ann Lee,10/03/2026,Attended,Unknown\n" +
		"6,604,Ann Lee,10/04/2026,Attended,\n"
	bill := "Claim Line ID,Client ID,DOS,Rendering Provider,Referring Provider,Charge,Paid\n" +
		"L1,601,10/01/2026,Ann Lee,Dr. Claim Only,200.00,100.00\n" +
		"L2,604,10/04/2026,Ann Lee,N/A,200.00,100.00\n" +
		"L3,604,10/11/2026,Ann Lee,Dr. Omar Haddad,200.00,100.00\n"
	dir, cfg := ownPractice(t, map[string]string{"scheduling/a.csv": sched, "billing/b.csv": bill}, "")
	book := filepath.Join(dir, "out", "referrals-2026-10.xlsx")
	referrers := func(night string, want map[string]string, noSource string) {
		t.Helper()
		if r := runBin(t, "run", "--config", cfg, "--month", "2026-10", "--quiet"); r.code != 0 {
			t.Fatalf("%s: run: exit %d\n%s", night, r.code, r.stderr)
		}
		checkReferrals(t, night, book, want, noSource)
	}
	referrers("first night", map[string]string{"Dr. Omar Haddad": "3"}, "1")
	// The next night names client 603's referrer on a later appointment.
	later := header + "5,603,Ann Lee,10/09/2026,Attended,Dr. Omar Haddad\n"
	if err := os.WriteFile(filepath.Join(dir, "exports", "scheduling", "b.csv"), []byte(later), 0o600); err != nil {
		t.Fatal(err)
	}
	referrers("second night", map[string]string{"Dr. Omar Haddad": "4"}, "0")
}

// A claim line whose referring provider reads "N/A" but whose NPI (box 17b)
// names a physician names that physician, as a blank name with the NPI does and
// as the schedule's "N/A" typed with an NPI does: the NPI is the referrer. Since
// placeholders were skipped in client_claims, the line's name became NULL while
// its spelling kept "N/A", so the client matched no spelling and counted as
// having no source.
func TestPlaceholderNameWithAnNPIOnAClaimNamesTheNPI(t *testing.T) {
	sched := "Appointment ID,Client ID,Clinician,Appointment Date,Status,Referral Source\n" +
		"1,701,Ann Lee,10/01/2026,Attended,\n" +
		"2,702,Ann Lee,10/02/2026,Attended,Dr. Omar Haddad\n"
	bill := "Claim Line ID,Client ID,DOS,Rendering Provider,Referring Provider,Referring Provider NPI,Charge,Paid\n" +
		"L1,701,10/01/2026,Ann Lee,N/A,1234567893,200.00,100.00\n" +
		"L2,703,10/03/2026,Ann Lee,Dr. Omar Haddad,1234567893,200.00,100.00\n" +
		"L3,704,10/04/2026,Ann Lee,Unknown,,200.00,100.00\n" +
		"L4,704,10/05/2026,Ann Lee,Dr. Omar Haddad,,200.00,100.00\n"
	dir, cfg := ownPractice(t, map[string]string{"scheduling/a.csv": sched, "billing/a.csv": bill}, "")
	book := runMonth(t, dir, cfg, "2026-10")
	checkReferrals(t, "run", book, map[string]string{"Dr. Omar Haddad": "4"}, "0")
}

// A placeholder typed with an NPI ("Unknown" in the name's column, the NPI in
// its own) is that NPI with no name, as a blank with the NPI is: it never names
// the referrer, and its name's key never joins two NPIs. "Unknown" named Dr.
// Lena Park's NPI (a shorter Mixed Case spelling, on as many clients), a lone
// "N/A" with an NPI was a referrer called "N/A", and "N/A" with the filler NPI
// 0000000000 was counted for the NPI another client's "N/A" was typed with.
func TestPlaceholderNameWithAnNPINamesNoReferrer(t *testing.T) {
	sched := "Appointment ID,Client ID,Clinician,Appointment Date,Status,Referral Source,Referrer NPI\n" +
		"1,801,Ann Lee,10/01/2026,Attended,N/A,1245319599\n" +
		"2,801,Ann Lee,10/08/2026,Attended,Dr. Omar Haddad,\n" +
		"3,802,Ann Lee,10/02/2026,Attended,N/A,0000000000\n" +
		"4,803,Ann Lee,10/03/2026,Attended,,0000000000\n" +
		"5,804,Ann Lee,10/03/2026,Attended,Unknown,1003000126\n" +
		"6,805,Ann Lee,10/04/2026,Attended,Dr. Lena Park,1003000126\n"
	bill := "Claim Line ID,Client ID,DOS,Rendering Provider,Referring Provider,Referring Provider NPI,Charge,Paid\n" +
		"L1,806,10/05/2026,Ann Lee,none,1003000126,200.00,100.00\n"
	dir, cfg := ownPractice(t, map[string]string{"scheduling/a.csv": sched, "billing/a.csv": bill}, "")
	book := runMonth(t, dir, cfg, "2026-10")
	checkReferrals(t, "run", book,
		map[string]string{"Dr. Lena Park": "3", "NPI 1245319599": "1", "NPI 0000000000": "2"}, "0")
}

// checkReferrals checks a written workbook's referrals in its month, where the
// fixtures' referrals all are: each referrer's on the Referrers sheet, in the
// window and this month (want, and no other referrer), and those with no source
// on the Overview.
func checkReferrals(t *testing.T, when, book string, want map[string]string, noSource string) {
	t.Helper()
	rows := sheetRows(t, book, "Referrers")
	header := strings.Split(rows[0], " | ")
	window, month := slices.Index(header, "Referrals (window)"), slices.Index(header, "Referrals this month")
	if window < 1 || month < 1 {
		t.Fatalf("%s: the Referrers sheet has no Referrals (window) or Referrals this month column: %q", when, rows[0])
	}
	got := map[string]string{}
	for _, row := range rows[1:] {
		cells := strings.Split(row, " | ")
		got[cells[0]] = cells[window]
		if cells[month] != cells[window] {
			t.Errorf("%s: %s has %s referrals in the window and %s this month, want them all this month", when, cells[0], cells[window], cells[month])
		}
	}
	if len(got) != len(want) {
		t.Errorf("%s: referrers %v, want %v", when, got, want)
	}
	for name, n := range want {
		if got[name] != n {
			t.Errorf("%s: %s has %q referrals, want %s (all referrers: %v)", when, name, got[name], n, got)
		}
	}
	found := false
	for _, row := range sheetRows(t, book, "Overview") {
		if strings.HasPrefix(row, "No source recorded | ") {
			found = true
			if !strings.HasPrefix(row, "No source recorded | "+noSource+" | ") {
				t.Errorf("%s: Overview: %q, want %s referrals with no source", when, row, noSource)
			}
		}
	}
	if !found {
		t.Errorf("%s: the Overview has no line for referrals with no source", when)
	}
}

// A client id of digits with leading zeros (00501 on the schedule) is the
// client that an export saved through a spreadsheet writes without them (501
// in billing): one client and one referral, where the billing-only "501" was a
// second referral with no source. A database keyed before ids were made
// canonical goes on keying them as written, or its clients would get second
// keys, until run --rebuild keys every file again.
func TestLeadingZerosOfAClientIDAreOneClient(t *testing.T) {
	sched := "Appointment ID,Client ID,Clinician,Appointment Date,Status,Referral Source\n" +
		"1,00501,Ann Lee,10/01/2026,Attended,Dr. Omar Haddad\n"
	bill := "Claim Line ID,Client ID,DOS,Rendering Provider,Referring Provider,Charge,Paid\n" +
		"L1,501,10/01/2026,Ann Lee,,200.00,100.00\n"
	dir, cfg := ownPractice(t, map[string]string{"scheduling/a.csv": sched, "billing/a.csv": bill}, "")
	book := filepath.Join(dir, "out", "referrals-2026-10.xlsx")
	// The older database's runs that load ids with leading zeros warn, naming the
	// file and --rebuild, as a changed reading setting does: otherwise an
	// installation that upgraded never learns that its clients are still split by
	// their zeros. One whose new files have no such ids, and a database keyed
	// canonical, never warn.
	const warning = "client ids with leading zeros are keyed as written"
	run := func(when string, args ...string) {
		t.Helper()
		r := runBin(t, append([]string{"run", "--config", cfg, "--month", "2026-10", "--quiet"}, args...)...)
		if r.code != 0 {
			t.Fatalf("%s: run: exit %d\n%s", when, r.code, r.stderr)
		}
		if older := when == "older database"; strings.Contains(r.stderr, warning) != older ||
			older && (!strings.Contains(r.stderr, "--rebuild") || !strings.Contains(r.stderr, "scheduling/b.csv")) {
			t.Errorf("%s: warned of ids keyed as written %v, want %v:\n%s", when, !older, older, r.stderr)
		}
	}
	run("new database")
	checkReferrals(t, "new database", book, map[string]string{"Dr. Omar Haddad": "1"}, "0")

	// As a database keyed before: its next night keys 00502 and 502 as written.
	db, err := pipeline.Open(context.Background(), filepath.Join(dir, "out", "referrals.duckdb"), pipeline.Settings{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE key_check SET canonical = NULL`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	for name, body := range map[string]string{
		"scheduling/b.csv": "Appointment ID,Client ID,Clinician,Appointment Date,Status,Referral Source\n1002,00502,Ann Lee,10/02/2026,Attended,Dr. Omar Haddad\n",
		"billing/b.csv":    "Claim Line ID,Client ID,DOS,Rendering Provider,Referring Provider,Charge,Paid\nL2,502,10/02/2026,Ann Lee,,200.00,100.00\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, "exports", name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	run("older database")
	checkReferrals(t, "older database", book, map[string]string{"Dr. Omar Haddad": "2"}, "1")
	if err := os.WriteFile(filepath.Join(dir, "exports", "scheduling", "c.csv"),
		[]byte("Appointment ID,Client ID,Clinician,Appointment Date,Status,Referral Source\n1003,503,Ann Lee,10/03/2026,Attended,Dr. Omar Haddad\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run("older database, a night without zeros")
	checkReferrals(t, "older database, a night without zeros", book, map[string]string{"Dr. Omar Haddad": "3"}, "1")
	run("rebuild", "--rebuild")
	checkReferrals(t, "rebuild", book, map[string]string{"Dr. Omar Haddad": "3"}, "0")
}
