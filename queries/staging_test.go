package queries_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/referrals/referrals/internal/stagetest"
	"github.com/referrals/referrals/pipeline"
)

// referrer_near_duplicates skips pairs whose letters bound their score below
// the cutoff. The bound must never cut a pair the plain comparison keeps:
// the model must list exactly the pairs that comparing every blocked pair
// lists, for names typed with every kind of slip.
func TestNearDuplicatesMatchPlainComparison(t *testing.T) {
	firsts := []string{"Anna", "Andrew", "Maria", "Mario", "Kathy", "Cathy", "Jon", "John", "Li", "Aaron", "Bob",
		"Robert", "Elisabeth", "Elizabeth", "Zoe", "Ngozi", "Siobhan", "Mohammed", "Muhammad", "Xi", "Ann", "Anne"}
	lasts := []string{"Smith", "Smyth", "Lopez", "Lee", "Li", "Nguyen", "Nguyễn", "O'Brien", "OBrien", "Abbott",
		"Abbot", "Anderson", "Andersen", "Müller", "Mueller", "Oyelaran", "Kowalczyk", "St. Anne", "Van der Berg", "Ng"}
	rng := rand.New(rand.NewPCG(7, 11))
	slip := func(s string) string {
		r := []rune(s)
		i := rng.IntN(len(r))
		switch rng.IntN(6) {
		case 0: // a letter dropped
			return string(append(r[:i:i], r[i+1:]...))
		case 1: // a letter doubled
			return string(append(r[:i+1:i+1], r[i:]...))
		case 2: // two letters swapped
			if i+1 < len(r) {
				r[i], r[i+1] = r[i+1], r[i]
			}
			return string(r)
		case 3: // a letter replaced
			r[i] = rune('a' + rng.IntN(26))
			return string(r)
		case 4: // a digit typed in
			return string(r[:i]) + fmt.Sprint(rng.IntN(10)) + string(r[i:])
		default: // a title and a middle initial
			return "Dr. " + s[:1] + " " + s
		}
	}
	p := &stagetest.Practice{}
	n := 0
	add := func(name string) {
		n++
		p.Appointment(fmt.Sprintf("nd-%04d", n), fmt.Sprintf("nd-client-%04d", n), stagetest.Ann, "2025-06-02", "9:00 AM", "Attended", name)
	}
	for _, f := range firsts {
		for _, l := range lasts {
			name := f + " " + l
			add(name)
			for range rng.IntN(3) {
				add(slip(name))
			}
		}
	}
	vars := stagetest.DefaultVars(stagetest.ReportMonth)
	db := stagetest.Build(t, p, vars)
	if err := pipeline.Prepare(context.Background(), db, vars); err != nil {
		t.Fatal(err)
	}
	plain := stagetest.JoinRows(stagetest.Rows(t, db, `
		with k as (
			select referrer, npi, name_key(referrer) as name_key from stg_referrers
			where not is_channel and name_key(referrer) is not null
		)
		select a.referrer as referrer_a, b.referrer as referrer_b, round(jaro_winkler_similarity(a.name_key, b.name_key), 3) as similarity
		from k a join k b on a.referrer < b.referrer
			and (left(a.name_key, 1) = left(b.name_key, 1)
			  or left(split_part(a.name_key, ' ', -1), 3) = left(split_part(b.name_key, ' ', -1), 3))
		where (a.npi is null or b.npi is null or a.npi = b.npi)
		  and jaro_winkler_similarity(a.name_key, b.name_key) >= getvariable('near_duplicate_cutoff')
		order by similarity desc, referrer_a, referrer_b`), "referrer_a", "referrer_b", "similarity")
	got := stagetest.JoinRows(stagetest.Rows(t, db, "select * from referrer_near_duplicates order by similarity desc, referrer_a, referrer_b"),
		"referrer_a", "referrer_b", "similarity")
	var pairs, referrers int
	if err := db.QueryRow("select (select count(*) from referrer_near_duplicates), (select count(*) from stg_referrers)").Scan(&pairs, &referrers); err != nil {
		t.Fatal(err)
	}
	if pairs < 100 {
		t.Fatalf("only %d near-duplicate pairs among %d referrers: the names do not test the bound", pairs, referrers)
	}
	if got != plain {
		t.Errorf("referrer_near_duplicates differs from comparing every blocked pair.\ngot:\n%s\nwant:\n%s", got, plain)
	}
	t.Logf("%d referrers, %d near-duplicate pairs", referrers, pairs)
}

// Names typed for one referrer that Jaro-Winkler scores below the cutoff are
// listed all the same: a specialty or a school in parentheses, the same words
// in another order. Two referrers that differ only in parentheses are listed,
// not merged; the "(no NPI)" the tool adds to a name does not pair it.
func TestNearDuplicatesListTheSameWords(t *testing.T) {
	p := &stagetest.Practice{}
	for i, name := range []string{"Dr. Jane Smith (Pediatrics)", "Jane Smith, MD", "Carla Diaz (Hillcrest Elementary)",
		"Hillcrest Elementary - Ms. Carla Diaz", "EAP (Magellan)", "EAP (ComPsych)", "Robert Brown", "Brown Robertson"} {
		p.Appointment(fmt.Sprintf("sw-%d", i), fmt.Sprintf("sw-client-%d", i), stagetest.Ann, "2025-06-02", "9:00 AM", "Attended", name)
	}
	vars := stagetest.DefaultVars(stagetest.ReportMonth)
	db := stagetest.Build(t, p, vars)
	got := stagetest.JoinRows(stagetest.Rows(t, db, "select referrer_a, referrer_b from referrer_near_duplicates order by all"), "referrer_a", "referrer_b")
	want := stagetest.JoinRows([]map[string]any{
		{"referrer_a": "Carla Diaz (Hillcrest Elementary)", "referrer_b": "Hillcrest Elementary - Ms. Carla Diaz"},
		{"referrer_a": "Dr. Jane Smith (Pediatrics)", "referrer_b": "Jane Smith, MD"},
		{"referrer_a": "EAP (ComPsych)", "referrer_b": "EAP (Magellan)"},
	}, "referrer_a", "referrer_b")
	if got != want {
		t.Errorf("near duplicates:\n%s\nwant:\n%s", got, want)
	}
	var referrers int
	if err := db.QueryRow("select count(distinct referrer) from stg_referrers where referrer like '%Smith%' or referrer like 'EAP%'").Scan(&referrers); err != nil {
		t.Fatal(err)
	}
	if referrers != 4 {
		t.Errorf("%d referrers named Smith or EAP, want 4: listed, not merged", referrers)
	}
}
