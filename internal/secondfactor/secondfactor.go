// Package secondfactor holds the rules of second factors and of the second
// sign-in step: TOTP enrolment, confirmation and use; recovery codes; the
// owner's disabling and an admin's reset; and the pending sign-in that a
// right password leaves for an account with a second factor, which a second
// factor completes. It knows nothing of HTTP (internal/web drives it).
//
// The second step is limited like the password step: every code tried
// counts against the account and against the client address
// (ratelimit.Shared, in the database, so every process counts together),
// before it is checked; a right code gives its attempt back. A pending
// sign-in also ends after MaxAttempts wrong codes, so the password must be
// typed again (and counted again by accounts' limits).
package secondfactor

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/rampart-social/rampart/internal/accounts"
	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/ratelimit"
	"github.com/rampart-social/rampart/internal/sealed"
	"github.com/rampart-social/rampart/internal/store"
	"github.com/rampart-social/rampart/internal/totp"
)

// PendingLifetime is how long a right password waits for its second factor.
const PendingLifetime = 5 * time.Minute

// MaxAttempts wrong codes end a pending sign-in.
const MaxAttempts = 3

// DailyFactor × security.login_attempts wrong codes per account per day
// (20 by default): with the per-window limit alone, someone who has the
// password could try 480 codes a day.
const DailyFactor = 4

// RecoveryCodes is how many recovery codes an account gets at a time.
const RecoveryCodes = 10

// Errors.
var (
	// ErrNoPending: the visitor has no pending sign-in (none, expired,
	// completed, or ended by wrong codes).
	ErrNoPending = errors.New("no sign-in is waiting for a second factor; sign in again")
	// ErrWrongCode: the code is not a valid TOTP code nor an unused
	// recovery code of the account.
	ErrWrongCode = errors.New("that code is not valid")
	// ErrEnded: that wrong code was the last one the pending sign-in allowed.
	ErrEnded = errors.New("too many wrong codes; sign in again")
	// ErrAlreadyEnabled refuses an enrolment while TOTP is on.
	ErrAlreadyEnabled = errors.New("two-factor authentication is already on")
	// ErrNotEnrolling: there is no enrolment to confirm.
	ErrNotEnrolling = errors.New("start the set-up again")
	// ErrNotEnabled: there is no second factor to disable or renew codes for.
	ErrNotEnabled = errors.New("two-factor authentication is off")
)

// Service applies the rules.
type Service struct {
	cfg           *config.Config
	store         *store.Store
	accounts      *accounts.Service
	box           *sealed.Box // seals TOTP secrets
	codeKey       []byte      // keys the recovery codes' digests
	params        totp.Params
	perAccount    *ratelimit.Shared
	perAccountDay *ratelimit.Shared // bounds a guesser who has the password over days
	perAddress    *ratelimit.Shared
	now           func() time.Time
}

// New builds the service. Keys are derived from secret_key, one per use.
func New(cfg *config.Config, st *store.Store, acc *accounts.Service) (*Service, error) {
	sealKey, err := cfg.SecretKey.Derive("rampart totp secret v1")
	if err != nil {
		return nil, fmt.Errorf("secret_key: %w", err)
	}
	box, err := sealed.New(sealKey)
	if err != nil {
		return nil, err
	}
	codeKey, err := cfg.SecretKey.Derive("rampart recovery code v1")
	if err != nil {
		return nil, fmt.Errorf("secret_key: %w", err)
	}
	s := &Service{cfg: cfg, store: st, accounts: acc, box: box, codeKey: codeKey, params: totp.Default, now: time.Now}
	clock := func() time.Time { return s.now() }
	key := accounts.LimiterKey(cfg)
	attempts, window := int(cfg.Security.LoginAttempts), cfg.Security.LoginWindow.D()
	s.perAccount = ratelimit.NewShared(st, key, "second_factor.account", attempts, window, clock)
	s.perAccountDay = ratelimit.NewShared(st, key, "second_factor.account_day", DailyFactor*attempts, 24*time.Hour, clock)
	s.perAddress = ratelimit.NewShared(st, key, "second_factor.address", attempts, window, clock)
	return s, nil
}

// HasSecondFactor reports whether signing in to the account needs a second
// step: the one place that says which factors count (a confirmed TOTP
// secret, or a passkey).
func (s *Service) HasSecondFactor(ctx context.Context, accountID int64) (bool, error) {
	if has, err := s.hasTOTP(ctx, accountID); has || err != nil {
		return has, err
	}
	n, err := s.store.CountPasskeys(ctx, accountID)
	return n > 0, err
}

// hasTOTP reports whether the account has a confirmed TOTP secret (and so
// the recovery codes that come with it): what the owner's disabling and
// renewing of codes act on.
func (s *Service) hasTOTP(ctx context.Context, accountID int64) (bool, error) {
	f, err := s.store.TOTPOf(ctx, accountID)
	if err != nil {
		return false, err
	}
	return f != nil && !f.Confirmed.IsZero(), nil
}

// StaffMustAdd reports whether the user is staff (admin or moderator)
// without a second factor while security.require_staff_second_factor is on:
// they are sent to add one after signing in (not locked out).
func (s *Service) StaffMustAdd(ctx context.Context, u *store.User) (bool, error) {
	if !s.cfg.Security.RequireStaffSecondFactor || (u.Role != accounts.RoleAdmin && u.Role != accounts.RoleModerator) {
		return false, nil
	}
	has, err := s.HasSecondFactor(ctx, u.AccountID)
	return !has, err
}

// StaffWithout lists the staff accounts without a second factor.
func (s *Service) StaffWithout(ctx context.Context) ([]store.StaffMember, error) {
	staff, err := s.store.Staff(ctx)
	if err != nil {
		return nil, err
	}
	var out []store.StaffMember
	for _, m := range staff {
		has, err := s.HasSecondFactor(ctx, m.AccountID)
		if err != nil {
			return nil, err
		}
		if !has {
			out = append(out, m)
		}
	}
	return out, nil
}

// Status is what the settings page and the second step show.
type Status struct {
	TOTP              bool // on
	Enrolling         bool // a secret waits for its first code
	RecoveryCodesLeft int
	Passkeys          int // registered passkeys (the second step offers them)
}

// StatusOf is the account's status.
func (s *Service) StatusOf(ctx context.Context, accountID int64) (Status, error) {
	var st Status
	f, err := s.store.TOTPOf(ctx, accountID)
	if err != nil {
		return st, err
	}
	st.TOTP, st.Enrolling = f != nil && !f.Confirmed.IsZero(), f != nil && f.Confirmed.IsZero()
	if st.RecoveryCodesLeft, err = s.store.RecoveryCodesLeft(ctx, accountID); err != nil {
		return st, err
	}
	if st.Passkeys, err = s.store.CountPasskeys(ctx, accountID); err != nil {
		return st, err
	}
	return st, nil
}

// Enrolment is a TOTP secret waiting for its first code.
type Enrolment struct {
	Secret string // base32, grouped by four for typing
	URI    string // otpauth://, for the QR code
}

// aad binds a sealed secret to its account's row.
func aad(accountID int64) []byte {
	return binary.BigEndian.AppendUint64([]byte("totp "), uint64(accountID))
}

// BeginTOTP starts an enrolment with a fresh secret (replacing an
// unconfirmed one). Refused while TOTP is on.
func (s *Service) BeginTOTP(ctx context.Context, a *store.Account) (*Enrolment, error) {
	secret := totp.NewSecret()
	ok, err := s.store.PutUnconfirmedTOTP(ctx, a.ID, s.box.Seal(secret, aad(a.ID)), s.now())
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrAlreadyEnabled
	}
	return s.enrolment(a, secret), nil
}

// CurrentEnrolment is the account's unconfirmed secret (nil: none).
func (s *Service) CurrentEnrolment(ctx context.Context, a *store.Account) (*Enrolment, error) {
	f, err := s.store.TOTPOf(ctx, a.ID)
	if err != nil || f == nil || !f.Confirmed.IsZero() {
		return nil, err
	}
	secret, err := s.box.Open(f.SealedSecret, aad(a.ID))
	if err != nil {
		return nil, fmt.Errorf("totp secret of %d: %w", a.ID, err)
	}
	return s.enrolment(a, secret), nil
}

func (s *Service) enrolment(a *store.Account, secret []byte) *Enrolment {
	text := totp.EncodeSecret(secret)
	var groups []string
	for len(text) > 4 {
		groups, text = append(groups, text[:4]), text[4:]
	}
	host := s.cfg.InstanceURL().Host
	return &Enrolment{Secret: strings.Join(append(groups, text), " "), URI: s.params.URI(host, a.Username, secret)}
}

// ConfirmTOTP turns TOTP on with the account's password and the first code
// from the app, and returns the account's new recovery codes, to be shown
// once. The password is asked, as to turn it off: else a signed-in session
// alone (a browser left open, a stolen cookie) could put a second factor
// only its holder knows on the account and lock the owner out.
func (s *Service) ConfirmTOTP(ctx context.Context, accountID int64, password, code, clientIP string) ([]string, error) {
	f, err := s.store.TOTPOf(ctx, accountID)
	if err != nil {
		return nil, err
	}
	if f == nil || !f.Confirmed.IsZero() {
		return nil, ErrNotEnrolling
	}
	done, err := s.limit(ctx, accountID, clientIP)
	if err != nil {
		return nil, err
	}
	if err := s.accounts.ConfirmPassword(ctx, accountID, password); err != nil {
		return nil, err
	}
	secret, err := s.box.Open(f.SealedSecret, aad(accountID))
	if err != nil {
		return nil, fmt.Errorf("totp secret of %d: %w", accountID, err)
	}
	step, err := s.params.Verify(secret, code, s.now(), f.LastStep)
	if err != nil {
		return nil, ErrWrongCode
	}
	codes, hashes := s.newRecoveryCodes(accountID)
	ok, err := s.store.ConfirmTOTP(ctx, accountID, step, hashes, s.now())
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrNotEnrolling
	}
	done()
	return codes, nil
}

// RegenerateRecoveryCodes replaces the account's recovery codes, with its
// password and a code (TOTP or recovery) as proof.
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, accountID int64, password, code, clientIP string) ([]string, error) {
	if err := s.confirmOwner(ctx, accountID, password, code, clientIP); err != nil {
		return nil, err
	}
	codes, hashes := s.newRecoveryCodes(accountID)
	if err := s.store.ReplaceRecoveryCodes(ctx, accountID, hashes, s.now()); err != nil {
		return nil, err
	}
	return codes, nil
}

// Disable turns the account's TOTP off (its secret and recovery codes go),
// with its password and a code (TOTP or recovery) as proof. Its passkeys
// stay: they are removed one by one on their own page.
func (s *Service) Disable(ctx context.Context, accountID int64, password, code, clientIP string) (store.RemovedFactors, error) {
	if err := s.confirmOwner(ctx, accountID, password, code, clientIP); err != nil {
		return store.RemovedFactors{}, err
	}
	return s.store.DeleteTOTPFactors(ctx, accountID)
}

// ResetByUsername removes a local account's second factors (TOTP, recovery
// codes and passkeys) without proof:
// an admin's `rampart admin user 2fa-reset`, for an owner who lost them.
// It logs one INFO "admin action" line to log, as the moderation actions
// do. store.ErrNotFound: no such local user.
func (s *Service) ResetByUsername(ctx context.Context, log *slog.Logger, username string) (*store.Account, store.RemovedFactors, error) {
	a, err := s.store.AccountByUsername(ctx, username, "")
	if err != nil {
		return nil, store.RemovedFactors{}, err
	}
	removed, err := s.store.DeleteSecondFactors(ctx, a.ID)
	if err != nil {
		return nil, removed, err
	}
	log.Info("admin action", "moderator", "(command line)", "action", "account.second_factor_reset", "target", a.Username,
		"target_id", a.ID, "totp", removed.TOTP, "recovery_codes", removed.RecoveryCodes, "passkeys", removed.Passkeys)
	if removed.TOTP || removed.RecoveryCodes > 0 || removed.Passkeys > 0 {
		// The owner should learn of it where they look for such changes.
		if err := s.accounts.RecordSecurityEvent(ctx, a.ID, accounts.EventSecondFactorRemoved, "", "", "reset by an administrator"); err != nil {
			log.Warn("recording the reset in the security history", "account", a.ID, "err", err)
		}
	}
	return a, removed, nil
}

// confirmOwner checks the password, then the code, under the second step's
// limits: accounts.ErrBadCredentials or ErrWrongCode.
func (s *Service) confirmOwner(ctx context.Context, accountID int64, password, code, clientIP string) error {
	has, err := s.hasTOTP(ctx, accountID)
	if err != nil {
		return err
	}
	if !has {
		return ErrNotEnabled
	}
	done, err := s.limit(ctx, accountID, clientIP)
	if err != nil {
		return err
	}
	// The password first: a right code with a wrong password must not use
	// up the code.
	if err := s.accounts.ConfirmPassword(ctx, accountID, password); err != nil {
		return err
	}
	if err := s.checkCode(ctx, accountID, code); err != nil {
		return err
	}
	done()
	return nil
}

// limit counts one attempt against the account (per window and per day)
// and the client address; a refused attempt counts nowhere (those that
// counted it are given it back). done gives a successful attempt back, as a
// right password is given back.
func (s *Service) limit(ctx context.Context, accountID int64, clientIP string) (done func(), err error) {
	acct := fmt.Sprint(accountID)
	type taken struct {
		l   *ratelimit.Shared
		key string
	}
	all := []taken{{s.perAccount, acct}, {s.perAccountDay, acct}, {s.perAddress, ratelimit.AddressKey(clientIP)}}
	for i, t := range all {
		wait, err := t.l.Take(ctx, t.key)
		if err == nil && wait == 0 {
			continue
		}
		for _, back := range all[:i] {
			_ = back.l.Refund(ctx, back.key)
		}
		if err != nil {
			return nil, fmt.Errorf("second-factor limits: %w", err)
		}
		return nil, &accounts.RateLimitedError{What: "wrong codes", RetryAfter: wait}
	}
	return func() {
		for _, t := range all {
			_ = t.l.Refund(ctx, t.key)
		}
	}, nil
}

// checkCode accepts a TOTP code (of a step after the last one used, taken
// in one statement) or an unused recovery code (deleted as it is used).
func (s *Service) checkCode(ctx context.Context, accountID int64, code string) error {
	if _, ok := s.params.Normalize(code); ok {
		f, err := s.store.TOTPOf(ctx, accountID)
		if err != nil {
			return err
		}
		if f == nil || f.Confirmed.IsZero() {
			return ErrWrongCode
		}
		secret, err := s.box.Open(f.SealedSecret, aad(accountID))
		if err != nil {
			return fmt.Errorf("totp secret of %d: %w", accountID, err)
		}
		step, err := s.params.Verify(secret, code, s.now(), f.LastStep)
		if err != nil {
			return ErrWrongCode
		}
		if ok, err := s.store.UseTOTPStep(ctx, accountID, step); err != nil || !ok {
			if err != nil {
				return err
			}
			return ErrWrongCode // another request used this step first
		}
		return nil
	}
	norm, ok := normalizeRecoveryCode(code)
	if !ok {
		return ErrWrongCode
	}
	used, err := s.store.UseRecoveryCode(ctx, accountID, s.recoveryHash(accountID, norm))
	if err != nil {
		return err
	}
	if !used {
		return ErrWrongCode
	}
	return nil
}

// recoveryAlphabet has 32 letters and digits, without 0/o and 1/l, which
// people confuse when typing a code from paper.
const recoveryAlphabet = "abcdefghijkmnpqrstuvwxyz23456789"

// recoveryLen characters of 5 bits each: 60 bits per code.
const recoveryLen = 12

// newRecoveryCodes makes RecoveryCodes codes, shown as xxxx-xxxx-xxxx, and
// their digests.
func (s *Service) newRecoveryCodes(accountID int64) (codes, hashes []string) {
	for range RecoveryCodes {
		b := make([]byte, recoveryLen)
		_, _ = rand.Read(b) // crypto/rand.Read never fails
		for i := range b {
			b[i] = recoveryAlphabet[b[i]%32] // 256 is a multiple of 32: no bias
		}
		code := string(b)
		codes = append(codes, code[:4]+"-"+code[4:8]+"-"+code[8:])
		hashes = append(hashes, s.recoveryHash(accountID, code))
	}
	return codes, hashes
}

// normalizeRecoveryCode reads a recovery code as typed: case, spaces and
// hyphens do not matter. The input is bounded before any work.
func normalizeRecoveryCode(code string) (string, bool) {
	if len(code) > 64 {
		return "", false
	}
	var b strings.Builder
	for _, r := range strings.ToLower(code) {
		switch {
		case r == ' ' || r == '-' || r == '\t':
		case r < 128 && strings.IndexByte(recoveryAlphabet, byte(r)) >= 0:
			b.WriteRune(r)
		default:
			return "", false
		}
	}
	if b.Len() != recoveryLen {
		return "", false
	}
	return b.String(), true
}

// recoveryHash is what the store keeps of a recovery code: HMAC-SHA256
// under a key derived from secret_key, over the account id and the code.
// A fast hash is enough here, unlike for passwords: a code is 60 random
// bits, not a word a person chose, so there is no dictionary to try, and a
// stolen database without secret_key does not even allow an offline guess;
// with the key, finding one code of ten still takes about 2^56 HMACs per
// account. Online, every guess counts against the second step's limits.
func (s *Service) recoveryHash(accountID int64, norm string) string {
	mac := hmac.New(sha256.New, s.codeKey)
	mac.Write(binary.BigEndian.AppendUint64(nil, uint64(accountID)))
	mac.Write([]byte(norm))
	return hex.EncodeToString(mac.Sum(nil))
}
