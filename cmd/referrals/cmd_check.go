package main

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/referrals/referrals/internal/config"
	"github.com/referrals/referrals/pipeline"
)

func cmdCheck(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "check", "[--config FILE]", `
Validate the configuration and every export file it would read, without
loading anything and without touching the database: encoding, delimiter,
the headers found and the field each maps to, the date format on the first
rows, and the roster, directory and alias files. Each problem says what to
change. Exit code 0 when everything can be read, 2 otherwise.`)
	// check logs nothing (it prints its findings on stdout): of the common
	// flags only --config applies.
	configFile := fs.String("config", "", "configuration file (TOML); default: built-in settings for sample-data/")
	if err := parse(e, fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{fmt.Sprintf("check takes no arguments, got %q; did you mean --config?", fs.Arg(0))}
	}
	cfg, err := loadConfig(*configFile)
	if err != nil {
		return err
	}
	w := e.stdout
	where := "built-in defaults (sample-data/)"
	if cfg.File != "" {
		where = cfg.File
	}
	fmt.Fprintf(w, "Configuration: %s\n", where)
	problems := 0
	mem, err := pipeline.Open(ctx, ":memory:", pipeline.Settings{Threads: 1})
	if err != nil {
		return err
	}
	defer mem.Close()
	j := &job{cfg: cfg}
	if err := pipeline.LoadReference(ctx, mem, j.referenceFiles()); err != nil {
		problems++
		fmt.Fprintf(w, "PROBLEM  reference files: %v\n", err)
	} else {
		var roster, dir, aliases int
		mem.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM ref_roster), (SELECT count(*) FROM ref_directory), (SELECT count(*) FROM ref_aliases)`).Scan(&roster, &dir, &aliases)
		fmt.Fprintf(w, "ok       reference files: %d clinicians in the roster, %d directory entries, %d aliases\n", roster, dir, aliases)
	}
	checks, err := pipeline.CheckExports(ctx, cfg)
	if err != nil {
		return err
	}
	for _, c := range checks {
		if !c.OK() {
			problems += len(c.Problems)
			fmt.Fprintf(w, "PROBLEM  %s file %s\n", c.Source, c.Path)
			for _, p := range c.Problems {
				fmt.Fprintf(w, "         - %s\n", p)
			}
			continue
		}
		fields := make([]string, 0, len(c.Mapping))
		for f, h := range c.Mapping {
			if config.NormaliseHeader(f) == config.NormaliseHeader(h) {
				fields = append(fields, f)
			} else {
				fields = append(fields, fmt.Sprintf("%s=%q", f, h))
			}
		}
		sort.Strings(fields)
		fmt.Fprintf(w, "ok       %s file %s: %s, delimiter %q, %d sample rows; fields %s", c.Source, c.Path, c.Encoding, string(c.Delimiter), c.Rows, strings.Join(fields, ", "))
		if c.Amounts != "" {
			fmt.Fprintf(w, "; amounts with a %s", c.Amounts)
		}
		if len(c.Ignored) > 0 {
			fmt.Fprintf(w, "; not used: %s", strings.Join(c.Ignored, ", "))
		}
		fmt.Fprintln(w)
	}
	if problems > 0 {
		return fmt.Errorf("%w: check found %d problem(s); fix them and run referrals check again", config.ErrConfig, problems)
	}
	fmt.Fprintf(w, "All %d export file(s) can be read.\n", len(checks))
	return nil
}
