package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"time"
)

// ValidUsername applies Mastodon's rule for local usernames: 1–30 of a-z, 0-9
// and _ (compared case-insensitively, so upper case is accepted as typed).
func ValidUsername(u string) bool {
	if len(u) == 0 || len(u) > 30 {
		return false
	}
	for _, r := range u {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// ExampleSecret is the placeholder in the documentation; a config carrying it is refused.
const ExampleSecret = "CHANGE-ME-run-rampart-gen-config"

// MinSecretBytes is the least key material accepted for secret_key.
const MinSecretBytes = 32

// UnixPrefix marks a unix-socket listen address: "unix:/run/rampart/rampart.sock".
const UnixPrefix = "unix:"

// ReferrerPolicies are the values the security layer accepts, strictest last.
var ReferrerPolicies = []string{"same-origin", "no-referrer"}

// OneYear is the HSTS max-age below which browsers' preload lists and audits complain.
const OneYear = 31536000

func (c *Config) validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	warn := func(format string, args ...any) { c.warnings = append(c.warnings, fmt.Sprintf(format, args...)) }

	if c.Env != EnvProd && c.Env != EnvDev {
		bad("env", "%q is not an environment; use %q or %q", c.Env, EnvProd, EnvDev)
	}
	dev := c.Env == EnvDev

	var err error
	if c.instanceURL, err = parseOrigin(c.URL, dev); err != nil {
		bad("url", "%v", err)
	}
	if c.mediaURL, err = parseOrigin(c.MediaURL, dev); err != nil {
		bad("media_url", "%v", err)
	}
	if c.instanceURL != nil && c.mediaURL != nil && c.instanceURL.Hostname() == c.mediaURL.Hostname() {
		// Cookies and ActivityPub origin checks ignore the port, so a different port is no boundary.
		bad("media_url", "%s is on the instance's own host %s; uploads must be served from another host (e.g. media.%s) so user files cannot act with the instance's authority",
			c.MediaURL, c.instanceURL.Hostname(), c.instanceURL.Hostname())
	}

	if !c.SecretKey.IsSet() {
		bad("secret_key", "missing; `rampart gen config` writes a fresh one")
	} else if c.SecretKey.raw == ExampleSecret {
		bad("secret_key", "is the documentation's example; generate a fresh one with `rampart gen config`")
	} else if b, err := c.SecretKey.Bytes(); err != nil {
		bad("secret_key", "must be base64: %v", err)
	} else if len(b) < MinSecretBytes {
		bad("secret_key", "is %d bytes; at least %d random bytes are needed", len(b), MinSecretBytes)
	}

	if strings.TrimSpace(c.DataDir) == "" {
		bad("data_dir", "must name a directory")
	}

	c.validateListen(dev, bad, warn)
	h := c.HTTP
	for key, d := range map[string]Duration{
		"http.read_header_timeout": h.ReadHeaderTimeout, "http.read_timeout": h.ReadTimeout,
		"http.write_timeout": h.WriteTimeout, "http.idle_timeout": h.IdleTimeout, "http.shutdown_timeout": h.ShutdownTimeout,
	} {
		if d <= 0 {
			bad(key, "must be greater than zero (an unbounded timeout lets slow clients hold connections forever)")
		}
	}
	if h.ReadHeaderTimeout > 0 && h.ReadTimeout > 0 && h.ReadHeaderTimeout > h.ReadTimeout {
		bad("http.read_header_timeout", "(%s) is longer than http.read_timeout (%s)", h.ReadHeaderTimeout.D(), h.ReadTimeout.D())
	}
	if h.MaxHeaderBytes < 4<<10 || h.MaxHeaderBytes > 1<<20 {
		bad("http.max_header_bytes", "must be between 4KiB and 1MiB")
	}
	if h.MaxBodyBytes < 1<<10 {
		bad("http.max_body_bytes", "must be at least 1KiB")
	}

	c.trustedProxies = nil
	for _, p := range h.TrustedProxies {
		prefix, err := parseProxy(p)
		if err != nil {
			bad("http.trusted_proxies", "%q is not an address or CIDR range", p)
			continue
		}
		if prefix.Bits() == 0 {
			bad("http.trusted_proxies", "%q would trust X-Forwarded-For from anyone; name the proxy's address", p)
			continue
		}
		c.trustedProxies = append(c.trustedProxies, prefix)
	}
	if why := checkPublicProxies(c.trustedProxies); why != "" {
		bad("http.trusted_proxies", "%s", why)
	}

	switch c.Accounts.Registrations {
	case RegistrationsClosed, RegistrationsApproval, RegistrationsOpen:
	default:
		bad("accounts.registrations", "%q is not a mode; use closed (default), approval or open", c.Accounts.Registrations)
	}
	if n := c.Accounts.PasswordMinLength; n < 8 || n > 128 {
		bad("accounts.password_min_length", "must be between 8 and 128")
	}
	if n := c.Statuses.MaxCharacters; n < 500 || n > 100000 {
		bad("statuses.max_characters", "must be between 500 and 100000")
	}
	m := c.Media
	for key, v := range map[string]ByteSize{"media.max_image_bytes": m.MaxImageBytes, "media.max_video_bytes": m.MaxVideoBytes, "media.max_audio_bytes": m.MaxAudioBytes} {
		if v < 1<<10 || v > 2<<30 {
			bad(key, "must be between 1KiB and 2GiB")
		}
	}
	if m.MaxImagePixels < 1<<16 || m.MaxImagePixels > 400_000_000 {
		bad("media.max_image_pixels", "must be between 65536 and 400000000 (a decoded pixel takes from 1 to 24 bytes of memory; media.decode_memory_bytes bounds what an image may cost)")
	}
	if m.DescriptionLimit < 1 || m.DescriptionLimit > 10000 {
		bad("media.description_limit", "must be between 1 and 10000")
	}
	if m.SyncLimitBytes < 0 {
		bad("media.sync_limit_bytes", "must not be negative")
	}
	if m.CacheMaxAge < 0 {
		bad("media.cache_max_age", "must not be negative")
	}
	if m.DecodeMemoryBytes < 64<<20 || m.DecodeMemoryBytes > 64<<30 {
		bad("media.decode_memory_bytes", "must be between 64MiB and 64GiB")
	}
	if u := c.Instance.ContactUsername; u != "" && !ValidUsername(u) {
		bad("instance.contact_username", "%q is not a username (a-z, 0-9, _; up to 30)", u)
	}
	if strings.TrimSpace(c.Instance.Title) == "" {
		bad("instance.title", "must not be empty")
	}
	if n := len(c.Instance.Rules); n > MaxRules {
		bad("instance.rules", "has %d rules; at most %d", n, MaxRules)
	}
	for i, r := range c.Instance.Rules {
		if strings.TrimSpace(r) == "" {
			bad("instance.rules", "rule %d is blank", i+1)
		} else if len(r) > MaxRuleBytes {
			bad("instance.rules", "rule %d is longer than %d bytes", i+1, MaxRuleBytes)
		}
	}
	if len(c.Instance.ExtendedDescription) > MaxExtendedDescriptionBytes {
		bad("instance.extended_description", "is longer than %d bytes", MaxExtendedDescriptionBytes)
	}

	c.validateSecurity(bad, warn)

	c.validateDatabase(bad)
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "%q is not a level; use debug, info, warn or error", c.Log.Level)
	}
	c.validateDebug(dev, bad, warn)
	c.validateFederation(dev, bad, warn)
	c.validateStreaming(bad)
	c.validateLimits(bad)
	switch c.Log.Format {
	case "", "json", "text":
	default:
		bad("log.format", "%q is not a format; use json or text (empty: json in prod, text in dev)", c.Log.Format)
	}
	return errors.Join(errs...)
}

func (c *Config) validateListen(dev bool, bad func(string, string, ...any), warn func(string, ...any)) {
	addr := c.HTTP.Listen
	if path, ok := strings.CutPrefix(addr, UnixPrefix); ok {
		if !strings.HasPrefix(path, "/") {
			bad("http.listen", "unix socket path %q must be absolute", path)
		}
		return
	}
	host, ok := hostPort("http.listen", addr, "host:port or unix:/path", bad)
	if !ok {
		return
	}
	if IsLoopbackHost(host) {
		return
	}
	if dev {
		bad("http.listen", "%s is not a loopback address; the dev environment serves plain http and only listens on loopback", addr)
		return
	}
	warn("http.listen is %s, not loopback: Rampart is reachable directly, without the reverse proxy that terminates TLS; bind 127.0.0.1 or a unix socket unless a firewall closes this port", addr)
}

// validateFederation checks the mode, and the test allow-list: each entry a
// host or host:port, and in prod a warning at every start while it is not empty,
// since each entry is a way around the outbound guard.
func (c *Config) validateFederation(dev bool, bad func(string, string, ...any), warn func(string, ...any)) {
	if m := c.Federation.Mode; m != FederationBlocklist && m != FederationAllowlist {
		bad("federation.mode", "%q is not \"blocklist\" or \"allowlist\"", m)
	}
	for _, h := range c.Federation.TestHosts {
		host := h
		if hp, _, err := net.SplitHostPort(h); err == nil {
			host = hp
		}
		if host == "" || strings.ContainsAny(h, "/?#@ ") {
			bad("federation.test_hosts", "%q is not a host or host:port", h)
		}
	}
	if len(c.Federation.TestHosts) > 0 && !dev {
		warn("federation.test_hosts is not empty (%s): requests to these hosts skip the outbound guard (http and private addresses allowed); it is meant for tests only", strings.Join(c.Federation.TestHosts, ", "))
	}
}

// validateDebug holds the profiling listener to loopback: profiles show the
// process's code paths and can cost CPU on demand, so only the machine itself
// may ask; even so it is warned about in prod, where it should be on only
// while someone is looking.
func (c *Config) validateDebug(dev bool, bad func(string, string, ...any), warn func(string, ...any)) {
	addr := c.Debug.PprofListen
	if addr == "" {
		return
	}
	host, ok := hostPort("debug.pprof_listen", addr, "host:port", bad)
	if !ok {
		return
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		bad("debug.pprof_listen", "%s is not a loopback IP address; the profiler is only ever served to this machine (127.0.0.1 or [::1])", addr)
		return
	}
	if !dev {
		warn("debug.pprof_listen is %s: Go's profiler answers on loopback; turn it off (remove the key) when the profiling is done", addr)
	}
}

// hostPort splits a listen address of key into its host and a valid port,
// or reports why it cannot (shape names the forms key accepts).
func hostPort(key, addr, shape string, bad func(string, string, ...any)) (string, bool) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		bad(key, "%q is not %s (%v)", addr, shape, err)
		return "", false
	}
	if p, err := parsePort(port); err != nil || p > 65535 {
		bad(key, "%q has no valid port", addr)
		return "", false
	}
	return host, true
}

func parsePort(s string) (int, error) {
	n := 0
	if s == "" || len(s) > 5 {
		return 0, errors.New("bad port")
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, errors.New("bad port")
		}
		n = n*10 + int(r-'0')
	}
	return n, nil
}

// IsLoopbackHost reports whether host (an IP or a name) stays on this machine.
func IsLoopbackHost(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (c *Config) validateSecurity(bad func(string, string, ...any), warn func(string, ...any)) {
	s := c.Security
	if !s.Headers {
		warn("security.headers is false: the HTTP security layer is OFF — no CSP, no X-Frame-Options, no HSTS, no Referrer-Policy on the instance host. Browsers of your users are left unprotected")
	}
	ok := false
	for _, p := range ReferrerPolicies {
		ok = ok || s.ReferrerPolicy == p
	}
	if !ok {
		bad("security.referrer_policy", "%q is not allowed; use %q (default) or %q", s.ReferrerPolicy, ReferrerPolicies[0], ReferrerPolicies[1])
	}
	if s.STSMaxAge < 0 {
		bad("security.sts_max_age", "must not be negative")
	}
	https := c.instanceURL != nil && c.instanceURL.Scheme == "https"
	if s.STSPreload && (!s.STS || s.STSMaxAge < OneYear) {
		bad("security.sts_preload", "needs security.sts = true and security.sts_max_age of at least %d (one year)", OneYear)
	}
	if https && s.Headers && !s.STS {
		warn("security.sts is false: browsers will not be told to insist on https for this instance")
	} else if https && s.Headers && s.STSMaxAge < OneYear {
		warn("security.sts_max_age is %d: less than a year (%d) weakens HSTS", s.STSMaxAge, OneYear)
	}
	if !s.SecureCookies {
		warn("security.secure_cookies is false: the session cookie loses its __Host- prefix and Secure flag, so it can travel over plain http and be set by sibling hosts")
	}
	if s.SessionLifetime < Duration(5*time.Minute) {
		bad("security.session_lifetime", "must be at least 5m")
	}
	if l := s.AccessTokenLifetime; l != 0 && l < Duration(5*time.Minute) {
		bad("security.access_token_lifetime", "must be 0 (no expiry) or at least 5m")
	}
	if s.LoginAttempts < 1 || s.LoginAttempts > 1000 {
		bad("security.login_attempts", "must be between 1 and 1000")
	}
	if s.LoginWindow < Duration(time.Second) {
		bad("security.login_window", "must be at least 1s")
	}
	if r := s.CSPReportURI; r != "" {
		if strings.ContainsAny(r, " \t\r\n;,'\"") {
			bad("security.csp_report_uri", "must not contain spaces, quotes, ';' or ','")
		} else if u, err := url.Parse(r); err != nil || (u.Scheme != "https" && u.Scheme != "http" && !strings.HasPrefix(r, "/")) {
			bad("security.csp_report_uri", "%q must be an absolute http(s) URL or a path starting with /", r)
		}
	}
}

// parseOrigin checks a configured origin: scheme and host (and port), nothing else.
// prod accepts only https; dev also accepts http on loopback hosts.
func parseOrigin(raw string, dev bool) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("missing; set it to the public https origin, e.g. https://example.net")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return nil, fmt.Errorf("%q is not an absolute URL like https://example.net", raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("%q must be an origin only (scheme and host), without path, query or credentials", raw)
	}
	if u.Port() != "" {
		if p, err := parsePort(u.Port()); err != nil || p == 0 || p > 65535 {
			return nil, fmt.Errorf("%q has an invalid port", raw)
		}
	}
	u.Host = strings.ToLower(u.Host)
	u.Path = ""
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && dev && IsLoopbackHost(u.Hostname()):
	case u.Scheme == "http" && dev:
		return nil, fmt.Errorf("%q: plain http is only allowed for loopback hosts (localhost, 127.0.0.1) in dev", raw)
	case u.Scheme == "http":
		return nil, fmt.Errorf("%q: the prod environment requires https", raw)
	default:
		return nil, fmt.Errorf("%q: scheme must be https", raw)
	}
	return u, nil
}

// validateStreaming keeps the stream limits within what one process serves.
func (c *Config) validateStreaming(bad func(string, string, ...any)) {
	st := c.Streaming
	for _, l := range []struct {
		key       string
		v, lo, hi int
	}{
		{"streaming.max_per_token", st.MaxPerToken, 1, 1000},
		{"streaming.max_per_account", st.MaxPerAccount, 1, 10000},
		{"streaming.max_connections", st.MaxConnections, 1, 1000000},
		{"streaming.send_queue", st.SendQueue, 1, 4096},
	} {
		if l.v < l.lo || l.v > l.hi {
			bad(l.key, "%d is outside %d-%d", l.v, l.lo, l.hi)
		}
	}
	if st.MaxPerAccount < st.MaxPerToken {
		bad("streaming.max_per_account", "%d is below streaming.max_per_token (%d)", st.MaxPerAccount, st.MaxPerToken)
	}
	if d := st.PingInterval.D(); d < time.Second || d > 5*time.Minute {
		bad("streaming.ping_interval", "%s is outside 1s-5m", d)
	}
}

// validateLimits keeps each limit between off (0) and a bound that still
// limits something.
func (c *Config) validateLimits(bad func(string, string, ...any)) {
	l := c.Limits
	for _, v := range []struct {
		key   string
		v, hi int
	}{
		{"limits.api_requests", l.APIRequests, 1_000_000},
		{"limits.api_requests_anonymous", l.APIRequestsAnonymous, 1_000_000},
		{"limits.posts", l.Posts, 1_000_000},
		{"limits.uploads", l.Uploads, 1_000_000},
		{"limits.follows", l.Follows, 1_000_000},
	} {
		if v.v < 0 || v.v > v.hi {
			bad(v.key, "%d is outside 0-%d (0 turns the limit off)", v.v, v.hi)
		}
	}
}

func (c *Config) validateDatabase(bad func(key, format string, args ...any)) {
	d := c.Database
	switch d.Driver {
	case DriverSQLite:
		if strings.TrimSpace(d.Path) == "" {
			bad("database.path", "must name the database file")
		}
	case DriverPostgres:
		if d.DSN.IsSet() && d.DSNFile != "" {
			bad("database.dsn_file", "set database.dsn or database.dsn_file, not both")
		}
		if !d.DSN.IsSet() && d.DSNFile == "" {
			bad("database.dsn", "must be set for PostgreSQL (or database.dsn_file, or RAMPART_DATABASE_DSN)")
		}
		if d.DSNFile != "" && !filepath.IsAbs(d.DSNFile) {
			bad("database.dsn_file", "%q must be an absolute path", d.DSNFile)
		}
	default:
		bad("database.driver", "%q is not available; use \"sqlite\" or \"postgres\"", d.Driver)
	}
	if d.MaxConnections < 2 || d.MaxConnections > 1000 {
		bad("database.max_connections", "must be between 2 and 1000")
	}
	if d.StatementTimeout < Duration(time.Second) {
		bad("database.statement_timeout", "must be at least 1s")
	}
}

// Bounds of the instance's texts: they are served to anyone, in every
// instance document for the rules.
const (
	MaxRules                    = 100
	MaxRuleBytes                = 1000
	MaxExtendedDescriptionBytes = 64 << 10
)
