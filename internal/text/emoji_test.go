package text

import (
	"reflect"
	"strings"
	"testing"
)

func TestShortcodes(t *testing.T) {
	for in, want := range map[string][]string{
		":blob:":                                {"blob"},
		"hi :blob: and :cat_2:!":                {"blob", "cat_2"},
		":blob::cat:":                           nil, // Mastodon's rule: colons may not touch
		"a:blob: b":                             nil,
		":blob:b":                               nil,
		"é:blob:":                               nil,
		"(:blob:) :blob:":                       {"blob"},
		":a: :" + strings.Repeat("x", 65) + ":": nil,
		"\n:Blob_Cat:\n":                        {"Blob_Cat"},
		"12:30:45":                              nil,
		"<p>:blob:</p>":                         {"blob"},
	} {
		if got := Shortcodes(in); !reflect.DeepEqual(got, want) {
			t.Errorf("Shortcodes(%q) = %q, want %q", in, got, want)
		}
	}
	if got := Shortcodes(":one:", ":two: :one:"); !reflect.DeepEqual(got, []string{"one", "two"}) {
		t.Errorf("two texts: %q", got)
	}
	var many strings.Builder
	for i := range 100 {
		many.WriteString(" :e" + strings.Repeat("x", i+1) + ":")
	}
	if got := Shortcodes(many.String()); len(got) != 32 {
		t.Errorf("%d shortcodes, want the bound of 32", len(got))
	}
	for s, want := range map[string]bool{"ab": true, "a": false, "Blob_9": true, "no-dash": false, strings.Repeat("x", 64): true,
		strings.Repeat("x", 65): false, "ünï": false} {
		if IsShortcode(s) != want {
			t.Errorf("IsShortcode(%q) = %v", s, !want)
		}
	}
}

func TestIsEmoji(t *testing.T) {
	for s, want := range map[string]bool{
		"👍": true, "👍🏽": true, "❤️": true, "🏳️‍🌈": true, "👨‍👩‍👧‍👦": true, "🇫🇷": true, "🏴󠁧󠁢󠁥󠁮󠁧󠁿": true, "1️⃣": true, "#️⃣": true,
		"©": true, "": false, "a": false, "blob": false, "👍 ": false, "<b>👍</b>": false, "1": false, "1👍": false,
		"\u200D": false, "\uFE0F": false, strings.Repeat("👍", 20): false, "é": false, ":blob:": false,
	} {
		if got := IsEmoji(s); got != want {
			t.Errorf("IsEmoji(%q) = %v, want %v", s, got, want)
		}
	}
}
