package sample

import (
	"math/rand/v2"
	"strings"
)

// Every name below is representable in Windows-1252, so any export file can be
// re-encoded to cp1252 without loss.

var firstNames = []string{
	"Maria", "James", "Linda", "Robert", "Patricia", "Michael", "Jennifer", "David",
	"Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas",
	"Sarah", "Charles", "Karen", "Christopher", "Nancy", "Daniel", "Lisa", "Matthew",
	"Betty", "Anthony", "Margaret", "Mark", "Sandra", "Donald", "Ashley", "Steven",
	"Kimberly", "Paul", "Emily", "Andrew", "Donna", "Joshua", "Michelle", "Kenneth",
	"Carol", "Kevin", "Amanda", "Brian", "Melissa", "George", "Deborah", "Timothy",
	"Stephanie", "Ronald", "Rebecca", "Edward", "Sharon", "Jason", "Laura", "Jeffrey",
	"Cynthia", "Ryan", "Katherine", "Jacob", "Amy", "Gary", "Angela", "Nicholas",
	"Shirley", "Eric", "Anna", "Jonathan", "Brenda", "Stephen", "Pamela", "Larry",
	"Emma", "Justin", "Nicole", "Scott", "Helen", "Brandon", "Samantha", "Benjamin",
	"Christine", "Gregory", "Rachel", "Frank", "Carolyn", "Patrick", "Janet", "Raymond",
	"Catherine", "Priya", "Wei", "Aisha", "Omar", "Fatima", "Hiroshi", "Mei",
	"Carlos", "Lucía", "Andrés", "Sofía", "Chloé", "Zoë", "Renée", "Noël",
	"Björn", "Søren", "Ingrid", "Kwame", "Amara", "Tariq", "Leila", "Dmitri",
	"Olga", "Rafael", "Beatriz", "Minh", "Arjun", "Deepa", "Malik", "Imani",
	"Yusuf", "Nadia", "Mateo", "Camila", "Javier", "Elena", "Hannah", "Grace",
	"Olivia", "Liam", "Noah", "Ethan", "Ava", "Mia", "Isabella", "Jamal",
}

var lastNames = []string{
	"Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
	"Martinez", "Hernandez", "Gonzalez", "Wilson", "Anderson", "Taylor", "Moore", "Jackson",
	"Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark",
	"Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
	"Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker",
	"Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Gomez", "Phillips",
	"Evans", "Turner", "Diaz", "Parker", "Cruz", "Edwards", "Collins", "Reyes",
	"Stewart", "Morris", "Morales", "Murphy", "Cook", "Rogers", "Gutierrez", "Ortiz",
	"Morgan", "Cooper", "Peterson", "Bailey", "Reed", "Kelly", "Howard", "Ramos",
	"Kim", "Cox", "Ward", "Richardson", "Watson", "Brooks", "Chavez", "Wood",
	"Bennett", "Gray", "Mendoza", "Ruiz", "Hughes", "Price", "Alvarez", "Castillo",
	"Sanders", "Patel", "Myers", "Long", "Ross", "Foster", "O'Brien", "O'Connor",
	"McCarthy", "Sullivan", "Chen", "Wang", "Zhang", "Singh", "Shah", "Okafor",
	"Mensah", "Haddad", "Khalil", "Nakamura", "Tanaka", "Müller", "Schmidt", "Fischer",
	"Novak", "Kowalski", "Dubois", "Lefèvre", "Peña", "Muñoz", "Ibáñez", "Rossi",
	"Bianchi", "Russo", "Costa", "Silva", "Santos", "Pereira", "Johansson", "Larsen",
	"Jensen", "Walsh", "Byrne", "Doyle", "Brennan", "Fitzgerald", "Hoffman", "Weber",
	"Becker", "Wagner", "Abbott", "Barnes", "Fleming", "Greene", "Holt", "Ingram",
	"Lowe", "Marsh", "Nash", "Owens", "Pratt", "Quinn", "Rowe", "Shaw",
	"Tate", "Vance", "Wade", "York", "Zimmerman", "Garcia-Ruiz", "Lee-Chen", "Okonkwo",
}

// nicknames are the short forms a front desk types; a spelling built from one
// does not fold to the same name key, so it needs an alias somewhere.
var nicknames = map[string]string{
	"Robert": "Bob", "William": "Bill", "Katherine": "Kate", "Elizabeth": "Liz",
	"Michael": "Mike", "Jennifer": "Jen", "Richard": "Rick", "Thomas": "Tom",
	"Joseph": "Joe", "Christopher": "Chris", "Daniel": "Dan", "Matthew": "Matt",
	"Anthony": "Tony", "Steven": "Steve", "Patricia": "Pat", "Margaret": "Peggy",
	"Deborah": "Debbie", "Rebecca": "Becky", "Jonathan": "Jon", "Samuel": "Sam",
	"Benjamin": "Ben", "Alexander": "Alex", "Samantha": "Sam", "Kimberly": "Kim",
	"Nicholas": "Nick", "Gregory": "Greg", "Timothy": "Tim", "Edward": "Ed",
	"James": "Jim", "Andrew": "Andy", "Stephanie": "Steph", "Catherine": "Cathy",
	"Pamela": "Pam", "Susan": "Sue", "Jessica": "Jess", "Cynthia": "Cindy",
	"Kenneth": "Ken", "Donald": "Don", "Ronald": "Ron", "Jeffrey": "Jeff",
	"Raymond": "Ray", "Patrick": "Pat", "Isabella": "Bella", "Olivia": "Liv",
}

// Names the documentation and the planted quirks refer to. They are kept out of
// the random pool so they occur exactly once.
const (
	lopezFirst, lopezLast = "Maria", "Lopez"
	nunezFirst, nunezLast = "José", "Núñez"
	smithFirst, smithLast = "Jane", "Smith"
)

type personName struct{ first, last string }

func (p personName) String() string { return p.first + " " + p.last }

// namePool hands out unique person names in a seeded order. The pool is the
// product of the first and last name lists; once it runs out (very large
// scales) a middle initial keeps the names unique.
type namePool struct {
	order []personName
	next  int
}

func newNamePool(rng *rand.Rand) *namePool {
	reserved := map[string]bool{
		lopezFirst + " " + lopezLast: true,
		nunezFirst + " " + nunezLast: true,
		smithFirst + " " + smithLast: true,
	}
	var all []personName
	for _, f := range firstNames {
		for _, l := range lastNames {
			n := personName{f, l}
			if !reserved[n.String()] {
				all = append(all, n)
			}
		}
	}
	rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	return &namePool{order: all}
}

func (p *namePool) take() personName {
	i := p.next
	p.next++
	n := p.order[i%len(p.order)]
	if round := i / len(p.order); round > 0 {
		// "Maria B. Lopez", then "Maria BA. Lopez", …: unique, still a person's name.
		initial := string(rune('A'+(round-1)%26)) + strings.Repeat("A", (round-1)/26)
		n.first = n.first + " " + initial + "."
	}
	return n
}

var places = []string{
	"Riverside", "Oakwood", "Maple Grove", "Lakeside", "Hillcrest", "Cedar Park",
	"Northgate", "Westfield", "Brookside", "Fairview", "Summit", "Pine Valley",
	"Harbor", "Elmwood", "Sunnyvale", "Kingsbury", "Millbrook", "Ashford",
	"Greenwood", "Stonebridge", "Bayview", "Clearwater", "Eastlake", "Foxhall",
}

var saints = []string{"Mark's", "Luke's", "Anne's", "Joseph's", "Mary's", "Paul's", "Francis's", "Jude's"}

func organisation(rng *rand.Rand, category string, n personName) string {
	p := places[rng.IntN(len(places))]
	switch category {
	case "physician":
		return p + " " + pick(rng, []string{"Family Medicine", "Pediatrics", "Internal Medicine", "Primary Care", "Medical Group"})
	case "school counsellor":
		return p + " " + pick(rng, []string{"High School", "Middle School", "Elementary School", "Academy"})
	case "clergy":
		return pick(rng, []string{
			"St. " + saints[rng.IntN(len(saints))] + " Church", "First Baptist Church of " + p,
			"Temple Beth El", p + " Community Church", p + " Islamic Center", p + " Methodist Church",
		})
	case "attorney":
		return pick(rng, []string{n.last + " & Associates", p + " Family Law", n.last + " Law Office"})
	case "EAP":
		return pick(rng, []string{p + " Employee Assistance", p + " County EAP", "WorkLife Partners EAP", p + " Health EAP"})
	case "hospital":
		return pick(rng, []string{p + " General Hospital", p + " Medical Center", "St. " + saints[rng.IntN(len(saints))] + " Hospital"})
	case "therapist":
		return pick(rng, []string{n.last + " Counseling", p + " Therapy Group", p + " Wellness"})
	default:
		return pick(rng, []string{p + " Community Center", p + " Police Department", "YMCA " + p, p + " Public Library"})
	}
}

func pick(rng *rand.Rand, xs []string) string { return xs[rng.IntN(len(xs))] }

// Channels are the marketing sources: counted in volumes, never staged. The
// spellings are what the front desk types; the first is the canonical name.
type channelSpec struct {
	spellings []string
	share     float64 // of all channel referrals
	aliases   []string
}

var channelSpecs = []channelSpec{
	{[]string{"Psychology Today", "psychology today", "PsychologyToday"}, 0.34, []string{"PsychologyToday", "Psych Today"}},
	{[]string{"Google", "google", "Google search"}, 0.15, []string{"Google search"}},
	{[]string{"Self", "self", "Self referral", "Self-referred"}, 0.15, []string{"Self referral", "Self-referred"}},
	{[]string{"Insurance directory", "Insurance", "insurance directory"}, 0.13, []string{"Insurance"}},
	{[]string{"Friend/Family", "Friend", "Family member"}, 0.10, []string{"Friend", "Family member"}},
	{[]string{"Website", "website"}, 0.06, nil},
	{[]string{"Former client", "Former Client"}, 0.04, nil},
	{[]string{"Facebook", "facebook"}, 0.03, nil},
}

var specialtyList = []string{
	"anxiety", "depression", "trauma", "child", "adolescent", "couples", "family",
	"eating disorders", "ADHD", "substance use", "OCD", "grief", "LGBTQ+", "perinatal",
}

var credentials = []string{"LCSW", "LPC", "LMFT", "PsyD", "PhD", "LMHC", "LCSW", "LPC"}
