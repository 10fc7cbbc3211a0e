package queries_test

import (
	"testing"

	"github.com/referrals/referrals/internal/stagetest"
)

// The first appointment is ordered by date, time of day (absent or unreadable
// times last), then appointment id; the first attended one and the first with
// a source by the same order among theirs.
func TestClientAppointmentsOrder(t *testing.T) {
	p := &stagetest.Practice{}
	// One day, one time: the lowest id is first (a no-show), the attended
	// one at the same time is the first attended; the untimed and unreadable
	// ones come after, although their ids are lower still.
	p.Appointment("t-2", "client-tie", stagetest.Ben, "2025-03-03", "10:00 AM", "Attended", "Dr Tie")
	p.Appointment("t-1", "client-tie", stagetest.Cal, "2025-03-03", "10:00 AM", "No Show", "")
	p.Appointment("t-0", "client-tie", stagetest.Ann, "2025-03-03", "", "Attended", "Dr Other")
	p.Appointment("t-00", "client-tie", stagetest.Dee, "2025-03-03", "25:99", "Attended", "Dr Other")
	p.Appointment("t-3", "client-tie", stagetest.Fay, "2025-03-04", "8:00 AM", "Attended", "Dr Later")
	// No times at all: the ids decide, for every question.
	p.Appointment("u-2", "client-untimed", stagetest.Ben, "2025-04-01", "", "Attended", "Dr Tie")
	p.Appointment("u-1", "client-untimed", stagetest.Cal, "2025-04-01", "", "Attended", "Dr Other")
	// Seconds count: 9:00:30 comes after 9:00:05 whatever the ids.
	p.Appointment("s-1", "client-seconds", stagetest.Ben, "2025-05-01", "9:00:30 AM", "Cancelled", "")
	p.Appointment("s-2", "client-seconds", stagetest.Cal, "2025-05-01", "9:00:05 AM", "Cancelled", "")
	p.Appointment("s-3", "client-seconds", stagetest.Dee, "2025-05-02", "9:00 AM", "Arrived", "Dr Tie")
	db := stagetest.Build(t, p, stagetest.DefaultVars(stagetest.ReportMonth))
	want := map[string]map[string]any{
		"client-tie": {"referral_date": "2025-03-03", "first_clinician": stagetest.Cal, "first_attended_clinician": stagetest.Ben,
			"source_name": "Dr Tie", "attended": true},
		"client-untimed": {"referral_date": "2025-04-01", "first_clinician": stagetest.Cal, "first_attended_clinician": stagetest.Cal,
			"source_name": "Dr Other", "attended": true},
		"client-seconds": {"referral_date": "2025-05-01", "first_clinician": stagetest.Cal, "first_attended_clinician": stagetest.Dee,
			"source_name": "Dr Tie", "attended": true},
	}
	rows := stagetest.Rows(t, db, "select * from client_appointments order by client_key")
	if len(rows) != len(want) {
		t.Fatalf("client_appointments has %d rows, want %d", len(rows), len(want))
	}
	byKey := map[string]string{}
	for client := range want {
		byKey[stagetest.Key(client)] = client
	}
	for _, r := range rows {
		client, ok := byKey[r["client_key"].(string)]
		if !ok {
			t.Fatalf("client_appointments has a row for an unknown client key %v", r["client_key"])
		}
		stagetest.Expect(t, client, r, want[client])
	}
}
