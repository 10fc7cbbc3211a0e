package reports

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestReferrerCSV(t *testing.T) {
	db := openFixtureDB(t)
	month := reportMonth(t, db)
	dir := t.TempDir()
	path := filepath.Join(dir, "referrers-"+month.Format("2006-01")+".csv")
	ctx := context.Background()
	if err := WriteReferrerCSV(ctx, db, month, path); err != nil {
		t.Fatal(err)
	}
	first, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	// A UTF-8 byte-order mark first, so that Excel on Windows reads accented names as UTF-8.
	if !bytes.HasPrefix(first, []byte{0xEF, 0xBB, 0xBF}) {
		t.Fatalf("the CSV does not start with a UTF-8 byte-order mark: %q", first[:min(len(first), 12)])
	}
	const header = "referrer,category,npi,point_person,referrals,clinicians,point_person_share,practice_share,coc," +
		"effective_clinicians,stage,low_evidence,stage_since,previous_stage,first_referral,last_referral,flags,point_person_left"
	if got, _, _ := strings.Cut(string(first[3:]), "\n"); got != header {
		t.Fatalf("header = %q\nwant     %q", got, header)
	}

	records, err := csv.NewReader(bytes.NewReader(first[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	rows := records[1:]
	if want := count(t, db, `SELECT count(*) FROM referrer_status WHERE referrals > 0`); len(rows) != want {
		t.Errorf("%d rows, the database has %d active referrers", len(rows), want)
	}
	if count(t, db, `SELECT count(*) FROM referrer_status WHERE referrals = 0`) == 0 {
		t.Error("fixture has no inactive referrer, so the filter is untested")
	}

	decimal := regexp.MustCompile(`^(\d+\.\d{4})?$`)
	isoDate := regexp.MustCompile(`^(\d{4}-\d{2}-\d{2})?$`)
	flag := regexp.MustCompile(`^((ready|stalled|cooling|lapsed|regressed)(;(ready|stalled|cooling|lapsed|regressed))*)?$`)
	blankDecimal := false
	for _, r := range rows {
		for _, i := range []int{6, 7, 8, 9} {
			if !decimal.MatchString(r[i]) {
				t.Errorf("%s: column %s = %q, want 4 decimals or blank", r[0], records[0][i], r[i])
			}
			blankDecimal = blankDecimal || r[i] == ""
		}
		for _, i := range []int{12, 14, 15} {
			if !isoDate.MatchString(r[i]) {
				t.Errorf("%s: column %s = %q, want YYYY-MM-DD", r[0], records[0][i], r[i])
			}
		}
		if r[11] != "true" && r[11] != "false" {
			t.Errorf("%s: low_evidence = %q", r[0], r[11])
		}
		if !flag.MatchString(r[16]) {
			t.Errorf("%s: flags = %q", r[0], r[16])
		}
		for _, i := range []int{0, 1, 2, 3, 16} {
			if r[i] != "" && strings.ContainsAny(r[i][:1], "=+-@\t\r") {
				t.Errorf("%s: column %s = %q begins with a formula character", r[0], records[0][i], r[i])
			}
		}
	}
	if !blankDecimal {
		t.Error("no NULL share or COC in the fixture: blank formatting is untested")
	}

	// Neutralised as OWASP recommends; everything else verbatim.
	byName := map[string]bool{}
	for _, r := range rows {
		byName[r[0]] = true
	}
	for name, want := range map[string]string{
		`=HYPERLINK("http://x","y")`:            `'=HYPERLINK("http://x","y")`,
		`=1+1`:                                  `'=1+1`,
		`+1+1`:                                  `'+1+1`,
		`@SUM(1)`:                               `'@SUM(1)`,
		`-2+3`:                                  `'-2+3`,
		`</script><img src=x onerror=alert(1)>`: `</script><img src=x onerror=alert(1)>`,
	} {
		if !byName[want] {
			t.Errorf("referrer %q should appear as %q", name, want)
		}
	}

	// Sorted by stage, then referrals descending, then referrer.
	for i := 1; i < len(rows); i++ {
		a, b := rows[i-1], rows[i]
		sa, _ := strconv.Atoi(a[10])
		sb, _ := strconv.Atoi(b[10])
		na, _ := strconv.Atoi(a[4])
		nb, _ := strconv.Atoi(b[4])
		if sa > sb || (sa == sb && (na < nb || (na == nb && a[0] > b[0] && !strings.HasPrefix(a[0], "'") && !strings.HasPrefix(b[0], "'")))) {
			t.Errorf("rows %d and %d out of order: %q before %q", i, i+1, a[:5], b[:5])
		}
	}

	// A second run gives the same bytes.
	if err := WriteReferrerCSV(ctx, db, month, path); err != nil {
		t.Fatal(err)
	}
	second, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, second) {
		t.Error("two runs wrote different files")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("folder holds %d files, want only the CSV", len(entries))
	}
}

func TestNeutralise(t *testing.T) {
	for in, want := range map[string]string{
		"":           "",
		"=1+1":       "'=1+1",
		"+1":         "'+1",
		"-1":         "'-1",
		"@A1":        "'@A1",
		"\tx":        "'\tx",
		"\rx":        "'\rx",
		"Dr. Smith":  "Dr. Smith",
		"a=1":        "a=1",
		"'=1":        "'=1",
		"ready;cool": "ready;cool",
	} {
		if got := neutralise(in); got != want {
			t.Errorf("neutralise(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWrongMonthFails(t *testing.T) {
	db := openFixtureDB(t)
	month := reportMonth(t, db).AddDate(0, -1, 0)
	path := filepath.Join(t.TempDir(), "referrers.csv")
	err := WriteReferrerCSV(context.Background(), db, month, path)
	if err == nil || !strings.Contains(err.Error(), "run the models") {
		t.Fatalf("a report for a month the tables were not built for: err = %v", err)
	}
	if _, statErr := os.Stat(path); !os.IsNotExist(statErr) {
		t.Error("a file was written despite the error")
	}
}
