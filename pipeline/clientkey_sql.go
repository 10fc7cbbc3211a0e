package pipeline

import (
	"crypto/sha256"
	"fmt"

	"github.com/referrals/referrals/internal/clientkey"
)

// Client ids are keyed inside the CSV scan, in SQL, so a raw id never
// reaches a table: HMAC-SHA256 written out with DuckDB's sha256(),
//
//	HMAC(K, m) = SHA256((K' xor opad) || SHA256((K' xor ipad) || m))
//
// with the two padded keys passed as statement parameters ($1 outer, $2
// inner), never written into the SQL text. It gives the same hex string as
// clientkey.Key. (A Go scalar function did this before; DuckDB calls such a
// function through cgo a row at a time, which tripled the cost of a scan.)

// hmacPads returns the outer and inner padded keys of HMAC-SHA256 (RFC 2104).
func hmacPads(secret []byte) (outer, inner []byte) {
	k := secret
	if len(k) > sha256.BlockSize {
		s := sha256.Sum256(k)
		k = s[:]
	}
	outer = make([]byte, sha256.BlockSize)
	inner = make([]byte, sha256.BlockSize)
	copy(outer, k)
	copy(inner, k)
	for i := range outer {
		outer[i] ^= 0x5c
		inner[i] ^= 0x36
	}
	return outer, inner
}

// keyArgs are the parameters a statement using clientKeyExpr needs, in order.
func keyArgs(secret []byte) []any {
	outer, inner := hmacPads(secret)
	return []any{outer, inner}
}

// clientKeyExpr is the SQL for the key of the client id in column col: the
// id trimmed of the same white space clientkey.Key trims; blank is NULL.
func clientKeyExpr(col string) string {
	trimmed := fmt.Sprintf("trim(%s, %s)", col, sqlChars(clientkey.Whitespace))
	return fmt.Sprintf("CASE WHEN %[1]s <> '' THEN sha256($1::BLOB || unhex(sha256($2::BLOB || encode(%[1]s)))) END", trimmed)
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
