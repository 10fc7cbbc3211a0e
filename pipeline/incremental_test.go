package pipeline_test

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/referrals/referrals/internal/config"
	"github.com/referrals/referrals/internal/stagetest"
	"github.com/referrals/referrals/pipeline"
	"github.com/referrals/referrals/queries"
)

// TestIncrementalModelsEqualFullBuild loads the sample exports over three
// nights, the per-client tables kept incrementally, and compares every
// per-client, staging and mart table with one full build of the same files.
// The later nights bring re-exports that replace rows of earlier files, so
// the clients of replaced rows must be recomputed too.
func TestIncrementalModelsEqualFullBuild(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var files []string
	for _, src := range []string{"scheduling", "billing"} {
		fs, err := filepath.Glob(filepath.Join("..", "sample-data", "exports", src, "*.csv"))
		if err != nil || len(fs) == 0 {
			t.Fatalf("sample exports: %v", err)
		}
		files = append(files, fs...)
	}
	sort.Slice(files, func(i, j int) bool { return filepath.Base(files[i]) < filepath.Base(files[j]) })
	// Last, a correction: the earliest appointment re-exported under another
	// client. Its old client is recomputed only if replaced rows are tracked.
	first, err := os.ReadFile(files[0])
	mustOK(t, err)
	lines := strings.SplitN(string(first), "\n", 3)
	fields := strings.Split(lines[1], ",")
	fields[1] = "CORRECTED-CLIENT"
	correction := filepath.Join(dir, "zz-correction", "exports", "scheduling", "zz-correction.csv")
	mustOK(t, os.MkdirAll(filepath.Dir(correction), 0o700))
	mustOK(t, os.WriteFile(correction, []byte(lines[0]+"\n"+strings.Join(fields, ",")+"\n"), 0o600))
	files = append(files, correction)
	// Then a night of one new appointment for a known client and nothing else: the
	// per-client tables that read only claim lines have nothing to recompute.
	fields = strings.Split(lines[1], ",")
	fields[0] = "NEXT-DAY-1"
	nextDay := filepath.Join(dir, "zz-next-day", "exports", "scheduling", "zz-next-day.csv")
	mustOK(t, os.MkdirAll(filepath.Dir(nextDay), 0o700))
	mustOK(t, os.WriteFile(nextDay, []byte(lines[0]+"\n"+strings.Join(fields, ",")+"\n"), 0o600))
	files = append(files, nextDay)
	// Then a night of rows that merge into the per-client tables without their history:
	// an appointment earlier than a client's first (it becomes the first, attended, with
	// a source), a new client, claim lines of known clients (client_claims cannot merge:
	// it is recomputed beside the others), and an appointment at the very time of a
	// client's first, with a lower id: the full build takes it as the first, which the
	// kept row cannot tell, so that client must be recomputed from its history.
	roots := map[string]string{correction: filepath.Join(dir, "zz-correction"), nextDay: filepath.Join(dir, "zz-next-day")}
	for _, f := range []struct{ path, text string }{
		{filepath.Join(dir, "zz-merge", "exports", "scheduling", "zz-merge.csv"), lines[0] + "\n" +
			`A00003,100004,"Liam Tanaka, LCSW",07/03/2023,8:30 AM,Attended,Intake,Dr Tie Source,,` + "\n" +
			`ZZ-EARLY,100002,"Tanaka, Liam",06/30/2023,10:00 AM,Attended,Intake,Early Source,,1234567893` + "\n" +
			`ZZ-NEW-1,NEW-CLIENT-9,"Fischer, Catherine",10/01/2026,9:00 AM,Scheduled,Intake,New Source,,` + "\n"},
		{filepath.Join(dir, "zz-merge", "exports", "billing", "zz-merge.csv"),
			"Claim Line ID,Patient Account,DOS,Rendering Provider,Rendering Provider NPI,Referring Provider,Referring Provider NPI,Payer,CPT Code,Charge,Paid\n" +
				`ZZ-C-1,100004,10/02/2026,"Tanaka, Liam",,Dr Claim Source,,Aetna New,90837,150.00,80.00` + "\n" +
				`ZZ-C-2,100002,06/29/2023,"FISCHER, CATHERINE",1433656539,,,United,90791,200.00,98.60` + "\n"},
	} {
		mustOK(t, os.MkdirAll(filepath.Dir(f.path), 0o700))
		mustOK(t, os.WriteFile(f.path, []byte(f.text), 0o600))
		files = append(files, f.path)
		roots[f.path] = filepath.Join(dir, "zz-merge")
	}
	// Every file gets its own modification time, in name order, in both
	// installations: both load the same versions last.
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	place := func(root string, i int) {
		from, ok := roots[files[i]]
		if !ok {
			from = filepath.Join("..", "sample-data")
		}
		rel, _ := filepath.Rel(from, files[i])
		dst := filepath.Join(root, rel)
		b, err := os.ReadFile(files[i])
		mustOK(t, err)
		mustOK(t, os.MkdirAll(filepath.Dir(dst), 0o700))
		mustOK(t, os.WriteFile(dst, b, 0o600))
		stamp := base.Add(time.Duration(i) * time.Second)
		mustOK(t, os.Chtimes(dst, stamp, stamp))
	}
	month := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	open := func(root string) (*sql.DB, config.Config) {
		cfg := config.Default()
		cfg.Dir = root
		cfg.Scheduling.Files = []string{"exports/scheduling/*.csv"}
		cfg.Billing.Files = []string{"exports/billing/*.csv"}
		ref := filepath.Join("..", "sample-data")
		db, err := pipeline.Open(ctx, filepath.Join(root, "referrals.duckdb"), pipeline.Settings{})
		mustOK(t, err)
		mustOK(t, pipeline.LoadReference(ctx, db, pipeline.ReferenceFiles{Roster: filepath.Join(ref, "roster.csv"),
			Directory: filepath.Join(ref, "directory.csv"), Aliases: filepath.Join(ref, "aliases.csv")}))
		return db, cfg
	}
	run := func(db *sql.DB, cfg config.Config, log *slog.Logger) {
		in := &pipeline.Ingester{DB: db, Config: cfg, Secret: []byte("incremental-secret-0123456789")}
		_, err := in.Ingest(ctx)
		mustOK(t, err)
		_, err = pipeline.BuildModels(ctx, db, pipeline.ModelVars(cfg, month), log)
		mustOK(t, err)
		mustOK(t, pipeline.RunChecks(ctx, db))
	}

	// Five nights: 60% of the files, then 30%, then the rest but the last three, then
	// the next day's, then the merging night.
	inc := filepath.Join(dir, "incremental")
	incDB, incCfg := open(inc)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cuts := []int{len(files) * 6 / 10, len(files) * 9 / 10, len(files) - 3, len(files) - 2, len(files)}
	var nights []string
	from, incremental := 0, 0
	for _, to := range cuts {
		for i := from; i < to; i++ {
			place(inc, i)
		}
		from = to
		logs.Reset()
		run(incDB, incCfg, log)
		nights = append(nights, logs.String())
		incremental += strings.Count(logs.String(), "mode=incremental")
	}
	if incremental < 3*4 {
		t.Fatalf("the later nights did not update the per-client tables incrementally (%d incremental model builds logged)", incremental)
	}
	night := nights[3]
	if incremental += strings.Count(night, "mode=incremental"); incremental < 3*4 {
		t.Fatalf("the later nights did not update the per-client tables incrementally (%d incremental model builds logged)", incremental)
	}
	for _, m := range []string{"client_claims", "client_payers"} {
		if !strings.Contains(night, `msg="model unchanged, kept" model=`+m) {
			t.Errorf("a night of one new appointment recomputed %s, which reads only claim lines", m)
		}
	}
	for _, m := range []string{"client_appointments", "client_mentions", "client_providers"} {
		if !strings.Contains(night, "model="+m+" mode=incremental") {
			t.Errorf("a night of one new appointment did not recompute %s", m)
		}
	}
	// The next day's client only gained a row: merged, and no raw row of history copied.
	for _, want := range []string{`msg="clients merged without their history" clients=1 recomputed=0`,
		`msg="recomputed clients' rows copied" export=raw_appointments clients=0`} {
		if !strings.Contains(night, want) {
			t.Errorf("the night of one next-day appointment did not log %s", want)
		}
	}
	merging := nights[4]
	for _, want := range []string{`recomputed=1 `, "model=client_appointments mode=incremental clients=3 merged=true",
		"model=client_providers mode=incremental clients=3 merged=true", "model=client_claims mode=incremental clients=3 merged=false",
		`msg="recomputed clients' rows copied" export=raw_appointments clients=1`} {
		if !strings.Contains(merging, want) {
			t.Errorf("the merging night did not log %q:\n%s", want, merging)
		}
	}
	// A night with nothing new keeps every staging and mart table as it is. The digests of
	// two per-client tables are dropped first, as in a database from before they were kept:
	// the night digests those tables again (checked against a scan below).
	_, err = incDB.Exec(`DELETE FROM client_content WHERE model IN ('client_providers', 'client_claims')`)
	mustOK(t, err)
	logs.Reset()
	run(incDB, incCfg, log)
	models, err := queries.Models()
	mustOK(t, err)
	if kept := strings.Count(logs.String(), "model unchanged, kept"); kept != len(models) {
		t.Errorf("a night with no new rows kept %d of %d models; want all kept", kept, len(models))
	}
	var replaced int64
	mustOK(t, incDB.QueryRow(`SELECT sum(rows_replaced) FROM ingest_files`).Scan(&replaced))
	if replaced == 0 {
		t.Fatal("no row was replaced by a re-export: the test does not exercise replaced rows")
	}
	incDB.Close()

	full := filepath.Join(dir, "full")
	fullDB, fullCfg := open(full)
	for i := range files {
		place(full, i)
	}
	run(fullDB, fullCfg, nil)
	fullDB.Close()

	db, err := pipeline.Open(ctx, filepath.Join(inc, "referrals.duckdb"), pipeline.Settings{})
	mustOK(t, err)
	defer db.Close()
	_, err = db.Exec("ATTACH " + pipeline.QuoteString(filepath.Join(full, "referrals.duckdb")) + " AS full_build (READ_ONLY)")
	mustOK(t, err)
	var tables []string
	for _, f := range []func() ([]queries.Model, error){queries.ClientModels, queries.Models} {
		ms, err := f()
		mustOK(t, err)
		for _, m := range ms {
			tables = append(tables, m.Name)
		}
	}
	for _, table := range tables {
		var rows, onlyInc, onlyFull int64
		q := `SELECT (SELECT count(*) FROM main.` + table + `),
			(SELECT count(*) FROM (SELECT * FROM main.` + table + ` EXCEPT ALL SELECT * FROM full_build.` + table + `)),
			(SELECT count(*) FROM (SELECT * FROM full_build.` + table + ` EXCEPT ALL SELECT * FROM main.` + table + `))`
		mustOK(t, db.QueryRow(q).Scan(&rows, &onlyInc, &onlyFull))
		if onlyInc != 0 || onlyFull != 0 {
			t.Errorf("%s: %d rows only in the incremental build, %d only in the full build (of %d)", table, onlyInc, onlyFull, rows)
		}
		if rows == 0 && strings.HasPrefix(table, "client_") {
			t.Errorf("%s is empty", table)
		}
		// The digest kept as the per-client rows changed is the one a scan gives.
		if strings.HasPrefix(table, "client_") {
			var kept, scanned string
			mustOK(t, db.QueryRow(`SELECT n || ':' || total FROM main.client_content WHERE model = ?`, table).Scan(&kept))
			mustOK(t, db.QueryRow(`SELECT count(*) || ':' || sum(hash(t)) FROM main.`+table+` t`).Scan(&scanned))
			if kept != scanned {
				t.Errorf("%s: client_content says %s after three incremental nights, a scan %s", table, kept, scanned)
			}
		}
	}
	// Another report month changes the variables: nothing may be kept.
	_, err = db.Exec("DETACH full_build")
	mustOK(t, err)
	logs.Reset()
	_, err = pipeline.BuildModels(ctx, db, pipeline.ModelVars(incCfg, month.AddDate(0, -1, 0)), log)
	mustOK(t, err)
	if kept := strings.Count(logs.String(), "model unchanged, kept"); kept != 0 {
		t.Errorf("another report month kept %d models; want all rebuilt", kept)
	}
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// A database whose ledger was made before it kept each file's size and
// modification time (the first release's schema) takes the new columns and
// loads the sample, then finds it already loaded on the next run.
func TestOldLedgerIsUpgraded(t *testing.T) {
	ctx := context.Background()
	db, err := pipeline.Open(ctx, filepath.Join(t.TempDir(), "old.duckdb"), pipeline.Settings{})
	mustOK(t, err)
	defer db.Close()
	_, err = db.ExecContext(ctx, `CREATE TABLE ingest_files (file_id INTEGER PRIMARY KEY, source VARCHAR NOT NULL,
		path VARCHAR NOT NULL, sha256 VARCHAR NOT NULL, encoding VARCHAR, rows_loaded BIGINT, rows_rejected BIGINT,
		rows_replaced BIGINT, loaded_at TIMESTAMP)`)
	mustOK(t, err)
	root, err := filepath.Abs(filepath.Join("..", "sample-data"))
	mustOK(t, err)
	in := &pipeline.Ingester{DB: db, Config: stagetest.SampleConfig(root), Secret: []byte("upgrade-secret-0123456789")}
	sum, err := in.Ingest(ctx)
	mustOK(t, err)
	if sum.Count("failed") != 0 || sum.Loaded < 20000 {
		t.Fatalf("first load on the old ledger: %d files failed, %d rows", sum.Count("failed"), sum.Loaded)
	}
	sum, err = in.Ingest(ctx)
	mustOK(t, err)
	if sum.Loaded != 0 || sum.Count("failed") != 0 {
		t.Errorf("second run loaded %d rows, %d files failed; want nothing new", sum.Loaded, sum.Count("failed"))
	}
}
