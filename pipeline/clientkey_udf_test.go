package pipeline

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/referrals/referrals/internal/clientkey"
)

// The loader keys client ids with client_key() inside the scan; explain,
// tests and any later tool key them with clientkey.Key. Both must give the
// same key for every id and secret length.
func TestSQLClientKeyEqualsGoKey(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, ":memory:", Settings{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Registering twice must leave one function, not an overload per call.
	for range 2 {
		if err := registerClientKey(ctx, db); err != nil {
			t.Fatal(err)
		}
	}
	var defined int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_functions() WHERE function_name = 'client_key'`).Scan(&defined); err != nil {
		t.Fatal(err)
	}
	if defined != 1 {
		t.Fatalf("client_key is defined %d times after two registrations, want once", defined)
	}
	secrets := []string{"short secret", strings.Repeat("k", 64), strings.Repeat("long secret ", 10)}
	ids := []string{"100017", "  100017  ", "\t77\u00a0", "00501", " 0007\u00a0", "0", "000", "0A1", "José-Núñez", "a'b\"c\\d", "x\r\n", "", "   ", "\u00a0",
		"\u00a0\u00a0x", "\t\r\n\v\f", "\x00", "\x00 ", "é", "x ", "x\u00a0", "x\t", "à", "¿x", "à\u00a0"}
	// Each id keyed canonical, as clientkey.Key keys it, and as written (a
	// database keyed before ids were made canonical).
	for _, secret := range secrets {
		for i := range 2 * len(ids) {
			id, canonical := ids[i/2], i%2 == 0
			var got sql.NullString
			var present bool
			// The id is the third parameter: $1 is the secret, $2 canonical. The loader's checks tell a
			// row without a client id by clientPresentExpr, which skips the trim when the
			// first character is not white space: it must say present exactly where
			// clientKeyExpr gives a key.
			q := "SELECT (" + clientKeyExpr("$3::VARCHAR") + ")::VARCHAR, " + clientPresentExpr("$3::VARCHAR") + " IS NOT NULL"
			if err := db.QueryRowContext(ctx, q, append(keyArgs([]byte(secret), canonical), id)...).Scan(&got, &present); err != nil {
				t.Fatal(err)
			}
			blank := strings.Trim(id, clientkey.Whitespace) == ""
			if present == blank {
				t.Errorf("id %q: clientPresentExpr says present %v, the key is blank %v", id, present, blank)
			}
			if blank {
				if got.Valid {
					t.Errorf("blank id %q got key %s, want NULL", id, got.String)
				}
				continue
			}
			want := clientkey.Key([]byte(secret), id)
			if !canonical {
				want = strconv.FormatUint(clientkey.NewKeyer([]byte(secret)).Key(strings.Trim(id, clientkey.Whitespace)), 10)
			}
			if got.String != want {
				t.Errorf("secret of %d bytes, id %q, canonical %v: SQL key %s, Go key %s", len(secret), id, canonical, got.String, want)
			}
		}
	}
	// The key must be the secret in hex and one constant for the statement.
	for _, q := range []string{
		`SELECT client_key('100017', 'not hex', true)`,
		`SELECT max(client_key('100017', hex(i::VARCHAR), true)) FROM range(3) t(i)`,
		`SELECT max(client_key('100017', '6b6b6b', i > 1)) FROM range(3) t(i)`,
	} {
		var got sql.NullString
		err := db.QueryRowContext(ctx, q).Scan(&got)
		if err == nil || !strings.Contains(err.Error(), "one constant for the statement") {
			t.Errorf("%s: got %v (%v), want the key argument refused", q, got, err)
		}
	}
	// Whole chunks: 5,000 ids (every seventh blank) keyed in one statement.
	secret := []byte("chunk secret 0123456789")
	q := `SELECT id, (` + clientKeyExpr("id") + `)::VARCHAR FROM (SELECT CASE WHEN i % 7 = 0 THEN ' ' ELSE 'C' || i END AS id FROM range(5000) t(i)) ORDER BY id`
	rows, err := db.QueryContext(ctx, q, keyArgs(secret, true)...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var n, blank int
	for rows.Next() {
		var id string
		var got sql.NullString
		if err := rows.Scan(&id, &got); err != nil {
			t.Fatal(err)
		}
		n++
		if strings.TrimSpace(id) == "" {
			blank++
			if got.Valid {
				t.Fatalf("blank id got key %s", got.String)
			}
		} else if want := clientkey.Key(secret, id); got.String != want {
			t.Fatalf("id %q keyed in a chunk: %s, Go key %s", id, got.String, want)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 5000 || blank != 715 {
		t.Fatalf("read %d rows (%d blank), want 5000 (715 blank)", n, blank)
	}
}

// A check's offending rows never show a client key, whatever its column is
// called: every key of a thousand ids reads as one, and the numbers a check
// row otherwise holds (counts, NPIs, dates, shares) do not.
func TestLooksLikeKey(t *testing.T) {
	secret := []byte("looks like key")
	for i := range 1000 {
		if k := clientkey.Key(secret, fmt.Sprintf("C-%d", i)); !looksLikeKey(k) {
			t.Errorf("key %s of client %d does not read as a key", k, i)
		}
	}
	for _, s := range []string{"0", "42", "1234567893", "2026-10-01", "0.5", "12345678901234", "123456789012345678901", "9a2345678901234567"} {
		if looksLikeKey(s) {
			t.Errorf("%q reads as a client key", s)
		}
	}
}
