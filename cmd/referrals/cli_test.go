package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/referrals/referrals/internal/config"
	"github.com/referrals/referrals/pipeline"
)

func runInProcess(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	err := run(context.Background(), args, func(string) string { return "" }, &out, &errb)
	return exitCode(err), out.String(), errb.String() + errString(err)
}

func errString(err error) string {
	if err == nil || isSilent(err) {
		return ""
	}
	return err.Error()
}

func TestHelpOnEveryCommand(t *testing.T) {
	for _, c := range append(commands(), command{name: "--help"}) {
		t.Run(c.name, func(t *testing.T) {
			args := []string{c.name, "--help"}
			if c.name == "--help" {
				args = []string{"--help"}
			}
			code, out, errOut := runInProcess(args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if !strings.Contains(out, "Usage: referrals") {
				t.Fatalf("no usage on stdout: %q", out)
			}
		})
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{
		{"frobnicate"},
		{"run", "--month", "October"},
		{"run", "--no-such-flag"},
		{"run", "extra-argument"},
		{"sample"},
		{"run", "--config", "/does/not/exist.toml"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, _, errOut := runInProcess(args...)
			if code != exitUsage {
				t.Fatalf("exit %d, want %d: %s", code, exitUsage, errOut)
			}
			if strings.TrimSpace(errOut) == "" {
				t.Fatal("no message")
			}
		})
	}
}

func TestCheckNamesFileAndFix(t *testing.T) {
	dir, cfg := practiceDir(t, 1, false)
	// Upstream renamed the clinician column in one export, and the billing
	// date format is wrong.
	p := filepath.Join(dir, "data", "exports", "scheduling", "appointments-2026-10.csv")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.Replace(b, []byte("Clinician,"), []byte("Provider Full Name,"), 1)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	body, _ := os.ReadFile(cfg)
	body = bytes.Replace(body, []byte("[billing]\n"), []byte("[billing]\ndate_format = \"%Y-%m-%d\"\n"), 1)
	if err := os.WriteFile(cfg, body, 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runInProcess("check", "--config", cfg)
	if code != exitUsage {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, exitUsage, out, errOut)
	}
	for _, want := range []string{
		"appointments-2026-10.csv", `"Provider Full Name"`, "[scheduling.columns] clinician",
		"claims-", `date_format "%Y-%m-%d"`, `"%m/%d/%Y"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("check output does not mention %s:\n%s", want, out)
		}
	}
	// check loads nothing: no database was created.
	if _, err := os.Stat(filepath.Join(dir, "db", "referrals.duckdb")); err == nil {
		t.Error("check created the database")
	}
	// With --quiet only the problems are printed.
	code, quiet, _ := runInProcess("check", "--config", cfg, "--quiet")
	if code != exitUsage || strings.Contains(quiet, "ok       ") || !strings.Contains(quiet, `"Provider Full Name"`) {
		t.Errorf("check --quiet: exit %d, want %d with the problems and no ok line:\n%s", code, exitUsage, quiet)
	}
	// A good configuration passes; quiet, it prints only its warnings (the
	// generated exports hold a row with a delimiter not quoted, which the run
	// skips).
	_, cfg2 := practiceDir(t, 1, false)
	if code, out, errOut := runInProcess("check", "--config", cfg2); code != 0 || !strings.Contains(out, "export file(s) can be read") {
		t.Fatalf("check on good exports: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = runInProcess("check", "--config", cfg2, "--quiet", "--log-format", "json")
	if code != 0 || out == "" {
		t.Errorf("check --quiet on good exports: exit %d, stdout %q, want the warnings\n%s", code, out, errOut)
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasPrefix(line, "WARNING  ") {
			t.Errorf("check --quiet on good exports printed %q, not a warning", line)
		}
	}
}

// The default configuration writes text without FSST; smaller_file = true keeps
// DuckDB's default compression.
func TestSmallerFileSetting(t *testing.T) {
	if s := engineSettings(config.Default()); !s.FastText {
		t.Errorf("default configuration: FastText off, want on")
	}
	path := filepath.Join(t.TempDir(), "referrals.toml")
	if err := os.WriteFile(path, []byte("[duckdb]\nsmaller_file = true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if s := engineSettings(cfg); s.FastText {
		t.Errorf("smaller_file = true: FastText on, want off")
	}
}

// A [duckdb] setting DuckDB would refuse (or misread) stops check and run with
// exit 2 and a message naming the file, the key and what to write, before any
// database is opened.
func TestBadDuckDBSettingsExit2(t *testing.T) {
	for _, c := range []struct{ body, want string }{
		{`memory_limit = "lots"`, `[duckdb] memory_limit = "lots": not a size; write a number and a unit, such as "600MB"`},
		{`memory_limit = "600"`, `[duckdb] memory_limit = "600": the number has no unit`},
		{`memory_limit = "-5GB"`, `[duckdb] memory_limit = "-5GB": a memory limit cannot be negative`},
		{`threads = -1`, `[duckdb] threads = -1: write 0`},
	} {
		for _, cmd := range []string{"check", "run"} {
			t.Run(cmd+" "+c.body, func(t *testing.T) {
				dir := t.TempDir()
				cfg := filepath.Join(dir, "referrals.toml")
				if err := os.WriteFile(cfg, []byte("database = \"db/referrals.duckdb\"\n[duckdb]\n"+c.body+"\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				args := []string{cmd, "--config", cfg}
				if cmd == "run" {
					args = append(args, "--quiet")
				}
				r := runBin(t, args...)
				if r.code != exitUsage {
					t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, exitUsage, r.stdout, r.stderr)
				}
				for _, want := range []string{cfg, c.want} {
					if !strings.Contains(r.stderr, want) {
						t.Errorf("stderr does not say %s:\n%s", want, r.stderr)
					}
				}
				if _, err := os.Stat(filepath.Join(dir, "db", "referrals.duckdb")); err == nil {
					t.Error("the database was created")
				}
			})
		}
	}
}

// A value of the wrong type (a single pattern where a list goes, a number in
// quotes) stops check and run with exit 2 and a message in plain words: the
// file, the line, the key, what it must be with an example, and what it is;
// not the TOML decoder's "destination has type slice". Every such value is
// named, in the file's order, before any database is opened.
func TestWrongTypeSettingsSayWhatToWrite(t *testing.T) {
	body := `database = "db/referrals.duckdb"
[scheduling]
files = "sched/*.csv"
[stage]
stage1_pp_share = "0.8"
[duckdb]
threads = 2.5
smaller_file = "yes"
[billing]
files = ["billing/*.csv", 3]
[billing.columns]
client_id = 7
`
	want := []string{
		`referrals.toml line 3: scheduling.files must be a list of file patterns, like files = ["sched/*.csv"]; it is a single string`,
		`referrals.toml line 5: stage.stage1_pp_share must be a number, like stage1_pp_share = 0.8; it is text in quotes ("0.8"): write the number without the quotes`,
		`referrals.toml line 7: duckdb.threads must be a whole number, like threads = 2; it is a number with a decimal point (2.5)`,
		`referrals.toml line 8: duckdb.smaller_file must be true or false, without quotes, like smaller_file = true; it is text in quotes ("yes")`,
		`referrals.toml line 10: billing.files must be a list of file patterns, each in quotes, like files = ["billing/*.csv"]; its item 2 is a whole number (3)`,
		`referrals.toml line 12: billing.columns.client_id must be the export's header in quotes, like client_id = "7"; it is a whole number (7)`,
	}
	for _, cmd := range []string{"check", "run"} {
		t.Run(cmd, func(t *testing.T) {
			dir := t.TempDir()
			cfg := filepath.Join(dir, "referrals.toml")
			if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			r := runBin(t, cmd, "--config", cfg, "--quiet")
			if r.code != exitUsage {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, exitUsage, r.stdout, r.stderr)
			}
			last := -1
			for _, w := range want {
				i := strings.Index(r.stderr, w)
				if i < 0 {
					t.Errorf("stderr does not say %s:\n%s", w, r.stderr)
				} else if i < last {
					t.Errorf("%s is not in the file's order:\n%s", w, r.stderr)
				}
				last = i
			}
			for _, jargon := range []string{"destination has type", "TOML value has type", "toml:"} {
				if strings.Contains(r.stderr, jargon) {
					t.Errorf("stderr holds the decoder's %q:\n%s", jargon, r.stderr)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "db", "referrals.duckdb")); err == nil {
				t.Error("the database was created")
			}
		})
	}
}

// Flags may follow the arguments; after "--" everything is an argument.
func TestParseTakesFlagsAfterArguments(t *testing.T) {
	e := env{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
	fs := newFlagSet(e, "explain", "", "")
	month := fs.String("month", "", "")
	quiet := fs.Bool("quiet", false, "")
	err := parse(e, fs, []string{"Anna", "--month", "2025-06", "Gomez", "--quiet", "--", "--month", "x"})
	if err != nil {
		t.Fatal(err)
	}
	if *month != "2025-06" || !*quiet {
		t.Errorf("--month %q, --quiet %v; want 2025-06 and true", *month, *quiet)
	}
	if got, want := strings.Join(fs.Args(), "|"), "Anna|Gomez|--month|x"; got != want {
		t.Errorf("arguments %q, want %q", got, want)
	}
	fs = newFlagSet(e, "explain", "", "")
	fs.String("month", "", "")
	var ue *usageError
	if err := parse(e, fs, []string{"Anna", "--bogus"}); !errors.As(err, &ue) {
		t.Errorf("an unknown flag after the argument: err %v, want a usage error", err)
	}
}

// usageLine is the "Usage: referrals NAME ..." line of a command's --help, and
// the flags its Flags section lists (leaving out the internal ones).
func usageLine(t *testing.T, name string) (line string, flags []string) {
	t.Helper()
	code, out, errOut := runInProcess(name, "--help")
	if code != 0 {
		t.Fatalf("%s --help: exit %d: %s", name, code, errOut)
	}
	line, _, _ = strings.Cut(out, "\n")
	if !strings.HasPrefix(line, "Usage: referrals "+name+" ") {
		t.Fatalf("%s --help starts %q", name, line)
	}
	_, defaults, ok := strings.Cut(out, "\nFlags:\n")
	if !ok {
		t.Fatalf("%s --help has no Flags section:\n%s", name, out)
	}
	flagLine := regexp.MustCompile(`(?m)^  -(\S+).*\n\s+(.*)$`)
	for _, m := range flagLine.FindAllStringSubmatch(defaults, -1) {
		if !strings.HasPrefix(m[2], "internal:") {
			flags = append(flags, m[1])
		}
	}
	if len(flags) == 0 {
		t.Fatalf("%s --help lists no flags:\n%s", name, out)
	}
	return strings.TrimPrefix(line, "Usage: "), flags
}

// Every command's usage line names each of its flags, and no flag it lacks;
// the README's list of commands is the usage lines.
func TestUsageLinesListEveryFlag(t *testing.T) {
	mentioned := regexp.MustCompile(`--([a-z-]+)`)
	var lines []string
	for _, c := range commands() {
		line, flags := usageLine(t, c.name)
		lines = append(lines, line)
		inLine := map[string]bool{}
		for _, m := range mentioned.FindAllStringSubmatch(line, -1) {
			inLine[m[1]] = true
		}
		for _, f := range flags {
			if !inLine[f] {
				t.Errorf("%s: the usage line %q does not list --%s", c.name, line, f)
			}
			delete(inLine, f)
		}
		for f := range inLine {
			t.Errorf("%s: the usage line %q lists --%s, which the command does not take", c.name, line, f)
		}
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, _ := strings.Cut(string(readme), "## Commands\n\n```\n")
	block, _, _ = strings.Cut(block, "```")
	space := regexp.MustCompile(`\s+`)
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(block), "\n") {
		got = append(got, space.ReplaceAllString(strings.TrimSpace(l), " "))
	}
	if strings.Join(got, "\n") != strings.Join(lines, "\n") {
		t.Errorf("README.md's commands:\n%s\nthe usage lines:\n%s", strings.Join(got, "\n"), strings.Join(lines, "\n"))
	}
}

// Every memory_limit the configuration accepts opens DuckDB: a value the check
// passes and DuckDB refuses would fail every night.
func TestAcceptedMemoryLimitsOpenDuckDB(t *testing.T) {
	for _, v := range []string{"600MB", "600 mb", "2GiB", "1.5GB", "2G", "300000KiB", "2 gigabytes", "3 gigabyte", "500 megabytes", "2000000000 bytes", "none", ""} {
		if _, err := config.ParseMemoryLimit(v); err != nil {
			t.Errorf("memory_limit %q refused: %v", v, err)
			continue
		}
		db, err := pipeline.Open(context.Background(), ":memory:", pipeline.Settings{MemoryLimit: v, Threads: 1})
		if err != nil {
			t.Errorf("memory_limit %q accepted, but DuckDB refuses it: %v", v, err)
			continue
		}
		db.Close()
	}
}

// A file that loaded with a notice and no rejected row (NUL bytes removed) is
// named on the console with the notice.
func TestRunPrintsNotices(t *testing.T) {
	dir, cfg := practiceDir(t, 0.3, false)
	files, err := filepath.Glob(filepath.Join(dir, "data", "exports", "scheduling", "*.csv"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no scheduling exports: %v", err)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	line := bytes.IndexByte(b, '\n') + 1
	comma := line + bytes.IndexByte(b[line:], ',')
	b = append(b[:comma:comma], append([]byte{0}, b[comma:]...)...)
	if err := os.WriteFile(files[0], b, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runInProcess("run", "--config", cfg, "--month", "2026-10")
	want := filepath.Base(files[0]) + ": the file held 1 NUL byte(s), which were removed"
	if code != 0 || !strings.Contains(out, "Notices (the rows loaded):") || !strings.Contains(out, want) {
		t.Errorf("run: exit %d, want a notice %q:\n%s\n%s", code, want, out, errOut)
	}
}
