package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// writeExport writes an export under dir/exports (rel: "scheduling/new.csv"),
// its folder made if need be, modified at: the newer export wins an id.
func writeExport(t *testing.T, dir, rel, body string, at time.Time) {
	t.Helper()
	p := filepath.Join(dir, "exports", rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, at, at); err != nil {
		t.Fatal(err)
	}
}

// windowReferrals is each referrer's "Referrals (window)" on a workbook's
// Referrers sheet.
func windowReferrals(t *testing.T, book string) map[string]string {
	t.Helper()
	rows := sheetRows(t, book, "Referrers")
	col := slices.Index(strings.Split(rows[0], " | "), "Referrals (window)")
	if col < 0 {
		t.Fatalf("Referrers has no Referrals (window) column: %q", rows[0])
	}
	got := map[string]string{}
	for _, row := range rows[1:] {
		cells := strings.Split(row, " | ")
		got[cells[0]] = cells[col]
	}
	return got
}

// A practice that switched practice-management systems keeps ten years of
// both systems' exports: the old one wrote 09/14/2026 and "Appointment ID",
// the new one writes 2026-10-05 and "Appt #", and numbers its appointments
// from 1 again. One date_format could read only one of them (the other's files
// failed, and a --rebuild after setting the new format failed the whole old
// history), and the new system's appointment 1 replaced the old system's
// appointment 1, another client's, without a word. A [[scheduling.layout]]
// block reads the new system's files with their own date format, and its ids
// setting keeps the two systems' appointments apart: every client of both is
// a referral, on the nights across the switch and after a --rebuild.
func TestSystemSwitchLoadsBothSystemsHistory(t *testing.T) {
	old := "Appointment ID,Patient Account,Clinician,Appointment Date,Status,Referral Source\n" +
		"1,700001,Ann Lee,09/14/2026,Attended,Dr. Omar Haddad\n" +
		"2,700002,Ann Lee,09/15/2026,Attended,Dr. Omar Haddad\n"
	bill := "Claim Line ID,Client ID,DOS,Rendering Provider,Charge,Paid\n"
	dir, cfg := ownPractice(t, map[string]string{"scheduling/therapynotes-2026-09.csv": old, "billing/b.csv": bill}, "")
	// The last night of the old system.
	runMonth(t, dir, cfg, "2026-09")
	// The new system's first export, beside the old ones in the same folder.
	newer := "Appt #,Client ID,Provider,Date,Attendance,Referred By\n" +
		"1,700003,Ann Lee,2026-10-05,Show,Dr. Omar Haddad\n" +
		"2,700004,Ben Ortiz,2026-10-06,Show,Dr. Omar Haddad\n"
	writeExport(t, dir, "scheduling/simplepractice-2026-10.csv", newer, time.Now().Add(time.Hour))
	editConfig(t, cfg, "", `
[[scheduling.layout]]
files = ["exports/scheduling/simplepractice-*.csv"]
date_format = "%Y-%m-%d"
ids = "SimplePractice"
`)
	if r := runBin(t, "check", "--config", cfg); r.code != 0 {
		t.Fatalf("check: exit %d, want 0\n%s%s", r.code, r.stdout, r.stderr)
	}
	r := runBin(t, "run", "--config", cfg, "--month", "2026-10")
	if r.code != 0 {
		t.Fatalf("run: exit %d, want 0\n%s", r.code, r.stderr)
	}
	// The layout reads files that were never loaded: nothing loaded is read otherwise.
	if strings.Contains(r.stderr, "reading settings changed") {
		t.Errorf("the run warns that reading settings changed, for a layout of files never loaded:\n%s", r.stderr)
	}
	book := filepath.Join(dir, "out", "referrals-2026-10.xlsx")
	if got := windowReferrals(t, book); got["Dr. Omar Haddad"] != "4" || len(got) != 1 {
		t.Errorf("Referrers: %v, want Dr. Omar Haddad with 4 referrals: two clients of each system", got)
	}
	if r := runBin(t, "run", "--config", cfg, "--month", "2026-10", "--rebuild", "--quiet"); r.code != 0 {
		t.Fatalf("run --rebuild: exit %d, want 0\n%s", r.code, r.stderr)
	}
	if got := windowReferrals(t, book); got["Dr. Omar Haddad"] != "4" || len(got) != 1 {
		t.Errorf("after --rebuild, Referrers: %v, want Dr. Omar Haddad with 4 referrals", got)
	}
}

// A layout put over files that were loaded with the source's settings reads
// them otherwise: the run says to --rebuild, as for any change of a setting.
func TestLayoutOverLoadedFilesAsksForRebuild(t *testing.T) {
	sched := "Appointment ID,Patient Account,Clinician,Appointment Date,Status,Referral Source\n" +
		"1,700001,Ann Lee,10/01/2026,Attended,Dr. Omar Haddad\n"
	bill := "Claim Line ID,Client ID,DOS,Rendering Provider,Charge,Paid\n"
	dir, cfg := ownPractice(t, map[string]string{"scheduling/a.csv": sched, "billing/b.csv": bill}, "")
	runMonth(t, dir, cfg, "2026-10")
	editConfig(t, cfg, "", `
[[scheduling.layout]]
files = ["exports/scheduling/a.csv"]
date_format = "%d/%m/%Y"
`)
	r := runBin(t, "run", "--config", cfg, "--month", "2026-10")
	if !strings.Contains(r.stderr, "reading settings changed") || !strings.Contains(r.stderr, "date_format") {
		t.Errorf("exit %d; want a warning that the reading settings changed (date_format), got:\n%s", r.code, r.stderr)
	}
}

// Without a layout's ids, a new system's appointment 1 still replaces the old
// system's appointment 1 (two exports holding one id are one appointment, the
// newer winning). A re-export keeps an appointment's client; one that names
// another client lost the older appointment, and the referral of its client,
// with exit 0 and no word. The run now warns of it, naming the file and what to
// set; a re-export of the same appointments says nothing.
func TestNewSystemReusingIDsIsWarnedOf(t *testing.T) {
	old := "Appointment ID,Patient Account,Clinician,Appointment Date,Status,Referral Source\n" +
		"1,700001,Ann Lee,09/14/2026,Attended,Dr. Omar Haddad\n" +
		"2,700002,Ann Lee,09/15/2026,Attended,Dr. Omar Haddad\n"
	bill := "Claim Line ID,Client ID,DOS,Rendering Provider,Charge,Paid\n"
	dir, cfg := ownPractice(t, map[string]string{"scheduling/old.csv": old, "billing/b.csv": bill}, "")
	runMonth(t, dir, cfg, "2026-09")
	write := func(name, body string, at time.Time) { writeExport(t, dir, "scheduling/"+name, body, at) }
	// The old system re-exports its appointments with a status changed: no warning.
	write("old-again.csv", strings.Replace(old, "09/15/2026,Attended", "09/15/2026,No Show", 1), time.Now().Add(time.Hour))
	r := runBin(t, "run", "--config", cfg, "--month", "2026-09", "--quiet")
	if r.code != 0 || strings.Contains(r.stderr, "another client") {
		t.Fatalf("a re-export of the same appointments: exit %d, want 0 without a warning:\n%s", r.code, r.stderr)
	}
	// A re-export that corrects a booking made under the wrong client: one of the
	// two rows it replaces names another client. No warning either.
	write("old-fixed.csv", strings.Replace(old, "2,700002,", "2,700009,", 1), time.Now().Add(2*time.Hour))
	r = runBin(t, "run", "--config", cfg, "--month", "2026-09", "--quiet")
	if r.code != 0 || strings.Contains(r.stderr, "another client") {
		t.Fatalf("a re-export correcting one booking's client: exit %d, want 0 without a warning:\n%s", r.code, r.stderr)
	}
	newer := "Appt #,Client ID,Provider,Date,Attendance,Referred By\n" +
		"1,700003,Ann Lee,10/05/2026,Show,Dr. Omar Haddad\n"
	write("new.csv", newer, time.Now().Add(3*time.Hour))
	r = runBin(t, "run", "--config", cfg, "--month", "2026-10", "--quiet")
	if !strings.Contains(r.stderr, "1 appointment of an older export was replaced by rows of this file with the same id but another client (1 of the 1 rows it replaced)") ||
		!strings.Contains(r.stderr, "new.csv") || !strings.Contains(r.stderr, "[[scheduling.layout]]") {
		t.Errorf("exit %d; want a warning naming new.csv, the appointment replaced with another client, and the layout to set:\n%s", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, "700001") || strings.Contains(r.stderr, "700003") {
		t.Errorf("the warning names a client id:\n%s", r.stderr)
	}
}

// A layout added for the new system's files, none of them loaded yet, is not
// warned of the night it is added; nor the nights after, when its files have
// loaded with its settings: those are the settings they were read with. The
// warning came back every night from the second one, telling the practice to
// --rebuild for nothing.
func TestLayoutForNewFilesIsNotWarnedOfLater(t *testing.T) {
	old := "Appointment ID,Patient Account,Clinician,Appointment Date,Status,Referral Source\n" +
		"1,700001,Ann Lee,09/14/2026,Attended,Dr. Omar Haddad\n"
	bill := "Claim Line ID,Client ID,DOS,Rendering Provider,Charge,Paid\n"
	dir, cfg := ownPractice(t, map[string]string{"scheduling/old.csv": old, "billing/b.csv": bill}, "")
	runMonth(t, dir, cfg, "2026-09")
	write := func(name, body string, at time.Time) { writeExport(t, dir, "scheduling/"+name, body, at) }
	write("sp-1.csv", "Appt #,Client ID,Provider,Date,Attendance,Referred By\n1,700003,Ann Lee,2026-10-05,Show,Dr. Omar Haddad\n", time.Now().Add(time.Hour))
	editConfig(t, cfg, "", `
[[scheduling.layout]]
files = ["exports/scheduling/sp-*.csv"]
date_format = "%Y-%m-%d"
ids = "SimplePractice"
`)
	for night, file := range []string{"", "sp-2.csv", ""} {
		if file != "" {
			write(file, "Appt #,Client ID,Provider,Date,Attendance,Referred By\n2,700004,Ann Lee,2026-10-06,Show,Dr. Omar Haddad\n", time.Now().Add(2*time.Hour))
		}
		r := runBin(t, "run", "--config", cfg, "--month", "2026-10")
		if r.code != 0 || strings.Contains(r.stderr, "reading settings changed") {
			t.Errorf("night %d after the layout was added: exit %d, want 0 and no warning that reading settings changed:\n%s", night+1, r.code, r.stderr)
		}
	}
	if got := windowReferrals(t, filepath.Join(dir, "out", "referrals-2026-10.xlsx")); got["Dr. Omar Haddad"] != "3" {
		t.Errorf("Referrers: %v, want Dr. Omar Haddad with 3 referrals", got)
	}
	// Changed now, over loaded files: said, as before.
	editConfig(t, cfg, `date_format = "%Y-%m-%d"`, `date_format = "%Y-%d-%m"`)
	if r := runBin(t, "run", "--config", cfg, "--month", "2026-10"); !strings.Contains(r.stderr, "reading settings changed") {
		t.Errorf("a layout's date_format changed over its loaded files is not warned of:\n%s", r.stderr)
	}
}

// What check and the run say to change about a file a layout block reads (its
// date_format, its column mapping) names that block: "set [scheduling]
// date_format" changed the other system's format, for files the block reads
// with its own, and the file failed again while the old system's now failed too.
func TestLayoutFilesProblemsNameTheirBlock(t *testing.T) {
	old := "Appointment ID,Patient Account,Clinician,Appointment Date,Status,Referral Source\n" +
		"1,700001,Ann Lee,09/14/2026,Attended,Dr. Omar Haddad\n"
	var b strings.Builder
	b.WriteString("Appt #,Client ID,Provider,Date,Attendance,Referred By\n")
	for i := 1; i <= 30; i++ {
		fmt.Fprintf(&b, "%d,7100%02d,Ann Lee,2026-10-%02d,Show,Dr. Omar Haddad\n", i, i, i)
	}
	bill := "Claim Line ID,Client ID,DOS,Rendering Provider,Charge,Paid\n"
	_, cfg := ownPractice(t, map[string]string{"scheduling/old.csv": old, "sp/new.csv": b.String(), "billing/b.csv": bill}, `
[[scheduling.layout]]
files = ["exports/sp/*.csv"]
date_format = "%d/%m/%Y"
ids = "SimplePractice"
`)
	want := `[[scheduling.layout]] block 1 date_format`
	c := runBin(t, "check", "--config", cfg)
	if !strings.Contains(c.stdout, want) || strings.Contains(c.stdout, "[scheduling] date_format") {
		t.Errorf("check: want the advice to name %s, not [scheduling]:\n%s", want, c.stdout)
	}
	r := runBin(t, "run", "--config", cfg, "--month", "2026-10")
	if r.code != 6 || !strings.Contains(r.stderr, want) || strings.Contains(r.stderr, "[scheduling] date_format") {
		t.Errorf("run: exit %d, want 6 and the advice to name %s, not [scheduling]:\n%s", r.code, want, r.stderr)
	}
	// A block with a column mapping of its own that misses the file's header.
	editConfig(t, cfg, `date_format = "%d/%m/%Y"`, `date_format = "%Y-%m-%d"`)
	editConfig(t, cfg, `ids = "SimplePractice"`, `ids = "SimplePractice"
[scheduling.layout.columns]
appointment_id = "Visit Number"`)
	p := filepath.Join(filepath.Dir(cfg), "exports", "sp", "new.csv")
	if err := os.WriteFile(p, []byte(strings.Replace(b.String(), "Appt #", "Visit No", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	want = `[[scheduling.layout]] block 1's columns`
	c = runBin(t, "check", "--config", cfg)
	if !strings.Contains(c.stdout, want) || strings.Contains(c.stdout, "[scheduling.columns]") {
		t.Errorf("check: want the advice to name %s, not [scheduling.columns]:\n%s", want, c.stdout)
	}
	r = runBin(t, "run", "--config", cfg, "--month", "2026-10")
	if r.code != 6 || !strings.Contains(r.stderr, want) || strings.Contains(r.stderr, "[scheduling.columns]") {
		t.Errorf("run: exit %d, want 6 and the advice to name %s, not [scheduling.columns]:\n%s", r.code, want, r.stderr)
	}
	// A block's pattern that matches no file is said of that block.
	editConfig(t, cfg, `files = ["exports/sp/*.csv"]`, `files = ["exports/simplepractice/*.csv"]`)
	r = runBin(t, "run", "--config", cfg, "--month", "2026-10")
	if r.code != 6 || !strings.Contains(r.stderr, "check [[scheduling.layout]] block 1 files") {
		t.Errorf("run: exit %d, want 6 and the pattern said of [[scheduling.layout]] block 1:\n%s", r.code, r.stderr)
	}
}

// While both systems export (the weeks of a switch, or the old system's
// re-exports of its history), each night's new-system file was compared with
// the old system's file loaded before it: "an export lacks a column the one
// before it had" (the old system's Referred To), every night, with advice to map
// a header and --rebuild that changes nothing. A file is compared with the file
// before it of its own block.
func TestTwoSystemsColumnsAreNotComparedWithEachOther(t *testing.T) {
	bill := "Claim Line ID,Client ID,DOS,Rendering Provider,Charge,Paid\n"
	dir, cfg := ownPractice(t, map[string]string{"billing/b.csv": bill}, `
[[scheduling.layout]]
files = ["exports/sp/*.csv"]
date_format = "%Y-%m-%d"
ids = "SimplePractice"
`)
	at := time.Now().Add(-48 * time.Hour)
	write := func(name, body string) {
		at = at.Add(time.Hour)
		writeExport(t, dir, name, body, at)
	}
	for night := 1; night <= 2; night++ {
		write(fmt.Sprintf("scheduling/old-%d.csv", night), "Appointment ID,Client ID,Clinician,Appointment Date,Status,Referral Source,Referred To\n"+
			fmt.Sprintf("%d,70000%d,Ann Lee,10/0%d/2026,Attended,Dr. Omar Haddad,Ann Lee\n", night, night, night))
		write(fmt.Sprintf("sp/new-%d.csv", night), "Appt #,Client ID,Provider,Date,Attendance,Referred By\n"+
			fmt.Sprintf("%d,71000%d,Ben Ortiz,2026-10-1%d,Show,Dr. Omar Haddad\n", night, night, night))
		if c := runBin(t, "check", "--config", cfg); strings.Contains(c.stdout, "which the export before it") {
			t.Errorf("night %d: check compares a file with the other system's:\n%s", night, c.stdout)
		}
		r := runBin(t, "run", "--config", cfg, "--month", "2026-10")
		if r.code != 0 || strings.Contains(r.stderr, "lacks a column") {
			t.Errorf("night %d: exit %d, want 0 and no file compared with the other system's:\n%s", night, r.code, r.stderr)
		}
	}
	// A file of one system that lacks what the one before it of that system had is said.
	write("sp/new-3.csv", "Appt #,Client ID,Provider,Date,Attendance\n3,710003,Ben Ortiz,2026-10-13,Show\n")
	if r := runBin(t, "run", "--config", cfg, "--month", "2026-10"); !strings.Contains(r.stderr, "lacks a column") || !strings.Contains(r.stderr, "previous=exports/sp/new-2.csv") {
		t.Errorf("a new-system file without the source column is not compared with the one before it:\n%s", r.stderr)
	}
}

// A layout's ids compare as they are stored: "SimplePractice" and
// "SIMPLEPRACTICE" are one system, so writing it so asks for no --rebuild. And
// a file two layouts' patterns match is read with the first's: a change to the
// second, which reads no loaded file, asks for none either; one to the first does.
func TestLayoutChangesThatReadNoFileOtherwiseAskForNoRebuild(t *testing.T) {
	sched := "Appointment ID,Patient Account,Clinician,Appointment Date,Status,Referral Source\n" +
		"1,700001,Ann Lee,10/01/2026,Attended,Dr. Omar Haddad\n"
	iso := "Appointment ID,Patient Account,Clinician,Appointment Date,Status,Referral Source\n" +
		"1,700002,Ann Lee,2026-10-02,Attended,Dr. Omar Haddad\n"
	bill := "Claim Line ID,Client ID,DOS,Rendering Provider,Charge,Paid\n"
	dir, cfg := ownPractice(t, map[string]string{"scheduling/old.csv": sched, "scheduling/sp-a.csv": iso, "billing/b.csv": bill}, "")
	editConfig(t, cfg, "", `
[[scheduling.layout]]
files = ["exports/scheduling/sp-*.csv"]
date_format = "%Y-%m-%d"
ids = "SimplePractice"

[[scheduling.layout]]
files = ["exports/scheduling/*-a.csv"]
date_format = "%d/%m/%Y"
`)
	runMonth(t, dir, cfg, "2026-10")
	for _, c := range []struct{ from, to, why string }{
		{`ids = "SimplePractice"`, `ids = "SIMPLEPRACTICE"`, "ids written in another case"},
		{`date_format = "%d/%m/%Y"`, `date_format = "%d.%m.%Y"`, "the second layout, which reads no loaded file"},
	} {
		editConfig(t, cfg, c.from, c.to)
		if r := runBin(t, "run", "--config", cfg, "--month", "2026-10"); r.code != 0 || strings.Contains(r.stderr, "reading settings changed") {
			t.Errorf("%s: exit %d; want 0 and no warning that the reading settings changed:\n%s", c.why, r.code, r.stderr)
		}
	}
	editConfig(t, cfg, `date_format = "%Y-%m-%d"`, `date_format = "%Y/%m/%d"`)
	if r := runBin(t, "run", "--config", cfg, "--month", "2026-10"); !strings.Contains(r.stderr, "reading settings changed") {
		t.Errorf("the first layout, which reads sp-a.csv, changed: exit %d; want the warning that the reading settings changed:\n%s", r.code, r.stderr)
	}
}
