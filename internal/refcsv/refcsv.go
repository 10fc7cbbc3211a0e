// Package refcsv defines the rows of the small files a practice maintains
// (the clinician roster, the referrer directory, the alias file) as gocsv
// reads and writes them: the loader reads these types and the sample
// generator writes them, so the two cannot disagree on a column.
package refcsv

// Roster is one clinician in the roster file.
type Roster struct {
	Name        string `csv:"name"`
	Aliases     string `csv:"aliases"` // ';'-separated
	NPI         string `csv:"npi"`
	StartDate   string `csv:"start_date"` // YYYY-MM-DD
	EndDate     string `csv:"end_date"`   // blank while employed
	Specialties string `csv:"specialties"`
	Payers      string `csv:"payers"`
	Accepting   string `csv:"accepting"` // yes/no
}

// Directory is one referrer (or marketing channel) in the referrer directory.
type Directory struct {
	Name         string `csv:"name"`
	Aliases      string `csv:"aliases"`
	NPI          string `csv:"npi"`
	Category     string `csv:"category"`
	Organisation string `csv:"organisation"`
	PointPerson  string `csv:"point_person"`
	Channel      string `csv:"channel"` // yes/no
}

// Alias maps a spelling to a referrer.
type Alias struct {
	Alias    string `csv:"alias"`
	Referrer string `csv:"referrer"`
}
