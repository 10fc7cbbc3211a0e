package config

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// knownKeys are the configuration's settings by section ("" for the top
// level, before the first [section]), and its sections, as the toml tags of
// Config name them.
func knownKeys() (keys map[string][]string, sections []string) {
	keys = map[string][]string{}
	t := reflect.TypeOf(Config{})
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		key, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
		if key == "" || key == "-" {
			continue
		}
		if f.Type.Kind() != reflect.Struct {
			keys[""] = append(keys[""], key)
			continue
		}
		sections = append(sections, key)
		for j := 0; j < f.Type.NumField(); j++ {
			sub, _, _ := strings.Cut(f.Type.Field(j).Tag.Get("toml"), ",")
			if sub != "" && sub != "-" {
				keys[key] = append(keys[key], sub)
			}
		}
	}
	return keys, sections
}

// unknownKeys says of each key of the file that is no setting (und, the
// decoder's undecoded keys) where it is and what was meant: a setting of
// another section placed under the wrong one (a line appended at the end of
// the file lands in its last section), or the nearest known key to a
// misspelt one. name is how the file is named, src its text.
func unknownKeys(name, src string, und []toml.Key) []string {
	keys, sections := knownKeys()
	sectionOf := func(key string) []string {
		var in []string
		for _, s := range append([]string{""}, sections...) {
			if slices.Contains(keys[s], key) {
				in = append(in, s)
			}
		}
		return in
	}
	isSection := func(s string) bool { return slices.Contains(sections, s) }
	type found struct {
		line int
		msg  string
	}
	var out []found
	badTable := map[string]bool{}
	for _, k := range und {
		if len(k) == 0 {
			continue
		}
		// Under a table that is no section, the table is what to fix: said once.
		if len(k) > 1 && badTable[k[0]] {
			continue
		}
		line := keyLine(src, k)
		where := name
		if line > 0 {
			where += fmt.Sprintf(" line %d", line)
		}
		var msg string
		switch {
		case len(k) == 1 && keys[k[0]] == nil && !isSection(k[0]) && tableLine(src, k[0]):
			badTable[k[0]] = true
			msg = fmt.Sprintf("[%s] is not a section of the configuration", k[0])
			if near := nearest(k[0], sections); near != "" {
				msg += fmt.Sprintf("; did you mean [%s]?", near)
			} else {
				msg += fmt.Sprintf("; the sections are [%s]", strings.Join(sections, "], ["))
			}
		case len(k) == 1:
			msg = misplaced(k[0], "", sectionOf(k[0]))
			if msg == "" {
				msg = fmt.Sprintf("`%s` is not a setting", k[0])
				if near := nearest(k[0], keys[""]); near != "" {
					msg += fmt.Sprintf("; did you mean %s?", near)
				} else {
					msg += "; the settings above the first [section] are " + strings.Join(keys[""], ", ")
				}
			}
		case len(k) == 2 && isSection(k[0]):
			msg = misplaced(k[1], k[0], sectionOf(k[1]))
			if msg == "" {
				msg = fmt.Sprintf("`%s` is not a setting of [%s]", k[1], k[0])
				if near := nearest(k[1], keys[k[0]]); near != "" {
					msg += fmt.Sprintf("; did you mean %s?", near)
				} else {
					msg += "; its settings are " + strings.Join(keys[k[0]], ", ")
				}
			}
		case len(k) == 3 && k[0] == "scheduling" && k[1] == "statuses":
			var known []string
			for _, c := range statusClasses {
				known = append(known, c.key)
			}
			msg = fmt.Sprintf("`%s` is not a class of [scheduling.statuses]", k[2])
			if near := nearest(k[2], known); near != "" {
				msg += fmt.Sprintf("; did you mean %s?", near)
			} else {
				msg += "; its classes are " + strings.Join(known, ", ")
			}
		case len(k) == 3 && isSection(k[0]) && k[1] == "layout":
			known := []string{}
			lt := reflect.TypeOf(Layout{})
			for j := 0; j < lt.NumField(); j++ {
				known = append(known, strings.Split(lt.Field(j).Tag.Get("toml"), ",")[0])
			}
			msg = fmt.Sprintf("`%s` is not a setting of [[%s.layout]]", k[2], k[0])
			if near := nearest(k[2], known); near != "" {
				msg += fmt.Sprintf("; did you mean %s?", near)
			} else {
				msg += "; its settings are " + strings.Join(known, ", ")
			}
		default:
			msg = fmt.Sprintf("`%s` is not a setting", k.String())
		}
		out = append(out, found{line, where + ": " + msg})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].line < out[j].line })
	msgs := make([]string, len(out))
	for i, f := range out {
		msgs[i] = f.msg
	}
	return msgs
}

// misplaced says where key belongs when it is a setting of another section
// than the one it sits in (in: "" for the top level), or "".
func misplaced(key, in string, belongs []string) string {
	if len(belongs) == 0 {
		return ""
	}
	here := "under [" + in + "]"
	if in == "" {
		here = "at the top of the file, before any [section]"
	}
	var where []string
	for _, b := range belongs {
		if b == "" {
			where = append(where, "above the first [section]")
		} else {
			where = append(where, "under ["+b+"]")
		}
	}
	if belongs[0] == "" {
		return fmt.Sprintf("`%s` is a top-level setting but sits %s: move it above the first [section]", key, here)
	}
	names := make([]string, len(belongs))
	for i, b := range belongs {
		names[i] = "[" + b + "]"
	}
	return fmt.Sprintf("`%s` is a setting of %s but sits %s: move it %s", key, strings.Join(names, " and "), here, strings.Join(where, " or "))
}

// tableLine reports whether src has a table header [name] (or [name.…]).
func tableLine(src, name string) bool {
	for _, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "[") {
			continue
		}
		t := splitKey(strings.Trim(strings.TrimSpace(strings.SplitN(line, "]", 2)[0]), "[ "))
		if len(t) > 0 && t[0] == name {
			return true
		}
	}
	return false
}

// nearest is the one of known closest to key when it is a likely misspelling
// of it (a letter or two apart, or one contains the other), else "".
func nearest(key string, known []string) string {
	best, bestD := "", 0
	for _, k := range known {
		d := editDistance(strings.ToLower(key), k)
		if best == "" || d < bestD {
			best, bestD = k, d
		}
	}
	if best == "" {
		return ""
	}
	if bestD <= 2 || bestD*3 <= len(best) {
		return best
	}
	return ""
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
