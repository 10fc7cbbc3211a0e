package reports

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestWriteIndex(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{
		"referrals-2024-12.html", "referrals-2024-12.xlsx", "referrers-2024-12.csv",
		"referrals-2025-06.xlsx", "referrals-2025-06.html", "referrers-2025-06.csv",
		"referrals-2025-01.html",
		"notes.txt", "referrals-latest.html", "referrers-2025-06.xlsx", ".referrals-2025-07.html123",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := WriteIndex(dir); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	links := regexp.MustCompile(`href="([^"]+)"`).FindAllStringSubmatch(page, -1)
	var got []string
	for _, l := range links {
		got = append(got, l[1])
	}
	want := []string{
		"referrals-2025-06.html", "referrals-2025-06.xlsx", "referrers-2025-06.csv",
		"referrals-2025-01.html",
		"referrals-2024-12.html", "referrals-2024-12.xlsx", "referrers-2024-12.csv",
	}
	if !slices.Equal(got, want) {
		t.Errorf("links = %q\nwant    %q", got, want)
	}
	for _, label := range []string{"June 2025", "January 2025", "December 2024"} {
		if !strings.Contains(page, label) {
			t.Errorf("index lacks %q", label)
		}
	}
	if strings.Index(page, "June 2025") > strings.Index(page, "December 2024") {
		t.Error("months are not newest first")
	}

	empty := t.TempDir()
	if err := WriteIndex(empty); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(empty, "index.html")); !strings.Contains(string(b), "No reports yet") {
		t.Error("an empty folder's index does not say so")
	}
}
