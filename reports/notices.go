package reports

import (
	"context"
	"fmt"
	"strings"
)

// banner is a sentence shown above everything else on the Overview sheet and the page:
// a warning (the figures are incomplete) or a notice (why the month is empty).
type banner struct {
	Text    string
	Warning bool
}

// failedFile is an export file the run that writes the reports could not load, or a
// file pattern of the configuration that matched no file (pattern, path the pattern).
type failedFile struct {
	source, path string
	pattern      bool
}

// maxNamedFiles is how many failed files and patterns a banner names; the Data quality
// sheet lists all.
const maxNamedFiles = 3

// loadFailedFiles returns the export files that could not be loaded by the run writing
// the reports, and the file patterns that matched no file in it: the problems
// ingest_problems recorded after the last finished command (run_log). A file or pattern
// that still fails is tried, and recorded, again by every run, and a run that met every
// file clears the problems of the others (pipeline's clearProblemsNotMet), so the
// reports of a run list what failed in it. Without run_log (a database no command
// finished on) every recorded problem counts.
//
// ingest_problems is no model table: the HTML page, which the report cache copies
// while the models are unchanged, takes the banner into its cache key (WriteHTMLCached).
func loadFailedFiles(ctx context.Context, db querier) ([]failedFile, error) {
	var problems, runLog bool
	err := db.QueryRowContext(ctx, `SELECT
		count(*) FILTER (WHERE table_name = 'ingest_problems') > 0,
		count(*) FILTER (WHERE table_name = 'run_log') > 0
		FROM duckdb_tables() WHERE NOT temporary AND schema_name = 'main'`).Scan(&problems, &runLog)
	if err != nil {
		return nil, fmt.Errorf("query the files that failed: %w", err)
	}
	if !problems {
		return nil, nil
	}
	// seen_at and finished_at are both UTC (recordProblem, pipeline.Finish), whatever the
	// zone of the run that wrote them.
	query := `SELECT source, path, kind IS NOT DISTINCT FROM 'pattern' FROM ingest_problems ORDER BY path, source`
	if runLog {
		query = `SELECT source, path, kind IS NOT DISTINCT FROM 'pattern' FROM ingest_problems
		WHERE seen_at > coalesce((SELECT max(finished_at) FROM run_log), '-infinity'::TIMESTAMP)
		ORDER BY path, source`
	}
	rows, err := queryAll(ctx, db, "the files that failed", query)
	if err != nil {
		return nil, err
	}
	out := make([]failedFile, 0, len(rows))
	for _, r := range rows {
		source, _ := asString(r[0])
		path, _ := asString(r[1])
		pattern, _ := r[2].(bool)
		out = append(out, failedFile{source: source, path: path, pattern: pattern})
	}
	return out, nil
}

// partialDataBanner says, for the top of the Overview sheet and of the page, that the
// report was made from partial data; "" when every file loaded and every pattern
// matched. where names the place that says what is wrong with each file or pattern.
func partialDataBanner(files []failedFile, where string) string {
	if len(files) == 0 {
		return ""
	}
	var nFiles, nPatterns int
	for _, f := range files {
		if f.pattern {
			nPatterns++
		} else {
			nFiles++
		}
	}
	var names []string
	for i, f := range files {
		if i == maxNamedFiles {
			names = append(names, fmt.Sprintf("and %d more", len(files)-maxNamedFiles))
			break
		}
		name := f.path
		var about []string
		if f.source != "" {
			about = append(about, f.source)
		}
		if f.pattern && nFiles > 0 {
			about = append(about, "matches no file")
		}
		if len(about) > 0 {
			name += " (" + strings.Join(about, ", ") + ")"
		}
		names = append(names, name)
	}
	filesWhat := plural(nFiles, "export file") + " could not be loaded"
	patternsWhat := plural(nPatterns, "file pattern") + " of the configuration matched no file"
	var what, rest string
	switch {
	case nPatterns == 0:
		their, they, each := "Their", "the files are", "each"
		if nFiles == 1 {
			their, they, each = "Its", "it is", "it"
		}
		what = filesWhat
		rest = fmt.Sprintf("%s rows are missing from every figure in this report until %s fixed and the run is repeated; "+
			"%s says what is wrong with %s.", their, they, where, each)
	case nFiles == 0:
		it, matches, each := "they", "they match", "each"
		if nPatterns == 1 {
			it, matches, each = "it", "it matches", "it"
		}
		what = patternsWhat
		rest = fmt.Sprintf("The exports %s should find (a folder not mounted, files moved?) are missing from every figure in this report "+
			"until %s them again and the run is repeated; %s says what to check for %s.", it, matches, where, each)
	default:
		what = filesWhat + " and " + patternsWhat
		rest = fmt.Sprintf("Their rows are missing from every figure in this report until they are fixed and the run is repeated; "+
			"%s says what is wrong with each.", where)
	}
	return fmt.Sprintf("Incomplete figures: %s when this report was made: %s. %s", what, strings.Join(names, ", "), rest)
}
