// Package outbound is the one HTTP client Rampart uses to reach other
// servers, and the guard on it. Whatever asks for a URL (a WebFinger
// lookup, an actor, a delivery), the request:
//
//   - goes only to a public address: the address is checked when the
//     connection is made, after name resolution, so a name that resolves to
//     this machine or the local network (DNS rebinding included) is refused
//     without a packet sent to it;
//   - uses https (http only for hosts on the test allow-list);
//   - follows at most a few redirects, each checked the same way and signed
//     again for its own target;
//   - has a deadline for every phase and a cap on the body it reads;
//   - says who sends it (User-Agent with the instance URL) and never carries
//     a cookie.
//
// The allow-list of test hosts (http and any address) is the only way
// around the guard; a prod instance logs a warning at every start while it
// is not empty.
package outbound

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Defaults, each overridable in Config.
const (
	DefaultTimeout      = 30 * time.Second
	DefaultMaxBodyBytes = 1 << 20
	maxRedirects        = 3
	dialTimeout         = 5 * time.Second
	tlsTimeout          = 5 * time.Second
	headerTimeout       = 10 * time.Second
	maxHeaderBytes      = 64 << 10
)

// Config sets up the client.
type Config struct {
	// UserAgent is sent on every request: "Rampart/<version> (+<instance URL>)".
	UserAgent string
	// TestHosts may be reached over http and at any address: host or
	// host:port, exactly as in the URL. For tests between instances on one
	// machine; empty in production.
	TestHosts []string
	// Timeout bounds a whole request, body included (DefaultTimeout).
	Timeout time.Duration
	// MaxBodyBytes caps a response body (DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// Resolver resolves names (nil: the system's). Tests set their own.
	Resolver *net.Resolver
}

// Client is the guarded client. It is safe for concurrent use.
type Client struct {
	http      *http.Client
	userAgent string
	testHosts map[string]bool
	maxBody   int64
}

// RefusedError is a request the guard did not let out.
type RefusedError struct {
	URL    string
	Reason string
}

func (e *RefusedError) Error() string { return "refused to fetch " + e.URL + ": " + e.Reason }

// ErrBodyTooLarge is returned by a response body read past the cap.
var ErrBodyTooLarge = errors.New("response body too large")

// New returns a client for cfg.
func New(cfg Config) *Client {
	c := &Client{userAgent: cfg.UserAgent, testHosts: map[string]bool{}, maxBody: cfg.MaxBodyBytes}
	if c.maxBody <= 0 {
		c.maxBody = DefaultMaxBodyBytes
	}
	for _, h := range cfg.TestHosts {
		c.testHosts[strings.ToLower(h)] = true
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	guarded := &net.Dialer{Timeout: dialTimeout, Resolver: cfg.Resolver, Control: refuseNonPublic}
	open := &net.Dialer{Timeout: dialTimeout, Resolver: cfg.Resolver}
	transport := &http.Transport{
		Proxy: nil, // a proxy would connect for us, past the guard
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if c.isTestHost(addr) {
				return open.DialContext(ctx, network, addr)
			}
			return guarded.DialContext(ctx, network, addr)
		},
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    tlsTimeout,
		ResponseHeaderTimeout:  headerTimeout,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: maxHeaderBytes,
		MaxIdleConns:           64,
		MaxIdleConnsPerHost:    4,
		IdleConnTimeout:        90 * time.Second,
		ForceAttemptHTTP2:      true,
	}
	c.http = &http.Client{Transport: transport, Timeout: timeout}
	return c
}

// Schemes are the schemes to try host with, in order: https, and then
// http for a host on the test allow-list.
func (c *Client) Schemes(host string) []string {
	if c.isTestHost(host) {
		return []string{"https", "http"}
	}
	return []string{"https"}
}

// isTestHost reports whether a dial address (host:port) or URL host is on
// the test allow-list, by host:port or by host alone.
func (c *Client) isTestHost(hostport string) bool {
	if len(c.testHosts) == 0 {
		return false
	}
	hostport = strings.ToLower(hostport)
	if c.testHosts[hostport] {
		return true
	}
	host, _, err := net.SplitHostPort(hostport)
	return err == nil && c.testHosts[host]
}

// refuseNonPublic runs after resolution, just before each connect: the
// address it sees is the one the socket would reach.
func refuseNonPublic(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("outbound: unexpected address %q", address)
	}
	if !Public(ap.Addr()) {
		return &RefusedError{URL: address, Reason: "not a public address"}
	}
	return nil
}

// checkURL is the rule for every URL requested or redirected to.
func (c *Client) checkURL(u *url.URL) error {
	if u.User != nil {
		return &RefusedError{URL: u.Redacted(), Reason: "credentials in the URL"}
	}
	if u.Hostname() == "" {
		return &RefusedError{URL: u.String(), Reason: "no host"}
	}
	if reason := nonCanonicalHost(u); reason != "" {
		return &RefusedError{URL: u.String(), Reason: reason}
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if c.isTestHost(u.Host) || c.isTestHost(u.Hostname()) {
			return nil
		}
	}
	return &RefusedError{URL: u.String(), Reason: "only https is allowed"}
}

// nonCanonicalHost says why u's host is not written the one way Rampart
// compares hosts ("" when it is): only ASCII (net/http would map a
// full-width or otherwise non-ASCII name to ASCII before dialling, so
// "ｅｖｉｌ.example" reaches evil.example past a domain block or an own-host
// check that compared the text), no trailing dot (the same host under
// another spelling), and no port that is the scheme's default (":443"
// names the origin without one). Every check before the network compares
// host strings; refusing other spellings here makes those comparisons
// sound.
func nonCanonicalHost(u *url.URL) string {
	for i := 0; i < len(u.Host); i++ {
		if u.Host[i] >= 0x80 {
			return "a host name that is not ASCII"
		}
	}
	if strings.HasSuffix(u.Hostname(), ".") {
		return "a host name ending in a dot"
	}
	if p := u.Port(); p == "443" && u.Scheme == "https" || p == "80" && u.Scheme == "http" {
		return "the scheme's default port written out"
	} else if len(p) > 1 && p[0] == '0' {
		return "a port written with leading zeros"
	}
	return ""
}

// Signer signs a request for its URL; the client calls it again for each
// redirect, so that a signature always names the target it is sent to.
type Signer func(r *http.Request) error

// Do sends r through the guard (signed by sign, when not nil) and returns
// the response, whose body is capped. The caller closes the body.
func (c *Client) Do(ctx context.Context, r *http.Request, sign Signer) (*http.Response, error) {
	r = r.WithContext(ctx)
	if err := c.checkURL(r.URL); err != nil {
		return nil, err
	}
	c.prepare(r)
	if sign != nil {
		if err := sign(r); err != nil {
			return nil, err
		}
	}
	hc := *c.http
	hc.CheckRedirect = func(next *http.Request, via []*http.Request) error {
		if m := via[0].Method; m != http.MethodGet && m != http.MethodHead {
			// A delivery is not sent on to wherever its inbox points: the
			// caller sees the redirect.
			return http.ErrUseLastResponse
		}
		if len(via) > maxRedirects {
			return &RefusedError{URL: next.URL.String(), Reason: "too many redirects"}
		}
		if err := c.checkURL(next.URL); err != nil {
			return err
		}
		// The previous target's signature means nothing here; a fresh one
		// is made for this URL.
		// Go adds Referer on a redirect: the previous URL, query and all,
		// is no business of the next host.
		for _, h := range []string{"Signature", "Signature-Input", "Authorization", "Cookie", "Referer"} {
			next.Header.Del(h)
		}
		c.prepare(next)
		if sign != nil {
			return sign(next)
		}
		return nil
	}
	resp, err := hc.Do(r)
	if err != nil {
		var refused *RefusedError
		if errors.As(err, &refused) {
			return nil, refused
		}
		return nil, fmt.Errorf("fetch %s: %w", r.URL.Redacted(), err)
	}
	resp.Body = &cappedBody{r: resp.Body, left: c.maxBody}
	return resp, nil
}

func (c *Client) prepare(r *http.Request) {
	r.Header.Set("User-Agent", c.userAgent)
	r.Header.Del("Cookie")
}

// cappedBody fails a read past the cap instead of truncating, so a caller
// never parses a document cut short.
type cappedBody struct {
	r    io.ReadCloser
	left int64
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// Is there more? One byte tells.
		var one [1]byte
		n, err := b.r.Read(one[:])
		if n > 0 {
			return 0, ErrBodyTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *cappedBody) Close() error { return b.r.Close() }

// Get fetches url with the given Accept header through Do.
func (c *Client) Get(ctx context.Context, rawURL, accept string, sign Signer) (*http.Response, error) {
	r, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, &RefusedError{URL: rawURL, Reason: "not a URL"}
	}
	if accept != "" {
		r.Header.Set("Accept", accept)
	}
	return c.Do(ctx, r, sign)
}
