package main

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The per-file summary shows both figures of replacement, each named for what it
// counts: the rows of older exports the file replaced, and the file's own rows a
// newer export replaced. The first export of a series replaced nothing and had rows
// replaced; each figure adds up, over the files, to the run's total.
func TestIngestSummaryNamesWhatWasReplaced(t *testing.T) {
	_, cfg := practiceDir(t, 0.3, false)
	code, out, errOut := runInProcess("ingest", "--config", cfg)
	if code != 0 {
		t.Fatalf("ingest: exit %d\n%s", code, errOut)
	}
	total := regexp.MustCompile(`(?m)^Ingest: .*; (\d+) rows of older exports replaced by newer ones \(`).FindStringSubmatch(out)
	if total == nil {
		t.Fatalf("no total of rows replaced in the summary:\n%s", out)
	}
	line := regexp.MustCompile(`(?m)^  loaded   (\S+) +(\d+) rows +\d+ rejected +(\d+) older rows replaced +(\d+) replaced by newer`)
	var older, byNewer int
	seen := 0
	for _, m := range line.FindAllStringSubmatch(out, -1) {
		seen++
		rows, _ := strconv.Atoi(m[2])
		o, _ := strconv.Atoi(m[3])
		n, _ := strconv.Atoi(m[4])
		older += o
		byNewer += n
		if n > rows {
			t.Errorf("%s: %d of its %d rows replaced by newer", m[1], n, rows)
		}
		if strings.HasSuffix(m[1], "appointments-2023-07.csv") && (o != 0 || n == 0) {
			t.Errorf("the first scheduling export: %d older rows replaced, %d replaced by newer; want 0 and some", o, n)
		}
	}
	if seen != 54 {
		t.Fatalf("%d per-file lines with both figures, want 54:\n%s", seen, out)
	}
	if want, _ := strconv.Atoi(total[1]); older != want || byNewer != want || want == 0 {
		t.Errorf("over the files: %d older rows replaced, %d replaced by newer; want both the total, %d (above 0)", older, byNewer, want)
	}
}
