package config

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

const testSecret = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" // 32 zero bytes, base64url

// valid is a minimal prod config; tests append or replace lines.
func valid(extra ...string) string {
	return strings.Join(append([]string{
		`url = "https://example.test"`,
		`media_url = "https://media.example.test"`,
		`secret_key = "` + testSecret + `"`,
	}, extra...), "\n") + "\n"
}

func TestMinimalProdConfigGetsHardenedDefaults(t *testing.T) {
	cfg, err := Parse([]byte(valid()), nil)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if cfg.Env != EnvProd {
		t.Errorf("env = %q, want prod by default", cfg.Env)
	}
	if cfg.HTTP.Listen != "127.0.0.1:8080" {
		t.Errorf("listen = %q, want loopback by default", cfg.HTTP.Listen)
	}
	s := cfg.Security
	if !s.Headers || !s.STS || s.STSMaxAge != 63072000 || s.STSPreload || s.ReferrerPolicy != "same-origin" {
		t.Errorf("security defaults = %+v", s)
	}
	if w := cfg.Warnings(); len(w) != 0 {
		t.Errorf("a default config must not warn, got %q", w)
	}
	if cfg.InstanceURL().String() != "https://example.test" || cfg.MediaOrigin().String() != "https://media.example.test" {
		t.Errorf("origins = %s, %s", cfg.InstanceURL(), cfg.MediaOrigin())
	}
}

func TestRejections(t *testing.T) {
	cases := []struct {
		name, file string
		want       string // substring of the error, naming the key
	}{
		{"unknown key", valid(`[http]`, `lisen = "127.0.0.1:1"`), `unknown key "http.lisen"`},
		{"bad env", valid(`env = "staging"`), `env: "staging" is not an environment`},
		{"missing url", `media_url = "https://m.example.test"` + "\n" + `secret_key = "` + testSecret + `"`, "url: missing"},
		{"http url in prod", strings.Replace(valid(), "https://example.test", "http://example.test", 1), `url: "http://example.test": the prod environment requires https`},
		{"url with path", strings.Replace(valid(), "https://example.test", "https://example.test/social", 1), "url: \"https://example.test/social\" must be an origin only"},
		{"media equals instance", strings.Replace(valid(), "https://media.example.test", "https://example.test", 1), "media_url: https://example.test is on the instance's own host example.test"},
		{"media same host other port", strings.Replace(valid(), "https://media.example.test", "https://example.test:8443", 1), "media_url: https://example.test:8443 is on the instance's own host"},
		{"http media in prod", strings.Replace(valid(), "https://media.example.test", "http://media.example.test", 1), "media_url: \"http://media.example.test\": the prod environment requires https"},
		{"missing secret", `url = "https://a.test"` + "\n" + `media_url = "https://b.test"`, "secret_key: missing"},
		{"example secret", strings.Replace(valid(), testSecret, ExampleSecret, 1), "secret_key: is the documentation's example"},
		{"short secret", strings.Replace(valid(), testSecret, "c2hvcnQ", 1), "secret_key: is 5 bytes; at least 32"},
		{"bad listen", valid(`[http]`, `listen = "localhost"`), `http.listen: "localhost" is not host:port`},
		{"bad port", valid(`[http]`, `listen = "127.0.0.1:99999"`), `http.listen: "127.0.0.1:99999" has no valid port`},
		{"relative socket", valid(`[http]`, `listen = "unix:rampart.sock"`), `http.listen: unix socket path "rampart.sock" must be absolute`},
		{"zero timeout", valid(`[http]`, `read_timeout = "0s"`), "http.read_timeout: must be greater than zero"},
		{"bad duration", valid(`[http]`, `idle_timeout = "forever"`), `"forever" is not a duration`},
		{"tiny header limit", valid(`[http]`, `max_header_bytes = 100`), "http.max_header_bytes: must be between 4KiB and 1MiB"},
		{"bad size", valid(`[http]`, `max_body_bytes = "lots"`), `"lots" is not a size`},
		{"referrer policy", valid(`[security]`, `referrer_policy = "unsafe-url"`), `security.referrer_policy: "unsafe-url" is not allowed; use "same-origin" (default) or "no-referrer"`},
		{"negative sts", valid(`[security]`, `sts_max_age = -1`), "security.sts_max_age: must not be negative"},
		{"preload without a year", valid(`[security]`, `sts_preload = true`, `sts_max_age = 600`), "security.sts_preload: needs security.sts = true"},
		{"report uri injection", valid(`[security]`, `csp_report_uri = "/r; script-src *"`), "security.csp_report_uri: must not contain"},
		{"report uri relative", valid(`[security]`, `csp_report_uri = "report"`), `security.csp_report_uri: "report" must be an absolute`},
		{"database driver", valid(`[database]`, `driver = "mysql"`), `database.driver: "mysql" is not available`},
		{"log level", valid(`[log]`, `level = "loud"`), `log.level: "loud" is not a level`},
		{"blank rule", valid(`[instance]`, `rules = ["Be kind.", "  "]`), "instance.rules: rule 2 is blank"},
		{"long rule", valid(`[instance]`, `rules = ["`+strings.Repeat("x", 1001)+`"]`), "instance.rules: rule 1 is longer than 1000 bytes"},
		{"long extended description", valid(`[instance]`, `extended_description = "`+strings.Repeat("x", 64<<10+1)+`"`), "instance.extended_description: is longer than 65536 bytes"},
		{"public profiler", valid(`[debug]`, `pprof_listen = "0.0.0.0:6060"`), `debug.pprof_listen: 0.0.0.0:6060 is not a loopback IP address`},
		{"profiler by name", valid(`[debug]`, `pprof_listen = "localhost:6060"`), `debug.pprof_listen: localhost:6060 is not a loopback IP address`},
		{"profiler port", valid(`[debug]`, `pprof_listen = "127.0.0.1:x"`), `debug.pprof_listen: "127.0.0.1:x" has no valid port`},
		{"syntax", valid(`[http`), "line 5: expected"},
		{"wrong type", valid(`[security]`, `headers = "yes"`), "headers"},
		{"trusted proxy /0", valid(`[http]`, `trusted_proxies = ["0.0.0.0/0"]`), `http.trusted_proxies: "0.0.0.0/0" would trust X-Forwarded-For from anyone`},
		{"trusted proxy garbage", valid(`[http]`, `trusted_proxies = ["proxy.local"]`), `http.trusted_proxies: "proxy.local" is not an address or CIDR range`},
		{"registration mode", valid(`[accounts]`, `registrations = "invite"`), `accounts.registrations: "invite" is not a mode`},
		{"password length", valid(`[accounts]`, `password_min_length = 4`), "accounts.password_min_length: must be between 8 and 128"},
		{"contact username", valid(`[instance]`, `contact_username = "no such name!"`), `instance.contact_username: "no such name!" is not a username`},
		{"empty title", valid(`[instance]`, `title = " "`), "instance.title: must not be empty"},
		{"short session", valid(`[security]`, `session_lifetime = "1m"`), "security.session_lifetime: must be at least 5m"},
		{"short token lifetime", valid(`[security]`, `access_token_lifetime = "1m"`), "security.access_token_lifetime: must be 0 (no expiry) or at least 5m"},
		{"login attempts", valid(`[security]`, `login_attempts = 0`), "security.login_attempts: must be between 1 and 1000"},
		{"login window", valid(`[security]`, `login_window = "10ms"`), "security.login_window: must be at least 1s"},
		{"status length", valid(`[statuses]`, `max_characters = 10`), "statuses.max_characters: must be between 500 and 100000"},
		{"dev public listen", valid(`env = "dev"`, `[http]`, `listen = "0.0.0.0:8080"`), "http.listen: 0.0.0.0:8080 is not a loopback address; the dev environment"},
		{"dev http on public host", `env = "dev"` + "\n" + `url = "http://example.test"` + "\n" + `media_url = "http://127.0.0.1:1"` + "\n" + `secret_key = "` + testSecret + `"`, `url: "http://example.test": plain http is only allowed for loopback hosts`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.file), nil)
			if err == nil {
				t.Fatalf("accepted; want error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if strings.TrimSpace(line) == "" {
					t.Errorf("empty line in error %q", err)
				}
			}
		})
	}
}

func TestAllErrorsReportedOneLineEach(t *testing.T) {
	_, err := Parse([]byte(valid(`env = "x"`, `[security]`, `referrer_policy = "origin"`)), nil)
	if err == nil {
		t.Fatal("accepted")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "env:") || !strings.HasPrefix(lines[1], "security.referrer_policy:") {
		t.Fatalf("want one line per problem, got %q", lines)
	}
}

func TestNonLoopbackListenWarns(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:8080", "[::]:8080", "192.0.2.10:8080", "example.test:8080", ":8080"} {
		cfg, err := Parse([]byte(valid(`[http]`, `listen = "`+addr+`"`)), nil)
		if err != nil {
			t.Fatalf("%s: %v", addr, err)
		}
		w := strings.Join(cfg.Warnings(), "\n")
		if !strings.Contains(w, "not loopback") || !strings.Contains(w, "without the reverse proxy") {
			t.Errorf("%s: warnings %q do not name the risk", addr, w)
		}
	}
	for _, addr := range []string{"127.0.0.1:8080", "[::1]:8080", "localhost:8080", "unix:/run/rampart/rampart.sock"} {
		cfg, err := Parse([]byte(valid(`[http]`, `listen = "`+addr+`"`)), nil)
		if err != nil {
			t.Fatalf("%s: %v", addr, err)
		}
		if w := cfg.Warnings(); len(w) != 0 {
			t.Errorf("%s: unexpected warnings %q", addr, w)
		}
	}
}

func TestTrustedProxiesFromEnvAndSingleAddresses(t *testing.T) {
	cfg, err := Parse([]byte(valid()), []string{"RAMPART_HTTP_TRUSTED_PROXIES=10.0.0.5, 192.168.0.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	got := cfg.TrustedProxies()
	if len(got) != 2 || got[0].String() != "10.0.0.5/32" || got[1].String() != "192.168.0.0/24" {
		t.Errorf("trusted proxies = %v", got)
	}
}

func TestInsecureCookiesWarn(t *testing.T) {
	cfg, err := Parse([]byte(valid(`[security]`, `secure_cookies = false`)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if w := strings.Join(cfg.Warnings(), "\n"); !strings.Contains(w, "loses its __Host- prefix") {
		t.Errorf("warnings = %q", w)
	}
}

func TestRiskyChoicesWarn(t *testing.T) {
	cfg, err := Parse([]byte(valid(`[security]`, `headers = false`)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if w := strings.Join(cfg.Warnings(), "\n"); !strings.Contains(w, "security layer is OFF") {
		t.Errorf("headers=false warnings = %q", w)
	}
	cfg, err = Parse([]byte(valid(`[security]`, `sts = false`)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if w := strings.Join(cfg.Warnings(), "\n"); !strings.Contains(w, "security.sts is false") {
		t.Errorf("sts=false warnings = %q", w)
	}
}

func TestEnvOverrides(t *testing.T) {
	env := []string{
		"RAMPART_HTTP_LISTEN=127.0.0.1:9999",
		"RAMPART_SECURITY_REFERRER_POLICY=no-referrer",
		"RAMPART_SECURITY_STS_MAX_AGE=31536000",
		"RAMPART_SECURITY_HEADERS=true",
		"RAMPART_HTTP_READ_HEADER_TIMEOUT=3s",
		"RAMPART_HTTP_MAX_BODY_BYTES=2MiB",
		"RAMPART_MEDIA_URL=https://files.example.test",
		"RAMPART_CONFIG=/ignored/here",
		"PATH=/usr/bin",
	}
	cfg, err := Parse([]byte(valid()), env)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTP.Listen != "127.0.0.1:9999" || cfg.Security.ReferrerPolicy != "no-referrer" || cfg.Security.STSMaxAge != 31536000 ||
		cfg.HTTP.ReadHeaderTimeout.D() != 3*time.Second || cfg.HTTP.MaxBodyBytes != 2<<20 || cfg.MediaOrigin().Host != "files.example.test" {
		t.Errorf("overrides not applied: %+v", cfg)
	}
}

func TestEnvOverridesAreValidated(t *testing.T) {
	cases := map[string]string{
		"RAMPART_SECURITY_REFERRER_POLICY=unsafe-url": "security.referrer_policy",
		"RAMPART_SECURITY_STS=perhaps":                "security.sts (from RAMPART_SECURITY_STS): \"perhaps\" is not true or false",
		"RAMPART_SECURITY_STS_MAX_AGE=year":           "security.sts_max_age (from RAMPART_SECURITY_STS_MAX_AGE)",
		"RAMPART_HTTP_LISTN=0.0.0.0:1":                "unknown environment variable RAMPART_HTTP_LISTN",
	}
	for kv, want := range cases {
		_, err := Parse([]byte(valid()), []string{kv})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want it to contain %q", kv, err, want)
		}
	}
}

func TestEveryKeyHasAnEnvVar(t *testing.T) {
	keys := Keys()
	if len(keys) < 20 {
		t.Fatalf("only %d keys found", len(keys))
	}
	for _, k := range keys {
		if !strings.HasPrefix(k.EnvVar, "RAMPART_") || strings.ContainsAny(k.EnvVar, ".-") {
			t.Errorf("%s: env var %q", k.Name, k.EnvVar)
		}
	}
}

func TestGeneratedConfigLoadsAndHasFreshSecret(t *testing.T) {
	a, err := Generate(GenOptions{Domain: "example.test", MediaDomain: "media.example.test"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Generate(GenOptions{Domain: "example.test", MediaDomain: "media.example.test"})
	if err != nil {
		t.Fatal(err)
	}
	ca, err := Parse(a, nil)
	if err != nil {
		t.Fatalf("generated config does not load: %v\n%s", err, a)
	}
	cb, _ := Parse(b, nil)
	if ca.SecretKey.raw == cb.SecretKey.raw {
		t.Error("two generated configs share a secret")
	}
	if ca.Env != EnvProd || ca.InstanceURL().Scheme != "https" {
		t.Errorf("generated env=%s url=%s", ca.Env, ca.InstanceURL())
	}
	for _, k := range Keys() {
		leaf := k.Name[strings.LastIndex(k.Name, ".")+1:]
		if !strings.Contains(string(a), "\n"+leaf+" = ") {
			t.Errorf("generated config lacks key %s", k.Name)
		}
	}
	if _, err := Generate(GenOptions{Domain: "example.test", MediaDomain: "example.test"}); err == nil ||
		!strings.Contains(err.Error(), "media_url") {
		t.Errorf("same domains: err = %v", err)
	}
	dev, err := Generate(GenOptions{Domain: "localhost:8080", MediaDomain: "127.0.0.1:8080", Env: EnvDev})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(dev), `url = "http://localhost:8080"`) {
		t.Errorf("dev on loopback should use http:\n%s", dev)
	}
}

func TestRedactedHidesSecret(t *testing.T) {
	cfg, err := Parse([]byte(valid()), nil)
	if err != nil {
		t.Fatal(err)
	}
	out := cfg.Redacted()
	if strings.Contains(out, testSecret) || !strings.Contains(out, `secret_key = "[redacted]"`) {
		t.Errorf("redacted output:\n%s", out)
	}
	if _, err := Parse([]byte(strings.Replace(out, `"[redacted]"`, `"`+testSecret+`"`, 1)), nil); err != nil {
		t.Errorf("redacted output with the secret restored does not load: %v", err)
	}
}

func TestLoadFileModeAndPath(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rampart.toml")
	if err := os.WriteFile(path, []byte(valid()), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path, nil)
	if err == nil || !strings.Contains(err.Error(), "has mode 0644") || !strings.Contains(err.Error(), "chmod 640 "+path) {
		t.Fatalf("world-readable prod config: err = %v", err)
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path, nil); err != nil {
		t.Fatalf("0640 config: %v", err)
	}
	_, err = Load(filepath.Join(dir, "missing.toml"), nil)
	if err == nil || !strings.Contains(err.Error(), "missing.toml") {
		t.Errorf("missing file: %v", err)
	}
	if err := os.WriteFile(path, []byte(valid(`bogus = 1`)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path, nil); err == nil || !strings.HasPrefix(err.Error(), path+": unknown key \"bogus\"") {
		t.Errorf("unknown key error should start with the path: %v", err)
	}
}

func TestByteSizeRoundTrip(t *testing.T) {
	for in, want := range map[string]ByteSize{"1024": 1024, "16KiB": 16 << 10, "8MiB": 8 << 20, "1GiB": 1 << 30} {
		var s ByteSize
		if err := s.UnmarshalText([]byte(in)); err != nil || s != want {
			t.Errorf("%s → %d, %v", in, s, err)
		}
		txt, _ := s.MarshalText()
		var back ByteSize
		if err := back.UnmarshalText(txt); err != nil || back != s {
			t.Errorf("%s does not round-trip via %s", in, txt)
		}
	}
}

// assignsTestSecret matches input that gives secret_key the test secret, quoted or not.
var assignsTestSecret = regexp.MustCompile(`secret_key\s*=\s*"?` + testSecret)

func FuzzParse(f *testing.F) {
	f.Add([]byte(valid()))
	f.Add([]byte(valid(`[http]`, `listen = "unix:/x"`, `max_body_bytes = "3MiB"`)))
	f.Add([]byte(`env = "dev"` + "\n" + `url = "http://localhost:1"`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data, nil)
		if err != nil {
			if assignsTestSecret.Match(data) && strings.Contains(err.Error(), testSecret) {
				t.Fatalf("error leaks the secret: %v", err)
			}
			return
		}
		// Whatever loads must satisfy the hardening invariants.
		if cfg.InstanceURL().Hostname() == cfg.MediaOrigin().Hostname() {
			t.Fatalf("accepted media on the instance host: %s %s", cfg.InstanceURL(), cfg.MediaOrigin())
		}
		if cfg.Env == EnvProd && (cfg.InstanceURL().Scheme != "https" || cfg.MediaOrigin().Scheme != "https") {
			t.Fatalf("prod accepted plain http: %s %s", cfg.InstanceURL(), cfg.MediaOrigin())
		}
		if p := cfg.Security.ReferrerPolicy; p != "same-origin" && p != "no-referrer" {
			t.Fatalf("accepted referrer policy %q", p)
		}
		if strings.Contains(cfg.Redacted(), cfg.SecretKey.raw) && cfg.SecretKey.raw != "" {
			t.Fatal("Redacted leaks the secret")
		}
	})
}

func TestSyntaxErrorDoesNotEchoSecret(t *testing.T) {
	_, err := Parse([]byte("url = \"https://a.test\"\nsecret_key = "+testSecret+"\n"), nil)
	if err == nil || strings.Contains(err.Error(), testSecret) || !strings.Contains(err.Error(), "line 2: the secret_key value is not valid TOML") {
		t.Fatalf("err = %v", err)
	}
}

func TestEveryKeyIsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range Keys() {
		if !strings.Contains(string(doc), "`"+k.Name+"`") {
			t.Errorf("docs/configuration.md does not document `%s`", k.Name)
		}
		if !strings.Contains(string(doc), k.EnvVar) {
			t.Errorf("docs/configuration.md does not name %s", k.EnvVar)
		}
	}
}

func TestFederationTestHostsAreCheckedAndWarnedAbout(t *testing.T) {
	cfg, err := Parse([]byte(valid()), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Federation.AuthorizedFetch || len(cfg.Federation.TestHosts) != 0 {
		t.Fatalf("defaults: authorized_fetch %v, test_hosts %v; want on and empty", cfg.Federation.AuthorizedFetch, cfg.Federation.TestHosts)
	}
	cfg, err = Parse([]byte(valid(`[federation]`, `test_hosts = ["b.test:8443", "c.test"]`)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if w := strings.Join(cfg.Warnings(), "\n"); !strings.Contains(w, "federation.test_hosts is not empty (b.test:8443, c.test)") {
		t.Fatalf("prod with test hosts warned %q", w)
	}
	for _, bad := range []string{`"https://b.test/"`, `""`, `"a b"`} {
		if _, err := Parse([]byte(valid(`[federation]`, `test_hosts = [`+bad+`]`)), nil); err == nil || !strings.Contains(err.Error(), "federation.test_hosts") {
			t.Errorf("test_hosts = [%s]: %v; want refused", bad, err)
		}
	}
}
