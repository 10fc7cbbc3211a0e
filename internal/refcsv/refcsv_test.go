package refcsv_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/referrals/referrals/internal/config"
	"github.com/referrals/referrals/internal/refcsv"
)

// The loader matches a header to a column by its csv and aka tags, folded as the
// exports' headers are: no folded name may stand for two columns of one file, or a
// header would be read as whichever came first.
func TestEveryHeaderNamesOneColumn(t *testing.T) {
	for _, row := range []any{refcsv.Roster{}, refcsv.Directory{}, refcsv.Alias{}} {
		typ := reflect.TypeOf(row)
		owner := map[string]string{}
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			col := f.Tag.Get("csv")
			names := []string{col}
			if aka := f.Tag.Get("aka"); aka != "" {
				names = append(names, strings.Split(aka, ",")...)
			}
			for _, n := range names {
				k := config.NormaliseHeader(n)
				if k == "" {
					t.Errorf("%s.%s: an empty name in %q", typ.Name(), f.Name, f.Tag.Get("aka"))
					continue
				}
				if o, ok := owner[k]; ok && o != col {
					t.Errorf("%s: %q names both %s and %s", typ.Name(), n, o, col)
				}
				owner[k] = col
			}
		}
	}
}
