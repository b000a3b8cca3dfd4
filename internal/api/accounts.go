package api

import (
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/rampart-social/rampart/internal/accounts"
	"github.com/rampart-social/rampart/internal/clientip"
	"github.com/rampart-social/rampart/internal/oauth"
	"github.com/rampart-social/rampart/internal/store"
)

func (a *API) verifyCredentials(w http.ResponseWriter, r *http.Request, c *Caller) {
	a.writeCredentialAccount(w, r, c.Account, c.User, c.Stats)
}

func (a *API) updateCredentials(w http.ResponseWriter, r *http.Request, c *Caller) {
	// A multipart form may carry an avatar and a header: it is parsed (up to
	// formMemory in memory, the rest on disk) within an upload slot, as the
	// media routes' forms are.
	ctx, cancel := a.uploadContext(r)
	defer cancel()
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "multipart/form-data" {
		release, err := a.uploadSlot(ctx)
		if err != nil {
			a.mediaError(w, r, err)
			return
		}
		defer release()
	}
	p, err := params(r)
	if err != nil {
		writeParamsError(w, err)
		return
	}
	upd := accounts.ProfileUpdate{
		DisplayName: optString(p, "display_name"), Note: optString(p, "note"),
		Locked: optBool(p, "locked"), Bot: optBool(p, "bot"), Discoverable: optBool(p, "discoverable"), Indexable: optBool(p, "indexable"),
		Privacy: optString(p, "source[privacy]"), Sensitive: optBool(p, "source[sensitive]"), Language: optString(p, "source[language]"),
	}
	if fields, ok := profileFields(p); ok {
		upd.Fields = &fields
	}
	// The text fields first, before any file is even opened, so that their
	// error is the one reported. Each file is then opened (its size and kind
	// checked from its first bytes); the rules of the change and the images'
	// way through the media pipeline are the account service's (ChangeProfile).
	if err := accounts.CheckProfile(upd); err != nil {
		a.serviceError(w, r, err)
		return
	}
	var images []accounts.ImageUpload
	for _, field := range []string{"avatar", "header"} {
		if r.MultipartForm == nil || len(r.MultipartForm.File[field]) == 0 {
			continue
		}
		file, size, ok, err := a.openUpload(r, field)
		if err != nil {
			a.mediaError(w, r, err)
			return
		}
		if !ok {
			continue
		}
		defer file.Close()
		images = append(images, accounts.ImageUpload{Avatar: field == "avatar", File: file, Size: size})
	}
	acc, u, err := a.accounts.ChangeProfile(ctx, c.Account.ID, upd, images)
	var imgErr *accounts.ImageError
	if errors.As(err, &imgErr) {
		a.mediaError(w, r, imgErr.Err)
		return
	}
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	a.writeCredentialAccount(w, r, acc, u, nil)
}

// profileFields reads fields_attributes[i][name|value] in index order.
func profileFields(p url.Values) ([]store.Field, bool) {
	byIndex := map[int]*store.Field{}
	found := false
	for k, vs := range p {
		rest, ok := strings.CutPrefix(k, "fields_attributes[")
		if !ok || len(vs) == 0 {
			continue
		}
		idx, attr, ok := strings.Cut(rest, "][")
		n, err := strconv.Atoi(idx)
		if !ok || err != nil || n < 0 || n > 15 {
			continue
		}
		found = true
		f := byIndex[n]
		if f == nil {
			f = &store.Field{}
			byIndex[n] = f
		}
		switch strings.TrimSuffix(attr, "]") {
		case "name":
			f.Name = vs[0]
		case "value":
			f.Value = vs[0]
		}
	}
	var out []store.Field
	for i := 0; i <= 15; i++ {
		if f := byIndex[i]; f != nil {
			out = append(out, *f)
		}
	}
	return out, found
}

func (a *API) getAccount(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		writeError(w, http.StatusNotFound, "Record not found")
		return
	}
	acc, err := a.store.AccountByID(r.Context(), id)
	a.writePublicAccount(w, r, acc, err)
}

func (a *API) lookupAccount(w http.ResponseWriter, r *http.Request) {
	acct := strings.TrimPrefix(strings.TrimSpace(r.URL.Query().Get("acct")), "@")
	user, domain, _ := strings.Cut(acct, "@")
	if strings.EqualFold(domain, a.cfg.InstanceURL().Hostname()) || strings.EqualFold(domain, a.cfg.InstanceURL().Host) {
		domain = ""
	}
	if user == "" {
		writeError(w, http.StatusNotFound, "Record not found")
		return
	}
	acc, err := a.store.AccountByUsername(r.Context(), user, strings.ToLower(domain))
	a.writePublicAccount(w, r, acc, err)
}

// writePublicAccount answers with the loaded account, or 404 when it does not
// exist or is hidden (pending or disabled local accounts).
func (a *API) writePublicAccount(w http.ResponseWriter, r *http.Request, acc *store.Account, err error) {
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	ok, err := a.visible(r, acc)
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	if !ok {
		writeError(w, http.StatusNotFound, "Record not found")
		return
	}
	out, err := a.renderAccounts(r.Context(), []int64{acc.ID})
	if err != nil || len(out) == 0 {
		a.serviceError(w, r, errors.Join(err, store.ErrNotFound))
		return
	}
	writeJSON(w, http.StatusOK, out[0])
}

// writeCredentialAccount writes acc as CredentialAccount; stats nil reads
// its counters.
func (a *API) writeCredentialAccount(w http.ResponseWriter, r *http.Request, acc *store.Account, u *store.User, stats *store.AccountStats) {
	out, err := a.credentialAccount(r.Context(), acc, u, stats)
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// visible hides suspended accounts, and local accounts that are pending
// or disabled.
func (a *API) visible(r *http.Request, acc *store.Account) (bool, error) {
	if !acc.SuspendedAt.IsZero() {
		return false, nil
	}
	if acc.Domain != "" {
		return true, nil
	}
	u, err := a.store.UserByAccountID(r.Context(), acc.ID)
	if err != nil {
		return false, err
	}
	return accounts.Usable(u) == nil, nil
}

// register is POST /api/v1/accounts: sign-up by an app, as the registration mode allows.
func (a *API) register(w http.ResponseWriter, r *http.Request, c *Caller) {
	p, err := params(r)
	if err != nil {
		writeParamsError(w, err)
		return
	}
	acc, err := a.accounts.SignUp(r.Context(), accounts.SignUpParams{
		Username: p.Get("username"), Email: p.Get("email"), Password: p.Get("password"), Reason: p.Get("reason"),
		Locale: p.Get("locale"), Agreement: truthy(p.Get("agreement")), ClientIP: clientip.From(r.Context()),
	})
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	scopes, _ := oauth.ParseScopes(c.App.Scopes)
	issued, err := a.oauth.IssueForAccount(r.Context(), c.App.ID, acc.ID, scopes)
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, token(issued))
}
