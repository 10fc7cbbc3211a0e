package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The example file documents every key with its default value: loading it
// must give exactly the built-in defaults, so the two cannot drift apart.
func TestExampleFileIsTheDefaults(t *testing.T) {
	c, err := Load("../../referrals.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	d := Default()
	c.Dir, c.File, c.text = "", "", ""
	if c.Scheduling.Columns != nil && len(c.Scheduling.Columns) == 0 {
		c.Scheduling.Columns = nil
	}
	if c.Billing.Columns != nil && len(c.Billing.Columns) == 0 {
		c.Billing.Columns = nil
	}
	if len(c.Referrers.Channels) == 0 {
		c.Referrers.Channels = nil
	}
	if !reflect.DeepEqual(c, d) {
		t.Fatalf("example file differs from defaults:\nexample  %+v\ndefaults %+v", c, d)
	}
}

func TestBadSettingsNameTheKey(t *testing.T) {
	cases := map[string]string{
		"unknown key":   "[scheduling]\nfilez = [\"x\"]\n",
		"bad encoding":  "[billing]\nencoding = \"ebcdic\"\n",
		"bad field":     "[billing.columns]\npatient = \"Patient\"\n",
		"bad threshold": "[stage]\nstage1_pp_share = 80\n",
		"syntax":        "[stage\n",
		"memory words":  "[duckdb]\nmemory_limit = \"lots\"\n",
		"memory number": "[duckdb]\nmemory_limit = \"600\"\n",
		"memory zero":   "[duckdb]\nmemory_limit = \"0\"\n",
		"memory minus":  "[duckdb]\nmemory_limit = \"-5GB\"\n",
		"memory tiny":   "[duckdb]\nmemory_limit = \"1MB\"\n",
		"memory unit":   "[duckdb]\nmemory_limit = \"2PB\"\n",
		"threads":       "[duckdb]\nthreads = -2\n",
		"shared header": "[scheduling.columns]\nclient_id = \"Patient Account\"\ndate = \" patient account\"\n",
		// An offset moves evening appointments to the next day (UTC).
		"time zone": "[scheduling]\ndate_format = \"%Y-%m-%dT%H:%M:%S%z\"\n",
	}
	want := map[string]string{
		"unknown key":   "referrals.toml line 2: `filez` is not a setting of [scheduling]; did you mean files?",
		"bad encoding":  "[billing] encoding",
		"bad field":     `"patient" is not a field`,
		"bad threshold": "stage1_pp_share",
		"syntax":        "line 2",
		"memory words":  `[duckdb] memory_limit = "lots": not a size; write a number and a unit, such as "600MB"`,
		"memory number": `[duckdb] memory_limit = "600": the number has no unit; write`,
		"memory zero":   `[duckdb] memory_limit = "0": the number has no unit; write`,
		"memory minus":  `[duckdb] memory_limit = "-5GB": a memory limit cannot be negative`,
		"memory tiny":   `[duckdb] memory_limit = "1MB": too small`,
		"memory unit":   `[duckdb] memory_limit = "2PB": unknown unit "PB"`,
		"threads":       `[duckdb] threads = -2: write 0 (one per core`,
		"shared header": `[scheduling.columns] client_id and date name the same header "Patient Account"`,
		"time zone":     `[scheduling] date_format = "%Y-%m-%dT%H:%M:%S%z" reads a time-zone offset (%z), which moves each time to UTC`,
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "referrals.toml")
			if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(p)
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("err = %v, want a configuration error", err)
			}
			if !strings.Contains(err.Error(), want[name]) || !strings.Contains(err.Error(), "referrals.toml") {
				t.Fatalf("error %q does not name %q and the file", err, want[name])
			}
		})
	}
}

// The sizes DuckDB reads are accepted as bytes; "" leaves DuckDB's default.
func TestParseMemoryLimit(t *testing.T) {
	for in, want := range map[string]int64{
		"": 0, "600MB": 600e6, "600 mb": 600e6, "1.5GB": 1.5e9, "2GiB": 2 << 30, "100MB": 100e6,
		" 4 TiB ": 4 << 40, "2G": 2e9, "300000KiB": 300000 << 10,
		// Forms DuckDB 1.5 takes too (each tried with SET memory_limit): written-out
		// decimal units, bytes, and "none" (no limit).
		"2 gigabytes": 2e9, "2000000000 bytes": 2e9, "3 gigabyte": 3e9, "500 megabytes": 500e6, "none": 0,
	} {
		got, err := ParseMemoryLimit(in)
		if err != nil || got != want {
			t.Errorf("ParseMemoryLimit(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"lots", "600", "0", "0MB", "-5GB", "99MB", "1e3MB", "50%", "100 %", "NONE", "1 gibibyte", "2 gibibytes", "2PB", "GB", "1.GB", "50 bytes"} {
		if n, err := ParseMemoryLimit(in); err == nil {
			t.Errorf("ParseMemoryLimit(%q) = %d, want an error", in, n)
		}
	}
}

// Every setting given a value of another type is named with its line and what
// it must be, never in the TOML decoder's words: a setting added to Config is
// covered without a test of its own.
func TestEveryWrongTypeIsSaidInWords(t *testing.T) {
	dir := t.TempDir()
	var walk func(table string, ty reflect.Type)
	walk = func(table string, ty reflect.Type) {
		for i := 0; i < ty.NumField(); i++ {
			f := ty.Field(i)
			key := f.Tag.Get("toml")
			if key == "" || key == "-" {
				continue
			}
			full := strings.TrimPrefix(table+"."+key, ".")
			if f.Type.Kind() == reflect.Struct {
				// [scheduling.statuses] too, a table within a section.
				walk(full, f.Type)
			}
			// A table for a list or a value, a string for a table, a list for a string.
			wrong := `"x"`
			switch f.Type.Kind() {
			case reflect.String:
				wrong = `["x"]`
			case reflect.Slice:
				wrong = `7`
			}
			body, line := key+" = "+wrong+"\n", 1
			if table != "" {
				body, line = "# settings\n["+table+"]\n"+body, 3
			}
			path := filepath.Join(dir, "referrals.toml")
			if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path)
			name := full
			if f.Type.Kind() == reflect.Struct {
				name = "[" + full + "]"
			}
			want := fmt.Sprintf("%s line %d: %s must be ", path, line, name)
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "toml:") {
				t.Errorf("%s = %s: got %v, want %q…", name, wrong, err, want)
			}
		}
	}
	walk("", reflect.TypeOf(Config{}))
}

// loadText loads a configuration file of body and returns the error's text,
// failing the test when it is not a configuration error.
func loadText(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "referrals.toml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(p)
	if !errors.Is(err, ErrConfig) {
		t.Fatalf("%q: err = %v, want a configuration error", body, err)
	}
	return strings.Replace(err.Error(), p, "referrals.toml", -1)
}

// A number out of the range its meaning allows is refused at load, naming the
// file, the line, the key, the range and the value: accepted, it gave reports
// that were silently wrong ("in the last -5 days", every row rejected).
func TestNumbersOutOfRangeAreRefused(t *testing.T) {
	nextYear := time.Now().Year() + 1
	for _, c := range []struct{ section, line, want string }{
		{"stage", "recent_days = -5", "referrals.toml line 4: [stage] recent_days = -5 is out of range: it is a number of days, from 1 to 365"},
		{"stage", "recent_days = 400", "[stage] recent_days = 400 is out of range"},
		{"referrers", "near_duplicate_cutoff = 92", "referrals.toml line 4: [referrers] near_duplicate_cutoff = 92 is out of range: it is a similarity (0.92 is 92%), from 0 to 1; for 92% write 0.92"},
		{"ingest", "min_year = 2100", "referrals.toml line 4: [ingest] min_year = 2100 is out of range: it is a year, from 1900 to " + fmt.Sprint(nextYear-1)},
		{"ingest", fmt.Sprintf("min_year = %d", nextYear), fmt.Sprintf("[ingest] min_year = %d is out of range", nextYear)},
		{"ingest", "min_year = 1850", "[ingest] min_year = 1850 is out of range"},
		{"ingest", "max_years_ahead = -1", "[ingest] max_years_ahead = -1 is out of range: it is a number of years, from 0 to 100"},
		{"stage", "low_evidence_below = -1", "referrals.toml line 4: [stage] low_evidence_below = -1 is out of range: it is a number of referrals (0 marks no stage as low evidence), 0 or more"},
		{"stage", "stalled_months = 0", "referrals.toml line 4: [stage] stalled_months = 0 is out of range: it is a number of months, from 1 to 120"},
		{"stage", "lapsed_months = -3", "[stage] lapsed_months = -3 is out of range: it is a number of months, from 1 to 120"},
		{"stage", "stage3_min_effective = -1.0", "referrals.toml line 4: [stage] stage3_min_effective = -1 is out of range"},
		{"stage", "stage3_min_referrals = 0", "[stage] stage3_min_referrals = 0 is out of range: it is a number of referrals, 1 or more"},
		{"stage", "ready_min_referrals = -2", "[stage] ready_min_referrals = -2 is out of range"},
		{"stage", "lapsed_min_referrals = 0", "[stage] lapsed_min_referrals = 0 is out of range"},
		{"stage", "window_months = 0", "referrals.toml line 4: [stage] window_months = 0 is out of range: it is a number of months, from 1 to 120"},
		{"stage", "cooling_ratio = 1.5", "[stage] cooling_ratio = 1.5 is out of range"},
		{"stage", "stage1_pp_share = 80", "[stage] stage1_pp_share = 80 is out of range: it is a share (0.8 is 80%), from 0 to 1; for 80% write 0.8"},
	} {
		got := loadText(t, "# settings\n\n["+c.section+"]\n"+c.line+"\n")
		if !strings.Contains(got, c.want) {
			t.Errorf("%s: got\n%s\nwant it to contain\n%s", c.line, got, c.want)
		}
	}
	// Every bound itself is taken.
	ok := "[referrers]\nnear_duplicate_cutoff = 1\n[stage]\nrecent_days = 365\nlow_evidence_below = 0\nstalled_months = 1\nstage3_min_effective = 1\n[ingest]\nmin_year = " + fmt.Sprint(nextYear-1) + "\nmax_years_ahead = 0\n"
	p := filepath.Join(t.TempDir(), "referrals.toml")
	if err := os.WriteFile(p, []byte(ok), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p); err != nil {
		t.Errorf("bounds refused: %v", err)
	}
}

// An empty database or out_dir, or no export pattern at all, is refused at
// load: the run would otherwise load everything and fail at the end, or have
// nothing to report.
func TestEmptyPlacesAreRefused(t *testing.T) {
	for body, want := range map[string]string{
		"database = \"/tmp/x.duckdb\"\nout_dir = \"\"\n": "referrals.toml line 2: out_dir = \"\" is empty: it must name a folder",
		"database = \"\"\n": "referrals.toml line 1: database = \"\" is empty: it must name a file",
		"[scheduling]\nfiles = []\n[billing]\nfiles = []\n": "referrals.toml line 2: [scheduling] files and [billing] files are both empty lists",
	} {
		if got := loadText(t, body); !strings.Contains(got, want) {
			t.Errorf("%q: got\n%s\nwant it to contain\n%s", body, got, want)
		}
	}
}

// An unknown key is named with its line and what was meant: a setting placed
// under the wrong section (a line appended at the end lands in the last one),
// or the nearest key to a misspelt one.
func TestUnknownKeysSayWhatWasMeant(t *testing.T) {
	body := "out_dir = \"out\"\nthreads = 2\n[duckdb]\nmemory_limt = \"1GB\"\n[duckd]\nx = 1\n[stage]\nfoo = 3\n[ingest]\nmin_year = 2000\ndatabase = \"/var/lib/x.duckdb\"\ncooling_ratio = 0.3\n"
	got := loadText(t, body)
	for _, want := range []string{
		"referrals.toml line 2: `threads` is a setting of [duckdb] but sits at the top of the file, before any [section]: move it under [duckdb]",
		"referrals.toml line 4: `memory_limt` is not a setting of [duckdb]; did you mean memory_limit?",
		"referrals.toml line 5: [duckd] is not a section of the configuration; did you mean [duckdb]?",
		"referrals.toml line 8: `foo` is not a setting of [stage]; its settings are window_months,",
		"referrals.toml line 11: `database` is a top-level setting but sits under [ingest]: move it above the first [section]",
		"referrals.toml line 12: `cooling_ratio` is a setting of [stage] but sits under [ingest]: move it under [stage]",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("got\n%s\nwant it to contain\n%s", got, want)
		}
	}
	if strings.Contains(got, "duckd.x") {
		t.Errorf("the keys of an unknown section are listed one by one:\n%s", got)
	}
}

// A value the settings cannot take names its line. A file pattern Glob cannot
// read among them: read, it would fail as if it were an export file.
func TestValueErrorsNameTheLine(t *testing.T) {
	for body, want := range map[string]string{
		"# settings\n\n[billing]\nfiles = [\"exports/billing/claims-[2026.csv\"]\n": `referrals.toml line 4: [billing] files "exports/billing/claims-[2026.csv" is not a valid file pattern`,
		"[scheduling]\nfiles = [\"x/*.csv\"]\nencoding = \"utf-7\"\n":               "referrals.toml line 3: [scheduling] encoding = \"utf-7\" is not one of",
		"[duckdb]\nthreads = -1\n":       "referrals.toml line 2: [duckdb] threads = -1: write 0",
		"\n[stage]\nwindow_months = 0\n": "referrals.toml line 3: [stage] window_months = 0 is out of range",
	} {
		if got := loadText(t, body); !strings.Contains(got, want) {
			t.Errorf("%q: got\n%s\nwant it to contain\n%s", body, got, want)
		}
	}
}

// DayFirst follows the exports' date_format, padded or not (%-d/%-m/%Y is day
// first as %d/%m/%Y is), and only where every export that has files agrees.
func TestDayFirst(t *testing.T) {
	for _, c := range []struct {
		sched, bill string
		billFiles   bool
		want        bool
	}{
		{"%d/%m/%Y", "%d/%m/%Y", true, true},
		{"%-d/%-m/%Y", "%d.%m.%Y", true, true},
		{"%m/%d/%Y", "%m/%d/%Y", true, false},
		{"%-m/%-d/%Y", "%-m/%-d/%Y", true, false},
		{"%Y-%m-%d", "%Y-%m-%d", true, false},
		{"%d/%m/%Y", "%m/%d/%Y", true, false},
		{"%d/%m/%Y", "%m/%d/%Y", false, true},
		{"%d/%m/%Y %I:%M %p", "%d/%m/%Y", true, true},
	} {
		cfg := Default()
		cfg.Scheduling.DateFormat, cfg.Billing.DateFormat = c.sched, c.bill
		if !c.billFiles {
			cfg.Billing.Files = nil
		}
		if got := cfg.DayFirst(); got != c.want {
			t.Errorf("scheduling %q, billing %q (files: %v): DayFirst %v, want %v", c.sched, c.bill, c.billFiles, got, c.want)
		}
	}
}

// A [[scheduling.layout]] block (the files of another system, or of this one
// before an upgrade) is checked as the source's settings are, each problem
// naming the block, its line and what to write; a misspelt key in it is named
// with the nearest one. Its settings fall back to the source's.
func TestLayoutBlocks(t *testing.T) {
	msg := loadText(t, `[scheduling]
files = ["old/*.csv"]

[[scheduling.layout]]
files = ["new/*.csv"]
date_format = "%Y-%m-%d"

[[scheduling.layout]]
files = []
date_format = "Y-m-d"
ids = "Simple:Practice"
[scheduling.layout.columns]
appointment_id = "Appt"
client_id = "appt"
`)
	for _, want := range []string{
		`referrals.toml line 9: [[scheduling.layout]] block 2 has no files`,
		`referrals.toml line 10: [[scheduling.layout]] block 2 date_format = "Y-m-d" is not a strptime format`,
		`referrals.toml line 11: [[scheduling.layout]] block 2 ids = "Simple:Practice": name the system`,
		`[[scheduling.layout]] block 2's columns appointment_id and client_id name the same header "Appt"`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q\nlacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "block 1") {
		t.Errorf("error %q names block 1, which is right", msg)
	}
	msg = loadText(t, "[[billing.layout]]\nfiles = [\"x/*.csv\"]\ndate_fromat = \"%Y-%m-%d\"\n")
	if want := "referrals.toml line 3: `date_fromat` is not a setting of [[billing.layout]]; did you mean date_format?"; !strings.Contains(msg, want) {
		t.Errorf("error %q\nlacks %q", msg, want)
	}
	msg = loadText(t, "[billing.layout]\nfiles = [\"x/*.csv\"]\n")
	if want := "referrals.toml line 1: billing.layout must be written [[billing.layout]], with two pairs of brackets"; !strings.Contains(msg, want) {
		t.Errorf("error %q\nlacks %q", msg, want)
	}
	msg = loadText(t, "[[billing.layout]]\nfiles = \"x/*.csv\"\n")
	if want := "referrals.toml line 2: [[billing.layout]] block 1 files must be a list of file patterns"; !strings.Contains(msg, want) {
		t.Errorf("error %q\nlacks %q", msg, want)
	}

	cfg := Default()
	cfg.Scheduling.DateFormat = "%d/%m/%Y"
	cfg.Scheduling.Layouts = []Layout{{Files: []string{"new/*.csv"}, Columns: map[string]string{"client_id": "Chart"}}}
	l := cfg.Scheduling.Layout(0)
	if l.DateFormat != "%d/%m/%Y" || l.Encoding != "auto" || l.Columns["client_id"] != "Chart" || len(l.Files) != 1 {
		t.Errorf("layout settings %+v, want the source's date_format and encoding, its own files and columns", l)
	}
	cfg.Billing.DateFormat = "%d/%m/%Y"
	if !cfg.DayFirst() {
		t.Errorf("DayFirst false, with every export day first")
	}
	cfg.Scheduling.Layouts[0].DateFormat = "%m/%d/%Y"
	if cfg.DayFirst() {
		t.Errorf("DayFirst true, with a layout's files month first")
	}
}

// [scheduling.statuses] says what the export's own status words mean: each
// spelling as status_key folds it (case, spaces, punctuation), to the class
// the models name it by.
func TestStatusWords(t *testing.T) {
	p := filepath.Join(t.TempDir(), "referrals.toml")
	body := "[scheduling.statuses]\nattended = [\"Attended - Billed\", \"Client Arrived\"]\nno_show = [\"No-Show (Charged)\"]\nlate_cancelled = [\"LC < 24h\"]\ncancelled = [\"Annulé\"]\nscheduled = [\"On the books\"]\nother = [\"Admin block\"]\n"
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"attendedbilled": "attended", "clientarrived": "attended", "noshowcharged": "no-show",
		"lch": "late-cancelled", "annul": "cancelled", "onthebooks": "scheduled", "adminblock": "other",
	}
	if got := c.Scheduling.Statuses.Words(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Words() = %v, want %v", got, want)
	}
	if got := Default().Scheduling.Statuses.Words(); len(got) != 0 {
		t.Fatalf("the defaults map statuses: %v", got)
	}
}

// A misspelt class is named with the nearest one and its line; a spelling given
// two classes (as the tool folds it), a blank spelling, and
// statuses under [billing] are refused, each with its line.
func TestStatusWordsRefused(t *testing.T) {
	for body, want := range map[string]string{
		"[scheduling.statuses]\natended = [\"Seen - Billed\"]\n":                           "referrals.toml line 2: `atended` is not a class of [scheduling.statuses]; did you mean attended?",
		"[scheduling.statuses]\nno-show = [\"NS charged\"]\n":                              "referrals.toml line 2: `no-show` is not a class of [scheduling.statuses]; did you mean no_show?",
		"[scheduling.statuses]\nattended = [\"Kept Appt\"]\n\nno_show = [\"kept-appt\"]\n": `referrals.toml line 4: [scheduling.statuses] "kept-appt" (no_show) is "Kept Appt" (attended) as the tool compares statuses (case, spaces and punctuation ignored): give each spelling one class`,
		"[scheduling.statuses]\nattended = [\"Seen\", \" \"]\n":                            `referrals.toml line 2: [scheduling.statuses] attended " " is blank`,
		"[billing.statuses]\nattended = [\"Seen\"]\n":                                      "referrals.toml line 1: [billing.statuses]: appointment statuses are the scheduling export's",
		"[scheduling.statuses]\nattended = \"Seen - Billed\"\n":                            "referrals.toml line 2: scheduling.statuses.attended must be a list of texts in quotes, like attended = [\"Seen - Billed\"]",
	} {
		if got := loadText(t, body); !strings.Contains(got, want) {
			t.Errorf("%q: got\n%s\nwant it to contain\n%s", body, got, want)
		}
	}
}
