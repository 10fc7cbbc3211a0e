package sample

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

var update = flag.Bool("update", false, "rewrite sample-data/ from the generator")

// The committed sample: go run ./cmd/referrals sample --out sample-data --scale 1 --seed 1
func committedOptions(out string) Options {
	return Options{Out: out, Scale: 1, Seed: 1, End: time.Date(2026, time.October, 1, 0, 0, 0, 0, time.UTC), Months: 40}
}

const committedDir = "../../sample-data"

var (
	scaleOneOnce sync.Once
	scaleOneDir  string
	scaleOneSum  Summary
	scaleOneErr  error
)

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if scaleOneDir != "" {
		os.RemoveAll(scaleOneDir)
	}
	os.Exit(code)
}

// scaleOne generates the committed sample's options once per test binary.
func scaleOne(t testing.TB) (string, Summary) {
	t.Helper()
	scaleOneOnce.Do(func() {
		scaleOneDir, scaleOneErr = os.MkdirTemp("", "sample-scale1-*")
		if scaleOneErr == nil {
			scaleOneSum, scaleOneErr = Generate(context.Background(), committedOptions(scaleOneDir))
		}
	})
	if scaleOneErr != nil {
		t.Fatalf("generate scale 1: %v", scaleOneErr)
	}
	return scaleOneDir, scaleOneSum
}

// readTree returns every file under dir by slash path.
func readTree(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b, err := os.ReadFile(p)
		files[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func exportFiles(files map[string][]byte) []string {
	var names []string
	for n := range files {
		if strings.HasPrefix(n, "exports/") {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}

// decode turns an export into UTF-8 text without a BOM, as ingestion would.
func decode(b []byte) string {
	b = bytes.TrimPrefix(b, []byte("\xEF\xBB\xBF"))
	if !utf8.Valid(b) {
		d, err := charmap.Windows1252.NewDecoder().Bytes(b)
		if err == nil {
			return string(d)
		}
	}
	return string(b)
}

func readCSV(t testing.TB, text string) [][]string {
	t.Helper()
	r := csv.NewReader(strings.NewReader(text))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("parse csv: %v", err)
	}
	return recs
}

func TestGenerateIsDeterministic(t *testing.T) {
	opts := func(seed int64) Options {
		return Options{Out: t.TempDir(), Scale: 0.3, Seed: seed, Months: 14, End: time.Date(2025, time.June, 1, 0, 0, 0, 0, time.UTC)}
	}
	a, b, c := opts(7), opts(7), opts(8)
	for _, o := range []Options{a, b, c} {
		if _, err := Generate(context.Background(), o); err != nil {
			t.Fatal(err)
		}
	}
	ta, tb, tc := readTree(t, a.Out), readTree(t, b.Out), readTree(t, c.Out)
	if len(ta) != len(tb) {
		t.Fatalf("runs wrote %d and %d files", len(ta), len(tb))
	}
	for name, x := range ta {
		if !bytes.Equal(x, tb[name]) {
			t.Errorf("%s differs between two runs with the same options", name)
		}
	}
	same := 0
	for _, name := range exportFiles(ta) {
		if bytes.Equal(ta[name], tc[name]) {
			same++
		}
	}
	if same > 0 {
		t.Errorf("%d export files are identical for seeds 7 and 8; the seed is not used", same)
	}
}

// TestCommittedSampleIsCurrent keeps sample-data/ what the generator makes;
// run with -update after changing the generator.
func TestCommittedSampleIsCurrent(t *testing.T) {
	dir, _ := scaleOne(t)
	got := readTree(t, dir)
	if *update {
		if err := os.MkdirAll(committedDir, 0o755); err != nil {
			t.Fatal(err)
		}
		old := readTree(t, committedDir)
		for name := range old {
			if name != "README.md" {
				os.Remove(filepath.Join(committedDir, filepath.FromSlash(name)))
			}
		}
		for name, b := range got {
			p := filepath.Join(committedDir, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	want := readTree(t, committedDir)
	delete(want, "README.md")
	total := 0
	for name, b := range want {
		total += len(b)
		if !bytes.Equal(b, got[name]) {
			t.Errorf("sample-data/%s is not what the generator writes now (go test ./internal/sample -run TestCommittedSampleIsCurrent -update)", name)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("sample-data/%s is missing (go test ./internal/sample -run TestCommittedSampleIsCurrent -update)", name)
		}
	}
	if total > 5<<20 {
		t.Errorf("sample-data is %d bytes; keep it under 5 MB", total)
	}
}

const (
	schedulingHeader = "Appointment ID,Patient Account,Clinician,Appointment Date,Start Time,Status,Service,Referral Source,Referred To,Referrer NPI"
	billingHeader    = "Claim Line ID,Patient Account,DOS,Rendering Provider,Rendering Provider NPI,Referring Provider,Referring Provider NPI,Payer,CPT Code,Charge,Paid"
)

func TestHeadersAndLayout(t *testing.T) {
	dir, sum := scaleOne(t)
	files := readTree(t, dir)
	wantHeaders := map[string]string{
		"roster.csv":               "name,aliases,npi,start_date,end_date,specialties,payers,accepting",
		"directory.csv":            "name,aliases,npi,category,organisation,point_person,channel",
		"aliases.csv":              "alias,referrer",
		"truth/planted-stages.csv": "referrer,month,stage",
		"truth/referrers.csv":      "referrer,category,npi,point_person,path",
		"truth/bad-rows.csv":       "file,line,column,problem",
	}
	var sched, bill []string
	for _, name := range exportFiles(files) {
		switch {
		case strings.HasPrefix(name, "exports/scheduling/appointments-"):
			sched = append(sched, name)
			wantHeaders[name] = schedulingHeader
		case strings.HasPrefix(name, "exports/billing/claims-"):
			bill = append(bill, name)
			wantHeaders[name] = billingHeader
		default:
			t.Errorf("unexpected export %s", name)
		}
	}
	for name, want := range wantHeaders {
		b, ok := files[name]
		if !ok {
			t.Errorf("%s is missing", name)
			continue
		}
		line, _, _ := strings.Cut(decode(b), "\n")
		if got := strings.TrimSuffix(line, "\r"); got != want {
			t.Errorf("%s header\n got %s\nwant %s", name, got, want)
		}
	}
	if len(sched) != 40 || sched[0] != "exports/scheduling/appointments-2023-07.csv" || sched[39] != "exports/scheduling/appointments-2026-10.csv" {
		t.Errorf("scheduling files: %d, %v … %v", len(sched), sched[0], sched[len(sched)-1])
	}
	if len(bill) != 14 || bill[0] != "exports/billing/claims-2023-Q3.csv" || bill[13] != "exports/billing/claims-2026-Q4.csv" {
		t.Errorf("billing files: %d, %v … %v", len(bill), bill[0], bill[len(bill)-1])
	}
	if sum.SchedulingFiles != len(sched) || sum.BillingFiles != len(bill) {
		t.Errorf("summary says %d+%d files, wrote %d+%d", sum.SchedulingFiles, sum.BillingFiles, len(sched), len(bill))
	}
	if sum.Clinicians < 18 || sum.Clinicians > 22 || sum.Referrers != 100 || sum.Clients < 1300 || sum.Clients > 2100 {
		t.Errorf("scale 1 is not the practice described: %+v", sum)
	}
}

func TestSummaryCountsWrittenRows(t *testing.T) {
	dir, sum := scaleOne(t)
	files := readTree(t, dir)
	var sched, bill int64
	for _, name := range exportFiles(files) {
		lines := int64(bytes.Count(files[name], []byte("\n"))) - 1 // the header
		if strings.Contains(name, "/scheduling/") {
			sched += lines
		} else {
			bill += lines
		}
	}
	if sched != sum.SchedulingRows || bill != sum.BillingRows {
		t.Errorf("summary counts %d scheduling and %d billing rows; files hold %d and %d", sum.SchedulingRows, sum.BillingRows, sched, bill)
	}
	referrals := readCSV(t, string(files["truth/referrals.csv"]))
	if int(len(referrals)-1) != sum.Clients {
		t.Errorf("summary counts %d clients; truth/referrals.csv lists %d", sum.Clients, len(referrals)-1)
	}
	roster := readCSV(t, string(files["roster.csv"]))
	if len(roster)-1 != sum.Clinicians {
		t.Errorf("summary counts %d clinicians; roster lists %d", sum.Clinicians, len(roster)-1)
	}
}

func TestWindows1252File(t *testing.T) {
	dir, _ := scaleOne(t)
	files := readTree(t, dir)
	var cp []string
	for _, name := range exportFiles(files) {
		if !utf8.Valid(files[name]) {
			cp = append(cp, name)
		}
	}
	const want = "exports/scheduling/appointments-2025-03.csv"
	if len(cp) != 1 || cp[0] != want {
		t.Fatalf("files that are not UTF-8: %v, want only %s", cp, want)
	}
	raw := files[want]
	if !bytes.Contains(raw, []byte("Jos\xe9 N\xfa\xf1ez")) {
		t.Errorf("%s does not hold José Núñez in cp1252 bytes", want)
	}
	text, err := charmap.Windows1252.NewDecoder().Bytes(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(text), ",José Núñez,") {
		t.Errorf("%s decoded from Windows-1252 has no Referral Source José Núñez", want)
	}
	// Nothing else in the file would be lost by the encoding: it round-trips.
	back, err := charmap.Windows1252.NewEncoder().Bytes(text)
	if err != nil || !bytes.Equal(back, raw) {
		t.Errorf("%s does not round-trip through Windows-1252: %v", want, err)
	}
	for _, name := range exportFiles(files) {
		if name != want && bytes.Contains(files[name], []byte("José Núñez")) {
			return // the same referrer in UTF-8 elsewhere, as the re-export
		}
	}
	t.Errorf("José Núñez appears in no UTF-8 file")
}

func TestBOMAndCRLFFile(t *testing.T) {
	dir, _ := scaleOne(t)
	files := readTree(t, dir)
	const want = "exports/billing/claims-2024-Q2.csv"
	for _, name := range exportFiles(files) {
		b := files[name]
		bom := bytes.HasPrefix(b, []byte("\xEF\xBB\xBF"))
		crlf := bytes.Count(b, []byte("\r\n"))
		lf := bytes.Count(b, []byte("\n"))
		switch {
		case name == want && (!bom || crlf != lf || lf < 100):
			t.Errorf("%s: BOM %v, %d CRLF of %d line ends", name, bom, crlf, lf)
		case name != want && (bom || bytes.Contains(b, []byte("\r"))):
			t.Errorf("%s: unexpected BOM or CR", name)
		}
	}
}

// TestRowsAreWellFormedExceptPlanted parses every export row: the planted
// bad rows are exactly the ones truth/bad-rows.csv lists, at those lines.
func TestRowsAreWellFormedExceptPlanted(t *testing.T) {
	dir, _ := scaleOne(t)
	files := readTree(t, dir)
	planted := map[string]badRow{}
	for _, r := range readCSV(t, string(files["truth/bad-rows.csv"]))[1:] {
		planted[r[0]+":"+r[1]] = badRow{File: r[0], Column: r[2], Problem: r[3]}
	}
	if len(planted) != 3 {
		t.Fatalf("%d planted bad rows, want 3", len(planted))
	}
	found := map[string]bool{}
	ids := map[string]map[string]bool{}
	for _, name := range exportFiles(files) {
		recs := readCSV(t, decode(files[name]))
		header := recs[0]
		col := func(n string) int { return slices.Index(header, n) }
		dateCol, chargeCol, paidCol := col("Appointment Date"), col("Charge"), col("Paid")
		if dateCol < 0 {
			dateCol = col("DOS")
		}
		idCol := 0
		seen := map[string]bool{}
		for i, rec := range recs[1:] {
			line := i + 2
			key := fmt.Sprintf("%s:%d", name, line)
			var problems []string
			if len(rec) != len(header) {
				problems = append(problems, "fields")
			} else {
				if _, err := time.Parse("01/02/2006", rec[dateCol]); err != nil {
					problems = append(problems, header[dateCol])
				}
				if chargeCol >= 0 {
					for _, c := range []int{chargeCol, paidCol} {
						if _, err := strconv.ParseFloat(rec[c], 64); err != nil || !strings.Contains(rec[c], ".") {
							problems = append(problems, header[c])
						}
					}
				}
				if seen[rec[idCol]] {
					problems = append(problems, "duplicate id")
				}
				seen[rec[idCol]] = true
			}
			p, isPlanted := planted[key]
			switch {
			case len(problems) == 0 && isPlanted:
				t.Errorf("%s is listed as bad (%s) but parses", key, p.Problem)
			case len(problems) > 0 && !isPlanted:
				t.Errorf("%s has unplanned problems %v: %v", key, problems, rec)
			case isPlanted:
				found[key] = true
				wantProblem := p.Column
				if wantProblem == "" {
					wantProblem = "fields"
				}
				if len(problems) != 1 || problems[0] != wantProblem {
					t.Errorf("%s: problems %v, truth says %q", key, problems, p.Column)
				}
				if wantProblem == "fields" && len(rec) != len(header)+1 {
					t.Errorf("%s has %d fields, want %d", key, len(rec), len(header)+1)
				}
			}
		}
		ids[name] = seen
	}
	if len(found) != len(planted) {
		t.Errorf("found %d of %d planted rows", len(found), len(planted))
	}
	for key, p := range planted {
		switch p.Column {
		case "Appointment Date":
			if !strings.Contains(p.Problem, "02/30/2025") || p.File != "exports/scheduling/appointments-2025-02.csv" {
				t.Errorf("impossible date planted as %s %q", key, p.Problem)
			}
		case "Charge":
			if !strings.HasPrefix(p.File, "exports/billing/") || !strings.Contains(p.Problem, "n/a") {
				t.Errorf("n/a charge planted as %s %q", key, p.Problem)
			}
		}
	}
	// Re-exports: each month's file repeats the previous month's appointments
	// under the same ids.
	jan, feb := ids["exports/scheduling/appointments-2024-01.csv"], ids["exports/scheduling/appointments-2024-02.csv"]
	shared := 0
	for id := range jan {
		if feb[id] {
			shared++
		}
	}
	if shared < len(jan)/3 {
		t.Errorf("only %d of January 2024's %d appointment ids are re-exported in February", shared, len(jan))
	}
}

func TestSingleFileLayout(t *testing.T) {
	o := Options{Out: t.TempDir(), Scale: 0.5, Seed: 3, SingleFile: true}
	sum, err := Generate(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	files := readTree(t, o.Out)
	names := exportFiles(files)
	if !slices.Equal(names, []string{"exports/billing/claims.csv", "exports/scheduling/appointments.csv"}) {
		t.Fatalf("single-file layout wrote %v", names)
	}
	recs := readCSV(t, string(files["exports/scheduling/appointments.csv"]))
	ids := map[string]bool{}
	for _, r := range recs[1:] {
		if ids[r[0]] {
			t.Fatalf("appointment %s appears twice in the single file", r[0])
		}
		ids[r[0]] = true
	}
	if int64(len(recs)-1) != sum.SchedulingRows || sum.SchedulingFiles != 1 || sum.BillingFiles != 1 {
		t.Errorf("summary %+v, file has %d rows", sum, len(recs)-1)
	}
	if bad := readCSV(t, string(files["truth/bad-rows.csv"])); len(bad) != 1 {
		t.Errorf("single-file layout planted %d bad rows", len(bad)-1)
	}
}

// Jane Smith is on the schedule as "Jane Smith, LCSW" (sample-data/README.md) at every
// scale, not only where she is the third clinician. Eight seeds: a name style picked at
// random would match on all of them once in 65,536.
func TestJaneSmithScheduledAsDocumented(t *testing.T) {
	for seed := range int64(8) {
		o := Options{Out: t.TempDir(), Scale: 0.5, Seed: seed + 1, Months: 6, SingleFile: true}
		if _, err := Generate(context.Background(), o); err != nil {
			t.Fatal(err)
		}
		recs := readCSV(t, string(readTree(t, o.Out)["exports/scheduling/appointments.csv"]))
		col := slices.Index(recs[0], "Clinician")
		names := map[string]bool{}
		for _, r := range recs[1:] {
			if strings.Contains(r[col], "Jane") && strings.Contains(r[col], "Smith") {
				names[r[col]] = true
			}
		}
		if len(names) != 1 || !names["Jane Smith, LCSW"] {
			t.Errorf("seed %d, scale 0.5: Jane Smith is on the schedule as %v, want only \"Jane Smith, LCSW\"", o.Seed, names)
		}
	}
}

func TestScaleForRows(t *testing.T) {
	for _, target := range []int64{30_000, 150_000} {
		o := Options{Out: t.TempDir(), Scale: ScaleForRows(target), Seed: 11}
		sum, err := Generate(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		got := sum.SchedulingRows + sum.BillingRows
		if d := float64(got)/float64(target) - 1; d < -0.15 || d > 0.15 {
			t.Errorf("ScaleForRows(%d) = %.2f gave %d rows (%+.0f%%)", target, o.Scale, got, 100*d)
		}
		o.Out, o.SingleFile = t.TempDir(), true
		single, err := Generate(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		if r := float64(single.SchedulingRows+single.BillingRows) / float64(got); r < 0.55 || r > 0.8 {
			t.Errorf("the single-file layout writes %.2f times the rows of the monthly one; the doc says about two-thirds", r)
		}
	}
}

func TestCancellation(t *testing.T) {
	t.Run("before start", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		out := t.TempDir()
		if _, err := Generate(ctx, Options{Out: out, Scale: 1}); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		for name := range readTree(t, out) {
			if strings.HasPrefix(name, "exports/") {
				t.Errorf("wrote %s after cancellation", name)
			}
		}
	})
	t.Run("midway", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		out := t.TempDir()
		calls := 0
		o := Options{Out: out, Scale: 20, Progress: func(rows int64) {
			calls++
			if rows > 50_000 {
				cancel()
			}
		}}
		start := time.Now()
		sum, err := Generate(ctx, o)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if el := time.Since(start); el > 20*time.Second {
			t.Errorf("took %v to stop", el)
		}
		if calls == 0 || sum.SchedulingRows+sum.BillingRows > 200_000 {
			t.Errorf("progress called %d times; %d rows counted before stopping", calls, sum.SchedulingRows+sum.BillingRows)
		}
		for name := range readTree(t, out) {
			if strings.HasSuffix(name, ".tmp") {
				t.Errorf("left temporary file %s", name)
			}
			if strings.HasPrefix(name, "truth/") {
				t.Errorf("wrote %s for a cancelled run", name)
			}
		}
	})
}

func TestOptionsDefaults(t *testing.T) {
	if _, err := Generate(context.Background(), Options{}); err == nil {
		t.Error("no output folder accepted")
	}
	if s := ScaleForRows(10_000_000); s < 300 || s > 800 {
		t.Errorf("ScaleForRows(10M) = %v", s)
	}
}
