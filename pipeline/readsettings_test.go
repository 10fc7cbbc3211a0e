package pipeline

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/referrals/referrals/internal/config"
)

// A reading setting changed to what the files were already read with (the
// same encoding spelt otherwise, or "auto" made explicit with the encoding it
// found for every file) is not a change; anything else is, until a rebuild.
func TestEquivalentEncodingIsNoChange(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "db.duckdb"), Settings{Threads: 1})
	must(t, err)
	defer db.Close()
	must(t, EnsureSchema(ctx, db))
	_, err = db.Exec(`INSERT INTO ingest_files (file_id, source, path, sha256, encoding) VALUES
		(1, 'scheduling', 'a.csv', 'x', 'utf-8'), (2, 'scheduling', 'b.csv', 'y', 'utf-8'), (3, 'billing', 'c.csv', 'z', 'windows-1252')`)
	must(t, err)
	c := config.Default()
	must(t, RecordReadSettings(ctx, db, c, false))
	changed := func(sched, bill string) string {
		c := config.Default()
		c.Scheduling.Encoding, c.Billing.Encoding = sched, bill
		return changedSettings(t, db, c)
	}
	for _, tc := range []struct{ sched, bill, want string }{
		{"auto", "auto", ""},
		{"utf-8", "windows-1252", ""},
		{"UTF8", "cp1252", ""},
		{"latin-1", "auto", "[scheduling] encoding"},
		{"utf-8", "utf-8", "[billing] encoding"},
	} {
		if got := changed(tc.sched, tc.bill); got != tc.want {
			t.Errorf("encoding %q/%q: changed %q, want %q", tc.sched, tc.bill, got, tc.want)
		}
	}
	// Recorded explicit, then back to auto: the guess is not known without the files.
	c.Billing.Encoding = "windows-1252"
	must(t, RecordReadSettings(ctx, db, c, true))
	if got := changed("auto", "auto"); got != "[billing] encoding" {
		t.Errorf("explicit back to auto: changed %q, want [billing] encoding", got)
	}
}

// A delimiter or a column mapping set to what the files were read with anyway
// ("auto" made explicit, a field mapped to the header the usual names found) is
// no change; a setting that reads a loaded file otherwise is one, and so is any
// change while a loaded file's reading is not on record.
func TestEquivalentDelimiterAndColumnsAreNoChange(t *testing.T) {
	in := loadedFolder(t, t.TempDir(), map[string]string{
		"a.csv": "Appointment ID;Patient Account;Clinician;Appointment Date;Status;Referral Source;Provider Notes\n" +
			"A1;900001;Jane Smith;01/05/2026;Attended;Google;x\n",
		"b.csv": "Appointment ID;Patient Account;Clinician;Appointment Date;Status;Referral Source;Provider Notes\n" +
			"A2;900002;Jane Smith;01/06/2026;Attended;Google;y\n",
	})
	changed := func(set func(*config.Source)) string {
		c := in.Config
		c.Scheduling.Columns = map[string]string{}
		set(&c.Scheduling)
		return changedSettings(t, in.DB, c)
	}
	for _, tc := range []struct {
		name string
		set  func(*config.Source)
		want string
	}{
		{"as loaded", func(s *config.Source) {}, ""},
		{"auto made explicit", func(s *config.Source) { s.Delimiter = ";" }, ""},
		{"another delimiter", func(s *config.Source) { s.Delimiter = "," }, "[scheduling] delimiter"},
		{"the header already taken", func(s *config.Source) { s.Columns["clinician"] = "clinician" }, ""},
		{"a header that is not there", func(s *config.Source) { s.Columns["referral_source"] = "Lead" }, ""},
		{"another header", func(s *config.Source) { s.Columns["clinician"] = "Provider Notes" }, "[scheduling] columns.clinician"},
		{"both", func(s *config.Source) { s.Delimiter = ";"; s.Columns["service"] = "Provider Notes" }, "[scheduling] columns.service"},
	} {
		if got := changed(tc.set); got != tc.want {
			t.Errorf("%s: changed %q, want %q", tc.name, got, tc.want)
		}
	}
	// A file loaded before the ledger kept how it was read: unknown, so a change.
	_, err := in.DB.Exec(`UPDATE ingest_files SET headers = NULL WHERE path LIKE '%b.csv'`)
	must(t, err)
	if got := changed(func(s *config.Source) { s.Delimiter = ";" }); got != "[scheduling] delimiter" {
		t.Errorf("reading not on record: changed %q, want [scheduling] delimiter", got)
	}
}

// A mapping judged no change leaves the recorded settings as they were; the
// files loaded under it since are read otherwise, and going back must say so:
// the ledger decides, not the recorded settings.
func TestReadSettingsFollowTheLedger(t *testing.T) {
	dir := t.TempDir()
	h := "Appointment ID,Patient Account,Clinician,Appointment Date,Status,Referral Source,Lead\n"
	in := loadedFolder(t, dir, map[string]string{"a.csv": h + "A1,900001,Jane Smith,01/05/2026,Attended,Google,x\n"})
	changed := func(lead bool) string {
		c := in.Config
		c.Scheduling.Columns = map[string]string{}
		if lead {
			c.Scheduling.Columns["referral_source"] = "Lead"
		}
		return changedSettings(t, in.DB, c)
	}
	if got := changed(true); got != "[scheduling] columns.referral_source" {
		t.Fatalf("mapped to Lead: changed %q, want columns.referral_source", got)
	}
	// b.csv is loaded with the mapping (the warning ignored): from then on both
	// settings read some loaded file otherwise.
	writeExports(t, dir, map[string]string{"b.csv": h + "A2,900002,Jane Smith,01/06/2026,Attended,Google,Dr Lopez\n"})
	in.Config.Scheduling.Columns = map[string]string{"referral_source": "Lead"}
	_, err := in.Ingest(context.Background())
	must(t, err)
	for _, lead := range []bool{false, true} {
		if got := changed(lead); got != "[scheduling] columns.referral_source" {
			t.Errorf("mapped to Lead %v after b.csv: changed %q, want columns.referral_source", lead, got)
		}
	}
}

// A rerun with the settings unchanged never warns, also when a header name holds
// the other delimiters (a quoted "name, practice, city" in a ';' export): the
// guess from the recorded header row quotes it as the export did.
func TestUnchangedSettingsNeverWarn(t *testing.T) {
	in := loadedFolder(t, t.TempDir(), map[string]string{
		"a.csv": "Appointment ID;Patient Account;Clinician;Appointment Date;Status;\"Referral Source (name, practice, city, state, zip, phone, fax)\"\n" +
			"A1;900001;Jane Smith;01/05/2026;Attended;Google\n",
	})
	if got := changedSettings(t, in.DB, in.Config); got != "" {
		t.Errorf("unchanged settings: changed %q, want none", got)
	}
}

// loadedFolder loads files (name: content) as scheduling exports into a new
// database and records the settings they were read with, as a first run does.
func loadedFolder(t *testing.T, dir string, files map[string]string) *Ingester {
	t.Helper()
	writeExports(t, dir, files)
	in := folderIngester(t, dir, "scheduling")
	_, err := in.Ingest(context.Background())
	must(t, err)
	must(t, RecordReadSettings(context.Background(), in.DB, in.Config, false))
	return in
}

// changedSettings is ChangedReadSettings under c, as the run's warning names them.
func changedSettings(t *testing.T, db *sql.DB, c config.Config) string {
	t.Helper()
	ch, err := ChangedReadSettings(context.Background(), db, c)
	must(t, err)
	var out []string
	for _, r := range ch {
		out = append(out, r.String())
	}
	return strings.Join(out, "; ")
}
