package reports

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkWriteReports5000 writes the workbook and the HTML page for a practice with 5,000
// referrers. Targets: under 3 s per op, and a page under 3 MB (reported as html-bytes).
func BenchmarkWriteReports5000(b *testing.B) {
	db := openGeneratedDB(b, 5000)
	month := reportMonth(b, db)
	if n := count(b, db, `SELECT count(*) FROM referrer_status`); n != 5000 {
		b.Fatalf("fixture has %d referrers, want 5000", n)
	}
	dir := b.TempDir()
	xlsx := filepath.Join(dir, "referrals.xlsx")
	html := filepath.Join(dir, "referrals.html")
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if err := WriteWorkbook(ctx, db, month, xlsx); err != nil {
			b.Fatal(err)
		}
		if err := WriteHTML(ctx, db, month, html); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	for name, path := range map[string]string{"html-bytes": html, "xlsx-bytes": xlsx} {
		fi, err := os.Stat(path)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(fi.Size()), name)
	}
	if fi, _ := os.Stat(html); fi.Size() > 3<<20 {
		b.Errorf("HTML is %d bytes, over 3 MB", fi.Size())
	}
}
