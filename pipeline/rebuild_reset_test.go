package pipeline_test

import (
	"context"
	"testing"

	"github.com/referrals/referrals/pipeline"
)

// A rebuild that stops while it empties the loaded tables (killed, interrupted, or
// a statement failing) must leave them as they were, or all empty: never the rows
// gone and the ledger still saying every file is loaded, or the next night skips
// every file and the rows are lost without a word.
func TestRebuildStoppedWhileEmptyingLeavesTablesWhole(t *testing.T) {
	p := newPractice(t)
	p.writeTwoExports()
	p.ingest()
	// The ledger's rows cannot be deleted while another table refers to them: the
	// reset fails there, after the raw tables (emptied first) and before the ledger.
	if _, err := p.db.Exec(`CREATE TABLE hold_ledger (file_id INTEGER REFERENCES ingest_files (file_id));
		INSERT INTO hold_ledger SELECT min(file_id) FROM ingest_files`); err != nil {
		t.Fatal(err)
	}
	in := &pipeline.Ingester{DB: p.db, Config: p.cfg, Secret: secret, Rebuild: true}
	if _, err := in.Ingest(context.Background()); err == nil {
		t.Fatal("the rebuild emptied a ledger another table refers to; the test needs it to fail there")
	}
	appts := p.count("SELECT count(*) FROM raw_appointments")
	claims := p.count("SELECT count(*) FROM raw_claim_lines")
	ledger := p.count("SELECT count(*) FROM ingest_files")
	if appts != 2 || claims != 1 || ledger != 2 {
		t.Fatalf("after a rebuild stopped while emptying the tables: %d appointments, %d claim lines, %d ledger rows; want 2, 1 and 2 as before (a next night skips the files the ledger lists, so rows gone with the ledger kept are lost)",
			appts, claims, ledger)
	}
}
