package pipeline

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkScanFile times the one pass over an export that hashes it,
// checks its encoding and counts fields per record.
func BenchmarkScanFile(b *testing.B) {
	path := filepath.Join(os.TempDir(), "referrals-bench-ingest", "rows-1000000", "exports", "scheduling", "appointments.csv")
	fi, err := os.Stat(path)
	if err != nil {
		b.Skip("run BenchmarkIngest1M first to generate ", path)
	}
	for _, withFields := range []bool{false, true} {
		name := "hash+utf8"
		if withFields {
			name = "hash+utf8+fields"
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(fi.Size())
			for i := 0; i < b.N; i++ {
				var fc *fieldCounter
				if withFields {
					fc = newFieldCounter(',', 10, 0)
				}
				if _, err := scanFile(path, fc, false); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
