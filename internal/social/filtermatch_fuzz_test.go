package social

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rampart-social/rampart/internal/store"
)

// FuzzFilterMatch: on any status text and keyword (a stranger's post and a
// user's filter), matching never panics, and on ASCII it finds a keyword
// exactly where a plain search of the lower-cased text does, whole word or
// not.
func FuzzFilterMatch(f *testing.F) {
	f.Add("I love my Cat", "cat", true)
	f.Add("concatenate", "cat", false)
	f.Add("#Go, go!", "go", true)
	f.Add("\xff\xfe", "\xff", false)
	f.Fuzz(func(t *testing.T, text, keyword string, whole bool) {
		k := kw(keyword, whole)
		fs := compileFilters(1, []store.Filter{{ID: 1, Keywords: []store.FilterKeyword{k}}})
		got := keywordsMatched(fs, Filterable{AccountID: 2, Local: true, Text: text})
		if !isASCII(text) || !isASCII(keyword) {
			return
		}
		want := naiveMatch(strings.ToLower(text), kw(strings.ToLower(keyword), whole))
		if (len(got[1]) > 0) != want {
			t.Fatalf("%q with keyword %q (whole word %v): matched %v, a plain search says %v", text, keyword, whole, got, want)
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
