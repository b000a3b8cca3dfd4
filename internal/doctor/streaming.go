package doctor

import (
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/safely"
)

// The streaming probes, sent once /api/v1/instance has said where the
// streaming API is (urls.streaming_api, wss://<host> turned into https://<host>).
const (
	pStreamHealth = "streamhealth" // GET https://<streaming host>/api/v1/streaming/health
	pStreamWS     = "streamws"     // a WebSocket handshake without a token to https://<streaming host>/api/v1/streaming, over HTTP/1.1
)

const (
	streamingPath = "/api/v1/streaming"
	healthPath    = streamingPath + "/health"
	// websocketGUID is RFC 6455's: Sec-WebSocket-Accept is the base64 of the
	// SHA-1 of the key followed by it.
	websocketGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
	// plainGETMessage starts the 400 Rampart gives /api/v1/streaming when it
	// arrives without the Upgrade handshake (internal/streaming's serve).
	plainGETMessage = "This path is a WebSocket"
)

// fixStreamingProxy is the fix when the handshake does not reach Rampart as one.
const fixStreamingProxy = "the reverse proxy must pass the WebSocket handshake on to Rampart: in the instance host's server, `location /api/v1/streaming { proxy_pass <Rampart>; proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection \"upgrade\"; proxy_read_timeout 1h; }` (nginx drops Upgrade and Connection, which are hop-by-hop, unless told to pass them, and speaks HTTP/1.0 to Rampart by default). The site `rampart gen nginx` prints has this location: install it and reload nginx. With another proxy, forward Upgrade and Connection on that path."

// fixStreamingRoute is the fix when /api/v1/streaming/health does not answer OK.
const fixStreamingRoute = "the reverse proxy must pass /api/v1/streaming and every path under it to Rampart with the instance host (proxy_set_header Host $host), as the site `rampart gen nginx` prints does; a 502 or 504 there means Rampart is not running or not where proxy_pass points."

// streamingAd is what /api/v1/instance advertises of the streaming API.
type streamingAd struct {
	raw string   // urls.streaming_api as served
	u   *url.URL // raw parsed; nil when it did not parse or is missing
	// unread says why the document could not be read (its status, not
	// JSON, no urls.streaming_api); "" when raw was read.
	unread string
}

// readStreamingAd reads urls.streaming_api from the answer to /api/v1/instance.
func readStreamingAd(f *fetched) streamingAd {
	if f.status != http.StatusOK {
		return streamingAd{unread: fmt.Sprintf("%s answered %d, not the instance document", f.path, f.status)}
	}
	var doc struct {
		URLs map[string]any `json:"urls"`
	}
	if err := json.Unmarshal(f.body, &doc); err != nil {
		return streamingAd{unread: fmt.Sprintf("%s is not JSON (%s, %v)", f.path, orNone([]string{f.header.Get("Content-Type")}), err)}
	}
	raw, _ := doc.URLs["streaming_api"].(string)
	if raw == "" {
		return streamingAd{unread: fmt.Sprintf("%s has no urls.streaming_api", f.path)}
	}
	ad := streamingAd{raw: raw}
	if u, err := url.Parse(raw); err == nil && u.Host != "" {
		ad.u = u
	}
	return ad
}

// streamingHost is the host the streaming API must be advertised on: the
// config's url's, as S6 wants in connect-src.
func (d *doctor) streamingHost() *url.URL {
	if d.cfgInst != nil {
		return d.cfgInst
	}
	return d.instURL
}

// onHost reports whether u (ws, wss, http or https) names the same host and
// port as the origin inst, default ports made explicit.
func onHost(u, inst *url.URL) bool {
	port := func(u *url.URL) string {
		if p := u.Port(); p != "" {
			return p
		}
		switch strings.ToLower(u.Scheme) {
		case "ws", "http":
			return "80"
		}
		return "443"
	}
	return sameHost(u.Hostname(), inst.Hostname()) && port(u) == port(inst)
}

// streamingBase is the https origin the streaming probes go to: the
// advertised one when it is on the instance host, else the instance host
// itself (doctor probes no other host, and --connect sends everything to
// the instance's proxy). "" when /api/v1/instance got no answer at all.
func (d *doctor) streamingBase() string {
	f := d.probes[pAPI]
	if f == nil || f.err != nil {
		return ""
	}
	if ad := readStreamingAd(f); ad.u != nil && onHost(ad.u, d.streamingHost()) {
		return "https://" + strings.ToLower(ad.u.Host)
	}
	return "https://" + d.instURL.Host
}

// websocketKey is a fresh Sec-WebSocket-Key: 16 random bytes in base64.
func websocketKey() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// websocketAccept is the Sec-WebSocket-Accept a server answers key with.
func websocketAccept(key string) string {
	sum := sha1.Sum([]byte(key + websocketGUID))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// probeStreaming asks the streaming API for its health and sends it a
// WebSocket handshake without a token, at the place /api/v1/instance names.
func (d *doctor) probeStreaming(ctx context.Context) {
	base := d.streamingBase()
	if base == "" {
		return
	}
	https := newClient(d.o.Connect, d.roots, d.o.Timeout)
	// A browser's WebSocket is an HTTP/1.1 Upgrade; HTTP/2 has no Upgrade.
	https1 := http1Only(https)
	defer https.CloseIdleConnections()
	defer https1.CloseIdleConnections()
	key := websocketKey()
	specs := []probeSpec{
		{id: pStreamHealth, url: base + healthPath, accept: "text/plain", client: https},
		{id: pStreamWS, url: base + streamingPath, client: https1, header: http.Header{
			"Upgrade":               {"websocket"},
			"Connection":            {"Upgrade"},
			"Sec-Websocket-Key":     {key},
			"Sec-Websocket-Version": {"13"},
		}},
	}
	var mu sync.Mutex
	probes := safely.NewGroup(d.log())
	for _, s := range specs {
		_ = probes.Go("probe", func() error {
			f := fetch(ctx, s)
			if s.id == pStreamWS {
				f.wsKey = key
			}
			mu.Lock()
			d.probes[s.id] = f
			mu.Unlock()
			return nil
		})
	}
	probes.Wait()
}

// checkStreaming is STREAM: the streaming API /api/v1/instance advertises
// is on the instance host over wss://, answers its health check, and a
// WebSocket handshake through the proxy reaches Rampart as one.
func (d *doctor) checkStreaming() {
	c := d.checks["STREAM"]
	f, ok := d.answered(c, pAPI)
	if !ok {
		return
	}
	d.checkStreamingAd(c, readStreamingAd(f))
	d.checkStreamingHealth(c)
	d.checkHandshake(c)
}

// checkStreamingAd judges urls.streaming_api.
func (d *doctor) checkStreamingAd(c *checker, ad streamingAd) {
	inst := d.streamingHost()
	want := "wss://" + inst.Host
	fixRestart := fmt.Sprintf("Rampart advertises wss://<the host of url> from its config: check url in %s, restart Rampart after changing it, and make sure the proxy neither rewrites /api/v1/instance nor sends the instance host to another server.", d.configName())
	if ad.unread != "" {
		c.fail(fmt.Sprintf("streaming API not advertised: %s", ad.unread),
			"clients find the streaming API in /api/v1/instance (urls.streaming_api): the proxy must pass /api/v1/instance to Rampart with the instance host.")
		return
	}
	if ad.u == nil {
		c.fail(fmt.Sprintf("urls.streaming_api %q is not a URL with a host, want %s", ad.raw, want), fixRestart)
		return
	}
	good := true
	if !onHost(ad.u, inst) {
		good = false
		c.fail(fmt.Sprintf("urls.streaming_api %q names another host than the instance's, want %s (the CSP's connect-src allows only that one; doctor probed %s instead)", ad.raw, want, inst.Host), fixRestart)
	}
	if ad.u.User != nil || (ad.u.Path != "" && ad.u.Path != "/") || ad.u.RawQuery != "" || ad.u.Fragment != "" {
		good = false
		c.fail(fmt.Sprintf("urls.streaming_api %q is not a bare origin, want %s (clients append %s to it)", ad.raw, want, streamingPath), fixRestart)
	}
	switch scheme := strings.ToLower(ad.u.Scheme); {
	case scheme == "wss":
	case scheme == "ws" && d.cfg != nil && d.cfg.Env == config.EnvDev && d.cfgInst != nil && d.cfgInst.Scheme == "http":
		good = false
		c.warn(fmt.Sprintf("urls.streaming_api %q is unencrypted, as the http url of a dev config makes it: a browser on the https site refuses it", ad.raw),
			fmt.Sprintf("set env = \"prod\" and url = \"https://%s\" in %s (see S9) and restart Rampart.", inst.Host, d.configName()))
	case scheme == "ws":
		good = false
		c.fail(fmt.Sprintf("urls.streaming_api %q is unencrypted, want %s: a browser on the https site refuses it", ad.raw, want), fixRestart)
	default:
		good = false
		c.fail(fmt.Sprintf("urls.streaming_api %q is not a WebSocket URL, want %s", ad.raw, want), fixRestart)
	}
	if good {
		c.pass("/api/v1/instance advertises urls.streaming_api %s", ad.raw)
	}
}

// checkStreamingHealth judges GET /api/v1/streaming/health: 200 "OK".
func (d *doctor) checkStreamingHealth(c *checker) {
	f, ok := d.streamingAnswer(c, pStreamHealth, "GET", fixStreamingRoute)
	if !ok {
		return
	}
	if f.status == http.StatusOK && strings.TrimSpace(string(f.body)) == "OK" {
		c.pass("%s answers OK", f.url)
		return
	}
	c.fail(fmt.Sprintf("%s answered %d %q (%s), want 200 OK", f.url, f.status, excerpt(f.body), whoAnswered(f)), fixStreamingRoute)
}

// checkHandshake judges the WebSocket handshake without a token. Rampart
// answers it 401 with its JSON error (every stream needs a token), or 101
// when streaming.public_without_token lets anonymous sockets in; a request
// that reached it without the Upgrade gets 400 "This path is a WebSocket…".
func (d *doctor) checkHandshake(c *checker) {
	f, ok := d.streamingAnswer(c, pStreamWS, "a WebSocket handshake without a token to", fixStreamingProxy)
	if !ok {
		return
	}
	what := "a WebSocket handshake without a token to " + f.url
	apiErr := jsonError(f)
	switch {
	case f.status == http.StatusSwitchingProtocols:
		if got, want := f.header.Get("Sec-Websocket-Accept"), websocketAccept(f.wsKey); got != want || !strings.EqualFold(f.header.Get("Upgrade"), "websocket") {
			c.fail(fmt.Sprintf("%s was answered 101 with Upgrade %q and Sec-WebSocket-Accept %q, want websocket and %q", what, f.header.Get("Upgrade"), got, want), fixStreamingProxy)
			return
		}
		c.pass("%s is upgraded (101, Sec-WebSocket-Accept valid; streaming.public_without_token lets anonymous sockets in)", what)
	case f.status == http.StatusUnauthorized && apiErr != "" && strings.Contains(f.header.Get("Www-Authenticate"), `realm="rampart"`):
		var missing []string
		if !d.headersOff() {
			for _, h := range securityHeaders {
				if ok, _ := headerIs(f.header, h.name, h.value); !ok {
					missing = append(missing, h.name)
				}
			}
		}
		if len(missing) > 0 {
			c.fail(fmt.Sprintf("%s reached Rampart (401 %q) but the answer lacks %s", what, apiErr, strings.Join(missing, ", ")),
				fixHeadersProxy+" That includes the location of /api/v1/streaming.")
			return
		}
		c.pass("%s reaches Rampart as one: its 401 %q (a stream needs a token)", what, apiErr)
	case f.status == http.StatusBadRequest && strings.HasPrefix(apiErr, plainGETMessage):
		c.fail(fmt.Sprintf("%s reached Rampart without its Upgrade: the proxy dropped the Upgrade or Connection header, so Rampart answered 400 %q", what, apiErr), fixStreamingProxy)
	default:
		c.fail(fmt.Sprintf("%s was answered %d %q (%s), want Rampart's 401 (the handshake reaching it) or 101", what, f.status, excerpt(f.body), whoAnswered(f)), fixStreamingProxy)
	}
}

// streamingAnswer returns a streaming probe's answer. It is sent only once
// /api/v1/instance was answered over the same https, so a request that got
// no answer at all fails here: what stops it is on the streaming path.
func (d *doctor) streamingAnswer(c *checker, id, what, fix string) (*fetched, bool) {
	f := d.probes[id]
	if f == nil {
		return nil, false
	}
	if f.err != nil {
		c.fail(fmt.Sprintf("%s %s got no answer (%s), though /api/v1/instance did", what, f.url, shortErr(f.err)), fix)
		return f, false
	}
	return f, true
}

// jsonError is the message of an answer in the API's error shape
// ({"error": "…"}), or "".
func jsonError(f *fetched) string {
	if !strings.HasPrefix(f.header.Get("Content-Type"), "application/json") {
		return ""
	}
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(f.body, &e) != nil {
		return ""
	}
	return e.Error
}

// whoAnswered says whether an answer came from Rampart (which gives every
// answer an X-Request-Id) or from something before it.
func whoAnswered(f *fetched) string {
	if f.header.Get("X-Request-Id") != "" {
		return "Rampart's answer"
	}
	if s := f.header.Get("Server"); s != "" {
		return "not Rampart's: no X-Request-Id, Server " + s
	}
	return "not Rampart's: no X-Request-Id"
}

// excerpt is the start of a body, on one line, for the report.
func excerpt(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if r := []rune(s); len(r) > 120 {
		s = string(r[:120]) + "…"
	}
	return s
}
