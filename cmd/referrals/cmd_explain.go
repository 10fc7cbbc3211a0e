package main

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/referrals/referrals/internal/explain"
	"github.com/referrals/referrals/pipeline"
)

func cmdExplain(ctx context.Context, e env, args []string) error {
	var cf commonFlags
	fs := newFlagSet(e, "explain", "[--config FILE] [--month YYYY-MM] "+logFlagsUsage+" REFERRER", `
Show why a referrer is at its stage: month by month over the last two years,
its referrals, to whom they were assigned, whom they asked for, the spread
measure over the window and the stage, then a paragraph in plain words.

REFERRER is any spelling that resolves: the name on the reports, a spelling
from the exports, an NPI, or a unique part of the name. A name that matches
no referrer, or several, exits with code 2 and names the closest referrers
or the several it matched. Flags may come before or after the name; a name
that starts with "-" goes after --: referrals explain -- "-2+3 Health".

Without --month it explains the month of the last run (as run_log records
it). With --month it first rebuilds the stage tables for that month; the
next run, or the next explain without --month, rebuilds them for its own
month. An explain is not a run: it does not change the last run's month.`)
	cf.register(fs)
	monthArg := fs.String("month", "", "report month YYYY-MM (default: the month of the last run)")
	if err := parse(e, fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return &usageError{"explain: name a referrer, e.g. referrals explain \"Dr Maria Lopez\""}
	}
	who := strings.Join(fs.Args(), " ")
	month, err := monthFlag(*monthArg, e.today())
	if err != nil {
		return err
	}
	j, err := openJob(ctx, e, cf, "referrals explain", jobOpts{})
	if err != nil {
		return err
	}
	defer j.close()
	// The stage tables say which month they were last built for, but that is not the
	// last run's month after an explain --month: run_log keeps the runs' months.
	var built sql.NullTime
	if err := j.db.QueryRowContext(ctx, `SELECT max(month) FROM referrer_status`).Scan(&built); err != nil {
		built = sql.NullTime{}
	}
	if !month.IsZero() {
		if _, err := j.warnOutsideData(ctx, month, e.today()); err != nil {
			return err
		}
	} else {
		last, ok, err := pipeline.LastRunMonth(ctx, j.db)
		if err != nil {
			return err
		}
		if !ok {
			return &usageError{"explain: no run has finished on this database yet, so there is no last run's month: run `referrals run` first, or give --month YYYY-MM"}
		}
		month = last
	}
	vars := pipeline.ModelVars(j.cfg, month)
	if !built.Valid || !month.Equal(built.Time) {
		// Building the models also prepares the connection for the month.
		t := time.Now()
		if _, err := pipeline.BuildModels(ctx, j.db, vars, j.log); err != nil {
			return err
		}
		j.log.Info("models built", "month", month.Format("2006-01"), "took", time.Since(t).Round(time.Millisecond))
	} else if err := pipeline.Prepare(ctx, j.db, vars); err != nil {
		return err
	}
	if err := explain.Write(ctx, j.db, who, e.stdout); err != nil {
		// A name that resolves to no referrer, or to several, is a mistake on
		// the command line: exit 2, with the error's "did you mean" names.
		if errors.Is(err, explain.ErrNoSuchReferrer) {
			return &usageError{"explain: " + err.Error()}
		}
		return err
	}
	return nil
}
