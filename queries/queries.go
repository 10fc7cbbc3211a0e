// Package queries holds the SQL models of the pipeline, one table per file.
//
// The file name is the table name. Files under clients/ condense the raw rows to
// a few rows per client, reading the views scope_appointments and
// scope_claim_lines: the pipeline keeps them incrementally, recomputing only
// the clients whose rows changed. Files under staging/ only rename, cast and
// resolve names (1:1 with a source); files under marts/ join and aggregate;
// files under checks/ are data tests: a SELECT that returns the offending rows,
// so an empty result means the check passed; a check whose failure comes from
// export rows may have checks/sources/<name>.sql, which lists them (path, row,
// problem) so that the failure can say what to fix. Each model is a single SELECT (CTEs
// welcome); the pipeline wraps it in CREATE OR REPLACE TABLE. Parameters come from
// DuckDB variables read with getvariable('name'), set by the pipeline from the
// configuration (see docs/TABLES.md for the list).
package queries

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"
)

//go:embed clients/*.sql clients/merge/*.sql clients/full/*.sql staging/*.sql marts/*.sql checks/*.sql checks/sources/*.sql
var files embed.FS

// MacrosSQL defines the temporary macros (name_key, split_list, …) the
// models use; run it on the connection before the models.
//
//go:embed macros.sql
var MacrosSQL string

// Model is one SQL file: Name is the table it builds (or the check's name).
type Model struct {
	Name  string // file name without .sql
	Layer string // clients, staging, marts or checks
	SQL   string
	// Merge (clients layer, optional: clients/merge/<name>.sql) gives the rows of
	// clients that only gained rows from their kept rows (tmp_kept) and the rows
	// SQL gives for their new rows alone (tmp_partial), without their history.
	Merge string
	// Full (clients layer, optional: clients/full/<name>.sql) gives, on a full
	// build, the same rows as SQL over every raw row, from another per-client
	// table built before it: a pass over the raw rows saved. Nights recompute and
	// merge with SQL and Merge.
	Full string
	// Sources (checks layer, optional: checks/sources/<name>.sql) lists the export
	// rows behind the check's offending rows: path, row, problem. It reads raw
	// tables, so it runs only when the check failed: the check itself reads only
	// model tables, which the pipeline's check cache relies on.
	Sources string
}

// Models returns the staging and mart models in an order where every model
// comes after the models it reads.
func Models() ([]Model, error) {
	var all []Model
	for _, layer := range []string{"staging", "marts"} {
		ms, err := readLayer(layer)
		if err != nil {
			return nil, err
		}
		all = append(all, ms...)
	}
	return order(all, func(m Model) Model { return m })
}

// Checks returns the data checks, sorted by name.
func Checks() ([]Model, error) { return readLayer("checks") }

// ClientModels returns the per-client models (clients/), which only read the
// raw tables through the scope views.
// They come in an order where a model whose Full reads another comes after it.
func ClientModels() ([]Model, error) {
	ms, err := readLayer("clients")
	if err != nil {
		return nil, err
	}
	return order(ms, func(m Model) Model { return Model{SQL: m.Full} })
}

// ClientFingerprint changes whenever the SQL that builds the per-client
// tables (or a macro it may use) changes: tables built by other SQL must
// then be rebuilt whole.
func ClientFingerprint() (string, error) {
	ms, err := ClientModels()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	h.Write([]byte(MacrosSQL))
	for _, m := range ms {
		fmt.Fprintf(h, "\x00%s\x00%s\x00%s\x00%s", m.Name, m.SQL, m.Merge, m.Full)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// variableRead is a variable a model or macro reads: getvariable('name').
var variableRead = regexp.MustCompile(`getvariable\('([a-z_][a-z0-9_]*)'\)`)

// ClientVariables are the variables the per-client SQL reads, in its files or
// through the macros (status_words, which appointment_status reads), sorted: a
// change of one changes what every kept per-client row would be.
func ClientVariables() ([]string, error) {
	ms, err := ClientModels()
	if err != nil {
		return nil, err
	}
	texts := []string{MacrosSQL}
	for _, m := range ms {
		texts = append(texts, m.SQL, m.Merge, m.Full)
	}
	seen := map[string]bool{}
	for _, t := range texts {
		for _, g := range variableRead.FindAllStringSubmatch(sqlComment.ReplaceAllString(t, ""), -1) {
			seen[g[1]] = true
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}

func readLayer(layer string) ([]Model, error) {
	entries, err := fs.ReadDir(files, layer)
	if err != nil {
		return nil, err
	}
	var ms []Model
	for _, e := range entries {
		// Files starting with "_" are drafts and never run.
		if e.IsDir() || path.Ext(e.Name()) != ".sql" || strings.HasPrefix(e.Name(), "_") {
			continue
		}
		b, err := files.ReadFile(layer + "/" + e.Name())
		if err != nil {
			return nil, err
		}
		m := Model{Name: strings.TrimSuffix(e.Name(), ".sql"), Layer: layer, SQL: string(b)}
		switch layer {
		case "clients":
			if mb, err := files.ReadFile("clients/merge/" + e.Name()); err == nil {
				m.Merge = string(mb)
			}
			if fb, err := files.ReadFile("clients/full/" + e.Name()); err == nil {
				m.Full = string(fb)
			}
		case "checks":
			if sb, err := files.ReadFile("checks/sources/" + e.Name()); err == nil {
				m.Sources = string(sb)
			}
		}
		ms = append(ms, m)
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Name < ms[j].Name })
	return ms, nil
}

var sqlComment = regexp.MustCompile(`(?m)--.*$`)

// tableRead is a table name after FROM or JOIN.
var tableRead = regexp.MustCompile(`(?i)\b(?:from|join)\s+([a-z_][a-z0-9_]*)\b`)

// Reads returns those of tables that the model's SQL reads ("FROM name" or
// "JOIN name" outside comments), in the order given.
func (m Model) Reads(tables []string) []string {
	read := map[string]bool{}
	for _, g := range tableRead.FindAllStringSubmatch(sqlComment.ReplaceAllString(m.SQL, ""), -1) {
		read[strings.ToLower(g[1])] = true
	}
	var out []string
	for _, t := range tables {
		if read[strings.ToLower(t)] {
			out = append(out, t)
		}
	}
	return out
}

// order sorts models topologically by the model names that the SQL of
// reading(m) mentions as whole words, keeping the alphabetical order among
// independent models so the build order is deterministic.
func order(ms []Model, reading func(Model) Model) ([]Model, error) {
	byName := map[string]int{}
	for i, m := range ms {
		byName[m.Name] = i
	}
	names := make([]string, len(ms))
	for j, m := range ms {
		names[j] = m.Name
	}
	deps := make([][]int, len(ms))
	for i, m := range ms {
		for _, n := range reading(m).Reads(names) {
			if j := byName[n]; j != i {
				deps[i] = append(deps[i], j)
			}
		}
	}
	state := make([]int, len(ms)) // 0 new, 1 visiting, 2 done
	var out []Model
	var visit func(i int, trail []string) error
	visit = func(i int, trail []string) error {
		switch state[i] {
		case 1:
			return fmt.Errorf("queries: models reference each other in a cycle: %s", strings.Join(append(trail, ms[i].Name), " -> "))
		case 2:
			return nil
		}
		state[i] = 1
		for _, d := range deps[i] {
			if err := visit(d, append(trail, ms[i].Name)); err != nil {
				return err
			}
		}
		state[i] = 2
		out = append(out, ms[i])
		return nil
	}
	for i := range ms {
		if err := visit(i, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}
