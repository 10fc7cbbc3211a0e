package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/referrals/referrals/internal/config"
)

// FuzzHeaderMapping feeds arbitrary first lines through header reading and
// mapping: whatever an export starts with, the loader must not panic, and a
// field is mapped to at most one header and a header to at most one field.
func FuzzHeaderMapping(f *testing.F) {
	for _, s := range []string{
		"Appointment ID,Patient Account,Clinician,Appointment Date,Start Time,Status,Service,Referral Source,Referred To,Referrer NPI\n",
		"Claim Line ID;Patient Account;DOS;Rendering Provider;Payer;Charge;Paid\r\n",
		"\xEF\xBB\xBF\"Patient \"\"Account\"\"\",DOS\tx|y\n",
		"\x00\x00\xff\xfe",
		"",
		"01/02/2026,123,456\n",
		strings.Repeat("a,", 500),
	} {
		f.Add([]byte(s), "auto")
	}
	f.Fuzz(func(t *testing.T, head []byte, delim string) {
		valid := utf8.Valid(head)
		enc := "utf-8"
		if !valid {
			enc = "windows-1252"
		}
		headers, d, err := readHeader(head, enc, delim)
		if err != nil {
			return
		}
		for _, source := range Sources {
			mapping, missing := MapHeaders(source, headers, nil)
			seen := map[int]string{}
			for field, i := range mapping {
				if i < 0 || i >= len(headers) {
					t.Fatalf("field %s mapped to header %d of %d", field, i, len(headers))
				}
				if other, ok := seen[i]; ok {
					t.Fatalf("header %d mapped to both %s and %s", i, other, field)
				}
				seen[i] = field
			}
			if len(missing) > 0 {
				msg := missingColumnProblem(source, config.Source{}, headers, missing, d)
				if !strings.Contains(msg, missing[0]) {
					t.Fatalf("problem %q does not name the missing field %s", msg, missing[0])
				}
			}
		}
		_ = looksLikeData(headers, nil)
		_ = incompleteTail(head)
	})
}

// FuzzLoadFile loads arbitrary bytes behind a valid header into a real
// (in-memory) DuckDB: the loader never panics, never errors out of the
// whole ingestion, and every data line is either loaded or reported.
func FuzzLoadFile(f *testing.F) {
	const header = "Appointment ID,Patient Account,Clinician,Appointment Date,Status,Referral Source\n"
	for _, s := range []string{
		"A1,100,Jane Smith,01/05/2026,Attended,Dr Lopez\n",
		"A1,100,Jane Smith,02/30/2026,Attended,\"unclosed\nA2,101,x,01/01/2026,Show,y\n",
		"A1,100,Jane,01/05/1900,Attended,x\nA1,100,Jane,01/05/2026,Attended,x\n",
		"\x00\x01,\xff,\"\",,,,,,,\r\n\n\n",
		"A9,,,,,\n",
		// The same id spelled apart by quotes, padding or line ends: the scan
		// must not call such a file free of repeated ids.
		"A1,100,Jane,01/05/2026,Attended,x\n\"A1\",100,Jane,01/05/2026,Attended,x\n",
		" A1 ,100,Jane,01/05/2026,Attended,x\nA1,100,Jane,01/05/2026,Attended,x\n",
		"\"A\"\"1\",100,Jane,01/05/2026,Attended,x\n\"A\"\"1\" ,100,Jane,01/05/2026,Attended,x\n",
		"A1,100,Jane,01/05/2026,Attended,x\rA1,100,Jane,01/05/2026,Attended,x\r",
		"A1,100,Jane,01/05/2026,Attended,x\r\nA\x001,100,Jane,01/05/2026,Attended,x\r\n",
	} {
		f.Add([]byte(s))
	}
	ctx := context.Background()
	db, err := Open(ctx, ":memory:", Settings{Threads: 1})
	if err != nil {
		f.Fatal(err)
	}
	defer db.Close()
	if err := EnsureSchema(ctx, db); err != nil {
		f.Fatal(err)
	}
	dir := f.TempDir()
	cfg := config.Default()
	cfg.Dir = dir
	cfg.Scheduling.Files = []string{"s.csv"}
	cfg.Billing.Files = nil
	n := 0
	f.Fuzz(func(t *testing.T, body []byte) {
		n++
		path := filepath.Join(dir, "s.csv")
		if err := os.WriteFile(path, append([]byte(header), body...), 0o644); err != nil {
			t.Fatal(err)
		}
		in := &Ingester{DB: db, Config: cfg, Secret: []byte("fuzz-secret-0123456789"), Rebuild: true, TmpDir: dir}
		tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		sum, err := in.Ingest(tctx)
		if tctx.Err() != nil {
			t.Fatalf("ingest hung on %q", body)
		}
		if err != nil {
			t.Fatalf("ingest returned an error instead of reporting the file: %v", err)
		}
		if len(sum.Files) != 1 {
			t.Fatalf("%d file results, want 1", len(sum.Files))
		}
		res := sum.Files[0]
		if res.Status == "failed" && res.Problem == "" {
			t.Fatal("failed file without a problem message")
		}
		if res.Loaded < 0 || res.Rejected < 0 {
			t.Fatalf("negative counts: %+v", res)
		}
		var stored int64
		if err := db.QueryRow("SELECT count(*) FROM raw_appointments").Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if res.Status == "loaded" && stored != res.Loaded {
			t.Fatalf("summary says %d loaded, table holds %d", res.Loaded, stored)
		}
		var repeated int64
		if err := db.QueryRow(`SELECT count(*) FROM (SELECT file_id, appointment_id FROM raw_appointments
			GROUP BY ALL HAVING count(*) > 1)`).Scan(&repeated); err != nil {
			t.Fatal(err)
		}
		if repeated > 0 {
			t.Fatalf("%d ids are in the table twice from one file of %q", repeated, body)
		}
	})
}
