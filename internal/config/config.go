// Package config reads the referrals configuration file (TOML) and fills in
// the defaults, so that with no file at all the tool runs on sample-data/.
//
// Every field is documented in referrals.example.toml at the top of the
// repository; keep the two in step.
package config

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// Config is the whole configuration file.
type Config struct {
	Database string `toml:"database"` // DuckDB file
	OutDir   string `toml:"out_dir"`  // reports folder
	KeyFile  string `toml:"key_file"` // client-key secret; default beside the database

	DuckDB     DuckDB     `toml:"duckdb"`
	Scheduling Source     `toml:"scheduling"`
	Billing    Source     `toml:"billing"`
	Reference  Reference  `toml:"reference"`
	Referrers  Referrers  `toml:"referrers"`
	Stage      Stage      `toml:"stage"`
	Ingest     IngestOpts `toml:"ingest"`

	// Dir is the folder relative paths are resolved against: the config
	// file's folder, or the working directory without a file.
	Dir string `toml:"-"`
	// File is the configuration file read, empty for the embedded default.
	File string `toml:"-"`
	// text is the file's text, to name the line of a setting in a message.
	text string
}

// DuckDB holds engine settings.
type DuckDB struct {
	Threads     int    `toml:"threads"`      // 0 = all cores
	MemoryLimit string `toml:"memory_limit"` // e.g. "2GB"; empty = DuckDB's default (80% of RAM)
	TempDir     string `toml:"temp_directory"`
	// SmallerFile keeps DuckDB's FSST compression of text in a database file of
	// DuckDB 1.0's format (one created before referrals wrote 1.5's): a file about
	// a sixth smaller, for full loads about a tenth slower (see Settings.FastText).
	// A file of 1.5's format compresses text with FSST dictionaries either way.
	SmallerFile bool `toml:"smaller_file"`
}

// Source describes one kind of export.
type Source struct {
	Files      []string          `toml:"files"`       // globs
	DateFormat string            `toml:"date_format"` // strptime format, e.g. %m/%d/%Y
	Delimiter  string            `toml:"delimiter"`   // "," by default; "auto" guesses from the header line
	Encoding   string            `toml:"encoding"`    // auto, utf-8, windows-1252, latin-1, utf-16
	Columns    map[string]string `toml:"columns"`     // canonical field -> export header
	// Layouts are groups of this export's files written otherwise: the exports
	// of another practice-management system (before or after a switch), or of
	// this one before an upgrade changed them. Each is read with its own
	// settings; see Layout.
	Layouts []Layout `toml:"layout"`
	// Statuses (scheduling only) says what the export's own status words mean,
	// where the built-in list does not know them.
	Statuses Statuses `toml:"statuses"`
	// layoutBlock is the layout block whose settings these are (Layout), 1 for
	// the first, 0 for the source's own; columnsOwn says the block's column
	// mapping is its own. Messages name the block to change (Block).
	layoutBlock int
	columnsOwn  bool
}

// Block names the block of these settings in a message about a file they read:
// "[scheduling]", or "[[scheduling.layout]] block 2" for a layout's (its files'
// date_format, delimiter and encoding are set there, even where it leaves them
// to the source: set in [scheduling], they would change the other files').
func (s Source) Block(source string) string {
	if s.layoutBlock > 0 {
		return fmt.Sprintf("[[%s.layout]] block %d", source, s.layoutBlock)
	}
	return "[" + source + "]"
}

// ColumnsName names the column mapping that reads these settings' files:
// "[scheduling.columns]", or "[[scheduling.layout]] block 2's columns" where
// the layout has a mapping of its own (the source's does not apply to its files).
func (s Source) ColumnsName(source string) string {
	if s.layoutBlock > 0 && s.columnsOwn {
		return columnsBlock(s.Block(source))
	}
	return "[" + source + ".columns]"
}

// Statuses is [scheduling.statuses]: for each class of appointment status, the
// export's spellings of it ("Attended - Billed", "No-Show (Charged)"). They are
// compared as the models compare statuses (StatusKey: case, spaces, punctuation
// and any letter outside a to z ignored), and override the built-in list.
// Other lists spellings that are none of the classes (an admin block, a note):
// they count as neither attended nor missed, as an unknown word does, and are
// no longer warned of.
type Statuses struct {
	Attended      []string `toml:"attended"`
	NoShow        []string `toml:"no_show"`
	LateCancelled []string `toml:"late_cancelled"`
	Cancelled     []string `toml:"cancelled"`
	Scheduled     []string `toml:"scheduled"`
	Other         []string `toml:"other"`
}

// statusClasses are the classes of [scheduling.statuses], as the file names
// them and as the models' appointment_status names them, in the file's order.
var statusClasses = []struct{ key, class string }{
	{"attended", "attended"}, {"no_show", "no-show"}, {"late_cancelled", "late-cancelled"},
	{"cancelled", "cancelled"}, {"scheduled", "scheduled"}, {"other", "other"},
}

// lists are the spellings of each class, in statusClasses' order.
func (s Statuses) lists() [][]string {
	return [][]string{s.Attended, s.NoShow, s.LateCancelled, s.Cancelled, s.Scheduled, s.Other}
}

// StatusKey folds a status as the models' status_key does: lower case, then
// only the letters a to z.
func StatusKey(status string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(status) {
		if r >= 'a' && r <= 'z' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// StatusWordKey is what a configured spelling is looked up by, as the models'
// configured_status folds a status: StatusKey, or for a spelling with no letter
// a to z ("✓", "-"), the spelling itself in lower case without the spaces
// around it. "" for a blank one.
func StatusWordKey(status string) string {
	if k := StatusKey(status); k != "" {
		return k
	}
	return strings.ToLower(strings.Trim(status, " "))
}

// Words maps each configured spelling, folded (StatusWordKey), to its class as the
// models name it (attended, no-show, late-cancelled, cancelled, scheduled,
// other): what the models read as the variable status_words. Empty without
// [scheduling.statuses].
func (s Statuses) Words() map[string]string {
	out := map[string]string{}
	for i, list := range s.lists() {
		for _, w := range list {
			if k := StatusWordKey(w); k != "" {
				out[k] = statusClasses[i].class
			}
		}
	}
	return out
}

// problems lists what cannot work in [scheduling.statuses], each with the
// path of its setting: a blank spelling, and a spelling given two classes.
func (s Statuses) problems(block string) []setting {
	var out []setting
	type seen struct{ spelling, class string }
	first := map[string]seen{}
	for i, list := range s.lists() {
		class := statusClasses[i].key
		path := []string{"scheduling", "statuses", class}
		for _, w := range list {
			k := StatusWordKey(w)
			if k == "" {
				out = append(out, setting{path, fmt.Sprintf("%s %s %q is blank: a blank status is no status (booked, as scheduled is), never listed as not understood; leave it out", block, class, w)})
				continue
			}
			if f, ok := first[k]; ok && f.class != class {
				out = append(out, setting{path, fmt.Sprintf("%s %q (%s) is %q (%s) as the tool compares statuses (case, spaces and punctuation ignored): give each spelling one class", block, w, class, f.spelling, f.class)})
				continue
			}
			if _, ok := first[k]; !ok {
				first[k] = seen{w, class}
			}
		}
	}
	return out
}

// empty says whether no class lists a spelling.
func (s Statuses) empty() bool {
	for _, l := range s.lists() {
		if len(l) > 0 {
			return false
		}
	}
	return true
}

// Layout is a [[scheduling.layout]] or [[billing.layout]] block: the files its
// patterns match are read with its settings, and a setting it leaves out is
// its source's. A file matched by a layout's pattern and by the source's own
// files, or by two layouts, is read with the first layout's settings.
type Layout struct {
	Files      []string          `toml:"files"`
	DateFormat string            `toml:"date_format"`
	Delimiter  string            `toml:"delimiter"`
	Encoding   string            `toml:"encoding"`
	Columns    map[string]string `toml:"columns"`
	// IDs names the system the files come from when it numbers its appointments
	// (or claim lines) apart from the other files' system: an id in these files
	// and in the others' is then two appointments, not one re-exported. Empty:
	// the ids are the other files' (a re-export of an appointment replaces it).
	IDs string `toml:"ids"`
}

// Layout is the source's settings for its layout i, or its own for i < 0:
// what layout i leaves out is the source's. Files are the layout's patterns,
// and Layouts are none.
func (s Source) Layout(i int) Source {
	if i < 0 || i >= len(s.Layouts) {
		out := s
		out.Layouts = nil
		return out
	}
	l := s.Layouts[i]
	out := Source{Files: l.Files, DateFormat: s.DateFormat, Delimiter: s.Delimiter, Encoding: s.Encoding, Columns: s.Columns, layoutBlock: i + 1}
	if l.DateFormat != "" {
		out.DateFormat = l.DateFormat
	}
	if l.Delimiter != "" {
		out.Delimiter = l.Delimiter
	}
	if l.Encoding != "" {
		out.Encoding = l.Encoding
	}
	if l.Columns != nil {
		// A layout's mapping stands for its files alone: the source's does not
		// apply to them (their headers are another system's).
		out.Columns = l.Columns
		out.columnsOwn = true
	}
	return out
}

// ColumnsBlock is the block whose column mapping reads the files of layout i:
// i where the layout has a mapping of its own, else -1 (the source's).
func (s Source) ColumnsBlock(i int) int {
	if i >= 0 && i < len(s.Layouts) && s.Layouts[i].Columns != nil {
		return i
	}
	return -1
}

// FoldIDs is a layout's ids as stored and compared: the system's name in lower
// case, its spaces folded ("Simple  Practice" is "simple practice").
func FoldIDs(system string) string {
	return strings.ToLower(strings.Join(strings.Fields(system), " "))
}

// IDs is the id system of the source's layout i ("" for the source's own files).
func (s Source) IDs(i int) string {
	if i < 0 || i >= len(s.Layouts) {
		return ""
	}
	return s.Layouts[i].IDs
}

// LayoutOf is the layout whose patterns match path (resolved as the
// configuration resolves them, by resolve), the first where several do, or -1.
func (s Source) LayoutOf(path string, resolve func(string) string) int {
	for i, l := range s.Layouts {
		for _, g := range l.Files {
			if ok, _ := filepath.Match(resolve(g), path); ok {
				return i
			}
		}
	}
	return -1
}

// PatternBlock names the block whose files list the pattern g, for a message
// about it: "[scheduling]", or "[[scheduling.layout]] block 2".
func (s Source) PatternBlock(source, g string) string {
	if !slices.Contains(s.Files, g) {
		for i, l := range s.Layouts {
			if slices.Contains(l.Files, g) {
				return s.Layout(i).Block(source)
			}
		}
	}
	return "[" + source + "]"
}

// AllFiles are the source's file patterns: its own, then its layouts'.
func (s Source) AllFiles() []string {
	out := slices.Clone(s.Files)
	for _, l := range s.Layouts {
		out = append(out, l.Files...)
	}
	return out
}

// Settings are the source's own settings then each layout's, each as Layout
// gives it, with the path of its block in the configuration (for messages).
func (s Source) Settings(name string) []LayoutSettings {
	out := []LayoutSettings{{Index: -1, Path: []string{name}, Source: s.Layout(-1)}}
	for i := range s.Layouts {
		out = append(out, LayoutSettings{Index: i, Path: []string{name, fmt.Sprintf("layout#%d", i+1)}, Source: s.Layout(i)})
	}
	return out
}

// LayoutSettings is one set of settings of a source: its own (Index -1) or a
// layout's. Source.Block names its block in a message.
type LayoutSettings struct {
	Index  int
	Path   []string // ["scheduling"] or ["scheduling", "layout#2"], for Where
	Source Source
}

// DayFirst says whether the exports write the day before the month: the
// date_format of each export that has files reads %d before %m (%d/%m/%Y). The
// roster's dates, typed by the same practice, are then read so too where they
// are not written YYYY-MM-DD (05/10/2026 is 5 October, not 10 May).
func (c Config) DayFirst() bool {
	n := 0
	for _, src := range []Source{c.Scheduling, c.Billing} {
		for _, l := range src.Settings("") {
			s := l.Source
			if len(s.Files) == 0 {
				continue
			}
			d, m := directive(s.DateFormat, 'd'), directive(s.DateFormat, 'm')
			if d < 0 || m < 0 || d > m {
				return false
			}
			n++
		}
	}
	return n > 0
}

// directive is where format's directive for c starts (%c, or unpadded %-c), or -1.
func directive(format string, c byte) int {
	i, j := strings.Index(format, "%"+string(c)), strings.Index(format, "%-"+string(c))
	if i < 0 || j >= 0 && j < i {
		return j
	}
	return i
}

// Reference names the small files the user maintains.
type Reference struct {
	Roster    string `toml:"roster"`
	Directory string `toml:"directory"`
	Aliases   string `toml:"aliases"`
}

// Referrers tunes referrer identity.
type Referrers struct {
	Channels            []string `toml:"channels"`              // extra channel names, added to the built-in list
	NearDuplicateCutoff float64  `toml:"near_duplicate_cutoff"` // jaro-winkler similarity at or above which unmerged names are listed
}

// Stage holds the stage rule thresholds (DOMAIN.md).
type Stage struct {
	WindowMonths        int     `toml:"window_months"`
	Stage3PracticeShare float64 `toml:"stage3_practice_share"`
	Stage3MinReferrals  int     `toml:"stage3_min_referrals"`
	Stage3MinEffective  float64 `toml:"stage3_min_effective"`
	Stage3MaxPPShare    float64 `toml:"stage3_max_pp_share"`
	Stage1PPShare       float64 `toml:"stage1_pp_share"`
	LowEvidenceBelow    int     `toml:"low_evidence_below"`
	ReadyMinReferrals   int     `toml:"ready_min_referrals"`
	RecentDays          int     `toml:"recent_days"`
	StalledMonths       int     `toml:"stalled_months"`
	LapsedMonths        int     `toml:"lapsed_months"`
	LapsedMinReferrals  int     `toml:"lapsed_min_referrals"`
	CoolingRatio        float64 `toml:"cooling_ratio"`
}

// IngestOpts bounds what is accepted as a plausible row.
type IngestOpts struct {
	MinYear       int `toml:"min_year"`        // dates before this year are rejected
	MaxYearsAhead int `toml:"max_years_ahead"` // dates in a year more than this many after the run's year are rejected
}

// Default is the configuration used without a file: the sample data.
func Default() Config {
	return Config{
		Database: "out/referrals.duckdb",
		OutDir:   "out",
		// A cap keeps a night at network scale within a small machine's
		// memory: above it DuckDB spills to disk instead of growing.
		DuckDB: DuckDB{MemoryLimit: "600MB"},
		Scheduling: Source{
			Files:      []string{"sample-data/exports/scheduling/*.csv"},
			DateFormat: "%m/%d/%Y",
			Delimiter:  "auto",
			Encoding:   "auto",
		},
		Billing: Source{
			Files:      []string{"sample-data/exports/billing/*.csv"},
			DateFormat: "%m/%d/%Y",
			Delimiter:  "auto",
			Encoding:   "auto",
		},
		Reference: Reference{
			Roster:    "sample-data/roster.csv",
			Directory: "sample-data/directory.csv",
			Aliases:   "sample-data/aliases.csv",
		},
		Referrers: Referrers{NearDuplicateCutoff: 0.92},
		Stage: Stage{
			WindowMonths:        12,
			Stage3PracticeShare: 0.5,
			Stage3MinReferrals:  4,
			Stage3MinEffective:  3,
			Stage3MaxPPShare:    0.5,
			Stage1PPShare:       0.8,
			LowEvidenceBelow:    3,
			ReadyMinReferrals:   3,
			RecentDays:          90,
			StalledMonths:       6,
			LapsedMonths:        6,
			LapsedMinReferrals:  3,
			CoolingRatio:        0.5,
		},
		Ingest: IngestOpts{MinYear: 2000, MaxYearsAhead: 2},
	}
}

// ErrConfig marks a configuration problem (exit code 2).
var ErrConfig = errors.New("configuration error")

// Load reads the file at path over the defaults. An empty path gives the
// defaults, resolved against the working directory.
func Load(path string) (Config, error) {
	c := Default()
	if path == "" {
		wd, err := os.Getwd()
		if err != nil {
			return c, err
		}
		c.Dir = wd
		return c, c.Validate()
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return c, fmt.Errorf("%w: read %s: %v", ErrConfig, path, err)
	}
	parseError := func(err error) error {
		var perr toml.ParseError
		if errors.As(err, &perr) {
			return fmt.Errorf("%w: %s line %d column %d: %s", ErrConfig, path, perr.Position.Line, perr.Position.Col, perr.Message)
		}
		return fmt.Errorf("%w: read %s: %v", ErrConfig, path, err)
	}
	// First as plain values, to say of each setting of the wrong type what it
	// must be, in words and with its line.
	var raw map[string]any
	if _, err := toml.Decode(string(b), &raw); err != nil {
		return c, parseError(err)
	}
	if problems := typeProblems(path, string(b), raw); len(problems) > 0 {
		return c, fmt.Errorf("%w: %s", ErrConfig, strings.Join(problems, "\n  "))
	}
	md, err := toml.Decode(string(b), &c)
	if err != nil {
		return c, parseError(err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return c, fmt.Errorf("%w: %s", ErrConfig, strings.Join(unknownKeys(path, string(b), und), "\n  ")+"\n  (referrals.example.toml lists every setting, section by section)")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return c, err
	}
	c.File = abs
	c.Dir = filepath.Dir(abs)
	c.text = string(b)
	return c, c.Validate()
}

// memorySize is a size as DuckDB's memory_limit reads it: a number, then a unit.
var memorySize = regexp.MustCompile(`^\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]+)\s*$`)

// memoryUnits are the units DuckDB's memory_limit takes (case does not matter),
// in bytes; DuckDB reads K, M, G and T as KB, MB, GB and TB.
var memoryUnits = map[string]float64{
	"b": 1, "byte": 1, "bytes": 1,
	"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
	"k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12,
	"kilobyte": 1e3, "megabyte": 1e6, "gigabyte": 1e9, "terabyte": 1e12,
	"kilobytes": 1e3, "megabytes": 1e6, "gigabytes": 1e9, "terabytes": 1e12,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
}

// MinMemoryLimit is the smallest memory_limit accepted. DuckDB reads an
// export in blocks of 64 MiB: at 50MB the sample's exports could not be
// loaded at all ("could not allocate block of size 64.0 MiB"), at 100MB they
// were.
const MinMemoryLimit = 100e6

// ParseMemoryLimit reads a [duckdb] memory_limit such as "600MB" or "2GiB" as
// bytes; "" is 0, DuckDB's own default. The error says what to write instead:
// DuckDB itself rejects "600" (no unit) only when the database is opened, and
// takes "-5GB" as a limit of 16 EiB.
func ParseMemoryLimit(s string) (int64, error) {
	// DuckDB's default, or "none" (no limit at all; DuckDB takes it in lower case only).
	if strings.TrimSpace(s) == "" || strings.TrimSpace(s) == "none" {
		return 0, nil
	}
	if strings.HasSuffix(strings.TrimSpace(s), "%") {
		return 0, fmt.Errorf(`DuckDB takes no share of the memory here; write a size such as "2GB" (its own default, "", is 80%% of the memory)`)
	}
	const write = `write a number and a unit, such as "600MB" or "2GB" (units KB, MB, GB, TB, or KiB, MiB, GiB, TiB, or written out: "2 gigabytes"), "none" for no limit, or "" for DuckDB's default (80% of the memory)`
	m := memorySize.FindStringSubmatch(s)
	if m == nil {
		if strings.HasPrefix(strings.TrimSpace(s), "-") {
			return 0, fmt.Errorf("a memory limit cannot be negative; %s", write)
		}
		if _, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
			return 0, fmt.Errorf("the number has no unit; %s", write)
		}
		return 0, fmt.Errorf("not a size; %s", write)
	}
	unit, ok := memoryUnits[strings.ToLower(m[2])]
	if !ok {
		return 0, fmt.Errorf("unknown unit %q; %s", m[2], write)
	}
	n, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, fmt.Errorf("not a size; %s", write)
	}
	bytes := n * unit
	if bytes < MinMemoryLimit {
		return 0, fmt.Errorf("too small: DuckDB cannot load an export in less than 100MB; write at least \"100MB\" (\"600MB\" is the default), or \"\" for DuckDB's default (80%% of the memory)")
	}
	if bytes > float64(1<<62) {
		return 0, fmt.Errorf("too large; %s", write)
	}
	return int64(bytes), nil
}

// sharedHeaders reports fields mapped to the same header (compared as the
// loader matches them: case and surrounding space ignored). One column read
// as two fields is always a mistake, and when one of them is the client id the
// other would store or print client ids: a date or amount read from it fails
// on every row, quoting the value.
func sharedHeaders(block string, columns map[string]string) []string {
	byHeader := map[string][]string{}
	for field, h := range columns {
		k := strings.ToLower(strings.TrimSpace(h))
		byHeader[k] = append(byHeader[k], field)
	}
	var errs []string
	for _, fields := range byHeader {
		if len(fields) < 2 {
			continue
		}
		sort.Strings(fields)
		names := strings.Join(fields[:len(fields)-1], ", ") + " and " + fields[len(fields)-1]
		errs = append(errs, fmt.Sprintf("%s %s name the same header %q: each field needs its own column; keep the one that is right and change the others",
			block, names, strings.TrimSpace(columns[fields[0]])))
	}
	sort.Strings(errs)
	return errs
}

// columnsBlock names the column mapping of a block: [scheduling.columns], or
// [[scheduling.layout]] block 2's columns.
func columnsBlock(block string) string {
	if strings.HasPrefix(block, "[[") {
		return block + "'s columns"
	}
	return strings.TrimSuffix(block, "]") + ".columns]"
}

// idSystemName is what a layout's ids may be: a system's name.
var idSystemName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 _-]*$`)

// Path resolves p against the configuration's folder.
func (c Config) Path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.Dir, p)
}

// KeyPath is where the client-key secret file lives.
func (c Config) KeyPath() string {
	if c.KeyFile != "" {
		return c.Path(c.KeyFile)
	}
	return filepath.Join(filepath.Dir(c.Path(c.Database)), "referrals.key")
}

// Validate reports settings that cannot work, naming the key to change and,
// for a configuration file, the line that sets it.
func (c Config) Validate() error {
	var errs []setting
	add := func(msg string, path ...string) { errs = append(errs, setting{path, msg}) }
	for _, k := range []struct{ key, value, like string }{
		{"database", c.Database, `database = "out/referrals.duckdb"`},
		{"out_dir", c.OutDir, `out_dir = "out"`},
	} {
		if strings.TrimSpace(k.value) == "" {
			add(fmt.Sprintf("%s = %q is empty: it must name a %s, e.g. %s, or leave the line out for the default", k.key, k.value,
				map[string]string{"database": "file", "out_dir": "folder"}[k.key], k.like), k.key)
		}
	}
	if len(c.Scheduling.AllFiles()) == 0 && len(c.Billing.AllFiles()) == 0 {
		add(`[scheduling] files and [billing] files are both empty lists: no export would be read, and the run would have nothing to report; list the export files' patterns, e.g. files = ["exports/scheduling/*.csv"]`, "scheduling", "files")
	}
	for _, s := range []struct {
		name string
		src  Source
	}{{"scheduling", c.Scheduling}, {"billing", c.Billing}} {
		for _, l := range s.src.Settings(s.name) {
			// [scheduling] for the source's own settings, [[scheduling.layout]] block 2 for a layout's.
			block := l.Source.Block(s.name)
			at := func(key ...string) []string { return append(slices.Clone(l.Path), key...) }
			var lay Layout
			if l.Index >= 0 {
				lay = s.src.Layouts[l.Index]
				if len(lay.Files) == 0 {
					add(fmt.Sprintf("%s has no files: a layout reads the files its patterns match with its settings; list them, e.g. files = [\"exports/%s/old-system/*.csv\"]", block, s.name), at("files")...)
				}
				if lay.IDs != "" && !idSystemName.MatchString(lay.IDs) {
					add(fmt.Sprintf("%s ids = %q: name the system in letters, digits, spaces, - or _ (such as \"SimplePractice\"), or leave the line out when the files number their ids as the others do", block, lay.IDs), at("ids")...)
				}
			}
			src := l.Source
			if l.Index < 0 || lay.Encoding != "" {
				switch strings.ToLower(src.Encoding) {
				case "", "auto", "utf-8", "utf8", "windows-1252", "cp1252", "latin-1", "latin1", "iso-8859-1", "utf-16":
				default:
					add(fmt.Sprintf("%s encoding = %q is not one of auto, utf-8, windows-1252, latin-1, utf-16", block, src.Encoding), at("encoding")...)
				}
			}
			if d := src.Delimiter; (l.Index < 0 || lay.Delimiter != "") && d != "" && d != "auto" && len([]rune(d)) != 1 && d != `\t` {
				add(fmt.Sprintf("%s delimiter = %q must be one character (use \"\\t\" for tab, or \"auto\")", block, d), at("delimiter")...)
			}
			if l.Index < 0 || lay.DateFormat != "" {
				if !strings.Contains(src.DateFormat, "%") {
					add(fmt.Sprintf("%s date_format = %q is not a strptime format such as \"%%m/%%d/%%Y\" or \"%%Y-%%m-%%d\"", block, src.DateFormat), at("date_format")...)
				} else if strings.Contains(src.DateFormat, "%z") || strings.Contains(src.DateFormat, "%Z") {
					// DuckDB reads the offset and moves the time to UTC: 2026-08-31T20:30:00-05:00
					// loaded as 1 September, without a word.
					add(fmt.Sprintf("%s date_format = %q reads a time-zone offset (%%z), which moves each time to UTC: an appointment at 8:30 PM at -05:00 would load dated the next day; export the dates in local time without an offset, and read them with a format such as \"%%Y-%%m-%%dT%%H:%%M:%%S\"", block, src.DateFormat), at("date_format")...)
				}
			}
			for _, g := range src.Files {
				// A pattern Glob cannot read (an unclosed [) would fail as if it were a file.
				if _, err := filepath.Match(g, ""); err != nil {
					add(fmt.Sprintf("%s files %q is not a valid file pattern (%v): a [ opens a set of characters that ] must close; to match a [ itself, write [[]", block, g, err), at("files")...)
				}
			}
			if l.Index >= 0 && lay.Columns == nil {
				continue // the source's mapping, checked with it
			}
			for _, field := range slices.Sorted(maps.Keys(src.Columns)) {
				if !KnownField(s.name, field) {
					add(fmt.Sprintf("%s %q is not a field; the fields are %s", columnsBlock(block), field, strings.Join(FieldNames(s.name), ", ")), at("columns", field)...)
				}
			}
			for _, e := range sharedHeaders(columnsBlock(block), src.Columns) {
				add(e, at("columns")...)
			}
		}
	}
	errs = append(errs, c.Scheduling.Statuses.problems("[scheduling.statuses]")...)
	if !c.Billing.Statuses.empty() {
		add("[billing.statuses]: appointment statuses are the scheduling export's; move the block to [scheduling.statuses]", "billing", "statuses")
	}
	if c.DuckDB.Threads < 0 {
		add(fmt.Sprintf("[duckdb] threads = %d: write 0 (one per core, the default) or a number of threads such as 2", c.DuckDB.Threads), "duckdb", "threads")
	}
	if _, err := ParseMemoryLimit(c.DuckDB.MemoryLimit); err != nil {
		add(fmt.Sprintf("[duckdb] memory_limit = %q: %v", c.DuckDB.MemoryLimit, err), "duckdb", "memory_limit")
	}
	for _, r := range c.ranges() {
		if msg := r.check(); msg != "" {
			add(msg, r.path...)
		}
	}
	if len(errs) > 0 {
		// In the file's order, as the lines are named.
		sort.SliceStable(errs, func(i, j int) bool { return c.line(errs[i].path) < c.line(errs[j].path) })
		lines := make([]string, len(errs))
		for i, e := range errs {
			lines[i] = c.Where(e.path...) + ": " + e.msg
		}
		return fmt.Errorf("%w:\n  %s", ErrConfig, strings.Join(lines, "\n  "))
	}
	return nil
}

// layoutLine is the line of src that sets key (a key, or columns and a field)
// in the n-th [[source.layout]] block, else the block's own line, or 0.
func layoutLine(src, source string, n int, key []string) int {
	block, seen, found := 0, 0, 0
	var table []string
	for i, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "[[") && strings.Join(splitKey(strings.Trim(strings.SplitN(line, "]]", 2)[0], "[ ")), ".") == source+".layout":
			seen++
			if seen == n {
				block = i + 1
			} else if seen > n {
				return max(found, block)
			}
			table = nil
		case strings.HasPrefix(line, "["):
			name := splitKey(strings.Trim(strings.TrimSpace(strings.SplitN(line, "]", 2)[0]), "[ "))
			if seen == n && strings.Join(name, ".") != source+".layout.columns" {
				return max(found, block)
			}
			table = name[min(len(name), 2):]
		case seen == n && strings.Contains(line, "=") && !strings.HasPrefix(line, "#"):
			k, _, _ := strings.Cut(line, "=")
			full := append(slices.Clone(table), splitKey(k)...)
			if strings.Join(full, ".") == strings.Join(key, ".") {
				found = i + 1
			}
		}
	}
	return max(found, block)
}

// setting is a problem with the setting at path.
type setting struct {
	path []string
	msg  string
}

// Where names the configuration file and the line that sets the key at path
// ("referrals.toml line 12"), the file alone when no line sets it, or the
// built-in settings: for a message about that setting.
func (c Config) Where(path ...string) string {
	if c.File == "" {
		return "the built-in settings"
	}
	if n := c.line(path); n > 0 {
		return fmt.Sprintf("%s line %d", c.File, n)
	}
	return c.File
}

// line is the line of the configuration file that sets the key at path, or 0.
func (c Config) line(path []string) int {
	if c.text == "" || len(path) == 0 {
		return 0
	}
	return lineOf(c.text, path)
}
