package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/referrals/referrals/pipeline"
	"github.com/referrals/referrals/reports"
	"golang.org/x/sync/errgroup"
)

func cmdRun(ctx context.Context, e env, args []string) error {
	var cf commonFlags
	fs := newFlagSet(e, "run", "[--config FILE] [--month YYYY-MM] [--rebuild] [--strict] "+logFlagsUsage, `
The nightly job. Loads new or changed exports, builds the stage tables,
runs the data checks, and writes for the report month:
  out/referrals-YYYY-MM.xlsx   the workbook for the practice owner
  out/referrals-YYYY-MM.html   the chart report (opens offline)
  out/referrers-YYYY-MM.csv    the stage table for import into a CRM
  out/index.html               every month's reports
A --month outside the months the exports cover is run, with a warning that
names the months they cover; this month, not over yet, is run with a warning
that its figures are partial, up to the exports' last date; a month that has
not begun is refused (exit 2).
Only one run works on a database at a time; a
second exits with code 3.`)
	cf.register(fs)
	monthArg := fs.String("month", "", "report month YYYY-MM (default: the last complete month)")
	rebuild := fs.Bool("rebuild", false, "reload everything from the export files still on disk (rows of files no longer on disk are lost); refused, changing nothing, while a file pattern matches no readable file")
	strict := fs.Bool("strict", false, "fail (exit code 5) when any row was rejected")
	if err := parse(e, fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{fmt.Sprintf("run takes no arguments, got %q; did you mean --month?", fs.Arg(0))}
	}
	month, err := monthFlag(*monthArg, e.today())
	if err != nil {
		return err
	}
	j, err := openJob(ctx, e, cf, "referrals run", jobOpts{rebuild: *rebuild, reports: true})
	if err != nil {
		return err
	}
	defer j.close()
	sum, err := j.ingest(ctx, e, *rebuild)
	if err != nil {
		return err
	}
	if err := j.requireData(ctx); err != nil {
		return err
	}
	// The default is the last complete month; a month asked for may be this one,
	// not over yet: partialUntil is then the exports' last date so far.
	var partialUntil time.Time
	if month.IsZero() {
		if month, err = pipeline.DefaultMonth(ctx, j.db, e.today()); err != nil {
			return err
		}
		// The default falls back to the last month the exports cover when they end
		// before last month: a practice's export feed that stopped (a job in the
		// practice system turned off, files dropped in another folder) would
		// otherwise write last summer's reports every night, exit 0, and say nothing.
		// The built-in settings (no configuration file) load the bundled sample
		// practice, whose exports end where they end: no feed to stop, and the README's
		// first command warns of nothing.
		if lastMonth := firstOfMonth(e.today()).AddDate(0, -1, 0); month.Before(lastMonth) && j.cfg.File != "" {
			last, err := pipeline.LastExportDate(ctx, j.db, e.today())
			if err != nil {
				return err
			}
			j.log.Warn("the exports end before the last complete month, so the reports are for the last month they cover: are the practice's exports still arriving in the folders the configuration names? (--month picks a month)",
				"exports_end", last.Format("2006-01-02"), "month", month.Format("2006-01"), "last_complete_month", lastMonth.Format("2006-01"))
		}
	} else if partialUntil, err = j.warnOutsideData(ctx, month, e.today()); err != nil {
		return err
	}
	t := time.Now()
	timings, err := pipeline.BuildModels(ctx, j.db, pipeline.ModelVars(j.cfg, month), j.log)
	if err != nil {
		return err
	}
	var modelRows int64
	kept := 0
	for _, m := range timings {
		modelRows += m.Rows
		if m.Kept {
			kept++
		}
	}
	j.log.Info("models built", "month", month.Format("2006-01"), "models", len(timings)-kept, "unchanged", kept, "rows", modelRows, "took", time.Since(t).Round(time.Millisecond))
	var unknownPP int
	var examplePP, exampleRef sql.NullString
	if err := j.db.QueryRowContext(ctx, `SELECT count(*), min(point_person), arg_min(referrer, point_person) FROM stg_unknown_point_persons`).Scan(&unknownPP, &examplePP, &exampleRef); err != nil {
		return err
	}
	if unknownPP > 0 {
		j.log.Warn("the directory names point persons that match no clinician of the roster (a typo, or a clinician missing from it); those referrers' point person is the clinician of their first referral until it is fixed",
			"file", j.cfg.Path(j.cfg.Reference.Directory), "referrers", unknownPP, "such_as", examplePP.String, "referrer", exampleRef.String,
			"see", "the workbook's Data quality sheet, or referrals check")
	}
	unknown, err := pipeline.UnknownStatuses(ctx, j.db)
	if err != nil {
		return err
	}
	if len(unknown) > 0 {
		var n int64
		for _, u := range unknown {
			n += u.Appointments
		}
		j.log.Warn("some appointment statuses are none of the words the tool knows; "+pipeline.StatusesMeaning,
			"spellings", len(unknown), "appointments", n, "most_common", pipeline.ListStatuses(unknown, 3),
			"fix", pipeline.StatusesFix(unknown[0].Status), "see", "the workbook's Data quality sheet")
	}
	var severalNPIs int
	var exampleSpelling sql.NullString
	if err := j.db.QueryRowContext(ctx, `SELECT count(*), min(raw_name) FROM stg_referrer_spellings WHERE resolved_by = 'several NPIs'`).Scan(&severalNPIs, &exampleSpelling); err != nil {
		return err
	}
	if severalNPIs > 0 {
		j.log.Warn("some referrer names were typed without an NPI where referrers with different NPIs share the name; those referrals are counted under the name alone, apart from each NPI's referrer",
			"spellings", severalNPIs, "such_as", exampleSpelling.String,
			"fix", "record the referrer's NPI, or add the spelling to the alias file under the referrer it is (e.g. \"John Smith (NPI 1234567893)\")",
			"see", "the workbook's Data quality sheet")
	}
	t = time.Now()
	ran, err := pipeline.RunChecksIfChanged(ctx, j.db)
	if err != nil {
		return err
	}
	attrs := []any{"took", time.Since(t).Round(time.Millisecond)}
	if !ran {
		attrs = append(attrs, "why", "they passed on these same tables last run")
	}
	j.log.Info("data checks passed", attrs...)

	t = time.Now()
	outDir := j.cfg.Path(j.cfg.OutDir)
	// Sheets, the page and the CSV read only model tables: they are kept beside the
	// database and reused while no model changed (reports.WriteWorkbookCached).
	cacheDir := j.cfg.Path(j.cfg.Database) + reportCacheSuffix
	if err := claimOutDir(j.cfg); err != nil {
		return err
	}
	written, err := writeReports(ctx, j.db, month, outDir, cacheDir)
	if err != nil {
		return err
	}
	j.log.Info("reports written", "dir", outDir, "files", len(written), "took", time.Since(t).Round(time.Millisecond))
	t = time.Now()
	if err := pipeline.Finish(ctx, j.db, pipeline.RunRecord{Command: "run", Started: j.start, Month: month, Ingested: sum}); err != nil {
		return err
	}
	j.log.Info("database checkpointed", "took", time.Since(t).Round(time.Millisecond))
	if !cf.quiet {
		printIngestSummary(ctx, e.stdout, j.db, sum)
		note := ""
		if month.Equal(firstOfMonth(e.today())) {
			note = " (not over yet: partial figures"
			if !partialUntil.IsZero() {
				note += ": the exports run to " + partialUntil.Format("2006-01-02") + ", and intakes booked after that count as referrals already"
			}
			note += ")"
		}
		if err := printRunSummary(ctx, e.stdout, j.db, month, note, written, time.Since(j.start)); err != nil {
			return err
		}
	}
	return ingestOutcome(*strict, sum)
}

// writeReports writes the month's reports and the index, each through a
// temporary file and a rename.
// reportCacheSuffix names the folder beside the database that keeps report sheets.
const reportCacheSuffix = ".report-cache"

func writeReports(ctx context.Context, db *sql.DB, month time.Time, outDir, cacheDir string) ([]string, error) {
	if err := os.MkdirAll(outDir, 0o700); err != nil {
		return nil, fmt.Errorf("create reports folder %s: %w", outDir, err)
	}
	// What a run killed while writing them left: temporary files never renamed.
	reports.RemoveLeftoverTemps(outDir, cacheDir)
	ym := month.Format("2006-01")
	xlsx := filepath.Join(outDir, "referrals-"+ym+".xlsx")
	html := filepath.Join(outDir, "referrals-"+ym+".html")
	csv := filepath.Join(outDir, "referrers-"+ym+".csv")
	// The workbook is mostly Go work (excelize), the page and the CSV mostly queries:
	// written side by side they overlap (the database serves one query at a time). The
	// first to fail stops the other.
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := reports.WriteWorkbookCached(gctx, db, month, xlsx, cacheDir); err != nil {
			return fmt.Errorf("write %s: %w", xlsx, err)
		}
		return nil
	})
	g.Go(func() error {
		if err := reports.WriteHTMLCached(gctx, db, month, html, cacheDir); err != nil {
			return fmt.Errorf("write %s: %w", html, err)
		}
		if err := reports.WriteReferrerCSVCached(gctx, db, month, csv, cacheDir); err != nil {
			return fmt.Errorf("write %s: %w", csv, err)
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if err := reports.WriteIndex(outDir); err != nil {
		return nil, fmt.Errorf("write %s: %w", filepath.Join(outDir, "index.html"), err)
	}
	return []string{xlsx, html, csv, filepath.Join(outDir, "index.html")}, nil
}

// printRunSummary prints the month's figures and the reports written; note
// follows the month (a month not over yet says so).
func printRunSummary(ctx context.Context, w io.Writer, db *sql.DB, month time.Time, note string, written []string, took time.Duration) error {
	var referrals, active, s1, s2, s3, low int64
	err := db.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM referrals WHERE referral_month = ?),
		count(*) FILTER (WHERE stage IS NOT NULL),
		count(*) FILTER (WHERE stage = 1), count(*) FILTER (WHERE stage = 2), count(*) FILTER (WHERE stage = 3),
		count(*) FILTER (WHERE low_evidence AND stage IS NOT NULL)
		FROM referrer_status`, month).Scan(&referrals, &active, &s1, &s2, &s3, &low)
	if err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	fmt.Fprintf(w, "Report month %s%s: %d new referrals; %d active referrers: stage 1 %d, stage 2 %d, stage 3 %d (%d on low evidence)\n",
		month.Format("2006-01"), note, referrals, active, s1, s2, s3, low)
	fmt.Fprintf(w, "Reports:\n")
	for _, p := range written {
		fmt.Fprintf(w, "  %s\n", p)
	}
	fmt.Fprintf(w, "Done in %s.\n", took.Round(time.Millisecond))
	return nil
}
