package pipeline

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
	"sync"

	"github.com/duckdb/duckdb-go/v2"
)

// clientKeyFunc is the SQL function client_key(x): the hex HMAC-SHA256 of
// trim(x) under the installation's secret. It runs inside the CSV scan, so
// a raw client id never reaches a table. A client has many appointments,
// so keys are cached per id: keying then costs about one map lookup a row
// instead of two SHA-256 runs. The secret stays in this process's memory;
// nothing of it is written to the database.
type clientKeyFunc struct {
	pool  sync.Pool
	mu    sync.RWMutex
	cache map[string]string
}

// maxCachedKeys bounds the cache (about 150 bytes an entry); past it, keys
// are computed each time.
const maxCachedKeys = 2_000_000

func newClientKeyFunc(secret []byte) *clientKeyFunc {
	f := &clientKeyFunc{cache: map[string]string{}}
	f.pool.New = func() any { return hmac.New(sha256.New, secret) }
	return f
}

func (f *clientKeyFunc) Config() duckdb.ScalarFuncConfig {
	vt, _ := duckdb.NewTypeInfo(duckdb.TYPE_VARCHAR)
	return duckdb.ScalarFuncConfig{InputTypeInfos: []duckdb.TypeInfo{vt}, ResultTypeInfo: vt}
}

func (f *clientKeyFunc) Executor() duckdb.ScalarFuncExecutor {
	return duckdb.ScalarFuncExecutor{RowExecutor: func(values []driver.Value) (any, error) {
		s, _ := values[0].(string)
		s = strings.TrimSpace(s)
		if s == "" {
			return nil, nil
		}
		f.mu.RLock()
		k, ok := f.cache[s]
		f.mu.RUnlock()
		if ok {
			return k, nil
		}
		m := f.pool.Get().(hash.Hash)
		m.Reset()
		m.Write([]byte(s))
		k = hex.EncodeToString(m.Sum(nil))
		f.pool.Put(m)
		f.mu.Lock()
		if len(f.cache) < maxCachedKeys {
			f.cache[strings.Clone(s)] = k
		}
		f.mu.Unlock()
		return k, nil
	}}
}

// registered remembers which databases have client_key() and under which
// secret: registering again would add an overload each time, and DuckDB's
// function lookup grows with them.
var registered = struct {
	sync.Mutex
	secret map[*sql.DB]string
}{secret: map[*sql.DB]string{}}

// registerClientKey defines client_key() on the database's connection.
func registerClientKey(ctx context.Context, db *sql.DB, secret []byte) error {
	registered.Lock()
	defer registered.Unlock()
	if s, ok := registered.secret[db]; ok && s == string(secret) {
		return nil
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := duckdb.RegisterScalarUDF(conn, "client_key", newClientKeyFunc(secret)); err != nil {
		return fmt.Errorf("define client_key: %w", err)
	}
	registered.secret[db] = string(secret)
	return nil
}
