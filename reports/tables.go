package reports

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/google/renameio/v2"

	"github.com/referrals/referrals/internal/config"
)

// Month is the first day of a report month.
type Month = time.Time

// defaultWindowMonths is the window length used when the database does not say otherwise
// (DOMAIN.md: the trailing 12 complete months).
const defaultWindowMonths = 12

// period describes the report month and the spans the reports show around it.
type period struct {
	month       time.Time // first day of the report month
	windowStart time.Time // first month of the trailing window
	window      int       // window length in months
	rules       rules     // the settings the watch lists' and introductions' titles state
}

// rules are the [stage] settings the reports put in words ("stage 2 for 6 months or
// more"). The pipeline sets them as DuckDB variables with the models; on a connection
// without them (a report run on its own) the defaults apply.
type rules struct {
	StalledMonths, LapsedMonths, LapsedMinReferrals int
	ReadyMinReferrals, RecentDays                   int
	LowEvidenceBelow                                int
	CoolingRatio                                    float64
	NearDuplicateCutoff                             float64 // the Data quality sheet's near-duplicate names
}

func defaultRules() rules {
	s := config.Default().Stage
	return rules{StalledMonths: s.StalledMonths, LapsedMonths: s.LapsedMonths, LapsedMinReferrals: s.LapsedMinReferrals,
		ReadyMinReferrals: s.ReadyMinReferrals, RecentDays: s.RecentDays, LowEvidenceBelow: s.LowEvidenceBelow,
		CoolingRatio: s.CoolingRatio, NearDuplicateCutoff: config.Default().Referrers.NearDuplicateCutoff}
}

// key is what a cached part written for the period depends on.
func (p period) key() string {
	return fmt.Sprintf("%s,%d,%s,%+v", iso(p.month), p.window, iso(p.windowStart), p.rules)
}

func (p period) monthLabel() string { return p.month.Format("January 2006") }

// monthsBack returns the first day of the month n months before the report month.
func (p period) monthsBack(n int) time.Time { return p.month.AddDate(0, -n, 0) }

// iso is the SQL parameter form of a date: DuckDB casts it with ?::DATE.
func iso(t time.Time) string { return t.Format("2006-01-02") }

// loadPeriod normalises month to its first day and checks that the marts were built for it:
// a report that mixes last month's stages with this month's title would mislead quietly.
func loadPeriod(ctx context.Context, db querier, month time.Time) (period, error) {
	m := time.Date(month.Year(), month.Month(), 1, 0, 0, 0, 0, time.UTC)
	p := period{month: m, window: defaultWindowMonths, rules: defaultRules()}

	var built sql.NullString
	var distinct int64
	err := db.QueryRowContext(ctx,
		`SELECT strftime(max(month), '%Y-%m-%d'), count(DISTINCT month) FROM referrer_status`).Scan(&built, &distinct)
	if err != nil {
		return p, fmt.Errorf("read referrer_status: %w (run the models before the reports)", err)
	}
	if distinct > 1 || (built.Valid && built.String != iso(m)) {
		return p, fmt.Errorf("referrer_status was built for %s, not for the report month %s: run the models for %s first",
			built.String, m.Format("2006-01"), m.Format("2006-01"))
	}

	// The pipeline sets the window and the rules as DuckDB variables; they are per
	// connection, so when the reports run on another connection the defaults apply.
	vars := map[string]string{}
	if rows, err := db.QueryContext(ctx, `SELECT name, value::VARCHAR FROM duckdb_variables()`); err == nil {
		for rows.Next() {
			var name string
			var value sql.NullString
			if rows.Scan(&name, &value) == nil && value.Valid {
				vars[name] = value.String
			}
		}
		rows.Close()
	}
	intVar := func(name string, to *int) {
		if v, err := strconv.Atoi(vars[name]); err == nil {
			*to = v
		}
	}
	var window int
	if intVar("window_months", &window); window > 0 && window <= 120 {
		p.window = window
	}
	p.windowStart = p.monthsBack(p.window - 1)
	intVar("stalled_months", &p.rules.StalledMonths)
	intVar("lapsed_months", &p.rules.LapsedMonths)
	intVar("lapsed_min_referrals", &p.rules.LapsedMinReferrals)
	intVar("ready_min_referrals", &p.rules.ReadyMinReferrals)
	intVar("recent_days", &p.rules.RecentDays)
	intVar("low_evidence_below", &p.rules.LowEvidenceBelow)
	if v, err := strconv.ParseFloat(vars["cooling_ratio"], 64); err == nil {
		p.rules.CoolingRatio = v
	}
	if v, err := strconv.ParseFloat(vars["near_duplicate_cutoff"], 64); err == nil {
		p.rules.NearDuplicateCutoff = v
	}
	return p, nil
}

// writeAtomic writes a file through a temporary file in the same folder and renames it into
// place, so a reader never sees half a report.
func writeAtomic(path string, write func(w io.Writer) error) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create folder for %s: %w", path, err)
	}
	pf, err := renameio.NewPendingFile(path, renameio.WithTempDir(dir), renameio.WithPermissions(0o644))
	if err != nil {
		return fmt.Errorf("create temporary file for %s: %w", path, err)
	}
	defer func() { _ = pf.Cleanup() }()
	if err := write(pf); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := pf.CloseAtomicallyReplace(); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	return nil
}

// reportTemp is a report's name, as writeAtomic's temporary file holds it ("." + the
// name + digits: renameio's naming) in out_dir.
var reportTemp = regexp.MustCompile(`^\.(referrals-\d{4}-\d{2}\.(xlsx|html)|referrers-\d{4}-\d{2}\.csv|index\.html)\d+$`)

// cacheTemp is the same for the files of the report cache.
var cacheTemp = regexp.MustCompile(`^\..+\.(part|cached)\d+$`)

// RemoveLeftoverTemps removes the temporary files of writeAtomic that a run killed
// while it wrote its reports left in outDir and in the report cache (a kill between
// the temporary file's creation and its rename): whole or half reports under a hidden
// name, one more for every such kill, that no run would otherwise remove. Only the
// reports' own names are matched; the caller holds the database's lock.
func RemoveLeftoverTemps(outDir, cacheDir string) {
	for _, d := range []struct {
		dir  string
		temp *regexp.Regexp
	}{{outDir, reportTemp}, {cacheDir, cacheTemp}} {
		if d.dir == "" {
			continue
		}
		entries, err := os.ReadDir(d.dir)
		if err != nil {
			continue // no folder yet: nothing left
		}
		for _, e := range entries {
			if e.Type().IsRegular() && d.temp.MatchString(e.Name()) {
				_ = os.Remove(filepath.Join(d.dir, e.Name()))
			}
		}
	}
}

// querier is what the reports read through: the database, or a recorder of the queries
// run (partCache's test proves a cached sheet reads only model tables).
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// queryAll runs a query and returns every row as driver values. what names the data in errors.
func queryAll(ctx context.Context, db querier, what, query string, args ...any) ([][]any, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", what, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", what, err)
	}
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("read %s: %w", what, err)
		}
		out = append(out, vals)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	return out, nil
}

// The helpers below turn driver values into Go values. The queries cast to plain SQL types,
// but they accept every type the DuckDB driver returns so a contract change in a column's type
// (INTEGER to BIGINT, DOUBLE to DECIMAL) does not break the reports.

func asString(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", false
	case string:
		return x, true
	case []byte:
		return string(x), true
	case fmt.Stringer:
		return x.String(), true
	default:
		return fmt.Sprint(x), true
	}
}

func asInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int8:
		return int64(x), true
	case int16:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint64:
		return int64(x), true
	case *big.Int:
		if x != nil && x.IsInt64() {
			return x.Int64(), true
		}
	case float64:
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			return int64(math.Round(x)), true
		}
	case interface{ Float64() float64 }:
		return int64(math.Round(x.Float64())), true
	}
	return 0, false
}

func asFloat(v any) (float64, bool) {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case float32:
		f = float64(x)
	case interface{ Float64() float64 }:
		f = x.Float64()
	case *big.Int:
		if x == nil {
			return 0, false
		}
		f, _ = new(big.Float).SetInt(x).Float64()
	default:
		i, ok := asInt(v)
		if !ok {
			return 0, false
		}
		f = float64(i)
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

func asTime(v any) (time.Time, bool) {
	t, ok := v.(time.Time)
	return t, ok
}

func asBool(v any) (bool, bool) {
	b, ok := v.(bool)
	return b, ok
}
