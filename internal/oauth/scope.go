package oauth

import (
	"sort"
	"strings"
)

// Scopes is a set of OAuth scopes as Mastodon defines them.
type Scopes map[string]bool

var topScopes = []string{"read", "write", "follow", "push", "profile", "admin:read", "admin:write"}

var granular = map[string][]string{
	"read": {"accounts", "blocks", "bookmarks", "favourites", "filters", "follows", "lists", "mutes",
		"notifications", "search", "statuses"},
	"write": {"accounts", "blocks", "bookmarks", "conversations", "favourites", "filters", "follows", "lists",
		"media", "mutes", "notifications", "reports", "statuses"},
	"admin:read":  {"accounts", "reports", "domain_allows", "domain_blocks", "ip_blocks", "email_domain_blocks", "canonical_email_blocks"},
	"admin:write": {"accounts", "reports", "domain_allows", "domain_blocks", "ip_blocks", "email_domain_blocks", "canonical_email_blocks"},
}

// followCovers is what the deprecated "follow" scope grants.
var followCovers = map[string]bool{"read:blocks": true, "read:follows": true, "read:mutes": true,
	"write:blocks": true, "write:follows": true, "write:mutes": true}

// AllScopes lists every scope Rampart understands, for discovery documents.
func AllScopes() []string {
	out := append([]string(nil), topScopes...)
	for _, parent := range []string{"read", "write", "admin:read", "admin:write"} {
		for _, g := range granular[parent] {
			out = append(out, parent+":"+g)
		}
	}
	return out
}

// Known reports whether s names a Mastodon scope.
func Known(s string) bool {
	for _, t := range topScopes {
		if s == t {
			return true
		}
	}
	i := strings.LastIndex(s, ":")
	if i < 0 {
		return false
	}
	for _, g := range granular[s[:i]] {
		if g == s[i+1:] {
			return true
		}
	}
	return false
}

// ParseScopes splits a space- (or "+"/comma-) separated scope string. Empty
// means "read", Mastodon's default. Unknown scopes are returned as bad.
func ParseScopes(s string) (Scopes, []string) {
	out := Scopes{}
	var bad []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '+' || r == ',' || r == '\t' || r == '\n' }) {
		if Known(f) {
			out[f] = true
		} else {
			bad = append(bad, f)
		}
	}
	if len(out) == 0 && len(bad) == 0 {
		out["read"] = true
	}
	return out, bad
}

// String renders the set, sorted, space-separated.
func (s Scopes) String() string {
	list := make([]string, 0, len(s))
	for k := range s {
		list = append(list, k)
	}
	sort.Strings(list)
	return strings.Join(list, " ")
}

// List returns the scopes sorted.
func (s Scopes) List() []string {
	if len(s) == 0 {
		return []string{}
	}
	return strings.Fields(s.String())
}

// Allows reports whether the set grants the required scope, directly, through
// its parent (read grants read:statuses) or through the legacy follow scope.
func (s Scopes) Allows(required string) bool {
	if s[required] {
		return true
	}
	if i := strings.LastIndex(required, ":"); i > 0 && s[required[:i]] && required[:i] != "admin" {
		return true
	}
	return s["follow"] && followCovers[required]
}

// AllowsAny reports whether any of the required scopes is granted.
func (s Scopes) AllowsAny(required ...string) bool {
	for _, r := range required {
		if s.Allows(r) {
			return true
		}
	}
	return false
}

// Within reports whether every scope of s is granted by outer.
func (s Scopes) Within(outer Scopes) bool {
	for k := range s {
		if !outer.Allows(k) {
			return false
		}
	}
	return true
}
