package text

import "testing"

func TestTagName(t *testing.T) {
	for in, want := range map[string]string{"Rampart": "rampart", "#Go_lang": "go_lang", "café": "café", "a1": "a1"} {
		if got, ok := TagName(in); !ok || got != want {
			t.Errorf("TagName(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "#", "123", "two words", "a-b", "##x", "x#", "\xff", string(make([]byte, 101))} {
		if got, ok := TagName(in); ok {
			t.Errorf("TagName(%q) = %q: want refused", in, got)
		}
	}
}
