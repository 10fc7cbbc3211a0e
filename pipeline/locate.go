package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"
)

// recordLines is where the records a check rejected after the read stand in
// their file: the reader gives no line for a row it loaded, so a file that has
// such rejects is walked once more to find them.
type recordLines struct {
	byID  map[string][]int64 // the lines of the records holding each wanted id
	blank []int64            // the lines of the records with a blank id, in order
}

// locateRecords walks the file that was read for it (its converted copy, where
// there is one, decoded as the reader decoded it) record by record, and notes
// the line of each record whose id is wanted, and of each record with a blank
// id. Records on a line in skip (rows the reader or the scan rejected, so not
// in the table) are passed over.
//
// It reads as DuckDB's reader does: a quote opens a value only as the value's
// first byte (5'10" in an unquoted value is text), two quotes inside a quoted
// value are one, and the id is the field at idIdx with spaces trimmed, as the
// loader stores it. It keeps only the id's bytes, never a whole record: a
// quote never closed makes the rest of the file one record.
//
// Lines are numbered as DuckDB's reader numbers them in its rejects, so that
// every reject of a file counts alike: the header is line 1, each record one
// line (a quoted value with line breaks in it counts once), and blank lines
// count too. That is the row a spreadsheet shows the record on; a text
// editor's line numbers differ only past a value with line breaks in it.
func locateRecords(it *prepared, idIdx int, want map[string]bool, skip map[int64]bool) (recordLines, error) {
	out := recordLines{byID: map[string][]int64{}}
	if it.delim >= 0x80 {
		return out, nil // the walk reads bytes: a delimiter outside ASCII is not one
	}
	f, err := os.Open(it.readPath)
	if err != nil {
		return out, err
	}
	defer f.Close()
	var r io.Reader = f
	// A converted copy is UTF-8; the reader decodes Latin-1 and UTF-16 itself.
	if it.duckEnc != "utf-8" {
		if d := decoderFor(it.duckEnc); d != nil {
			r = d.Reader(f)
		}
	}
	const maxID = 4096 // longer values are no id anyone wants
	var (
		delim   = byte(it.delim)
		line    int64 // records ended so far
		field   int
		q       quoteState
		content bool // the record has a byte other than spaces, tabs and CRs
		id      = make([]byte, 0, 64)
		idLong  bool
	)
	keep := func(b byte) {
		if field == idIdx {
			if len(id) < maxID {
				id = append(id, b)
			} else {
				idLong = true
			}
		}
	}
	end := func() {
		line++
		if line > 1 && content && !skip[line] {
			v := bytes.Trim(id, " ")
			switch {
			case idLong:
			case len(v) == 0:
				out.blank = append(out.blank, line)
			case want[string(v)]:
				out.byID[string(v)] = append(out.byID[string(v)], line)
			}
		}
		field, q, content, id, idLong = 0, quoteState{}, false, id[:0], false
	}
	// fast reads a whole line that starts a record, jumping from delimiter to
	// delimiter and over quoted values: when every quoted value closes on the
	// line, the record is that line and it ends it, with its id, saying true.
	// Otherwise (a value going on to the next line, an id with a quote inside)
	// it says false and leaves the line to the byte loop.
	fast := func(l []byte) bool {
		l = bytes.TrimRight(l, "\r\n")
		var value []byte
		quotedID := false
		for f, pos := 0, 0; ; f++ {
			var v []byte
			if pos+1 < len(l) && l[pos] == ' ' && l[pos+1] == '"' && delim != ' ' {
				return false // one space before a quote: the byte loop reads it
			}
			if pos < len(l) && l[pos] == '"' {
				// A quoted value: up to its closing quote; a doubled quote inside
				// is left to the byte loop when it is the id.
				j := pos + 1
				for {
					k := bytes.IndexByte(l[j:], '"')
					if k < 0 {
						return false
					}
					j += k
					if j+1 < len(l) && l[j+1] == '"' {
						if f == idIdx {
							return false
						}
						j += 2
						continue
					}
					break
				}
				v = l[pos+1 : j]
				pos = j + 1
				if f == idIdx {
					quotedID = true
				}
			}
			k := bytes.IndexByte(l[pos:], delim)
			if k < 0 {
				k = len(l) - pos
			}
			if f == idIdx {
				if quotedID {
					v = append(append([]byte(nil), v...), l[pos:pos+k]...)
				} else {
					v = l[pos : pos+k]
				}
				if bytes.IndexByte(v, '"') >= 0 && !quotedID || bytes.IndexByte(v, '\r') >= 0 {
					return false
				}
				value = v
			}
			pos += k
			if pos >= len(l) {
				break
			}
			pos++ // the delimiter
		}
		content = bytes.IndexByte(l, delim) >= 0 || len(bytes.Trim(l, " \t")) > 0
		if len(value) > maxID {
			idLong = true
		} else {
			id = append(id[:0], value...)
		}
		end()
		return true
	}
	br := bufio.NewReaderSize(r, 1<<16)
	for {
		chunk, err := br.ReadSlice('\n')
		if err == nil && q == (quoteState{}) && field == 0 && !content && len(id) == 0 && fast(chunk) {
			continue
		}
		for i := 0; i < len(chunk); i++ {
			if q.open() {
				// Up to the next quote the value's bytes are text.
				j := bytes.IndexByte(chunk[i:], '"')
				if j < 0 {
					j = len(chunk) - i
				}
				if field == idIdx {
					for _, c := range chunk[i : i+j] {
						keep(c)
					}
				}
				i += j
				if i == len(chunk) {
					break
				}
			}
			b := chunk[i]
			afterSpace := q.space
			switch q.step(b, delim) {
			case qMark:
				content = true
				if afterSpace && field == idIdx && len(id) > 0 {
					id = id[:len(id)-1] // the space before the opening quote
				}
			case qDelim:
				content = true
				field++
			case qNewline:
				end()
			case qCR:
			default:
				if b != ' ' && b != '\t' {
					content = true
				}
				keep(b)
			}
		}
		if err == io.EOF {
			if content || field > 0 || q.open() {
				end()
			}
			return out, nil
		}
		if err != nil && err != bufio.ErrBufferFull {
			return out, err
		}
	}
}

// rejectAt is one row rejected after the read: its file, its id (empty for a
// row without one) and its rank among the file's rejected rows of that id.
type rejectAt struct {
	fileID int64
	id     string
	seq    int64
}

// rejectLines finds the lines of rows rejected after the read, listed by q as
// (file_id, id, seq), and loads them into the temp table tmp_reject_lines
// (file_id, id, seq, line), which it returns the name of. The files that hold
// such rows are walked once more (locateRecords). A row gets its line only
// where it is certain: its id on one record of the file and one reject; and for
// the rows without an id, as many blank ids in the file as rejects. Any other
// row keeps no line, and its message names its id.
func (in *Ingester) rejectLines(ctx context.Context, tx *sql.Tx, conn *sql.Conn, items []*prepared, idIdx int, q string) (string, error) {
	rows, err := tx.QueryContext(ctx, q)
	if err != nil {
		return "", err
	}
	byFile := map[int64][]rejectAt{}
	for rows.Next() {
		var r rejectAt
		var id sql.NullString
		if err := rows.Scan(&r.fileID, &id, &r.seq); err != nil {
			rows.Close()
			return "", err
		}
		r.id = id.String
		byFile[r.fileID] = append(byFile[r.fileID], r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return "", err
	}
	var out [][]any
	for _, it := range items {
		rejects := byFile[it.fileID]
		if len(rejects) == 0 {
			continue
		}
		want := map[string]bool{}
		count := map[string]int64{}
		for _, r := range rejects {
			if r.id != "" {
				want[r.id] = true
			}
			count[r.id] = max(count[r.id], r.seq)
		}
		found, ok := in.walkRejected(ctx, tx, it, idIdx, want)
		if !ok {
			continue
		}
		for _, r := range rejects {
			lines := found.byID[r.id]
			if r.id == "" {
				lines = found.blank
			}
			// An id is placed only where it is on one record and one reject. Two
			// rejects of one id would be placed by their rank in the table's
			// order, which is the file's only where the group was read keeping it
			// (loadGroup's keepOrder, for files that may hold an id twice); that
			// is not relied on here. Rows without an id share one message, so
			// their order does not matter.
			if int64(len(lines)) != count[r.id] || r.id != "" && count[r.id] != 1 {
				continue
			}
			var id any = r.id
			if r.id == "" {
				id = nil
			}
			out = append(out, []any{it.fileID, id, r.seq, lines[r.seq-1]})
		}
	}
	if _, err := tx.ExecContext(ctx, `DROP TABLE IF EXISTS tmp_reject_lines`); err != nil {
		return "", err
	}
	if _, err := tx.ExecContext(ctx, `CREATE TEMP TABLE tmp_reject_lines (file_id INTEGER, id VARCHAR, seq BIGINT, line BIGINT)`); err != nil {
		return "", err
	}
	if err := appendRows(conn, "tmp_reject_lines", out); err != nil {
		return "", fmt.Errorf("load tmp_reject_lines: %w", err)
	}
	return "tmp_reject_lines", nil
}

// walkRejected walks a file for the rows rejected after the read
// (locateRecords), passing over the lines already rejected. ok is false when
// the file could not be walked (the rows stay named by their ids).
func (in *Ingester) walkRejected(ctx context.Context, tx *sql.Tx, it *prepared, idIdx int, want map[string]bool) (recordLines, bool) {
	skip := map[int64]bool{}
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT line FROM rejected_rows WHERE file_id = ? AND line IS NOT NULL`, it.fileID)
	if err != nil {
		in.logger().Warn("could not find the lines of rejected rows", "file", it.res.Path, "error", err)
		return recordLines{}, false
	}
	for rows.Next() {
		var l int64
		if err := rows.Scan(&l); err != nil {
			rows.Close()
			in.logger().Warn("could not find the lines of rejected rows", "file", it.res.Path, "error", err)
			return recordLines{}, false
		}
		skip[l] = true
	}
	rows.Close()
	t0 := time.Now()
	found, err := locateRecords(it, idIdx, want, skip)
	if err != nil {
		in.logger().Warn("could not find the lines of rejected rows", "file", it.res.Path, "error", err)
		return recordLines{}, false
	}
	in.logger().Debug("rejected rows located", "file", it.res.Path, "ids", len(want), "took", time.Since(t0).Round(time.Millisecond))
	return found, true
}

// recordDuplicates records the ids that tmp_dups lists (file_id, path, id, n:
// rows of one id in one file) as rejects, with the lines of their records.
func (in *Ingester) recordDuplicates(ctx context.Context, tx *sql.Tx, conn *sql.Conn, items []*prepared, idIdx int, idHeader string) error {
	type dup struct {
		path, id string
		n        int64
	}
	rows, err := tx.QueryContext(ctx, `SELECT file_id, path, id, n FROM tmp_dups ORDER BY file_id, id`)
	if err != nil {
		return err
	}
	byFile := map[int64][]dup{}
	for rows.Next() {
		var f int64
		var d dup
		if err := rows.Scan(&f, &d.path, &d.id, &d.n); err != nil {
			rows.Close()
			return err
		}
		byFile[f] = append(byFile[f], d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	var out [][]any
	for _, it := range items {
		ds := byFile[it.fileID]
		if len(ds) == 0 {
			continue
		}
		want := map[string]bool{}
		for _, d := range ds {
			want[d.id] = true
		}
		found, _ := in.walkRejected(ctx, tx, it, idIdx, want)
		for _, d := range ds {
			var line any
			where := ""
			// Placed only when the walk finds the id on as many records as the
			// table holds rows of it: a row rejected for another reason (and not
			// placed) would otherwise be listed among them.
			if lines := found.byID[d.id]; int64(len(lines)) == d.n {
				line = lines[0]
				where = " (lines " + lineList(lines) + ")"
			}
			out = append(out, []any{it.fileID, d.path, line, idHeader, "DUPLICATE ID",
				fmt.Sprintf("%s %s appears %d times in this file%s; the last one was kept", idHeader, d.id, d.n, where)})
		}
	}
	return appendRows(conn, "rejected_rows", out)
}

// lineList writes line numbers as "2, 9 and 14", the first ten of a longer list
// and how many more.
func lineList(lines []int64) string {
	const most = 10
	parts := make([]string, 0, min(len(lines), most))
	for _, l := range lines[:min(len(lines), most)] {
		parts = append(parts, fmt.Sprint(l))
	}
	if len(lines) > most {
		return strings.Join(parts, ", ") + fmt.Sprintf(" and %d more", len(lines)-most)
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// logger is the ingester's log, or one that discards.
func (in *Ingester) logger() *slog.Logger {
	if in.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return in.Log
}

// deleteShifted deletes the rows that tmp_shifted lists (file_id, id, line, and
// for a misread amount the amount: records the reader took shifted, or with an
// amount it misread) from table, found by their id in their file (and their
// amount, matched by amountMatch). Where the file holds the id on several such
// rows, the loaded rows are not told apart: every one goes, as a row read wrong
// must not load, and each of the others gets a reject that says so with the id
// and the count: nothing goes without a word. (Their rowid order is the file's
// where the group was read keeping it, as files that may hold an id twice are,
// so the row read wrong could be picked by its rank; that is not done.)
func deleteShifted(ctx context.Context, tx *sql.Tx, table, idCol, idHeader, amountMatch string) error {
	if _, err := tx.ExecContext(ctx, `DROP TABLE IF EXISTS tmp_shifted_rows`); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`CREATE TEMP TABLE tmp_shifted_rows AS
		SELECT DISTINCT t.rowid AS rid, s.file_id, s.id, s.line
		FROM %s t JOIN tmp_shifted s ON t.file_id = s.file_id AND t.%s = s.id%s`, table, idCol, amountMatch)); err != nil {
		return fmt.Errorf("find skipped rows: %w", err)
	}
	// Per id: the rows it has beyond the records read wrong each get a reject.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`INSERT INTO rejected_rows
		SELECT r.file_id, g.path, NULL, %[1]s, 'DUPLICATE ID',
			%[1]s || ' ' || r.id || ' is on ' || r.n || ' rows of this file, ' ||
			CASE WHEN r.wrong = 1 THEN 'one of them the row at line ' || r.line ELSE r.wrong || ' of them read wrong (the first at line ' || r.line || ')' END ||
			': the other ' || CASE WHEN r.n - r.wrong = 1 THEN 'one was' ELSE (r.n - r.wrong) || ' were' END ||
			' skipped with ' || CASE WHEN r.wrong = 1 THEN 'it' ELSE 'them' END ||
			', as the rows loaded cannot be told apart; export the file again with every value quoted, and one row per id'
		FROM (SELECT file_id, id, count(DISTINCT rid) AS n, count(DISTINCT line) AS wrong, min(line) AS line
			FROM tmp_shifted_rows GROUP BY file_id, id HAVING count(DISTINCT rid) > count(DISTINCT line)) r
			JOIN tmp_groupfiles g USING (file_id), range(r.n - r.wrong) AS extra(k)
		ORDER BY r.file_id, r.line`, QuoteString(idHeader))); err != nil {
		return fmt.Errorf("record skipped rows: %w", err)
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`DELETE FROM %s WHERE rowid IN (SELECT rid FROM tmp_shifted_rows)`, table)); err != nil {
		return fmt.Errorf("delete skipped rows: %w", err)
	}
	return nil
}
