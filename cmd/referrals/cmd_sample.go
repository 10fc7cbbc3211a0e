package main

import (
	"context"
	"fmt"
	"time"

	"github.com/referrals/referrals/internal/sample"
)

func cmdSample(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "sample", "--out DIR [--scale K] [--seed S] [--end YYYY-MM] [--months N] [--single-file]", `
Generate realistic exports of a made-up group practice: a clinician roster,
a referrer directory and alias file, monthly scheduling exports that re-export
the previous month with updated statuses, quarterly billing exports, one
Windows-1252 file, one with a BOM and CRLF line endings, and a few bad rows.
Each referrer follows a planted stage path; the truth is written under
DIR/truth/ for tests. --scale 1 is about 20 clinicians and 100 referrers over
40 months; larger scales reach tens of millions of rows for benchmarks.`)
	out := fs.String("out", "", "folder to write into (required)")
	scale := fs.Float64("scale", 1, "size multiplier; 1 = the sample practice")
	seed := fs.Int64("seed", 1, "random seed; the same seed gives byte-identical files")
	end := fs.String("end", "2026-10", "last month covered, YYYY-MM")
	months := fs.Int("months", 40, "number of months covered, at least 13")
	single := fs.Bool("single-file", false, "one scheduling and one billing file instead of monthly and quarterly ones")
	if err := parse(e, fs, args); err != nil {
		return err
	}
	if *out == "" {
		fs.Usage()
		return &usageError{"sample: --out DIR is required"}
	}
	if *scale <= 0 || *months < 13 {
		return &usageError{"sample: --scale must be positive and --months at least 13"}
	}
	endMonth, err := time.Parse("2006-01", *end)
	if err != nil {
		return &usageError{fmt.Sprintf("sample: --end %q: write it as YYYY-MM", *end)}
	}
	start := time.Now()
	sum, err := sample.Generate(ctx, sample.Options{Out: *out, Scale: *scale, Seed: *seed, End: endMonth, Months: *months, SingleFile: *single})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Wrote %s: %d scheduling files (%d rows), %d billing files (%d rows); %d clinicians, %d referrers, %d clients (%s)\n",
		*out, sum.SchedulingFiles, sum.SchedulingRows, sum.BillingFiles, sum.BillingRows, sum.Clinicians, sum.Referrers, sum.Clients,
		time.Since(start).Round(time.Millisecond))
	return nil
}
