package pipeline_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/referrals/referrals/internal/stagetest"
	"github.com/referrals/referrals/pipeline"
)

// TestLeavingOutSupersededRowsChangesNothing loads the same overlapping exports
// twice: once leaving out, inside the read, the rows a later file of the same
// read holds again, and once loading every row and replacing afterwards (the
// way before). The tables, the rejected rows, the ledger and the summary must
// be the same. The exports hold every way a newer version can fail to load
// (rejected by the reader, failing a check after it), so that rows left out
// must be read back, and files that cannot take part (an id twice, an id that
// is not plain, a shifted row).
func TestLeavingOutSupersededRowsChangesNothing(t *testing.T) {
	sched := func(id, client, date, status string) string {
		return fmt.Sprintf("%s,%s,Jane Smith,%s,9:00 AM,%s,Intake,Dr. Maria Lopez,,\n", id, client, date, status)
	}
	claim := func(id, client, date, charge string) string {
		return fmt.Sprintf("%s,%s,%s,Jane Smith,,Dr. Maria Lopez,,Aetna,90837,%s,100.00\n", id, client, date, charge)
	}
	var jan, feb, mar, apr, may strings.Builder
	for i := 1; i <= 40; i++ {
		jan.WriteString(sched(fmt.Sprintf("A%d", i), fmt.Sprint(900000+i), fmt.Sprintf("01/%02d/2026", 1+i%28), "Scheduled"))
	}
	// Z1 is out of range in January (reported, never left out) and fine in a
	// later export that loads whole; Z2 has no client in January.
	jan.WriteString(sched("Z1", "900100", "01/05/1890", "Scheduled") + sched("Z2", "", "01/06/2026", "Scheduled"))
	for i := 1; i <= 30; i++ {
		date := fmt.Sprintf("01/%02d/2026", 1+i%28)
		switch i {
		case 3:
			date = "02/30/2026" // rejected by the reader: January's A3 must stay
		}
		client := fmt.Sprint(900000 + i)
		feb.WriteString(sched(fmt.Sprintf("A%d", i), client, date, "Attended"))
	}
	var late strings.Builder
	late.WriteString(sched("Z1", "900100", "01/05/2026", "Attended") + sched("Z2", "900101", "01/06/2026", "Attended") +
		sched("A10", "900010", "01/11/2026", "Late Cancel") + sched("A55", "900055", "02/28/2026", "Attended") +
		"A56,900056,José Núñez,02/27/2026,9:00 AM,Attended,Intake,Dr. Maria Lopez,,\n")
	for i := 41; i <= 60; i++ {
		feb.WriteString(sched(fmt.Sprintf("A%d", i), fmt.Sprint(900000+i), fmt.Sprintf("02/%02d/2026", 1+i%28), "Scheduled"))
	}
	// March repeats January's and February's rows (a chain of three versions).
	for i := 20; i <= 50; i++ {
		client := fmt.Sprint(900000 + i)
		if i == 25 {
			client = "" // fails the client check: February's A25 must stay
		}
		mar.WriteString(sched(fmt.Sprintf("A%d", i), client, fmt.Sprintf("02/%02d/2026", 1+i%28), "No Show"))
	}
	// April cannot take part: one id twice. May cannot either: an id with a space.
	apr.WriteString(sched("A45", "900045", "03/01/2026", "Attended") + sched("A45", "900045", "03/02/2026", "Attended") +
		sched("A1", "900001", "03/03/2026", "Late Cancel"))
	may.WriteString(sched("A 7", "900007", "03/04/2026", "Attended") + sched("A46", "900046", "03/05/2026", "Attended"))

	var q1, q2, q3 strings.Builder
	for i := 1; i <= 30; i++ {
		q1.WriteString(claim(fmt.Sprintf("L%d", i), fmt.Sprint(900000+i), "01/05/2026", "150.00"))
	}
	for i := 10; i <= 40; i++ {
		charge := "175.00"
		if i == 12 {
			charge = "-5.00" // fails the amount check: Q1's L12 must stay
		}
		q2.WriteString(claim(fmt.Sprintf("L%d", i), fmt.Sprint(900000+i), "04/05/2026", charge))
	}
	for i := 35; i <= 45; i++ {
		q3.WriteString(claim(fmt.Sprintf("L%d", i), fmt.Sprint(900000+i), "07/05/2026", "200.00"))
	}
	// Q3 has a shifted row (an unquoted comma and an empty last field): it cannot take part.
	q3.WriteString("L99,900099,07/06/2026,Smith, Jane,,Dr. Maria Lopez,,Aetna,90837,200.00,\n")
	// Q4 repeats Q1's and Q2's L20-L26, but an unclosed quote in L21 swallows
	// the lines after it: their newer versions never load.
	var q4 strings.Builder
	q4.WriteString(claim("L20", "900020", "10/05/2026", "210.00"))
	q4.WriteString("L21,900021,10/05/2026,\"Jane Smith,,Dr. Maria Lopez,,Aetna,90837,210.00,100.00\n")
	for i := 22; i <= 26; i++ {
		q4.WriteString(claim(fmt.Sprintf("L%d", i), fmt.Sprint(900000+i), "10/05/2026", "210.00"))
	}

	type outcome struct {
		sum    pipeline.IngestSummary
		tables map[string][]string
		log    string
	}
	run := func(leaveOut bool, budget int64) outcome {
		old, oldBudget := *pipeline.SupersedeAtLoad, *pipeline.ExactBudget
		*pipeline.SupersedeAtLoad, *pipeline.ExactBudget = leaveOut, budget
		defer func() { *pipeline.SupersedeAtLoad, *pipeline.ExactBudget = old, oldBudget }()
		p := newPractice(t)
		var log bytes.Buffer
		ingest := func() pipeline.IngestSummary {
			in := &pipeline.Ingester{DB: p.db, Config: p.cfg, Secret: secret,
				Log: slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))}
			sum, err := in.Ingest(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			return sum
		}
		p.write("exports/scheduling/2026-01.csv", []byte(schedHeader+jan.String()), 1)
		p.write("exports/scheduling/2026-02.csv", []byte(schedHeader+feb.String()), 2)
		p.write("exports/scheduling/2026-03.csv", []byte(schedHeader+mar.String()), 3)
		// Windows-1252: read from a converted copy, with the others.
		p.write("exports/scheduling/2026-03-late.csv", cp1252(t, schedHeader+late.String()), 4)
		p.write("exports/billing/2026-Q1.csv", []byte(billHeader+q1.String()), 1)
		p.write("exports/billing/2026-Q2.csv", []byte(billHeader+q2.String()), 2)
		p.write("exports/billing/2026-Q3.csv", []byte(billHeader+q3.String()), 3)
		p.write("exports/billing/2026-Q4.csv", []byte(billHeader+q4.String()), 4)
		sum := ingest()
		// A second night: two more exports, read together, one of which cannot take part.
		p.write("exports/scheduling/2026-04.csv", []byte(schedHeader+apr.String()), 5)
		p.write("exports/scheduling/2026-05.csv", []byte(schedHeader+may.String()), 6)
		night := ingest()
		sum.Files = append(sum.Files, night.Files...)
		sum.Loaded += night.Loaded
		sum.Rejected += night.Rejected
		sum.Replaced += night.Replaced
		// Each row as its text (a struct), so that whole tables compare as lists of lines.
		tables := map[string][]string{}
		for name, q := range map[string]string{
			"raw_appointments": "SELECT * FROM raw_appointments",
			"raw_claim_lines":  "SELECT * FROM raw_claim_lines",
			"rejected_rows":    "SELECT * FROM rejected_rows",
			"ingest_files":     "SELECT file_id, source, path, rows_loaded, rows_rejected, rows_replaced FROM ingest_files",
		} {
			for _, r := range stagetest.Rows(t, p.db, "SELECT t::VARCHAR AS r FROM ("+q+") t ORDER BY r") {
				tables[name] = append(tables[name], r["r"].(string))
			}
		}
		return outcome{sum, tables, log.String()}
	}
	all, left := run(false, 1<<30), run(true, 1<<30)
	// With a budget for the scans' hashes of about one export, most files keep
	// none: fewer rows are left out, and nothing else changes.
	tight := run(true, 16*45)

	// The way that leaves rows out did: in both reads of the first night, and
	// rows were read back for the newer versions that did not load.
	counted := func(log string) (leftOut, readBack int64) {
		for _, m := range regexp.MustCompile(`left_out=(\d+) read_back=(\d+)`).FindAllStringSubmatch(log, -1) {
			n, _ := strconv.ParseInt(m[1], 10, 64)
			b, _ := strconv.ParseInt(m[2], 10, 64)
			leftOut += n
			readBack += b
		}
		return leftOut, readBack
	}
	leftOut, readBack := counted(left.log)
	if tightOut, _ := counted(tight.log); tightOut >= leftOut {
		t.Errorf("with a budget of about one export's hashes %d rows were left out, against %d without: the budget did not hold", tightOut, leftOut)
	}
	if leftOut < 40 || readBack < 3 {
		t.Fatalf("left out %d rows and read back %d: the exports should make it leave out 40 or more and read back 3 or more; log:\n%s", leftOut, readBack, left.log)
	}
	if !strings.Contains(left.log, "files=4") {
		t.Errorf("the four scheduling exports of the first night (one converted) were not read together; log:\n%s", left.log)
	}
	if strings.Contains(all.log, "left_out=") {
		t.Fatalf("loading every row left rows out; log:\n%s", all.log)
	}

	for name, want := range all.tables {
		if len(want) == 0 {
			t.Fatalf("%s is empty: the test loads nothing", name)
		}
		for _, o := range []struct {
			how string
			got []string
		}{{"superseded rows are left out", left.tables[name]}, {"the budget for hashes is tight", tight.tables[name]}} {
			if strings.Join(o.got, "\n") != strings.Join(want, "\n") {
				t.Errorf("%s differs when %s:\n got %d rows:\n%s\nwant %d rows:\n%s", name, o.how, len(o.got), strings.Join(o.got, "\n"), len(want), strings.Join(want, "\n"))
			}
		}
	}
	if left.sum.Loaded != all.sum.Loaded || left.sum.Rejected != all.sum.Rejected || left.sum.Replaced != all.sum.Replaced {
		t.Errorf("summary: loaded %d, rejected %d, replaced %d; loading every row: %d, %d, %d",
			left.sum.Loaded, left.sum.Rejected, left.sum.Replaced, all.sum.Loaded, all.sum.Rejected, all.sum.Replaced)
	}
	for i, f := range all.sum.Files {
		g := left.sum.Files[i]
		if f.Path != g.Path || f.Loaded != g.Loaded || f.Rejected != g.Rejected || f.Replaced != g.Replaced {
			t.Errorf("%s: loaded %d, rejected %d, replaced %d; loading every row: %d, %d, %d", f.Path, g.Loaded, g.Rejected, g.Replaced, f.Loaded, f.Rejected, f.Replaced)
		}
	}
	// The versions that must have survived.
	for _, want := range []string{"{'appointment_id': A3,", "{'appointment_id': A25,"} {
		found := false
		for _, r := range left.tables["raw_appointments"] {
			if strings.HasPrefix(r, want) {
				found = true
			}
		}
		if !found {
			t.Errorf("no row for %s: the older version of a row whose newer one did not load was lost", strings.TrimSuffix(strings.TrimPrefix(want, "{'appointment_id': "), ","))
		}
	}
}

// TestOneCleanReadSkipsReplacement: when one read takes all of a source's files
// on a first load, every file takes part and nothing is read back, no id is in
// two rows and the replacement after the files is skipped. The tables must be
// those of loading every row and replacing afterwards, on the first night and
// on a second one, whose re-export does need the replacement.
func TestOneCleanReadSkipsReplacement(t *testing.T) {
	sched := func(id, client, date string) string {
		return fmt.Sprintf("%s,%s,Jane Smith,%s,9:00 AM,Attended,Intake,Dr. Maria Lopez,,\n", id, client, date)
	}
	claim := func(id, client string) string {
		return fmt.Sprintf("%s,%s,01/05/2026,Jane Smith,,Dr. Maria Lopez,,Aetna,90837,150.00,100.00\n", id, client)
	}
	month := func(from, to int, date string) []byte {
		var b strings.Builder
		b.WriteString(schedHeader)
		for i := from; i <= to; i++ {
			b.WriteString(sched(fmt.Sprintf("A%d", i), fmt.Sprint(900000+i), date))
		}
		return []byte(b.String())
	}
	quarter := func(from, to int) []byte {
		var b strings.Builder
		b.WriteString(billHeader)
		for i := from; i <= to; i++ {
			b.WriteString(claim(fmt.Sprintf("L%d", i), fmt.Sprint(900000+i)))
		}
		return []byte(b.String())
	}
	const skipped = "none: one read, no id twice"
	run := func(leaveOut bool) (nights []string, tables map[string][]string) {
		old := *pipeline.SupersedeAtLoad
		*pipeline.SupersedeAtLoad = leaveOut
		defer func() { *pipeline.SupersedeAtLoad = old }()
		p := newPractice(t)
		ingest := func() string {
			var log bytes.Buffer
			in := &pipeline.Ingester{DB: p.db, Config: p.cfg, Secret: secret,
				Log: slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))}
			if _, err := in.Ingest(context.Background()); err != nil {
				t.Fatal(err)
			}
			return log.String()
		}
		// Three overlapping monthly exports (each repeats half the one before) and two
		// quarters of claims with no line twice.
		p.write("exports/scheduling/2026-01.csv", month(1, 40, "01/05/2026"), 1)
		p.write("exports/scheduling/2026-02.csv", month(21, 60, "02/05/2026"), 2)
		p.write("exports/scheduling/2026-03.csv", month(41, 80, "03/05/2026"), 3)
		p.write("exports/billing/2026-Q1.csv", quarter(1, 30), 1)
		p.write("exports/billing/2026-Q2.csv", quarter(31, 60), 2)
		nights = append(nights, ingest())
		// A second night re-exports March: the replacement must run.
		p.write("exports/scheduling/2026-03-again.csv", month(61, 90, "03/20/2026"), 4)
		nights = append(nights, ingest())
		tables = map[string][]string{}
		for name, q := range map[string]string{
			"raw_appointments": "SELECT * FROM raw_appointments",
			"raw_claim_lines":  "SELECT * FROM raw_claim_lines",
			"ingest_files":     "SELECT file_id, source, path, rows_loaded, rows_rejected, rows_replaced FROM ingest_files",
		} {
			for _, r := range stagetest.Rows(t, p.db, "SELECT t::VARCHAR AS r FROM ("+q+") t ORDER BY r") {
				tables[name] = append(tables[name], r["r"].(string))
			}
		}
		return nights, tables
	}
	allNights, all := run(false)
	leftNights, left := run(true)
	if n := strings.Count(leftNights[0], skipped); n != 2 {
		t.Errorf("first night: the replacement was skipped for %d sources, want both; log:\n%s", n, leftNights[0])
	}
	if strings.Contains(leftNights[1], skipped) || strings.Contains(allNights[0], skipped) {
		t.Errorf("the replacement was skipped where rows may have a newer version; logs:\n%s\n%s", leftNights[1], allNights[0])
	}
	if len(all["raw_appointments"]) != 90 {
		t.Fatalf("%d appointments loaded, want 90 (one row per id)", len(all["raw_appointments"]))
	}
	for name, want := range all {
		if got := left[name]; strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s differs when the replacement is skipped:\n got:\n%s\nwant:\n%s", name, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}
