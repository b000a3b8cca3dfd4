package outbound

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestPublicAddresses(t *testing.T) {
	refused := []string{
		"127.0.0.1", "127.8.9.10", "10.0.0.1", "10.255.255.255", "172.16.0.1", "172.31.255.254",
		"192.168.1.1", "169.254.169.254", "100.64.0.1", "100.127.255.254", "0.0.0.0", "0.1.2.3",
		"224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255", "192.0.2.1", "198.51.100.7",
		"203.0.113.9", "198.18.0.1",
		"::", "::1", "fc00::1", "fd12:3456::1", "fd00:ec2::254", "fe80::1", "fe80::1%eth0", "fec0::1", "ff02::1",
		"2001:db8::1", "100::1", "2001::1",
		"::ffff:127.0.0.1", "::ffff:10.1.2.3", "::ffff:169.254.169.254", "::127.0.0.1",
		"64:ff9b::7f00:1", "64:ff9b::a00:1", "64:ff9b:1::1", "2002:7f00:1::", "2002:a9fe:a9fe::1",
	}
	public := []string{
		"8.8.8.8", "1.1.1.1", "93.184.216.34", "172.32.0.1", "100.128.0.1", "192.169.0.1",
		"2606:4700:4700::1111", "2a00:1450:4001::200e",
		"::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1",
	}
	for _, s := range refused {
		if Public(netip.MustParseAddr(s)) {
			t.Errorf("%s counted as public; it must be refused", s)
		}
	}
	for _, s := range public {
		if !Public(netip.MustParseAddr(s)) {
			t.Errorf("%s refused; it is a public address", s)
		}
	}
}

// dnsServer answers every A query with one address (and every other query
// with nothing): the resolver a test controls.
func dnsServer(t *testing.T, answer netip.Addr) *net.Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			q := buf[:n]
			if len(q) < 12 {
				continue
			}
			// The question: labels up to a zero byte, then type and class.
			i := 12
			for i < len(q) && q[i] != 0 {
				i += int(q[i]) + 1
			}
			if i+5 > len(q) {
				continue
			}
			qtype := binary.BigEndian.Uint16(q[i+1:])
			question := q[12 : i+5]
			resp := append([]byte(nil), q[:2]...)                   // id
			resp = append(resp, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0) // answer, no error; 1 question
			resp = append(resp, question...)
			if qtype == 1 && answer.Is4() {
				resp[7] = 1 // one answer
				a := answer.As4()
				resp = append(resp, 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4)
				resp = append(resp, a[:]...)
			}
			_, _ = pc.WriteTo(resp, from)
		}
	}()
	addr := pc.LocalAddr().String()
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", addr)
	}}
}

// countingListener counts the connections made to it.
func countingListener(t *testing.T) (port string, accepted *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	accepted = &atomic.Int64{}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	_, port, _ = net.SplitHostPort(ln.Addr().String())
	return port, accepted
}

func isRefused(err error) bool {
	var r *RefusedError
	return errors.As(err, &r)
}

func TestTheGuardRefusesBeforeConnecting(t *testing.T) {
	port, accepted := countingListener(t)
	c := New(Config{UserAgent: "test", Resolver: dnsServer(t, netip.MustParseAddr("127.0.0.1"))})
	for _, host := range []string{
		"127.0.0.1", "[::1]", "10.0.0.1", "172.16.0.1", "192.168.0.1", "169.254.169.254", "100.64.0.1",
		"[fc00::1]", "[fe80::1]", "[::ffff:127.0.0.1]", "[64:ff9b::7f00:1]",
		"rebind.test", // a name that resolves to 127.0.0.1 (DNS rebinding)
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		resp, err := c.Get(ctx, "https://"+host+":"+port+"/actor", "", nil)
		cancel()
		if err == nil {
			resp.Body.Close()
		}
		if !isRefused(err) {
			t.Errorf("https://%s:%s: %v; want the guard's refusal", host, port, err)
		}
	}
	if n := accepted.Load(); n != 0 {
		t.Fatalf("%d connections reached the local listener; the guard must refuse before connecting", n)
	}
}

func TestOnlyHTTPSLeavesExceptForTestHosts(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	for _, raw := range []string{srv.URL, "ftp://" + host + "/", "https://user:pw@example.com/", "//example.com/", "file:///etc/passwd"} {
		resp, err := New(Config{}).Get(context.Background(), raw, "", nil)
		if err == nil {
			resp.Body.Close()
		}
		if !isRefused(err) {
			t.Errorf("%s without an allow-list: %v; want refused", raw, err)
		}
	}
	resp, err := New(Config{TestHosts: []string{host}}).Get(context.Background(), srv.URL, "", nil)
	if err != nil {
		t.Fatalf("an allow-listed test host: %v", err)
	}
	resp.Body.Close()
}

func TestARedirectIsCheckedLikeTheFirstRequest(t *testing.T) {
	port, accepted := countingListener(t)
	targets := []string{
		"https://10.0.0.1/x",
		"https://127.0.0.1:" + port + "/x",
		"http://127.0.0.1:" + port + "/x", // http, and not the allow-listed port
		"https://[::1]:" + port + "/x",
	}
	var mu sync.Mutex
	next := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		to := targets[next]
		next++
		mu.Unlock()
		http.Redirect(w, r, to, http.StatusFound)
	}))
	defer srv.Close()
	c := New(Config{TestHosts: []string{strings.TrimPrefix(srv.URL, "http://")}})
	for _, to := range targets {
		resp, err := c.Get(context.Background(), srv.URL+"/start", "", nil)
		if err == nil {
			resp.Body.Close()
		}
		if !isRefused(err) {
			t.Errorf("redirect to %s: %v; want refused", to, err)
		}
	}
	if n := accepted.Load(); n != 0 {
		t.Fatalf("%d connections reached the redirect's target", n)
	}
}

func TestEachHopIsSignedForItsOwnURLAndNoCookieLeaves(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]http.Header{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.URL.Path] = r.Header.Clone()
		mu.Unlock()
		if r.URL.Path == "/a" {
			http.Redirect(w, r, "/b", http.StatusMovedPermanently)
			return
		}
		io.WriteString(w, "done")
	}))
	defer srv.Close()
	c := New(Config{UserAgent: "Rampart/test (+https://a.example/)", TestHosts: []string{strings.TrimPrefix(srv.URL, "http://")}})
	r, _ := http.NewRequest(http.MethodGet, srv.URL+"/a?token=secret", nil)
	r.Header.Set("Cookie", "session=secret")
	resp, err := c.Do(context.Background(), r, func(r *http.Request) error {
		r.Header.Set("Signature", "for "+r.URL.Path)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, path := range []string{"/a", "/b"} {
		h := seen[path]
		if h == nil {
			t.Fatalf("%s was not requested", path)
		}
		if got := h.Get("Signature"); got != "for "+path {
			t.Errorf("%s: Signature %q; want the hop's own", path, got)
		}
		if path == "/b" && h.Get("Referer") != "" {
			t.Errorf("the redirect's target was told where it came from: Referer %q", h.Get("Referer"))
		}
		if h.Get("Cookie") != "" {
			t.Errorf("%s: a cookie left: %q", path, h.Get("Cookie"))
		}
		if got := h.Get("User-Agent"); got != "Rampart/test (+https://a.example/)" {
			t.Errorf("%s: User-Agent %q", path, got)
		}
	}
}

func TestADeliveryIsNotRedirected(t *testing.T) {
	var posts atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/inbox" {
			http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
			return
		}
		posts.Add(1)
	}))
	defer srv.Close()
	c := New(Config{TestHosts: []string{strings.TrimPrefix(srv.URL, "http://")}})
	r, _ := http.NewRequest(http.MethodPost, srv.URL+"/inbox", strings.NewReader("{}"))
	resp, err := c.Do(context.Background(), r, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTemporaryRedirect || posts.Load() != 0 {
		t.Fatalf("status %d, %d requests to the redirect's target; want the 307 itself and none", resp.StatusCode, posts.Load())
	}
}

func TestBodiesAreCappedNotTruncated(t *testing.T) {
	const limit = 1000
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := limit
		if r.URL.Path == "/big" {
			n = limit + 1
		}
		io.WriteString(w, strings.Repeat("x", n))
	}))
	defer srv.Close()
	c := New(Config{MaxBodyBytes: limit, TestHosts: []string{strings.TrimPrefix(srv.URL, "http://")}})
	for path, wantErr := range map[string]error{"/fits": nil, "/big": ErrBodyTooLarge} {
		resp, err := c.Get(context.Background(), srv.URL+path, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !errors.Is(err, wantErr) {
			t.Errorf("%s: read %d bytes, %v; want %v", path, len(b), err, wantErr)
		}
	}
}

func TestASlowServerTimesOut(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer srv.Close()
	defer close(release)
	c := New(Config{Timeout: 300 * time.Millisecond, TestHosts: []string{strings.TrimPrefix(srv.URL, "http://")}})
	resp, err := c.Get(context.Background(), srv.URL, "", nil)
	if err == nil {
		resp.Body.Close()
		t.Fatal("a server that never answers: no error")
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("%v; want a timeout", err)
	}
}

// A host written another way than the one every check before the network
// compares (full-width letters, an ideographic full stop, a trailing dot,
// the default port) is refused: net/http would dial the ASCII host past a
// domain block that compared the text (found in review).
func TestHostsSpelledAnotherWayAreRefused(t *testing.T) {
	port, accepted := countingListener(t)
	host := "localhost:" + port
	c := New(Config{TestHosts: []string{host, "ｌｏｃａｌｈｏｓｔ:" + port, "localhost.:" + port, "localhost:80", "localhost:0" + port}})
	for _, raw := range []string{
		"http://localhost:0" + port + "/actor",
		"https://example.com:0443/actor",
		"http://ｌｏｃａｌｈｏｓｔ:" + port + "/actor",
		"http://localhost。:" + port + "/actor",
		"http://localhost.:" + port + "/actor",
		"https://example.com:443/actor",
		"http://localhost:80/actor",
	} {
		resp, err := c.Get(context.Background(), raw, "", nil)
		if err == nil {
			resp.Body.Close()
		}
		if !isRefused(err) {
			t.Errorf("%s: %v; want refused", raw, err)
		}
	}
	if n := accepted.Load(); n != 0 {
		t.Fatalf("%d connections were made", n)
	}
	// Written plainly, the same host is reached.
	resp, err := c.Get(context.Background(), "http://"+host+"/actor", "", nil)
	if err == nil {
		resp.Body.Close()
	}
	if isRefused(err) || accepted.Load() != 1 {
		t.Fatalf("the host written plainly: %v, %d connections", err, accepted.Load())
	}
}
