package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A folder a pattern matches is said to be one, with what to do: the advice
// to end the pattern in *.csv is for a pattern that does not.
func TestFolderMatchedByPatternIsSaidToBeOne(t *testing.T) {
	dir := t.TempDir()
	writeExports(t, dir, map[string]string{"a.csv": "Appointment ID,Patient Account,Clinician,Appointment Date,Status\nA1,1001,Jane Smith,09/01/2026,Attended\n"})
	must(t, os.Mkdir(filepath.Join(dir, "exports", "zz.csv"), 0o755))
	in := folderIngester(t, dir, "scheduling")
	checks, err := CheckExports(context.Background(), in.Config)
	must(t, err)
	var said []string
	for _, c := range checks {
		said = append(said, c.Problems...)
	}
	got := strings.Join(said, "\n")
	want := `is a folder, not an export file, and the pattern "exports/*.csv" matches it: rename the folder so that the pattern does not match it, or narrow [scheduling] files`
	if !strings.Contains(got, want) || strings.Contains(got, "end the pattern in") {
		t.Errorf("check said:\n%s\nwant:\n%s", got, want)
	}
	cfg := in.Config
	cfg.Scheduling.Files = []string{"exports/*"}
	checks, err = CheckExports(context.Background(), cfg)
	must(t, err)
	said = nil
	for _, c := range checks {
		said = append(said, c.Problems...)
	}
	if got := strings.Join(said, "\n"); !strings.Contains(got, `end the pattern in *.csv`) {
		t.Errorf("a pattern not ending in .csv: check said:\n%s", got)
	}
}
