package text

import (
	"strings"
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

// maxEmojiBytes bounds one Unicode emoji: the longest sequences (families
// joined by ZWJ, subdivision flags) take about 35 bytes.
const maxEmojiBytes = 64

// IsEmoji reports whether s is one Unicode emoji as reactions use them: a
// pictograph, a flag of regional indicators or tags, or a keycap, with the
// joiners, variation selectors and skin-tone modifiers sequences use. It is
// a check of the characters' ranges, not of Unicode's list of sequences:
// text, markup and spaces never pass.
func IsEmoji(s string) bool {
	if s == "" || len(s) > maxEmojiBytes || !utf8.ValidString(s) {
		return false
	}
	base := false
	for i, r := range s {
		switch {
		case pictograph(r):
			base = true
		case r >= 0x1F1E6 && r <= 0x1F1FF: // regional indicators (flags)
			base = true
		case r == 0x200D, r == 0xFE0E, r == 0xFE0F, r >= 0xE0020 && r <= 0xE007F: // ZWJ, variation selectors, tags
		case r == 0x20E3: // a keycap: its base was checked first
			base = true
		case r >= '0' && r <= '9' || r == '#' || r == '*':
			if i != 0 || !strings.HasSuffix(s, "\u20E3") {
				return false
			}
		default:
			return false
		}
	}
	return base
}

// pictograph is the ranges of characters emoji are drawn from.
func pictograph(r rune) bool {
	switch {
	case r >= 0x1F000 && r <= 0x1FAFF: // mahjong to symbols and pictographs extended-A (skin tones included)
		return true
	case r >= 0x2600 && r <= 0x27BF: // miscellaneous symbols, dingbats
		return true
	case r >= 0x2300 && r <= 0x23FF, r >= 0x2B00 && r <= 0x2BFF, r >= 0x2190 && r <= 0x21FF, r >= 0x2900 && r <= 0x297F:
		return true
	case r >= 0x25A0 && r <= 0x25FF: // geometric shapes
		return true
	}
	switch r {
	case 0x00A9, 0x00AE, 0x203C, 0x2049, 0x2122, 0x2139, 0x24C2, 0x3030, 0x303D, 0x3297, 0x3299:
		return true
	}
	return false
}
