package pipeline

import (
	"math/rand/v2"
	"testing"
)

// overlapping makes the ids of n files of per ids each, the first half of each
// file repeating the second half of the file before, as monthly exports repeat
// the month before, plus one id in every file (a client seen every month).
func overlapping(n, per int, seed uint64) [][][2]uint64 {
	r := rand.New(rand.NewPCG(seed, 7))
	common := [2]uint64{r.Uint64(), r.Uint64()}
	files := make([][][2]uint64, n)
	for f := range n {
		ids := make([][2]uint64, 0, per)
		for i := range per - 1 {
			if f > 0 && i < per/2 {
				ids = append(ids, files[f-1][per/2+i])
			} else {
				ids = append(ids, [2]uint64{r.Uint64(), r.Uint64()})
			}
		}
		files[f] = append(ids, common)
	}
	return files
}

func itemsOf(files [][][2]uint64) []*prepared {
	items := make([]*prepared, len(files))
	for i, ids := range files {
		items[i] = &prepared{}
		items[i].ids.exact = ids
		items[i].ids.records = int64(len(ids))
		items[i].ids.finished = true
	}
	return items
}

// The table must hold every id of every file taking part once, in its bucket,
// and mark exactly the entries whose id another file holds: checked against a
// map, for sizes that give fewer buckets than partitions and many more, and
// with a file that does not take part.
func TestIDTableAgainstAMap(t *testing.T) {
	for _, c := range []struct{ files, per int }{{2, 3}, {3, 40}, {5, 1000}, {12, 20000}} {
		files := overlapping(c.files, c.per, uint64(c.files))
		items := itemsOf(files)
		part := make([]bool, len(items))
		size := 0
		for i := range part {
			part[i] = i != 1 || c.files < 3 // the second file sits out when there are three or more
			if part[i] {
				size += len(files[i])
			}
		}
		tab, keep, kept := buildIDTable(items, part, size)

		holders := map[[2]uint64][]int32{}
		for i, ids := range files {
			if part[i] {
				for _, h := range ids {
					holders[idKey(h)] = append(holders[idKey(h)], int32(i))
				}
			}
		}
		if len(tab.ent) != size || int(tab.start[len(tab.start)-1]) != size || tab.start[0] != 0 {
			t.Fatalf("%+v: %d entries, bounds %d..%d, want %d", c, len(tab.ent), tab.start[0], tab.start[len(tab.start)-1], size)
		}
		seen := map[[2]uint64]int{}
		wantKept := 0
		for b := 0; b+1 < len(tab.start); b++ {
			if tab.start[b] > tab.start[b+1] {
				t.Fatalf("%+v: bucket %d ends before it starts", c, b)
			}
			for k := tab.start[b]; k < tab.start[b+1]; k++ {
				e := tab.ent[k]
				if tab.bucket(e.key()) != uint64(b) {
					t.Fatalf("%+v: an entry of bucket %d sits in bucket %d", c, tab.bucket(e.key()), b)
				}
				seen[e.key()]++
				shared := len(holders[e.key()]) > 1
				if keep[k] != shared {
					t.Fatalf("%+v: entry marked %v, its id is in %d files", c, keep[k], len(holders[e.key()]))
				}
				if shared {
					wantKept++
				}
			}
		}
		for k, hs := range holders {
			if seen[k] != len(hs) {
				t.Fatalf("%+v: an id in %d files has %d entries", c, len(hs), seen[k])
			}
			newest := hs[len(hs)-1]
			if got := tab.newest(k); got != newest {
				t.Fatalf("%+v: newest file %d, want %d", c, got, newest)
			}
		}
		if kept != wantKept {
			t.Fatalf("%+v: kept %d, want %d", c, kept, wantKept)
		}
	}
}

// BenchmarkIDTable builds the table for 40 files of 175,000 ids, half of each
// repeating the file before: the 10M-row bench's one read of the scheduling
// exports.
func BenchmarkIDTable(b *testing.B) {
	files := overlapping(40, 175000, 1)
	part := make([]bool, len(files))
	size := 0
	for i := range part {
		part[i] = true
		size += len(files[i])
	}
	items := itemsOf(files)
	b.ResetTimer()
	for range b.N {
		buildIDTable(items, part, size)
	}
}
