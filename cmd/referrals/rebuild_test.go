package main

import (
	"archive/zip"
	"context"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/referrals/referrals/pipeline"
)

// reportFiles reads every file of the reports folder: a workbook as its parts,
// but for [Content_Types].xml, whose entries excelize writes in any order.
func reportFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		path := filepath.Join(dir, e.Name())
		if filepath.Ext(path) != ".xlsx" {
			out[e.Name()] = mustRead(t, path)
			continue
		}
		z, err := zip.OpenReader(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range z.File {
			if f.Name == "[Content_Types].xml" {
				continue
			}
			r, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(r)
			r.Close()
			if err != nil {
				t.Fatal(err)
			}
			out[e.Name()+"!"+f.Name] = string(b)
		}
		z.Close()
	}
	return out
}

// modTimes are the modification times of the reports folder's files.
func modTimes(t *testing.T, dir string) map[string]time.Time {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]time.Time{}
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = fi.ModTime()
	}
	return out
}

// A rebuild empties the database before it reloads what is on disk: with a source
// folder that matches no file (a share not mounted, files archived) it would wipe
// that source's history and rewrite the reports without it. It refuses instead
// (exit 2), naming the pattern, with the database and the reports as they were. So
// does a file it matches but cannot read. A plain run with the same folder missing
// reports from the history it has: exit 6, the reports unchanged but that they name
// the pattern that matches no file.
func TestRebuildRefusesWhenAPatternMatchesNothing(t *testing.T) {
	dir, cfg := practiceDir(t, 0.3, false)
	if r := runBin(t, "run", "--config", cfg, "--month", "2026-10", "--quiet"); r.code != 0 {
		t.Fatalf("first run: exit %d\n%s", r.code, r.stderr)
	}
	dbPath := filepath.Join(dir, "db", "referrals.duckdb")
	outDir := filepath.Join(dir, "out")
	before, reports, written := dbCounts(t, dbPath), reportFiles(t, outDir), modTimes(t, outDir)

	sched := filepath.Join(dir, "data", "exports", "scheduling")
	away := filepath.Join(dir, "data", "archived-scheduling")
	if err := os.Rename(sched, away); err != nil {
		t.Fatal(err)
	}
	unchanged := func(what string) {
		t.Helper()
		if after := dbCounts(t, dbPath); !maps.Equal(after, before) {
			t.Errorf("%s changed the database:\nbefore %v\nafter  %v", what, before, after)
		}
		if after := reportFiles(t, outDir); !maps.Equal(after, reports) {
			t.Errorf("%s changed the reports", what)
		}
	}
	// Refused, a rebuild writes no report either.
	untouched := func(what string) {
		t.Helper()
		if after := modTimes(t, outDir); !maps.EqualFunc(after, written, time.Time.Equal) {
			t.Errorf("%s wrote the reports", what)
		}
		unchanged(what)
	}
	for _, args := range [][]string{{"run", "--month", "2026-10"}, {"run"}, {"ingest"}} {
		r := runBin(t, append(args, "--config", cfg, "--quiet", "--rebuild")...)
		if r.code != exitUsage {
			t.Fatalf("%q --rebuild without the scheduling exports: exit %d, want %d\n%s", args, r.code, exitUsage, r.stderr)
		}
		for _, want := range []string{"--rebuild refused, nothing was changed", `[scheduling] files "data/exports/scheduling/*.csv" matches no file`, "mounted"} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("%q --rebuild: the message does not say %q:\n%s", args, want, r.stderr)
			}
		}
		untouched(strings.Join(args, " ") + " --rebuild")
	}

	// A plain run reports from the history: exit 6 for the missing exports, and
	// reports that are the same as before, but that they say the pattern matches no
	// file (the banner of the Overview and the page, the Data quality sheet).
	r := runBin(t, "run", "--config", cfg, "--month", "2026-10", "--quiet")
	if r.code != exitNotLoaded || !strings.Contains(r.stderr, "match no file") {
		t.Errorf("plain run without the scheduling exports: exit %d, want %d\n%s", r.code, exitNotLoaded, r.stderr)
	}
	if after := dbCounts(t, dbPath); !maps.Equal(after, before) {
		t.Errorf("a plain run changed the database:\nbefore %v\nafter  %v", before, after)
	}
	after := reportFiles(t, outDir)
	const page, book = "referrals-2026-10.html", "referrals-2026-10.xlsx!xl/"
	for name := range maps.Keys(after) {
		// The banner moves the Overview's rows, and its charts' ranges, one down.
		switch name {
		case page, book + "worksheets/sheet1.xml", book + "charts/chart1.xml", book + "charts/chart2.xml",
			book + "drawings/drawing1.xml", book + "sharedStrings.xml", book + "worksheets/sheet7.xml":
			continue
		}
		if after[name] != reports[name] {
			t.Errorf("a plain run changed %s", name)
		}
	}
	pattern := filepath.Join("data", "exports", "scheduling", "*.csv")
	banner := regexp.MustCompile(`<p class="banner" role="alert">Incomplete figures: 1 file pattern of the configuration matched no file when this report was made: ` +
		regexp.QuoteMeta(pattern) + ` \(scheduling\)\. [^<]*</p>\s*`)
	if got := banner.ReplaceAllString(after[page], ""); got == after[page] || got != reports[page] {
		t.Errorf("a plain run's page is not the page before with a banner naming %s", pattern)
	}
	overview, _, listed := failureListings(t, dir)
	if !strings.Contains(overview, pattern+" (scheduling)") || len(listed) != 1 || !strings.HasPrefix(listed[0], "scheduling | "+pattern+" | matches no file: ") {
		t.Errorf("a plain run's workbook: Overview %q, Data quality %q; want the pattern named", overview, listed)
	}
	reports = after
	written = modTimes(t, outDir)

	// A file the pattern matches that cannot be read (a link into a share not
	// mounted): refused too.
	if err := os.Rename(away, sched); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(sched, "appointments-2099-01.csv")
	if err := os.Symlink(filepath.Join(dir, "share", "appointments-2099-01.csv"), link); err != nil {
		t.Fatal(err)
	}
	r = runBin(t, "run", "--config", cfg, "--month", "2026-10", "--quiet", "--rebuild")
	if r.code != exitUsage || !strings.Contains(r.stderr, link+" cannot be read") {
		t.Errorf("--rebuild with an unreadable file: exit %d, want %d naming %s\n%s", r.code, exitUsage, link, r.stderr)
	}
	untouched("--rebuild with an unreadable file")

	// With every export back, the rebuild reloads the same.
	if err := os.Remove(link); err != nil {
		t.Fatal(err)
	}
	if r := runBin(t, "run", "--config", cfg, "--month", "2026-10", "--quiet", "--rebuild"); r.code != 0 {
		t.Fatalf("--rebuild with every export: exit %d\n%s", r.code, r.stderr)
	}
	if after := dbCounts(t, dbPath); !maps.Equal(after, before) {
		t.Errorf("the rebuild loaded otherwise:\nbefore %v\nafter  %v", before, after)
	}
}

// A rebuild after an export file was deleted reloads the rest, as documented,
// and says that the deleted file's rows are lost.
func TestRebuildNamesFilesNoLongerOnDisk(t *testing.T) {
	dir, cfg := practiceDir(t, 0.3, false)
	if r := runBin(t, "ingest", "--config", cfg, "--quiet"); r.code != 0 {
		t.Fatalf("ingest: exit %d\n%s", r.code, r.stderr)
	}
	files, err := filepath.Glob(filepath.Join(dir, "data", "exports", "billing", "*.csv"))
	if err != nil || len(files) < 2 {
		t.Fatalf("billing exports: %v %v", files, err)
	}
	// Loaded twice (a re-export), it is still one file.
	last := files[len(files)-1]
	if err := os.WriteFile(last, []byte(mustRead(t, last)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(last, time.Now().Add(time.Minute), time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if r := runBin(t, "ingest", "--config", cfg, "--quiet"); r.code != 0 {
		t.Fatalf("ingest of the re-export: exit %d\n%s", r.code, r.stderr)
	}
	if err := os.Remove(last); err != nil {
		t.Fatal(err)
	}
	r := runBin(t, "ingest", "--config", cfg, "--quiet", "--rebuild")
	if r.code != 0 || !strings.Contains(r.stderr, "export files loaded before are no longer on disk") ||
		!strings.Contains(r.stderr, "files=1 ") || !strings.Contains(r.stderr, filepath.Base(files[len(files)-1])) {
		t.Errorf("--rebuild after an export was deleted: exit %d, want 0 and a warning naming it\n%s", r.code, r.stderr)
	}
	// The reference files the rebuild loaded stay recorded, so the next night keeps them.
	db, err := pipeline.Open(context.Background(), filepath.Join(dir, "db", "referrals.duckdb"), pipeline.Settings{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM ref_state`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("ref_state holds %d rows after the rebuild, want the fingerprint of the reference files it loaded", n)
	}
}
