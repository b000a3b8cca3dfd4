package doctor

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/rampart-social/rampart/internal/config"
)

// onStreaming reports whether a request is for the streaming API.
func onStreaming(r *http.Request) bool {
	return r.URL.Path == streamingPath || strings.HasPrefix(r.URL.Path, streamingPath+"/")
}

// stripUpgrade is a proxy that does not pass the handshake on: Rampart
// receives the request without Upgrade and Connection, as from nginx
// without the streaming location's proxy_set_header lines.
func stripUpgrade(p *httputil.ReverseProxy) {
	rewrite := p.Rewrite
	p.Rewrite = func(r *httputil.ProxyRequest) {
		rewrite(r)
		r.Out.Header.Del("Upgrade")
		r.Out.Header.Del("Connection")
	}
}

// closeConnection is a proxy that passes Upgrade but sends Connection:
// close, as nginx does when only `proxy_set_header Upgrade` is there.
func closeConnection(p *httputil.ReverseProxy) {
	rewrite := p.Rewrite
	p.Rewrite = func(r *httputil.ProxyRequest) {
		rewrite(r)
		r.Out.Header.Set("Connection", "close")
	}
}

// streamingNowhere is a proxy whose streaming paths go to an address where
// nothing listens (a location with a wrong proxy_pass): it answers 502 itself.
func streamingNowhere(t *testing.T) func(*httputil.ReverseProxy) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := &url.URL{Scheme: "http", Host: ln.Addr().String()}
	ln.Close()
	return func(p *httputil.ReverseProxy) {
		rewrite := p.Rewrite
		p.Rewrite = func(r *httputil.ProxyRequest) {
			rewrite(r)
			if onStreaming(r.In) {
				r.SetURL(dead)
			}
		}
	}
}

// hideOnStreaming is a proxy that removes a header from Rampart's answers
// on the streaming paths only (a proxy_hide_header in that location).
func hideOnStreaming(name string) func(*httputil.ReverseProxy) {
	return func(p *httputil.ReverseProxy) {
		p.ModifyResponse = func(resp *http.Response) error {
			if onStreaming(resp.Request) {
				resp.Header.Del(name)
			}
			return nil
		}
	}
}

// abortOnStreaming is a proxy that closes the connection on the streaming
// paths without answering.
func abortOnStreaming(p *httputil.ReverseProxy) {
	errAbort := errors.New("streaming path")
	p.ModifyResponse = func(resp *http.Response) error {
		if onStreaming(resp.Request) {
			return errAbort
		}
		return nil
	}
	p.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		if errors.Is(err, errAbort) {
			panic(http.ErrAbortHandler)
		}
		w.WriteHeader(http.StatusBadGateway)
	}
}

// advertise is a proxy that rewrites urls.streaming_api in the instance
// host's /api/v1/instance (nil removes it), as a sub_filter would, or as a
// Rampart would that runs with another url than its config file's.
func advertise(value any) func(*httputil.ReverseProxy) {
	return func(p *httputil.ReverseProxy) {
		p.ModifyResponse = func(resp *http.Response) error {
			if resp.Request.URL.Path != "/api/v1/instance" || strings.HasPrefix(resp.Request.Host, "media.") {
				return nil
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				return err
			}
			var doc map[string]any
			if err := json.Unmarshal(body, &doc); err != nil {
				return err
			}
			urls, _ := doc["urls"].(map[string]any)
			if urls == nil {
				panic("the instance document has no urls: update this test")
			}
			if value == nil {
				delete(urls, "streaming_api")
			} else {
				urls["streaming_api"] = value
			}
			if body, err = json.Marshal(doc); err != nil {
				return err
			}
			resp.Body = io.NopCloser(bytes.NewReader(body))
			resp.ContentLength = int64(len(body))
			resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
			return nil
		}
	}
}

func passThrough(*httputil.ReverseProxy) {}

// STREAM through a real reverse proxy before a real Rampart: a proxy that
// passes the handshake on passes; each way of breaking it fails STREAM
// alone, with what doctor saw and the fix.
func TestStreamingThroughAProxy(t *testing.T) {
	cases := []struct {
		name  string
		setup setup
		fail  bool
		saw   []string // STREAM's saw mentions each
		fix   string   // and, when it fails, its fix this
	}{
		{"proxy passing the upgrade", setup{proxy: passThrough}, false, []string{
			"/api/v1/instance advertises urls.streaming_api wss://example.test",
			"https://example.test/api/v1/streaming/health answers OK",
			`a WebSocket handshake without a token to https://example.test/api/v1/streaming reaches Rampart as one: its 401 "Missing access token"`,
		}, ""},
		{"anonymous streams allowed: the socket opens", setup{proxy: passThrough, streaming: []string{"public_without_token = true"}}, false, []string{
			"https://example.test/api/v1/streaming is upgraded (101, Sec-WebSocket-Accept valid",
		}, ""},
		{"proxy stripping Upgrade and Connection", setup{proxy: stripUpgrade}, true, []string{
			"reached Rampart without its Upgrade: the proxy dropped the Upgrade or Connection header, so Rampart answered 400 \"This path is a WebSocket: send an Upgrade request",
			"health answers OK", // the rest of the streaming API is there
		}, `proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade"`},
		{"proxy stripping Upgrade with anonymous streams allowed", setup{proxy: stripUpgrade, streaming: []string{"public_without_token = true"}}, true, []string{
			"so Rampart answered 400",
		}, "proxy_http_version 1.1"},
		{"proxy sending Connection: close", setup{proxy: closeConnection}, true, []string{
			"the proxy dropped the Upgrade or Connection header",
		}, "rampart gen nginx"},
		{"streaming location proxying nowhere", setup{proxy: streamingNowhere(t)}, true, []string{
			"https://example.test/api/v1/streaming/health answered 502",
			"https://example.test/api/v1/streaming was answered 502",
			"not Rampart's: no X-Request-Id",
		}, "a 502 or 504 there means Rampart is not running"},
		{"streaming location closing the connection", setup{proxy: abortOnStreaming}, true, []string{
			"GET https://example.test/api/v1/streaming/health got no answer (",
			"a WebSocket handshake without a token to https://example.test/api/v1/streaming got no answer (",
			"though /api/v1/instance did",
		}, "location /api/v1/streaming"},
		{"streaming location hiding a security header", setup{proxy: hideOnStreaming("X-Frame-Options")}, true, []string{
			`reached Rampart (401 "Missing access token") but the answer lacks X-Frame-Options`,
		}, "the location of /api/v1/streaming"},
		{"advertised on another host", setup{proxy: advertise("wss://streaming.example.test")}, true, []string{
			`urls.streaming_api "wss://streaming.example.test" names another host than the instance's, want wss://example.test`,
			"doctor probed example.test instead",
			"https://example.test/api/v1/streaming reaches Rampart as one",
		}, "restart Rampart after changing it"},
		{"advertised unencrypted", setup{proxy: advertise("ws://example.test")}, true, []string{
			`urls.streaming_api "ws://example.test" is unencrypted, want wss://example.test`,
		}, "check url in"},
		{"advertised with a path", setup{proxy: advertise("wss://example.test/streaming")}, true, []string{
			`urls.streaming_api "wss://example.test/streaming" is not a bare origin`,
		}, "check url in"},
		{"advertised on another port", setup{proxy: advertise("wss://example.test:8443")}, true, []string{
			"names another host than the instance's",
		}, "check url in"},
		{"not advertised", setup{proxy: advertise(nil)}, true, []string{
			"streaming API not advertised: /api/v1/instance has no urls.streaming_api",
			"https://example.test/api/v1/streaming reaches Rampart as one", // probed on the instance host all the same
		}, "urls.streaming_api"},
		{"advertised as a number", setup{proxy: advertise(443)}, true, []string{
			"has no urls.streaming_api",
		}, "urls.streaming_api"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rep := run(t, tc.setup.deploy(t).opts)
			c := byID(rep)["STREAM"]
			want, wantFails := Pass, ""
			if tc.fail {
				want, wantFails = Fail, "STREAM"
			}
			if c.Verdict != want {
				t.Errorf("STREAM = %s, want %s", c.Verdict, want)
			}
			if got := strings.Join(verdicts(rep, Fail), " "); got != wantFails || len(verdicts(rep, Warn)) != 0 {
				t.Errorf("failing %q, warning %v; want only %q failing", got, verdicts(rep, Warn), wantFails)
			}
			for _, w := range tc.saw {
				if !strings.Contains(c.Saw, w) {
					t.Errorf("STREAM saw %q, want it to mention %q", c.Saw, w)
				}
			}
			if tc.fail && !strings.Contains(c.Fix, tc.fix) {
				t.Errorf("STREAM fix %q, want it to mention %q", c.Fix, tc.fix)
			}
			if !tc.fail && c.Fix != "" {
				t.Errorf("STREAM passes with a fix: %q", c.Fix)
			}
			if t.Failed() {
				t.Log(dump(rep))
			}
		})
	}
}

// Rampart's own answers decide STREAM, not the proxy in front: straight
// from Rampart (no proxy) the check passes; with the security layer off,
// S4 reports the missing headers and STREAM does not fail for them again.
func TestStreamingWithoutAProxy(t *testing.T) {
	rep := run(t, setup{security: []string{"headers = false"}}.deploy(t).opts)
	c := byID(rep)["STREAM"]
	if c.Verdict != Pass || !strings.Contains(c.Saw, `reaches Rampart as one: its 401 "Missing access token"`) {
		t.Errorf("STREAM = %s %q\n%s", c.Verdict, c.Saw, dump(rep))
	}
	if c := byID(rep)["S4"]; c.Verdict != Fail {
		t.Errorf("S4 = %s with security.headers = false", c.Verdict)
	}
}

// No answer at all: STREAM says it could not look; TLS carries the failure.
func TestStreamingUnreachable(t *testing.T) {
	o := setup{}.deploy(t).opts
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o.Connect = ln.Addr().String()
	ln.Close()
	c := byID(run(t, o))["STREAM"]
	if c.Verdict != Warn || !strings.Contains(c.Saw, "not checked on example.test: no answer over https") {
		t.Errorf("STREAM = %s %q", c.Verdict, c.Saw)
	}
}

// Without --url there is nothing to connect to: no STREAM line.
func TestStreamingNeedsURL(t *testing.T) {
	o := setup{}.deploy(t).opts
	o.URL = ""
	rep := run(t, o)
	if _, ok := byID(rep)["STREAM"]; ok {
		t.Error("STREAM reported without --url")
	}
	if !strings.Contains(dump(rep), "TLS and STREAM were not checked") {
		t.Errorf("the table does not say STREAM was skipped:\n%s", dump(rep))
	}
}

// The advertised URL against the instance's: scheme, host, port (default
// ports as the scheme gives them), path, and dev's ws://.
func TestStreamingAdvertisedURL(t *testing.T) {
	for _, tc := range []struct {
		url, advertised string
		env             string
		want            Verdict
	}{
		{"https://example.test", "wss://example.test", config.EnvProd, Pass},
		{"https://example.test", "wss://example.test/", config.EnvProd, Pass},
		{"https://example.test", "wss://EXAMPLE.test", config.EnvProd, Pass},
		{"https://example.test", "wss://example.test:443", config.EnvProd, Pass},
		{"https://example.test:8443", "wss://example.test:8443", config.EnvProd, Pass},
		{"https://example.test:8443", "wss://example.test", config.EnvProd, Fail},
		{"https://example.test", "wss://example.test:80", config.EnvProd, Fail},
		{"https://example.test", "ws://example.test:443", config.EnvProd, Fail},
		{"https://example.test", "ws://example.test", config.EnvDev, Fail}, // dev, but with an https url
		{"http://example.test", "ws://example.test", config.EnvDev, Warn},
		{"http://example.test", "ws://example.test", config.EnvProd, Fail},
		{"https://example.test", "https://example.test", config.EnvProd, Fail},
		{"https://example.test", "wss://example.test?x=1", config.EnvProd, Fail},
		{"https://example.test", "wss://u@example.test", config.EnvProd, Fail},
		{"https://example.test", "wss://other.test", config.EnvProd, Fail},
		{"https://example.test", "example.test", config.EnvProd, Fail},
	} {
		inst := parseOrigin(tc.url)
		d := &doctor{o: Options{ConfigPath: "rampart.toml"}, cfg: &config.Config{Env: tc.env, URL: tc.url}, cfgInst: inst, instURL: inst,
			checks: map[string]*checker{"STREAM": {id: "STREAM", name: "streaming API"}}}
		ad := readStreamingAd(&fetched{path: "/api/v1/instance", status: 200, header: http.Header{},
			body: []byte(`{"urls":{"streaming_api":` + strconv.Quote(tc.advertised) + `}}`)})
		d.checkStreamingAd(d.checks["STREAM"], ad)
		if got := d.checks["STREAM"].result(); got.Verdict != tc.want || (tc.want != Pass) == (got.Fix == "") {
			t.Errorf("url %s (%s), advertised %s: STREAM %s %q fix %q, want %s", tc.url, tc.env, tc.advertised, got.Verdict, got.Saw, got.Fix, tc.want)
		}
	}
}

// RFC 6455's own example of the accept value (section 1.3).
func TestWebSocketAccept(t *testing.T) {
	if got := websocketAccept("dGhlIHNhbXBsZSBub25jZQ=="); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Errorf("websocketAccept = %q", got)
	}
	if k := websocketKey(); len(k) != 24 || k == websocketKey() {
		t.Errorf("websocketKey = %q: want 16 fresh random bytes in base64", k)
	}
}
