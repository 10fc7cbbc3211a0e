package pipeline

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/duckdb/duckdb-go/v2"
)

// Overlapping exports (each month's export repeating the month before) hold
// many rows twice, and the newer file's row wins. Loading every row and then
// replacing the older ones writes those rows, lists them and copies the rest
// to a new table: at 10M rows a third of the appointments, and 6-7 s of a
// first load.
//
// When files are read together, their scans already hold a 128-bit hash of
// every id (while all of a file's ids are plain, see idSet). A file takes part
// when its ids are all plain and none repeats, and it has no shifted row. The
// loader leaves out a row of such a file when a later file of the same read
// that takes part holds its id, and the row would pass the checks after the
// load: superseded_keep() decides inside the read. The rows left out are
// counted as loaded from their file, and as replaced by the newest file of the
// read holding the id, as if they had been loaded and replaced.
//
// That newer row may not load after all: rejected by the reader, or failing
// the checks. So after the read, every file credited with replacing rows must
// have loaded all its records, and they must pass the checks. Where one has
// not, its ids that did load are marked (mark mode), and the rows left out for
// the others are read back from the files that hold them (read-back mode):
// the usual replacement then keeps the newest version that did load. At 10M
// rows the one read of the scheduling exports had two such rows, neither with
// an older version to read back.
//
// TestLeavingOutSupersededRowsChangesNothing loads exports with every way to
// fail both ways and compares the tables, the ledger and the summary.

// supersedePlan is the decision data for one group's read.
type supersedePlan struct {
	ids      idTable
	part     []bool         // file takes part: its ids are known exactly and unique
	dropped  []atomic.Int64 // per file: rows left out
	credited []atomic.Int64 // per file: rows of older files left out for its version of them
	back     []atomic.Int64 // per file: rows read back
	uncredit []atomic.Int64 // per file: rows read back that had been credited to it

	// For reading back: the ids whose newest version did not load, found by
	// marking those that did.
	mu      sync.Mutex
	present map[[2]uint64]bool
	missing map[[2]uint64]bool
}

// idTable is every id of the files taking part, with the file, in buckets by
// the hash's top bits (the hash is already uniform): a lookup reads one short
// bucket. It is built once and only read after, by any number of threads.
// Looked up in a Go map, 3.4M ids cost 0.8 µs a row inside the load (cache
// misses in its larger table); this table, with a chunk's ids hashed first and
// looked up after, about 0.1 µs in a benchmark.
type idTable struct {
	shift uint
	start []uint32 // bucket b holds entries start[b] to start[b+1]
	ent   []idEntry
}

// idEntry is 16 bytes: the hash's first word, and its second with the low
// byte replaced by the file's index in the group (at most maxBatchFiles, under
// 256), so 120 bits of the hash are compared.
type idEntry struct{ a, b uint64 }

const fileBits = 0xff

func (e idEntry) file() int32 { return int32(e.b & fileBits) }

// key is the entry's id hash, as idKey gives it.
func (e idEntry) key() [2]uint64 { return [2]uint64{e.a, e.b &^ fileBits} }

// idKey is the part of an id's hash the table compares.
func idKey(h [2]uint64) [2]uint64 { return [2]uint64{h[0], h[1] &^ fileBits} }

func (t *idTable) bucket(h [2]uint64) uint64 { return h[0] >> t.shift }

// newest is the latest file holding the id, or -1.
func (t *idTable) newest(h [2]uint64) int32 {
	b := t.bucket(h)
	return newestIn(t.ent[t.start[b]:t.start[b+1]], h)
}

// newestIn is the latest file holding the id among a bucket's entries, or -1.
func newestIn(bucket []idEntry, h [2]uint64) int32 {
	g := int32(-1)
	k := idKey(h)
	for _, e := range bucket {
		if e.key() == k && e.file() > g {
			g = e.file()
		}
	}
	return g
}

// newSupersedePlan makes the plan for a group's files, or nil when fewer
// than two files take part or no id is in two of them (nothing can be left
// out). covered says that every file took part and the ids were compared: then
// an id in two files of the group is left out of all but the newest (unless the
// newer version fails to load and the older is read back), and without a plan
// no id is in two of them. It lets the files' exact hashes go.
func newSupersedePlan(items []*prepared) (plan *supersedePlan, covered bool) {
	part := make([]bool, len(items))
	n, size := 0, 0
	for i, it := range items {
		ids := &it.ids
		part[i] = ids.finished && !ids.irregular && !ids.repeats &&
			int64(len(ids.exact)) == ids.records && len(it.shifted) == 0 && len(it.badAmounts) == 0 && it.nuls == 0
		if part[i] {
			n++
			size += len(ids.exact)
		}
	}
	defer func() {
		for _, it := range items {
			it.ids.exact = nil
		}
	}()
	if n < 2 || size >= math.MaxUint32 || len(items) > fileBits+1 {
		return nil, false
	}
	t, keep, kept := buildIDTable(items, part, size)
	if kept == 0 {
		return nil, n == len(items)
	}
	// Only the ids in two files or more can be left out. When they are under
	// three quarters of the entries, the table keeps only those, in a new array.
	if kept*4 < len(t.ent)*3 {
		shared := idTable{shift: t.shift, start: make([]uint32, len(t.start)), ent: make([]idEntry, 0, kept)}
		for b := 0; b+1 < len(t.start); b++ {
			shared.start[b] = uint32(len(shared.ent))
			for i := t.start[b]; i < t.start[b+1]; i++ {
				if keep[i] {
					shared.ent = append(shared.ent, t.ent[i])
				}
			}
		}
		shared.start[len(t.start)-1] = uint32(len(shared.ent))
		t = shared
	}
	k := len(items)
	return &supersedePlan{ids: t, part: part,
		dropped: make([]atomic.Int64, k), credited: make([]atomic.Int64, k),
		back: make([]atomic.Int64, k), uncredit: make([]atomic.Int64, k)}, n == len(items)
}

// buildIDTable places the hashes of the files taking part in buckets by their
// top bits (about four ids a bucket), and marks the entries whose id another
// entry shares (keep), counting them.
//
// Placed straight into the table, every entry is a store to a random place in
// it (112 MB at 7M ids): the CPU waits for memory on each. So the entries go
// first to one of 256 partitions by their top 8 bits, each worker appending to
// 256 places that stay in its cache, and then each partition, a few hundred
// KB, is placed in its buckets in cache, and its repeated ids found there, one
// partition per worker at a time.
func buildIDTable(items []*prepared, part []bool, size int) (t idTable, keep []bool, kept int) {
	bits := uint(4)
	for 1<<bits < size/4 {
		bits++
	}
	t = idTable{shift: 64 - bits, start: make([]uint32, (1<<bits)+1), ent: make([]idEntry, size)}
	pbits := min(bits, 8)
	parts := 1 << pbits
	pshift := 64 - pbits
	workers := max(1, min(runtime.GOMAXPROCS(0), 8))

	// The files, split between the workers by their ids' count.
	var files []int
	for i := range items {
		if part[i] {
			files = append(files, i)
		}
	}
	share := make([][]int, workers)
	done, w := 0, 0
	for _, i := range files {
		share[w] = append(share[w], i)
		done += len(items[i].ids.exact)
		if w+1 < workers && done >= size*(w+1)/workers {
			w++
		}
	}
	run := func(work func(w int)) {
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() { work(w) })
		}
		wg.Wait()
	}

	// Count each worker's entries per partition, then give each (partition,
	// worker) its place: partitions in order, workers in order within each.
	hist := make([][]int, workers)
	run(func(w int) {
		h := make([]int, parts)
		for _, i := range share[w] {
			for _, x := range items[i].ids.exact {
				h[x[0]>>pshift]++
			}
		}
		hist[w] = h
	})
	pstart := make([]int, parts+1)
	next := make([][]int, workers)
	for w := range workers {
		next[w] = make([]int, parts)
	}
	at := 0
	for p := range parts {
		pstart[p] = at
		for w := range workers {
			next[w][p] = at
			at += hist[w][p]
		}
	}
	pstart[parts] = at
	tmp := make([]idEntry, size)
	run(func(w int) {
		nx := next[w]
		for _, i := range share[w] {
			for _, x := range items[i].ids.exact {
				p := x[0] >> pshift
				tmp[nx[p]] = idEntry{x[0], x[1]&^fileBits | uint64(i)}
				nx[p]++
			}
		}
	})

	// Each partition: a counting sort into its buckets (a range of t.start and
	// t.ent no other partition touches), then the ids shared within a bucket.
	keep = make([]bool, size)
	keptBy := make([]int, workers)
	var nextPart atomic.Int64
	bucketsPer := 1 << (bits - pbits)
	run(func(w int) {
		cnt := make([]uint32, bucketsPer)
		for {
			p := int(nextPart.Add(1) - 1)
			if p >= parts {
				return
			}
			lo, hi := pstart[p], pstart[p+1]
			b0 := p * bucketsPer
			clear(cnt)
			for _, e := range tmp[lo:hi] {
				cnt[t.bucket([2]uint64{e.a, e.b})-uint64(b0)]++
			}
			// The buckets' starts, then cnt is where each bucket's next entry goes,
			// and after the placing where it ends.
			off := uint32(lo)
			for j, c := range cnt {
				t.start[b0+j] = off
				cnt[j] = off
				off += c
			}
			for _, e := range tmp[lo:hi] {
				j := t.bucket([2]uint64{e.a, e.b}) - uint64(b0)
				t.ent[cnt[j]] = e
				cnt[j]++
			}
			for j := range bucketsPer {
				blo := int(t.start[b0+j])
				bucket := t.ent[blo:cnt[j]]
				for i := 1; i < len(bucket); i++ {
					for k := range i {
						if bucket[i].key() == bucket[k].key() {
							if !keep[blo+i] {
								keep[blo+i] = true
								keptBy[w]++
							}
							if !keep[blo+k] {
								keep[blo+k] = true
								keptBy[w]++
							}
						}
					}
				}
			}
		}
	})
	t.start[len(t.start)-1] = uint32(size)
	for _, k := range keptBy {
		kept += k
	}
	return t, keep, kept
}

// The function's modes.
const (
	modeRead     = 0 // keep the rows no later file holds
	modeReadBack = 1 // keep only the rows left out whose newer version did not load
	modeMark     = 2 // note the ids of a file's rows that loaded; keep nothing
)

// counts is one chunk's tally, per file, added to the plan's once.
type counts struct{ dropped, credited []int64 }

// keepAll says for each row (file f[i], id ids[i], bad[i] when it fails the
// checks) whether it is taken in the mode, and counts them. The ids are
// hashed first and looked up after, in a tight loop whose cache misses the
// CPU overlaps.
func (p *supersedePlan) keepAll(mode int, f []int32, ids []string, bad []bool, out []bool, c *counts) {
	hs := make([][2]uint64, len(ids))
	for i, id := range ids {
		if bad[i] || f[i] < 0 || int(f[i]) >= len(p.part) || !p.part[f[i]] {
			bad[i] = true
			continue
		}
		hs[i] = idKey(exactIDString(id))
	}
	if mode == modeMark {
		p.mu.Lock()
		for i := range ids {
			if !bad[i] {
				p.present[hs[i]] = true
			}
			out[i] = false
		}
		p.mu.Unlock()
		return
	}
	// The lookups in stages, each a loop of independent loads, so that the CPU
	// waits for many cache misses at once: the buckets' bounds, then their first
	// entries, then the comparisons.
	t := &p.ids
	lo, hi := make([]uint32, len(ids)), make([]uint32, len(ids))
	for i := range ids {
		if !bad[i] {
			b := t.bucket(hs[i])
			lo[i], hi[i] = t.start[b], t.start[b+1]
		}
	}
	var touch uint64
	for i := range ids {
		if lo[i] < hi[i] {
			touch += t.ent[lo[i]].a
		}
	}
	touched.Add(touch)
	for i := range ids {
		if bad[i] {
			out[i] = mode == modeRead
			continue
		}
		g := newestIn(t.ent[lo[i]:hi[i]], hs[i])
		if g <= f[i] || (mode == modeReadBack && !p.missing[hs[i]]) {
			out[i] = mode == modeRead
			continue
		}
		c.dropped[f[i]]++
		c.credited[g]++
		out[i] = mode == modeReadBack
	}
}

// touched keeps the staged loads of keepAll from being optimised away.
var touched atomic.Uint64

// Plans are found by the number written into the statement.
var (
	plansMu  sync.Mutex
	plans    = map[int64]*supersedePlan{}
	planNext int64
)

func addPlan(p *supersedePlan) (token int64, remove func()) {
	plansMu.Lock()
	defer plansMu.Unlock()
	planNext++
	token = planNext
	plans[token] = p
	return token, func() {
		plansMu.Lock()
		delete(plans, token)
		plansMu.Unlock()
	}
}

// supersededKeepFunc is superseded_keep(plan BIGINT, mode INTEGER, file VARCHAR,
// id VARCHAR) -> BOOLEAN: plan and mode are constants, file is the file's
// index in the group as text, id is NULL for a row that fails the checks.
// (duckdb-go reads vectors in place only as text.)
type supersededKeepFunc struct{}

func (supersededKeepFunc) Config() duckdb.ScalarFuncConfig {
	bt, _ := duckdb.NewTypeInfo(duckdb.TYPE_BIGINT)
	it, _ := duckdb.NewTypeInfo(duckdb.TYPE_INTEGER)
	ot, _ := duckdb.NewTypeInfo(duckdb.TYPE_BOOLEAN)
	vt, _ := duckdb.NewTypeInfo(duckdb.TYPE_VARCHAR)
	return duckdb.ScalarFuncConfig{InputTypeInfos: []duckdb.TypeInfo{bt, it, vt, vt}, ResultTypeInfo: ot,
		// It counts what it leaves out: never folded or evaluated twice.
		Volatile: true, SpecialNullHandling: true}
}

var errPlanArg = errors.New("superseded_keep: the plan and mode must be constants of a running load")

type supersedeBound struct{}

type boundPlan struct {
	p    *supersedePlan
	mode int
}

func intArg(v any) (int64, bool) {
	switch v := v.(type) {
	case int64:
		return v, true
	case int32:
		return int64(v), true
	}
	return 0, false
}

func (supersededKeepFunc) Executor() duckdb.ScalarFuncExecutor {
	return duckdb.ScalarFuncExecutor{
		ScalarBinder: func(ctx context.Context, args []duckdb.ScalarUDFArg) (context.Context, error) {
			if ctx == nil {
				ctx = context.Background()
			}
			if !args[0].Foldable || !args[1].Foldable {
				return ctx, nil
			}
			token, ok1 := intArg(args[0].Value)
			mode, ok2 := intArg(args[1].Value)
			plansMu.Lock()
			p := plans[token]
			plansMu.Unlock()
			if p == nil || !ok1 || !ok2 || mode < modeRead || mode > modeMark {
				return nil, errPlanArg
			}
			return context.WithValue(ctx, supersedeBound{}, boundPlan{p, int(mode)}), nil
		},
		ChunkContextExecutor: func(ctx context.Context, st *duckdb.ChunkIteratorState) error {
			b, ok := ctx.Value(supersedeBound{}).(boundPlan)
			if !ok {
				return errPlanArg
			}
			chunk := st.GetInputChunk()
			fv, err := chunk.GetVector(2)
			if err != nil {
				return err
			}
			iv, err := chunk.GetVector(3)
			if err != nil {
				return err
			}
			files, err := duckdb.GetVectorView[string](fv)
			if err != nil {
				return err
			}
			ids, err := duckdb.GetVectorView[string](iv)
			if err != nil {
				return err
			}
			n := ids.Len()
			data, err := vectorData(st.GetResultVector(), duckdb.TYPE_BOOLEAN)
			if err != nil {
				return err
			}
			out := unsafe.Slice((*bool)(data), n)
			c := counts{make([]int64, len(b.p.part)), make([]int64, len(b.p.part))}
			fs, idss, bad := make([]int32, n), make([]string, n), make([]bool, n)
			for i := range n {
				fstr, fok, err := files.GetValueBorrowed(i)
				if err != nil {
					return err
				}
				id, iok, err := ids.GetValueBorrowed(i)
				if err != nil {
					return err
				}
				fs[i] = -1
				if fok {
					if v, err := strconv.Atoi(fstr); err == nil {
						fs[i] = int32(v)
					}
				}
				idss[i], bad[i] = id, !iok
			}
			b.p.keepAll(b.mode, fs, idss, bad, out, &c)
			dropped, credited := b.p.dropped, b.p.credited
			if b.mode == modeReadBack {
				dropped, credited = b.p.back, b.p.uncredit
			}
			for f, k := range c.dropped {
				if k != 0 {
					dropped[f].Add(k)
				}
			}
			for g, k := range c.credited {
				if k != 0 {
					credited[g].Add(k)
				}
			}
			return nil
		}}
}

// supersedeAtLoad turns leaving out superseded rows on; tests turn it off to
// compare with loading every row.
var supersedeAtLoad = true

// exactBudget caps the memory the scans' exact id hashes may hold at once in
// a run (files scanned ahead and files waiting for their read): 16 bytes an
// id, so 16M ids (the 10M-row bench holds 7M for its one read of the
// scheduling exports, and the claims' 3M scanned ahead). The id table built
// from them is at most as large. A file whose hashes would go past it keeps
// none, and its rows are loaded and replaced afterwards, as before.
var exactBudget int64 = 256 << 20

// restoreSuperseded checks, after a group's read, that every file credited
// with replacing rows that were left out loaded all its records, and that they
// pass the checks (anyCond fails none). Where one did not, its ids that did
// load are marked, and the rows left out for the others are read back from
// the files that hold them (read builds that statement for the plan's token
// and the files to read, by index in the group). It returns, per file of the
// group, the rows read back, and the rows read back that had been credited to
// it.
func (in *Ingester) restoreSuperseded(ctx context.Context, tx *sql.Tx, exec func(string, ...any) (int64, error),
	sup *supersedePlan, token int64, items []*prepared, table, idCol, anyCond string, read func(token int64, index []int) string) (back, uncredit []int64, err error) {
	back, uncredit = make([]int64, len(items)), make([]int64, len(items))
	if sup == nil {
		return back, uncredit, nil
	}
	byID := map[int64]int{}
	var ids []string
	for i, it := range items {
		if sup.credited[i].Load() > 0 {
			byID[it.fileID] = i
			ids = append(ids, fmt.Sprint(it.fileID))
		}
	}
	if len(ids) == 0 {
		return back, uncredit, nil
	}
	rows, err := tx.QueryContext(ctx, fmt.Sprintf(`SELECT file_id, count(*) FILTER (WHERE (%s) IS NOT TRUE)
		FROM %s WHERE file_id IN (%s) GROUP BY file_id`, anyCond, table, strings.Join(ids, ", ")))
	if err != nil {
		return nil, nil, fmt.Errorf("count the rows that replaced others: %w", err)
	}
	passing := map[int]int64{}
	for rows.Next() {
		var id, n int64
		if err := rows.Scan(&id, &n); err != nil {
			rows.Close()
			return nil, nil, err
		}
		passing[byID[id]] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	var incomplete []string
	var fileCase strings.Builder
	fileCase.WriteString("CASE file_id")
	for id, i := range byID {
		if passing[i]+sup.dropped[i].Load() != items[i].ids.records {
			incomplete = append(incomplete, fmt.Sprint(id))
			fmt.Fprintf(&fileCase, " WHEN %d THEN '%d'", id, i)
		}
	}
	fileCase.WriteString(" END")
	if len(incomplete) == 0 {
		return back, uncredit, nil
	}
	// The ids of those files that did load, then the ones that did not, and the
	// older files holding those.
	sup.present = map[[2]uint64]bool{}
	if _, err := exec(fmt.Sprintf(`SELECT count(*) FROM %s WHERE file_id IN (%s) AND superseded_keep(%d::BIGINT, %d, %s, CASE WHEN (%s) IS NOT TRUE THEN %s END)`,
		table, strings.Join(incomplete, ", "), token, modeMark, fileCase.String(), anyCond, idCol)); err != nil {
		return nil, nil, fmt.Errorf("mark the rows that replaced others: %w", err)
	}
	isIncomplete := map[int32]bool{}
	for _, id := range incomplete {
		n, _ := strconv.ParseInt(id, 10, 64)
		isIncomplete[int32(byID[n])] = true
	}
	sup.missing = map[[2]uint64]bool{}
	holders := map[int]bool{}
	t := &sup.ids
	for b := 0; b+1 < len(t.start); b++ {
		for _, e := range t.ent[t.start[b]:t.start[b+1]] {
			h := e.key()
			if isIncomplete[e.file()] && t.newest(h) == e.file() && !sup.present[h] {
				sup.missing[h] = true
			}
		}
	}
	for b := 0; b+1 < len(t.start); b++ {
		for _, e := range t.ent[t.start[b]:t.start[b+1]] {
			h := e.key()
			if sup.missing[h] && t.newest(h) > e.file() {
				holders[int(e.file())] = true
			}
		}
	}
	sup.present = nil
	var index []int
	for i := range items {
		if holders[i] {
			index = append(index, i)
		}
	}
	if len(index) > 0 {
		if _, err := exec(read(token, index), keyArgs(in.Secret, in.canonical)...); err != nil {
			return nil, nil, fmt.Errorf("read back rows whose newer version did not load: %v", redactClientError(err))
		}
	}
	for i := range items {
		back[i], uncredit[i] = sup.back[i].Load(), sup.uncredit[i].Load()
	}
	if in.Log != nil {
		var n int64
		for _, b := range back {
			n += b
		}
		in.Log.Debug("rows read back", "rows", n, "ids", len(sup.missing), "files", len(index))
	}
	return back, uncredit, nil
}
