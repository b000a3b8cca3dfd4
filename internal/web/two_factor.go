package web

import (
	"errors"
	"net/http"
	"strconv"

	"rsc.io/qr"

	"github.com/rampart-social/rampart/internal/accounts"
	"github.com/rampart-social/rampart/internal/clientip"
	"github.com/rampart-social/rampart/internal/secondfactor"
	"github.com/rampart-social/rampart/internal/session"
	"github.com/rampart-social/rampart/internal/store"
)

// The second sign-in step (/auth/second_factor) and the two-factor settings
// page (/settings/two_factor). The rules are internal/secondfactor's; these
// handlers read forms, call it and render.

// twoFactorView is what the two-factor templates show.
type twoFactorView struct {
	Status        secondfactor.Status
	Enrolment     *secondfactor.Enrolment
	RecoveryCodes []string // shown once, right after they are made
}

// afterPassword finishes a right password: an account with a second factor
// gets a pending sign-in and the second step; any other is signed in.
func (p *Pages) afterPassword(w http.ResponseWriter, r *http.Request, v *visitor, out accounts.Outcome, returnTo string) {
	has, err := p.SecondFactor.HasSecondFactor(r.Context(), out.Account.ID)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if !has {
		p.completeSignIn(w, r, v, out.User, out.Device, out.NewBrowser, returnTo)
		return
	}
	if err := p.SecondFactor.Begin(r.Context(), v.state.Raw, out.Account.ID, out.Device, returnTo, out.NewBrowser); err != nil {
		p.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/auth/second_factor", http.StatusSeeOther)
}

// completeSignIn starts the session and keeps the device token, records a
// sign-in from a new browser in the security history, then goes to
// returnTo, or sends staff without a second factor to add one while
// security.require_staff_second_factor is on. Every way of signing in ends
// here: the password alone, the second step, a passkey.
func (p *Pages) completeSignIn(w http.ResponseWriter, r *http.Request, v *visitor, u *store.User, device string, newBrowser bool, returnTo string) {
	if err := p.Sessions.Start(r.Context(), w, v.state, u.AccountID, r.UserAgent(), clientip.From(r.Context())); err != nil {
		p.fail(w, r, err)
		return
	}
	if device != "" {
		p.Sessions.SetDevice(w, device, accounts.DeviceLifetime)
	}
	if newBrowser {
		// The history tells the owner; failing to write it must not undo a
		// sign-in that succeeded.
		if err := p.Accounts.RecordSecurityEvent(r.Context(), u.AccountID, accounts.EventNewBrowserSignIn,
			clientip.From(r.Context()), r.UserAgent(), ""); err != nil {
			p.Log.Warn("recording a new browser's sign-in", "account", u.AccountID, "err", err)
		}
	}
	must, err := p.SecondFactor.StaffMustAdd(r.Context(), u)
	if err != nil {
		p.Log.Warn("checking the staff second-factor requirement", "err", err)
	}
	if must {
		returnTo = "/settings/two_factor?required=1"
	}
	http.Redirect(w, r, returnTo, http.StatusSeeOther)
}

func (p *Pages) secondFactorForm(w http.ResponseWriter, r *http.Request) {
	v, err := p.load(r.Context(), w, r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if _, err := p.SecondFactor.Pending(r.Context(), v.state.Raw); err != nil {
		if errors.Is(err, secondfactor.ErrNoPending) {
			http.Redirect(w, r, "/auth/sign_in", http.StatusSeeOther)
			return
		}
		p.fail(w, r, err)
		return
	}
	p.renderSecondStep(w, r, v, http.StatusOK, page{})
}

func (p *Pages) secondFactor(w http.ResponseWriter, r *http.Request) {
	v, err := p.load(r.Context(), w, r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if !p.readForm(w, r) {
		return
	}
	if !p.Sessions.CheckCSRF(v.state, r.PostForm.Get(session.CSRFField)) {
		p.renderSecondStep(w, r, v, http.StatusForbidden, page{Error: "Your form expired. Please try again."})
		return
	}
	// Where the sign-in was going, kept for the sign-in form should this
	// code end it.
	returnTo := "/"
	pending, err := p.SecondFactor.Pending(r.Context(), v.state.Raw)
	if err == nil {
		returnTo = safeReturn(pending.ReturnTo)
		pending, err = p.SecondFactor.SubmitCode(r.Context(), v.state.Raw, r.PostForm.Get("code"), clientip.From(r.Context()))
	}
	p.secondStepOutcome(w, r, v, pending, returnTo, err, "codes", func(err error) bool {
		if !errors.Is(err, secondfactor.ErrWrongCode) {
			return false
		}
		p.renderSecondStep(w, r, v, http.StatusUnauthorized, page{Error: "That code is not valid. Enter the current code from your app, or a recovery code."})
		return true
	})
}

// secondStepOutcome answers what an answer at the second step came to, for
// every kind of answer (a code, a passkey; noun names them in the
// messages): signed in, limited, ended, an unusable account, or the
// factor's own refusal, which refused answers and reports it did.
func (p *Pages) secondStepOutcome(w http.ResponseWriter, r *http.Request, v *visitor, pending *store.PendingSignIn, returnTo string,
	err error, noun string, refused func(error) bool) {
	var limited *accounts.RateLimitedError
	switch {
	case err == nil:
		u, err := p.Store.UserByAccountID(r.Context(), pending.AccountID)
		if err != nil {
			p.fail(w, r, err)
			return
		}
		p.completeSignIn(w, r, v, u, pending.Device, pending.NewBrowser, safeReturn(pending.ReturnTo))
	case errors.As(err, &limited):
		w.Header().Set("Retry-After", strconv.Itoa(limited.Seconds()))
		p.renderSecondStep(w, r, v, http.StatusTooManyRequests, page{Error: "Too many wrong " + noun + ". Try again in " +
			strconv.Itoa(limited.Seconds()) + " s."})
	case errors.Is(err, secondfactor.ErrEnded), errors.Is(err, secondfactor.ErrNoPending):
		p.Security.AllowPasskeys(w) // the sign-in page offers a passkey
		p.render(w, r, http.StatusUnauthorized, "signin.html", page{Title: "Sign in", CSRF: v.csrf, ReturnTo: returnTo,
			Error: "Your sign-in ended (too many wrong " + noun + ", or it took too long). Please sign in again."})
	case errors.Is(err, accounts.ErrPending), errors.Is(err, accounts.ErrDisabled), errors.Is(err, accounts.ErrSuspended):
		p.Security.AllowPasskeys(w)
		p.render(w, r, http.StatusForbidden, "signin.html", page{Title: "Sign in", CSRF: v.csrf, ReturnTo: returnTo, Error: err.Error()})
	case refused(err):
	default:
		p.fail(w, r, err)
	}
}

// twoFactorNotices are the notices a redirect to the page may ask for.
var twoFactorNotices = map[string]string{
	"required": "Your role on this instance requires a second factor. Please set up two-factor authentication now.",
	"disabled": "The authenticator app is turned off and your recovery codes no longer work. Passkeys you added stay until you remove them.",
}

func (p *Pages) twoFactorPage(w http.ResponseWriter, r *http.Request) {
	v, ok := p.requireAccount(w, r, "/settings/two_factor")
	if !ok {
		return
	}
	data := page{}
	for key, text := range twoFactorNotices {
		if r.URL.Query().Has(key) {
			data.Notice = text
		}
	}
	p.renderTwoFactor(w, r, v, http.StatusOK, data, nil)
}

// renderTwoFactor shows the page with the account's status, its enrolment
// if one is under way, and codes when they were just made.
func (p *Pages) renderTwoFactor(w http.ResponseWriter, r *http.Request, v *visitor, status int, data page, codes []string) {
	st, err := p.SecondFactor.StatusOf(r.Context(), v.account.ID)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	view := &twoFactorView{Status: st, RecoveryCodes: codes}
	if st.Enrolling {
		if view.Enrolment, err = p.SecondFactor.CurrentEnrolment(r.Context(), v.account); err != nil {
			p.fail(w, r, err)
			return
		}
	}
	data.Title, data.CSRF, data.Account, data.Settings, data.TwoFactor, data.NoIndex = "Two-factor authentication", v.csrf, v.account, "two_factor", view, true
	p.render(w, r, status, "two_factor.html", data)
}

// twoFactorPost reads a settings form and checks its CSRF token; on failure
// it has answered and returns nil.
func (p *Pages) twoFactorPost(w http.ResponseWriter, r *http.Request) *visitor {
	v, ok := p.requireAccount(w, r, "/settings/two_factor")
	if !ok || !p.readForm(w, r) {
		return nil
	}
	if !p.Sessions.CheckCSRF(v.state, r.PostForm.Get(session.CSRFField)) {
		p.renderTwoFactor(w, r, v, http.StatusForbidden, page{Error: "Your form expired. Please try again."}, nil)
		return nil
	}
	return v
}

// twoFactorFailure answers a refused settings action.
func (p *Pages) twoFactorFailure(w http.ResponseWriter, r *http.Request, v *visitor, err error) {
	var limited *accounts.RateLimitedError
	switch {
	case errors.As(err, &limited):
		w.Header().Set("Retry-After", strconv.Itoa(limited.Seconds()))
		p.renderTwoFactor(w, r, v, http.StatusTooManyRequests, page{Error: "Too many wrong attempts. Try again in " +
			strconv.Itoa(limited.Seconds()) + " s."}, nil)
	case errors.Is(err, accounts.ErrBadCredentials):
		p.renderTwoFactor(w, r, v, http.StatusUnauthorized, page{Error: "Wrong password."}, nil)
	case errors.Is(err, secondfactor.ErrWrongCode):
		p.renderTwoFactor(w, r, v, http.StatusUnauthorized, page{Error: "That code is not valid. Enter the current code from your app" +
			" (each code works once), or a recovery code."}, nil)
	case errors.Is(err, secondfactor.ErrAlreadyEnabled), errors.Is(err, secondfactor.ErrNotEnrolling), errors.Is(err, secondfactor.ErrNotEnabled):
		p.renderTwoFactor(w, r, v, http.StatusConflict, page{Error: "This page was out of date: " + err.Error() + "."}, nil)
	default:
		p.fail(w, r, err)
	}
}

func (p *Pages) twoFactorEnrol(w http.ResponseWriter, r *http.Request) {
	v := p.twoFactorPost(w, r)
	if v == nil {
		return
	}
	if _, err := p.SecondFactor.BeginTOTP(r.Context(), v.account); err != nil {
		p.twoFactorFailure(w, r, v, err)
		return
	}
	http.Redirect(w, r, "/settings/two_factor", http.StatusSeeOther)
}

func (p *Pages) twoFactorConfirm(w http.ResponseWriter, r *http.Request) {
	v := p.twoFactorPost(w, r)
	if v == nil {
		return
	}
	codes, err := p.SecondFactor.ConfirmTOTP(r.Context(), v.account.ID, r.PostForm.Get("password"), r.PostForm.Get("code"),
		clientip.From(r.Context()))
	if err != nil {
		p.twoFactorFailure(w, r, v, err)
		return
	}
	p.recordSecurityEvent(r, v.account.ID, accounts.EventSecondFactorAdded, "authenticator app")
	p.renderTwoFactor(w, r, v, http.StatusOK, page{Notice: "Two-factor authentication is on."}, codes)
}

func (p *Pages) twoFactorRecoveryCodes(w http.ResponseWriter, r *http.Request) {
	v := p.twoFactorPost(w, r)
	if v == nil {
		return
	}
	codes, err := p.SecondFactor.RegenerateRecoveryCodes(r.Context(), v.account.ID, r.PostForm.Get("password"),
		r.PostForm.Get("code"), clientip.From(r.Context()))
	if err != nil {
		p.twoFactorFailure(w, r, v, err)
		return
	}
	p.recordSecurityEvent(r, v.account.ID, accounts.EventSecondFactorAdded, "new recovery codes; the old ones no longer work")
	p.renderTwoFactor(w, r, v, http.StatusOK, page{Notice: "New recovery codes are made; the old ones no longer work."}, codes)
}

func (p *Pages) twoFactorDisable(w http.ResponseWriter, r *http.Request) {
	v := p.twoFactorPost(w, r)
	if v == nil {
		return
	}
	if _, err := p.SecondFactor.Disable(r.Context(), v.account.ID, r.PostForm.Get("password"), r.PostForm.Get("code"),
		clientip.From(r.Context())); err != nil {
		p.twoFactorFailure(w, r, v, err)
		return
	}
	p.recordSecurityEvent(r, v.account.ID, accounts.EventSecondFactorRemoved, "authenticator app")
	http.Redirect(w, r, "/settings/two_factor?disabled=1", http.StatusSeeOther)
}

// twoFactorQR is the enrolment's otpauth:// URI as a QR code, drawn here
// (no third-party service sees the secret), for the signed-in owner only
// and only while enrolling; never cached.
func (p *Pages) twoFactorQR(w http.ResponseWriter, r *http.Request) {
	v, err := p.load(r.Context(), w, r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	if v.account == nil {
		http.Error(w, "Sign in first.", http.StatusUnauthorized)
		return
	}
	e, err := p.SecondFactor.CurrentEnrolment(r.Context(), v.account)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if e == nil {
		http.NotFound(w, r)
		return
	}
	png, err := qrPNG(e.URI)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	_, _ = w.Write(png)
}

// qrPNG draws text as a QR code (error correction M, 8 pixels a module,
// the standard quiet zone of 4 modules).
func qrPNG(text string) ([]byte, error) {
	c, err := qr.Encode(text, qr.M)
	if err != nil {
		return nil, err
	}
	return c.PNG(), nil
}
