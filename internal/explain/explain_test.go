package explain_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/referrals/referrals/internal/explain"
	"github.com/referrals/referrals/internal/stagetest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// The whole explanation of a few referrers, compared with testdata/<name>.golden.
func TestWriteGolden(t *testing.T) {
	db := stagetest.Build(t, stagetest.SamplePractice(), stagetest.DefaultVars(stagetest.ReportMonth))
	for _, c := range []struct{ file, typed string }{
		{"journey", "Dr Journey"},
		{"two_diff", "Dr Two Diff"},
		{"practice", "Dr Practice"},
		{"mixed", "Dr Mixed"},
		{"leaver", "Dr Leaver"},
		{"old_three", "Dr Old Three"},
		{"channel", "psychology today"},
	} {
		t.Run(c.file, func(t *testing.T) {
			var buf bytes.Buffer
			if err := explain.Write(context.Background(), db, c.typed, &buf); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(buf.String(), "client-") {
				t.Errorf("the explanation shows a client key:\n%s", buf.String())
			}
			path := filepath.Join("testdata", c.file+".golden")
			if *update {
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/explain -update to create it)", err)
			}
			if buf.String() != string(want) {
				t.Errorf("explain %q differs from %s:\n%s", c.typed, path, buf.String())
			}
		})
	}
}

// The paragraph gives the numbers and the thresholds that decide the stage.
func TestWriteParagraph(t *testing.T) {
	db := stagetest.Build(t, stagetest.SamplePractice(), stagetest.DefaultVars(stagetest.ReportMonth))
	expectExplained(t, db, map[string][]string{
		"Dr Journey": {"Stage 1 (point person): of the 5 referrals in the 12 months to 2025-12-31, 5 were for the point person Ann Alder (100%, at least the 80% needed for stage 1). A referral counts for the point person when it asked for them by name, else when they were assigned it: here 5 were assigned to them with no request on record.",
			"It has been at this stage since 2025-09 (4 months); before that it was at stage 2.",
			"it took 5 months to reach stage 2 and 8 to reach stage 3", "Its stage has fallen 2 times.",
			"ready for introductions to Ben Birch (bills Aetna"},
		"Dr Two Diff": {"Stage 2 (trying colleagues): of the 2 referrals in the 12 months to 2025-12-31, 1 was for the point person Ann Alder (50%, below the 80% needed for stage 1).",
			"With no referred-to field, stage 3 needs at least 4 referrals, 3 or more effective clinicians and under 50% to the point person; here there are only 2 referrals and the point person still has 50%.",
			"low evidence", "stalled: stage 2 since 2025-05 (8 months)"},
		"Dr Practice": {"Stage 3 (whole practice): of the 6 referrals in the 12 months to 2025-12-31, 4 were addressed to the practice (67% of the 6 whose request is known, at least the 50% needed for stage 3); 2 were for the point person Ann Alder (33%).",
			"here 1 asked for Ann Alder by name and 1 was addressed to the practice and assigned to them.",
			"Assigned, whoever was asked for: Ann Alder 3, Ben Birch 1, Cal Cedar 1, Dee Dogwood 1"},
		"Dr Mixed": {"1 was for the point person Ann Alder (20%, under the 50% allowed for stage 3), and with no referred-to field the spread decides: 3 clinicians, 3.3 effective (at least 3 needed), from 5 referrals (at least 4 needed).",
			"Assigned, whoever was asked for: Ben Birch 3, Ann Alder 1, Cal Cedar 1 (COC 0.30, 3.3 effective clinicians: " +
				"1 / COC, from few referrals an estimate of how widely they would spread with more, so above the 3 clinicians so far)."},
		"Dr Leaver":    {"Fay Fir is the point person: Eve Elm, the point person before them, left the practice on 2025-06-15, and Fay Fir took the referrer's first referral after that; the point-person share counts for Fay Fir from then on."},
		"Dr Old Three": {"No stage (inactive): no referral in the 12 months to 2025-12-31; the last was on 2023-05-12.", "It has been inactive since 2024-05 (20 months); before that it was at stage 1."},
	})
}

func TestResolve(t *testing.T) {
	db := stagetest.Build(t, stagetest.SamplePractice(), stagetest.DefaultVars(stagetest.ReportMonth))
	for typed, want := range map[string]string{
		"Dr Journey":        "Dr Journey",       // canonical
		"dr journey":        "Dr Journey",       // ignoring case
		"DIRECTORY DEE, MD": "Dr Directory Dee", // a spelling from the exports
		"Directory Dee PhD": "Dr Directory Dee", // its name key
		"123-456-7893":      "Dr. Paula Payne",  // NPI
		"journ":             "Dr Journey",       // part of the name, unique
		"Paula Payne MD":    "Dr. Paula Payne",  // a claim's spelling
		"Psychology Today":  "Psychology Today", // a channel
	} {
		var buf bytes.Buffer
		if err := explain.Write(context.Background(), db, typed, &buf); err != nil {
			t.Errorf("explain %q: %v", typed, err)
			continue
		}
		if !strings.HasPrefix(buf.String(), want+" ") {
			t.Errorf("explain %q explains %q, want %q", typed, strings.SplitN(buf.String(), "\n", 2)[0], want)
		}
	}

	var buf bytes.Buffer
	err := explain.Write(context.Background(), db, "two", &buf)
	var amb *explain.AmbiguousError
	if !errors.As(err, &amb) || !errors.Is(err, explain.ErrNoSuchReferrer) {
		t.Fatalf("explain two: %v, want an AmbiguousError", err)
	}
	if got := strings.Join(amb.Candidates, ", "); got != "Dr Old Two, Dr Two Diff, Dr Two Same" {
		t.Errorf("candidates for two: %s", got)
	}

	err = explain.Write(context.Background(), db, "Dr Jurney", &buf)
	var unk *explain.UnknownError
	if !errors.As(err, &unk) || !errors.Is(err, explain.ErrNoSuchReferrer) {
		t.Fatalf("explain Dr Jurney: %v, want an UnknownError", err)
	}
	if len(unk.Suggestions) == 0 || unk.Suggestions[0] != "Dr Journey" {
		t.Errorf("suggestions for Dr Jurney: %v, want Dr Journey first", unk.Suggestions)
	}
	if !strings.Contains(err.Error(), `did you mean "Dr Journey"`) {
		t.Errorf("message: %v", err)
	}
}

// Sentences an audit of the wording found wrong or misleading: a stage reached without a
// month at stage 2 said "took 21 months to reach stage 2 and 21 to reach stage 3"; one
// referral addressed to the practice and taken by the point person read as 100% to the
// practice and 100% for the point person without a word; "there are only 1 referrals".
func TestWriteParagraphWording(t *testing.T) {
	p := stagetest.SamplePractice()
	p.Appointment("ov-1", "client-ov-1", stagetest.Ann, "2024-01-05", "9:00 AM", "Attended", "Dr Overlap")
	p.Appointment("ov-2", "client-ov-2", stagetest.Ann, "2025-10-06", "9:00 AM", "Attended", "Dr Overlap")
	p.Appointment("one-1", "client-one-1", stagetest.Ann, "2024-01-05", "9:00 AM", "Attended", "Dr Single")
	p.Appointment("one-2", "client-one-2", stagetest.Ben, "2025-10-06", "9:00 AM", "Attended", "Dr Single")
	db := stagetest.BuildAfter(t, p, stagetest.DefaultVars(stagetest.ReportMonth),
		`UPDATE raw_appointments SET has_referred_to = true, referred_to = 'any' WHERE appointment_id = 'ov-2'`)
	expectExplained(t, db, map[string][]string{
		"Dr Overlap": {"1 was addressed to the practice (100% of the 1 whose request is known, at least the 50% needed for stage 3); " +
			"1 was for the point person Ann Alder (100%; a referral addressed to the practice counts for the point person too when they took it).",
			"From its first referral it took 21 months to reach stage 3, with no month at stage 2."},
		"Dr Single": {"here there is only 1 referral"},
	})
}

// expectExplained checks that explain's text for each referrer (white space
// folded) holds every one of its wants.
func expectExplained(t *testing.T, db *sql.DB, wants map[string][]string) {
	t.Helper()
	for typed, ws := range wants {
		var buf bytes.Buffer
		if err := explain.Write(context.Background(), db, typed, &buf); err != nil {
			t.Fatal(err)
		}
		text := strings.Join(strings.Fields(buf.String()), " ")
		for _, w := range ws {
			if !strings.Contains(text, w) {
				t.Errorf("explain %q lacks %q:\n%s", typed, w, buf.String())
			}
		}
	}
}
