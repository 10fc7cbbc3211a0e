package main

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/referrals/referrals/pipeline"
)

// TestNoClientIdentifierLeaves runs the job on sample exports whose client
// ids are made unmistakable, then searches every report, the CRM export,
// the logs, stdout, the rejected-rows and file-problem tables and the output
// of referrals check for any raw or keyed client id: on good exports, and on
// exports whose errors tend to quote what they read.
func TestNoClientIdentifierLeaves(t *testing.T) {
	t.Run("good exports", func(t *testing.T) {
		noClientIdentifierLeaves(t, nil, nil)
	})
	t.Run("broken exports", func(t *testing.T) {
		noClientIdentifierLeaves(t, func(dir, cfg string) {
			// An export without its header line: its first line is a patient's row.
			p := filepath.Join(dir, "data", "exports", "scheduling", "appointments-2026-10.csv")
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			b = b[bytes.IndexByte(b, '\n')+1:]
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			// The billing date read from the client id column, whose every value
			// then fails as a date (the client id taken from another column).
			body, err := os.ReadFile(cfg)
			if err != nil {
				t.Fatal(err)
			}
			body = append(body, "[billing.columns]\nservice_date = \"Patient Account\"\nclient_id = \"Rendering Provider NPI\"\n"...)
			if err := os.WriteFile(cfg, body, 0o600); err != nil {
				t.Fatal(err)
			}
		}, []string{"appointments-2026-10.csv looks like a data row, not a header", `[billing.columns] service_date is mapped to "Patient Account"`})
	})
}

// noClientIdentifierLeaves makes the sample's client ids distinctive, lets
// breakExports spoil the exports or the configuration, then runs check and the
// job and searches everything they wrote. Each of want must appear on stdout.
func noClientIdentifierLeaves(t *testing.T, breakExports func(dir, cfg string), want []string) {
	dir, cfg := practiceDir(t, 1, false)
	// Make every Patient Account distinctive: CLX<id>Q.
	account := regexp.MustCompile(`(?m)^([^,\r\n]*),(\d+),`)
	var rawIDs []string
	seen := map[string]bool{}
	filepath.Walk(filepath.Join(dir, "data", "exports"), func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		b = account.ReplaceAllFunc(b, func(m []byte) []byte {
			sub := account.FindSubmatch(m)
			id := "CLX" + string(sub[2]) + "Q"
			if !seen[id] {
				seen[id] = true
				rawIDs = append(rawIDs, id)
			}
			return []byte(string(sub[1]) + "," + id + ",")
		})
		return os.WriteFile(p, b, info.Mode())
	})
	if len(rawIDs) < 500 {
		t.Fatalf("only %d client ids rewritten; the fixture did not work", len(rawIDs))
	}
	if breakExports != nil {
		breakExports(dir, cfg)
	}
	check := runBin(t, "check", "--config", cfg)
	r := runBin(t, "run", "--config", cfg, "--month", "2026-10", "--verbose", "--log-format", "json")
	// Broken exports that cannot be loaded end the run with exit 6, after the reports.
	if wantCode := map[bool]int{false: exitOK, true: exitNotLoaded}[breakExports != nil]; r.code != wantCode {
		t.Fatalf("run: exit %d, want %d\n%s", r.code, wantCode, r.stderr)
	}
	for _, w := range want {
		if !strings.Contains(r.stdout, w) || !strings.Contains(check.stdout, w) {
			t.Errorf("run or check does not say %q:\nrun:\n%s\ncheck:\n%s", w, r.stdout, check.stdout)
		}
	}
	// The keyed ids, as stored.
	db, err := pipeline.Open(context.Background(), filepath.Join(dir, "db", "referrals.duckdb"), pipeline.Settings{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	rows, err := db.Query("SELECT DISTINCT client_key::VARCHAR FROM raw_appointments UNION SELECT DISTINCT client_key::VARCHAR FROM raw_claim_lines")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	rows.Close()
	var rejectText strings.Builder
	rows, err = db.Query("SELECT coalesce(column_name, '') || ' ' || message FROM rejected_rows")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var m string
		rows.Scan(&m)
		rejectText.WriteString(m + "\n")
	}
	rows.Close()
	var problemText strings.Builder
	rows, err = db.Query("SELECT path || ' ' || problem FROM ingest_problems")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var m string
		rows.Scan(&m)
		problemText.WriteString(m + "\n")
	}
	rows.Close()
	db.Close()
	if len(keys) < 500 {
		t.Fatalf("only %d client keys in the database", len(keys))
	}

	outputs := map[string]string{
		"stdout":          r.stdout,
		"stderr (logs)":   r.stderr,
		"rejected_rows":   rejectText.String(),
		"ingest_problems": problemText.String(),
		"check stdout":    check.stdout,
		"check stderr":    check.stderr,
	}
	entries, err := os.ReadDir(filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		p := filepath.Join(dir, "out", e.Name())
		if strings.HasSuffix(e.Name(), ".xlsx") {
			zr, err := zip.OpenReader(p)
			if err != nil {
				t.Fatal(err)
			}
			var all strings.Builder
			for _, f := range zr.File {
				rc, _ := f.Open()
				b, _ := io.ReadAll(rc)
				rc.Close()
				all.Write(b)
			}
			zr.Close()
			outputs[e.Name()] = all.String()
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		outputs[e.Name()] = string(b)
	}
	if len(outputs) < 10 {
		t.Fatalf("expected the workbook, HTML, CSV and index among the outputs, got %d", len(outputs))
	}
	for name, text := range outputs {
		if strings.Contains(text, "CLX") {
			i := strings.Index(text, "CLX")
			t.Errorf("%s contains a raw client id near %q", name, text[max(0, i-40):min(len(text), i+40)])
		}
		for _, k := range keys {
			if strings.Contains(text, k) {
				t.Errorf("%s contains the keyed client id %s…", name, k[:min(12, len(k))])
				break
			}
		}
	}
}
