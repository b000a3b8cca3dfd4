package api

import (
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
)

// compatibilityTable is the published table of what Rampart serves.
const compatibilityTable = "../../docs/api-compatibility.md"

var tableEndpoint = regexp.MustCompile("`(GET|POST|PUT|PATCH|DELETE) (/[^`\\s]*)`")

// tableEndpoints reads the endpoints column of every row marked done or
// partial: what the table promises is served.
func tableEndpoints(t *testing.T) [][2]string {
	t.Helper()
	doc, err := os.ReadFile(compatibilityTable)
	if err != nil {
		t.Fatal(err)
	}
	var out [][2]string
	for _, line := range strings.Split(string(doc), "\n") {
		cells := strings.Split(line, " | ")
		if !strings.HasPrefix(line, "| ") || len(cells) < 4 {
			continue
		}
		endpoints, status := cells[1], strings.TrimSpace(cells[2])
		found := tableEndpoint.FindAllStringSubmatch(endpoints, -1)
		if status != "done" && status != "partial" {
			if len(found) > 0 {
				t.Errorf("row %q is %q but lists endpoints as served", cells[0], status)
			}
			continue
		}
		for _, m := range found {
			out = append(out, [2]string{m[1], m[2]})
		}
	}
	return out
}

// concrete fills a documented path's parameters with values a route
// matches.
func concrete(path string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if strings.HasPrefix(p, ":") {
			parts[i] = map[string]string{":version": "2.0", ":name": "rampart", ":hashtag": "rampart", ":group_key": "ungrouped-1"}[p]
			if parts[i] == "" {
				parts[i] = "1"
			}
		}
	}
	return strings.Join(parts, "/")
}

// queries are what a GET in the table needs to be a valid request.
var queries = map[string]string{
	"/api/v1/accounts/lookup": "?acct=alice",
	"/api/v1/accounts/search": "?q=alice",
	"/api/v2/search":          "?q=alice",
}

// Every endpoint the compatibility table lists as served is routed (not the
// API's 404 for unknown paths, nor a 405), and every GET in it without path
// parameters answers a token with every scope without 404, 405 or a server
// error. A route removed, or a row claimed without its route, fails here.
func TestCompatibilityTableEndpointsAnswer(t *testing.T) {
	t.Parallel()
	endpoints := tableEndpoints(t)
	if len(endpoints) < 150 {
		t.Fatalf("only %d endpoints read from %s", len(endpoints), compatibilityTable)
	}
	e := newEnv(t, `[limits]`, `api_requests = 0`, `[federation]`, `public_domain_blocks = true`)
	routes := e.api.routes()
	admin := e.userToken(t, e.alice, "read write follow push profile admin:read admin:write")
	for _, ep := range endpoints {
		method, documented := ep[0], ep[1]
		if documented == "/api/v1/streaming" {
			continue // the streaming hub is mounted beside the API (its own tests)
		}
		path := concrete(documented)
		_, pattern := routes.Handler(httptest.NewRequest(method, "https://"+testHost+path, nil))
		if pattern == "" || pattern == unrouted {
			t.Errorf("%s %s: in the table, but not routed", method, documented)
			continue
		}
		if method != http.MethodGet || strings.Contains(documented, ":") {
			continue
		}
		rec := e.do(t, method, path+queries[path], nil, bearerHeader(admin)...)
		if rec.Code == http.StatusNotFound && documented == "/api/v1/push/subscription" {
			continue // the token has no subscription: Mastodon's 404 (the route was checked above)
		}
		if rec.Code == http.StatusNotFound || rec.Code == http.StatusMethodNotAllowed || rec.Code >= 500 {
			t.Errorf("%s %s: %d %s", method, path, rec.Code, rec.Body)
		}
	}
}
