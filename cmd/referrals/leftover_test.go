package main

import (
	"os"
	"path/filepath"
	"testing"
)

// A run killed while it writes its reports leaves the temporary file it was writing
// (renameio's "." + the report's name + digits), in out_dir and in the report cache.
// The next run removes them: killed nights must not pile up hidden copies of reports
// (names and paid amounts) beside the real ones. Files that are not such temporary
// files stay.
func TestRunRemovesTempFilesAKilledRunLeft(t *testing.T) {
	dir, cfg := practiceDir(t, 0.3, false)
	out := filepath.Join(dir, "out")
	cache := filepath.Join(dir, "db", "referrals.duckdb"+reportCacheSuffix)
	for _, d := range []string{out, cache} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	left := []string{
		filepath.Join(out, ".referrals-2026-10.xlsx6842248229017958676"),
		filepath.Join(out, ".referrals-2026-09.html2913869203027681835"),
		filepath.Join(out, ".referrers-2026-10.csv120149759155773327"),
		filepath.Join(out, ".index.html1185862052830722370"),
		filepath.Join(cache, ".introductions.part7414295312127608415"),
		filepath.Join(cache, ".page.html.cached7005625693697991736"),
	}
	kept := []string{
		filepath.Join(out, ".referrals-2026-10.xlsx.bak"),
		filepath.Join(out, "notes.txt"),
		filepath.Join(out, ".profile1"),
	}
	for _, f := range append(append([]string{}, left...), kept...) {
		if err := os.WriteFile(f, []byte("half a report"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if code, stdout, stderr := runInProcess("run", "--config", cfg, "--month", "2026-10", "--quiet"); code != 0 {
		t.Fatalf("run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, f := range left {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("%s: a killed run's temporary file is still there after the next run", f)
		}
	}
	for _, f := range kept {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("%s: not a temporary file of the reports, but gone: %v", f, err)
		}
	}
}
