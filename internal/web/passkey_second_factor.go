package web

import (
	"errors"
	"net/http"

	"github.com/rampart-social/rampart/internal/clientip"
	"github.com/rampart-social/rampart/internal/passkeys"
	"github.com/rampart-social/rampart/internal/secondfactor"
)

// A passkey as the second sign-in step (/auth/second_factor): the step's
// page offers "Use a passkey" when the pending account has one, with the
// same two requests as every passkey ceremony (passkeys.go). The answer is
// checked by internal/passkeys for the pending sign-in's account only, and
// counted by internal/secondfactor under the limits of a code: a refused
// passkey is a wrong attempt.

// registerPasskeySecondFactor adds the routes (one line in Register).
func (p *Pages) registerPasskeySecondFactor(mux *http.ServeMux) {
	mux.HandleFunc("POST /auth/second_factor/passkey/options", p.passkeySecondFactorOptions)
	mux.HandleFunc("POST /auth/second_factor/passkey", p.passkeySecondFactor)
}

// CodeStep reports whether the second step offers the code form: the
// account has TOTP or recovery codes left (recovery codes come with TOTP),
// or its factors are unknown (no pending sign-in to read them from).
func (t *twoFactorView) CodeStep() bool {
	return t == nil || t.Status.TOTP || t.Status.RecoveryCodesLeft > 0 || t.Status.Passkeys == 0
}

// PasskeyStep reports whether the second step offers a passkey.
func (t *twoFactorView) PasskeyStep() bool { return t != nil && t.Status.Passkeys > 0 }

// renderSecondStep shows the second step's page with the ways the pending
// sign-in's account can pass it; without a pending sign-in, the code form.
func (p *Pages) renderSecondStep(w http.ResponseWriter, r *http.Request, v *visitor, status int, data page) {
	data.Title, data.CSRF, data.NoIndex = "Two-factor authentication", v.csrf, true
	if pending, err := p.SecondFactor.Pending(r.Context(), v.state.Raw); err == nil {
		st, err := p.SecondFactor.StatusOf(r.Context(), pending.AccountID)
		if err != nil {
			p.fail(w, r, err)
			return
		}
		data.TwoFactor = &twoFactorView{Status: st}
	} else if !errors.Is(err, secondfactor.ErrNoPending) {
		p.fail(w, r, err)
		return
	}
	p.Security.AllowPasskeys(w) // the page may ask for a passkey
	p.render(w, r, status, "second_factor.html", data)
}

// passkeySecondFactorOptions begins the assertion of one of the pending
// sign-in's account's passkeys.
func (p *Pages) passkeySecondFactorOptions(w http.ResponseWriter, r *http.Request) {
	v, err := p.load(r.Context(), w, r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if !p.readPasskeyForm(w, r, v, true, nil) {
		return
	}
	pending, err := p.SecondFactor.Pending(r.Context(), v.state.Raw)
	if errors.Is(err, secondfactor.ErrNoPending) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "Your sign-in ended (it took too long). Please sign in again."})
		return
	}
	if err != nil {
		p.writeOptions(w, r, nil, err)
		return
	}
	opts, err := p.Passkeys.BeginSecondFactor(r.Context(), pending.AccountID, v.state.Raw)
	p.writeOptions(w, r, opts, err)
}

// passkeyRefusal reports whether a passkey error is a refused answer (to
// be counted as a wrong attempt) rather than a failure of ours.
func passkeyRefusal(err error) bool {
	return errors.Is(err, passkeys.ErrRefused) || errors.Is(err, passkeys.ErrNoCeremony) ||
		errors.Is(err, passkeys.ErrCloned) || errors.Is(err, passkeys.ErrNone)
}

// passkeySecondFactor finishes the second step with the browser's
// assertion and signs in as a right code would.
func (p *Pages) passkeySecondFactor(w http.ResponseWriter, r *http.Request) {
	v, err := p.load(r.Context(), w, r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if !p.readPasskeyForm(w, r, v, false, func() {
		p.renderSecondStep(w, r, v, http.StatusForbidden, page{Error: "Your form expired. Please try again."})
	}) {
		return
	}
	// Where the sign-in was going, kept for the sign-in form should this
	// answer end it.
	returnTo := "/"
	response := []byte(r.PostForm.Get("credential"))
	pending, err := p.SecondFactor.Pending(r.Context(), v.state.Raw)
	if err == nil {
		returnTo = safeReturn(pending.ReturnTo)
		pending, err = p.SecondFactor.Attempt(r.Context(), v.state.Raw, clientip.From(r.Context()), func(accountID int64) (bool, error) {
			err := p.Passkeys.FinishSecondFactor(r.Context(), accountID, v.state.Raw, response)
			return passkeyRefusal(err), err
		})
	}
	p.secondStepOutcome(w, r, v, pending, returnTo, err, "attempts", func(err error) bool {
		if errors.Is(err, secondfactor.ErrWrongCode) {
			msg, _, ok := passkeyMessage(err) // the passkey's own reason, joined to the count's
			if !ok {
				msg = sentence(passkeys.ErrRefused)
			}
			p.renderSecondStep(w, r, v, http.StatusUnauthorized, page{Error: msg}) // a wrong answer, as a wrong code
			return true
		}
		if msg, status, ok := passkeyMessage(err); ok {
			p.renderSecondStep(w, r, v, status, page{Error: msg})
			return true
		}
		return false
	})
}
