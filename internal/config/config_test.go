package config

import (
	"errors"
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
	}
	want := map[string]string{
		"unknown key":   "scheduling.filez",
		"bad encoding":  "[billing] encoding",
		"bad field":     `"patient" is not a field`,
		"bad threshold": "stage1_pp_share",
		"syntax":        "line 2",
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
