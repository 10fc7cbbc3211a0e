package queries_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/referrals/referrals/internal/config"
	"github.com/referrals/referrals/internal/stagetest"
	"github.com/referrals/referrals/pipeline"
)

// name_key is how every spelling of a referrer or clinician finds the others: the
// cases DOMAIN.md and the macro's comment promise, and the edges of its comma rule.
func TestNameKey(t *testing.T) {
	ctx := context.Background()
	db, err := pipeline.Open(ctx, filepath.Join(t.TempDir(), "k.duckdb"), pipeline.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := pipeline.Prepare(ctx, db, stagetest.DefaultVars(time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC))); err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]string{
		"Dr. María López, MD":      "maria lopez",
		"Lopez, Maria MD":          "maria lopez",
		"maria lopez":              "maria lopez",
		"MARIA LOPEZ, LCSW":        "maria lopez",
		"Jane Smith, LCSW":         "jane smith",
		"Smith, Jane":              "jane smith",
		"Smith,Jane":               "jane smith",
		"Smith, MD":                "smith",
		"Smith, MD, PhD":           "smith",
		"Jones, Rev. Amy, LMFT":    "amy jones",
		"x,y,z":                    "y z x",
		"  O'Brien ,  Sean  ":      "sean o brien",
		"St. Anne's Parish":        "st anne s parish",
		"MD, PhD":                  "",
		",":                        "",
		"":                         "",
		"   ":                      "",
		"Dr.":                      "",
		"Nguyễn Văn An":            "nguyen van an",
		"Müller-Lüdenscheidt, Ute": "ute muller ludenscheidt",
		// Letters that Unicode does not write as a base letter and an accent fold
		// too, as they are typed without it: not broken into two words ("s ren").
		"Søren Owens":    "soren owens",
		"SØREN O'BRIEN":  "soren o brien",
		"Łukasz Nowak":   "lukasz nowak",
		"Đặng, Thị":      "thi dang",
		"Strauß, Anna":   "anna strauss",
		"Æsa Sæther":     "aesa saether",
		"Chloé Œuvray":   "chloe oeuvray",
		"Þóra Gunnarsd.": "thora gunnarsd",
		"Ħabib Ayşe":     "habib ayse",
		// Credentials written with points or a hyphen ("M.D.", "PA-C") fold as
		// written without: not letters left over that make a "Last, First".
		"Maria Lopez, M.D.":           "maria lopez",
		"Lopez, Maria M.D., Ph.D.":    "maria lopez",
		"Maria Lopez, M.D., FACP":     "maria lopez",
		"Ann Lee, Psy.D.":             "ann lee",
		"Ann Lee, Ed.D.":              "ann lee",
		"Ann Lee, L.C.S.W.":           "ann lee",
		"Ann Lee, PA-C":               "ann lee",
		"Lee, Ann PA-C":               "ann lee",
		"Ann Lee, LCSW-R":             "ann lee",
		"Ann Lee LPC-S":               "ann lee",
		"Ann Lee, FNP-BC":             "ann lee",
		"Dr. Amy Lee, D.O.":           "amy lee",
		"Jenny Ma, M.A.":              "jenny ma",
		"Jenny Ma, M.A., LCSW":        "jenny ma",
		"J.R. Smith":                  "j r smith",
		"Smith, J.R.":                 "j r smith",
		"Mary Smith-Jones":            "mary smith jones",
		"Lee-Ng, Ann":                 "ann lee ng",
		"M.D. Anderson Cancer Center": "m d anderson cancer center",
		// MA and DO are surnames too: folded only from three tokens or more.
		"Jenny Ma, LCSW":  "jenny ma",
		"Jenny Do, LMFT":  "jenny do",
		"Ma, Jenny":       "jenny ma",
		"Dr. Linh Do":     "linh do",
		"Jane Smith MA":   "jane smith",
		"Jane Smith, MA":  "jane smith",
		"Smith, John DO":  "john smith",
		"Dr. Amy Lee, DO": "amy lee",
		"Jenny Ma, MA":    "jenny ma",
		"Dr. Patel, DO":   "patel",
		"Smith, MA":       "smith",
		"Dr. Linh Do, DO": "linh do",
	} {
		var got sql.NullString
		if err := db.QueryRowContext(ctx, `SELECT name_key(?)`, in).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got.String != want || got.Valid != (want != "") {
			t.Errorf("name_key(%q) = %q (valid %v), want %q", in, got.String, got.Valid, want)
		}
	}
	var null sql.NullString
	if err := db.QueryRowContext(ctx, `SELECT name_key(NULL::VARCHAR)`).Scan(&null); err != nil || null.Valid {
		t.Errorf("name_key(NULL) = %v, %v; want NULL", null, err)
	}
}

// appointment_status reads [scheduling.statuses] (status_words) before its
// built-in words: a configured spelling, folded as status_key folds it, is its
// class, also where the built-in list says otherwise; the rest keep theirs.
func TestAppointmentStatusWords(t *testing.T) {
	ctx := context.Background()
	db, err := pipeline.Open(ctx, filepath.Join(t.TempDir(), "k.duckdb"), pipeline.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	vars := stagetest.DefaultVars(time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC))
	vars["status_words"] = config.Statuses{
		Attended:  []string{"Attended - Billed", "Checked Out - Paid"},
		NoShow:    []string{"No-Show (Charged)", "Pending"},
		Other:     []string{"Admin Block", "-"},
		Scheduled: []string{"✓?"},
	}.Words()
	if err := pipeline.Prepare(ctx, db, vars); err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]string{
		"ATTENDED-BILLED":    "attended",
		"checked out – paid": "attended",
		"No Show (charged)":  "no-show",
		"Pending":            "no-show", // the built-in list says scheduled
		"admin block":        "other",
		"Attended":           "attended",
		"Late Cancel":        "late-cancelled",
		"Client Arrived":     "other",
		" ✓? ":               "scheduled", // no letter: as written, the spaces around it aside
		"✓":                  "other",
		"-":                  "other",
	} {
		var got string
		if err := db.QueryRowContext(ctx, `SELECT appointment_status(?)`, in).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("appointment_status(%q) = %q, want %q", in, got, want)
		}
	}
}
