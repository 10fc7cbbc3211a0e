package pipeline

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"unsafe"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/referrals/referrals/internal/clientkey"
)

// Client ids are keyed inside the CSV scan, so a raw id never reaches a
// table: client_key(id, key, canonical) is a Go function that DuckDB calls
// once per chunk of up to 2,048 rows, with the installation's secret (hex)
// passed as a statement parameter, never written into the SQL text. With
// canonical (every database made since leading zeros were dropped, see
// ClientKeyCanonical) it gives the same key as clientkey.Key; without it, the
// key of the id as written, as an older database's clients were keyed.
//
// Three ways were measured. A Go function called a row at a time through
// cgo tripled the cost of a scan (17.4 s against 5.0 s bare on 3.3M rows).
// HMAC written in SQL with DuckDB's sha256() costs four SHA-256 blocks per
// row in portable C: 11.5 s for 10M ids on two cores. This function reads
// the chunk's strings in place and hashes them with Go's SHA-256, which
// uses the CPU's SHA instructions: 3.4 s for the same 10M ids.
//
// The key is the HMAC's first 64 bits as a UBIGINT, not its hex text: 8
// bytes a row instead of 64 (plus DuckDB's string header), so loading,
// copying, joining and grouping by client cost less (see clientkey.Keyer.Key).

// clientKeyFunc is client_key(id VARCHAR, key VARCHAR, canonical BOOLEAN) -> UBIGINT.
type clientKeyFunc struct{}

func (clientKeyFunc) Config() duckdb.ScalarFuncConfig {
	vt, _ := duckdb.NewTypeInfo(duckdb.TYPE_VARCHAR)
	bt, _ := duckdb.NewTypeInfo(duckdb.TYPE_BOOLEAN)
	kt, _ := duckdb.NewTypeInfo(duckdb.TYPE_UBIGINT)
	return duckdb.ScalarFuncConfig{InputTypeInfos: []duckdb.TypeInfo{vt, vt, bt}, ResultTypeInfo: kt}
}

var errClientKeyArg = errors.New("client_key: the key argument must be the installation's secret in hex, and canonical true or false, each one constant for the statement")

// clientKeySecret is the context key under which the bind function leaves the
// decoded secret and the canonical flag (a clientKeyBound) for the executing threads.
type clientKeySecret struct{}

type clientKeyBound struct {
	secret    []byte
	canonical bool
}

func (clientKeyFunc) Executor() duckdb.ScalarFuncExecutor {
	return duckdb.ScalarFuncExecutor{
		// The key is taken once, when DuckDB binds the call. A statement's parameters
		// are bound twice: when it is prepared, without values (nothing to take yet),
		// and when it runs, with them. A key that is no constant is never taken, and
		// the call fails. Returning a context here also keeps duckdb-go from storing
		// one into the shared bind data from every executing thread at once (a data
		// race the race detector reported).
		ScalarBinder: func(ctx context.Context, args []duckdb.ScalarUDFArg) (context.Context, error) {
			if ctx == nil {
				ctx = context.Background()
			}
			if !args[1].Foldable || !args[2].Foldable {
				return ctx, nil
			}
			text, _ := args[1].Value.(string)
			secret, err := hex.DecodeString(text)
			canonical, ok := args[2].Value.(bool)
			if err != nil || len(secret) == 0 || !ok {
				return nil, errClientKeyArg
			}
			return context.WithValue(ctx, clientKeySecret{}, clientKeyBound{secret, canonical}), nil
		},
		ChunkContextExecutor: func(ctx context.Context, st *duckdb.ChunkIteratorState) error {
			bound, ok := ctx.Value(clientKeySecret{}).(clientKeyBound)
			if !ok {
				return errClientKeyArg
			}
			idVec, err := st.GetInputChunk().GetVector(0)
			if err != nil {
				return err
			}
			ids, err := duckdb.GetVectorView[string](idVec)
			if err != nil {
				return err
			}
			n := ids.Len()
			out, err := ubigintData(st.GetResultVector(), n)
			if err != nil {
				return err
			}
			keyer := clientkey.NewKeyer(bound.secret)
			for i := range n {
				id, ok, err := ids.GetValueBorrowed(i)
				if err != nil {
					return err
				}
				if !ok {
					// duckdb-go sets the result of a NULL id to NULL after this call.
					continue
				}
				if bound.canonical {
					out[i] = keyer.Key(clientkey.Canonical(trimID(id)))
				} else {
					out[i] = keyer.Key(trimID(id))
				}
			}
			return nil
		}}
}

// ubigintData is the result vector's values, for writing in place: duckdb-go
// writes a result value only through an interface per row, which would cost
// more than the hashing. Its vector keeps the data pointer unexported, so it
// is read by reflection, with every step checked: a later duckdb-go that lays
// its vector out differently fails the statement with this message (and
// TestSQLClientKeyEqualsGoKey), never writes elsewhere.
func ubigintData(v duckdb.Vector, n int) ([]uint64, error) {
	data, err := vectorData(v, duckdb.TYPE_UBIGINT)
	if err != nil {
		return nil, err
	}
	return unsafe.Slice((*uint64)(data), n), nil
}

// vectorData is the data pointer of a result vector of type typ.
func vectorData(v duckdb.Vector, typ duckdb.Type) (unsafe.Pointer, error) {
	vec := reflect.ValueOf(v).FieldByName("v")
	if vec.Kind() != reflect.Pointer || vec.IsNil() || vec.Elem().Kind() != reflect.Struct {
		return nil, errVectorLayout
	}
	t := vec.Elem().FieldByName("Type")
	data := vec.Elem().FieldByName("dataPtr")
	if !t.IsValid() || !t.CanUint() || t.Uint() != uint64(typ) ||
		data.Kind() != reflect.UnsafePointer || data.IsNil() {
		return nil, errVectorLayout
	}
	return data.UnsafePointer(), nil
}

var errVectorLayout = errors.New("this duckdb-go's result vector is not laid out as the loader's functions expect (a vector of the result type with its data pointer); pin duckdb-go to the version in go.mod")

// registerClientKey defines client_key() on the database.
func registerClientKey(ctx context.Context, db *sql.DB) error {
	return registerScalarUDF(ctx, db, "client_key", clientKeyFunc{})
}

// registerScalarUDF defines a Go function in the database, once: registering
// again would add an overload each time.
func registerScalarUDF(ctx context.Context, db *sql.DB, name string, f duckdb.ScalarFunc) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var n int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_functions() WHERE function_name = ?`, name).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if err := duckdb.RegisterScalarUDF(conn, name, f); err != nil {
		return fmt.Errorf("define %s: %w", name, err)
	}
	return nil
}

// keyArgs are the parameters a statement using clientKeyExpr needs, in order:
// the secret, and whether ids are keyed canonical (ClientKeyCanonical).
func keyArgs(secret []byte, canonical bool) []any {
	return []any{hex.EncodeToString(secret), canonical}
}

// clientKeyExpr is the SQL for the key of the client id in column col: the
// id trimmed of the same white space clientkey.Key trims; blank is NULL.
// It needs client_key() registered and keyArgs as the statement's parameters.
// client_key() trims the id itself: DuckDB's trim() with a set of characters
// builds that set again for every row (4-5% of the CPU of a 10M-row load).
func clientKeyExpr(col string) string {
	return fmt.Sprintf("CASE WHEN %s THEN client_key(%s, $1, $2) END", clientPresent(col), col)
}

// trimID is strings.Trim(id, clientkey.Whitespace), without its per-rune
// search when neither end can be white space (every byte of
// clientkey.Whitespace is below 0x21 or part of U+00A0, C2 A0).
func trimID(id string) string {
	if n := len(id); n > 0 && id[0] > ' ' && id[0] != 0xC2 && id[n-1] > ' ' && id[n-1] != 0xA0 {
		return id
	}
	return strings.Trim(id, clientkey.Whitespace)
}

// clientPresentExpr is 1 when col holds a client id (something left after
// trimming clientkey.Whitespace), else NULL: what clientKeyExpr keys. A
// first character that is not white space settles it without trimming.
func clientPresentExpr(col string) string {
	return fmt.Sprintf("(CASE WHEN %s THEN 1 END)", clientPresent(col))
}

// clientPresent is the condition of clientPresentExpr.
//
// The codes are looked up with list_contains, not an IN list: DuckDB turns an
// IN list of more than a few constants into a join with them, and a join in
// the statement that reads a file makes DuckDB insert the rows in whatever
// order its threads finish, not in the file's (a plain INSERT instead of its
// order-keeping BATCH_INSERT). The loader counts on file order: of an id twice
// in a file, the last row is kept (TestDuplicateIDKeepsTheFileLast).
func clientPresent(col string) string {
	return fmt.Sprintf("(NOT list_contains([%[2]s], ascii(%[1]s)) OR trim(%[1]s, %[3]s) <> '')", col, whitespaceCodes(), sqlChars(clientkey.Whitespace))
}

// whitespaceCodes lists the code points of clientkey.Whitespace, and 0 (the
// code DuckDB's ascii() gives an empty string), for a list.
func whitespaceCodes() string {
	codes := []string{"0"}
	for _, r := range clientkey.Whitespace {
		codes = append(codes, fmt.Sprint(r))
	}
	return strings.Join(codes, ", ")
}

// sqlChars writes a string as a concatenation of chr() calls, so control
// characters survive in SQL text.
func sqlChars(s string) string {
	out := ""
	for i, r := range s {
		if i > 0 {
			out += " || "
		}
		out += fmt.Sprintf("chr(%d)", r)
	}
	return out
}
