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
	"github.com/referrals/referrals/pipeline"
	"github.com/referrals/referrals/queries"
)

// A practice whose system writes "Seen - Billed" for an attended appointment sets
// [scheduling.statuses] one night: every appointment of the history means
// something else from then on, so the per-client tables are built again from every
// raw row that night (and every model that reads them after), giving what a fresh
// database with the mapping gives. The nights before and after the change stay
// incremental.
func TestStatusWordsChangeRebuildsFromTheHistory(t *testing.T) {
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
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	// The sample's exports, their attended appointments written as another system writes them.
	place := func(root string, i int) {
		rel, _ := filepath.Rel(filepath.Join("..", "sample-data"), files[i])
		dst := filepath.Join(root, rel)
		b, err := os.ReadFile(files[i])
		mustOK(t, err)
		b = bytes.ReplaceAll(b, []byte(",Attended,"), []byte(",Seen - Billed,"))
		b = bytes.ReplaceAll(b, []byte(",Arrived,"), []byte(",Client Arrived,"))
		b = bytes.ReplaceAll(b, []byte(",Show,"), []byte(",Kept Appointment,"))
		mustOK(t, os.MkdirAll(filepath.Dir(dst), 0o700))
		mustOK(t, os.WriteFile(dst, b, 0o600))
		stamp := base.Add(time.Duration(i) * time.Second)
		mustOK(t, os.Chtimes(dst, stamp, stamp))
	}
	month := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	mapped := config.Statuses{Attended: []string{"Seen - Billed", "client arrived", "KEPT APPOINTMENT"}}
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
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	run := func(db *sql.DB, cfg config.Config) string {
		logs.Reset()
		in := &pipeline.Ingester{DB: db, Config: cfg, Secret: []byte("status-words-secret-0123456789")}
		_, err := in.Ingest(ctx)
		mustOK(t, err)
		_, err = pipeline.BuildModels(ctx, db, pipeline.ModelVars(cfg, month), log)
		mustOK(t, err)
		mustOK(t, pipeline.RunChecks(ctx, db))
		return logs.String()
	}
	attended := func(db *sql.DB) (n int64) {
		mustOK(t, db.QueryRow(`SELECT count(*) FROM client_appointments WHERE attended`).Scan(&n))
		return n
	}

	inc := filepath.Join(dir, "incremental")
	db, cfg := open(inc)
	cuts := []int{len(files) * 7 / 10, len(files) - 3}
	for i := 0; i < cuts[0]; i++ {
		place(inc, i)
	}
	run(db, cfg)
	if n := attended(db); n != 0 {
		t.Fatalf("without a mapping, %d clients attended a 'Seen - Billed' appointment: the test does not exercise an unknown status", n)
	}
	// A night of new files, the mapping as it was: incremental.
	for i := cuts[0]; i < cuts[1]; i++ {
		place(inc, i)
	}
	if night := run(db, cfg); strings.Contains(night, "mode=full") || !strings.Contains(night, "mode=incremental") {
		t.Fatalf("a night of new files without a change of mapping was not incremental:\n%s", night)
	}
	// The night the mapping is set, with the last files: every per-client table read whole.
	for i := cuts[1]; i < len(files); i++ {
		place(inc, i)
	}
	cfg.Scheduling.Statuses = mapped
	clients, err := queries.ClientModels()
	mustOK(t, err)
	night := run(db, cfg)
	if got := strings.Count(night, "mode=full"); got != len(clients) {
		t.Errorf("the night the mapping changed built %d per-client tables from the whole history; want all %d:\n%s", got, len(clients), night)
	}
	if n := attended(db); n == 0 {
		t.Fatal("the mapping did not make 'Seen - Billed' attended")
	}
	// The night after: nothing new, the same mapping; every table kept.
	night = run(db, cfg)
	models, err := queries.Models()
	mustOK(t, err)
	if strings.Contains(night, "mode=full") || strings.Count(night, "model unchanged, kept") != len(models) {
		t.Errorf("a night with no change after the mapping changed rebuilt tables:\n%s", night)
	}
	// The appointments per spelling, kept as rows came and were replaced over the
	// nights, are what a count of the loaded rows gives.
	var differ int64
	mustOK(t, db.QueryRow(`SELECT count(*) FROM (SELECT status, n FROM status_counts
		EXCEPT ALL SELECT status, count(*) FROM raw_appointments GROUP BY status)`).Scan(&differ))
	if differ != 0 {
		t.Errorf("status_counts differs from the loaded appointments in %d spelling(s)", differ)
	}
	db.Close()

	fresh := filepath.Join(dir, "fresh")
	fdb, fcfg := open(fresh)
	for i := range files {
		place(fresh, i)
	}
	fcfg.Scheduling.Statuses = mapped
	run(fdb, fcfg)
	fdb.Close()

	db, err = pipeline.Open(ctx, filepath.Join(inc, "referrals.duckdb"), pipeline.Settings{})
	mustOK(t, err)
	defer db.Close()
	_, err = db.Exec("ATTACH " + pipeline.QuoteString(filepath.Join(fresh, "referrals.duckdb")) + " AS fresh (READ_ONLY)")
	mustOK(t, err)
	var tables []string
	for _, ms := range [][]queries.Model{clients, models} {
		for _, m := range ms {
			tables = append(tables, m.Name)
		}
	}
	for _, table := range tables {
		var rows, onlyInc, onlyFresh int64
		q := `SELECT (SELECT count(*) FROM main.` + table + `),
			(SELECT count(*) FROM (SELECT * FROM main.` + table + ` EXCEPT ALL SELECT * FROM fresh.` + table + `)),
			(SELECT count(*) FROM (SELECT * FROM fresh.` + table + ` EXCEPT ALL SELECT * FROM main.` + table + `))`
		mustOK(t, db.QueryRow(q).Scan(&rows, &onlyInc, &onlyFresh))
		if onlyInc != 0 || onlyFresh != 0 {
			t.Errorf("%s: %d rows only after the night of the change, %d only in the fresh database (of %d)", table, onlyInc, onlyFresh, rows)
		}
	}
}
