package api

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

const (
	// RFC 8291's example subscriber key and auth secret.
	testP256DH = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
	testAuth   = "BTBZMqHH6r4Tts7J_aSIgg"
)

func pushForm(endpoint string, kv ...string) url.Values {
	v := url.Values{"subscription[endpoint]": {endpoint}, "subscription[keys][p256dh]": {testP256DH}, "subscription[keys][auth]": {testAuth}}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

// The WebPushSubscription entity and its four endpoints, as Mastodon
// documents them: one subscription per token, replaced by subscribing
// again; PUT changes alerts and policy only; DELETE ends it (and answers
// {} when there is none); another token does not see it.
func TestPushSubscriptionEndpoints(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	tok := f.userToken(t, f.alice, "read push")
	if rec := f.call(t, tok, http.MethodGet, "/api/v1/push/subscription", nil); rec.Code != http.StatusNotFound {
		t.Errorf("GET without a subscription: %d, want 404", rec.Code)
	}
	created := f.okJSON(t, tok, http.MethodPost, "/api/v1/push/subscription", pushForm("https://push.example/wpush/abc",
		"subscription[standard]", "true", "data[alerts][mention]", "true", "data[alerts][follow]", "1", "data[alerts][favourite]", "false",
		"data[policy]", "followed"))
	id, _ := created.(map[string]any)["id"].(string)
	f.name(id, "PUSH_ID")
	f.golden(t, "push_subscription", created)
	if d := f.diff(created, f.okJSON(t, tok, http.MethodGet, "/api/v1/push/subscription", nil)); d != "" {
		t.Errorf("GET after POST differs:\n%s", d)
	}
	instance := f.okJSON(t, "", http.MethodGet, "/api/v2/instance", nil)
	conf, _ := lookup(instance, "configuration")
	vapid, _ := lookup(conf, "vapid")
	if key, _ := lookup(vapid, "public_key"); key == "" || key != created.(map[string]any)["server_key"] {
		t.Errorf("instance vapid key %v, server_key %v", key, created.(map[string]any)["server_key"])
	}
	// Another token of the same account has none of its own.
	if rec := f.call(t, f.userToken(t, f.alice, "push"), http.MethodGet, "/api/v1/push/subscription", nil); rec.Code != http.StatusNotFound {
		t.Errorf("another token's GET: %d, want 404", rec.Code)
	}
	updated := f.okJSON(t, tok, http.MethodPut, "/api/v1/push/subscription", url.Values{"data[alerts][reblog]": {"true"}, "data[policy]": {"all"},
		"subscription[endpoint]": {"https://elsewhere.example/"}})
	f.golden(t, "push_subscription_updated", updated)
	if x, _ := lookup(updated, "endpoint"); x != "https://push.example/wpush/abc" {
		t.Errorf("PUT changed the endpoint: %v", x)
	}
	// Subscribing again replaces it (new id, new endpoint, legacy encoding).
	again := f.okJSON(t, tok, http.MethodPost, "/api/v1/push/subscription", pushForm("https://push.example/wpush/def"))
	if x, _ := lookup(again, "id"); x == id {
		t.Error("subscribing again kept the id")
	}
	if x, _ := lookup(again, "standard"); x != false {
		t.Errorf("standard %v without subscription[standard]", x)
	}
	if x, _ := lookup(again, "policy"); x != "all" {
		t.Errorf("default policy %v", x)
	}
	if v := f.okJSON(t, tok, http.MethodDelete, "/api/v1/push/subscription", nil); len(v.(map[string]any)) != 0 {
		t.Errorf("DELETE: %v", v)
	}
	if rec := f.call(t, tok, http.MethodGet, "/api/v1/push/subscription", nil); rec.Code != http.StatusNotFound {
		t.Errorf("GET after DELETE: %d", rec.Code)
	}
	f.okJSON(t, tok, http.MethodDelete, "/api/v1/push/subscription", nil) // none: still {}
	if rec := f.call(t, tok, http.MethodPut, "/api/v1/push/subscription", url.Values{"data[policy]": {"all"}}); rec.Code != http.StatusNotFound {
		t.Errorf("PUT without a subscription: %d, want 404", rec.Code)
	}
}

// A subscription must name an https endpoint and valid keys; the policy
// is one of Mastodon's four.
func TestPushSubscriptionValidation(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	tok := f.userToken(t, f.alice, "push")
	for name, form := range map[string]url.Values{
		"no endpoint":       pushForm(""),
		"http endpoint":     pushForm("http://push.example/x"),
		"relative endpoint": pushForm("/x"),
		"credentials":       pushForm("https://user:pw@push.example/x"),
		"long endpoint":     pushForm("https://push.example/" + strings.Repeat("x", 3000)),
		"bad p256dh":        pushForm("https://push.example/x", "subscription[keys][p256dh]", "BCVx"),
		"bad auth":          pushForm("https://push.example/x", "subscription[keys][auth]", "AAAA"),
		"bad policy":        pushForm("https://push.example/x", "data[policy]", "friends"),
	} {
		rec := f.call(t, tok, http.MethodPost, "/api/v1/push/subscription", form)
		if v := wantJSON(t, rec, http.StatusUnprocessableEntity); !strings.HasPrefix(v["error"].(string), "Validation failed") {
			t.Errorf("%s: %v", name, v)
		}
	}
	if rec := f.call(t, tok, http.MethodGet, "/api/v1/push/subscription", nil); rec.Code != http.StatusNotFound {
		t.Errorf("a refused subscription was stored: %d", rec.Code)
	}
}

// Every push route needs the push scope (read and write do not cover it)
// and a user's token.
func TestPushRoutesNeedThePushScope(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	for _, rt := range []struct {
		method string
		form   url.Values
	}{
		{"POST", pushForm("https://push.example/x")},
		{"GET", nil},
		{"PUT", url.Values{"data[policy]": {"all"}}},
		{"DELETE", nil},
	} {
		rec := f.call(t, f.userToken(t, f.alice, "read write follow profile"), rt.method, "/api/v1/push/subscription", rt.form)
		if rec.Code != http.StatusForbidden || !strings.Contains(rec.Header().Get("WWW-Authenticate"), `error="insufficient_scope"`) {
			t.Errorf("%s without push: %d %s, want 403", rt.method, rec.Code, rec.Body)
		}
		if rec := f.call(t, "", rt.method, "/api/v1/push/subscription", rt.form); rec.Code != http.StatusUnauthorized {
			t.Errorf("%s without a token: %d, want 401", rt.method, rec.Code)
		}
	}
	tok := f.userToken(t, f.alice, "push")
	for _, rt := range []struct {
		method string
		form   url.Values
	}{{"POST", pushForm("https://push.example/x")}, {"GET", nil}, {"PUT", url.Values{"data[policy]": {"all"}}}, {"DELETE", nil}} {
		if rec := f.call(t, tok, rt.method, "/api/v1/push/subscription", rt.form); rec.Code != http.StatusOK {
			t.Errorf("%s with push: %d %s", rt.method, rec.Code, rec.Body)
		}
	}
}
