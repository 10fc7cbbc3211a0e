// Command referrals measures how each referrer's referrals spread across a
// mental-health group practice's clinicians, month by month, and turns that
// into a relationship stage: 1 point person, 2 trying colleagues, 3 whole
// practice. It loads the billing and scheduling systems' CSV exports into
// DuckDB, builds the stage tables with SQL, and writes an Excel workbook, an
// HTML chart report and a CSV for the CRM.
//
// Usage:
//
//	referrals run      [--config FILE] [--month YYYY-MM] [--rebuild] [--strict]   the nightly job
//	referrals ingest   [--config FILE] [--rebuild] [--strict]                    load new exports only
//	referrals explain  [--config FILE] [--month YYYY-MM] REFERRER               why a referrer is at its stage
//	referrals check    [--config FILE]                                          validate configuration and exports
//	referrals sample   --out DIR [--scale K] [--seed S] ...                     generate sample exports
//	referrals bench    [--rows N] [--reps R] ...                                benchmark the nightly job
//
// run, ingest, explain and check also take --quiet, --verbose and --log-format;
// "referrals COMMAND --help" lists every flag. With no configuration file the
// tool runs on sample-data/ and writes out/referrals.duckdb and the reports
// under out/. Exit codes: 0 success, 1 failure, 2 usage or configuration
// error, 3 another run holds the database, 4 data checks failed, 5 rows
// rejected with --strict, 6 export files could not be loaded.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// errInterrupted is how a run stopped by a signal ends.
var errInterrupted = errors.New("interrupted: the steps that finished are kept and the one under way left nothing half-written; run again to carry on")

func main() {
	// Everything this program writes (the database and its WAL, the key
	// file, the reports) is for its owner only: the database holds keyed
	// client ids and billing amounts.
	syscall.Umask(0o077)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	// Read before stop(), which cancels ctx too.
	signalled := ctx.Err() != nil
	stop()
	code := exitCode(err)
	var asJSON *loggedAsJSON
	logsJSON := errors.As(err, &asJSON)
	configFile := ""
	if oc := (*ofConfig)(nil); errors.As(err, &oc) {
		configFile = oc.file
	}
	if err != nil && signalled && !isSilent(err) {
		// Stopped by a signal (Ctrl-C, a cron timeout, a shutdown): whatever failed
		// after it ("context canceled", DuckDB's "INTERRUPT Error") failed because of
		// it. Say what that leaves instead.
		err = errInterrupted
	}
	if err != nil && code != 0 && !isSilent(err) {
		printFinal(os.Stderr, logsJSON, configFile, err, code)
	}
	os.Exit(code)
}

// printFinal prints the error a command ended with: as a log record when the
// command logs JSON (a log collector then reads every line), else as text.
// configFile, the command's --config (""), names the practice whose run it is:
// an installation running several mails their output together.
func printFinal(w io.Writer, asJSON bool, configFile string, err error, code int) {
	if asJSON {
		attrs := []any{"exit_code", code}
		if configFile != "" {
			attrs = append(attrs, "config", configFile)
		}
		slog.New(slog.NewJSONHandler(w, nil)).Error(err.Error(), attrs...)
		return
	}
	if configFile != "" && !strings.Contains(err.Error(), configFile) {
		fmt.Fprintf(w, "referrals: %s: %v\n", configFile, err)
		return
	}
	fmt.Fprintf(w, "referrals: %v\n", err)
}
