package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// failureListings is what the reports a run wrote for 2026-10 say of files and patterns
// that failed: the Overview's banner ("" without one), the page's banner ("" without
// one), and the rows of the Data quality sheet under "Files that failed".
func failureListings(t *testing.T, dir string) (overview, page string, listed []string) {
	t.Helper()
	f, err := excelize.OpenFile(filepath.Join(dir, "out", "referrals-2026-10.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows("Overview")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) > 1 && len(rows[1]) > 0 && strings.HasPrefix(rows[1][0], "Incomplete figures") {
		overview = rows[1][0]
	}
	html := mustRead(t, filepath.Join(dir, "out", "referrals-2026-10.html"))
	if i := strings.Index(html, `<p class="banner" role="alert">`); i >= 0 {
		page = html[i:]
		page = page[:strings.Index(page, "</p>")]
	}
	rows, err = f.GetRows("Data quality")
	if err != nil {
		t.Fatal(err)
	}
	in := false
	for _, r := range rows {
		first := ""
		if len(r) > 0 {
			first = r[0]
		}
		switch {
		case first == "Files that failed":
			in = true
		case !in || first == "Source" || first == "None." || strings.HasPrefix(first, "Files that could not"):
		case first == "":
			return overview, page, listed
		default:
			listed = append(listed, strings.Join(r, " | "))
		}
	}
	return overview, page, listed
}

// The reports list what failed in the run that wrote them, and exit 6 goes with a
// listing: a file that failed is listed while it fails and no longer once it is
// removed and its pattern taken out of the configuration (it stayed on the Data quality
// sheet of every later workbook, the run exiting 0); a pattern whose folder is empty (a
// share not mounted) is listed, and named in the banner, while it matches nothing (the
// run exited 6 with reports that looked complete).
func TestReportsListWhatFailsWhileItFails(t *testing.T) {
	dir, cfg := practiceDir(t, 0.3, false)
	base := mustRead(t, cfg)
	withPattern := func(pattern string) {
		t.Helper()
		body := strings.Replace(base, `files = ["data/exports/billing/*.csv"]`, `files = ["data/exports/billing/*.csv", "`+pattern+`"]`, 1)
		if body == base {
			t.Fatal("no billing files in the configuration")
		}
		if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	run := func(step string, want int) {
		t.Helper()
		if r := runBin(t, "run", "--config", cfg, "--month", "2026-10", "--quiet"); r.code != want {
			t.Fatalf("%s: exit %d, want %d\n%s", step, r.code, want, r.stderr)
		}
	}
	nothingListed := func(step string) {
		t.Helper()
		overview, page, listed := failureListings(t, dir)
		if overview != "" || page != "" || len(listed) != 0 {
			t.Errorf("%s: exit 0, yet the reports list failures: Overview %q, page %q, Data quality %q", step, overview, page, listed)
		}
	}
	for _, d := range []string{"extra", "share"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}

	// A: a file that cannot be loaded, then removed with its pattern.
	withPattern("extra/*.csv")
	bad := filepath.Join(dir, "extra", "bad.csv")
	if err := os.WriteFile(bad, []byte("foo,bar\n1,2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run("a file that cannot be loaded", exitNotLoaded)
	overview, page, listed := failureListings(t, dir)
	badName := filepath.Join("extra", "bad.csv") + " (billing)"
	if !strings.Contains(overview, "1 export file could not be loaded") || !strings.Contains(overview, badName) || !strings.Contains(page, badName) ||
		len(listed) != 1 || !strings.HasPrefix(listed[0], "billing | "+filepath.Join("extra", "bad.csv")+" | ") {
		t.Errorf("the file that failed: Overview %q, page %q, Data quality %q", overview, page, listed)
	}
	// An ingest between two runs (it finishes a command of its own) takes nothing away:
	// the run after it meets the file again, and lists it again.
	if r := runBin(t, "ingest", "--config", cfg, "--quiet"); r.code != exitNotLoaded {
		t.Fatalf("ingest: exit %d, want %d\n%s", r.code, exitNotLoaded, r.stderr)
	}
	run("the run after an ingest", exitNotLoaded)
	if overview, page, listed := failureListings(t, dir); !strings.Contains(overview, badName) || !strings.Contains(page, badName) || len(listed) != 1 {
		t.Errorf("the run after an ingest: Overview %q, page %q, Data quality %q", overview, page, listed)
	}
	if err := os.Remove(bad); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, []byte(base), 0o600); err != nil {
		t.Fatal(err)
	}
	run("the file and its pattern gone", 0)
	nothingListed("the file and its pattern gone")

	// B: a pattern whose folder is empty, then filled.
	withPattern("share/*.csv")
	run("a pattern that matches no file", exitNotLoaded)
	overview, page, listed = failureListings(t, dir)
	patternName := filepath.Join("share", "*.csv") + " (billing)"
	if !strings.Contains(overview, "1 file pattern of the configuration matched no file") || !strings.Contains(overview, patternName) ||
		!strings.Contains(page, patternName) || len(listed) != 1 ||
		!strings.HasPrefix(listed[0], "billing | "+filepath.Join("share", "*.csv")+" | matches no file: ") {
		t.Errorf("the pattern that matches no file: Overview %q, page %q, Data quality %q", overview, page, listed)
	}
	exports, err := filepath.Glob(filepath.Join(dir, "data", "exports", "billing", "*.csv"))
	if err != nil || len(exports) == 0 {
		t.Fatalf("billing exports: %v %v", exports, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "share", "claims.csv"), []byte(mustRead(t, exports[len(exports)-1])), 0o600); err != nil {
		t.Fatal(err)
	}
	run("the pattern matches again", 0)
	nothingListed("the pattern matches again")
}
