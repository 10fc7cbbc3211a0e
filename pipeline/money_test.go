package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"unicode/utf16"
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
		// Spaces between thousands: plain, no-break (U+00A0), narrow (U+202F), with a
		// currency sign or without; groups not of three digits are left to the reader.
		{"a;b;Charge\n1;2;1 234,50\n1;2;-1\u00a0234\u00a0567,00\n1;2;1\u202f234,50\u00a0€\n", "a;b;Charge\n1;2;1234,50\n1;2;-1234567,00\n1;2;1234,50\n"},
		{"a,b,Charge\n1,2,\"$1 234.50\"\n1,2, 1 234 \n", "a,b,Charge\n1,2,\"1234.50\"\n1,2, 1234 \n"},
		{"a;b;Charge\n1;2;12 34,50\n1;2;1 2345\n1;2;1  234\n1;2;1 234 €x\n1 234;2;3\n", "a;b;Charge\n1;2;12 34,50\n1;2;1 2345\n1;2;1  234\n1;2;1 234 €x\n1 234;2;3\n"},
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
		b.WriteString(claimsHeaderSemicolon)
		for i := range 1500 {
			fmt.Fprintf(&b, "L%04d;%d;01/05/2026;Zo\xeb Mart\xedn;;Maria Lopez;1457392811;Aetna;90837;1.234,50%s;90,00%s\r\n", i, 900000+i, sign, sign)
		}
		b.WriteString("LX;901999;01/06/2026;Zo\xeb Mart\xedn;;Maria Lopez;1457392811;Aetna;90837;225.50" + sign + ";0,00" + sign + "\r\n")
		in, sum := ingestBillingFile(t, b.String(), nil)
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

// Amounts written with spaces between thousands, as French and French Canadian
// formats write them (1 234,50 €, the spaces no-break or narrow ones, or plain),
// load as numbers: before, the reader rejected every such row and check said
// nothing. A plain space is found on the file's first rows (no byte search can
// find it), a no-break one anywhere; a plain-spaced amount further down in a
// file whose first rows show none is rejected, shown, with what to do.
func TestAmountsWithSpacesBetweenThousands(t *testing.T) {
	for _, c := range []struct {
		name, charge, paid string
		encoding, amounts  string
	}{
		{"narrow and no-break spaces, euro after", "1\u202f234,50\u00a0€", "90,00\u00a0€", "utf-8", "decimal comma; currency signs dropped; spaces between thousands dropped"},
		{"no-break space", "1\u00a0234,50", "90,00", "utf-8", "decimal comma; spaces between thousands dropped"},
		{"plain spaces", "1 234,50", "90,00", "utf-8", "decimal comma; spaces between thousands dropped"},
		{"Windows-1252", "1\xa0234,50 \x80", "90,00 \x80", "windows-1252", "decimal comma; currency signs dropped; spaces between thousands dropped"},
		{"point and dollar", "$1 234.50", "$90.00", "utf-8", "currency signs dropped; spaces between thousands dropped"},
	} {
		var b strings.Builder
		b.WriteString(claimsHeaderSemicolon)
		for i := range 20 {
			fmt.Fprintf(&b, "L%04d;%d;01/05/2026;Zoe Martin;;Maria Lopez;1457392811;Aetna;90837;%s;%s\r\n", i, 900000+i, c.charge, c.paid)
		}
		in, sum := ingestBillingFile(t, b.String(), nil)
		if f := sum.Files[0]; f.Loaded != 20 || f.Rejected != 0 || f.Encoding != c.encoding || f.Amounts != c.amounts {
			t.Errorf("%s: %+v, want 20 rows loaded, encoding %s, amounts %q", c.name, f, c.encoding, c.amounts)
		}
		var charge, paid string
		must(t, in.DB.QueryRow(`SELECT coalesce(sum(charge), 0)::VARCHAR, coalesce(sum(paid), 0)::VARCHAR FROM raw_claim_lines`).Scan(&charge, &paid))
		if charge != "24690.00" || paid != "1800.00" {
			t.Errorf("%s: charges sum to %s and payments to %s, want 24690.00 (20 x 1234.50) and 1800.00", c.name, charge, paid)
		}
		fcs, err := CheckExports(context.Background(), in.Config)
		must(t, err)
		if len(fcs) != 1 || len(fcs[0].Problems) > 0 {
			t.Errorf("%s: check finds problems: %+v", c.name, fcs)
		}
	}

	// Past the first 64 KB, in a file whose first rows write no thousands: a
	// no-break space is found by the scan; a plain one is not, and its row is
	// rejected, the amount shown (it reads as one) and what to do said. Groups of
	// three without decimals (a social insurance number, 123 456 789) are not shown.
	for _, late := range []struct{ value, loaded, message string }{
		{"1\u00a0234,50", "1501", ""},
		{"1 234,50", "1500", `Could not convert string "1 234,50" to 'DECIMAL' (this file's first rows write no amount with spaces between thousands, as 1 234,50, so this one was not read: export amounts without spaces, such as 1234,50)`},
		{"123 456 789", "1500", `Could not convert ` + hiddenNumber},
	} {
		var b strings.Builder
		b.WriteString(claimsHeaderSemicolon)
		for i := range 1500 {
			fmt.Fprintf(&b, "L%04d;%d;01/05/2026;Zoe Martin;;Maria Lopez;1457392811;Aetna;90837;150,00;90,00\r\n", i, 900000+i)
		}
		b.WriteString("LX;901999;01/06/2026;Zoe Martin;;Maria Lopez;1457392811;Aetna;90837;" + late.value + ";0,00\r\n")
		in, sum := ingestBillingFile(t, b.String(), nil)
		if got := fmt.Sprint(sum.Files[0].Loaded); got != late.loaded {
			t.Errorf("%q after the first rows: %s rows loaded, want %s", late.value, got, late.loaded)
		}
		var msg string
		if err := in.DB.QueryRow(`SELECT message FROM rejected_rows WHERE line = 1502`).Scan(&msg); err != nil && late.message != "" {
			t.Errorf("%q after the first rows: no reject: %v", late.value, err)
		}
		if late.message != "" && !strings.HasPrefix(msg, late.message) {
			t.Errorf("%q after the first rows: rejected with\n %s\nwant\n %s", late.value, msg, late.message)
		}
	}
}

// A file set to encoding = "latin-1" writes a no-break space between thousands
// in a byte of its own (0xA0), as Windows-1252 does, which the copy's search for
// U+00A0 did not find: every such row was rejected, with a message saying the
// file's first rows wrote no amount with spaces, where every row did. Its copy
// is decoded to UTF-8, as a Windows-1252 file's is, and its amounts load.
func TestLatin1AmountsWithNoBreakSpaces(t *testing.T) {
	var b strings.Builder
	b.WriteString(claimsHeaderSemicolon)
	for i := range 20 {
		fmt.Fprintf(&b, "L%04d;%d;01/05/2026;Zo\xe9 Martin;;Maria Lopez;1457392811;Aetna;90837;1\xa0234,50;90,00\r\n", i, 900000+i)
	}
	in, sum := ingestBillingFile(t, b.String(), func(in *Ingester) { in.Config.Billing.Encoding = "latin-1" })
	if f := sum.Files[0]; f.Loaded != 20 || f.Rejected != 0 || f.Amounts != "decimal comma; spaces between thousands dropped" {
		t.Errorf("%+v, want 20 rows loaded, amounts %q", f, "decimal comma; spaces between thousands dropped")
	}
	var charge, clinician string
	must(t, in.DB.QueryRow(`SELECT coalesce(sum(charge), 0)::VARCHAR, coalesce(min(rendering_provider), '') FROM raw_claim_lines`).Scan(&charge, &clinician))
	if charge != "24690.00" || clinician != "Zoé Martin" {
		t.Errorf("charges sum to %s, the clinician reads %q: want 24690.00 and Zoé Martin", charge, clinician)
	}
}

// A UTF-16 file (Excel's "Unicode Text") is read by DuckDB as it is, without
// the copy that drops spaces between thousands: every row whose amount has them
// is rejected. The rejects said the file's first rows wrote no such amount, where
// every row did, and check said nothing. check now reports it, and the rejects
// say what to do.
func TestUTF16AmountsWithSpacesSayWhy(t *testing.T) {
	var b strings.Builder
	b.WriteString("Claim Line ID\tPatient Account\tDOS\tRendering Provider\tRendering Provider NPI\tReferring Provider\tReferring Provider NPI\tPayer\tCPT Code\tCharge\tPaid\r\n")
	for i := range 5 {
		fmt.Fprintf(&b, "L%04d\t%d\t01/05/2026\tZoe Martin\t\tMaria Lopez\t1457392811\tAetna\t90837\t1\u00a0234,50\t90,00\r\n", i, 900000+i)
	}
	body := []byte{0xff, 0xfe}
	for _, u := range utf16.Encode([]rune(b.String())) {
		body = append(body, byte(u), byte(u>>8))
	}
	in, _ := ingestBillingFile(t, string(body), nil)
	var msg string
	must(t, in.DB.QueryRow(`SELECT message FROM rejected_rows ORDER BY line LIMIT 1`).Scan(&msg))
	if strings.Contains(msg, "first rows write no amount") || !strings.Contains(msg, "UTF-16") {
		t.Errorf("reject: %s\nwant it to say that a UTF-16 file's amounts are read without dropping spaces", msg)
	}
	fcs, err := CheckExports(context.Background(), in.Config)
	must(t, err)
	if len(fcs) != 1 || len(fcs[0].Problems) != 1 || !strings.Contains(fcs[0].Problems[0], "UTF-16") {
		t.Errorf("check: %+v, want one problem naming UTF-16", fcs)
	}
}

// The reject of an amount whose thousands are parted by spaces says what to do;
// that of a value that only holds a space before three digits, such as a phone
// number ((555) 123 4567) or text, said the same, calling it an amount written
// with spaces between thousands. It now says it of such amounts alone.
func TestSpacedHintOnlyForSpacedAmounts(t *testing.T) {
	var b strings.Builder
	b.WriteString(claimsHeaderSemicolon)
	for i := range 1500 {
		fmt.Fprintf(&b, "L%04d;%d;01/05/2026;Zoe Martin;;Maria Lopez;1457392811;Aetna;90837;150,00;90,00\r\n", i, 900000+i)
	}
	late := []struct {
		value  string
		hinted bool
	}{{"1 234,50", true}, {"-12 345 678,00", true}, {"(555) 123 4567", false}, {"555 123 4567", false}, {"Zoe 1234", false}, {"ref 12 345", false}}
	for i, l := range late {
		fmt.Fprintf(&b, "LX%d;90199%d;01/06/2026;Zoe Martin;;Maria Lopez;1457392811;Aetna;90837;%s;0,00\r\n", i, i, l.value)
	}
	in, _ := ingestBillingFile(t, b.String(), nil)
	for i, l := range late {
		var msg string
		must(t, in.DB.QueryRow(`SELECT message FROM rejected_rows WHERE line = ?`, 1502+i).Scan(&msg))
		if hinted := strings.Contains(msg, "spaces between thousands"); hinted != l.hinted {
			t.Errorf("%q: %s\nwant the hint on spaces between thousands: %v", l.value, msg, l.hinted)
		}
	}
}

// claimsHeaderSemicolon is a billing export's header line, with ';' between values
// as exports that write a decimal comma have it.
const claimsHeaderSemicolon = "Claim Line ID;Patient Account;DOS;Rendering Provider;Rendering Provider NPI;Referring Provider;Referring Provider NPI;Payer;CPT Code;Charge;Paid\r\n"

// ingestBillingFile loads body as the one billing export of a fresh practice,
// its converted copies made beside it; configure, when given, sets the
// ingester up first.
func ingestBillingFile(t *testing.T, body string, configure func(*Ingester)) (*Ingester, IngestSummary) {
	t.Helper()
	dir := t.TempDir()
	writeExports(t, dir, map[string]string{"b.csv": body})
	in := folderIngester(t, dir, "billing")
	in.TmpDir = dir
	if configure != nil {
		configure(in)
	}
	sum, err := in.Ingest(context.Background())
	must(t, err)
	return in, sum
}
