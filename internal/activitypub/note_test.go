package activitypub

import (
	"slices"
	"strings"
	"testing"
)

func TestAddressingFollowsMastodon(t *testing.T) {
	const followers = "https://a.example/users/al/followers"
	m := []string{"https://b.example/users/bob"}
	for _, c := range []struct {
		visibility string
		to, cc     []string
	}{
		{"public", []string{Public}, []string{followers, m[0]}},
		{"unlisted", []string{followers}, []string{Public, m[0]}},
		{"private", []string{followers}, []string{m[0]}},
		{"direct", []string{m[0]}, []string{}},
	} {
		to, cc := Addressing(c.visibility, followers, m)
		if !slices.Equal(to, c.to) || !slices.Equal(cc, c.cc) {
			t.Errorf("%s: to %v cc %v; want %v %v", c.visibility, to, cc, c.to, c.cc)
		}
	}
}

// FuzzAddressing: whatever the visibility and the mentioned, a status is
// never addressed beyond its audience: the public only when public or
// unlisted, the followers never when direct, and every mentioned actor
// always.
func FuzzAddressing(f *testing.F) {
	f.Add("public", "https://a.example/f", "https://b.example/u\nhttps://c.example/u")
	f.Add("direct", "https://a.example/f", "")
	f.Add("private", "", Public)
	f.Fuzz(func(t *testing.T, visibility, followers, mentionedText string) {
		var mentioned []string
		if mentionedText != "" {
			mentioned = strings.Split(mentionedText, "\n")
		}
		to, cc := Addressing(visibility, followers, mentioned)
		all := append(append([]string{}, to...), cc...)
		hasPublic := false
		for _, a := range all {
			if a == Public && !slices.Contains(mentioned, Public) {
				hasPublic = true
			}
		}
		if hasPublic && visibility != "public" && visibility != "unlisted" {
			t.Fatalf("%s status addressed to the public: %v", visibility, all)
		}
		if visibility == "direct" && followers != "" && slices.Contains(all, followers) && !slices.Contains(mentioned, followers) {
			t.Fatalf("direct status addressed to the followers: %v", all)
		}
		if visibility == "public" || visibility == "unlisted" || visibility == "private" || visibility == "direct" {
			for _, m := range mentioned {
				if !slices.Contains(all, m) {
					t.Fatalf("%s: %q mentioned, not addressed: %v", visibility, m, all)
				}
			}
		}
	})
}
