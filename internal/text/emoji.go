package text

import (
	"unicode"
	"unicode/utf8"
)

// Shortcode bounds: a custom emoji's name is 2 to 64 of [a-zA-Z0-9_].
const (
	minShortcode = 2
	maxShortcode = 64
	// maxShortcodesPerText bounds what one text asks to look up.
	maxShortcodesPerText = 32
)

// IsShortcode reports whether s may name a custom emoji: 2 to 64 ASCII
// letters, digits and underscores.
func IsShortcode(s string) bool {
	if len(s) < minShortcode || len(s) > maxShortcode {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !shortcodeByte(s[i]) {
			return false
		}
	}
	return true
}

func shortcodeByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// Shortcodes finds the :shortcode: uses in texts, as Mastodon does: the
// colons neither preceded nor followed by a letter, digit or colon. Unique,
// in order of appearance, at most 32 in all.
func Shortcodes(texts ...string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range texts {
		for i := 0; i < len(s); i++ {
			if s[i] != ':' || !shortcodeBoundaryBefore(s, i) {
				continue
			}
			j := i + 1
			for j < len(s) && shortcodeByte(s[j]) {
				j++
			}
			if j == len(s) || s[j] != ':' || !IsShortcode(s[i+1:j]) || !shortcodeBoundaryAfter(s, j+1) {
				continue
			}
			code := s[i+1 : j]
			if !seen[code] {
				if len(out) == maxShortcodesPerText {
					return out
				}
				seen[code] = true
				out = append(out, code)
			}
			i = j // the closing colon cannot open the next one: it follows a letter
		}
	}
	return out
}

func shortcodeBoundaryBefore(s string, i int) bool {
	if i == 0 {
		return true
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return !boundaryBlocks(r)
}

func shortcodeBoundaryAfter(s string, i int) bool {
	if i >= len(s) {
		return true
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return !boundaryBlocks(r)
}

func boundaryBlocks(r rune) bool { return r == ':' || unicode.IsLetter(r) || unicode.IsDigit(r) }
