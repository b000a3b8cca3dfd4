// Package config owns Rampart's configuration: the file format (TOML), the
// RAMPART_<KEY> environment overrides, the defaults, and every validation rule.
// Whatever the rest of the program reads from a *Config has passed Validate.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Environments, like Akkoma's MIX_ENV.
const (
	EnvProd = "prod"
	EnvDev  = "dev"
)

// EnvVarPrefix starts every environment override; RAMPART_CONFIG names the file.
const (
	EnvVarPrefix = "RAMPART_"
	EnvVarConfig = "RAMPART_CONFIG"
)

// Config is the whole configuration. Field tags give the TOML key; the
// environment override for a key is RAMPART_ + the dotted key upper-cased with
// dots as underscores (http.listen → RAMPART_HTTP_LISTEN).
type Config struct {
	Env       string   `toml:"env"`
	URL       string   `toml:"url"`
	MediaURL  string   `toml:"media_url"`
	DataDir   string   `toml:"data_dir"`
	SecretKey Secret   `toml:"secret_key"`
	HTTP      HTTP     `toml:"http"`
	Instance  Instance `toml:"instance"`
	Accounts  Accounts `toml:"accounts"`
	Statuses  Statuses `toml:"statuses"`
	Media     Media    `toml:"media"`
	Security  Security `toml:"security"`
	Database  Database `toml:"database"`
	Log       Log      `toml:"log"`
	Debug     Debug    `toml:"debug"`
	// Federation is ActivityPub with other servers.
	Federation Federation `toml:"federation"`
	// Streaming is the streaming API (WebSocket and server-sent events).
	Streaming Streaming `toml:"streaming"`
	// Limits bound what one client or account may do through the API.
	Limits Limits `toml:"limits"`
	// Discovery is trends and follow suggestions (opt-in).
	Discovery Discovery `toml:"discovery"`

	instanceURL    *url.URL
	mediaURL       *url.URL
	trustedProxies []netip.Prefix
	warnings       []string
}

// HTTP configures the listener and the server's limits.
type HTTP struct {
	Listen            string   `toml:"listen"`
	ReadHeaderTimeout Duration `toml:"read_header_timeout"`
	ReadTimeout       Duration `toml:"read_timeout"`
	WriteTimeout      Duration `toml:"write_timeout"`
	IdleTimeout       Duration `toml:"idle_timeout"`
	ShutdownTimeout   Duration `toml:"shutdown_timeout"`
	MaxHeaderBytes    ByteSize `toml:"max_header_bytes"`
	MaxBodyBytes      ByteSize `toml:"max_body_bytes"`
	TrustedProxies    []string `toml:"trusted_proxies"`
}

// Instance describes the instance to people and clients.
type Instance struct {
	Title           string `toml:"title"`
	Description     string `toml:"description"`
	ContactEmail    string `toml:"contact_email"`
	ContactUsername string `toml:"contact_username"`
	// Rules are the server rules (/api/v1/instance/rules and the instance
	// entities' rules), plain text, in order.
	Rules []string `toml:"rules"`
	// ExtendedDescription is /api/v1/instance/extended_description, plain
	// text (escaped, paragraphs and line breaks kept).
	ExtendedDescription string `toml:"extended_description"`
}

// Discovery turns on what Rampart computes for people to find others:
// both off by default, when their endpoints answer empty lists.
type Discovery struct {
	// Trends fills /api/v1/trends/tags and /api/v1/trends/statuses.
	Trends bool `toml:"trends"`
	// Suggestions fills /api/v2/suggestions.
	Suggestions bool `toml:"suggestions"`
}

// Accounts configures sign-up and passwords.
type Accounts struct {
	Registrations     string `toml:"registrations"`
	PasswordMinLength int64  `toml:"password_min_length"`
}

// Statuses configures posting.
type Statuses struct {
	MaxCharacters int64 `toml:"max_characters"`
}

// Media configures uploads.
type Media struct {
	Dir              string   `toml:"dir"`
	MaxImageBytes    ByteSize `toml:"max_image_bytes"`
	MaxVideoBytes    ByteSize `toml:"max_video_bytes"`
	MaxAudioBytes    ByteSize `toml:"max_audio_bytes"`
	MaxImagePixels   int64    `toml:"max_image_pixels"`
	DescriptionLimit int64    `toml:"description_limit"`
	SyncLimitBytes   ByteSize `toml:"sync_limit_bytes"`
	CacheMaxAge      Duration `toml:"cache_max_age"`
	// DecodeMemoryBytes bounds the memory all uploads' processing takes at
	// once, each by its estimate; one image may not estimate more.
	DecodeMemoryBytes ByteSize `toml:"decode_memory_bytes"`
}

// Registration modes.
const (
	RegistrationsClosed   = "closed"
	RegistrationsApproval = "approval"
	RegistrationsOpen     = "open"
)

// Security configures the HTTP security layer (Akkoma's :http_security).
type Security struct {
	Headers         bool     `toml:"headers"`
	ReferrerPolicy  string   `toml:"referrer_policy"`
	STS             bool     `toml:"sts"`
	STSMaxAge       int64    `toml:"sts_max_age"`
	STSPreload      bool     `toml:"sts_preload"`
	CSPReportURI    string   `toml:"csp_report_uri"`
	SecureCookies   bool     `toml:"secure_cookies"`
	SessionLifetime Duration `toml:"session_lifetime"`
	// AccessTokenLifetime is how long an OAuth access token grants access
	// from its issue; 0: until revoked (Mastodon's default).
	AccessTokenLifetime Duration `toml:"access_token_lifetime"`
	LoginAttempts       int64    `toml:"login_attempts"`
	LoginWindow         Duration `toml:"login_window"`
	AllowRoot           bool     `toml:"allow_root"`
	// RequireStaffSecondFactor: admins and moderators without a second
	// factor are named in a warning at every start and sent to add one
	// when they sign in. Default: on in prod, off in dev (applyEnvDefaults).
	RequireStaffSecondFactor bool `toml:"require_staff_second_factor"`
}

// Database selects and locates the store.
type Database struct {
	Driver string `toml:"driver"`
	Path   string `toml:"path"`
	// DSN is PostgreSQL's connection string. It holds a password, so it
	// never prints; DSNFile keeps it out of the config file altogether.
	DSN     Secret `toml:"dsn"`
	DSNFile string `toml:"dsn_file"`
	// MaxConnections is each process's share of PostgreSQL's connections.
	MaxConnections int64 `toml:"max_connections"`
	// StatementTimeout ends a PostgreSQL statement that runs longer.
	StatementTimeout Duration `toml:"statement_timeout"`
}

// Database drivers.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// Log configures log/slog output.
type Log struct {
	Level  string `toml:"level"`
	Format string `toml:"format"`
}

// Debug holds diagnostics an operator turns on for a while; all off by default.
type Debug struct {
	// PprofListen, when set, serves Go's runtime profiles (net/http/pprof)
	// on this loopback address: how a slow request is explained.
	PprofListen string `toml:"pprof_listen"`
}

// Federation configures ActivityPub with other servers.
type Federation struct {
	// AuthorizedFetch serves ActivityPub documents only to signed requests,
	// except what key discovery needs (an actor's id, type, name, inbox,
	// endpoints and key) and the instance actor.
	AuthorizedFetch bool `toml:"authorized_fetch"`
	// Mode is "blocklist" (federate with every server but the blocked
	// domains) or "allowlist" (only with the allowed domains, `rampart
	// admin domain allow`): Mastodon's limited federation mode.
	Mode string `toml:"mode"`
	// TestHosts may be reached over http and at any address (host or
	// host:port): for tests between instances on one machine. Empty in
	// production; prod warns at every start while it is not.
	TestHosts []string `toml:"test_hosts"`
	// PublicDomainBlocks lists the silenced and suspended domains, with
	// their reasons, at GET /api/v1/instance/domain_blocks for anyone
	// (Mastodon's "show domain blocks"). Off: that answers 404.
	PublicDomainBlocks bool `toml:"public_domain_blocks"`
}

// Streaming bounds the streaming API's connections.
type Streaming struct {
	// PublicWithoutToken lets anonymous clients read the public and hashtag
	// streams. Off, as on Mastodon since 4.2: every stream needs a token.
	PublicWithoutToken bool `toml:"public_without_token"`
	// MaxPerToken and MaxPerAccount bound the open streams of one access
	// token and of one account; MaxConnections the whole instance's.
	MaxPerToken    int `toml:"max_per_token"`
	MaxPerAccount  int `toml:"max_per_account"`
	MaxConnections int `toml:"max_connections"`
	// SendQueue is how many events wait for a slow client before its stream
	// is closed.
	SendQueue int `toml:"send_queue"`
	// PingInterval is how often a WebSocket is pinged (and a server-sent
	// events stream sent a comment); a socket that answers neither of two
	// pings is closed.
	PingInterval Duration `toml:"ping_interval"`
}

// Limits are Mastodon's throttles: what one access token (or one client
// address without a token) may ask of the API, and what one account may do.
// 0 turns a limit off.
type Limits struct {
	// APIRequests per access token and APIRequestsAnonymous per client
	// address (IPv6: per /64), each per 5 minutes, counted by each process
	// in its memory (no database write per request).
	APIRequests          int `toml:"api_requests"`
	APIRequestsAnonymous int `toml:"api_requests_anonymous"`
	// Per account, counted in the database so that every process counts
	// together: statuses per 3 hours (reblogs have an allowance of their
	// own, the same), uploads per 30 minutes and follows per 24 hours.
	Posts   int `toml:"posts"`
	Uploads int `toml:"uploads"`
	Follows int `toml:"follows"`
}

// The windows of Limits, Mastodon's.
const (
	APIRequestsWindow = 5 * time.Minute
	PostsWindow       = 3 * time.Hour
	UploadsWindow     = 30 * time.Minute
	FollowsWindow     = 24 * time.Hour
)

// Federation modes.
const (
	FederationBlocklist = "blocklist"
	FederationAllowlist = "allowlist"
)

// DefaultListen is loopback: the reverse proxy is the way in.
const DefaultListen = "127.0.0.1:8080"

// Defaults returns the configuration every file is laid over.
func Defaults() Config {
	return Config{
		Env:     EnvProd,
		DataDir: "/var/lib/rampart",
		HTTP: HTTP{
			Listen:            DefaultListen,
			ReadHeaderTimeout: Duration(10 * time.Second),
			ReadTimeout:       Duration(60 * time.Second),
			WriteTimeout:      Duration(60 * time.Second),
			IdleTimeout:       Duration(120 * time.Second),
			ShutdownTimeout:   Duration(20 * time.Second),
			MaxHeaderBytes:    32 << 10,
			MaxBodyBytes:      1 << 20,
			TrustedProxies:    []string{"127.0.0.1/32", "::1/128"},
		},
		Instance: Instance{Title: "Rampart"},
		Accounts: Accounts{Registrations: RegistrationsClosed, PasswordMinLength: 10},
		Statuses: Statuses{MaxCharacters: 5000},
		Media: Media{MaxImageBytes: 16 << 20, MaxVideoBytes: 99 << 20, MaxAudioBytes: 40 << 20, MaxImagePixels: 50_000_000,
			DescriptionLimit: 1500, SyncLimitBytes: 1 << 20, CacheMaxAge: Duration(365 * 24 * time.Hour), DecodeMemoryBytes: 512 << 20},
		Security: Security{
			Headers:         true,
			ReferrerPolicy:  "same-origin",
			STS:             true,
			STSMaxAge:       63072000,
			SecureCookies:   true,
			SessionLifetime: Duration(30 * 24 * time.Hour),
			LoginAttempts:   5,
			LoginWindow:     Duration(15 * time.Minute),
			// prod's default; dev's is false (applyEnvDefaults).
			RequireStaffSecondFactor: true,
		},
		Database: Database{Driver: DriverSQLite, Path: "rampart.db", MaxConnections: 16,
			StatementTimeout: Duration(30 * time.Second)},
		Log:        Log{Level: "info"},
		Federation: Federation{AuthorizedFetch: true, Mode: FederationBlocklist},
		Streaming: Streaming{MaxPerToken: 8, MaxPerAccount: 16, MaxConnections: 10000, SendQueue: 64,
			PingInterval: Duration(30 * time.Second)},
		Limits: Limits{APIRequests: 300, APIRequestsAnonymous: 300, Posts: 300, Uploads: 30, Follows: 400},
	}
}

// Load reads the file at path, applies RAMPART_* overrides from environ and validates.
func Load(path string, environ []string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	cfg, err := Parse(data, environ)
	if err != nil {
		return nil, prefixErrors(path, err)
	}
	if err := cfg.checkFileMode(path); err != nil {
		return nil, err
	}
	return cfg, nil
}

// checkFileMode refuses, in prod, a config file that others can read or that
// its group can change: it holds secret_key. dev only warns.
func (c *Config) checkFileMode(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	mode := fi.Mode().Perm()
	if mode&0o027 == 0 {
		return nil
	}
	msg := fmt.Sprintf("%s has mode %04o: others can read it or its group can change it, and it holds secret_key; run chmod 640 %s (owner root or rampart, group rampart)", path, mode, path)
	if c.Env == EnvProd {
		return errors.New(msg)
	}
	c.warnings = append(c.warnings, msg)
	return nil
}

// Parse decodes TOML text over the defaults, applies overrides and validates.
func Parse(data []byte, environ []string) (*Config, error) {
	cfg := Defaults()
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&cfg)
	if err != nil {
		var perr toml.ParseError
		if errors.As(err, &perr) {
			if key := secretOnLine(data, perr.Position.Line); key != "" {
				// The parser quotes the offending text, which here would be key material or a database password.
				return nil, fmt.Errorf("line %d: the %s value is not valid TOML (write it in double quotes); value not shown", perr.Position.Line, key)
			}
			return nil, fmt.Errorf("line %d: %s", perr.Position.Line, perr.Message)
		}
		return nil, fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "toml: "))
	}
	var errs []error
	for _, k := range md.Undecoded() {
		errs = append(errs, fmt.Errorf("unknown key %q", k.String()))
	}
	if err := applyEnv(&cfg, environ); err != nil {
		errs = append(errs, err)
	}
	applyEnvDefaults(&cfg, md, environ)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// applyEnvDefaults gives the keys whose default depends on env their dev
// default when neither the file nor the environment set them.
func applyEnvDefaults(cfg *Config, md toml.MetaData, environ []string) {
	if cfg.Env != EnvDev {
		return
	}
	set := func(key ...string) bool {
		if md.IsDefined(key...) {
			return true
		}
		name := envVarName(strings.Join(key, ".")) + "="
		for _, kv := range environ {
			if strings.HasPrefix(kv, name) {
				return true
			}
		}
		return false
	}
	if !set("security", "require_staff_second_factor") {
		cfg.Security.RequireStaffSecondFactor = false
	}
}

// dsnLine assigns database.dsn (not dsn_file, a path), which holds a password.
var dsnLine = regexp.MustCompile(`(^|[\s.])dsn\s*=`)

// secretOnLine names the secret that line n (1-based) or the one before it
// (the parser may report the next line) assigns: "secret_key",
// "database.dsn", or "" for none.
func secretOnLine(data []byte, n int) string {
	lines := strings.Split(string(data), "\n")
	for _, i := range []int{n - 1, n - 2} {
		if i < 0 || i >= len(lines) {
			continue
		}
		switch {
		case strings.Contains(lines[i], "secret"):
			return "secret_key"
		case dsnLine.MatchString(lines[i]):
			return "database.dsn"
		}
	}
	return ""
}

// prefixErrors puts the file path before each line of a joined error.
func prefixErrors(path string, err error) error {
	var lines []error
	for _, e := range flatten(err) {
		lines = append(lines, fmt.Errorf("%s: %w", path, e))
	}
	return errors.Join(lines...)
}

func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

// InstanceURL is the public origin of the instance (scheme, host and optional port).
func (c *Config) InstanceURL() *url.URL { u := *c.instanceURL; return &u }

// MediaOrigin is the public origin that serves uploads.
func (c *Config) MediaOrigin() *url.URL { u := *c.mediaURL; return &u }

// TrustedProxies are the networks whose X-Forwarded-For is believed.
func (c *Config) TrustedProxies() []netip.Prefix {
	return append([]netip.Prefix(nil), c.trustedProxies...)
}

// Warnings lists the risky-but-allowed choices in this config, for the start-up log and config check.
func (c *Config) Warnings() []string { return append([]string(nil), c.warnings...) }

// IsDev reports whether this is the dev environment.
func (c *Config) IsDev() bool { return c.Env == EnvDev }

// Redacted renders the effective configuration as TOML with secrets hidden.
func (c *Config) Redacted() string {
	var buf bytes.Buffer
	enc := toml.NewEncoder(&buf)
	enc.Indent = ""
	if err := enc.Encode(c); err != nil {
		return fmt.Sprintf("# cannot render config: %v\n", err)
	}
	return buf.String()
}

// MediaDir is media.dir, or data_dir/media when unset; relative paths are resolved against data_dir.
func (c *Config) MediaDir() string {
	switch {
	case c.Media.Dir == "":
		return filepath.Join(c.DataDir, "media")
	case filepath.IsAbs(c.Media.Dir):
		return c.Media.Dir
	}
	return filepath.Join(c.DataDir, c.Media.Dir)
}

// DatabaseDSN is PostgreSQL's connection string: database.dsn (or its
// override, RAMPART_DATABASE_DSN), or else the first line of
// database.dsn_file. The file is read here, at start, so a rotated password
// needs only a restart.
func (c *Config) DatabaseDSN() (string, error) {
	if c.Database.DSN.IsSet() {
		return c.Database.DSN.raw, nil
	}
	if c.Database.DSNFile == "" {
		return "", errors.New("database.dsn: not set (set it, RAMPART_DATABASE_DSN or database.dsn_file)")
	}
	data, err := os.ReadFile(c.Database.DSNFile)
	if err != nil {
		return "", fmt.Errorf("database.dsn_file: %w", err)
	}
	dsn, _, _ := strings.Cut(string(data), "\n")
	if dsn = strings.TrimSpace(dsn); dsn == "" {
		return "", fmt.Errorf("database.dsn_file: %s is empty", c.Database.DSNFile)
	}
	return dsn, nil
}

// DatabasePath is database.path, resolved against data_dir when relative.
func (c *Config) DatabasePath() string {
	if filepath.IsAbs(c.Database.Path) {
		return c.Database.Path
	}
	return filepath.Join(c.DataDir, c.Database.Path)
}
