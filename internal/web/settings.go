package web

import (
	"context"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rampart-social/rampart/internal/accounts"
	"github.com/rampart-social/rampart/internal/clientip"
	"github.com/rampart-social/rampart/internal/media"
	"github.com/rampart-social/rampart/internal/session"
	"github.com/rampart-social/rampart/internal/store"
)

// The settings pages: profile, preferences and password. Their rules are
// the account service's, the same the client API applies (ChangeProfile,
// UpdateProfile, ChangePassword); these handlers only read forms and show
// what came of them.

// settingsView is what the profile, preferences and password pages show:
// the account's values, or what was posted when a post is refused, so that
// nothing typed is lost.
type settingsView struct {
	DisplayName  string
	Note         string
	Fields       []store.Field // always MaxFields rows, the empty ones to fill
	Locked       bool
	Bot          bool
	Discoverable bool
	Indexable    bool
	Avatar       string // the image shown now: on the media origin, or the default
	Header       string
	HasAvatar    bool // an uploaded avatar, which can be removed
	HasHeader    bool

	Privacy   string
	Sensitive bool
	Language  string

	Email string
	Keep  bool // keep this browser signed in after a password change

	MaxDisplayName, MaxNote, MaxFieldName, MaxFieldValue, MinPassword int
}

// Visibilities are the choices of default visibility, in the API's words.
func (settingsView) Visibilities() [][2]string {
	return [][2]string{{"public", "Public"}, {"unlisted", "Unlisted (not in public timelines)"},
		{"private", "Followers only"}, {"direct", "Mentioned people only"}}
}

// settingsPages are the pages' own routes (see Register).
const (
	settingsProfile     = "/settings/profile"
	settingsPreferences = "/settings/preferences"
	settingsPassword    = "/settings/password"
)

// profileFormMemory is how much of a profile form is kept in memory while
// it is parsed; the files beyond it go to temporary files (as the API's).
const profileFormMemory = 1 << 20

// concurrentProfileUploads bounds the profile forms parsed at once (each may
// carry an avatar and a header): the rest wait for a slot.
const concurrentProfileUploads = 2

// registerSettings adds the settings pages to mux.
func (p *Pages) registerSettings(mux *http.ServeMux) {
	mux.HandleFunc("GET /settings", p.settingsIndex)
	mux.HandleFunc("GET "+settingsProfile, p.profileSettings)
	mux.HandleFunc("POST "+settingsProfile, p.saveProfileSettings)
	mux.HandleFunc("GET "+settingsPreferences, p.preferenceSettings)
	mux.HandleFunc("POST "+settingsPreferences, p.savePreferenceSettings)
	mux.HandleFunc("GET "+settingsPassword, p.passwordSettings)
	mux.HandleFunc("POST "+settingsPassword, p.changePassword)
}

// requireAccount is every settings page's guard: the signed-in visitor, or
// a redirect to sign in and back to the page back (a GET page: a form's
// POST route is not one to come back to) and false.
func (p *Pages) requireAccount(w http.ResponseWriter, r *http.Request, back string) (*visitor, bool) {
	v, err := p.load(r.Context(), w, r)
	if err != nil {
		p.fail(w, r, err)
		return nil, false
	}
	if v.account == nil {
		http.Redirect(w, r, "/auth/sign_in?"+url.Values{"return_to": {safeReturn(back)}}.Encode(), http.StatusSeeOther)
		return nil, false
	}
	return v, true
}

func (p *Pages) settingsIndex(w http.ResponseWriter, r *http.Request) {
	if _, ok := p.requireAccount(w, r, r.URL.Path); !ok {
		return
	}
	http.Redirect(w, r, settingsProfile, http.StatusSeeOther)
}

// settingsPage is the data of one settings page.
func (p *Pages) settingsPage(v *visitor, name, title string, form *settingsView) page {
	return page{Title: title, CSRF: v.csrf, Account: v.account, Settings: name, SettingsForm: form, NoIndex: true}
}

// accountView fills a view from the stored account.
func (p *Pages) accountView(ctx context.Context, a *store.Account) (*settingsView, error) {
	u, err := p.Store.UserByAccountID(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	f := &settingsView{DisplayName: a.DisplayName, Note: a.Note, Fields: append([]store.Field(nil), a.Fields...),
		Locked: a.Locked, Bot: a.Bot, Discoverable: a.Discoverable, Indexable: a.Indexable,
		Privacy: u.DefaultPrivacy, Sensitive: u.DefaultSensitive, Language: u.DefaultLanguage, Email: u.Email, Keep: true}
	p.showImages(f, a)
	p.limits(f)
	return f, nil
}

// showImages sets the images the profile page shows.
func (p *Pages) showImages(f *settingsView, a *store.Account) {
	f.Avatar, f.Header = "/static/avatar.png", "/static/header.png"
	origin := p.Config.MediaOrigin().String()
	if media.ValidKey(a.AvatarKey) {
		f.Avatar, f.HasAvatar = origin+"/"+a.AvatarKey, true
	}
	if media.ValidKey(a.HeaderKey) {
		f.Header, f.HasHeader = origin+"/"+a.HeaderKey, true
	}
}

// limits sets the bounds the forms tell the browser, and pads the fields
// to the instance's number of rows.
func (p *Pages) limits(f *settingsView) {
	f.MaxDisplayName, f.MaxNote = accounts.MaxDisplayName, accounts.MaxNote
	f.MaxFieldName, f.MaxFieldValue = accounts.MaxFieldName, accounts.MaxFieldValue
	f.MinPassword = int(p.Config.Accounts.PasswordMinLength)
	if len(f.Fields) > accounts.MaxFields {
		f.Fields = f.Fields[:accounts.MaxFields]
	}
	for len(f.Fields) < accounts.MaxFields {
		f.Fields = append(f.Fields, store.Field{})
	}
}

// showSettings renders a settings page with the account's values and a
// notice when the page was reached after a save.
func (p *Pages) showSettings(w http.ResponseWriter, r *http.Request, name, title, saved string) {
	v, ok := p.requireAccount(w, r, r.URL.Path)
	if !ok {
		return
	}
	f, err := p.accountView(r.Context(), v.account)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	data := p.settingsPage(v, name, title, f)
	if r.URL.Query().Has("saved") {
		data.Notice = saved
	}
	p.render(w, r, http.StatusOK, "settings_"+name+".html", data)
}

func (p *Pages) profileSettings(w http.ResponseWriter, r *http.Request) {
	p.showSettings(w, r, "profile", "Profile", "Your profile was saved.")
}

func (p *Pages) preferenceSettings(w http.ResponseWriter, r *http.Request) {
	p.showSettings(w, r, "preferences", "Preferences", "Your preferences were saved.")
}

func (p *Pages) passwordSettings(w http.ResponseWriter, r *http.Request) {
	p.showSettings(w, r, "password", "Password", "Your password was changed. Every other browser and app was signed out.")
}

// fieldNames are the service's field names as the pages say them.
var fieldNames = map[string]string{
	"display_name": "Display name", "note": "Bio", "fields_attributes": "Profile fields",
	"source[privacy]": "Default visibility", "source[language]": "Default language", "password": "New password",
}

// refusal is the message of a refused change, "" when err is no refusal.
func refusal(err error) string {
	var ve *accounts.ValidationError
	var ie *accounts.ImageError
	switch {
	case errors.As(err, &ve):
		name := fieldNames[ve.Field]
		if name == "" {
			name = ve.Field
		}
		return name + ": " + ve.Msg + "."
	case errors.As(err, &ie) && errors.Is(ie.Err, media.ErrRejected):
		what := "header"
		if ie.Avatar {
			what = "avatar"
		}
		msg := strings.TrimPrefix(ie.Err.Error(), media.ErrRejected.Error()+": ")
		return "The " + what + " could not be used: " + msg + ". Nothing was saved; the rest of the form is as you typed it."
	}
	return ""
}

// uploadContext is a profile post's context: it ends a little before the
// server's write timeout, while an answer can still reach the browser (as
// the API's uploads do).
func (p *Pages) uploadContext(r *http.Request) (context.Context, context.CancelFunc) {
	wt := p.Config.HTTP.WriteTimeout.D()
	return context.WithTimeout(r.Context(), wt-min(wt/10, 5*time.Second))
}

// profileFromForm is the posted profile, as a view to show again and as
// the change to make.
func profileFromForm(form url.Values) (*settingsView, accounts.ProfileUpdate) {
	f := &settingsView{DisplayName: form.Get("display_name"), Note: form.Get("note"),
		Locked: form.Get("locked") != "", Bot: form.Get("bot") != "", Discoverable: form.Get("discoverable") != "",
		Indexable: form.Get("indexable") != ""}
	for i := 0; i < accounts.MaxFields; i++ {
		n := strconv.Itoa(i)
		f.Fields = append(f.Fields, store.Field{Name: form.Get("field_name_" + n), Value: form.Get("field_value_" + n)})
	}
	fields := append([]store.Field(nil), f.Fields...)
	upd := accounts.ProfileUpdate{DisplayName: &f.DisplayName, Note: &f.Note, Fields: &fields,
		Locked: &f.Locked, Bot: &f.Bot, Discoverable: &f.Discoverable, Indexable: &f.Indexable}
	return f, upd
}

func (p *Pages) saveProfileSettings(w http.ResponseWriter, r *http.Request) {
	v, ok := p.requireAccount(w, r, r.URL.Path)
	if !ok {
		return
	}
	ctx, cancel := p.uploadContext(r)
	defer cancel()
	// What to show when the form cannot be read: the stored profile.
	stored := func(status int, msg string) {
		f, err := p.accountView(r.Context(), v.account)
		if err != nil {
			p.fail(w, r, err)
			return
		}
		data := p.settingsPage(v, "profile", "Profile", f)
		data.Error = msg
		p.render(w, r, status, "settings_profile.html", data)
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "multipart/form-data" {
		select {
		case p.uploads <- struct{}{}:
			defer func() { <-p.uploads }()
		case <-ctx.Done():
			if r.Context().Err() == nil {
				w.Header().Set("Retry-After", "60")
				stored(http.StatusServiceUnavailable, "The server is busy with other uploads. Please try again in a minute.")
			}
			return
		}
		err := r.ParseMultipartForm(profileFormMemory)
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			stored(http.StatusRequestEntityTooLarge, "The form is too large: at most "+strconv.FormatInt(tooLarge.Limit, 10)+
				" bytes are accepted, images included. Nothing was saved.")
			return
		case err != nil:
			stored(http.StatusBadRequest, "The form could not be read. Nothing was saved.")
			return
		}
		defer r.MultipartForm.RemoveAll()
	} else if !p.readForm(w, r) {
		return
	}
	f, upd := profileFromForm(r.PostForm)
	p.limits(f)
	p.showImages(f, v.account)
	refuse := func(status int, msg string) {
		data := p.settingsPage(v, "profile", "Profile", f)
		data.Error = msg
		p.render(w, r, status, "settings_profile.html", data)
	}
	if !p.Sessions.CheckCSRF(v.state, r.PostForm.Get(session.CSRFField)) {
		refuse(http.StatusForbidden, "Your form expired. Please send it again.")
		return
	}
	var images []accounts.ImageUpload
	for _, field := range []string{"avatar", "header"} {
		file, fh, err := r.FormFile(field)
		if errors.Is(err, http.ErrMissingFile) || errors.Is(err, http.ErrNotMultipart) {
			if r.PostForm.Get(field+"_remove") != "" {
				none := ""
				if field == "avatar" {
					upd.AvatarKey = &none
				} else {
					upd.HeaderKey = &none
				}
			}
			continue
		}
		if err != nil {
			refuse(http.StatusBadRequest, "The "+field+" could not be read. Nothing was saved.")
			return
		}
		defer file.Close()
		images = append(images, accounts.ImageUpload{Avatar: field == "avatar", File: file, Size: fh.Size})
	}
	_, _, err := p.Accounts.ChangeProfile(ctx, v.account.ID, upd, images)
	switch {
	case err == nil:
		http.Redirect(w, r, settingsProfile+"?saved", http.StatusSeeOther)
	case refusal(err) != "":
		refuse(http.StatusUnprocessableEntity, refusal(err))
	case r.Context().Err() != nil:
		// The browser went away: no one reads an answer.
	case errors.Is(err, context.DeadlineExceeded):
		w.Header().Set("Retry-After", "60")
		refuse(http.StatusServiceUnavailable, "The server is busy with other uploads. Please try again in a minute.")
	default:
		p.fail(w, r, err)
	}
}

func (p *Pages) savePreferenceSettings(w http.ResponseWriter, r *http.Request) {
	v, ok := p.requireAccount(w, r, r.URL.Path)
	if !ok || !p.readForm(w, r) {
		return
	}
	f := &settingsView{Privacy: r.PostForm.Get("privacy"), Sensitive: r.PostForm.Get("sensitive") != "",
		Language: strings.TrimSpace(r.PostForm.Get("language"))}
	p.limits(f)
	refuse := func(status int, msg string) {
		data := p.settingsPage(v, "preferences", "Preferences", f)
		data.Error = msg
		p.render(w, r, status, "settings_preferences.html", data)
	}
	if !p.Sessions.CheckCSRF(v.state, r.PostForm.Get(session.CSRFField)) {
		refuse(http.StatusForbidden, "Your form expired. Please send it again.")
		return
	}
	_, _, err := p.Accounts.UpdateProfile(r.Context(), v.account.ID,
		accounts.ProfileUpdate{Privacy: &f.Privacy, Sensitive: &f.Sensitive, Language: &f.Language})
	switch {
	case err == nil:
		http.Redirect(w, r, settingsPreferences+"?saved", http.StatusSeeOther)
	case refusal(err) != "":
		refuse(http.StatusUnprocessableEntity, refusal(err))
	default:
		p.fail(w, r, err)
	}
}

func (p *Pages) changePassword(w http.ResponseWriter, r *http.Request) {
	v, ok := p.requireAccount(w, r, r.URL.Path)
	if !ok || !p.readForm(w, r) {
		return
	}
	f, err := p.accountView(r.Context(), v.account)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	f.Keep = r.PostForm.Get("keep") != ""
	refuse := func(status int, msg string) {
		data := p.settingsPage(v, "password", "Password", f)
		data.Error = msg
		p.render(w, r, status, "settings_password.html", data)
	}
	if !p.Sessions.CheckCSRF(v.state, r.PostForm.Get(session.CSRFField)) {
		refuse(http.StatusForbidden, "Your form expired. Please send it again.")
		return
	}
	next := r.PostForm.Get("new_password")
	if next != r.PostForm.Get("confirm_password") {
		refuse(http.StatusUnprocessableEntity, "The new password and its confirmation differ. Nothing was changed.")
		return
	}
	keep := ""
	if f.Keep {
		keep = v.state.Session.IDHash
	}
	forget, err := p.Accounts.ChangePassword(r.Context(), accounts.PasswordChange{AccountID: v.account.ID,
		Current: r.PostForm.Get("current_password"), New: next, ClientIP: clientip.From(r.Context()),
		Device: p.Sessions.DeviceToken(r), KeepSession: keep})
	if forget {
		p.Sessions.ForgetDevice(w)
	}
	var limited *accounts.RateLimitedError
	switch {
	case errors.As(err, &limited):
		w.Header().Set("Retry-After", strconv.Itoa(limited.Seconds()))
		refuse(http.StatusTooManyRequests, "Too many wrong passwords. Try again in "+strconv.Itoa(limited.Seconds())+" s.")
		return
	case errors.Is(err, accounts.ErrWrongPassword):
		refuse(http.StatusForbidden, "The current password is wrong. Nothing was changed.")
		return
	case refusal(err) != "":
		refuse(http.StatusUnprocessableEntity, refusal(err))
		return
	case err != nil:
		p.fail(w, r, err)
		return
	}
	// The password changed: this is the one place a security event of it is recorded.
	p.recordSecurityEvent(r, v.account.ID, accounts.EventPasswordChanged, "")
	if f.Keep {
		http.Redirect(w, r, settingsPassword+"?saved", http.StatusSeeOther)
		return
	}
	if err := p.Sessions.End(r.Context(), w, v.state); err != nil {
		p.fail(w, r, err)
		return
	}
	p.render(w, r, http.StatusOK, "message.html", page{Title: "Password changed",
		Notice: "Your password was changed and every browser and app was signed out, this one too. Sign in again with the new password."})
}
