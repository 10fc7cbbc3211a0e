package main

import "testing"

// An appointment at 24:00 (midnight at the end of its day, as some schedulers
// write it) is on its own day, after every other time of that day: a client
// whose first appointment was written so is a referral of that day. The time
// was read as the next day's 00:00, the day's appointment was then not found
// again, and the client vanished from every count.
func TestAppointmentAt2400IsAReferral(t *testing.T) {
	sched := "Appointment ID,Client ID,Clinician,Appointment Date,Start Time,Status,Referral Source\n" +
		"1,501,Ann Lee,10/01/2026,24:00,Attended,Dr. Midnight\n" +
		"2,501,Ann Lee,10/08/2026,9:00 AM,Attended,\n" +
		// Two on one day: 24:00 comes after 11:30 PM, so the 11:30 PM one is the referral.
		"3,502,Ann Lee,10/02/2026,24:00,Attended,Dr. Late\n" +
		"4,502,Bob Ray,10/02/2026,11:30 PM,Attended,Dr. Early\n" +
		// 12:00 AM opens the day, 12:00 PM is noon.
		"5,503,Bob Ray,10/03/2026,12:00 PM,Attended,Dr. Noon\n" +
		"6,503,Bob Ray,10/03/2026,12:00 AM,Attended,Dr. Midnight\n"
	bill := "Claim Line ID,Client ID,DOS,Rendering Provider,Charge,Paid\n"
	dir, cfg := ownPractice(t, map[string]string{"scheduling/a.csv": sched, "billing/b.csv": bill}, "")
	book := runMonth(t, dir, cfg, "2026-10")
	checkReferrals(t, "24:00", book,
		map[string]string{"Dr. Midnight": "2", "Dr. Early": "1"}, "0")
}

// The point person is the clinician of the referrer's first referral: of two
// clients referred on the same first day, the one seen at 9:00 AM came first,
// whatever the clinicians' names (the day's tie went to the name).
func TestPointPersonTakesTheDaysEarlierReferral(t *testing.T) {
	sched := "Appointment ID,Client ID,Clinician,Appointment Date,Start Time,Status,Referral Source\n" +
		"1,601,Ann Lee,10/01/2026,3:00 PM,Attended,Dr. Same Day\n" +
		"2,602,Bob Ray,10/01/2026,9:00 AM,Attended,Dr. Same Day\n" +
		"3,603,Bob Ray,10/06/2026,9:00 AM,Attended,Dr. Same Day\n"
	bill := "Claim Line ID,Client ID,DOS,Rendering Provider,Charge,Paid\n"
	dir, cfg := ownPractice(t, map[string]string{"scheduling/a.csv": sched, "billing/b.csv": bill}, "")
	book := runMonth(t, dir, cfg, "2026-10")
	if got := soleReferrerCell(t, book, "Point person"); got != "Bob Ray" {
		t.Errorf("point person of Dr. Same Day: %q, want Bob Ray, who saw the 9:00 AM referral of its first day", got)
	}
}

// A time column that holds the date too ("10/01/2026 9:00 AM", as some
// schedulers export Start Time) orders the day by its time: the time was
// unreadable, so every appointment of the day came last and the lowest id
// won, here the 3:00 PM appointment.
func TestTimeColumnWithTheDateOrdersTheDay(t *testing.T) {
	sched := "Appointment ID,Client ID,Clinician,Appointment Date,Start Time,Status,Referral Source\n" +
		"1,701,Ann Lee,10/01/2026,10/01/2026 3:00 PM,Attended,Dr. Late\n" +
		"2,701,Bob Ray,10/01/2026,10/01/2026 9:00 AM,Attended,Dr. Early\n" +
		"3,702,Ann Lee,10/02/2026,10/02/2026 14:30,Attended,Dr. Late\n" +
		"4,702,Bob Ray,10/02/2026,10/02/2026 9:05,Attended,Dr. Early\n" +
		"5,703,Ann Lee,10/03/2026,10/03/2026 2:30:00 p.m.,Attended,Dr. Late\n" +
		"6,703,Bob Ray,10/03/2026,10/03/2026 11:00:00 a.m.,Attended,Dr. Early\n"
	bill := "Claim Line ID,Client ID,DOS,Rendering Provider,Charge,Paid\n"
	dir, cfg := ownPractice(t, map[string]string{"scheduling/a.csv": sched, "billing/b.csv": bill}, "")
	book := runMonth(t, dir, cfg, "2026-10")
	checkReferrals(t, "date and time in the time column", book,
		map[string]string{"Dr. Early": "3"}, "0")
}

// A time with seconds and AM/PM ("02:00:00 PM", as many exports write it) is
// read with its half of the day: DuckDB's cast to TIME reads "2:00:00 PM" as
// 02:00 and "12:15:00 AM" as 12:15 (it ignores what follows the seconds), so
// the afternoon appointment came first, and a quarter past midnight came at noon.
func TestTimeWithSecondsKeepsAMAndPM(t *testing.T) {
	sched := "Appointment ID,Client ID,Clinician,Appointment Date,Start Time,Status,Referral Source\n" +
		"1,801,Ann Lee,10/01/2026,02:00:00 PM,Attended,Dr. Late\n" +
		"2,801,Bob Ray,10/01/2026,09:00:00 AM,Attended,Dr. Early\n" +
		"3,802,Ann Lee,10/02/2026,06:00:00 AM,Attended,Dr. Late\n" +
		"4,802,Bob Ray,10/02/2026,12:15:00 AM,Attended,Dr. Early\n"
	bill := "Claim Line ID,Client ID,DOS,Rendering Provider,Charge,Paid\n"
	dir, cfg := ownPractice(t, map[string]string{"scheduling/a.csv": sched, "billing/b.csv": bill}, "")
	book := runMonth(t, dir, cfg, "2026-10")
	checkReferrals(t, "times with seconds and AM/PM", book,
		map[string]string{"Dr. Early": "2"}, "0")
}

// A practice whose exports write the day first (date_format %d/%m/%Y, both)
// writes its roster's dates so too: 05/10/2026 is Ann Lee's last day, 5
// October, not 10 May (where she would have left before her referrer's first
// referral, and the referrer been handed to Bob Ray in September), and
// 13/01/2021 is a date, not a problem that stops check and the run.
func TestRosterDatesReadDayFirstWithDayFirstExports(t *testing.T) {
	sched := "Appointment ID,Client ID,Clinician,Appointment Date,Status,Referral Source\n" +
		"1,901,Ann Lee,01/09/2026,Attended,Dr. Day First\n" +
		"2,902,Bob Ray,20/09/2026,Attended,Dr. Day First\n" +
		"3,903,Bob Ray,22/09/2026,Attended,Dr. Day First\n"
	bill := "Claim Line ID,Client ID,DOS,Rendering Provider,Charge,Paid\n"
	roster := "name,start_date,end_date\nAnn Lee,01/02/2020,05/10/2026\nBob Ray,13/01/2021,\n"
	dir, cfg := ownPractice(t, map[string]string{"scheduling/a.csv": sched, "billing/b.csv": bill, "roster.csv": roster}, "")
	editConfig(t, cfg, `files = ["exports/scheduling/*.csv"]`, `files = ["exports/scheduling/*.csv"]
date_format = "%d/%m/%Y"`)
	editConfig(t, cfg, `files = ["exports/billing/*.csv"]`, `files = ["exports/billing/*.csv"]
date_format = "%d/%m/%Y"`)
	editConfig(t, cfg, `roster = ""`, `roster = "exports/roster.csv"`)
	if r := runBin(t, "check", "--config", cfg); r.code != 0 {
		t.Fatalf("check: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	book := runMonth(t, dir, cfg, "2026-09")
	if got := soleReferrerCell(t, book, "Point person"); got != "Ann Lee" {
		t.Errorf("point person of Dr. Day First in September 2026: %q, want Ann Lee, who leaves on 5 October (roster end_date 05/10/2026, day first)", got)
	}
}
