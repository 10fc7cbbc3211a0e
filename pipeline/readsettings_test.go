package pipeline

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/referrals/referrals/internal/config"
)

// A reading setting changed to what the files were already read with (the
// same encoding spelt otherwise, or "auto" made explicit with the encoding it
// found for every file) is not a change; anything else is, until a rebuild.
func TestEquivalentEncodingIsNoChange(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "db.duckdb"), Settings{Threads: 1})
	must(t, err)
	defer db.Close()
	must(t, EnsureSchema(ctx, db))
	_, err = db.Exec(`INSERT INTO ingest_files (file_id, source, path, sha256, encoding) VALUES
		(1, 'scheduling', 'a.csv', 'x', 'utf-8'), (2, 'scheduling', 'b.csv', 'y', 'utf-8'), (3, 'billing', 'c.csv', 'z', 'windows-1252')`)
	must(t, err)
	c := config.Default()
	must(t, RecordReadSettings(ctx, db, c, false))
	changed := func(sched, bill string) string {
		c := config.Default()
		c.Scheduling.Encoding, c.Billing.Encoding = sched, bill
		ch, err := ChangedReadSettings(ctx, db, c)
		must(t, err)
		var out []string
		for _, r := range ch {
			out = append(out, r.String())
		}
		return strings.Join(out, "; ")
	}
	for _, tc := range []struct{ sched, bill, want string }{
		{"auto", "auto", ""},
		{"utf-8", "windows-1252", ""},
		{"UTF8", "cp1252", ""},
		{"latin-1", "auto", "[scheduling] encoding"},
		{"utf-8", "utf-8", "[billing] encoding"},
	} {
		if got := changed(tc.sched, tc.bill); got != tc.want {
			t.Errorf("encoding %q/%q: changed %q, want %q", tc.sched, tc.bill, got, tc.want)
		}
	}
	// Recorded explicit, then back to auto: the guess is not known without the files.
	c.Billing.Encoding = "windows-1252"
	must(t, RecordReadSettings(ctx, db, c, true))
	if got := changed("auto", "auto"); got != "[billing] encoding" {
		t.Errorf("explicit back to auto: changed %q, want [billing] encoding", got)
	}
}
