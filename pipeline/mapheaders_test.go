package pipeline

import "testing"

// A field mapped under [….columns] to a header a file lacks falls back to the
// common names, so that the mapping for newer exports ("Lead") leaves older ones,
// which say "Referral Source", their source.
func TestMappedFieldFallsBackToCommonNames(t *testing.T) {
	explicit := map[string]string{"referral_source": "Lead"}
	older := []string{"Appointment ID", "Patient Account", "Clinician", "Appointment Date", "Status", "Referral Source"}
	newer := []string{"Appointment ID", "Patient Account", "Clinician", "Appointment Date", "Status", "Lead", "Referral Source Old"}
	if m, missing := MapHeaders("scheduling", older, explicit); m["referral_source"] != 5 || len(missing) != 0 {
		t.Errorf("older export: referral_source -> %d (missing %v), want column 5, Referral Source", m["referral_source"], missing)
	}
	if m, _ := MapHeaders("scheduling", newer, explicit); m["referral_source"] != 5 {
		t.Errorf("newer export: referral_source -> %d, want column 5, Lead", m["referral_source"])
	}
	// A required field mapped to a header that is nowhere, and no common name: missing.
	_, missing := MapHeaders("scheduling", []string{"Appointment ID", "Patient Account", "Who", "Appointment Date", "Status"}, map[string]string{"clinician": "Therapist Full"})
	if len(missing) != 1 || missing[0] != "clinician" {
		t.Errorf("missing = %v, want [clinician]", missing)
	}
}

// The headers practice systems' reports write for the required fields are found
// without a mapping: "Appt #", "Patient Acct #", "Chart #", a combined "Date/Time".
func TestReportHeadersNeedNoMapping(t *testing.T) {
	for _, c := range []struct {
		source  string
		headers []string
	}{
		{"scheduling", []string{"Appt #", "Date/Time", "Patient", "Patient Acct #", "Clinician", "Service Type", "Status", "Referral Source"}},
		{"scheduling", []string{"Appt No.", "Chart #", "Therapist", "Start Date/Time", "Appointment Status"}},
		{"billing", []string{"Encounter ID", "Charge ID", "Service Date", "Patient Name", "Acct #", "Rendering Provider", "Charges", "Payments"}},
	} {
		m, missing := MapHeaders(c.source, c.headers, nil)
		if len(missing) > 0 {
			t.Errorf("%q: missing %v", c.headers, missing)
		}
		if h := c.headers[m["client_id"]]; c.source == "scheduling" && h == "Patient" {
			t.Errorf("%q: client_id read from the patient's name", c.headers)
		}
	}
}
