package main

import (
	"context"

	"github.com/referrals/referrals/pipeline"
)

func cmdIngest(ctx context.Context, e env, args []string) error {
	var cf commonFlags
	fs := newFlagSet(e, "ingest", "[--config FILE] [--rebuild] [--strict] "+logFlagsUsage, `
Load new or changed export files into the database. A file already loaded
(same content) is skipped; a re-exported appointment or claim line replaces
the earlier version; rejected rows are kept (file, line, column, reason) in
the table rejected_rows. Prints a per-file summary.`)
	cf.register(fs)
	rebuild := fs.Bool("rebuild", false, "empty the loaded tables and reload every export file still on disk (rows of files no longer on disk are lost); refused, changing nothing, while a file pattern matches no readable file")
	strict := fs.Bool("strict", false, "exit with code 5 when any row was rejected")
	if err := parse(e, fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{"ingest takes no arguments; did you mean --config?"}
	}
	j, err := openJob(ctx, e, cf, "referrals ingest", jobOpts{rebuild: *rebuild})
	if err != nil {
		return err
	}
	defer j.close()
	sum, err := j.ingest(ctx, e, *rebuild)
	if err != nil {
		return err
	}
	if err := pipeline.Finish(ctx, j.db, pipeline.RunRecord{Command: "ingest", Started: j.start, Ingested: sum}); err != nil {
		return err
	}
	if !cf.quiet {
		printIngestSummary(ctx, e.stdout, j.db, sum)
	}
	return ingestOutcome(*strict, sum)
}
