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

// BenchmarkScanBilling times the same pass over a billing export, whose records
// with quotes ("Novak, Brandon LCSW") have their amounts checked: each amount is
// asked whether it has a currency sign or spaces between thousands to drop.
func BenchmarkScanBilling(b *testing.B) {
	files, _ := filepath.Glob(filepath.Join(os.TempDir(), "referrals-bench", "data-1000000", "exports", "billing", "*.csv"))
	if len(files) == 0 {
		b.Skip("run `referrals bench --rows 1000000` first to generate the billing exports under ", os.TempDir())
	}
	path := files[len(files)-1]
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(fi.Size())
	for i := 0; i < b.N; i++ {
		fc := newFieldCounter(',', 11, 0)
		fc.amounts = newAmountCheck([]int{9, 10}, ',', '.')
		if _, err := scanFile(path, fc, true); err != nil {
			b.Fatal(err)
		}
	}
}
