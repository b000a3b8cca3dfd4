package streaming

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzClientMessage: whatever a client sends, parseClientMessage answers
// with a known stream or an error Mastodon's clients understand, never a
// stream it did not name, a hashtag stream's tag is short, lower case and
// without '#' or spaces, and a list stream names a list.
func FuzzClientMessage(f *testing.F) {
	for _, seed := range []string{
		`{"type":"subscribe","stream":"user"}`,
		`{"type":"unsubscribe","stream":"public:local"}`,
		`{"type":"subscribe","stream":"hashtag","tag":"#Rampart"}`,
		`{"type":"subscribe","stream":"hashtag:local","tag":" "}`,
		`{"type":"subscribe","stream":"list","list":"1"}`,
		`{"type":"ping"}`, `[]`, `{"type":"subscribe","stream":"public:remote:media"}`, "\xff",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, s, err := parseClientMessage(b)
		if err != nil {
			if err != errBadMessage && err != errUnknownStream && err != errNoTag && err != errNoList {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		name := s.name()
		if len(name) == 0 || kindNames[name[0]] != s.kind {
			t.Fatalf("stream %+v has no name", s)
		}
		if !strings.Contains(string(b), name[0][:4]) && !strings.Contains(string(b), `\u`) {
			t.Fatalf("%q parsed as the stream %q it does not name", b, name[0])
		}
		if (s.kind == list) != (s.listID > 0) {
			t.Fatalf("stream %+v: a list where none belongs, or none where one does", s)
		}
		hashtagged := s.kind == hashtag || s.kind == hashtagLocal
		if hashtagged != (s.tag != "") {
			t.Fatalf("stream %+v: a tag where none belongs, or none where one does", s)
		}
		if hashtagged && (!utf8.ValidString(s.tag) || utf8.RuneCountInString(s.tag) > maxTagLength || strings.ContainsAny(s.tag, "# \t\r\n") || strings.ToLower(s.tag) != s.tag) {
			t.Fatalf("bad tag %q", s.tag)
		}
	})
}
