package pipeline

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/referrals/referrals/internal/clientkey"
)

// The loader keys client ids in SQL; explain, tests and any later tool key
// them in Go. Both must give the same key for every id and secret length.
func TestSQLClientKeyEqualsGoKey(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, ":memory:", Settings{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	secrets := []string{"short secret", strings.Repeat("k", 64), strings.Repeat("long secret ", 10)}
	ids := []string{"100017", "  100017  ", "\t77\u00a0", "José-Núñez", "a'b\"c\\d", "x\r\n", "", "   ", "\u00a0"}
	for _, secret := range secrets {
		for _, id := range ids {
			var got sql.NullString
			q := "SELECT " + clientKeyExpr("?::VARCHAR")
			// The id is the third parameter: $1 and $2 are the padded keys.
			q = strings.Replace(q, "?::VARCHAR", "$3::VARCHAR", -1)
			if err := db.QueryRowContext(ctx, q, append(keyArgs([]byte(secret)), id)...).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if strings.Trim(id, clientkey.Whitespace) == "" {
				if got.Valid {
					t.Errorf("blank id %q got key %s, want NULL", id, got.String)
				}
				continue
			}
			if want := clientkey.Key([]byte(secret), id); got.String != want {
				t.Errorf("secret of %d bytes, id %q: SQL key %s, Go key %s", len(secret), id, got.String, want)
			}
		}
	}
}
