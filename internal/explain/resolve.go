package explain

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// ErrNoSuchReferrer is wrapped by the errors Write returns when what was typed
// names no referrer, or more than one.
var ErrNoSuchReferrer = errors.New("no such referrer")

// AmbiguousError means what was typed matches several referrers.
type AmbiguousError struct {
	Typed      string
	How        string // "name key", "NPI", "part of the name", …
	Candidates []string
}

func (e *AmbiguousError) Error() string {
	return fmt.Sprintf("%q matches %d referrers by %s: %s; type more of the name, or the NPI",
		e.Typed, len(e.Candidates), e.How, strings.Join(quoteAll(e.Candidates), ", "))
}

func (e *AmbiguousError) Unwrap() error { return ErrNoSuchReferrer }

// UnknownError means nothing matched; Suggestions are the closest names.
type UnknownError struct {
	Typed       string
	Suggestions []string
}

func (e *UnknownError) Error() string {
	msg := fmt.Sprintf("no referrer or channel matches %q", e.Typed)
	if len(e.Suggestions) > 0 {
		msg += "; did you mean " + strings.Join(quoteAll(e.Suggestions), ", ") + "?"
	}
	return msg
}

func (e *UnknownError) Unwrap() error { return ErrNoSuchReferrer }

func quoteAll(xs []string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = fmt.Sprintf("%q", x)
	}
	return out
}

var nonDigit = regexp.MustCompile(`[^0-9]`)

// resolve finds the one referrer (or channel) that typed names, trying in turn:
// the canonical name (exact, then ignoring case), any raw spelling seen in the
// exports, the name key, the NPI, then a unique case-insensitive part of a name
// or spelling. A step that finds several stops the search with an
// AmbiguousError; when no step finds any, UnknownError suggests the closest
// names by Jaro-Winkler similarity.
func resolve(ctx context.Context, conn *sql.Conn, typed string) (string, error) {
	t := strings.TrimSpace(typed)
	if t == "" {
		return "", &UnknownError{Typed: typed}
	}
	npi := nonDigit.ReplaceAllString(t, "")
	if len(npi) != 10 {
		npi = ""
	}
	steps := []struct {
		how string
		q   string
		arg []any
	}{
		{"name", `select referrer from stg_referrers where referrer = ?`, []any{t}},
		{"name", `select referrer from stg_referrers where lower(referrer) = lower(?)`, []any{t}},
		{"spelling", `select distinct referrer from stg_referrer_spellings where lower(raw_name) = lower(?)`, []any{t}},
		{"name key", `select distinct referrer from (
			select referrer, name_key from stg_referrer_spellings
			union all select referrer, name_key(referrer) from stg_referrers)
			where name_key = name_key(?)`, []any{t}},
		{"NPI", `select distinct referrer from (
			select referrer, npi from stg_referrer_spellings union all select referrer, npi from stg_referrers)
			where ? <> '' and npi = ?`, []any{npi, npi}},
		{"part of the name", `select distinct referrer from (
			select referrer, raw_name as spelling from stg_referrer_spellings
			union all select referrer, referrer from stg_referrers)
			where contains(lower(spelling), lower(?))`, []any{t}},
	}
	for _, s := range steps {
		names, err := queryStrings(ctx, conn, s.q+" order by 1", s.arg...)
		if err != nil {
			return "", fmt.Errorf("explain: look up %q by %s: %w", typed, s.how, err)
		}
		switch len(names) {
		case 0:
			continue
		case 1:
			return names[0], nil
		default:
			return "", &AmbiguousError{Typed: typed, How: s.how, Candidates: names}
		}
	}
	sugg, err := queryStrings(ctx, conn, `
		select referrer from stg_referrers
		where jaro_winkler_similarity(lower(referrer), lower(?)) >= 0.7
		order by jaro_winkler_similarity(lower(referrer), lower(?)) desc, referrer
		limit 5`, t, t)
	if err != nil {
		return "", fmt.Errorf("explain: suggest names for %q: %w", typed, err)
	}
	return "", &UnknownError{Typed: typed, Suggestions: sugg}
}

func queryStrings(ctx context.Context, conn *sql.Conn, q string, args ...any) ([]string, error) {
	rows, err := conn.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s sql.NullString
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		if s.Valid {
			out = append(out, s.String)
		}
	}
	return out, rows.Err()
}
