package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/referrals/referrals/internal/config"
	"github.com/referrals/referrals/internal/runlock"
	"github.com/referrals/referrals/pipeline"
)

// Exit codes, documented in the README for scripts and cron.
const (
	exitOK        = 0
	exitFailed    = 1
	exitUsage     = 2
	exitLocked    = 3
	exitChecks    = 4
	exitRejected  = 5 // --strict and rows were rejected
	exitNotLoaded = 6 // export files could not be loaded; the reports come from the rest
)

// usageError is a mistake on the command line.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// errHelp is returned after --help printed the usage: exit 0, print nothing.
var errHelp = errors.New("help shown")

// errStrict is returned when --strict is set and rows were rejected.
var errStrict = errors.New("rows were rejected and --strict is set")

// errNotLoaded is returned, after the reports, when export files could not be
// loaded: cron must hear of it, as their rows are missing from the reports.
var errNotLoaded = errors.New("export files could not be loaded")

func isSilent(err error) bool { return errors.Is(err, errHelp) }

// exitCode is the one place errors become exit codes.
func exitCode(err error) int {
	var ue *usageError
	var ce *pipeline.CheckError
	var cp *checkProblems
	switch {
	case err == nil, errors.Is(err, errHelp):
		return exitOK
	case errors.As(err, &ue), errors.Is(err, config.ErrConfig), errors.As(err, &cp):
		return exitUsage
	case errors.Is(err, runlock.ErrHeld), errors.Is(err, pipeline.ErrLocked):
		return exitLocked
	case errors.As(err, &ce):
		return exitChecks
	case errors.Is(err, errNotLoaded):
		return exitNotLoaded
	case errors.Is(err, errStrict):
		return exitRejected
	default:
		return exitFailed
	}
}

type env struct {
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer
	// logFormat is where a command's parsed --log-format goes, so that the error
	// it ends with is printed the same way (nil: nowhere).
	logFormat *string
	// configFile is where the parsed --config goes, as an absolute path, so that
	// the error a command ends with names it: several practices' runs, one after
	// the other in one cron job, mail their output together (nil: nowhere).
	configFile *string
	// now is the run's clock (nil: time.Now); tests set another day.
	now func() time.Time
}

// today is the run's date: the local calendar day, as a date at midnight UTC
// (as the exports' dates are read). The default report month, a --month that
// has not begun and a month not over yet are all decided by it.
func (e env) today() time.Time {
	now := time.Now
	if e.now != nil {
		now = e.now
	}
	t := now()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// loggedAsJSON is the error of a command that logged JSON: main prints it as a
// JSON record too.
type loggedAsJSON struct{ err error }

func (e *loggedAsJSON) Error() string { return e.err.Error() }
func (e *loggedAsJSON) Unwrap() error { return e.err }

// ofConfig is the error of a command run with --config: main prints the
// configuration file before it, and the command's log records name it.
type ofConfig struct {
	err  error
	file string
}

func (e *ofConfig) Error() string { return e.err.Error() }
func (e *ofConfig) Unwrap() error { return e.err }

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e env, args []string) error
}

func commands() []command {
	return []command{
		{"run", "the nightly job: load new exports, build the stage tables, write the reports", cmdRun},
		{"ingest", "load new or changed export files into the database, nothing else", cmdIngest},
		{"explain", "show, month by month, why a referrer is at its stage", cmdExplain},
		{"check", "validate the configuration and every export file without loading anything", cmdCheck},
		{"sample", "generate realistic sample exports (and the planted truth) for trying the tool", cmdSample},
		{"bench", "benchmark the nightly job against a bare DuckDB read of the same files", cmdBench},
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return runEnv(ctx, env{getenv: getenv, stdout: stdout, stderr: stderr, now: time.Now}, args)
}

// runEnv runs the command args name in e.
func runEnv(ctx context.Context, e env, args []string) error {
	format, configFile := "", ""
	e.logFormat = &format
	e.configFile = &configFile
	stdout, stderr := e.stdout, e.stderr
	if len(args) == 0 {
		args = []string{"run"}
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		printTopUsage(stdout)
		return errHelp
	}
	for _, c := range commands() {
		if c.name == args[0] {
			err := c.run(ctx, e, args[1:])
			if err != nil && configFile != "" && !isSilent(err) {
				err = &ofConfig{err: err, file: configFile}
			}
			if err != nil && format == "json" {
				err = &loggedAsJSON{err}
			}
			return err
		}
	}
	printTopUsage(stderr)
	return &usageError{fmt.Sprintf("unknown command %q", args[0])}
}

func printTopUsage(w io.Writer) {
	fmt.Fprintf(w, `referrals: how each referrer's relationship with the practice is maturing.

Usage: referrals <command> [flags]   (no command = run)

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, `
Run "referrals <command> --help" for a command's flags. Without --config the
tool uses sample-data/ and writes out/ in the current folder.

Exit codes: 0 ok, 1 failed, 2 usage or configuration error, 3 another run
holds the database, 4 data checks failed, 5 rows rejected with --strict,
6 export files could not be loaded, or a file pattern matches no file (the
reports come from the rest and list them).
`)
}

// monthFlag reads a --month value: the zero time when it is not given, a usage
// error (exit 2) when it is not YYYY-MM or has not begun on the run's today.
func monthFlag(s string, today time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	m, err := pipeline.ParseMonth(s)
	if err != nil {
		return time.Time{}, &usageError{err.Error()}
	}
	// A month still to come has no referral yet, and its reports would be listed
	// first on the index page until deleted by hand.
	if this := firstOfMonth(today); m.After(this) {
		return time.Time{}, &usageError{fmt.Sprintf("--month %s has not begun (this month is %s): give this month or an earlier one; without --month the report is for the last complete month", s, this.Format("2006-01"))}
	}
	return m, nil
}

// firstOfMonth is the first day of t's month.
func firstOfMonth(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// logFlagsUsage is how a usage line lists the logging flags of commonFlags.
const logFlagsUsage = "[--quiet | --verbose] [--log-format text|json]"

// common flags shared by the commands that read the configuration.
type commonFlags struct {
	config    string
	logFormat string
	quiet     bool
	verbose   bool
}

func (c *commonFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.config, "config", "", "configuration file (TOML); default: built-in settings for sample-data/")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format on stderr: text or json")
	fs.BoolVar(&c.quiet, "quiet", false, "print only warnings and errors")
	fs.BoolVar(&c.verbose, "verbose", false, "print debug detail (each model's time)")
}

// validate refuses flags that contradict each other or name no format, and
// tells e the log format.
func (c *commonFlags) validate(e env) error {
	if e.logFormat != nil {
		*e.logFormat = c.logFormat
	}
	if e.configFile != nil {
		*e.configFile = c.configPath()
	}
	if c.quiet && c.verbose {
		return &usageError{"--quiet and --verbose cannot be used together: --quiet prints only warnings and errors, --verbose every debug line; choose one"}
	}
	if c.logFormat != "text" && c.logFormat != "json" && c.logFormat != "" {
		return &usageError{fmt.Sprintf("--log-format %q: use text or json", c.logFormat)}
	}
	return nil
}

// logger is the command's logger on e's stderr.
func (c *commonFlags) logger(e env) (*slog.Logger, error) {
	if err := c.validate(e); err != nil {
		return nil, err
	}
	w := e.stderr
	level := slog.LevelInfo
	if c.quiet {
		level = slog.LevelWarn
	}
	if c.verbose {
		level = slog.LevelDebug
	}
	opts := &slog.HandlerOptions{Level: level}
	var log *slog.Logger
	if c.logFormat == "json" {
		log = slog.New(slog.NewJSONHandler(w, opts))
	} else {
		log = slog.New(slog.NewTextHandler(w, opts))
	}
	// Several practices' runs mail their output together: each record names
	// the configuration it is of (its files' paths are relative to it), last.
	if f := c.configPath(); f != "" {
		log = slog.New(&lastAttr{Handler: log.Handler(), attr: slog.String("config", f)})
	}
	return log, nil
}

// lastAttr is a handler that adds attr to every record after the record's own
// attributes, so that a line reads as before, what it is of at its end.
type lastAttr struct {
	slog.Handler
	attr slog.Attr
}

func (h *lastAttr) Handle(ctx context.Context, r slog.Record) error {
	r = r.Clone()
	r.AddAttrs(h.attr)
	return h.Handler.Handle(ctx, r)
}

func (h *lastAttr) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &lastAttr{Handler: h.Handler.WithAttrs(attrs), attr: h.attr}
}

func (h *lastAttr) WithGroup(name string) slog.Handler {
	return &lastAttr{Handler: h.Handler.WithGroup(name), attr: h.attr}
}

// configPath is the --config file as an absolute path ("" without one).
func (c *commonFlags) configPath() string {
	if c.config == "" {
		return ""
	}
	if abs, err := filepath.Abs(c.config); err == nil {
		return abs
	}
	return c.config
}

// newFlagSet builds a subcommand's flag set whose --help prints usage and
// description to stdout.
func newFlagSet(e env, name, usage, description string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: referrals %s %s\n\n%s\n\nFlags:\n", name, usage, strings.TrimSpace(description))
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args; --help prints the usage on stdout and returns errHelp.
// Flags may come before or after the arguments (explain NAME --month M): Go's
// flag package stops at the first argument, so the rest is parsed again, and
// fs.Args() afterwards holds the arguments alone. After "--" everything is an
// argument.
func parse(e env, fs *flag.FlagSet, args []string) error {
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-h" || a == "-help" || a == "--help" {
			fs.SetOutput(e.stdout)
			fs.Usage()
			return errHelp
		}
	}
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			msg := err.Error()
			if strings.HasPrefix(msg, "flag provided but not defined") {
				// A name or path that starts with a dash ("-2+3 Health").
				msg += `; an argument that starts with "-" is read as a flag: put -- before it`
				if fs.Name() == "explain" {
					msg += `, as in: referrals explain -- "-2+3 Health"`
				}
			}
			return &usageError{msg}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			positional = append(positional, rest...)
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	// Leave the arguments, and only them, in fs.Args().
	if err := fs.Parse(append([]string{"--"}, positional...)); err != nil {
		return &usageError{err.Error()}
	}
	return nil
}
