package sample

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gocarina/gocsv"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/transform"
)

// appointmentRow is one row of a scheduling export. Every field is the text
// the practice-management system would print, so a planted bad value fits.
type appointmentRow struct {
	AppointmentID   string `csv:"Appointment ID"`
	PatientAccount  string `csv:"Patient Account"`
	Clinician       string `csv:"Clinician"`
	AppointmentDate string `csv:"Appointment Date"`
	StartTime       string `csv:"Start Time"`
	Status          string `csv:"Status"`
	Service         string `csv:"Service"`
	ReferralSource  string `csv:"Referral Source"`
	ReferredTo      string `csv:"Referred To"`
	ReferrerNPI     string `csv:"Referrer NPI"`
}

// referralSourceField is the index of Referral Source in appointmentRow.
const referralSourceField = 7

// claimRow is one line of a billing export.
type claimRow struct {
	ClaimLineID          string `csv:"Claim Line ID"`
	PatientAccount       string `csv:"Patient Account"`
	DOS                  string `csv:"DOS"`
	RenderingProvider    string `csv:"Rendering Provider"`
	RenderingProviderNPI string `csv:"Rendering Provider NPI"`
	ReferringProvider    string `csv:"Referring Provider"`
	ReferringProviderNPI string `csv:"Referring Provider NPI"`
	Payer                string `csv:"Payer"`
	CPTCode              string `csv:"CPT Code"`
	Charge               string `csv:"Charge"`
	Paid                 string `csv:"Paid"`
}

type fileFormat struct {
	cp1252 bool // Windows-1252 instead of UTF-8
	bom    bool // UTF-8 byte-order mark
	crlf   bool
}

// csvFile is a gocsv.CSVWriter over a file that is written under a temporary
// name and renamed into place when complete, so nobody reads half a file. It
// counts the data rows, and can write one row with a field left unquoted
// (the planted "too many fields" row).
type csvFile struct {
	rel        string // path under Options.Out, slash-separated
	path, tmp  string
	file       *os.File
	buf        *bufio.Writer
	enc        io.WriteCloser // the cp1252 encoder, if any
	out        io.Writer      // what the csv.Writer writes to
	csv        *csv.Writer
	crlf       bool
	headerDone bool
	rows       int64           // data rows written
	splitAt    map[int64]int   // data row → field written without quotes
	queued     int64           // data rows handed to the file, written or still batched
	onRows     func(n int64)   // progress hook
	unquoted   strings.Builder // scratch for the unquoted row
}

func createCSV(out, rel string, ff fileFormat) (*csvFile, error) {
	path := filepath.Join(out, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create folder for %s: %w", path, err)
	}
	file, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	f := &csvFile{rel: rel, path: path, tmp: file.Name(), file: file, crlf: ff.crlf}
	f.buf = bufio.NewWriterSize(file, 256<<10)
	f.out = f.buf
	if ff.bom {
		f.buf.WriteString("\xEF\xBB\xBF")
	}
	if ff.cp1252 {
		f.enc = transform.NewWriter(f.buf, charmap.Windows1252.NewEncoder())
		f.out = f.enc
	}
	f.csv = csv.NewWriter(f.out)
	f.csv.UseCRLF = ff.crlf
	return f, nil
}

// Write implements gocsv.CSVWriter. The first record is the header.
func (f *csvFile) Write(rec []string) error {
	if !f.headerDone {
		f.headerDone = true
		return f.csv.Write(rec)
	}
	f.rows++
	if col, ok := f.splitAt[f.rows]; ok {
		return f.writeUnquoted(rec, col)
	}
	return f.csv.Write(rec)
}

func (f *csvFile) Flush()       { f.csv.Flush() }
func (f *csvFile) Error() error { return f.csv.Error() }

// writeUnquoted writes rec with field col as the exporter wrote it without
// quotes: a comma inside it becomes a field separator.
func (f *csvFile) writeUnquoted(rec []string, col int) error {
	f.csv.Flush()
	if err := f.csv.Error(); err != nil {
		return err
	}
	b := &f.unquoted
	b.Reset()
	for i, v := range rec {
		if i > 0 {
			b.WriteByte(',')
		}
		if i != col && (v != "" && (strings.ContainsAny(v, ",\"\r\n") || v[0] == ' ')) {
			b.WriteByte('"')
			b.WriteString(strings.ReplaceAll(v, `"`, `""`))
			b.WriteByte('"')
		} else {
			b.WriteString(v)
		}
	}
	if f.crlf {
		b.WriteString("\r\n")
	} else {
		b.WriteByte('\n')
	}
	_, err := io.WriteString(f.out, b.String())
	return err
}

// commit finishes the file and renames it into place.
func (f *csvFile) commit() error {
	f.csv.Flush()
	err := f.csv.Error()
	if f.enc != nil && err == nil {
		err = f.enc.Close()
	}
	if err == nil {
		err = f.buf.Flush()
	}
	if cerr := f.file.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(f.tmp, f.path)
	}
	if err != nil {
		os.Remove(f.tmp)
		return fmt.Errorf("write %s: %w", f.path, err)
	}
	return nil
}

// abort drops a file that will not be finished.
func (f *csvFile) abort() {
	f.file.Close()
	os.Remove(f.tmp)
}

// batch streams rows of one type to a csvFile through gocsv, a few thousand
// at a time, so an export never sits in memory whole. gocsv's reflection is
// most of the cost of a row, so a goroutine per file marshals full batches
// while the caller goes on simulating and filling the next one.
type batch[T any] struct {
	ctx    context.Context
	f      *csvFile
	rows   []T
	full   chan []T // to the writer goroutine
	free   chan []T // emptied slices back from it
	done   chan struct{}
	err    error // the writer's first error; read after done is closed
	closed bool
}

const (
	batchSize    = 4096
	batchesAhead = 3
)

func newBatch[T any](ctx context.Context, f *csvFile) (*batch[T], error) {
	if err := gocsv.MarshalCSV([]T{}, f); err != nil { // the header, from the struct tags
		return nil, fmt.Errorf("write %s: %w", f.path, err)
	}
	b := &batch[T]{
		ctx:  ctx,
		f:    f,
		rows: make([]T, 0, batchSize),
		full: make(chan []T, batchesAhead),
		free: make(chan []T, batchesAhead+1),
		done: make(chan struct{}),
	}
	for range batchesAhead {
		b.free <- make([]T, 0, batchSize)
	}
	go b.write()
	return b, nil
}

// write runs in its own goroutine until full is closed. After an error it
// keeps draining so the producer never blocks.
func (b *batch[T]) write() {
	defer close(b.done)
	for rows := range b.full {
		if b.err == nil {
			if err := gocsv.MarshalCSVWithoutHeaders(rows, b.f); err != nil {
				b.err = fmt.Errorf("write %s: %w", b.f.path, err)
			} else if b.f.onRows != nil {
				b.f.onRows(int64(len(rows)))
			}
		}
		clear(rows)
		b.free <- rows[:0]
	}
}

// nextLine is the file line the next added row will be on (the header is line 1).
func (b *batch[T]) nextLine() int64 { return b.f.queued + 2 }

func (b *batch[T]) add(row T) error {
	b.rows = append(b.rows, row)
	b.f.queued++
	if len(b.rows) == cap(b.rows) {
		return b.flush()
	}
	return nil
}

// flush hands the pending rows to the writer.
func (b *batch[T]) flush() error {
	if err := b.ctx.Err(); err != nil {
		return err
	}
	if len(b.rows) == 0 {
		return nil
	}
	select {
	case b.full <- b.rows:
	case <-b.ctx.Done():
		return b.ctx.Err()
	}
	select {
	case b.rows = <-b.free:
	case <-b.ctx.Done():
		return b.ctx.Err()
	}
	return nil
}

// close writes what is pending and waits for the writer. It is safe to call
// more than once and after a failed flush.
func (b *batch[T]) close() error {
	if b.closed {
		return b.err
	}
	err := b.flush()
	b.closed = true
	close(b.full)
	<-b.done
	if err != nil {
		return err
	}
	return b.err
}

// writeTable writes a small file (roster, directory, truth) in one go.
func writeTable[T any](out, rel string, rows []T) error {
	f, err := createCSV(out, rel, fileFormat{})
	if err != nil {
		return err
	}
	if err := gocsv.MarshalCSV(rows, f); err != nil {
		f.abort()
		return fmt.Errorf("write %s: %w", f.path, err)
	}
	return f.commit()
}

// Text of the exports. Status spellings differ between exports and staff;
// one appointment keeps its spelling in every export (it hangs off the id).
var statusSpellings = [][]string{
	stAttended:   {"Attended", "Attended", "Attended", "Arrived", "Arrived", "Show"},
	stNoShow:     {"No Show", "No Show", "No-Show"},
	stCancelled:  {"Cancelled", "Cancelled", "Canceled"},
	stLateCancel: {"Late Cancel", "Late Cancellation"},
	stStale:      {"Scheduled"},
}

var serviceLabels = []string{
	svcIntake:       "Intake",
	svcIndividual53: "Individual 53 min",
	svcIndividual38: "Individual 38 min",
	svcFamily:       "Family",
}

var serviceCPT = []string{svcIntake: "90791", svcIndividual53: "90837", svcIndividual38: "90834", svcFamily: "90847"}

// Fees in cents in the first year; they rise 4% every January.
var baseFees = map[string]int64{"90791": 20000, "90837": 17500, "90834": 14000, "90847": 16000, "90785": 2500}

// mix is a splitmix64 step: a stable pseudo-random number per id, so the
// text of a row does not depend on the order rows are written in.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func unit(x uint64) float64 { return float64(mix(x)>>11) / (1 << 53) }

func appointmentID(id int64) string {
	s := strconv.FormatInt(id, 10)
	if len(s) < 6 {
		s = strings.Repeat("0", 6-len(s)) + s
	}
	return "A" + s
}

func (w *world) slotLabel(slot uint8) string { return w.slotText[slot] }

func (w *world) money(cents int64) string {
	if s, ok := w.moneyText[cents]; ok {
		return s
	}
	s := fmt.Sprintf("%d.%02d", cents/100, cents%100)
	w.moneyText[cents] = s
	return s
}

func (w *world) account(cl *client) string { return cl.accountText }

func (w *world) appointmentRow(a *appointment, asOf int) appointmentRow {
	c := w.clinicians[a.clin]
	status := "Scheduled"
	if a.status != stStale && int(a.day) <= asOf {
		sp := statusSpellings[a.status]
		status = sp[mix(uint64(a.id))%uint64(len(sp))]
	}
	svc := serviceLabels[a.service]
	if a.service == svcIntake {
		svc = c.intake
	}
	return appointmentRow{
		AppointmentID:   appointmentID(a.id),
		PatientAccount:  w.account(a.cl),
		Clinician:       c.schedName,
		AppointmentDate: w.dayStr[a.day],
		StartTime:       w.slotLabel(a.slot),
		Status:          status,
		Service:         svc,
		ReferralSource:  a.cl.source,
		ReferredTo:      a.cl.referredTo,
		ReferrerNPI:     a.cl.npi,
	}
}

// claimRows returns the claim lines of an attended appointment: the session
// and, now and then, the interactive-complexity add-on.
func (w *world) claimRows(a *appointment, dst []claimRow) []claimRow {
	c := w.clinicians[a.clin]
	cl := a.cl
	w.nextClaim++
	claimNo := strconv.FormatInt(w.nextClaim, 10)
	if len(claimNo) < 7 {
		claimNo = strings.Repeat("0", 7-len(claimNo)) + claimNo
	}
	rendering := c.billName
	if unit(uint64(a.id)^0x5bd1e995) < 0.1 {
		rendering = c.billAlt
	}
	year := int(w.dayYear[a.day]) - w.start.Year()
	cpts := []string{serviceCPT[a.service]}
	if a.flags&fAddOn != 0 {
		cpts = append(cpts, "90785")
	}
	for i, cpt := range cpts {
		fee := baseFees[cpt]
		for range year {
			fee = (fee*104/100 + 50) / 100 * 100
		}
		key := uint64(a.id)*4 + uint64(i)
		var paid int64
		switch {
		case int(a.day) > w.billingAsOf-30 && unit(key^0x1234) < 0.6: // not adjudicated yet
		case unit(key^0xabcd) < 0.04: // denied
		default:
			p := payers[cl.payer]
			f := p.allowed
			if int(cl.payer) != selfPay {
				f *= planFactors[cl.payFactor]
			}
			paid = int64(float64(fee)*f + 0.5)
		}
		dst = append(dst, claimRow{
			ClaimLineID:          "C" + claimNo + "-" + strconv.Itoa(i+1),
			PatientAccount:       w.account(cl),
			DOS:                  w.dayStr[a.day],
			RenderingProvider:    rendering,
			RenderingProviderNPI: c.npi,
			ReferringProvider:    cl.refProvName,
			ReferringProviderNPI: cl.refProvNPI,
			Payer:                payers[cl.payer].name,
			CPTCode:              cpt,
			Charge:               w.money(fee),
			Paid:                 w.money(paid),
		})
	}
	return dst
}

// impossibleDate is a date that cannot exist in the given month, typed the
// way the export types dates: 02/30, 04/31, 01/32.
func impossibleDate(mi monthInfo) string {
	day := 32
	switch mi.first.Month() {
	case 2:
		day = 30
	case 4, 6, 9, 11:
		day = 31
	}
	return fmt.Sprintf("%02d/%02d/%04d", int(mi.first.Month()), day, mi.first.Year())
}
