package reports

import (
	"archive/zip"
	"context"
	"database/sql"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/referrals/referrals/internal/stagetest"
	"github.com/referrals/referrals/queries"
	"github.com/xuri/excelize/v2"
)

// recorder runs queries on the database and keeps their text.
type recorder struct {
	db      *sql.DB
	queries []string
}

func (r *recorder) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	r.queries = append(r.queries, q)
	return r.db.QueryContext(ctx, q, args...)
}

func (r *recorder) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	r.queries = append(r.queries, q)
	return r.db.QueryRowContext(ctx, q, args...)
}

// reads names the tables among tables that the recorded queries read, and those of
// them that are not in models.
func (r *recorder) reads(tables, models []string) (read, others []string) {
	for _, q := range r.queries {
		read = append(read, queries.Model{SQL: q}.Reads(tables)...)
	}
	for _, tb := range read {
		if !slices.Contains(models, tb) {
			others = append(others, tb)
		}
	}
	return read, others
}

// modelTables lists the database's tables, and the models whose content
// model_fingerprints records.
func modelTables(t *testing.T, db *sql.DB) (tables, models []string) {
	t.Helper()
	for q, into := range map[string]*[]string{
		`SELECT table_name FROM duckdb_tables() WHERE NOT temporary AND schema_name = 'main'`: &tables,
		`SELECT model FROM model_fingerprints`:                                                &models,
	} {
		rows, err := queryAll(context.Background(), db, "tables", q)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			s, _ := asString(r[0])
			*into = append(*into, s)
		}
	}
	return tables, models
}

var sampleMonth = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)

// TestCachedSheetsReadOnlyModelTables runs every sheet's queries on a database the real
// pipeline built and reads which tables they name: a sheet the part cache keeps must read
// only tables whose content model_fingerprints tracks, or its cached copy could go stale.
// Data quality, which is never cached, must be seen reading the ledger: the check can fail.
func TestCachedSheetsReadOnlyModelTables(t *testing.T) {
	ctx := context.Background()
	db := stagetest.RunSample(t, filepath.Join("..", "sample-data"), sampleMonth, "cache-test")
	tables, models := modelTables(t, db)
	if len(models) < 10 {
		t.Fatalf("model_fingerprints names %d models: the pipeline did not record them", len(models))
	}
	p, err := loadPeriod(ctx, db, sampleMonth)
	if err != nil {
		t.Fatal(err)
	}
	o, err := loadOverview(ctx, db, p)
	if err != nil {
		t.Fatal(err)
	}
	st, err := newStyles(excelize.NewFile())
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range workbookSteps {
		rec := &recorder{db: db}
		if _, err := step.fetch(ctx, rec, st, o); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		read, others := rec.reads(tables, models)
		switch {
		case cachedSheets[step.name] && (len(read) == 0 || len(others) > 0):
			t.Errorf("%s is cached but reads %q, of which %q are not model tables", step.name, read, others)
		case step.name == sheetDataQuality && !slices.Contains(others, "ingest_files"):
			t.Errorf("Data quality reads %q: the ledger not among them, so this test cannot see a non-model table", read)
		}
	}
}

// TestPartCacheReusesSheetsWhileModelsAreUnchanged writes the workbook twice with a cache:
// the second copies the cached sheets. A planted cache entry (the Clinicians sheet filed as
// Referrers) shows the copy is used; a changed model content makes it stale, and the next
// workbook writes Referrers again.
func TestPartCacheReusesSheetsWhileModelsAreUnchanged(t *testing.T) {
	ctx := context.Background()
	db := stagetest.RunSample(t, filepath.Join("..", "sample-data"), sampleMonth, "cache-test")
	dir := t.TempDir()
	cacheDir := filepath.Join(dir, "cache")
	write := func(name string) (string, map[string]string) {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := WriteWorkbookCached(ctx, db, sampleMonth, path, cacheDir); err != nil {
			t.Fatal(err)
		}
		return path, zipParts(t, path)
	}
	sheetPart := func(parts map[string]string, f *excelize.File, sheet string) string {
		idx, err := f.GetSheetIndex(sheet)
		if err != nil || idx < 0 {
			t.Fatalf("no sheet %s", sheet)
		}
		return parts["xl/worksheets/sheet"+itoa(idx+1)+".xml"]
	}
	firstPath, first := write("first.xlsx")
	f1, err := excelize.OpenFile(firstPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f1.Close()
	for sheet := range cachedSheets {
		if _, err := os.Stat(filepath.Join(cacheDir, strings.ReplaceAll(strings.ToLower(sheet), " ", "-")+".part")); err != nil {
			t.Errorf("no cache entry for %s: %v", sheet, err)
		}
	}
	if _, err := os.Stat(filepath.Join(cacheDir, "data-quality.part")); err == nil {
		t.Error("Data quality was cached; it reads the ledger and must always be written")
	}

	// Same models: the second workbook's sheets are the first's, byte for byte.
	_, second := write("second.xlsx")
	for sheet := range cachedSheets {
		if a, b := sheetPart(first, f1, sheet), sheetPart(second, f1, sheet); a != b || len(a) < 500 {
			t.Errorf("%s differs between two workbooks of unchanged models (%d and %d bytes)", sheet, len(a), len(b))
		}
	}

	// Plant Clinicians' entry as Referrers': the next workbook must show it.
	clin, err := os.ReadFile(filepath.Join(cacheDir, "clinicians.part"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cacheDir, "referrers.part"), clin, 0o600); err != nil {
		t.Fatal(err)
	}
	thirdPath, third := write("third.xlsx")
	if got, want := sheetPart(third, f1, sheetReferrers), sheetPart(first, f1, sheetClinicians); got != want {
		t.Fatal("the planted cache entry was not used: the cache is not read")
	}
	f3, err := excelize.OpenFile(thirdPath)
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := f3.GetRows(sheetReferrers)
	f3.Close()
	if len(rows) == 0 || rows[0][0] != "Clinician" {
		t.Fatalf("Referrers from the planted entry starts %q, want the Clinicians header", rows[0])
	}

	// A model changes: every cached sheet is stale, Referrers is written from the database.
	if _, err := db.ExecContext(ctx, `UPDATE model_fingerprints SET content = content || '+' WHERE model = 'stage_transitions'`); err != nil {
		t.Fatal(err)
	}
	_, fourth := write("fourth.xlsx")
	if got, want := sheetPart(fourth, f1, sheetReferrers), sheetPart(first, f1, sheetReferrers); got != want {
		t.Error("after a model changed, Referrers is not the sheet written from the database")
	}
	checkZipReadable(t, filepath.Join(dir, "fourth.xlsx"))
}

// checkZipReadable opens every part of a zip, so a bad CRC or size fails.
func checkZipReadable(t *testing.T, path string) {
	t.Helper()
	z, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	for _, zf := range z.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, rc); err != nil {
			t.Fatalf("%s: %v", zf.Name, err)
		}
		rc.Close()
	}
}

// TestCachedFilesReadOnlyModelTables: the HTML page and the referrer CSV are copied from
// the cache while the models are unchanged, so everything they read must be a model
// table whose content model_fingerprints records.
func TestCachedFilesReadOnlyModelTables(t *testing.T) {
	ctx := context.Background()
	db := stagetest.RunSample(t, filepath.Join("..", "sample-data"), sampleMonth, "cache-test")
	tables, models := modelTables(t, db)
	for name, write := range map[string]func(q querier) error{
		"HTML page": func(q querier) error {
			p, err := loadPeriod(ctx, q, sampleMonth)
			if err == nil {
				_, err = buildPage(ctx, q, p)
			}
			return err
		},
		"referrer CSV": func(q querier) error {
			return writeReferrerCSV(ctx, q, sampleMonth, filepath.Join(t.TempDir(), "r.csv"))
		},
	} {
		rec := &recorder{db: db}
		if err := write(rec); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		read, others := rec.reads(tables, models)
		if len(read) == 0 {
			t.Errorf("%s reads no table this test can see", name)
		}
		if len(others) > 0 {
			t.Errorf("%s reads %q, which are not model tables: it must not be cached", name, others)
		}
	}
}

// TestFileCacheReusesFilesWhileModelsAreUnchanged writes the page and the CSV with a
// cache: the same bytes as without one; a planted copy is used while the models are
// unchanged, and a changed model writes the file from the database again.
func TestFileCacheReusesFilesWhileModelsAreUnchanged(t *testing.T) {
	ctx := context.Background()
	db := stagetest.RunSample(t, filepath.Join("..", "sample-data"), sampleMonth, "cache-test")
	dir := t.TempDir()
	cacheDir := filepath.Join(dir, "cache")
	for _, f := range []struct {
		name, cached string
		plain        func(path string) error
		withCache    func(path string) error
	}{
		{"page.html", "page.html.cached",
			func(path string) error { return WriteHTML(ctx, db, sampleMonth, path) },
			func(path string) error { return WriteHTMLCached(ctx, db, sampleMonth, path, cacheDir) }},
		{"referrers.csv", "referrers.csv.cached",
			func(path string) error { return WriteReferrerCSV(ctx, db, sampleMonth, path) },
			func(path string) error { return WriteReferrerCSVCached(ctx, db, sampleMonth, path, cacheDir) }},
	} {
		read := func(write func(string) error, name string) string {
			t.Helper()
			path := filepath.Join(dir, name)
			if err := write(path); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
		want := read(f.plain, "plain-"+f.name)
		if len(want) < 1000 {
			t.Fatalf("%s is %d bytes: the sample wrote almost nothing", f.name, len(want))
		}
		if got := read(f.withCache, "first-"+f.name); got != want {
			t.Errorf("%s written with a cache differs from the one written without", f.name)
		}
		if got := read(f.withCache, "second-"+f.name); got != want {
			t.Errorf("%s copied from the cache differs from the one written", f.name)
		}
		// Plant a copy under the same key: the next file must be it.
		entry := filepath.Join(cacheDir, f.cached)
		b, err := os.ReadFile(entry)
		if err != nil {
			t.Fatalf("no cache entry for %s: %v", f.name, err)
		}
		head, _, _ := strings.Cut(string(b), "\n")
		planted := strings.Replace(head, `"size":`+itoa(len(want)), `"size":7`, 1) + "\nplanted"
		if err := os.WriteFile(entry, []byte(planted), 0o600); err != nil {
			t.Fatal(err)
		}
		if got := read(f.withCache, "third-"+f.name); got != "planted" {
			t.Fatalf("%s: the planted cache entry was not used (got %d bytes): the cache is not read", f.name, len(got))
		}
		// Another build (a new Go or library version, the same source): written anew.
		if err := os.WriteFile(entry, []byte(planted), 0o600); err != nil {
			t.Fatal(err)
		}
		build := buildDigest
		buildDigest = func() string { return "another build" }
		got := read(f.withCache, "rebuilt-"+f.name)
		buildDigest = build
		if got != want {
			t.Errorf("a binary built otherwise copied %s from the cache (%d bytes) instead of writing it", f.name, len(got))
		}
		if err := os.WriteFile(entry, []byte(planted), 0o600); err != nil {
			t.Fatal(err)
		}
		if got := read(f.withCache, "third-again-"+f.name); got != "planted" {
			t.Fatalf("%s: the planted cache entry was not used again (got %d bytes)", f.name, len(got))
		}
		// A model changes: the copy is stale and the file is written from the database.
		if _, err := db.ExecContext(ctx, `UPDATE model_fingerprints SET content = content || '+' WHERE model = 'referrer_status'`); err != nil {
			t.Fatal(err)
		}
		if got := read(f.withCache, "fourth-"+f.name); got != want {
			t.Errorf("after a model changed, %s is not the file written from the database", f.name)
		}
	}
}
