package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-mastodon"
)

// apiCall calls the API, with token as the bearer when it is not empty, for
// what go-mastodon v0.0.13 has no call for; form, if any, is the body. It
// returns the status and the body.
func apiCall(t *testing.T, method, server, token, path string, form ...url.Values) (int, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var body io.Reader
	if len(form) > 0 {
		body = strings.NewReader(form[0].Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, server+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if len(form) > 0 {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// rawAPI is apiCall with c's server and token, decoding a 200's body into
// out (nil: none).
func rawAPI(t *testing.T, ctx context.Context, c *mastodon.Client, method, path string, form url.Values, out any) int {
	t.Helper()
	forms := []url.Values{}
	if form != nil {
		forms = append(forms, form)
	}
	code, b := apiCall(t, method, c.Config.Server, c.Config.AccessToken, path, forms...)
	if out != nil && code == http.StatusOK {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v\n%s", method, path, err, b)
		}
	}
	return code
}

// mustRaw is rawAPI that fails the test unless the answer is 200.
func mustRaw(t *testing.T, ctx context.Context, c *mastodon.Client, method, path string, form url.Values, out any) {
	t.Helper()
	if code := rawAPI(t, ctx, c, method, path, form, out); code != http.StatusOK {
		t.Fatalf("%s %s: HTTP %d", method, path, code)
	}
}
