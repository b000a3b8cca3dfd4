package web_test

import (
	"bytes"
	"encoding/json"
	"html"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// upload is one file part of a multipart form.
type upload struct {
	field, name string
	data        []byte
}

// postMultipart posts a multipart form, as the profile page's form is
// sent, with the client's cookie.
func (c *formClient) postMultipart(target string, form url.Values, files ...upload) *httptest.ResponseRecorder {
	c.s.t.Helper()
	return c.postMultipartLength(target, true, form, files...)
}

// postMultipartLength is postMultipart that may leave the body's length
// undeclared (as a chunked upload does), so that only reading finds it too long.
func (c *formClient) postMultipartLength(target string, declared bool, form url.Values, files ...upload) *httptest.ResponseRecorder {
	c.s.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, vs := range form {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	for _, f := range files {
		w, err := mw.CreateFormFile(f.field, f.name)
		if err != nil {
			c.s.t.Fatal(err)
		}
		w.Write(f.data)
	}
	mw.Close()
	req := httptest.NewRequest(http.MethodPost, target, &body)
	if !declared {
		req.ContentLength = -1
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return c.send(req)
}

// pageCSRF loads a page and returns its form's CSRF token.
func (c *formClient) pageCSRF(target string) string {
	c.s.t.Helper()
	r := c.do(http.MethodGet, target, nil)
	if r.Code != http.StatusOK {
		c.s.t.Fatalf("GET %s: %d", target, r.Code)
	}
	return csrfIn(c.s.t, r.Body.String())
}

// apiJSON calls the client API with a token and decodes its JSON answer.
func (s *site) apiJSON(target, token string) map[string]any {
	s.t.Helper()
	r := s.request(http.MethodGet, target, nil, token)
	if r.Code != http.StatusOK {
		s.t.Fatalf("GET %s: %d %s", target, r.Code, r.Body)
	}
	var out map[string]any
	if err := json.Unmarshal(r.Body.Bytes(), &out); err != nil {
		s.t.Fatal(err)
	}
	return out
}

func pngImage(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 40, 40))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	img.Set(0, 0, color.RGBA{255, 0, 0, 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Signed out, every settings page sends the browser to sign in and back;
// /settings is the profile page.
func TestSettingsNeedASignedInAccount(t *testing.T) {
	s := openSite(t)
	s.user("alice")
	c := s.newFormClient()
	for _, path := range []string{"/settings", "/settings/profile", "/settings/preferences", "/settings/password"} {
		r := c.do(http.MethodGet, path, nil)
		want := "/auth/sign_in?" + url.Values{"return_to": {path}}.Encode()
		if r.Code != http.StatusSeeOther || r.Header().Get("Location") != want {
			t.Errorf("signed out, GET %s: %d → %q, want 303 → %q", path, r.Code, r.Header().Get("Location"), want)
		}
	}
	c.signIn("alice")
	if r := c.do(http.MethodGet, "/settings", nil); r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/settings/profile" {
		t.Errorf("GET /settings: %d → %q", r.Code, r.Header().Get("Location"))
	}
	if home := c.do(http.MethodGet, "/", nil).Body.String(); !strings.Contains(home, `<a href="/settings">Settings</a>`) {
		t.Error("the home page of a signed-in person has no link to the settings")
	}
	for _, path := range []string{"/settings/profile", "/settings/preferences", "/settings/password"} {
		body := c.do(http.MethodGet, path, nil).Body.String()
		if !strings.Contains(body, `class="settings-nav"`) || !strings.Contains(body, `href="`+path+`" aria-current="page"`) {
			t.Errorf("%s does not show the settings navigation with itself current", path)
		}
	}
}

// A settings form posted without the visitor's CSRF token is refused with
// 403 and changes nothing.
func TestSettingsFormsNeedTheCSRFToken(t *testing.T) {
	s := openSite(t)
	tok := s.user("alice")
	c := s.newFormClient()
	c.signIn("alice")
	for _, post := range []struct {
		path string
		form url.Values
	}{
		{"/settings/profile", url.Values{"display_name": {"Mallory was here"}}},
		{"/settings/preferences", url.Values{"privacy": {"direct"}}},
		{"/settings/password", url.Values{"current_password": {"correct horse battery"}, "new_password": {"mallorys password"},
			"confirm_password": {"mallorys password"}}},
	} {
		for _, token := range []string{"", "forged"} {
			form := url.Values{}
			for k, v := range post.form {
				form[k] = v
			}
			if token != "" {
				form.Set("csrf_token", token)
			}
			if r := c.do(http.MethodPost, post.path, form); r.Code != http.StatusForbidden {
				t.Errorf("POST %s with CSRF token %q: %d, want 403", post.path, token, r.Code)
			}
		}
		form := url.Values{}
		for k, v := range post.form {
			form[k] = v
		}
		if r := c.postMultipart(post.path, form); r.Code != http.StatusForbidden {
			t.Errorf("POST %s multipart without a CSRF token: %d, want 403", post.path, r.Code)
		}
	}
	me := s.apiJSON("/api/v1/accounts/verify_credentials", tok)
	if me["display_name"] != "" {
		t.Errorf("display name after the refused posts: %q", me["display_name"])
	}
	if p := s.apiJSON("/api/v1/preferences", tok); p["posting:default:visibility"] != "public" {
		t.Errorf("default visibility after the refused posts: %v", p["posting:default:visibility"])
	}
	if c.signedInAs() != "alice" {
		t.Error("the refused password change signed this browser out")
	}
	if r := s.signInAttempt("alice", "correct horse battery"); r.Code != http.StatusSeeOther {
		t.Errorf("the old password after the refused change: %d", r.Code)
	}
}

// The profile page changes what the API shows: names, bio, fields and
// flags; an avatar uploaded through it is served from the media origin; a
// corrupt image is refused with a clear error, saves nothing, and shows
// the form as typed.
func TestSettingsProfileThroughThePage(t *testing.T) {
	s := openSite(t)
	tok := s.user("alice")
	c := s.newFormClient()
	c.signIn("alice")
	form := url.Values{"csrf_token": {c.pageCSRF("/settings/profile")}, "display_name": {"Alice A."}, "note": {"Gardener & coder"},
		"field_name_0": {"Site"}, "field_value_0": {"https://alice.test"}, "field_name_2": {"Pronouns"}, "field_value_2": {"she/her"},
		"locked": {"1"}, "bot": {"1"}, "indexable": {"1"}}
	r := c.postMultipart("/settings/profile", form, upload{"avatar", "me.png", pngImage(t)})
	if r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/settings/profile?saved" {
		t.Fatalf("save the profile: %d → %q\n%s", r.Code, r.Header().Get("Location"), r.Body)
	}
	me := s.apiJSON("/api/v1/accounts/verify_credentials", tok)
	if me["display_name"] != "Alice A." || me["locked"] != true || me["bot"] != true || me["discoverable"] != false || me["indexable"] != true {
		t.Errorf("verify_credentials after the page: display_name %v locked %v bot %v discoverable %v indexable %v",
			me["display_name"], me["locked"], me["bot"], me["discoverable"], me["indexable"])
	}
	if src, _ := me["source"].(map[string]any); src["note"] != "Gardener & coder" {
		t.Errorf("source note: %v", src["note"])
	}
	fields, _ := me["fields"].([]any)
	if len(fields) != 2 || fields[1].(map[string]any)["name"] != "Pronouns" {
		t.Errorf("fields: %v", fields)
	}
	avatar, _ := me["avatar"].(string)
	if !strings.HasPrefix(avatar, "https://media.example.test/") {
		t.Errorf("avatar after the upload: %q, want one on the media origin", avatar)
	}
	page := c.do(http.MethodGet, "/settings/profile?saved", nil).Body.String()
	if !strings.Contains(page, "Your profile was saved.") || !strings.Contains(page, `src="`+avatar+`"`) ||
		!strings.Contains(page, `value="Pronouns"`) || !strings.Contains(page, `name="avatar_remove"`) {
		t.Errorf("the profile page after saving does not show the saved profile:\n%s", page)
	}

	// A corrupt image: refused, nothing saved, the rest of the form as typed.
	corrupt := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{0xff}, 200)...)
	form.Set("display_name", "Alice Changed")
	form.Set("note", "A bio typed <with> care")
	r = c.postMultipart("/settings/profile", form, upload{"header", "bad.png", corrupt})
	body := r.Body.String()
	if r.Code != http.StatusUnprocessableEntity || !strings.Contains(body, "The header could not be used") {
		t.Errorf("corrupt header: %d, want 422 naming the header\n%s", r.Code, body)
	}
	if !strings.Contains(body, `value="Alice Changed"`) || !strings.Contains(body, html.EscapeString("A bio typed <with> care")) ||
		!strings.Contains(body, `value="she/her"`) {
		t.Errorf("the refused form lost what was typed:\n%s", body)
	}
	me = s.apiJSON("/api/v1/accounts/verify_credentials", tok)
	if me["display_name"] != "Alice A." || me["avatar"] != avatar {
		t.Errorf("after the refused image: display_name %v avatar %v", me["display_name"], me["avatar"])
	}

	// A display name over the limit: the service's rule, named.
	form.Set("display_name", strings.Repeat("x", 31))
	if r := c.postMultipart("/settings/profile", form); r.Code != http.StatusUnprocessableEntity ||
		!strings.Contains(r.Body.String(), "Display name: must be at most 30 characters.") {
		t.Errorf("over-long display name: %d\n%s", r.Code, r.Body)
	}

	// Removing the avatar brings back the default; unticked, indexable is off.
	form.Set("display_name", "Alice A.")
	form.Set("avatar_remove", "1")
	form.Del("indexable")
	if r := c.postMultipart("/settings/profile", form); r.Code != http.StatusSeeOther {
		t.Fatalf("remove the avatar: %d\n%s", r.Code, r.Body)
	}
	if me = s.apiJSON("/api/v1/accounts/verify_credentials", tok); me["avatar"] == avatar || strings.HasPrefix(me["avatar"].(string), "https://media.example.test/") {
		t.Errorf("avatar after removing it: %v", me["avatar"])
	}
	if me["indexable"] != false || me["locked"] != true {
		t.Errorf("after unticking indexable: indexable %v locked %v", me["indexable"], me["locked"])
	}
}

// The preferences page sets what the API's /api/v1/preferences reports.
func TestSettingsPreferencesShowInTheAPI(t *testing.T) {
	s := openSite(t)
	tok := s.user("alice")
	c := s.newFormClient()
	c.signIn("alice")
	r := c.do(http.MethodPost, "/settings/preferences", url.Values{"csrf_token": {c.pageCSRF("/settings/preferences")},
		"privacy": {"private"}, "sensitive": {"1"}, "language": {"de"}})
	if r.Code != http.StatusSeeOther {
		t.Fatalf("save preferences: %d\n%s", r.Code, r.Body)
	}
	p := s.apiJSON("/api/v1/preferences", tok)
	if p["posting:default:visibility"] != "private" || p["posting:default:sensitive"] != true || p["posting:default:language"] != "de" {
		t.Errorf("preferences after the page: %v", p)
	}
	page := c.do(http.MethodGet, "/settings/preferences", nil).Body.String()
	if !strings.Contains(page, `<option value="private" selected>`) || !strings.Contains(page, `value="de"`) {
		t.Errorf("the page does not show the saved preferences:\n%s", page)
	}
	r = c.do(http.MethodPost, "/settings/preferences", url.Values{"csrf_token": {c.pageCSRF("/settings/preferences")},
		"privacy": {"everyone"}, "language": {"deutsch"}})
	if r.Code != http.StatusUnprocessableEntity || !strings.Contains(r.Body.String(), "Default visibility:") ||
		!strings.Contains(r.Body.String(), `value="deutsch"`) {
		t.Errorf("a bad visibility: %d\n%s", r.Code, r.Body)
	}
	if p := s.apiJSON("/api/v1/preferences", tok); p["posting:default:visibility"] != "private" {
		t.Errorf("the refused post changed the visibility: %v", p)
	}
}

// passwordForm is the password page's form, filled.
func (c *formClient) passwordForm(current, next string, keep bool) url.Values {
	form := url.Values{"csrf_token": {c.pageCSRF("/settings/password")}, "current_password": {current},
		"new_password": {next}, "confirm_password": {next}}
	if keep {
		form.Set("keep", "1")
	}
	return form
}

// The password page: it shows the e-mail address; a wrong current password
// is refused; a change ends every other browser session and every app's
// token at once, keeps this browser when asked, and the new password is the
// one that signs in.
func TestSettingsPasswordChange(t *testing.T) {
	s := openSite(t)
	tok := s.user("alice")
	c, other := s.newFormClient(), s.newFormClient()
	c.signIn("alice")
	other.signIn("alice")
	if page := c.do(http.MethodGet, "/settings/password", nil).Body.String(); !strings.Contains(page, "alice@example.test") {
		t.Error("the password page does not show the e-mail address")
	}

	r := c.do(http.MethodPost, "/settings/password", c.passwordForm("not my password", "a new long password", true))
	if r.Code != http.StatusForbidden || !strings.Contains(r.Body.String(), "The current password is wrong.") {
		t.Errorf("wrong current password: %d\n%s", r.Code, r.Body)
	}
	mismatch := c.passwordForm("correct horse battery", "a new long password", true)
	mismatch.Set("confirm_password", "a new long passwort")
	if r := c.do(http.MethodPost, "/settings/password", mismatch); r.Code != http.StatusUnprocessableEntity ||
		!strings.Contains(r.Body.String(), "confirmation differ") {
		t.Errorf("confirmation differs: %d", r.Code)
	}
	if r := c.do(http.MethodPost, "/settings/password", c.passwordForm("correct horse battery", "short", true)); r.Code != http.StatusUnprocessableEntity ||
		!strings.Contains(r.Body.String(), "New password: must be at least 10 characters.") {
		t.Errorf("a new password under the sign-up policy: %d\n%s", r.Code, r.Body)
	}
	if other.signedInAs() != "alice" || s.request(http.MethodGet, "/api/v1/accounts/verify_credentials", nil, tok).Code != http.StatusOK {
		t.Fatal("a refused change signed someone out")
	}

	r = c.do(http.MethodPost, "/settings/password", c.passwordForm("correct horse battery", "a new long password", true))
	if r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/settings/password?saved" {
		t.Fatalf("change the password: %d → %q\n%s", r.Code, r.Header().Get("Location"), r.Body)
	}
	if got := other.signedInAs(); got != "" {
		t.Errorf("the other browser is still signed in as %q", got)
	}
	if code := s.request(http.MethodGet, "/api/v1/accounts/verify_credentials", nil, tok).Code; code != http.StatusUnauthorized {
		t.Errorf("the app's token after the change: %d, want 401", code)
	}
	if got := c.signedInAs(); got != "alice" {
		t.Errorf("this browser, which asked to stay, is signed in as %q", got)
	}
	if h := c.do(http.MethodGet, "/settings/history", nil).Body.String(); strings.Count(h, "Password changed") != 1 {
		t.Errorf("the security history shows %d password changes after one change (the refused ones are not changes):\n%s",
			strings.Count(h, "Password changed"), h)
	}
	if r := s.signInAttempt("alice", "correct horse battery"); r.Code != http.StatusUnauthorized {
		t.Errorf("the old password signs in: %d", r.Code)
	}
	if r := s.signInAttempt("alice", "a new long password"); r.Code != http.StatusSeeOther {
		t.Errorf("the new password does not sign in: %d", r.Code)
	}

	// Without "keep me signed in", this browser is signed out too.
	r = c.do(http.MethodPost, "/settings/password", c.passwordForm("a new long password", "a third long password", false))
	if r.Code != http.StatusOK || !strings.Contains(r.Body.String(), "Sign in again with the new password.") {
		t.Errorf("change without keeping this browser: %d\n%s", r.Code, r.Body)
	}
	if got := c.signedInAs(); got != "" {
		t.Errorf("this browser, which did not ask to stay, is signed in as %q", got)
	}
}

// Guessing the current password on the page is limited as sign-in's
// password step is, and counts with it: the limit reached, even the right
// password is refused until the window ends.
func TestSettingsPasswordGuessesAreRateLimited(t *testing.T) {
	s, _ := openSiteWithConfig(t, "[security]", "login_attempts = 3")
	s.user("alice")
	c := s.newFormClient()
	c.signIn("alice")
	for i := 0; i < 3; i++ {
		if r := c.do(http.MethodPost, "/settings/password", c.passwordForm("guess number "+string(rune('a'+i)), "a new long password", true)); r.Code != http.StatusForbidden {
			t.Fatalf("guess %d: %d, want 403", i+1, r.Code)
		}
	}
	r := c.do(http.MethodPost, "/settings/password", c.passwordForm("correct horse battery", "a new long password", true))
	if r.Code != http.StatusTooManyRequests || r.Header().Get("Retry-After") == "" {
		t.Errorf("the right password after the limit: %d, want 429 with Retry-After", r.Code)
	}
	if r := s.signInAttempt("alice", "correct horse battery"); r.Code != http.StatusTooManyRequests {
		t.Errorf("sign-in from the same address after the guesses on the page: %d, want 429 (one count)", r.Code)
	}
}

// The profile form's bounds are the API's: an image over
// media.max_image_bytes is refused by the media pipeline with the form as
// typed, and a body over media.MaxBytes (the upload routes' cap) gets 413
// with the stored profile; neither saves anything.
func TestSettingsProfileFormBounds(t *testing.T) {
	s, _ := openSiteWithConfig(t, "[media]", `max_image_bytes = "16KiB"`, `max_video_bytes = "32KiB"`, `max_audio_bytes = "32KiB"`)
	tok := s.user("alice")
	c := s.newFormClient()
	c.signIn("alice")
	form := url.Values{"csrf_token": {c.pageCSRF("/settings/profile")}, "display_name": {"Typed Name"}}
	big := append(pngImage(t), make([]byte, 20<<10)...) // a PNG, then padding: over 16 KiB
	r := c.postMultipart("/settings/profile", form, upload{"avatar", "big.png", big})
	if r.Code != http.StatusUnprocessableEntity || !strings.Contains(r.Body.String(), "The avatar could not be used") ||
		!strings.Contains(r.Body.String(), `value="Typed Name"`) {
		t.Errorf("an avatar over max_image_bytes: %d\n%s", r.Code, r.Body)
	}
	huge := append(pngImage(t), make([]byte, 200<<10)...) // over the body cap, 32 KiB + 64 KiB
	r = c.postMultipart("/settings/profile", form, upload{"avatar", "huge.png", huge})
	if r.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("a form over the body cap: %d, want 413\n%s", r.Code, r.Body)
	}
	r = c.postMultipartLength("/settings/profile", false, form, upload{"avatar", "huge.png", huge})
	if r.Code != http.StatusRequestEntityTooLarge || !strings.Contains(r.Body.String(), "The form is too large") {
		t.Errorf("a form over the body cap, its length undeclared: %d, want 413 from the page\n%s", r.Code, r.Body)
	}
	if me := s.apiJSON("/api/v1/accounts/verify_credentials", tok); me["display_name"] != "" || strings.HasPrefix(me["avatar"].(string), "https://media.example.test/") {
		t.Errorf("after the refused forms: display_name %v avatar %v", me["display_name"], me["avatar"])
	}
}
