package reports

import (
	"bufio"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"time"
)

//go:embed templates/index.html.tmpl
var indexTemplateText string

var indexTemplate = template.Must(template.New("index").Parse(indexTemplateText))

// reportFile matches the names the reports are written under: referrals-YYYY-MM.html,
// referrals-YYYY-MM.xlsx and referrers-YYYY-MM.csv.
var reportFile = regexp.MustCompile(`^(referrals|referrers)-(\d{4}-\d{2})\.(html|xlsx|csv)$`)

type indexFile struct{ Name, Kind string }

type indexMonth struct {
	Month time.Time
	Label string
	Files []indexFile
}

// kindOrder puts the page first, then the workbook, then the CSV.
var kindOrder = map[string]int{"html": 0, "xlsx": 1, "csv": 2}
var kindLabel = map[string]string{"html": "Report (web page)", "xlsx": "Workbook (Excel)", "csv": "Referrers (CSV)"}

// WriteIndex writes outDir/index.html, listing every month's reports found in outDir, newest
// first. Files that do not follow the report names are ignored.
func WriteIndex(outDir string) error {
	entries, err := os.ReadDir(outDir)
	if err != nil {
		return fmt.Errorf("index of %s: %w", outDir, err)
	}
	byMonth := map[string]*indexMonth{}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		m := reportFile.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		prefix, month, ext := m[1], m[2], m[3]
		if (prefix == "referrers") != (ext == "csv") {
			continue
		}
		t, err := time.Parse("2006-01", month)
		if err != nil {
			continue
		}
		im := byMonth[month]
		if im == nil {
			im = &indexMonth{Month: t, Label: t.Format("January 2006")}
			byMonth[month] = im
		}
		im.Files = append(im.Files, indexFile{Name: e.Name(), Kind: kindLabel[ext]})
	}
	months := make([]indexMonth, 0, len(byMonth))
	for _, im := range byMonth {
		sort.Slice(im.Files, func(i, j int) bool {
			return kindOrder[filepath.Ext(im.Files[i].Name)[1:]] < kindOrder[filepath.Ext(im.Files[j].Name)[1:]]
		})
		months = append(months, *im)
	}
	sort.Slice(months, func(i, j int) bool { return months[i].Month.After(months[j].Month) })

	return writeAtomic(filepath.Join(outDir, "index.html"), func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		if err := indexTemplate.Execute(bw, months); err != nil {
			return err
		}
		return bw.Flush()
	})
}
