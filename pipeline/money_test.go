package pipeline

import (
	"bytes"
	"strings"
	"testing"
)

// The copy drops the currency sign of the amount fields' values, and only
// theirs: fields are followed the reader's way (a delimiter inside quotes,
// a quoted line break), whatever the chunks the bytes come in.
func TestMoneyMender(t *testing.T) {
	long := strings.Repeat("x", 300) + "$5"
	for _, c := range []struct{ in, want string }{
		{"a,b,Charge\n1,$2,$3.50\n", "a,b,Charge\n1,$2,3.50\n"},
		{"a,b,Charge\r\n\"x,$1\",$2,\"$1,234.50\"\r\n", "a,b,Charge\r\n\"x,$1\",$2,\"1,234.50\"\r\n"},
		{"a,b,Charge\n\"line\nbreak\",y, -$25.00 \n", "a,b,Charge\n\"line\nbreak\",y, -25.00 \n"},
		{"a,b,Charge\n1,2,1.234,50 €", "a,b,Charge\n1,2,1.234,50 €"}, // unquoted comma: two fields, the second not an amount
		{"a;b;Charge\n1;2;1.234,50 €", "a;b;Charge\n1;2;1.234,50"},   // no final newline
		{"a,b,Charge\n1,2,$abc\n1,2,-$-5\n1,2,USD 5\n1,2,(25.00)\n", "a,b,Charge\n1,2,$abc\n1,2,-$-5\n1,2,USD 5\n1,2,(25.00)\n"},
		{"a,b,Charge\n1,2," + long + "\n1,2,$7\n", "a,b,Charge\n1,2," + long + "\n1,2,7\n"},
		{"a,b,Charge\n1,2,\"$9\"\"\"\n", "a,b,Charge\n1,2,\"$9\"\"\"\n"}, // a quote inside: not an amount
	} {
		for _, size := range []int{1, 3, 1 << 20} {
			var out bytes.Buffer
			delim := byte(',')
			if strings.HasPrefix(c.in, "a;") {
				delim = ';'
			}
			m := newMoneyMender(&out, delim, []int{2})
			for in := []byte(c.in); len(in) > 0; {
				n := min(size, len(in))
				if _, err := m.Write(in[:n]); err != nil {
					t.Fatal(err)
				}
				in = in[n:]
			}
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
			if out.String() != c.want {
				t.Errorf("%q in chunks of %d:\n got %q\nwant %q", c.in, size, out.String(), c.want)
			}
		}
	}
}
