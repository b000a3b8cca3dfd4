package deploy

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/template"

	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/httpsec"
	"github.com/rampart-social/rampart/internal/media"
)

// NginxOptions are the inputs of `rampart gen nginx` besides the config.
type NginxOptions struct {
	// Cert and Key serve the instance host. Empty: Let's Encrypt's paths
	// for the host (/etc/letsencrypt/live/<host>/fullchain.pem, privkey.pem).
	Cert, Key string
	// MediaCert and MediaKey serve the media host. Empty: Cert and Key when
	// those were given (one certificate naming both hosts), else Let's
	// Encrypt's paths for the media host.
	MediaCert, MediaKey string
	HTTPSPort           int
	HTTPPort            int
	// ACMEWebroot is served at /.well-known/acme-challenge/ on the http port,
	// so that certbot --webroot can renew; empty leaves it out.
	ACMEWebroot string
	// HTTP2Directive writes `http2 on;` (nginx 1.25.1 and later) instead of
	// `listen … ssl http2`. The default form works on every nginx — Debian 12
	// ships 1.22, which does not know the directive — and newer ones only
	// warn that it is deprecated.
	HTTP2Directive bool
	// Backends are the addresses of several `rampart serve` processes on one
	// PostgreSQL database (host:port or unix:/path), proxied to in turn
	// through an upstream block. Empty: http.listen alone.
	Backends []string
}

// upstreamName names the upstream block of Backends.
const upstreamName = "rampart_backends"

// DefaultACMEWebroot is where `certbot certonly --webroot` writes challenges.
const DefaultACMEWebroot = "/var/www/letsencrypt"

// DefaultNginxOptions are `rampart gen nginx`'s defaults: Let's Encrypt's
// certificates, ports 443 and 80.
func DefaultNginxOptions() NginxOptions {
	return NginxOptions{HTTPSPort: 443, HTTPPort: 80, ACMEWebroot: DefaultACMEWebroot}
}

// LetsEncryptPaths are certbot's certificate and key for a host.
func LetsEncryptPaths(host string) (cert, key string) {
	dir := "/etc/letsencrypt/live/" + host
	return dir + "/fullchain.pem", dir + "/privkey.pem"
}

// nginxUnsafe are characters that would end, quote or expand an nginx
// parameter ($ starts a variable in ssl_certificate since nginx 1.15.9).
const nginxUnsafe = " \t\r\n\"'\\;{}$#`"

func checkNginxPath(flag, p string) error {
	if !filepath.IsAbs(p) || strings.ContainsAny(p, nginxUnsafe) {
		return fmt.Errorf("%s: %q must be an absolute path without spaces, quotes, ;, {, }, $ or #", flag, p)
	}
	return nil
}

func checkPort(flag string, p int) error {
	if p < 1 || p > 65535 {
		return fmt.Errorf("%s: %d is not a port (1–65535)", flag, p)
	}
	return nil
}

// checkServerName accepts a DNS name or an IPv4 address: what nginx's
// server_name and a certificate can name without quoting.
func checkServerName(key, host string) error {
	if host == "" || len(host) > 253 || strings.HasPrefix(host, ".") || strings.HasPrefix(host, "-") {
		return fmt.Errorf("%s: host %q is not a DNS name nginx can serve", key, host)
	}
	for _, r := range host {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return fmt.Errorf("%s: host %q is not a DNS name nginx can serve", key, host)
		}
	}
	return nil
}

// upstream is proxy_pass's target for a listen address (key names it): the TCP address, with a
// wildcard bind reached on loopback, or nginx's unix-socket form.
func upstream(key, listen string) (string, error) {
	if path, ok := strings.CutPrefix(listen, config.UnixPrefix); ok {
		if err := checkNginxPath(key, path); err != nil {
			return "", err
		}
		return "http://unix:" + path + ":", nil
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("%s: %q is not host:port or unix:/path", key, listen)
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	if strings.ContainsAny(host, nginxUnsafe) {
		return "", fmt.Errorf("%s: %q has a host nginx cannot name", key, listen)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("%s: %q has no port number", key, listen)
	}
	return "http://" + net.JoinHostPort(host, port), nil
}

// nginxSize writes a byte count as nginx reads it (k when it divides evenly).
func nginxSize(n int64) string {
	if n%(1<<20) == 0 {
		return strconv.FormatInt(n>>20, 10) + "m"
	}
	if n%(1<<10) == 0 {
		return strconv.FormatInt(n>>10, 10) + "k"
	}
	return strconv.FormatInt(n, 10)
}

// ProxyErrorLocation is the internal location of each https server that
// answers the errors nginx produces itself (error_page sends them there), with
// the host's security headers.
const ProxyErrorLocation = "/.rampart-proxy-error"

// ProxyErrorCodes are the statuses error_page sends to ProxyErrorLocation:
// every error nginx can produce itself in front of Rampart (494–497 are its
// internal codes for an oversized header, certificate errors and plain http
// on the https port, sent as 400). Rampart's own errors are not among them:
// proxy_intercept_errors is off, so error_page never sees an upstream answer.
// 404 is here for the location itself, which is internal: a client asking
// for it gets nginx's 404 through the same location.
var ProxyErrorCodes = []int{400, 403, 404, 405, 408, 411, 413, 414, 416, 421, 429, 494, 495, 496, 497, 500, 501, 502, 503, 504, 505, 507}

// nginxHeader is one header of a host's set: an add_header of the error
// location, and of the proxy locations through Var (see nginxProxy).
type nginxHeader struct{ Name, Value, Var string }

// nginxProxy is what a location that proxies to Rampart needs. Fallback are
// the host's headers for an answer of Rampart's listener that has no
// X-Request-Id: Rampart's handler marks every answer it writes with one, so
// such an answer was written by Go's HTTP server before any handler ran (a
// header line it refuses: 400). Each header's value comes from a map on
// $upstream_http_x_request_id that is empty for Rampart's own answers, and
// add_header adds nothing for an empty value.
type nginxProxy struct {
	Upstream, HostHeader string
	Fallback             []nginxHeader
}

// nginxErrorPage is what one https server needs to answer nginx's own errors.
type nginxErrorPage struct {
	Location, Codes string
	Headers         []nginxHeader
}

// nginxHeaders turns one of httpsec's sets into add_header arguments, sorted
// by name. A value nginx cannot write literally inside double quotes (a quote,
// a backslash, $ which starts a variable, or a control character) is refused.
func nginxHeaders(host string, h http.Header) ([]nginxHeader, error) {
	var out []nginxHeader
	for name, vals := range h {
		for _, v := range vals {
			if strings.ContainsAny(v, "\"\\$") || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
				return nil, fmt.Errorf("the %s host's %s header %q holds a character nginx cannot write literally (a quote, a backslash, $ or a control character); change the config value it comes from", host, name, v)
			}
			out = append(out, nginxHeader{Name: name, Value: v})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	for i := range out {
		out[i].Var = fmt.Sprintf("$rampart_%s_%d", nginxVarLabel(host), i)
	}
	return out, nil
}

// nginxVarLabel turns a host name into the part of a variable name that keeps
// two sites (two instances on one nginx) from sharing variables.
func nginxVarLabel(host string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return '_'
	}, host)
}

// NginxSite renders the nginx site (server blocks only, for
// /etc/nginx/sites-available/rampart) that terminates TLS for the instance
// and media hosts of cfg and proxies both to Rampart's listener.
func NginxSite(cfg *config.Config, o NginxOptions) (string, error) {
	inst, med := cfg.InstanceURL(), cfg.MediaOrigin()
	if inst.Scheme != "https" || med.Scheme != "https" {
		return "", fmt.Errorf("url (%s) and media_url (%s) must both be https: this site terminates TLS for them (a dev config cannot be deployed behind it)", inst, med)
	}
	host, mediaHost := inst.Hostname(), med.Hostname()
	if err := checkServerName("url", host); err != nil {
		return "", err
	}
	if err := checkServerName("media_url", mediaHost); err != nil {
		return "", err
	}

	if err := checkPort("--https-port", o.HTTPSPort); err != nil {
		return "", err
	}
	if err := checkPort("--http-port", o.HTTPPort); err != nil {
		return "", err
	}
	if o.HTTPSPort == o.HTTPPort {
		return "", fmt.Errorf("--https-port and --http-port are both %d; they need two ports", o.HTTPSPort)
	}

	if (o.Cert == "") != (o.Key == "") {
		return "", fmt.Errorf("--cert and --key go together: give both, or neither for /etc/letsencrypt/live/%s/", host)
	}
	if (o.MediaCert == "") != (o.MediaKey == "") {
		return "", fmt.Errorf("--media-cert and --media-key go together: give both, or neither")
	}
	switch {
	case o.MediaCert == "" && o.Cert != "":
		o.MediaCert, o.MediaKey = o.Cert, o.Key
	case o.MediaCert == "":
		o.MediaCert, o.MediaKey = LetsEncryptPaths(mediaHost)
	}
	if o.Cert == "" {
		o.Cert, o.Key = LetsEncryptPaths(host)
	}
	for _, p := range []struct{ flag, path string }{
		{"--cert", o.Cert}, {"--key", o.Key}, {"--media-cert", o.MediaCert}, {"--media-key", o.MediaKey},
	} {
		if err := checkNginxPath(p.flag, p.path); err != nil {
			return "", err
		}
	}
	if o.ACMEWebroot != "" {
		if err := checkNginxPath("--acme-webroot", o.ACMEWebroot); err != nil {
			return "", err
		}
	}

	up, err := upstream("http.listen", cfg.HTTP.Listen)
	if err != nil {
		return "", err
	}
	var servers []string
	for _, b := range o.Backends {
		u, err := upstream("--backend", b)
		if err != nil {
			return "", err
		}
		// proxy_pass's form less its scheme (and a socket's trailing colon)
		// is the upstream server's.
		servers = append(servers, strings.TrimSuffix(strings.TrimPrefix(u, "http://"), ":"))
	}
	if len(servers) > 0 {
		up = "http://" + upstreamName
	}

	sec := httpsec.New(cfg)
	appHeaders, err := nginxHeaders(host, sec.AppHeaders())
	if err != nil {
		return "", err
	}
	mediaHeaders, err := nginxHeaders(mediaHost, sec.MediaHeaders())
	if err != nil {
		return "", err
	}
	codes := make([]string, len(ProxyErrorCodes))
	for i, c := range ProxyErrorCodes {
		codes[i] = strconv.Itoa(c)
	}

	data := struct {
		NginxOptions
		Host, MediaHost, Upstream, Listen, UploadLimit string
		HostHeader, RedirectHost, UpstreamName         string
		Servers                                        []string
		UploadBytes                                    int64
		AppErrors, MediaErrors                         nginxErrorPage
		AppProxy, MediaProxy                           nginxProxy
	}{
		AppErrors:    nginxErrorPage{ProxyErrorLocation, strings.Join(codes, " "), appHeaders},
		MediaErrors:  nginxErrorPage{ProxyErrorLocation, strings.Join(codes, " "), mediaHeaders},
		NginxOptions: o,
		Host:         host,
		MediaHost:    mediaHost,
		Upstream:     up,
		Listen:       cfg.HTTP.Listen,
		UploadBytes:  media.MaxBytes(cfg),
		UploadLimit:  nginxSize(media.MaxBytes(cfg)),
		HostHeader:   "$host",
		RedirectHost: "$host",
	}
	if o.HTTPSPort != 443 {
		// $host has no port; keep the one the client used (and a remote
		// server signs), and send the redirect to it.
		data.HostHeader = "$host:" + strconv.Itoa(o.HTTPSPort)
		data.RedirectHost = data.HostHeader
	}
	data.AppProxy = nginxProxy{Upstream: up, HostHeader: data.HostHeader, Fallback: appHeaders}
	data.MediaProxy = nginxProxy{Upstream: up, HostHeader: data.HostHeader, Fallback: mediaHeaders}
	if len(servers) > 0 {
		data.Listen = strings.Join(o.Backends, ", ")
		data.UpstreamName, data.Servers = upstreamName, servers
	}
	var buf bytes.Buffer
	if err := nginxTemplate.Execute(&buf, data); err != nil {
		return "", fmt.Errorf("render nginx site: %w", err)
	}
	return buf.String(), nil
}

// nginxTemplate has server blocks only: Debian's nginx.conf includes
// sites-enabled/* inside its http block.
var nginxTemplate = template.Must(template.New("nginx").Parse(`{{define "listen"}}
    listen {{.HTTPSPort}} ssl{{if not .HTTP2Directive}} http2{{end}};
    listen [::]:{{.HTTPSPort}} ssl{{if not .HTTP2Directive}} http2{{end}};
{{- if .HTTP2Directive}}
    http2 on;
{{- end}}
{{- end}}
{{- define "tls"}}
    # TLS 1.2 and 1.3 only, with forward-secret AEAD suites (Mozilla's
    # "intermediate" profile); every suite offered is strong, so the client
    # may pick the one fastest for it.
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305;
    ssl_prefer_server_ciphers off;
    ssl_session_timeout 1d;
    ssl_session_cache shared:rampart_tls:10m;
    # nginx never rotates session ticket keys, which would undo forward secrecy.
    ssl_session_tickets off;

    # No nginx version in the Server header or error pages.
    server_tokens off;
    # Compressing secrets (CSRF tokens) together with attacker-chosen text
    # over TLS is the BREACH attack; Rampart's responses are small.
    gzip off;
{{- end}}
{{- define "proxy"}}
        proxy_pass {{.Upstream}};
        proxy_set_header Host {{.HostHeader}};
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header X-Real-IP $remote_addr;
        # Rampart's answers, its errors included, pass through as they are:
        # error_page never replaces them.
        proxy_intercept_errors off;
        # The host's headers for an answer Go's HTTP server wrote before
        # Rampart's handler ran (no X-Request-Id): empty, so not added, for
        # every answer of Rampart's own (the maps at the top).
{{- range .Fallback}}
        add_header {{.Name}} {{.Var}} always;
{{- end}}
{{- end -}}
{{- define "errors"}}
    # nginx answers some requests itself, before or instead of Rampart: a
    # malformed request or an oversized header (400), a body over
    # client_max_body_size (413), an over-long URI (414), and 502 or 504
    # while Rampart is down or slow. error_page sends every such answer to
    # the location below, which carries this host's security headers.
    error_page {{.Codes}} {{.Location}};
    # HTTP/0.9 has no headers, so nothing could protect an answer to it:
    # close such a request instead ($status reads 009 for one).
    if ($status = 009) {
        return 444;
    }
{{- end}}
{{- define "errorLocation"}}
    # nginx's own answers (error_page above), with the headers Rampart sends
    # on this host: the values are Rampart's own (internal/httpsec), written
    # here by gen nginx. The status stays the error's. Internal: a client
    # asking for this path gets nginx's 404, through this location too.
    location = {{.Location}} {
        internal;
        # Over HTTP/2 nginx checks the body size again here, and a second
        # 413 would get its bare page: the body is only discarded here.
        client_max_body_size 0;
        default_type text/plain;
{{- range .Headers}}
        add_header {{.Name}} "{{.Value}}" always;
{{- end}}
        return 404 "Error $status, answered by the proxy in front of Rampart.\n";
    }
{{- end -}}
# Rampart — generated by ` + "`rampart gen nginx`" + ` for {{.Host}} and {{.MediaHost}}.
# Install it as /etc/nginx/sites-available/rampart, link it into
# /etc/nginx/sites-enabled/, then: nginx -t && systemctl reload nginx
#
# nginx terminates TLS for both hosts and passes every request to Rampart at
# {{.Listen}}:
# - with the Host the client asked for: Rampart routes by it between the
#   instance and the media host, and answers 421 for any other name;
# - with X-Forwarded-For: Rampart believes it only from http.trusted_proxies
#   (loopback by default) and takes the rightmost address it does not trust,
#   the client nginx saw, so sign-in limits count per real client.
# Rampart sends the security headers itself (CSP, HSTS, X-Frame-Options,
# nosniff, …, and the sandbox CSP on media): nothing here adds, overrides or
# hides a header of Rampart's answers, so what Rampart decides reaches the
# browser. Only answers Rampart's handler never saw get headers from this
# site: nginx's own error pages, and what Go's HTTP server refuses before any
# handler runs. They get the same set, written from Rampart's own values.
{{- if .Servers}}

# The rampart serve processes sharing the instance's PostgreSQL database:
# requests go to them in turn, and one that does not answer is passed over
# for a while (nginx's max_fails and fail_timeout).
upstream {{.UpstreamName}} {
{{- range .Servers}}
    server {{.}};
{{- end}}
}
{{- end}}

# Rampart's handler marks every answer it writes with X-Request-Id. For an
# answer without one, each map holds one header of the host's set; for every
# answer of Rampart's own it is empty, and add_header adds nothing then.
{{- range .AppProxy.Fallback}}
map $upstream_http_x_request_id {{.Var}} {
    "" "{{.Value}}";
    default "";
}
{{- end}}
{{- range .MediaProxy.Fallback}}
map $upstream_http_x_request_id {{.Var}} {
    "" "{{.Value}}";
    default "";
}
{{- end}}

# The instance host: pages, the API, OAuth.
server {
{{- template "listen" .}}
    server_name {{.Host}};
{{template "tls" .}}

    ssl_certificate {{.Cert}};
    ssl_certificate_key {{.Key}};

    # Uploads (POST /api/v1/media and /api/v2/media, PATCH
    # update_credentials) may be as large as media.MaxBytes: the largest
    # media.max_*_bytes plus 64 KiB for the multipart form, {{.UploadBytes}} bytes
    # with this config. Rampart caps every other route at http.max_body_bytes
    # itself. nginx reads the whole body before passing it on, so a slow
    # uploader holds an nginx connection, not a Rampart one.
    client_max_body_size {{.UploadLimit}};
{{template "errors" .AppErrors}}

    location / {
{{- template "proxy" .AppProxy}}
    }

    # The streaming API is a WebSocket: HTTP/1.1 with the Upgrade handshake
    # passed on (Connection is fixed: "upgrade" for a request without Upgrade
    # is ignored by Rampart), and a quiet stream kept open for an hour.
    location /api/v1/streaming {
{{- template "proxy" .AppProxy}}
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection "upgrade";
        proxy_read_timeout 1h;
        proxy_send_timeout 1h;
    }
{{template "errorLocation" .AppErrors}}
}

# The media host: uploaded files only, on an origin apart from the instance.
server {
{{- template "listen" .}}
    server_name {{.MediaHost}};
{{template "tls" .}}

    ssl_certificate {{.MediaCert}};
    ssl_certificate_key {{.MediaKey}};

    # Uploads go to the instance host; the media host only serves files, so
    # any request body beyond 1 KiB is refused here with 413.
    client_max_body_size 1k;
{{template "errors" .MediaErrors}}

    location / {
{{- template "proxy" .MediaProxy}}
    }
{{template "errorLocation" .MediaErrors}}
}

# Plain http for both names: only the way to https (and the ACME challenge,
# so that certificates renew).
server {
    listen {{.HTTPPort}};
    listen [::]:{{.HTTPPort}};
    server_name {{.Host}} {{.MediaHost}};
    server_tokens off;
{{- if .ACMEWebroot}}

    # certbot certonly --webroot -w {{.ACMEWebroot}} puts its challenges here.
    location ^~ /.well-known/acme-challenge/ {
        root {{.ACMEWebroot}};
        default_type text/plain;
    }
{{- end}}

    location / {
        return 301 https://{{.RedirectHost}}$request_uri;
    }
}
`))
