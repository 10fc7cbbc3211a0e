package explain

import (
	"database/sql"
	"strings"
	"testing"
)

// The point-person share counts a referral that asked for the point person by name, whoever
// took the client: the paragraph says so, so that "12 of 12 for the point person" beside
// "assigned: Samantha Ross 10, Benjamin Ward 1, Sharon Green 1" reads as what it is.
func TestPointPersonCountedSaysWhy(t *testing.T) {
	st := status{pointPerson: sql.NullString{String: "Samantha Ross", Valid: true}, ppReferrals: 12}
	got := ppCounted(st, ppCounts{byName: 12, byNameTakenElsewhere: 2})
	want := " A referral counts for the point person when it asked for them by name, else when they were assigned it: " +
		"here 12 asked for Samantha Ross by name (2 of them taken by a colleague)."
	if got != want {
		t.Errorf("ppCounted = %q, want %q", got, want)
	}
	got = ppCounted(st, ppCounts{byName: 3, practiceAssigned: 1, noRequestAssigned: 8})
	if !strings.HasSuffix(got, "here 3 asked for Samantha Ross by name, 1 was addressed to the practice and assigned to them "+
		"and 8 were assigned to them with no request on record.") {
		t.Errorf("ppCounted = %q", got)
	}
	if got := ppCounted(status{}, ppCounts{}); got != "" {
		t.Errorf("ppCounted without point-person referrals = %q", got)
	}
}

// Effective clinicians (1 / COC) can exceed the clinicians assigned: the paragraph says why
// where it does, and says nothing where it does not.
func TestEffectiveAboveClinicians(t *testing.T) {
	st := status{clinicians: 10, coc: sql.NullFloat64{Float64: 2.0 / 110, Valid: true},
		effective: sql.NullFloat64{Float64: 55, Valid: true}}
	want := ": 1 / COC, from few referrals an estimate of how widely they would spread with more, so above the 10 clinicians so far"
	if got := effectiveAbove(st); got != want {
		t.Errorf("effectiveAbove = %q, want %q", got, want)
	}
	st.effective.Float64, st.coc.Float64 = 2.5, 0.4
	if got := effectiveAbove(st); got != "" {
		t.Errorf("effectiveAbove for 2.5 of 10 = %q, want nothing", got)
	}
}
