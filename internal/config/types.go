package config

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// typeProblems lists the settings of the file whose value has another type
// than the setting takes (a single string where a list of patterns goes, a
// number in quotes), each with its line, what it must be with an example,
// and what it is. The TOML decoder would say this in Go's words ("TOML value
// has type string; destination has type slice"), and only of the first.
// raw is the file decoded into plain maps, src its text, name how the file
// is named in the messages.
func typeProblems(name, src string, raw map[string]any) []string {
	type problem struct {
		line int
		msg  string
	}
	var found []problem
	add := func(path []string, t reflect.Type, v any, def reflect.Value) {
		msg := typeProblem(path, t, v, def)
		if msg == "" {
			return
		}
		where, line := name, lineOf(src, path)
		if line > 0 {
			where += fmt.Sprintf(" line %d", line)
		}
		found = append(found, problem{line, where + ": " + msg})
	}
	var walk func(path []string, raw map[string]any, t reflect.Type, defaults reflect.Value)
	walk = func(path []string, raw map[string]any, t reflect.Type, defaults reflect.Value) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			key, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
			if key == "" || key == "-" {
				continue
			}
			v, ok := raw[key]
			if !ok {
				continue
			}
			p := append(append([]string{}, path...), key)
			m, isTable := v.(map[string]any)
			if blocks, ok := v.([]map[string]any); ok && f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct {
				// [[scheduling.layout]]: each block as a table of its own.
				for j, b := range blocks {
					walk(append(p[:len(p)-1:len(p)-1], fmt.Sprintf("%s#%d", key, j+1)), b, f.Type.Elem(), reflect.Zero(f.Type.Elem()))
				}
				continue
			}
			switch {
			case isTable && f.Type.Kind() == reflect.Struct:
				walk(p, m, f.Type, defaults.Field(i))
			case isTable && f.Type.Kind() == reflect.Map:
				// [….columns]: each field names a header.
				for _, field := range slices.Sorted(maps.Keys(m)) {
					add(append(p[:len(p):len(p)], field), f.Type.Elem(), m[field], reflect.Value{})
				}
			default:
				add(p, f.Type, v, defaults.Field(i))
			}
		}
	}
	walk(nil, raw, reflect.TypeOf(Config{}), reflect.ValueOf(Default()))
	// In the file's order.
	sort.SliceStable(found, func(i, j int) bool { return found[i].line < found[j].line })
	var out []string
	for _, p := range found {
		out = append(out, p.msg)
	}
	return out
}

// examples are the settings whose default is empty, as a line to copy.
var examples = map[string]string{
	"key_file":               `key_file = "out/referrals.key"`,
	"duckdb.threads":         `threads = 2`,
	"duckdb.temp_directory":  `temp_directory = "/var/tmp/referrals"`,
	"duckdb.smaller_file":    `smaller_file = true`,
	"referrers.channels":     `channels = ["Psychology Today", "Google"]`,
	"scheduling.files":       `files = ["sched/*.csv"]`,
	"billing.files":          `files = ["billing/*.csv"]`,
	"scheduling.columns":     "[scheduling.columns] on a line of its own, then client_id = \"Patient Account\"",
	"billing.columns":        "[billing.columns] on a line of its own, then client_id = \"Patient Account\"",
	"scheduling.delimiter":   `delimiter = ";"`,
	"billing.delimiter":      `delimiter = ";"`,
	"reference.roster":       `roster = "roster.csv"`,
	"reference.directory":    `directory = "directory.csv"`,
	"reference.aliases":      `aliases = "aliases.csv"`,
	"scheduling.date_format": `date_format = "%m/%d/%Y"`,
	"billing.date_format":    `date_format = "%m/%d/%Y"`,
}

// typeProblem says what is wrong with the value v of the setting at path,
// which takes a t, or "" when it fits. def is the setting's default.
func typeProblem(path []string, t reflect.Type, v any, def reflect.Value) string {
	key := strings.Join(path, ".")
	if len(path) >= 3 && strings.HasPrefix(path[1], "layout#") {
		// [[scheduling.layout]] block 2 files, not scheduling.layout#2.files.
		key = fmt.Sprintf("[[%s.layout]] block %s %s", path[0], strings.TrimPrefix(path[1], "layout#"), strings.Join(path[2:], "."))
	}
	last := path[len(path)-1]
	var want, like string
	fits := false
	switch t.Kind() {
	case reflect.Struct:
		return fmt.Sprintf("[%s] must be a table: a line [%s] of its own, with its settings on the lines below it; %s",
			key, key, found(v, false))
	case reflect.String:
		want = "text in quotes"
		_, fits = v.(string)
		switch {
		case !def.IsValid(): // a field of [….columns]
			want = "the export's header in quotes"
			like = fmt.Sprintf("%s = %q", last, fmt.Sprint(v))
		case examples[key] != "":
			like = examples[key]
		case def.String() != "":
			like = fmt.Sprintf("%s = %q", last, def.String())
		default:
			like = fmt.Sprintf("%s = %q", last, fmt.Sprint(v))
		}
	case reflect.Int:
		want = "a whole number"
		_, fits = v.(int64)
		switch n := v.(type) {
		case string:
			if i, err := strconv.Atoi(strings.TrimSpace(n)); err == nil {
				like = fmt.Sprintf("%s = %d", last, i)
			}
		case float64:
			if n == float64(int64(n)) {
				like = fmt.Sprintf("%s = %d", last, int64(n))
			}
		}
		if like == "" && def.Int() != 0 {
			like = fmt.Sprintf("%s = %d", last, def.Int())
		}
	case reflect.Float64:
		want = "a number"
		switch v.(type) {
		case int64, float64:
			fits = true
		}
		if s, ok := v.(string); ok {
			if _, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
				like = fmt.Sprintf("%s = %s", last, strings.TrimSpace(s))
			}
		}
		if like == "" && def.Float() != 0 {
			like = fmt.Sprintf("%s = %v", last, def.Float())
		}
	case reflect.Bool:
		want = "true or false, without quotes"
		_, fits = v.(bool)
		like = last + " = true"
		if s, ok := v.(string); ok {
			switch strings.ToLower(strings.TrimSpace(s)) {
			case "false", "no", "off", "0":
				like = last + " = false"
			}
		}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Struct {
			// [scheduling.layout] written with one pair of brackets.
			return fmt.Sprintf("%s must be written [[%s]], with two pairs of brackets: one such line for each set of files, with its settings on the lines below it; %s",
				key, key, found(v, false))
		}
		want = "a list of texts in quotes"
		switch last {
		case "files":
			want = "a list of file patterns"
		case "channels":
			want = "a list of names"
		}
		list, isList := v.([]any)
		fits = isList
		for i, e := range list {
			if _, ok := e.(string); !ok {
				return fmt.Sprintf("%s must be %s, each in quotes, like %s; its item %d is %s",
					key, want, listExample(last, list, def), i+1, strings.TrimPrefix(found(e, false), "it is "))
			}
		}
		like = listExample(last, []any{v}, def)
		if isList {
			like = ""
		}
	case reflect.Map:
		want, like = "a table of field = export header", examples[key]
	default:
		return ""
	}
	if fits {
		return ""
	}
	if like == "" {
		like = examples[key]
	}
	msg := key + " must be " + want
	if like != "" {
		msg += ", like " + like
	}
	return msg + "; " + found(v, t.Kind() == reflect.Slice)
}

// listExample writes a list setting with the texts of vals, those that are
// texts, else with its example or its default.
func listExample(last string, vals []any, def reflect.Value) string {
	var items []string
	for _, v := range vals {
		if s, ok := v.(string); ok {
			items = append(items, strconv.Quote(s))
		}
	}
	if len(items) == 0 {
		for i := 0; i < def.Len(); i++ {
			items = append(items, strconv.Quote(def.Index(i).String()))
		}
	}
	if len(items) == 0 {
		switch last {
		case "channels":
			items = []string{`"Psychology Today"`}
		default:
			items = []string{`"exports/*.csv"`}
		}
	}
	return fmt.Sprintf("%s = [%s]", last, strings.Join(items, ", "))
}

// found says, in plain words, what the value v is.
func found(v any, wantList bool) string {
	switch x := v.(type) {
	case string:
		if wantList {
			return "it is a single string: put it in square brackets"
		}
		if _, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
			return fmt.Sprintf("it is text in quotes (%q): write the number without the quotes", x)
		}
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true", "false":
			return fmt.Sprintf("it is text in quotes (%q): write true or false without the quotes", x)
		}
		return fmt.Sprintf("it is text in quotes (%q)", x)
	case int64:
		return fmt.Sprintf("it is a whole number (%d)", x)
	case float64:
		return fmt.Sprintf("it is a number with a decimal point (%v)", x)
	case bool:
		return fmt.Sprintf("it is %v, a true-or-false value", x)
	case []any:
		return "it is a list"
	case []map[string]any:
		return "it is a list of tables"
	case map[string]any:
		return "it is a table"
	default:
		return "it is a date or a time"
	}
}

// keyLine is the line of src that sets the key at path, or 0. It reads table
// headers ([a.b]) and "key = value" lines, which is how a configuration is
// written; a key set inside an inline table is found by its table's line.
func keyLine(src string, path []string) int {
	want := strings.Join(path, ".")
	var table []string
	best, bestLen := 0, 0
	for i, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(line)
		var full []string
		switch {
		case strings.HasPrefix(line, "["):
			name := strings.Trim(strings.TrimSpace(strings.SplitN(line, "]", 2)[0]), "[ ")
			table = splitKey(name)
			full = table
		case strings.Contains(line, "=") && !strings.HasPrefix(line, "#"):
			k, _, _ := strings.Cut(line, "=")
			full = append(append([]string{}, table...), splitKey(k)...)
		default:
			continue
		}
		joined := strings.Join(full, ".")
		if joined == want {
			return i + 1
		}
		// Where the key itself is not on a line of its own (an inline table),
		// the line of the longest part of its path.
		if strings.HasPrefix(want, joined+".") && len(full) > bestLen {
			best, bestLen = i+1, len(full)
		}
	}
	return best
}

// lineOf is keyLine, and for a path into a layout block
// ("scheduling", "layout#2", "date_format") the line in that block.
func lineOf(src string, path []string) int {
	if len(path) >= 2 && strings.HasPrefix(path[1], "layout#") {
		n, _ := strconv.Atoi(strings.TrimPrefix(path[1], "layout#"))
		return layoutLine(src, path[0], n, path[2:])
	}
	return keyLine(src, path)
}

// splitKey splits a dotted TOML key, its parts unquoted.
func splitKey(k string) []string {
	var out []string
	for _, p := range strings.Split(k, ".") {
		p = strings.TrimSpace(p)
		if u, err := strconv.Unquote(p); err == nil {
			p = u
		} else {
			p = strings.Trim(p, `'`)
		}
		out = append(out, p)
	}
	return out
}
