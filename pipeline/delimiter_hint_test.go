package pipeline

import (
	"context"
	"strings"
	"testing"

	"github.com/referrals/referrals/internal/config"
)

// A delimiter setting that is not the file's reads its header as one column:
// check and the load say which delimiter the file seems to use, rather than to
// map each field to a header the file has.
func TestWrongDelimiterNamesTheFilesOwn(t *testing.T) {
	for _, c := range []struct {
		setting, header, want string
	}{
		{";", "Appointment ID,Patient Account,Clinician,Appointment Date,Status", `the file seems to use commas as its delimiter, not ";" (split at them, the header gives 5 columns, 5 of them fields the tool knows). Set [scheduling] delimiter = ","`},
		{",", "Appointment ID;Patient Account;Clinician;Appointment Date;Status", `the file seems to use semicolons as its delimiter, not ","`},
		{",", "Appointment ID\tPatient Account\tClinician\tAppointment Date\tStatus", `the file seems to use tabs as its delimiter, not ","`},
		{`\t`, "Appointment ID|Patient Account|Clinician|Appointment Date|Status", `the file seems to use vertical bars (|) as its delimiter, not "\t" (tab)`},
	} {
		t.Run(c.setting, func(t *testing.T) {
			dir := t.TempDir()
			body := c.header + "\n" + strings.Join([]string{"A1", "1001", "Jane Smith", "09/01/2026", "Attended"}, string(c.header[len("Appointment ID")])) + "\n"
			writeExports(t, dir, map[string]string{"a.csv": body})
			in := folderIngester(t, dir, "scheduling")
			in.Config.Scheduling.Delimiter = c.setting
			checks, err := CheckExports(context.Background(), in.Config)
			must(t, err)
			if len(checks) != 1 || len(checks[0].Problems) != 1 || !strings.Contains(checks[0].Problems[0], c.want) || strings.Contains(checks[0].Problems[0], "[scheduling.columns]") {
				t.Errorf("check: %+v\nwant one problem saying %s", checks, c.want)
			}
			sum, err := in.Ingest(context.Background())
			must(t, err)
			if len(sum.Files) != 1 || sum.Files[0].Status != "failed" || !strings.Contains(sum.Files[0].Problem, c.want) {
				t.Errorf("load: %+v\nwant the file refused saying %s", sum.Files, c.want)
			}
		})
	}
	// A single header that splits into no known field keeps the columns advice.
	msg := missingColumnProblem("scheduling", config.Source{}, []string{"Foo,Bar,Baz"}, []string{"appointment_id"}, ';')
	if strings.Contains(msg, "seems to use") || !strings.Contains(msg, "[scheduling.columns] appointment_id") {
		t.Errorf("headers of no known field: %s", msg)
	}
}
