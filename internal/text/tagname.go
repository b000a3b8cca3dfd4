package text

import (
	"strings"
	"unicode/utf8"
)

// TagName is s as a hashtag's stored name (lower case, without its '#')
// when the whole of s, after one leading '#', is a hashtag as a status's
// text would find it; ok is false otherwise.
func TagName(s string) (name string, ok bool) {
	s = strings.TrimPrefix(s, "#")
	if s == "" || !utf8.ValidString(s) {
		return "", false
	}
	t, end := scanTag("#"+s, 0)
	if end != len(s)+1 {
		return "", false
	}
	return strings.ToLower(t.tag), true
}
