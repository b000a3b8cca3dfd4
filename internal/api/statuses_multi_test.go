package api

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
)

// GET /api/v1/statuses?id[]= answers the statuses the caller may see, in
// the order asked, each once; hidden and unknown ones are left out.
func TestStatusesByIDKeepTheVisibilityRule(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bob := e.userToken(t, e.bob, "read write")
	public := e.post(t, bob, url.Values{"status": {"for everyone"}, "visibility": {"public"}})
	private := e.post(t, bob, url.Values{"status": {"followers only"}, "visibility": {"private"}})
	unlisted := e.post(t, bob, url.Values{"status": {"quietly"}, "visibility": {"unlisted"}})
	ask := "/api/v1/statuses?id[]=" + private + "&id[]=" + unlisted + "&id[]=999999&id[]=" + public + "&id[]=" + unlisted
	idsOf := func(headers ...string) []string {
		v := decodeAny(t, e.do(t, http.MethodGet, ask, nil, headers...), http.StatusOK)
		var out []string
		for _, st := range v.([]any) {
			out = append(out, st.(map[string]any)["id"].(string))
		}
		return out
	}
	if got, want := idsOf(), []string{unlisted, public}; !slices.Equal(got, want) {
		t.Errorf("anonymous: %v, want %v", got, want)
	}
	if got, want := idsOf(bearerHeader(bob)...), []string{private, unlisted, public}; !slices.Equal(got, want) {
		t.Errorf("the author: %v, want %v", got, want)
	}
	stranger := e.userToken(t, e.alice, "read")
	if got, want := idsOf(bearerHeader(stranger)...), []string{unlisted, public}; !slices.Equal(got, want) {
		t.Errorf("a stranger: %v, want %v", got, want)
	}
	if rec := e.do(t, http.MethodGet, ask, nil, bearerHeader(e.userToken(t, e.alice, "write"))...); rec.Code != http.StatusForbidden {
		t.Errorf("a token without read:statuses: %d, want 403", rec.Code)
	}
}
