package social

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/store"
)

func kw(k string, whole bool) store.FilterKeyword {
	return store.FilterKeyword{Keyword: k, WholeWord: whole}
}

func keywordsMatched(fs *FilterSet, st Filterable) map[int64][]string {
	out := map[int64][]string{}
	for _, m := range fs.Match(st) {
		out[m.Filter.ID] = m.Keywords
	}
	return out
}

// Keywords match as Mastodon's do: case-insensitively, a whole word only
// at word boundaries (and only at an end that is a word character), a
// substring anywhere otherwise.
func TestFilterKeywordMatching(t *testing.T) {
	fs := compileFilters(1, []store.Filter{
		{ID: 10, Contexts: int(FilterHome), Keywords: []store.FilterKeyword{kw("cat", true)}},
		{ID: 11, Contexts: int(FilterHome), Keywords: []store.FilterKeyword{kw("cat", false)}},
		{ID: 12, Contexts: int(FilterHome), Keywords: []store.FilterKeyword{kw("#spoiler", true), kw("Straße", true)}},
		{ID: 13, Contexts: int(FilterHome), Keywords: []store.FilterKeyword{kw("new york", true)}},
		{ID: 14, Contexts: int(FilterHome), Keywords: []store.FilterKeyword{kw("ΣΟΦΙΑ", false)}},
	})
	for _, tc := range []struct {
		text string
		want map[int64][]string
	}{
		{"I love my CAT!", map[int64][]string{10: {"cat"}, 11: {"cat"}}},
		{"concatenate things", map[int64][]string{11: {"cat"}}},
		{"cats are great", map[int64][]string{11: {"cat"}}},
		{"dogs only", map[int64][]string{}},
		{"big #SPOILER ahead", map[int64][]string{12: {"#spoiler"}}},
		{"a#spoilers", map[int64][]string{}},                // a word character right after
		{"x#spoiler", map[int64][]string{12: {"#spoiler"}}}, // "#" is no word character: no boundary needed before it
		{"STRASSE", map[int64][]string{}},                   // simple folding only, as a regex's /i
		{"in der straße", map[int64][]string{12: {"Straße"}}},
		{"straßenbahn", map[int64][]string{}},
		{"flying to New  York", map[int64][]string{}},
		{"flying to New York.", map[int64][]string{13: {"new york"}}},
		{"σοφια", map[int64][]string{14: {"ΣΟΦΙΑ"}}},
		{"KELVIN: 5 \u212a", map[int64][]string{}},
	} {
		got := keywordsMatched(fs, Filterable{ID: 99, AccountID: 2, Local: true, Text: tc.text})
		if len(got) != len(tc.want) || len(tc.want) > 0 && !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q matched %v, want %v", tc.text, got, tc.want)
		}
	}
}

// What a keyword is matched against: the content warning, the text (a
// remote status's HTML as plain text), and the media descriptions.
func TestFilterSearchableText(t *testing.T) {
	fs := compileFilters(1, []store.Filter{{ID: 1, Keywords: []store.FilterKeyword{kw("secret", true), kw("a&b", false)}}})
	for _, st := range []Filterable{
		{SpoilerText: "Secret plans", Local: true, Text: "nothing"},
		{Local: true, Text: "a SECRET"},
		{Content: `<p>the <a href="https://x.example/secret">link</a> and</p><p>secret<br>more</p>`},
		{Content: `<p>a&amp;b</p>`},
		{Local: true, Text: "look", MediaDescriptions: []string{"a cat", "the secret door"}},
		{Local: true, Text: "vote", PollOptions: []string{"secret", "open"}},
	} {
		st.AccountID = 2
		if len(fs.Match(st)) != 1 {
			t.Errorf("%+v matched nothing", st)
		}
	}
	// A link's address is markup, not text.
	if m := fs.Match(Filterable{AccountID: 2, Content: `<p><a href="https://x.example/secret">link</a></p>`}); len(m) != 0 {
		t.Errorf("an address in markup matched: %+v", m)
	}
}

// Status filters match a status by id, a reblog by its own id or the
// reblogged status's; the viewer's own statuses match nothing.
func TestFilterStatusesAndOwnStatuses(t *testing.T) {
	fs := compileFilters(1, []store.Filter{
		{ID: 1, Hide: true, Contexts: int(FilterHome | FilterThread), Statuses: []store.FilterStatus{{StatusID: 500}}},
		{ID: 2, Contexts: int(FilterPublic), Keywords: []store.FilterKeyword{kw("hello", true)}},
	})
	m := fs.Match(Filterable{ID: 500, ReblogID: 600, AccountID: 2, Local: true, Text: "hello"})
	if len(m) != 2 || !reflect.DeepEqual(m[0].StatusIDs, []int64{500}) || m[0].Keywords != nil || !reflect.DeepEqual(m[1].Keywords, []string{"hello"}) || m[1].StatusIDs != nil {
		t.Fatalf("matches %+v", m)
	}
	if !Hides(m, FilterHome) || !Hides(m, FilterThread) || Hides(m, FilterPublic) || Hides(m, FilterNotifications) {
		t.Errorf("a hiding filter in home and thread hides elsewhere, or not there")
	}
	if m := fs.Match(Filterable{ID: 700, ReblogID: 500, AccountID: 2}); len(m) != 1 {
		t.Errorf("a reblog by a filtered id: %+v", m)
	}
	if m := fs.Match(Filterable{ID: 500, AccountID: 1, Local: true, Text: "hello"}); m != nil {
		t.Errorf("the viewer's own status matched: %+v", m)
	}
	var none *FilterSet
	if !none.Empty() || none.Match(Filterable{ID: 500}) != nil {
		t.Error("a nil set matched")
	}
}

// The automaton finds exactly what searching for each keyword on its own
// finds, over random texts and keywords from a small alphabet (where
// keywords overlap, nest and share suffixes).
func TestFilterAutomatonAgreesWithNaiveSearch(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	word := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteByte("ab ."[r.IntN(4)])
		}
		return b.String()
	}
	for round := range 2000 {
		var filters []store.Filter
		for i := range 1 + r.IntN(5) {
			f := store.Filter{ID: int64(i + 1)}
			for range 1 + r.IntN(4) {
				f.Keywords = append(f.Keywords, kw(word(1+r.IntN(4)), r.IntN(2) == 0))
			}
			filters = append(filters, f)
		}
		fs := compileFilters(1, filters)
		text := word(r.IntN(40))
		got := keywordsMatched(fs, Filterable{AccountID: 2, Local: true, Text: text})
		want := map[int64][]string{}
		for _, f := range filters {
			for _, k := range f.Keywords {
				if naiveMatch(text, k) && !contains(want[f.ID], k.Keyword) {
					want[f.ID] = append(want[f.ID], k.Keyword)
				}
			}
		}
		for id := range want {
			if !sameSet(got[id], want[id]) {
				t.Fatalf("round %d: %q with %+v: filter %d matched %q, want %q", round, text, filters, id, got[id], want[id])
			}
		}
		if len(got) != len(want) {
			t.Fatalf("round %d: %q with %+v: matched %v, want %v", round, text, filters, got, want)
		}
	}
}

func naiveMatch(text string, k store.FilterKeyword) bool {
	if strings.TrimSpace(k.Keyword) == "" {
		return false
	}
	p := newPattern(k.Keyword, k.WholeWord)
	for i := 0; i+len(p.text) <= len(text); i++ {
		if text[i:i+len(p.text)] == p.text && boundaries(text, i, i+len(p.text), &p) {
			return true
		}
	}
	return false
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !contains(b, x) {
			return false
		}
	}
	return true
}

// The largest set an account may hold compiles and matches a long status
// quickly: one pass over the text, not one per keyword.
func TestFilterSetAtItsBounds(t *testing.T) {
	var filters []store.Filter
	for i := range maxFilters {
		f := store.Filter{ID: int64(i + 1)}
		for j := range maxFilterKeywords {
			f.Keywords = append(f.Keywords, kw(fmt.Sprintf("%s-%d-%d", strings.Repeat("x", 50), i, j), j%2 == 0))
		}
		filters = append(filters, f)
	}
	start := time.Now()
	fs := compileFilters(1, filters)
	text := strings.Repeat("x", 100_000) + "-5-7"
	for range 40 {
		if m := fs.Match(Filterable{AccountID: 2, Local: true, Text: text}); len(m) != 1 || m[0].Filter.ID != 6 {
			t.Fatalf("matched %+v, want filter 6's keyword 7 alone", m)
		}
	}
	t.Logf("compiled %d keywords and matched 40 statuses of 100 kB in %v", maxFilters*maxFilterKeywords, time.Since(start))
}
