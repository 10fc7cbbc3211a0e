package pipeline_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/referrals/referrals/pipeline"
)

// notAClaimsExport is a file the billing pattern matches that cannot be loaded.
const notAClaimsExport = "foo,bar\n1,2\n"

// A file's problem lasts while the file fails, and no longer: a file removed, or one
// the configuration no longer matches, is not failing, as one run over tonight's
// files would not list it. Before, its row in ingest_problems stayed, and every later
// workbook listed it under "Files that failed" while the run exited 0.
func TestProblemGoesWithTheFile(t *testing.T) {
	good := export{"exports/scheduling/a.csv", apptsNewer, 2}
	failing := func(t *testing.T) *practice {
		t.Helper()
		p := newPractice(t)
		p.cfg.Billing.Files = append(p.cfg.Billing.Files, "extra/*.csv")
		if err := os.MkdirAll(filepath.Join(p.dir, "extra"), 0o755); err != nil {
			t.Fatal(err)
		}
		for night := 1; night <= 2; night++ {
			sum := p.night(noBilling, good, export{"extra/bad.csv", notAClaimsExport, 3})
			if sum.Count("failed") != 1 {
				t.Fatalf("night %d: the bad file did not fail: %+v", night, sum.Files)
			}
			if got := p.dump("SELECT source, path FROM ingest_problems"); got != "billing "+filepath.Join("extra", "bad.csv") {
				t.Fatalf("night %d: ingest_problems %q, want the bad file once", night, got)
			}
		}
		return p
	}

	t.Run("removed", func(t *testing.T) {
		p := failing(t)
		if err := os.Remove(filepath.Join(p.dir, "extra", "bad.csv")); err != nil {
			t.Fatal(err)
		}
		p.cfg.Billing.Files = p.cfg.Billing.Files[:1]
		if sum := p.ingest(); sum.Count("failed") != 0 || sum.Count("missing") != 0 {
			t.Fatalf("after the file and its pattern went: %+v", sum.Files)
		}
		if got := p.dump("SELECT path FROM ingest_problems"); got != "" {
			t.Errorf("ingest_problems after the file and its pattern went: %q, want none", got)
		}
	})

	t.Run("no longer matched", func(t *testing.T) {
		p := failing(t)
		p.cfg.Billing.Files = p.cfg.Billing.Files[:1] // the file stays on disk
		p.ingest()
		if got := p.dump("SELECT path FROM ingest_problems"); got != "" {
			t.Errorf("ingest_problems after the pattern was taken out: %q, want none", got)
		}
	})

	t.Run("file removed, pattern kept", func(t *testing.T) {
		p := failing(t)
		if err := os.Remove(filepath.Join(p.dir, "extra", "bad.csv")); err != nil {
			t.Fatal(err)
		}
		p.ingest()
		if n := p.count(`SELECT count(*) FROM ingest_problems WHERE path = ?`, filepath.Join("extra", "bad.csv")); n != 0 {
			t.Errorf("ingest_problems still lists the removed file")
		}
	})

	// A run that stops before it met every file cannot tell: it clears nothing.
	t.Run("run stopped early", func(t *testing.T) {
		p := failing(t)
		p.cfg.Billing.Files = p.cfg.Billing.Files[:1]
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		in := &pipeline.Ingester{DB: p.db, Config: p.cfg, Secret: secret, Progress: func(done, total int, path string) { cancel() }}
		p.write(good.rel, []byte(apptsOlder), 4) // something to load, so that the run reaches its files
		if _, err := in.Ingest(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("the cancelled run returned %v", err)
		}
		if got := p.dump("SELECT path FROM ingest_problems"); got != filepath.Join("extra", "bad.csv") {
			t.Errorf("ingest_problems after a run stopped early: %q, want the bad file still", got)
		}
	})
}

// An export that failed, then was put back as it was loaded, time and all (restored
// from a backup with its time), is skipped unread by its path, size and time: like
// one put back under a newer time, which is skipped as content loaded before, it no
// longer fails, and its problem goes.
func TestFailedExportRestoredWithItsTimeIsNoLongerFailed(t *testing.T) {
	good := export{"exports/scheduling/a.csv", apptsNewer, 2}
	p := newPractice(t)
	p.night(noBilling, good)
	bad := export{good.rel, strings.Replace(apptsNewer, "Appointment Date", "Appt Dt", 1), 3}
	if sum := p.night(bad); sum.Count("failed") != 1 {
		t.Fatalf("the renamed header did not fail: %+v", sum.Files)
	}
	if sum := p.night(good); sum.Count("skipped") != 2 {
		t.Fatalf("the file put back with its time was not skipped by its path, size and time: %+v", sum.Files)
	}
	if got := p.dump("SELECT path FROM ingest_problems"); got != "" {
		t.Errorf("ingest_problems after the file was put back with its time: %q, want none", got)
	}
}

// A file pattern that matches no file (a share not mounted, the exports moved) is
// recorded as a file that failed is, with the pattern as its path, so that the
// reports list it: the run exits 6 for it. It goes once the pattern matches a file
// again, or is taken out of the configuration.
func TestPatternMatchingNoFileIsAProblemWhileItMatchesNone(t *testing.T) {
	p := newPractice(t)
	if err := os.MkdirAll(filepath.Join(p.dir, "share"), 0o755); err != nil {
		t.Fatal(err)
	}
	p.cfg.Billing.Files = append(p.cfg.Billing.Files, "share/*.csv")
	pattern := filepath.Join("share", "*.csv")
	for night := 1; night <= 2; night++ {
		sum := p.night(noBilling, export{"exports/scheduling/a.csv", apptsNewer, 2})
		if sum.Count("missing") != 1 {
			t.Fatalf("night %d: the empty share's pattern is not missing: %+v", night, sum.Files)
		}
		got := p.dump("SELECT source, path, kind FROM ingest_problems")
		if got != "billing "+pattern+" pattern" {
			t.Fatalf("night %d: ingest_problems %q, want the pattern once", night, got)
		}
		problem := p.dump("SELECT problem FROM ingest_problems")
		for _, want := range []string{"matches no file: ", "mounted", filepath.Join(p.dir, "share", "*.csv"), "[billing] files"} {
			if !strings.Contains(problem, want) {
				t.Errorf("night %d: the problem %q does not say %q", night, problem, want)
			}
		}
	}

	// The share is back: its export loads, and the pattern's problem goes.
	p.write("share/claims.csv", []byte(billHeader+"L1,1001,01/05/2026,Ann Lee,,Dr Bob Stone,,Aetna,90791,200.00,150.00\n"), 5)
	if sum := p.ingest(); sum.Count("missing") != 0 || sum.Count("loaded") != 1 {
		t.Fatalf("with the share back: %+v", sum.Files)
	}
	if got := p.dump("SELECT path FROM ingest_problems"); got != "" {
		t.Errorf("ingest_problems once the pattern matched again: %q, want none", got)
	}

	// It matches nothing again, then is taken out of the configuration.
	if err := os.Remove(filepath.Join(p.dir, "share", "claims.csv")); err != nil {
		t.Fatal(err)
	}
	p.ingest()
	if got := p.dump("SELECT path FROM ingest_problems"); got != pattern {
		t.Fatalf("ingest_problems with the share empty again: %q, want the pattern", got)
	}
	p.cfg.Billing.Files = p.cfg.Billing.Files[:1]
	if sum := p.ingest(); sum.Count("missing") != 0 {
		t.Fatalf("without the pattern: %+v", sum.Files)
	}
	if got := p.dump("SELECT path FROM ingest_problems"); got != "" {
		t.Errorf("ingest_problems once the pattern was taken out: %q, want none", got)
	}
}
