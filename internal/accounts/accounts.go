// Package accounts holds the rules for local accounts: who may exist (name,
// email, password rules), how they sign in (argon2id, rate limits that never
// reveal whether an account exists), and what admins and users may change.
// It knows nothing of HTTP.
package accounts

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/rampart-social/rampart/internal/httpsig"

	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/events"
	"github.com/rampart-social/rampart/internal/id"
	"github.com/rampart-social/rampart/internal/media"
	"github.com/rampart-social/rampart/internal/password"
	"github.com/rampart-social/rampart/internal/ratelimit"
	"github.com/rampart-social/rampart/internal/store"
)

// Roles.
const (
	RoleUser      = "user"
	RoleModerator = "moderator"
	RoleAdmin     = "admin"
)

// Errors of sign-in. ErrBadCredentials is the same whether the account
// exists or not.
var (
	ErrBadCredentials = errors.New("wrong username or password")
	ErrPending        = errors.New("this account is waiting for approval by an administrator")
	ErrDisabled       = errors.New("this account is disabled")
	ErrSuspended      = errors.New("this account is suspended")
)

// RateLimitedError says how long to wait before trying again.
type RateLimitedError = ratelimit.WaitError

// ValidationError names the field that is wrong and why.
type ValidationError struct {
	Field string
	Code  string // Mastodon's error code, e.g. ERR_TAKEN, ERR_INVALID, ERR_TOO_SHORT
	Msg   string
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Msg }

// Service applies the account rules.
type Service struct {
	instanceKeyMu  sync.Mutex
	instanceKey    *rsa.PrivateKey
	instanceKeyPEM string

	store     *store.Store
	ids       *id.Generator
	hasher    *password.Hasher
	cfg       *config.Config
	limits    signInLimits
	signups   *ratelimit.Shared // sign-ups per client address
	deviceKey []byte            // signs device tokens (device.go)
	now       func() time.Time
	log       *slog.Logger
	// wakeJobs tells the job runner a job was committed (WithJobs).
	wakeJobs func()
	events   events.Publisher // revocations reach the streams (WithEvents, security.go)
	// media stores avatars and headers (WithMedia).
	media *media.Service
	// keyPair makes an RSA key pair: NewKeyPair, unless WithKeyPairs.
	keyPair func() (pub, priv string, err error)
}

// New builds the service. The hasher decides argon2id's cost.
func New(cfg *config.Config, st *store.Store, ids *id.Generator, hasher *password.Hasher) *Service {
	s := &Service{store: st, ids: ids, hasher: hasher, cfg: cfg, deviceKey: deviceKey(cfg), now: time.Now,
		log: slog.New(slog.DiscardHandler), keyPair: NewKeyPair}
	// The limiters read the service's clock, so that a test can move it.
	clock := func() time.Time { return s.now() }
	key := LimiterKey(cfg)
	s.limits = newSignInLimits(st, key, int(cfg.Security.LoginAttempts), cfg.Security.LoginWindow.D(), clock)
	s.signups = ratelimit.NewShared(st, key, "signup.address", SignupsPerWindow, SignupWindow, clock)
	return s
}

// WithLog makes the service log what it cannot do but need not fail for (a
// rate-limit refund the database refused). It returns s.
func (s *Service) WithLog(log *slog.Logger) *Service {
	s.log = log
	return s
}

// WithKeyPairs makes the service take its RSA key pairs (each account's,
// the instance actor's) from next instead of generating them: for tests,
// whose fixtures make hundreds of accounts, and generating a 2048-bit key
// under the race detector takes about 0.2 s of CPU. next must hand
// out keys in NewKeyPair's encoding and never the same key twice
// (testutil.RSAKeyPair). Rampart itself never calls it, and no
// configuration reaches it. It returns s.
func (s *Service) WithKeyPairs(next func() (pub, priv string, err error)) *Service {
	if next != nil {
		s.keyPair = next
	}
	return s
}

// LimiterKey is the key the rate limits kept in the database digest their
// keys under (ratelimit.Shared), derived from secret_key: the same in every
// process of the instance.
func LimiterKey(cfg *config.Config) []byte {
	key, err := cfg.SecretKey.Derive(ratelimit.KeyLabel)
	if err != nil || !cfg.SecretKey.IsSet() {
		// Config validation refuses such a secret_key. A random key only
		// means that this process counts under digests of its own.
		key = make([]byte, 32)
		rand.Read(key)
	}
	return key
}

// Sign-ups per client address per window, as Mastodon limits them.
const (
	SignupsPerWindow = 5
	SignupWindow     = 30 * time.Minute
)

// ErrRegistrationsClosed refuses a sign-up while accounts.registrations is "closed".
var ErrRegistrationsClosed = errors.New("registrations are closed on this instance")

// SignUpParams are what a sign-up through the client API sends.
type SignUpParams struct {
	Username, Email, Password, Reason, Locale string
	Agreement                                 bool // the instance's rules were accepted
	ClientIP                                  string
}

// SignUp is a sign-up through the client API: refused while registrations
// are closed, limited per client address (every attempt counts, checked and
// counted in one step), and approved at once only when registrations are
// open (else the account waits for an admin).
func (s *Service) SignUp(ctx context.Context, p SignUpParams) (*store.Account, error) {
	mode := s.cfg.Accounts.Registrations
	if mode == config.RegistrationsClosed {
		return nil, ErrRegistrationsClosed
	}
	if wait, err := s.signups.Take(ctx, ratelimit.AddressKey(p.ClientIP)); err != nil {
		return nil, fmt.Errorf("sign-up limit: %w", err)
	} else if wait > 0 {
		return nil, &RateLimitedError{What: "sign-ups from this address", RetryAfter: wait}
	}
	if !p.Agreement {
		return nil, &ValidationError{"agreement", "ERR_ACCEPTED", "must be accepted"}
	}
	if len(p.Reason) > 1000 {
		p.Reason = p.Reason[:1000]
	}
	acc, _, err := s.Create(ctx, NewParams{Username: p.Username, Email: p.Email, Password: p.Password,
		Approved: mode == config.RegistrationsOpen, Reason: p.Reason, Locale: p.Locale})
	return acc, err
}

// NewParams are what creating an account needs.
type NewParams struct {
	Username string
	Email    string
	Password string
	Role     string
	Approved bool
	Reason   string
	Locale   string
}

// Create validates and stores a new local account with its key pair.
func (s *Service) Create(ctx context.Context, p NewParams) (*store.Account, *store.User, error) {
	if !config.ValidUsername(p.Username) {
		return nil, nil, &ValidationError{"username", "ERR_INVALID", "must be 1 to 30 characters of a-z, 0-9 and _"}
	}
	email, err := NormalizeEmail(p.Email)
	if err != nil {
		return nil, nil, err
	}
	if err := s.checkPassword(p.Password); err != nil {
		return nil, nil, err
	}
	if p.Role == "" {
		p.Role = RoleUser
	}
	if p.Role != RoleUser && p.Role != RoleModerator && p.Role != RoleAdmin {
		return nil, nil, &ValidationError{"role", "ERR_INVALID", "must be user, moderator or admin"}
	}
	if p.Locale == "" {
		p.Locale = "en"
	}
	hash, err := s.hasher.Hash(ctx, p.Password)
	if err != nil {
		return nil, nil, err
	}
	pub, priv, err := s.keyPair()
	if err != nil {
		return nil, nil, err
	}
	edPriv, err := NewEd25519Key()
	if err != nil {
		return nil, nil, err
	}
	now := s.now().UTC()
	base := s.cfg.InstanceURL().String()
	a := &store.Account{
		ID: s.ids.Next(), Username: p.Username,
		URI: base + "/users/" + p.Username, URL: base + "/@" + p.Username,
		Discoverable: true, Indexable: true, PublicKeyPEM: pub, PrivateKeyPEM: priv, Ed25519PrivateKeyPEM: edPriv, CreatedAt: now, UpdatedAt: now,
	}
	u := &store.User{Email: email, PasswordHash: hash, Role: p.Role, Approved: p.Approved, Locale: p.Locale,
		DefaultPrivacy: "public", SignupReason: p.Reason, CreatedAt: now}
	if err := s.store.CreateLocalAccount(ctx, a, u); err != nil {
		if errors.Is(err, store.ErrConflict) {
			field := "username"
			if strings.HasPrefix(err.Error(), "email") {
				field = "email"
			}
			return nil, nil, &ValidationError{field, "ERR_TAKEN", "is already taken"}
		}
		return nil, nil, err
	}
	return a, u, nil
}

// NormalizeEmail checks an address and returns it bare, trimmed and lower
// case (as Mastodon keeps them). Lower case is Go's Unicode mapping, the one
// sign-in applies to what is typed: an address that only differs from
// another by letters that map to the same ones (the Kelvin sign and K, İ and
// i) is the same address, taken, rather than a second account that the
// other's login would reach.
func NormalizeEmail(e string) (string, error) {
	e = strings.TrimSpace(e)
	addr, err := mail.ParseAddress(e)
	if err != nil || addr.Address != e || !strings.Contains(e[strings.LastIndex(e, "@"):], ".") {
		return "", &ValidationError{"email", "ERR_INVALID", "is not an e-mail address"}
	}
	if e = strings.ToLower(e); len(e) > 254 {
		return "", &ValidationError{"email", "ERR_INVALID", "is not an e-mail address"}
	}
	return e, nil
}

func (s *Service) checkPassword(pw string) error {
	min := int(s.cfg.Accounts.PasswordMinLength)
	if utf8.RuneCountInString(pw) < min {
		return &ValidationError{"password", "ERR_TOO_SHORT", fmt.Sprintf("must be at least %d characters", min)}
	}
	if len(pw) > 1024 {
		return &ValidationError{"password", "ERR_TOO_LONG", "must be at most 1024 bytes"}
	}
	return nil
}

// PublicKeyPEM is the account's RSA public key, as its actor publishes it.
func (s *Service) PublicKeyPEM(ctx context.Context, accountID int64) (string, error) {
	pub, _, err := s.store.AccountKeys(ctx, accountID)
	return pub, err
}

// NewEd25519Key makes a local actor's Ed25519 key (FEP-521a), PKCS #8 PEM.
func NewEd25519Key() (string, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", fmt.Errorf("generate ed25519 key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), nil
}

// Ed25519PublicKey is a local actor's Ed25519 public key; ErrNotFound when
// the account has none yet.
func (s *Service) Ed25519PublicKey(ctx context.Context, accountID int64) (ed25519.PublicKey, error) {
	text, err := s.store.AccountEd25519Key(ctx, accountID)
	if err != nil {
		return nil, err
	}
	if text == "" {
		return nil, store.ErrNotFound
	}
	block, _ := pem.Decode([]byte(text))
	if block == nil {
		return nil, errors.New("ed25519 key: not PEM")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("ed25519 key: %w", err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("ed25519 key: %T", k)
	}
	return priv.Public().(ed25519.PublicKey), nil
}

// EnsureKeys gives every local account made before actors had an Ed25519
// key its key, in batches: run at start, so that every actor publishes one.
func (s *Service) EnsureKeys(ctx context.Context) (int, error) {
	n := 0
	for {
		ids, err := s.store.LocalAccountsWithoutEd25519Key(ctx, 200)
		if err != nil || len(ids) == 0 {
			return n, err
		}
		for _, id := range ids {
			k, err := NewEd25519Key()
			if err != nil {
				return n, err
			}
			if err := s.store.SetEd25519Key(ctx, id, k); err != nil {
				return n, err
			}
			n++
		}
	}
}

// instanceKeySetting holds the instance actor's private key (PKCS #8 PEM).
const instanceKeySetting = "instance_actor_private_key"

// InstanceKey is the instance actor's RSA key, which signs the instance's
// own fetches: made on first use and kept in the instance settings.
func (s *Service) InstanceKey(ctx context.Context) (*rsa.PrivateKey, string, error) {
	// Every signed fetch asks for it: read and parsed once, then kept.
	s.instanceKeyMu.Lock()
	defer s.instanceKeyMu.Unlock()
	if s.instanceKey == nil {
		k, pub, err := s.loadInstanceKey(ctx)
		if err != nil {
			return nil, "", err
		}
		s.instanceKey, s.instanceKeyPEM = k, pub
	}
	return s.instanceKey, s.instanceKeyPEM, nil
}

func (s *Service) loadInstanceKey(ctx context.Context) (*rsa.PrivateKey, string, error) {
	privPEM, ok, err := s.store.Setting(ctx, instanceKeySetting)
	if err != nil {
		return nil, "", err
	}
	if !ok {
		_, fresh, err := s.keyPair()
		if err != nil {
			return nil, "", err
		}
		if privPEM, err = s.store.SettingOnce(ctx, instanceKeySetting, fresh); err != nil {
			return nil, "", err
		}
	}
	block, _ := pem.Decode([]byte(privPEM))
	if block == nil {
		return nil, "", errors.New("instance key: not PEM")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, "", fmt.Errorf("instance key: %w", err)
	}
	key, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, "", fmt.Errorf("instance key: %T, not RSA", k)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, "", err
	}
	return key, string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})), nil
}

// NewKeyPair makes the RSA-2048 key pair every local account gets for
// federation (HTTP signatures), PEM-encoded: PKIX public, PKCS#8 private.
func NewKeyPair() (pub, priv string, err error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", "", fmt.Errorf("generate key pair: %w", err)
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return "", "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER})), nil
}

// Usable reports whether a user may act (used for tokens and sessions).
func Usable(u *store.User) error {
	switch {
	case u.Suspended:
		return ErrSuspended
	case u.Disabled:
		return ErrDisabled
	case !u.Approved:
		return ErrPending
	}
	return nil
}

// ResetPassword sets a new password and ends every session and token of the account.
func (s *Service) ResetPassword(ctx context.Context, accountID int64, pw string) error {
	if err := s.checkPassword(pw); err != nil {
		return err
	}
	h, err := s.hasher.Hash(ctx, pw)
	if err != nil {
		return err
	}
	if err := s.store.SetPasswordHash(ctx, accountID, h); err != nil {
		return err
	}
	return s.endAccess(ctx, accountID)
}

func (s *Service) endAccess(ctx context.Context, accountID int64) error {
	if err := s.store.DeleteAccountSessions(ctx, accountID); err != nil {
		return err
	}
	return s.store.DeleteAccountTokens(ctx, accountID)
}

// Change describes an admin change to a user.
type Change struct {
	Role     *string
	Approved *bool
	Disabled *bool
	// Suspended suspends the account (hidden from everyone, see
	// store.SetSuspended) or lifts its suspension.
	Suspended *bool
}

// ErrDeleted: the account was deleted; nothing brings it back.
var ErrDeleted = errors.New("the account was deleted")

// Modify applies an admin change. Disabling or suspending ends every
// session and token. A deleted account cannot be changed.
func (s *Service) Modify(ctx context.Context, accountID int64, c Change) (*store.User, error) {
	u, err := s.store.UserByAccountID(ctx, accountID)
	if err != nil {
		return nil, err
	}
	if deleted, err := s.store.AccountDeleted(ctx, accountID); err != nil {
		return nil, err
	} else if deleted {
		return nil, ErrDeleted
	}
	if c.Role != nil {
		u.Role = *c.Role
	}
	if c.Approved != nil {
		u.Approved = *c.Approved
	}
	if c.Disabled != nil {
		u.Disabled = *c.Disabled
	}
	if err := s.store.SetUserFlags(ctx, accountID, u.Role, u.Approved, u.Disabled); err != nil {
		return nil, err
	}
	if c.Suspended != nil {
		var at time.Time
		if *c.Suspended {
			at = s.now().UTC()
		}
		if err := s.store.SetSuspended(ctx, accountID, at); err != nil {
			return nil, err
		}
		u.Suspended = *c.Suspended
	}
	if u.Disabled || u.Suspended {
		if err := s.endAccess(ctx, accountID); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// Profile limits (Mastodon's).
const (
	MaxDisplayName = 30
	MaxNote        = 500
	MaxFields      = 4
	MaxFieldName   = 255
	MaxFieldValue  = 255
)

// ProfileUpdate holds the fields a user changes; nil leaves one as it is.
type ProfileUpdate struct {
	DisplayName  *string
	Note         *string
	Locked       *bool
	Bot          *bool
	Discoverable *bool
	Indexable    *bool
	Fields       *[]store.Field
	Privacy      *string
	Sensitive    *bool
	Language     *string
	AvatarKey    *string // a media key from media.Service.ProfileImage
	HeaderKey    *string
}

// CheckProfile validates a profile change without applying it: every field
// but the images. update_credentials calls it before it processes any
// image, so a change that would be refused stores none; UpdateProfile
// applies the same checks.
func CheckProfile(p ProfileUpdate) error {
	if p.DisplayName != nil && utf8.RuneCountInString(*p.DisplayName) > MaxDisplayName {
		return &ValidationError{"display_name", "ERR_TOO_LONG", fmt.Sprintf("must be at most %d characters", MaxDisplayName)}
	}
	if p.Note != nil && utf8.RuneCountInString(*p.Note) > MaxNote {
		return &ValidationError{"note", "ERR_TOO_LONG", fmt.Sprintf("must be at most %d characters", MaxNote)}
	}
	if p.Fields != nil {
		n := 0
		for _, f := range *p.Fields {
			if f.Name == "" && f.Value == "" {
				continue
			}
			if utf8.RuneCountInString(f.Name) > MaxFieldName || utf8.RuneCountInString(f.Value) > MaxFieldValue {
				return &ValidationError{"fields_attributes", "ERR_TOO_LONG", "a field name or value is over 255 characters"}
			}
			n++
		}
		if n > MaxFields {
			return &ValidationError{"fields_attributes", "ERR_TOO_LONG", fmt.Sprintf("at most %d fields", MaxFields)}
		}
	}
	if p.Privacy != nil {
		switch *p.Privacy {
		case "public", "unlisted", "private", "direct":
		default:
			return &ValidationError{"source[privacy]", "ERR_INCLUSION", "must be public, unlisted, private or direct"}
		}
	}
	if p.Language != nil {
		if l := *p.Language; l != "" && (len(l) < 2 || len(l) > 3 || strings.IndexFunc(l, func(r rune) bool { return r < 'a' || r > 'z' }) >= 0) {
			return &ValidationError{"source[language]", "ERR_INVALID", "must be an ISO 639 code like en"}
		}
	}
	return nil
}

// WithJobs makes the service wake the job runner after it commits a job
// (a profile update for other servers). It returns s.
func (s *Service) WithJobs(wake func()) *Service {
	s.wakeJobs = wake
	return s
}

// UpdateProfile validates and applies a user's own profile change. The
// account and its preferences are written together or not at all: when it
// fails, the profile names none of the change's images.
func (s *Service) UpdateProfile(ctx context.Context, accountID int64, p ProfileUpdate) (*store.Account, *store.User, error) {
	if err := CheckProfile(p); err != nil {
		return nil, nil, err
	}
	a, err := s.store.AccountByID(ctx, accountID)
	if err != nil {
		return nil, nil, err
	}
	u, err := s.store.UserByAccountID(ctx, accountID)
	if err != nil {
		return nil, nil, err
	}
	setString(&a.DisplayName, p.DisplayName)
	setString(&a.Note, p.Note)
	if p.Fields != nil {
		a.Fields = nil
		for _, f := range *p.Fields {
			if f.Name != "" || f.Value != "" {
				a.Fields = append(a.Fields, f)
			}
		}
	}
	setString(&a.AvatarKey, p.AvatarKey)
	setString(&a.HeaderKey, p.HeaderKey)
	setBool(&a.Locked, p.Locked)
	setBool(&a.Bot, p.Bot)
	setBool(&a.Discoverable, p.Discoverable)
	setBool(&a.Indexable, p.Indexable)
	setString(&u.DefaultPrivacy, p.Privacy)
	setBool(&u.DefaultSensitive, p.Sensitive)
	setString(&u.DefaultLanguage, p.Language)
	a.UpdatedAt = s.now().UTC()
	// Servers with followers of the account get the new profile.
	update := store.NewPublish(store.Publish{Activity: "UpdateActor", Actor: a.ID, At: a.UpdatedAt.UnixMilli()})
	if err := s.store.SaveProfile(ctx, a, u, &update); err != nil {
		return nil, nil, err
	}
	if s.wakeJobs != nil {
		s.wakeJobs()
	}
	return a, u, nil
}

func setString(dst *string, v *string) {
	if v != nil {
		*dst = *v
	}
}

func setBool(dst *bool, v *bool) {
	if v != nil {
		*dst = *v
	}
}

// SigningKey is the key a local account signs its deliveries with: its
// RSA key, as its actor publishes it (#main-key). Every peer verifies RSA;
// few verify Ed25519 yet.
func (s *Service) SigningKey(ctx context.Context, accountID int64) (httpsig.Key, error) {
	acc, err := s.store.AccountByID(ctx, accountID)
	if err != nil {
		return httpsig.Key{}, err
	}
	if acc.Domain != "" {
		return httpsig.Key{}, fmt.Errorf("account %d is not local", accountID)
	}
	_, privPEM, err := s.store.AccountKeys(ctx, accountID)
	if err != nil {
		return httpsig.Key{}, err
	}
	block, _ := pem.Decode([]byte(privPEM))
	if block == nil {
		return httpsig.Key{}, fmt.Errorf("account %d key: not PEM", accountID)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return httpsig.Key{}, fmt.Errorf("account %d key: %w", accountID, err)
	}
	key, ok := k.(*rsa.PrivateKey)
	if !ok {
		return httpsig.Key{}, fmt.Errorf("account %d key: %T, not RSA", accountID, k)
	}
	return httpsig.Key{ID: acc.URI + "#main-key", Private: key}, nil
}

// Delete deletes a local account for good: everything it made and every
// relation goes (store.DeleteLocalAccount), and the servers that knew it
// (those of its followers and of those it followed) are sent a Delete of
// the actor, signed with its key, which stays for that. The username is not
// given to anyone else.
func (s *Service) Delete(ctx context.Context, accountID int64) error {
	inboxes, err := s.store.KnownInboxes(ctx, accountID)
	if err != nil {
		return err
	}
	now := s.now().UTC()
	var jobs []store.NewJob
	if len(inboxes) > 0 {
		jobs = append(jobs, store.NewPublish(store.Publish{Activity: "DeleteActor", Actor: accountID, Inboxes: inboxes, At: now.UnixMilli()}))
	}
	if err := s.store.DeleteLocalAccount(ctx, accountID, now, jobs...); err != nil {
		return err
	}
	if s.wakeJobs != nil {
		s.wakeJobs()
	}
	return nil
}
