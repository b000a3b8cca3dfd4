// Package passkeys is WebAuthn on Rampart: registering passkeys and
// security keys for a signed-in account (several, each with a name),
// signing in with one without a password (a discoverable credential), using
// one as the second factor of a given account, listing and removing them.
// No HTTP: the pages (internal/web) pass it the client's JSON and the
// visitor's session cookie value, and send its options to the browser.
//
// The relying party is the instance: its id is the instance URL's host name
// and the only origin accepted is the instance URL's origin, exactly
// (scheme, host and port), so a credential made here is usable nowhere
// else and a page on any other origin cannot use it here.
//
// Attestation is not asked for ("none"): Rampart admits any authenticator,
// so a statement of the make and model would decide nothing, while it would
// tell the server which device a person owns and need the FIDO metadata
// service (fetched from outside) to mean anything. What proves possession
// is the signature over each ceremony's challenge, which is always checked.
//
// A ceremony's state (challenge and options) is kept in the database
// between its begin and its finish (store.PasskeyCeremony), keyed by the
// SHA-256 of the visitor's session cookie value and the kind of ceremony,
// for ceremonyLifetime, and taken by the finish: a challenge answers once,
// only for the browser it was issued to.
package passkeys

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/rampart-social/rampart/internal/accounts"
	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/id"
	"github.com/rampart-social/rampart/internal/ratelimit"
	"github.com/rampart-social/rampart/internal/safely"
	"github.com/rampart-social/rampart/internal/store"
)

// Bounds.
const (
	// MaxPerAccount is how many passkeys one account may hold.
	MaxPerAccount = 20
	// MaxNameLength is the longest name of a passkey, in characters.
	MaxNameLength = 64
	// MaxResponseBytes is the largest client response read: a credential
	// with attestation "none" is well under 2 KiB; a packed statement with
	// its certificates a few KiB.
	MaxResponseBytes = 64 << 10
	// ceremonyLifetime is how long a begun ceremony can be finished; the
	// browser is told the same timeout.
	ceremonyLifetime = 5 * time.Minute
	// Passwordless sign-ins begun per client address per window: each
	// writes a row, and they need no account.
	signInBegins      = 30
	signInBeginWindow = 5 * time.Minute
)

// Ceremony kinds (store.PasskeyCeremony.Kind).
const (
	kindRegister = "register"
	kindSignIn   = "signin"
	kindSecond   = "second"
)

// Errors a person can be shown.
var (
	// ErrNoCeremony: nothing was begun for this browser, or it expired, or
	// it was already used.
	ErrNoCeremony = errors.New("this passkey request has expired; please try again")
	// ErrRefused: the response did not verify (wrong origin or relying
	// party, bad signature, another challenge, unknown credential…).
	ErrRefused = errors.New("the passkey was not accepted")
	// ErrCloned: the authenticator's signature counter did not grow, as
	// happens when a credential has been copied. The passkey is refused
	// until it is removed.
	ErrCloned = errors.New("this passkey's signature counter went backwards, which happens when it has been copied; " +
		"remove it and add it again")
	// ErrNone: the account has no passkey (a second factor cannot be asked).
	ErrNone = errors.New("this account has no passkey")
	// ErrTooMany: the account holds MaxPerAccount passkeys already.
	ErrTooMany = fmt.Errorf("an account can hold at most %d passkeys", MaxPerAccount)
	// ErrExists: the authenticator already holds a passkey registered here.
	ErrExists = errors.New("this passkey is already registered")
	// ErrNotFound: no such passkey of the account.
	ErrNotFound = errors.New("no such passkey")
	// ErrBadName: a name that is empty, too long or holds control characters.
	ErrBadName = fmt.Errorf("a passkey's name must be 1 to %d characters, without control characters", MaxNameLength)
)

// Service applies the passkey rules.
type Service struct {
	wa       *webauthn.WebAuthn
	store    *store.Store
	ids      *id.Generator
	accounts *accounts.Service
	begins   *ratelimit.Shared // passwordless sign-ins begun per client address
	log      *slog.Logger
	now      func() time.Time
	// unavailable is set (and wa nil) when the instance URL gives no
	// valid RP id.
	unavailable error
}

// ErrUnavailable: the instance's URL names an IP address, which cannot be a
// WebAuthn relying party id; passkeys are off.
var ErrUnavailable = errors.New("passkeys need the instance URL to name a host, not an IP address")

// New builds the service for the instance cfg describes. When the instance
// URL's host cannot be an RP id, the service is built anyway and every
// ceremony fails with ErrUnavailable (Available says so).
func New(cfg *config.Config, st *store.Store, ids *id.Generator, acc *accounts.Service) *Service {
	u := cfg.InstanceURL()
	title := cfg.Instance.Title
	if title == "" {
		title = u.Hostname()
	}
	wa, err := webauthn.New(&webauthn.Config{
		RPID:          u.Hostname(),
		RPDisplayName: title,
		// The instance URL's origin, exactly: no other origin, no
		// cross-origin iframe, no top origin.
		RPOrigins:             []string{u.Scheme + "://" + u.Host},
		AttestationPreference: protocol.PreferNoAttestation,
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Enforce: true, Timeout: ceremonyLifetime, TimeoutUVD: ceremonyLifetime},
			Registration: webauthn.TimeoutConfig{Enforce: true, Timeout: ceremonyLifetime, TimeoutUVD: ceremonyLifetime},
		},
	})
	s := &Service{wa: wa, store: st, ids: ids, accounts: acc, log: slog.New(slog.DiscardHandler), now: time.Now}
	if err != nil {
		// An instance URL that names an IP address (a test, a dev
		// instance) has no RP id: the instance runs, without passkeys.
		s.wa, s.unavailable = nil, fmt.Errorf("%w (%s: %v)", ErrUnavailable, u.Hostname(), err)
	}
	s.begins = ratelimit.NewShared(st, accounts.LimiterKey(cfg), "passkey.signin.address", signInBegins, signInBeginWindow,
		func() time.Time { return s.now() })
	return s
}

// WithLog makes the service log what a person is not told (a refused
// response's reason, a clone warning). It returns s.
func (s *Service) WithLog(log *slog.Logger) *Service {
	s.log = log
	return s
}

// Available is nil when passkeys can be used here, else why not.
func (s *Service) Available() error { return s.unavailable }

// user is an account as the library sees it.
type user struct {
	handle []byte
	name   string
	creds  []webauthn.Credential
	keys   []*store.Passkey // the stored rows of creds, in the same order
}

func (u *user) WebAuthnID() []byte                         { return u.handle }
func (u *user) WebAuthnName() string                       { return u.name }
func (u *user) WebAuthnDisplayName() string                { return u.name }
func (u *user) WebAuthnCredentials() []webauthn.Credential { return u.creds }

// credential is a stored passkey in the library's form.
func credential(p *store.Passkey) webauthn.Credential {
	transports := make([]protocol.AuthenticatorTransport, len(p.Transports))
	for i, t := range p.Transports {
		transports[i] = protocol.AuthenticatorTransport(t)
	}
	return webauthn.Credential{
		ID:        p.CredentialID,
		PublicKey: p.PublicKey,
		Transport: transports,
		Flags: webauthn.CredentialFlags{UserPresent: true, BackupEligible: p.BackupEligible,
			BackupState: p.BackupState},
		Authenticator: webauthn.Authenticator{AAGUID: p.AAGUID, SignCount: p.SignCount},
	}
}

// loadUser reads an account's handle (made when create is set and it has
// none; else ErrNone) and passkeys.
func (s *Service) loadUser(ctx context.Context, accountID int64, create bool) (*user, error) {
	a, err := s.store.AccountByID(ctx, accountID)
	if err != nil {
		return nil, fmt.Errorf("passkeys: account %d: %w", accountID, err)
	}
	var handle []byte
	if create {
		fresh := make([]byte, 32)
		rand.Read(fresh)
		handle, err = s.store.PasskeyHandle(ctx, accountID, fresh)
	} else {
		handle, err = s.store.PasskeyHandleOf(ctx, accountID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, ErrNone
		}
	}
	if err != nil {
		return nil, fmt.Errorf("passkeys: %w", err)
	}
	keys, err := s.store.PasskeysOf(ctx, accountID)
	if err != nil {
		return nil, fmt.Errorf("passkeys: %w", err)
	}
	u := &user{handle: handle, name: a.Username, keys: keys}
	for _, k := range keys {
		u.creds = append(u.creds, credential(k))
	}
	return u, nil
}

// bindingKey is how a ceremony is filed: the SHA-256 of the visitor's
// session cookie value, never the value itself.
func bindingKey(binding string) (string, error) {
	if binding == "" {
		return "", ErrNoCeremony // a browser without the cookie has nothing to bind to
	}
	sum := sha256.Sum256([]byte(binding))
	return hex.EncodeToString(sum[:]), nil
}

// keep stores a begun ceremony.
func (s *Service) keep(ctx context.Context, binding, kind string, accountID int64, name string, sd *webauthn.SessionData) error {
	key, err := bindingKey(binding)
	if err != nil {
		return err
	}
	data, err := json.Marshal(sd)
	if err != nil {
		return fmt.Errorf("passkeys: ceremony: %w", err)
	}
	now := s.now()
	return s.store.PutPasskeyCeremony(ctx, &store.PasskeyCeremony{Binding: key, Kind: kind, AccountID: accountID, Name: name,
		Data: data, ExpiresAt: now.Add(ceremonyLifetime)}, now)
}

// take removes and returns the visitor's ceremony of kind; it must belong
// to accountID (0 for a passwordless sign-in).
func (s *Service) take(ctx context.Context, binding, kind string, accountID int64) (*store.PasskeyCeremony, webauthn.SessionData, error) {
	var sd webauthn.SessionData
	key, err := bindingKey(binding)
	if err != nil {
		return nil, sd, err
	}
	c, err := s.store.TakePasskeyCeremony(ctx, key, kind, s.now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, sd, ErrNoCeremony
	}
	if err != nil {
		return nil, sd, fmt.Errorf("passkeys: %w", err)
	}
	if c.AccountID != accountID {
		return nil, sd, ErrNoCeremony // begun for another account (signed out and in again meanwhile)
	}
	if err := json.Unmarshal(c.Data, &sd); err != nil {
		return nil, sd, fmt.Errorf("passkeys: ceremony data: %w", err)
	}
	return c, sd, nil
}

// refused logs why the library refused a response and returns ErrRefused.
func (s *Service) refused(what string, err error) error {
	var perr *protocol.Error
	if errors.As(err, &perr) {
		s.log.Info("passkey refused", "ceremony", what, "type", perr.Type, "details", perr.Details, "info", perr.DevInfo)
	} else {
		s.log.Info("passkey refused", "ceremony", what, "err", err)
	}
	return ErrRefused
}

// parseCreation reads a registration response (the client's JSON, at most
// MaxResponseBytes) through safely.Do: a panic in the parser is an error.
func (s *Service) parseCreation(response []byte) (*protocol.ParsedCredentialCreationData, error) {
	if len(response) > MaxResponseBytes {
		return nil, errors.New("the response is too large")
	}
	var parsed *protocol.ParsedCredentialCreationData
	err := safely.Do(s.log, "parse a passkey registration", func() (err error) {
		parsed, err = protocol.ParseCredentialCreationResponseBytes(response)
		return err
	})
	return parsed, err
}

// parseAssertion reads an assertion response as parseCreation reads a
// registration.
func (s *Service) parseAssertion(response []byte) (*protocol.ParsedCredentialAssertionData, error) {
	if len(response) > MaxResponseBytes {
		return nil, errors.New("the response is too large")
	}
	var parsed *protocol.ParsedCredentialAssertionData
	err := safely.Do(s.log, "parse a passkey assertion", func() (err error) {
		parsed, err = protocol.ParseCredentialRequestResponseBytes(response)
		return err
	})
	return parsed, err
}

// CheckName trims a passkey's name and checks it.
func CheckName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > MaxNameLength {
		return "", ErrBadName
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return "", ErrBadName
		}
	}
	return name, nil
}

// Proof is the account's current password, given to add a passkey: a
// passkey signs in without the password and outlives a password change, so
// a session alone (a browser left open, a stolen cookie) must not be able
// to plant one. It is checked as a sign-in checks it, under the same
// limits (accounts.(*Service).Authenticate).
type Proof struct {
	Password string
	ClientIP string
	Device   string // the browser's device token
}

// BeginRegistration starts adding a passkey called name to a signed-in
// account whose password proof gives, for the browser whose session cookie
// value is binding. It returns the options for navigator.credentials.create
// (JSON). Resident (discoverable) keys and user verification are preferred,
// not required, so that a plain security key serves as a second factor;
// the authenticators already registered are excluded. A wrong password is
// the sign-in's error (accounts.ErrBadCredentials, a
// *accounts.RateLimitedError…); forget reports that the browser's device
// token was revoked for too many failures.
func (s *Service) BeginRegistration(ctx context.Context, accountID int64, binding, name string, proof Proof) (opts json.RawMessage, forget bool, err error) {
	if s.unavailable != nil {
		return nil, false, s.unavailable
	}
	name, err = CheckName(name)
	if err != nil {
		return nil, false, err
	}
	if forget, err = s.confirmPassword(ctx, accountID, proof); err != nil {
		return nil, forget, err
	}
	u, err := s.loadUser(ctx, accountID, true)
	if err != nil {
		return nil, forget, err
	}
	if len(u.keys) >= MaxPerAccount {
		return nil, forget, ErrTooMany
	}
	creation, sd, err := s.wa.BeginRegistration(u,
		webauthn.WithExclusions(webauthn.Credentials(u.creds).CredentialDescriptors()),
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			ResidentKey:      protocol.ResidentKeyRequirementPreferred,
			UserVerification: protocol.VerificationPreferred,
		}),
		webauthn.WithConveyancePreference(protocol.PreferNoAttestation))
	if err != nil {
		return nil, forget, fmt.Errorf("passkeys: begin registration: %w", err)
	}
	if err := s.keep(ctx, binding, kindRegister, accountID, name, sd); err != nil {
		return nil, forget, err
	}
	opts, err = json.Marshal(creation)
	return opts, forget, err
}

// FinishRegistration checks the browser's answer (the JSON of the
// PublicKeyCredential navigator.credentials.create gave) against the
// ceremony begun for this browser and account, and stores the passkey.
func (s *Service) FinishRegistration(ctx context.Context, accountID int64, binding string, response []byte) (*store.Passkey, error) {
	if s.unavailable != nil {
		return nil, s.unavailable
	}
	c, sd, err := s.take(ctx, binding, kindRegister, accountID)
	if err != nil {
		return nil, err
	}
	parsed, err := s.parseCreation(response)
	if err != nil {
		return nil, s.refused(kindRegister, err)
	}
	u, err := s.loadUser(ctx, accountID, false)
	if err != nil {
		return nil, err
	}
	cred, err := s.wa.CreateCredential(u, sd, parsed)
	if err != nil {
		return nil, s.refused(kindRegister, err)
	}
	transports := make([]string, 0, len(cred.Transport))
	for _, t := range cred.Transport {
		if len(transports) < 8 && len(t) <= 32 {
			transports = append(transports, string(t))
		}
	}
	p := &store.Passkey{ID: s.ids.Next(), AccountID: accountID, CredentialID: cred.ID, PublicKey: cred.PublicKey,
		SignCount: cred.Authenticator.SignCount, AAGUID: cred.Authenticator.AAGUID, Transports: transports,
		BackupEligible: cred.Flags.BackupEligible, BackupState: cred.Flags.BackupState, Name: c.Name, CreatedAt: s.now().UTC()}
	switch err := s.store.CreatePasskey(ctx, p, MaxPerAccount); {
	case errors.Is(err, store.ErrPasskeyLimit):
		return nil, ErrTooMany
	case errors.Is(err, store.ErrPasskeyExists):
		return nil, ErrExists
	case err != nil:
		return nil, fmt.Errorf("passkeys: %w", err)
	}
	return p, nil
}

// BeginSignIn starts a passwordless sign-in for the browser whose session
// cookie value is binding: options for navigator.credentials.get (JSON)
// that name no account, so the authenticator offers the discoverable
// credentials it holds for this instance. User verification is required:
// the passkey is the whole proof. At most signInBegins per client address
// per signInBeginWindow (a *ratelimit.WaitError beyond).
func (s *Service) BeginSignIn(ctx context.Context, binding, clientIP string) (json.RawMessage, error) {
	if s.unavailable != nil {
		return nil, s.unavailable
	}
	if err := s.begins.Allow(ctx, "passkey sign-ins", ratelimit.AddressKey(clientIP)); err != nil {
		return nil, err
	}
	assertion, sd, err := s.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, fmt.Errorf("passkeys: begin sign-in: %w", err)
	}
	if err := s.keep(ctx, binding, kindSignIn, 0, "", sd); err != nil {
		return nil, err
	}
	return json.Marshal(assertion)
}

// FinishSignIn checks the browser's answer to BeginSignIn's options and
// signs the passkey's account in as a password would
// (accounts.(*Service).SignInWithPasskey: a suspended, disabled or
// unapproved account is refused with the same errors).
func (s *Service) FinishSignIn(ctx context.Context, binding string, response []byte) (accounts.Outcome, error) {
	if s.unavailable != nil {
		return accounts.Outcome{}, s.unavailable
	}
	_, sd, err := s.take(ctx, binding, kindSignIn, 0)
	if err != nil {
		return accounts.Outcome{}, err
	}
	parsed, err := s.parseAssertion(response)
	if err != nil {
		return accounts.Outcome{}, s.refused(kindSignIn, err)
	}
	var found *user
	handler := func(rawID, userHandle []byte) (webauthn.User, error) {
		p, err := s.store.PasskeyByCredentialID(ctx, rawID)
		if err != nil {
			return nil, err
		}
		u, err := s.loadUser(ctx, p.AccountID, false)
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(u.handle, userHandle) {
			return nil, errors.New("the user handle is not the credential's account's")
		}
		found = u
		return u, nil
	}
	_, cred, err := s.wa.ValidatePasskeyLogin(handler, sd, parsed)
	if err != nil {
		return accounts.Outcome{}, s.refused(kindSignIn, err)
	}
	if err := s.used(ctx, found, cred); err != nil {
		return accounts.Outcome{}, err
	}
	return s.accounts.SignInWithPasskey(ctx, found.keys[0].AccountID)
}

// used records a verified assertion of one of u's passkeys, refusing a
// counter that did not grow (ErrCloned).
func (s *Service) used(ctx context.Context, u *user, cred *webauthn.Credential) error {
	var key *store.Passkey
	for _, k := range u.keys {
		if bytes.Equal(k.CredentialID, cred.ID) {
			key = k
		}
	}
	if key == nil {
		return ErrRefused // the library found it among u's credentials; this cannot happen
	}
	if cred.Authenticator.CloneWarning {
		s.log.Warn("passkey refused: its signature counter did not grow", "account", key.AccountID, "passkey", key.ID)
		return ErrCloned
	}
	ok, err := s.store.UsePasskey(ctx, key.ID, cred.Authenticator.SignCount, cred.Flags.BackupState, s.now())
	if err != nil {
		return fmt.Errorf("passkeys: %w", err)
	}
	if !ok {
		s.log.Warn("passkey refused: its signature counter did not grow", "account", key.AccountID, "passkey", key.ID)
		return ErrCloned
	}
	return nil
}

// BeginSecondFactor starts the assertion of one of accountID's passkeys as
// the second step of a sign-in whose password step passed, for the browser
// whose session cookie value is binding: options for
// navigator.credentials.get (JSON) listing the account's credentials. User
// verification is preferred (the password was the first factor). ErrNone
// when the account has no passkey.
func (s *Service) BeginSecondFactor(ctx context.Context, accountID int64, binding string) (json.RawMessage, error) {
	if s.unavailable != nil {
		return nil, s.unavailable
	}
	u, err := s.loadUser(ctx, accountID, false)
	if err != nil {
		return nil, err
	}
	if len(u.creds) == 0 {
		return nil, ErrNone
	}
	assertion, sd, err := s.wa.BeginLogin(u, webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return nil, fmt.Errorf("passkeys: begin second factor: %w", err)
	}
	if err := s.keep(ctx, binding, kindSecond, accountID, "", sd); err != nil {
		return nil, err
	}
	return json.Marshal(assertion)
}

// FinishSecondFactor checks the browser's answer to BeginSecondFactor's
// options: nil when one of accountID's passkeys signed this browser's
// challenge. It does not sign anyone in; the second step does.
func (s *Service) FinishSecondFactor(ctx context.Context, accountID int64, binding string, response []byte) error {
	if s.unavailable != nil {
		return s.unavailable
	}
	_, sd, err := s.take(ctx, binding, kindSecond, accountID)
	if err != nil {
		return err
	}
	parsed, err := s.parseAssertion(response)
	if err != nil {
		return s.refused(kindSecond, err)
	}
	u, err := s.loadUser(ctx, accountID, false)
	if err != nil {
		if errors.Is(err, ErrNone) {
			return ErrRefused
		}
		return err
	}
	cred, err := s.wa.ValidateLogin(u, sd, parsed)
	if err != nil {
		return s.refused(kindSecond, err)
	}
	return s.used(ctx, u, cred)
}

// List is an account's passkeys, oldest first.
func (s *Service) List(ctx context.Context, accountID int64) ([]*store.Passkey, error) {
	keys, err := s.store.PasskeysOf(ctx, accountID)
	if err != nil {
		return nil, fmt.Errorf("passkeys: %w", err)
	}
	return keys, nil
}

// Has reports whether an account has at least one passkey (whether the
// second step can offer one).
func (s *Service) Has(ctx context.Context, accountID int64) (bool, error) {
	keys, err := s.List(ctx, accountID)
	return len(keys) > 0, err
}

// Removal is a request to remove one of an account's passkeys.
type Removal struct {
	AccountID int64
	PasskeyID int64
	// The account's current password, checked as a sign-in checks it,
	// under the same limits (accounts.(*Service).Authenticate).
	Password string
	ClientIP string
	Device   string // the browser's device token
}

// Remove removes a passkey once the account's password is confirmed. The
// errors are the sign-in's (accounts.ErrBadCredentials, a
// *accounts.RateLimitedError…) or ErrNotFound. forget reports that the
// browser's device token was revoked for too many failures.
func (s *Service) Remove(ctx context.Context, r Removal) (forget bool, err error) {
	forget, err = s.confirmPassword(ctx, r.AccountID, Proof{Password: r.Password, ClientIP: r.ClientIP, Device: r.Device})
	if err != nil {
		return forget, err
	}
	ok, err := s.store.DeletePasskey(ctx, r.AccountID, r.PasskeyID)
	if err != nil {
		return forget, fmt.Errorf("passkeys: %w", err)
	}
	if !ok {
		return forget, ErrNotFound
	}
	return forget, nil
}

// confirmPassword checks accountID's password as a sign-in checks it, under
// the same limits: what adding and removing a passkey ask for.
func (s *Service) confirmPassword(ctx context.Context, accountID int64, p Proof) (forget bool, err error) {
	a, err := s.store.AccountByID(ctx, accountID)
	if err != nil {
		return false, fmt.Errorf("passkeys: account %d: %w", accountID, err)
	}
	out, err := s.accounts.Authenticate(ctx, accounts.SignIn{Login: a.Username, Password: p.Password, ClientIP: p.ClientIP,
		Device: p.Device})
	if err != nil {
		return out.ForgetDevice, err
	}
	if out.Account == nil || out.Account.ID != accountID {
		return out.ForgetDevice, accounts.ErrBadCredentials
	}
	return out.ForgetDevice, nil
}

// RemoveAll removes every passkey of an account without a password: for an
// administrator's reset of its second factors (rampart admin user
// 2fa-reset), never for a request of the account itself. It returns how
// many were removed.
func (s *Service) RemoveAll(ctx context.Context, accountID int64) (int, error) {
	n, err := s.store.DeleteAccountPasskeys(ctx, accountID)
	if err != nil {
		return 0, fmt.Errorf("passkeys: %w", err)
	}
	return n, nil
}
