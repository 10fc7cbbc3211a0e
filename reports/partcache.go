package reports

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/referrals/referrals/pipeline"
)

// partCache keeps the deflated XML of the sheets that read only model tables (Referrers,
// Introductions, Monthly, Clinicians, Transitions), so a night whose models were all kept
// (their inputs unchanged) copies those sheets instead of querying and writing them again:
// at network scale they are a second of the workbook's 1.2 s, and the cost of a quiet
// night should follow its new data, not the history. Overview and Data quality (the
// ledger, rejected rows) are always written.
//
// A cached sheet is used only when its key is the current one: a digest of the code that
// writes sheets (this package's source, embedded, and the build: buildDigest), the cell styles, the report period, and
// the content digest of every staging and mart table (model_fingerprints, which BuildModels
// keeps current). Any change to any of them, or a database without model_fingerprints,
// writes every sheet. TestCachedSheetsReadOnlyModelTables proves the cached sheets read
// nothing else.
type partCache struct {
	dir string
	key string
}

//go:embed *.go templates assets
var reportSource embed.FS

var sourceDigest = sync.OnceValue(func() string {
	h := sha256.New()
	_ = fs.WalkDir(reportSource, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(path, "_test.go") {
			return err
		}
		b, err := reportSource.ReadFile(path)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", path, len(b))
		h.Write(b)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))
})

// buildDigest names the build: the Go version and every module it was built with
// (excelize writes the sheets, go-echarts the page's chart options, gocsv the CSV), so
// that a binary which differs from the last only there writes every part anew rather
// than copy what the old one wrote. A test stands in another build.
var buildDigest = sync.OnceValue(func() string {
	h := sha256.New()
	fmt.Fprintf(h, "go=%s\x00", runtime.Version())
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Replace != nil {
				d = d.Replace
			}
			fmt.Fprintf(h, "%s@%s %s\x00", d.Path, d.Version, d.Sum)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
})

// cachedSheets are the sheets partCache may keep: each reads only model tables.
var cachedSheets = map[string]bool{
	sheetReferrers: true, sheetIntroduction: true, sheetMonthly: true, sheetClinicians: true, sheetTransitions: true,
}

// newPartCache opens the cache in dir for this run's key; it returns nil (no caching) when
// dir is empty or the database has no model fingerprints.
func newPartCache(ctx context.Context, db *sql.DB, dir string, st *styles, p period) (*partCache, error) {
	if dir == "" {
		return nil, nil
	}
	var exists bool
	if err := db.QueryRowContext(ctx, `SELECT count(*) > 0 FROM duckdb_tables()
		WHERE NOT temporary AND schema_name = 'main' AND table_name = 'model_fingerprints'`).Scan(&exists); err != nil {
		return nil, fmt.Errorf("report cache: %w", err)
	}
	if !exists {
		return nil, nil
	}
	key, err := modelsKey(ctx, db, fmt.Sprintf("styles=%+v\x00period=%s\x00", *st, p.key()))
	if err != nil || key == "" {
		return nil, err
	}
	return &partCache{dir: dir, key: key}, nil
}

// modelsKey digests this package's source (templates and assets too), what, and
// pipeline.ModelsDigest (the models' parameters and contents); "" when no model
// content is recorded.
func modelsKey(ctx context.Context, db querier, what string) (string, error) {
	models, err := pipeline.ModelsDigest(ctx, db)
	if err != nil {
		return "", fmt.Errorf("report cache: %w", err)
	}
	if models == "" {
		return "", nil
	}
	h := sha256.New()
	fmt.Fprintf(h, "source=%s\x00build=%s\x00%s\x00models=%s", sourceDigest(), buildDigest(), what, models)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// The HTML page and the referrer CSV read only model tables too
// (TestCachedFilesReadOnlyModelTables), so while the models are unchanged the files
// of the last run are copied from the cache instead of queried and written again:
// 0.2 s of a quiet night at 10M rows.

// WriteHTMLCached writes the HTML page like WriteHTML, keeping a copy in cacheDir
// for the next run with the same models ("" for no cache).
//
// The page's banner (export files that could not be loaded) reads no model table: it is
// part of the copy's key, so a night whose files failed, or loaded again, writes the page.
func WriteHTMLCached(ctx context.Context, db *sql.DB, month time.Time, path, cacheDir string) error {
	banner, err := pageBanner(ctx, db)
	if err != nil {
		return fmt.Errorf("HTML report %s: %w", path, err)
	}
	return writeCachedFile(ctx, db, month, path, cacheDir, "page.html", "banner="+banner, func() error { return WriteHTML(ctx, db, month, path) })
}

// WriteReferrerCSVCached writes the referrer CSV like WriteReferrerCSV, keeping a copy
// in cacheDir for the next run with the same models ("" for no cache).
func WriteReferrerCSVCached(ctx context.Context, db *sql.DB, month time.Time, path, cacheDir string) error {
	return writeCachedFile(ctx, db, month, path, cacheDir, "referrers.csv", "", func() error { return WriteReferrerCSV(ctx, db, month, path) })
}

// cachedFile is a cached file's header line; the file's bytes follow it.
type cachedFile struct {
	Key  string `json:"key"`
	Size int    `json:"size"`
}

// writeCachedFile writes the file through write, or copies the cache's copy when its key
// (the models, the period, name and extra: what else the file shows) is the current one.
func writeCachedFile(ctx context.Context, db *sql.DB, month time.Time, path, cacheDir, name, extra string, write func() error) error {
	if cacheDir == "" {
		return write()
	}
	p, err := loadPeriod(ctx, db, month)
	if err != nil {
		return write() // says what is wrong
	}
	key, err := modelsKey(ctx, db, fmt.Sprintf("file=%s\x00period=%s\x00extra=%s\x00", name, p.key(), extra))
	if err != nil {
		return write() // no key, no cache: the file is written
	}
	if key == "" {
		return write()
	}
	cache := filepath.Join(cacheDir, name+".cached")
	// A missing, stale or unreadable copy is a miss, never an error: the file is written.
	var h cachedFile
	if body, ok := readEntry(cache, &h); ok && h.Key == key && h.Size == len(body) {
		return writeAtomic(path, func(w io.Writer) error {
			_, err := w.Write(body)
			return err
		})
	}
	if err := write(); err != nil {
		return err
	}
	// A copy that cannot be kept costs the next night time, never data.
	if body, err := os.ReadFile(path); err == nil {
		_ = writeEntry(cache, cachedFile{Key: key, Size: len(body)}, body)
	}
	return nil
}

// cachedPart is a cache file's header line; the deflated XML follows it.
type cachedPart struct {
	Key    string `json:"key"`
	CRC    uint32 `json:"crc"`
	Size   int64  `json:"size"`
	Filter [3]int `json:"filter"`
}

func (c *partCache) file(sheet string) string {
	return filepath.Join(c.dir, strings.ReplaceAll(strings.ToLower(sheet), " ", "-")+".part")
}

// load returns the sheet's part and autofilter when the cache holds them for this key.
// A missing, stale or unreadable file is a miss, never an error: the sheet is written.
func (c *partCache) load(sheet string) (*sheetPart, [3]int, bool) {
	if c == nil || !cachedSheets[sheet] {
		return nil, [3]int{}, false
	}
	var h cachedPart
	body, ok := readEntry(c.file(sheet), &h)
	if !ok || h.Key != c.key {
		return nil, [3]int{}, false
	}
	p := &sheetPart{crc: h.CRC, size: h.Size}
	p.compressed.Write(body)
	return p, h.Filter, true
}

// store keeps a freshly written sheet for the next run with the same key.
func (c *partCache) store(sheet string, p *sheetPart, filter [3]int) error {
	if c == nil || !cachedSheets[sheet] {
		return nil
	}
	return writeEntry(c.file(sheet), cachedPart{Key: c.key, CRC: p.crc, Size: p.size, Filter: filter}, p.compressed.Bytes())
}

// readEntry reads a cache file: a JSON header line, decoded into head, then the
// body. A missing or unreadable file is not ok.
func readEntry(path string, head any) (body []byte, ok bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, false
	}
	line, body, ok := bytes.Cut(b, []byte("\n"))
	if !ok || json.Unmarshal(line, head) != nil {
		return nil, false
	}
	return body, true
}

// writeEntry writes a cache file that readEntry reads.
func writeEntry(path string, head any, body []byte) error {
	line, err := json.Marshal(head)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("report cache: %w", err)
	}
	return writeAtomic(path, func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		bw.Write(line)
		bw.WriteByte('\n')
		bw.Write(body)
		return bw.Flush()
	})
}
