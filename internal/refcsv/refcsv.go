// Package refcsv defines the rows of the small files a practice maintains
// (the clinician roster, the referrer directory, the alias file): the sample
// generator writes them with gocsv, under the csv tag's header, and the loader
// (pipeline/reference.go) reads them, so the two cannot disagree on a column.
//
// The loader matches a file's headers as the exports' are matched: case,
// spaces, punctuation and underscores ignored ("Start Date" is start_date).
// The aka tag lists the other names a column is known by, comma-separated and
// matched the same way ("Accepting new clients" is accepting). No name may
// stand for two columns of one file (a test checks).
package refcsv

// Roster is one clinician in the roster file.
type Roster struct {
	Name        string `csv:"name" aka:"clinician,clinician name,full name,provider name,therapist,therapist name,staff name"`
	Aliases     string `csv:"aliases" aka:"alias,aka,also known as,other names,other spellings"` // ';'-separated
	NPI         string `csv:"npi" aka:"npi number,individual npi,provider npi"`
	StartDate   string `csv:"start_date" aka:"start date,start,started,hire date,hired,date hired,date started"`              // YYYY-MM-DD
	EndDate     string `csv:"end_date" aka:"end date,end,ended,leave date,date left,leaving date,termination date,term date"` // blank while employed
	Specialties string `csv:"specialties" aka:"specialty,specialities,speciality,specializations,specialisations,focus areas"`
	Payers      string `csv:"payers" aka:"payer,insurance,insurances,insurance panels,panels,payers accepted,insurances accepted"`
	Accepting   string `csv:"accepting" aka:"accepting new clients,accepting clients,accepting new patients,accepting patients,taking new clients,open to new clients"` // yes/no
}

// Directory is one referrer (or marketing channel) in the referrer directory.
type Directory struct {
	Name         string `csv:"name" aka:"referrer,referrer name"`
	Aliases      string `csv:"aliases" aka:"alias,aka,also known as,other names,other spellings"`
	NPI          string `csv:"npi" aka:"npi number,referrer npi"`
	Category     string `csv:"category" aka:"referrer type,referrer category,type"`
	Organisation string `csv:"organisation" aka:"organization,org,practice name,company,employer,agency,institution"`
	PointPerson  string `csv:"point_person" aka:"point person name,point clinician"`
	Channel      string `csv:"channel" aka:"is channel,is a channel"` // yes/no
}

// Alias maps a spelling to a referrer.
type Alias struct {
	Alias    string `csv:"alias" aka:"spelling,alias name,variant,typed as"`
	Referrer string `csv:"referrer" aka:"referrer name,canonical name,same as"`
}
