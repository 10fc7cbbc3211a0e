package sample

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"
)

// BenchmarkGenerate measures generation speed in the default layout, as
// `referrals bench` generates; the output goes to a temporary folder (about
// 100 bytes a row). The 10M case takes a while; ask for it alone with:
//
//	go test ./internal/sample -run '^$' -bench 'Generate/rows=10M' -benchtime 1x
func BenchmarkGenerate(b *testing.B) {
	for _, rows := range []int64{1_000_000, 10_000_000} {
		name := fmt.Sprintf("rows=%dM", rows/1_000_000)
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				out, err := os.MkdirTemp("", "sample-bench-*")
				if err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				sum, err := Generate(context.Background(), Options{Out: out, Scale: ScaleForRows(rows), Seed: 1})
				el := time.Since(start)
				os.RemoveAll(out)
				if err != nil {
					b.Fatal(err)
				}
				total := sum.SchedulingRows + sum.BillingRows
				b.ReportMetric(float64(total), "rows")
				b.ReportMetric(float64(total)/el.Seconds(), "rows/s")
			}
		})
	}
}
