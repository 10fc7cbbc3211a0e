package pipeline

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// UnknownStatus is an appointment status spelling no class takes
// (stg_unknown_statuses), with the appointments loaded that carry it.
type UnknownStatus struct {
	Status       string
	Appointments int64
}

// UnknownStatuses reads stg_unknown_statuses, the most common first.
func UnknownStatuses(ctx context.Context, db *sql.DB) ([]UnknownStatus, error) {
	rows, err := db.QueryContext(ctx, `SELECT status, appointments FROM stg_unknown_statuses ORDER BY appointments DESC, status`)
	if err != nil {
		return nil, fmt.Errorf("read the unknown statuses: %w", err)
	}
	defer rows.Close()
	var out []UnknownStatus
	for rows.Next() {
		var u UnknownStatus
		if err := rows.Scan(&u.Status, &u.Appointments); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// StatusesMeaning is what an appointment whose status no class takes counts as,
// and what that does to the figures, for the run's warning and check's.
const StatusesMeaning = "an appointment whose status is none of the known words counts as neither attended nor booked: " +
	"a client whose appointments carry only such statuses has no attended intake (the follow-through rates fall), is assigned " +
	"the clinician of the first appointment instead of the first attended one, and has no intake still to come"

// StatusesFix says what to set, with the most common spelling as the example.
func StatusesFix(example string) string {
	return fmt.Sprintf("say what each means under [scheduling.statuses] in the configuration, e.g. attended = [%q] "+
		"(the classes: attended, no_show, late_cancelled, cancelled, scheduled; other for a word that is none of them, which is then no longer listed)", example)
}

// ListStatuses names up to n spellings with their counts: "Checked Out - Paid" (412), …
func ListStatuses(us []UnknownStatus, n int) string {
	var parts []string
	for i, u := range us {
		if i == n {
			parts = append(parts, fmt.Sprintf("and %d more", len(us)-n))
			break
		}
		parts = append(parts, fmt.Sprintf("%q (%d)", u.Status, u.Appointments))
	}
	return strings.Join(parts, ", ")
}
