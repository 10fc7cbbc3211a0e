// Package reports renders the finished tables of a referrals database (docs/TABLES.md) into the
// monthly deliverables:
//
//   - WriteWorkbook: an Excel workbook (Overview, Referrers, Introductions, Monthly, Clinicians,
//     Transitions, Data quality) for the practice owner and the marketing lead.
//   - WriteHTML: one self-contained HTML page with KPI tiles, charts and the action lists. It
//     embeds Apache ECharts from the binary and loads nothing from the network, so it opens
//     offline and can be mailed as an attachment.
//   - WriteReferrerCSV: one row per active referrer, for import into a CRM.
//   - WriteIndex: out/index.html, linking every month's reports found in the output folder.
//
// The package reads only the finished tables named in docs/TABLES.md and computes no metric
// that SQL could: every number shown comes from a SELECT on those tables. Every file is written
// to a temporary file in the destination folder and renamed into place, so a reader (a browser,
// a mail job, a file sync) never sees half a report.
//
// Text from the data (referrer and clinician names, messages) is never interpreted: in the
// workbook it is written as string cells (a referrer called "=1+1" stays text), in the HTML it
// goes through html/template and encoding/json (a referrer called "</script>..." stays text),
// and in the CSV a leading =, +, -, @, tab or carriage return is neutralised with a quote.
package reports
