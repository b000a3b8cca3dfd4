package oauth

import (
	"reflect"
	"testing"
)

func TestParseScopes(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
		bad  []string
	}{
		{"", []string{"read"}, nil}, // Mastodon's default
		{"   ", []string{"read"}, nil},
		{"read", []string{"read"}, nil},
		{"write read", []string{"read", "write"}, nil},
		{"read+write,follow\tpush\nprofile", []string{"follow", "profile", "push", "read", "write"}, nil},
		{"read read read:accounts", []string{"read", "read:accounts"}, nil},
		{"admin:read admin:write:reports", []string{"admin:read", "admin:write:reports"}, nil},
		{"read bogus write:statuses admin", []string{"read", "write:statuses"}, []string{"bogus", "admin"}},
		// Only unknown scopes: no silent fallback to read.
		{"nope", []string{}, []string{"nope"}},
		{"READ", []string{}, []string{"READ"}},
	} {
		got, bad := ParseScopes(c.in)
		if !reflect.DeepEqual(got.List(), c.want) || !reflect.DeepEqual(bad, c.bad) {
			t.Errorf("ParseScopes(%q) = %v, %v; want %v, %v", c.in, got.List(), bad, c.want, c.bad)
		}
	}
}

func TestKnown(t *testing.T) {
	known := []string{"read", "write", "follow", "push", "profile", "admin:read", "admin:write",
		"read:accounts", "read:statuses", "read:search", "write:media", "write:reports", "write:conversations",
		"admin:read:accounts", "admin:write:canonical_email_blocks"}
	unknown := []string{"", "admin", "crypto", "read:", ":accounts", "read:media", "write:search",
		"read:accounts:extra", "admin:accounts", "admin:read:", "admin:read:statuses", "Read", "read ", "follow:follows",
		"profile:accounts"}
	for _, s := range known {
		if !Known(s) {
			t.Errorf("Known(%q) = false", s)
		}
	}
	for _, s := range unknown {
		if Known(s) {
			t.Errorf("Known(%q) = true", s)
		}
	}
	for _, s := range AllScopes() {
		if !Known(s) {
			t.Errorf("AllScopes lists %q, which Known refuses", s)
		}
	}
}

func TestAllows(t *testing.T) {
	set := func(s string) Scopes {
		sc, bad := ParseScopes(s)
		if len(bad) > 0 {
			t.Fatalf("bad scopes in %q: %v", s, bad)
		}
		return sc
	}
	for _, c := range []struct {
		granted string
		allowed []string
		refused []string
	}{
		{"read", []string{"read", "read:accounts", "read:statuses"}, []string{"write", "write:statuses", "profile", "admin:read", "admin:read:accounts"}},
		{"write", []string{"write:media", "write:accounts"}, []string{"read", "read:accounts"}},
		{"read:accounts", []string{"read:accounts"}, []string{"read", "read:statuses"}},
		// The legacy follow scope grants follows, blocks and mutes, read and write.
		{"follow", []string{"follow", "read:follows", "read:blocks", "read:mutes", "write:follows", "write:blocks", "write:mutes"},
			[]string{"read", "read:statuses", "write", "write:statuses", "read:accounts"}},
		{"admin:read", []string{"admin:read", "admin:read:accounts", "admin:read:reports"},
			[]string{"admin:write", "admin:write:accounts", "read", "read:accounts"}},
		{"admin:write", []string{"admin:write:reports"}, []string{"admin:read:reports", "write", "write:accounts"}},
		{"profile", []string{"profile"}, []string{"read", "read:accounts"}},
		{"push", []string{"push"}, []string{"read"}},
	} {
		g := set(c.granted)
		for _, r := range c.allowed {
			if !g.Allows(r) {
				t.Errorf("%q does not allow %q", c.granted, r)
			}
		}
		for _, r := range c.refused {
			if g.Allows(r) {
				t.Errorf("%q allows %q", c.granted, r)
			}
		}
	}
	// "admin" is no scope: a set holding it (built by hand) grants nothing below it.
	if (Scopes{"admin": true}).Allows("admin:read") {
		t.Errorf(`"admin" grants admin:read`)
	}
	if (Scopes{}).Allows("read") || (Scopes{}).AllowsAny() {
		t.Errorf("the empty set grants something")
	}
	if !set("profile").AllowsAny("read:accounts", "profile") || set("write").AllowsAny("read:accounts", "profile") {
		t.Errorf("AllowsAny is wrong")
	}
}

func TestWithin(t *testing.T) {
	for _, c := range []struct {
		inner, outer string
		want         bool
	}{
		{"read", "read write", true},
		{"read:accounts write:statuses", "read write", true},
		{"read:follows", "follow", true},
		{"read", "read:accounts", false},
		{"write", "read", false},
		{"admin:read:accounts", "admin:read", true},
		{"admin:read", "admin:read:accounts", false},
		{"read profile", "read", false},
	} {
		in, _ := ParseScopes(c.inner)
		out, _ := ParseScopes(c.outer)
		if got := in.Within(out); got != c.want {
			t.Errorf("%q within %q = %v, want %v", c.inner, c.outer, got, c.want)
		}
	}
}

func TestScopesRender(t *testing.T) {
	s, _ := ParseScopes("write read profile")
	if s.String() != "profile read write" {
		t.Errorf("String = %q", s.String())
	}
	if got := (Scopes{}).List(); got == nil || len(got) != 0 {
		t.Errorf("empty List = %#v, want [] (an entity's scopes are never null)", got)
	}
	if (Scopes{}).String() != "" {
		t.Errorf("empty String = %q", (Scopes{}).String())
	}
}
