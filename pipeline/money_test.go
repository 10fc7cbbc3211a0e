package pipeline

import (
	"bytes"
	"context"
	"fmt"
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

// A Windows-1252 file writes the euro sign as the byte 0x80 (and £, ¥ as 0xA3,
// 0xA5): the copy decodes it to € and drops it, so the scan's check for a
// misplaced thousands separator must see the amount without it too. Otherwise
// 225.50 € in a file of 1.234,50 € amounts, past the first 64 KB, passed the
// check as no number and loaded as 22550.00, and check said nothing.
func TestMisplacedSeparatorBesideAWindows1252CurrencySign(t *testing.T) {
	for _, sign := range []string{" \x80", "\x80", " \xa3"} {
		var b strings.Builder
		b.WriteString("Claim Line ID;Patient Account;DOS;Rendering Provider;Rendering Provider NPI;Referring Provider;Referring Provider NPI;Payer;CPT Code;Charge;Paid\r\n")
		for i := range 1500 {
			fmt.Fprintf(&b, "L%04d;%d;01/05/2026;Zo\xeb Mart\xedn;;Maria Lopez;1457392811;Aetna;90837;1.234,50%s;90,00%s\r\n", i, 900000+i, sign, sign)
		}
		b.WriteString("LX;901999;01/06/2026;Zo\xeb Mart\xedn;;Maria Lopez;1457392811;Aetna;90837;225.50" + sign + ";0,00" + sign + "\r\n")
		dir := t.TempDir()
		writeExports(t, dir, map[string]string{"b.csv": b.String()})
		in := folderIngester(t, dir, "billing")
		in.TmpDir = dir
		sum, err := in.Ingest(context.Background())
		must(t, err)
		if len(sum.Files) != 1 || sum.Files[0].Loaded != 1500 || sum.Files[0].Rejected != 1 {
			t.Errorf("sign %q: %+v, want 1500 rows loaded and LX rejected", sign, sum.Files)
		}
		var n int
		must(t, in.DB.QueryRow(`SELECT count(*) FROM raw_claim_lines WHERE charge > 10000`).Scan(&n))
		if n != 0 {
			t.Errorf("sign %q: %d amounts loaded a hundred times too large", sign, n)
		}
		fcs, err := CheckExports(context.Background(), in.Config)
		must(t, err)
		if len(fcs) != 1 || !strings.Contains(strings.Join(fcs[0].Problems, "\n"), "line 1502: the amount 225.50") {
			t.Errorf("sign %q: check does not name the amount: %+v", sign, fcs)
		}
	}
}
