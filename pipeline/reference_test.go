package pipeline_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/referrals/referrals/pipeline"
)

// The reference tables are rewritten only when what they would hold changed: an unchanged
// set of files leaves them alone, an edited one replaces them whole.
func TestReferenceReloadedOnlyWhenChanged(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := openRefDB(t, dir)
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	files := pipeline.ReferenceFiles{
		Roster:    write("roster.csv", "name,aliases,npi,start_date,end_date,specialties,payers,accepting\nAnn Ash,,,2020-01-01,,,,yes\n"),
		Directory: write("directory.csv", "name,aliases,npi,category,organisation,point_person,channel\nDr Dee,,,physician,,Ann Ash,\n"),
		Aliases:   write("aliases.csv", "alias,referrer\nDee MD,Dr Dee\n"),
	}
	aliases := func() []string {
		rows, err := db.QueryContext(ctx, `SELECT alias FROM ref_aliases ORDER BY alias`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var a string
			if err := rows.Scan(&a); err != nil {
				t.Fatal(err)
			}
			out = append(out, a)
		}
		return out
	}
	if err := pipeline.LoadReference(ctx, db, files); err != nil {
		t.Fatal(err)
	}
	// A row no file holds: it survives a reload of unchanged files, and only then.
	if _, err := db.ExecContext(ctx, `INSERT INTO ref_aliases VALUES ('marker', 'x')`); err != nil {
		t.Fatal(err)
	}
	if err := pipeline.LoadReference(ctx, db, files); err != nil {
		t.Fatal(err)
	}
	if got := aliases(); len(got) != 2 || got[0] != "Dee MD" || got[1] != "marker" {
		t.Fatalf("after a reload of unchanged files: aliases %q, want the tables left alone", got)
	}
	write("aliases.csv", "alias,referrer\nDee MD,Dr Dee\nD. Dee,Dr Dee\n")
	if err := pipeline.LoadReference(ctx, db, files); err != nil {
		t.Fatal(err)
	}
	if got := aliases(); len(got) != 2 || got[0] != "D. Dee" || got[1] != "Dee MD" {
		t.Fatalf("after an edit: aliases %q, want exactly the file's two", got)
	}
	// Extra channels from the configuration count as a change too.
	files.Channels = []string{"Billboard"}
	if err := pipeline.LoadReference(ctx, db, files); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM ref_channels WHERE name = 'Billboard'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("configured channel stored %d times (%v), want once", n, err)
	}
}

// A reference file saved with semicolons (or tabs) between its values is refused
// with a message that says so, not that a column is missing.
func TestReferenceFileWithSemicolonsSaysSo(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := openRefDB(t, dir)
	for sep, name := range map[string]string{";": "semicolons", "\t": "tabs"} {
		p := filepath.Join(dir, "aliases.csv")
		if err := os.WriteFile(p, []byte("alias"+sep+"referrer\nDee MD"+sep+"Dr Dee\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		err := pipeline.LoadReference(ctx, db, pipeline.ReferenceFiles{Aliases: p})
		if err == nil || !strings.Contains(err.Error(), "aliases file "+p+" separates its values with "+name) {
			t.Errorf("aliases with %s: %v, want a message naming the file and the %s", name, err, name)
		}
	}
}

// openRefDB opens a database in dir for the reference files' tests.
func openRefDB(t *testing.T, dir string) *sql.DB {
	t.Helper()
	db, err := pipeline.Open(context.Background(), filepath.Join(dir, "r.duckdb"), pipeline.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
