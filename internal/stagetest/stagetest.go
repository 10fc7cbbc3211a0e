// Package stagetest is the tests' small practice: the loaded tables (raw_*,
// ref_*) of one made-up group practice with one referrer per behaviour the marts
// must get right, and helpers to build the models on it in a real DuckDB file
// and read the results. Every expected value in the tests is worked out by hand
// from these rows; the comments beside each referrer give the arithmetic.
//
// It also runs the whole pipeline on a folder laid out like sample-data/
// (SampleConfig, RunSample), for the tests that use generated exports.
package stagetest

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"math/big"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/referrals/referrals/internal/clientkey"
	"github.com/referrals/referrals/internal/config"
	"github.com/referrals/referrals/pipeline"
)

// ReportMonth is the month the tests report on.
var ReportMonth = time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)

// DefaultVars are DOMAIN.md's defaults.
func DefaultVars(month time.Time) pipeline.Vars {
	return pipeline.Vars{
		"report_month":          month,
		"window_months":         12,
		"stage3_practice_share": 0.5,
		"stage3_min_referrals":  4,
		"stage3_min_effective":  3.0,
		"stage3_max_pp_share":   0.5,
		"stage1_pp_share":       0.8,
		"low_evidence_below":    3,
		"ready_min_referrals":   3,
		"recent_days":           90,
		"stalled_months":        6,
		"lapsed_months":         6,
		"lapsed_min_referrals":  3,
		"cooling_ratio":         0.5,
		"near_duplicate_cutoff": 0.92,
	}
}

type appt struct {
	id, client, clinician, date, time, status, source, referredTo, npi string
	hasReferredTo                                                      bool
}

type claim struct {
	line, client, date, renderer, referring, referringNPI, payer string
	charge, paid                                                 float64
}

// Practice accumulates the loaded tables' rows.
type Practice struct {
	appts  []appt
	claims []claim
	n      int
}

// referral adds a client whose one appointment (attended) came from source.
func (p *Practice) referral(source, date, clinician string) string {
	p.n++
	client := fmt.Sprintf("client-%03d", p.n)
	p.appts = append(p.appts, appt{id: fmt.Sprintf("a-%03d", p.n), client: client, clinician: clinician,
		date: date, status: "Attended", source: source})
	return client
}

func (p *Practice) appt(a appt) {
	p.n++
	if a.id == "" {
		a.id = fmt.Sprintf("a-%03d", p.n)
	}
	p.appts = append(p.appts, a)
}

// Appointment adds one appointment as exported; time and source may be blank.
func (p *Practice) Appointment(id, client, clinician, date, time, status, source string) {
	p.appt(appt{id: id, client: client, clinician: clinician, date: date, time: time, status: status, source: source})
}

func (p *Practice) claim(c claim) {
	p.n++
	if c.line == "" {
		c.line = fmt.Sprintf("l-%03d", p.n)
	}
	p.claims = append(p.claims, c)
}

// The roster.
const (
	Ann = "Ann Alder"
	Ben = "Ben Birch"
	Cal = "Cal Cedar"
	Dee = "Dee Dogwood"
	Eve = "Eve Elm" // left the practice on 2025-06-15
	Fay = "Fay Fir"
)

// SamplePractice is the practice every test builds on.
func SamplePractice() *Practice {
	p := &Practice{}

	// N = 1: stage 1 on one referral, low evidence.
	p.referral("Dr Solo One", "2025-11-03", Ann)

	// N = 2 to one clinician: COC (4-2)/(2*1) = 1, effective 1, stage 1, low evidence.
	p.referral("Dr Two Same", "2025-05-05", Ann)
	p.referral("Dr Two Same", "2025-05-06", Ann)

	// N = 2 to two clinicians: COC 0, effective blank, pp share 1/2: stage 2. The
	// second client never came (no-show only): assigned to its first appointment's
	// clinician, intake not attended.
	p.referral("Dr Two Diff", "2025-05-05", Ann)
	p.appt(appt{client: "client-twodiff-b", clinician: Ben, date: "2025-05-06", status: "No Show", source: "Dr Two Diff"})

	// All four to one clinician: COC 1, stage 1, not low evidence. Point person Ben.
	for _, d := range []string{"2025-03-03", "2025-03-04", "2025-03-05", "2025-03-06"} {
		p.referral("Dr Four Same", d, Ben)
	}

	// n = 1 (Ann, first: point person), 3 (Ben), 1 (Cal): N = 5, sum n^2 = 11,
	// COC = (11-5)/(5*4) = 0.3, effective 20/6 = 3.33; pp share 1/5 < 0.5 and no
	// referred-to field: stage 3. The Cal client also had a 2 PM appointment with
	// Ben the same day: 9:30 AM comes first, so Cal is assigned.
	p.referral("Dr Mixed", "2025-01-15", Ann)
	p.referral("Dr Mixed", "2025-02-15", Ben)
	p.referral("Dr Mixed", "2025-03-15", Ben)
	p.referral("Dr Mixed", "2025-04-15", Ben)
	p.appt(appt{client: "client-mixed-c", clinician: Ben, date: "2025-05-15", time: "2:00 PM", status: "Attended", source: "Dr Mixed"})
	p.appt(appt{client: "client-mixed-c", clinician: Cal, date: "2025-05-15", time: "9:30 AM", status: "Attended", source: "Dr Mixed"})

	// Referred-to field present. Requests: Ann; any; blank; the practice; a name
	// that is no clinician; Ben (but Ben's appointment was a no-show and Ann saw the
	// client). Practice share 4/6 >= 0.5: stage 3. To the point person (Ann): the
	// request for Ann, the practice request assigned to Ann: 2/6. Assigned Ann 3,
	// Ben 1, Cal 1, Dee 1: COC (12-6)/30 = 0.2, effective 5.
	pr := func(date, to, clinician string) {
		p.appt(appt{clinician: clinician, client: "client-practice-" + date, date: date, status: "Attended",
			source: "Dr Practice", referredTo: to, hasReferredTo: true})
	}
	pr("2025-04-07", "Alder, Ann", Ann)
	pr("2025-04-08", "any", Ben)
	pr("2025-04-09", "", Cal)
	pr("2025-04-10", "The Practice", Ann)
	pr("2025-04-11", "Zed Nobody", Dee)
	p.appt(appt{client: "client-practice-req-ben", clinician: Ben, date: "2025-04-12", status: "No Show",
		source: "Dr Practice", referredTo: "Ben Birch", hasReferredTo: true})
	p.appt(appt{client: "client-practice-req-ben", clinician: Ann, date: "2025-04-19", status: "Attended",
		source: "Dr Practice", referredTo: "Ben Birch", hasReferredTo: true})

	// Point person leaves: Eve took the first referral and left on 2025-06-15; she
	// stays the point person until Fay takes the first referral after that, in
	// 2025-08 (queries' TestPointPersonHandOver has the harder cases).
	p.referral("Dr Leaver", "2024-03-05", Eve)
	p.referral("Dr Leaver", "2024-05-05", Fay)
	p.referral("Dr Leaver", "2025-02-05", Eve)
	p.referral("Dr Leaver", "2025-08-05", Fay)

	// The directory names Dee as point person ("Dogwood, Dee"), though Ann took the
	// first referral: pp share 2/3, stage 2.
	p.referral("Dr Directory Dee", "2025-04-01", Ann)
	p.referral("DIRECTORY DEE, MD", "2025-04-02", Dee)
	p.referral("Dr Directory Dee", "2025-04-03", Dee)

	// A journey: 1 (2024-01), 2 (2024-06), 3 (2024-09), down to 2 (2025-06), down
	// to 1 (2025-09); ready at the report month (stage 1, N = 5, one in November).
	for _, d := range []string{"2024-01-10", "2024-01-20", "2024-01-25"} {
		p.referral("Dr Journey", d, Ann)
	}
	p.referral("Dr Journey", "2024-06-10", Ben)
	p.referral("Dr Journey", "2024-06-12", Ben)
	p.referral("Dr Journey", "2024-09-05", Cal)
	p.referral("Dr Journey", "2024-09-05", Dee)
	p.referral("Dr Journey", "2024-09-05", Fay)
	// The five clients in the window carry Aetna, Aetna, BCBS, BCBS, Cigna.
	for i, payer := range []string{"Aetna", "Aetna", "BCBS", "BCBS", "Cigna"} {
		date := "2025-08-15"
		if i == 4 {
			date = "2025-11-20"
		}
		c := p.referral("Dr Journey", date, Ann)
		paid := 80.0
		if payer == "Cigna" {
			paid = 50
		}
		p.claim(claim{client: c, date: date, renderer: Ann, payer: payer, charge: 100, paid: paid})
	}

	// Stage 2 since 2025-02 (11 months): stalled. In November N = 4, effective 6,
	// pp share exactly 0.5: not below 0.5, so still stage 2.
	p.referral("Dr Stall", "2025-02-10", Ann)
	p.referral("Dr Stall", "2025-02-11", Ann)
	p.referral("Dr Stall", "2025-02-12", Ben)
	p.referral("Dr Stall", "2025-11-05", Cal)

	// Six referrals Feb..Jul, none in the last 90 days: cooling (not lapsed: the
	// last one, 2025-07-10, is inside the last six months).
	for _, d := range []string{"2025-02-10", "2025-03-10", "2025-04-10", "2025-05-10", "2025-06-10", "2025-07-10"} {
		p.referral("Dr Cool", d, Ann)
	}

	// Stage 3 from 2024-12 (four to four clinicians); in 2025-12 the window has only
	// the October three (Ann 2, Ben 1): stage 2, a fall this month.
	p.referral("Dr Fall", "2024-12-05", Ann)
	p.referral("Dr Fall", "2024-12-05", Ben)
	p.referral("Dr Fall", "2024-12-05", Cal)
	p.referral("Dr Fall", "2024-12-05", Dee)
	p.referral("Dr Fall", "2025-10-15", Ann)
	p.referral("Dr Fall", "2025-10-15", Ann)
	p.referral("Dr Fall", "2025-10-15", Ben)

	// Three referrals in 2023: inactive now, lapsed.
	for _, d := range []string{"2023-05-10", "2023-05-11", "2023-05-12"} {
		p.referral("Dr Old Three", d, Ann)
	}
	// Two in 2023: inactive, too few to be lapsed.
	p.referral("Dr Old Two", "2023-06-01", Ann)
	p.referral("Dr Old Two", "2023-06-02", Ann)

	// A billing-only client (two claim lines), and a scheduled client with no source
	// on the schedule whose claim names the same referring provider by NPI, in capitals
	// as billing exports often do: the mixed-case spelling names the referrer.
	p.claim(claim{client: "client-billing-only", date: "2025-04-10", renderer: Fay, referring: "Dr. Paula Payne",
		referringNPI: "1234567893", payer: "AETNA", charge: 150, paid: 90})
	p.claim(claim{client: "client-billing-only", date: "2025-04-17", renderer: Fay, referring: "Dr. Paula Payne",
		referringNPI: "1234567893", payer: "AETNA", charge: 150, paid: 90})
	p.appt(appt{client: "client-claim-source", clinician: Fay, date: "2025-06-02", status: "Attended"})
	p.claim(claim{client: "client-claim-source", date: "2025-06-02", renderer: Fay, referring: "PAULA PAYNE MD",
		referringNPI: "123-456-7893", payer: "Aetna", charge: 120, paid: 100})

	// No source anywhere.
	p.appt(appt{client: "client-unknown", clinician: Ann, date: "2025-06-01", status: "Attended"})

	// A channel: counted in volume, never staged.
	p.referral("psychology today", "2025-07-01", Dee)
	p.referral("Psychology Today", "2025-07-02", Dee)
	return p
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Key is the key the loader would store for a client of the practice, as
// decimal text (compare with client_key::VARCHAR, or pass as ?::UBIGINT).
func Key(client string) string {
	return clientkey.Key([]byte("stagetest secret"), client)
}

// Load creates the pipeline's loaded tables and fills them with p and the roster,
// directory, alias and channel files.
func Load(t testing.TB, db *sql.DB, p *Practice) {
	t.Helper()
	ctx := context.Background()
	if err := pipeline.EnsureSchema(ctx, db); err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s %v: %v", q, args, err)
		}
	}
	for _, a := range p.appts {
		referredTo := nullable(a.referredTo)
		if a.hasReferredTo && a.referredTo == "" {
			referredTo = ""
		}
		exec(`INSERT INTO raw_appointments VALUES (?, ?::UBIGINT, ?, ?::DATE, ?, ?, 'Psychotherapy', ?, ?, ?, ?, 1)`,
			a.id, Key(a.client), a.clinician, a.date, nullable(a.time), a.status, nullable(a.source), referredTo,
			a.hasReferredTo, nullable(a.npi))
	}
	for _, c := range p.claims {
		exec(`INSERT INTO raw_claim_lines VALUES (?, ?::UBIGINT, ?::DATE, ?, NULL, ?, ?, ?, '90837', ?::DECIMAL(12,2), ?::DECIMAL(12,2), 2)`,
			c.line, Key(c.client), c.date, c.renderer, nullable(c.referring), nullable(c.referringNPI), nullable(c.payer),
			c.charge, c.paid)
	}
	exec(`INSERT INTO ref_roster VALUES
		('Ann Alder', 'Dr. Ann Alder; A. Alder', '1111111111', DATE '2015-01-01', NULL, 'Child & Adolescent; Anxiety', 'Aetna; BCBS', NULL),
		('Ben Birch', NULL, '2222222222', DATE '2018-01-01', NULL, 'child & adolescent', 'Aetna', true),
		('Cal Cedar', NULL, '3333333333', DATE '2018-01-01', NULL, 'Couples', 'Cigna', false),
		('Dee Dogwood', NULL, '4444444444', DATE '2019-01-01', NULL, 'Trauma', 'BCBS', NULL),
		('Eve Elm', NULL, '5555555555', DATE '2019-01-01', DATE '2025-06-15', 'Child & Adolescent', 'Aetna', true),
		('Fay Fir', NULL, '6666666666', DATE '2020-01-01', NULL, NULL, NULL, NULL)`)
	exec(`INSERT INTO ref_directory VALUES
		('Dr Directory Dee', NULL, NULL, 'physician', 'Dee Clinic', 'Dogwood, Dee', false)`)
	exec(`INSERT INTO ref_channels VALUES ('Psychology Today'), ('Google'), ('Self')`)
}

// Build opens a DuckDB file in a temporary folder, loads p and runs the models and
// the checks.
func Build(t testing.TB, p *Practice, vars pipeline.Vars) *sql.DB {
	t.Helper()
	return BuildAfter(t, p, vars)
}

// BuildAfter is Build with statements run between the load and the models: what
// a Practice does not say (a NULL where it writes text, a reference row edited).
func BuildAfter(t testing.TB, p *Practice, vars pipeline.Vars, stmts ...string) *sql.DB {
	t.Helper()
	ctx := context.Background()
	db, err := pipeline.Open(ctx, filepath.Join(t.TempDir(), "referrals.duckdb"), pipeline.Settings{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	Load(t, db, p)
	for _, q := range stmts {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if _, err := pipeline.BuildModels(ctx, db, vars, nil); err != nil {
		t.Fatal(err)
	}
	if err := pipeline.RunChecks(ctx, db); err != nil {
		t.Fatal(err)
	}
	return db
}

// SampleConfig is the configuration for a folder laid out like sample-data/ (or the
// output of "referrals sample"): the exports under exports/scheduling and
// exports/billing, the roster, directory and aliases beside them.
func SampleConfig(data string) config.Config {
	cfg := config.Default()
	cfg.Dir = data
	cfg.Scheduling.Files = []string{"exports/scheduling/*.csv"}
	cfg.Billing.Files = []string{"exports/billing/*.csv"}
	cfg.Reference = config.Reference{Roster: filepath.Join(data, "roster.csv"),
		Directory: filepath.Join(data, "directory.csv"), Aliases: filepath.Join(data, "aliases.csv")}
	return cfg
}

// RunSample runs the nightly job's steps on such a folder into a new DuckDB file in a
// temporary folder: the reference files, ingestion keyed with secret, the models for
// the month that starts at month, and the checks.
func RunSample(t testing.TB, data string, month time.Time, secret string) *sql.DB {
	t.Helper()
	ctx := context.Background()
	cfg := SampleConfig(data)
	db, err := pipeline.Open(ctx, filepath.Join(t.TempDir(), "referrals.duckdb"), pipeline.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := pipeline.LoadReference(ctx, db, pipeline.ReferenceFiles{Roster: cfg.Reference.Roster,
		Directory: cfg.Reference.Directory, Aliases: cfg.Reference.Aliases, DayFirst: cfg.DayFirst()}); err != nil {
		t.Fatal(err)
	}
	if _, err := (&pipeline.Ingester{DB: db, Config: cfg, Secret: []byte(secret)}).Ingest(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := pipeline.BuildModels(ctx, db, pipeline.ModelVars(cfg, month), nil); err != nil {
		t.Fatal(err)
	}
	if err := pipeline.RunChecks(ctx, db); err != nil {
		t.Fatal(err)
	}
	return db
}

// Rows runs q and returns its rows as maps, values converted to plain Go types
// (dates as "2006-01-02", decimals and floats as float64).
func Rows(t testing.TB, db *sql.DB, q string, args ...any) []map[string]any {
	t.Helper()
	rs, err := db.Query(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rs.Close()
	cols, _ := rs.Columns()
	var out []map[string]any
	for rs.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		m := map[string]any{}
		for i, c := range cols {
			m[c] = plain(vals[i])
		}
		out = append(out, m)
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// One is Rows for a query that must return exactly one row.
func One(t testing.TB, db *sql.DB, q string, args ...any) map[string]any {
	t.Helper()
	rs := Rows(t, db, q, args...)
	if len(rs) != 1 {
		t.Fatalf("%s %v: %d rows, want 1", q, args, len(rs))
	}
	return rs[0]
}

func plain(v any) any {
	switch x := v.(type) {
	case *big.Int:
		if x.IsInt64() {
			return x.Int64() // a HUGEINT sum or count
		}
		return x.String() // a 128-bit number: as text, never rounded to a float
	case uint64:
		return strconv.FormatUint(x, 10) // a client key (UBIGINT): as text, like Key gives it
	case time.Time:
		return x.Format("2006-01-02")
	case int8, int16, int32, int64, int, uint8, uint16, uint32:
		return reflect.ValueOf(x).Convert(reflect.TypeOf(int64(0))).Interface()
	case float32:
		return float64(x)
	case interface{ Float64() float64 }:
		return x.Float64()
	case fmt.Stringer:
		if f, err := parseFloat(x.String()); err == nil {
			return f
		}
		return x.String()
	}
	return v
}

func parseFloat(s string) (float64, error) {
	var f float64
	_, err := fmt.Sscan(s, &f)
	return f, err
}

// Expect compares got[k] with want[k] for every key of want; float64 within 1e-9.
func Expect(t testing.TB, what string, got, want map[string]any) {
	t.Helper()
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("%s: no column %s", what, k)
			continue
		}
		if !same(g, w) {
			t.Errorf("%s: %s = %v (%T), want %v (%T)", what, k, g, g, w, w)
		}
	}
}

func same(g, w any) bool {
	if w == nil || g == nil {
		return w == nil && g == nil
	}
	wf, wok := toFloat(w)
	gf, gok := toFloat(g)
	if wok && gok {
		return math.Abs(wf-gf) < 1e-9
	}
	return reflect.DeepEqual(g, w)
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// JoinRows renders the cols of rs as lines "a | b | c", for whole-table comparisons.
func JoinRows(rs []map[string]any, cols ...string) string {
	var lines []string
	for _, r := range rs {
		var parts []string
		for _, c := range cols {
			parts = append(parts, fmt.Sprint(r[c]))
		}
		lines = append(lines, strings.Join(parts, " | "))
	}
	return strings.Join(lines, "\n")
}
