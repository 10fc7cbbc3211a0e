package reports

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
)

// hostileNames are referrer names in the fixture that must come out as plain text everywhere.
var hostileNames = []string{
	`</script><img src=x onerror=alert(1)>`,
	`"><svg onload=alert(1)>`,
	`=HYPERLINK("http://x","y")`,
	`=1+1`,
	`+1+1`,
	`@SUM(1)`,
	`<img src=x onerror="window.__xss=1">`,
	`-2+3`,
}

// openFixtureDB opens the database the report tests read: a real DuckDB file in t.TempDir()
// holding every table of docs/TABLES.md. To run the tests against the real pipeline's output,
// replace the body of this function with one that builds the database from exports.
func openFixtureDB(t testing.TB) *sql.DB {
	return openGeneratedDB(t, 40)
}

// openGeneratedDB builds the fixture (testdata/fixture.sql) for the given number of referrers.
func openGeneratedDB(t testing.TB, referrers int) *sql.DB {
	t.Helper()
	script, err := os.ReadFile(filepath.Join("testdata", "fixture.sql"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("duckdb", filepath.Join(t.TempDir(), "referrals.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	ctx := context.Background()
	// The variable is per connection: set it and run the script on the same one.
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("SET VARIABLE fixture_referrers = %d;\n%s", referrers, script)); err != nil {
		t.Fatalf("build fixture: %v", err)
	}
	return db
}

// reportMonth is the month the database's marts were built for.
func reportMonth(t testing.TB, db *sql.DB) time.Time {
	t.Helper()
	var m time.Time
	if err := db.QueryRow(`SELECT max(month) FROM referrer_status`).Scan(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func count(t testing.TB, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int64
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return int(n)
}

func TestFixtureCoversTheCases(t *testing.T) {
	db := openFixtureDB(t)
	checks := []struct {
		what  string
		query string
	}{
		{"stage 1 referrers", `SELECT count(*) FROM referrer_status WHERE stage = 1`},
		{"stage 2 referrers", `SELECT count(*) FROM referrer_status WHERE stage = 2`},
		{"stage 3 referrers", `SELECT count(*) FROM referrer_status WHERE stage = 3`},
		{"low evidence", `SELECT count(*) FROM referrer_status WHERE low_evidence`},
		{"transitions up", `SELECT count(*) FROM stage_transitions WHERE direction = 'up'`},
		{"transitions down", `SELECT count(*) FROM stage_transitions WHERE direction = 'down'`},
		{"introductions", `SELECT count(*) FROM introductions`},
		{"stalled", `SELECT count(*) FROM watch_list WHERE list = 'stalled'`},
		{"cooling", `SELECT count(*) FROM watch_list WHERE list = 'cooling'`},
		{"lapsed", `SELECT count(*) FROM watch_list WHERE list = 'lapsed'`},
		{"regressed", `SELECT count(*) FROM watch_list WHERE list = 'regressed'`},
		{"rejected rows", `SELECT count(*) FROM rejected_rows`},
		{"unresolved clinicians", `SELECT count(*) FROM stg_clinician_spellings WHERE NOT clinician_resolved`},
		{"unknown statuses", `SELECT count(*) FROM stg_unknown_statuses`},
		{"unknown sources", `SELECT count(*) FROM referrals WHERE source_kind = 'unknown'`},
		{"24 months of history", `SELECT count(DISTINCT referral_month) >= 24 FROM referrals`},
	}
	for _, c := range checks {
		var n int64
		if err := db.QueryRow(c.query).Scan(&n); err != nil {
			// a boolean check
			var b bool
			if err2 := db.QueryRow(c.query).Scan(&b); err2 != nil {
				t.Fatalf("%s: %v", c.what, err)
			}
			if !b {
				t.Errorf("fixture has no %s", c.what)
			}
			continue
		}
		if n == 0 {
			t.Errorf("fixture has no %s", c.what)
		}
	}
	for _, name := range append(hostileNames, "") {
		q := `SELECT count(*) FROM referrer_status WHERE referrer = ? AND referrals > 0`
		arg := any(name)
		if name == "" {
			q = `SELECT count(*) FROM referrer_status WHERE length(referrer) = 300 AND referrals > 0`
			arg = nil
		}
		args := []any{}
		if arg != nil {
			args = append(args, arg)
		}
		if count(t, db, q, args...) != 1 {
			t.Errorf("fixture lacks the active referrer %q (empty = the 300-character name)", name)
		}
	}
}
