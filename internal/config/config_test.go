package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The example file documents every key with its default value: loading it
// must give exactly the built-in defaults, so the two cannot drift apart.
func TestExampleFileIsTheDefaults(t *testing.T) {
	c, err := Load("../../referrals.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	d := Default()
	c.Dir, c.File = "", ""
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
	}
	want := map[string]string{
		"unknown key":   "scheduling.filez",
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
			if f.Type.Kind() == reflect.Struct {
				walk(key, f.Type)
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
			name := strings.TrimPrefix(table+"."+key, ".")
			if f.Type.Kind() == reflect.Struct {
				name = "[" + key + "]"
			}
			want := fmt.Sprintf("%s line %d: %s must be ", path, line, name)
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "toml:") {
				t.Errorf("%s = %s: got %v, want %q…", name, wrong, err, want)
			}
		}
	}
	walk("", reflect.TypeOf(Config{}))
}
