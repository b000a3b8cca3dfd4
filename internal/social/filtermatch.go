package social

import (
	"html"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rampart-social/rampart/internal/store"
)

// FilterSet is a viewer's active filters, compiled once for a request (or
// a streamed status): all their keywords in one Aho-Corasick automaton, so
// that matching a status costs one pass over its text whatever the number
// of keywords (at most maxFilters × maxFilterKeywords), plus the matches.
type FilterSet struct {
	viewer   int64
	filters  []store.Filter
	ac       automaton
	byStatus map[int64][]int // status id → indexes in filters
}

// FilterMatch is one filter that matched a status: Mastodon's FilterResult.
type FilterMatch struct {
	Filter    *store.Filter
	Keywords  []string // the keywords that matched, as written; nil: none
	StatusIDs []int64  // the filter's statuses that matched; nil: none
}

// Filterable is what a status is matched on: the status (for a reblog,
// the reblogged one: its text, author and id) and, for a reblog, the
// reblog's own id, which a status filter may name too.
type Filterable struct {
	ID, ReblogID      int64
	AccountID         int64
	Local             bool
	Text, Content     string // Text: a local status's source; Content: the HTML
	SpoilerText       string
	MediaDescriptions []string
	PollOptions       []string
}

// compileFilters builds the set for viewer's filters (active ones only:
// store.ActiveFilters).
func compileFilters(viewer int64, filters []store.Filter) *FilterSet {
	fs := &FilterSet{viewer: viewer, filters: filters, byStatus: map[int64][]int{}}
	type key struct {
		folded           string
		wholeStart, wEnd bool
	}
	seen := map[key]int{}
	for i := range filters {
		for _, k := range filters[i].Keywords {
			p := newPattern(k.Keyword, k.WholeWord)
			if strings.TrimSpace(p.text) == "" {
				continue // matches nothing, as the API refuses it
			}
			kk := key{p.text, p.wholeStart, p.wholeEnd}
			if j, ok := seen[kk]; ok {
				fs.ac.patterns[j].refs = append(fs.ac.patterns[j].refs, patternRef{filter: i, keyword: k.Keyword})
				continue
			}
			p.refs = []patternRef{{filter: i, keyword: k.Keyword}}
			seen[kk] = len(fs.ac.patterns)
			fs.ac.patterns = append(fs.ac.patterns, p)
		}
		for _, st := range filters[i].Statuses {
			fs.byStatus[st.StatusID] = append(fs.byStatus[st.StatusID], i)
		}
	}
	fs.ac.build()
	return fs
}

// Empty reports whether the set can match nothing.
func (fs *FilterSet) Empty() bool { return fs == nil || len(fs.filters) == 0 }

// Match lists the filters st matches, in the filters' order. The viewer's
// own statuses match none: one's own posts are never hidden from oneself
// (as Mastodon's home feed and web app treat them).
func (fs *FilterSet) Match(st Filterable) []FilterMatch {
	if fs.Empty() || st.AccountID == fs.viewer {
		return nil
	}
	var found map[int]*FilterMatch
	add := func(i int) *FilterMatch {
		if found == nil {
			found = map[int]*FilterMatch{}
		}
		m := found[i]
		if m == nil {
			m = &FilterMatch{Filter: &fs.filters[i]}
			found[i] = m
		}
		return m
	}
	for _, id := range []int64{st.ID, st.ReblogID} {
		if id == 0 {
			continue
		}
		for _, i := range fs.byStatus[id] {
			m := add(i)
			m.StatusIDs = append(m.StatusIDs, id)
		}
	}
	if len(fs.ac.patterns) > 0 {
		fs.ac.scan(searchableText(st), func(p *pattern) {
			for _, r := range p.refs {
				m := add(r.filter)
				if !slices.Contains(m.Keywords, r.keyword) {
					m.Keywords = append(m.Keywords, r.keyword)
				}
			}
		})
	}
	if len(found) == 0 {
		return nil
	}
	out := make([]FilterMatch, 0, len(found))
	for i := range fs.filters {
		if m := found[i]; m != nil {
			out = append(out, *m)
		}
	}
	return out
}

// Hides reports whether matches hide their status in context c: a hiding
// filter among them applies there.
func Hides(matches []FilterMatch, c FilterContext) bool {
	for _, m := range matches {
		if m.Filter.Hide && m.Filter.Contexts&int(c) != 0 {
			return true
		}
	}
	return false
}

// searchableText is what keywords are matched against, as Mastodon's
// Status#searchable_text: the content warning, the plain text, the poll's
// options and the media descriptions, folded (foldString).
func searchableText(st Filterable) string {
	plain := st.Text
	if !st.Local || plain == "" {
		plain = plainText(st.Content)
	}
	parts := []string{st.SpoilerText, plain}
	if len(st.PollOptions) > 0 {
		parts = append(parts, strings.Join(st.PollOptions, "\n\n"))
	}
	if len(st.MediaDescriptions) > 0 {
		parts = append(parts, strings.Join(st.MediaDescriptions, "\n\n"))
	}
	return foldString(strings.Join(parts, "\n\n"))
}

// plainText is the text of sanitized status HTML: tags dropped (a line
// break and a paragraph's end become newlines), entities decoded.
func plainText(h string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(h, '<')
		if i < 0 {
			b.WriteString(h)
			break
		}
		b.WriteString(h[:i])
		j := strings.IndexByte(h[i:], '>')
		if j < 0 {
			break
		}
		tag := strings.ToLower(h[i+1 : i+j])
		switch {
		case strings.HasPrefix(tag, "br"):
			b.WriteByte('\n')
		case strings.HasPrefix(tag, "/p"):
			b.WriteString("\n\n")
		}
		h = h[i+j+1:]
	}
	return html.UnescapeString(b.String())
}

// foldRune maps every rune of a simple case-folding orbit to one of them
// (ASCII letters to lower case), so that matching folded text is matching
// case-insensitively, as Mastodon's /i does.
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}
	m := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		m = min(m, f)
	}
	if 'A' <= m && m <= 'Z' {
		m += 'a' - 'A'
	}
	return m
}

func foldString(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		b.WriteRune(foldRune(r))
	}
	return b.String()
}

// isWordRune is [[:word:]]: a letter, mark, decimal digit or connector.
func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsMark(r) || unicode.Is(unicode.Nd, r) || unicode.Is(unicode.Pc, r)
}

// pattern is one folded keyword; whole words need a boundary at an end
// that is a word character (Mastodon's \b, added only there).
type pattern struct {
	text                 string
	wholeStart, wholeEnd bool
	refs                 []patternRef // the filters whose keyword it is
}

type patternRef struct {
	filter  int
	keyword string
}

func newPattern(keyword string, wholeWord bool) pattern {
	p := pattern{text: foldString(keyword)}
	if wholeWord && p.text != "" {
		first, _ := utf8.DecodeRuneInString(p.text)
		last, _ := utf8.DecodeLastRuneInString(p.text)
		p.wholeStart, p.wholeEnd = isWordRune(first), isWordRune(last)
	}
	return p
}

// automaton is Aho-Corasick over the patterns' bytes.
type automaton struct {
	patterns []pattern
	root     [256]int32 // the root's edges (-1: none), the busiest node
	nodes    []acNode
}

type acNode struct {
	edges []acEdge
	fail  int32
	dict  int32   // the nearest node down the fail links with output; -1: none
	out   []int32 // patterns ending here
}

type acEdge struct {
	b  byte
	to int32
}

func (a *automaton) next(n int32, b byte) int32 {
	if n == 0 {
		return a.root[b]
	}
	for _, e := range a.nodes[n].edges {
		if e.b == b {
			return e.to
		}
	}
	return -1
}

func (a *automaton) build() {
	for i := range a.root {
		a.root[i] = -1
	}
	a.nodes = []acNode{{dict: -1}}
	for pi, p := range a.patterns {
		n := int32(0)
		for i := 0; i < len(p.text); i++ {
			nx := a.next(n, p.text[i])
			if nx < 0 {
				nx = int32(len(a.nodes))
				a.nodes = append(a.nodes, acNode{dict: -1})
				if n == 0 {
					a.root[p.text[i]] = nx
				} else {
					a.nodes[n].edges = append(a.nodes[n].edges, acEdge{p.text[i], nx})
				}
			}
			n = nx
		}
		a.nodes[n].out = append(a.nodes[n].out, int32(pi))
	}
	// Fail links, breadth first: a node's fail is the longest proper
	// suffix of its path that is a path too.
	var queue []int32
	for _, c := range a.root {
		if c > 0 {
			queue = append(queue, c)
		}
	}
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		for _, e := range a.nodes[u].edges {
			f := a.nodes[u].fail
			for f != 0 && a.next(f, e.b) < 0 {
				f = a.nodes[f].fail
			}
			v := a.next(f, e.b)
			if v < 0 || v == e.to {
				v = 0
			}
			a.nodes[e.to].fail = v
			if len(a.nodes[v].out) > 0 {
				a.nodes[e.to].dict = v
			} else {
				a.nodes[e.to].dict = a.nodes[v].dict
			}
			queue = append(queue, e.to)
		}
	}
}

// scan calls found for each pattern that occurs in text (folded) with its
// word boundaries, once per pattern.
func (a *automaton) scan(text string, found func(*pattern)) {
	var done map[int32]bool
	n := int32(0)
	for i := 0; i < len(text); i++ {
		b := text[i]
		for n != 0 && a.next(n, b) < 0 {
			n = a.nodes[n].fail
		}
		if nx := a.next(n, b); nx >= 0 {
			n = nx
		}
		for o := n; o > 0; o = a.nodes[o].dict {
			for _, pi := range a.nodes[o].out {
				if done[pi] {
					continue
				}
				p := &a.patterns[pi]
				if !boundaries(text, i+1-len(p.text), i+1, p) {
					continue
				}
				if done == nil {
					done = map[int32]bool{}
				}
				done[pi] = true
				found(p)
			}
		}
	}
}

// boundaries checks a whole-word pattern's ends at text[start:end].
func boundaries(text string, start, end int, p *pattern) bool {
	if p.wholeStart && start > 0 {
		if r, _ := utf8.DecodeLastRuneInString(text[:start]); isWordRune(r) {
			return false
		}
	}
	if p.wholeEnd && end < len(text) {
		if r, _ := utf8.DecodeRuneInString(text[end:]); isWordRune(r) {
			return false
		}
	}
	return true
}
