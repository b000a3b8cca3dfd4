package web_test

import (
	"bytes"
	"context"
	"encoding/base32"
	"html"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/rampart-social/rampart/internal/accounts"
	"github.com/rampart-social/rampart/internal/totp"
)

var (
	keyOnPage  = regexp.MustCompile(`<code class="tf-secret">([A-Z2-7 ]+)</code>`)
	codeOnPage = regexp.MustCompile(`<li><code>([a-z2-9-]+)</code></li>`)
)

// totpCode is the code of the step offset steps from now (the server
// accepts one step either side).
func totpCode(t *testing.T, secret []byte, offset int64) string {
	t.Helper()
	c, err := totp.Default.At(secret, totp.Default.Step(time.Now())+offset)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// enableTOTP drives the settings page as the signed-in client: set up, read
// the key, check the QR code, confirm with the current step's code. It
// returns the secret and the recovery codes the page showed.
func (c *formClient) enableTOTP(username string) ([]byte, []string) {
	t := c.s.t
	t.Helper()
	page := c.do(http.MethodGet, "/settings/two_factor", nil)
	if page.Code != http.StatusOK || !strings.Contains(page.Body.String(), "<strong>off</strong>") {
		t.Fatalf("settings page: %d\n%s", page.Code, page.Body)
	}
	if r := c.do(http.MethodPost, "/settings/two_factor/enrol", url.Values{"csrf_token": {csrfIn(t, page.Body.String())}}); r.Code != http.StatusSeeOther {
		t.Fatalf("enrol: %d", r.Code)
	}
	page = c.do(http.MethodGet, "/settings/two_factor", nil)
	m := keyOnPage.FindStringSubmatch(page.Body.String())
	if m == nil {
		t.Fatalf("no key on the enrolment page:\n%s", page.Body)
	}
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ReplaceAll(m[1], " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	// The QR code: a PNG, never cached, that reads as the otpauth URI of
	// this key for this account on this host.
	qr := c.do(http.MethodGet, "/settings/two_factor/qr.png", nil)
	if qr.Code != http.StatusOK || qr.Header().Get("Content-Type") != "image/png" || qr.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("qr.png: %d %v", qr.Code, qr.Header())
	}
	img, err := png.Decode(bytes.NewReader(qr.Body.Bytes()))
	if err != nil {
		t.Fatalf("qr.png is not a PNG: %v", err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("qr.png does not read as a QR code: %v", err)
	}
	if want := totp.Default.URI("example.test", username, secret); res.GetText() != want {
		t.Fatalf("the QR code reads %q, want %q", res.GetText(), want)
	}
	done := c.do(http.MethodPost, "/settings/two_factor/confirm", url.Values{"csrf_token": {csrfIn(t, page.Body.String())},
		"code": {totpCode(t, secret, 0)}, "password": {"correct horse battery"}})
	if done.Code != http.StatusOK || !strings.Contains(done.Body.String(), "<strong>on</strong>") {
		t.Fatalf("confirm: %d\n%s", done.Code, done.Body)
	}
	var codes []string
	for _, m := range codeOnPage.FindAllStringSubmatch(done.Body.String(), -1) {
		codes = append(codes, m[1])
	}
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes shown", len(codes))
	}
	if again := c.do(http.MethodGet, "/settings/two_factor", nil); codeOnPage.MatchString(again.Body.String()) {
		t.Error("the recovery codes are shown a second time")
	}
	return secret, codes
}

// passwordStep posts the sign-in form with return_to and expects the
// second step.
func (c *formClient) passwordStep(login, returnTo string) {
	t := c.s.t
	t.Helper()
	form := c.do(http.MethodGet, "/auth/sign_in?"+url.Values{"return_to": {returnTo}}.Encode(), nil)
	r := c.do(http.MethodPost, "/auth/sign_in", url.Values{"csrf_token": {csrfIn(t, form.Body.String())},
		"username": {login}, "password": {"correct horse battery"}, "return_to": {returnTo}})
	if r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/auth/second_factor" {
		t.Fatalf("password step: %d %q", r.Code, r.Header().Get("Location"))
	}
}

// submitCode posts a code on the second step's form.
func (c *formClient) submitCode(code string) *httptest.ResponseRecorder {
	t := c.s.t
	t.Helper()
	form := c.do(http.MethodGet, "/auth/second_factor", nil)
	if form.Code != http.StatusOK {
		t.Fatalf("second step form: %d", form.Code)
	}
	return c.do(http.MethodPost, "/auth/second_factor", url.Values{"csrf_token": {csrfIn(t, form.Body.String())}, "code": {code}})
}

// Sign-in with TOTP through the pages of the real instance: the password
// alone signs nobody in; the right code does, and goes to return_to; a code
// used once is refused; a recovery code works once.
func TestSignInWithTOTPOverHTTP(t *testing.T) {
	s, _ := openSiteWithConfig(t)
	s.user("alice")
	owner := s.newFormClient()
	owner.signIn("alice")
	secret, codes := owner.enableTOTP("alice")

	// The QR code is the owner's, during enrolment only.
	if r := s.newFormClient().do(http.MethodGet, "/settings/two_factor/qr.png", nil); r.Code != http.StatusUnauthorized {
		t.Errorf("qr.png signed out: %d", r.Code)
	}
	if r := owner.do(http.MethodGet, "/settings/two_factor/qr.png", nil); r.Code != http.StatusNotFound {
		t.Errorf("qr.png after confirmation: %d", r.Code)
	}

	b := s.newFormClient()
	back := "/oauth/authorize?client_id=x&scope=read"
	b.passwordStep("alice", back)
	if who := b.signedInAs(); who != "" {
		t.Fatalf("signed in as %s by the password alone", who)
	}
	if r := b.submitCode("000000"); r.Code != http.StatusUnauthorized || !strings.Contains(r.Body.String(), "That code is not valid") {
		t.Fatalf("wrong code: %d", r.Code)
	}
	code := totpCode(t, secret, 1)
	r := b.submitCode(code)
	if r.Code != http.StatusSeeOther || r.Header().Get("Location") != back {
		t.Fatalf("right code: %d %q, want a redirect to %s", r.Code, r.Header().Get("Location"), back)
	}
	if who := b.signedInAs(); who != "alice" {
		t.Fatalf("after the second step: signed in as %q", who)
	}

	// The same code again, from another browser, within its window.
	c := s.newFormClient()
	c.passwordStep("alice", "/")
	if r := c.submitCode(code); r.Code != http.StatusUnauthorized {
		t.Errorf("a code used once, again: %d", r.Code)
	}
	// A recovery code, as typed from paper, signs in once.
	if r := c.submitCode(strings.ToUpper(codes[0])); r.Code != http.StatusSeeOther || c.signedInAs() != "alice" {
		t.Fatalf("recovery code: %d", r.Code)
	}
	d := s.newFormClient()
	d.passwordStep("alice", "/")
	if r := d.submitCode(codes[0]); r.Code != http.StatusUnauthorized {
		t.Errorf("a recovery code used twice: %d", r.Code)
	}
	// Without a pending sign-in the step sends the visitor to sign in.
	if r := s.newFormClient().do(http.MethodGet, "/auth/second_factor", nil); r.Code != http.StatusSeeOther ||
		r.Header().Get("Location") != "/auth/sign_in" {
		t.Errorf("second step without a password: %d %q", r.Code, r.Header().Get("Location"))
	}
}

// Guessing codes: the third wrong one ends the pending sign-in, and over
// the account's limit every code, the right one too, gets 429 with
// Retry-After.
func TestSecondStepBruteForceGets429(t *testing.T) {
	s, _ := openSiteWithConfig(t)
	s.user("bob")
	owner := s.newFormClient()
	owner.signIn("bob")
	secret, _ := owner.enableTOTP("bob")

	x := s.newFormClient()
	x.passwordStep("bob", "/tags/kept")
	for i := 1; i <= 3; i++ {
		r := x.submitCode("000000")
		if i < 3 && r.Code != http.StatusUnauthorized {
			t.Fatalf("wrong code %d: %d", i, r.Code)
		}
		if i == 3 && (r.Code != http.StatusUnauthorized || !strings.Contains(r.Body.String(), "sign in again") ||
			!strings.Contains(r.Body.String(), `name="return_to" value="/tags/kept"`)) {
			t.Fatalf("the third wrong code: %d, want the sign-in page keeping return_to\n%s", r.Code, r.Body)
		}
	}
	if r := x.do(http.MethodGet, "/auth/second_factor", nil); r.Code != http.StatusSeeOther {
		t.Fatalf("the pending sign-in outlived three wrong codes: %d", r.Code)
	}
	x.passwordStep("bob", "/")
	for i := 4; i <= 5; i++ {
		if r := x.submitCode("000000"); r.Code != http.StatusUnauthorized {
			t.Fatalf("wrong code %d: %d", i, r.Code)
		}
	}
	r := x.submitCode(totpCode(t, secret, 0))
	if r.Code != http.StatusTooManyRequests {
		t.Fatalf("over the limit: %d, want 429", r.Code)
	}
	if secs, err := strconv.Atoi(r.Header().Get("Retry-After")); err != nil || secs < 1 {
		t.Errorf("Retry-After %q", r.Header().Get("Retry-After"))
	}
	if x.signedInAs() != "" {
		t.Error("signed in over the limit")
	}
}

// Turning it off takes the password and a code, and so do new recovery
// codes; then the password alone signs in again.
func TestDisableNeedsPasswordAndCodeOverHTTP(t *testing.T) {
	s, _ := openSiteWithConfig(t)
	s.user("carol")
	owner := s.newFormClient()
	owner.signIn("carol")
	_, codes := owner.enableTOTP("carol")
	disable := func(pw, code string) int {
		page := owner.do(http.MethodGet, "/settings/two_factor", nil)
		return owner.do(http.MethodPost, "/settings/two_factor/disable", url.Values{"csrf_token": {csrfIn(t, page.Body.String())},
			"password": {pw}, "code": {code}}).Code
	}
	if code := disable("wrong password", codes[1]); code != http.StatusUnauthorized {
		t.Errorf("a wrong password: %d", code)
	}
	if code := disable("correct horse battery", ""); code != http.StatusUnauthorized {
		t.Errorf("no code: %d", code)
	}
	// New recovery codes (password and a code again) make the old ones useless.
	page := owner.do(http.MethodGet, "/settings/two_factor", nil)
	fresh := owner.do(http.MethodPost, "/settings/two_factor/recovery_codes", url.Values{"csrf_token": {csrfIn(t, page.Body.String())},
		"password": {"correct horse battery"}, "code": {codes[2]}})
	var renewed []string
	for _, m := range codeOnPage.FindAllStringSubmatch(fresh.Body.String(), -1) {
		renewed = append(renewed, m[1])
	}
	if fresh.Code != http.StatusOK || len(renewed) != 10 {
		t.Fatalf("new recovery codes: %d, %d shown", fresh.Code, len(renewed))
	}
	if code := disable("correct horse battery", codes[1]); code != http.StatusUnauthorized {
		t.Errorf("an old recovery code after renewal: %d", code)
	}
	if code := disable("correct horse battery", renewed[1]); code != http.StatusSeeOther {
		t.Fatalf("password and recovery code: %d", code)
	}
	if page := owner.do(http.MethodGet, "/settings/two_factor?disabled=1", nil); !strings.Contains(page.Body.String(), "<strong>off</strong>") {
		t.Error("still on after disabling")
	}
	s.newFormClient().signIn("carol") // the password alone again
}

// With security.require_staff_second_factor on (prod's default), staff
// without a second factor sign in and are sent to add one, with a notice.
func TestStaffWithoutSecondFactorAreSentToAddOne(t *testing.T) {
	s, _ := openSiteWithConfig(t)
	if _, _, err := s.inst.Accounts().Create(context.Background(), accounts.NewParams{Username: "root", Email: "root@example.test",
		Password: "correct horse battery", Approved: true, Role: accounts.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	c := s.newFormClient()
	form := c.do(http.MethodGet, "/auth/sign_in", nil)
	r := c.do(http.MethodPost, "/auth/sign_in", url.Values{"csrf_token": {csrfIn(t, form.Body.String())},
		"username": {"root"}, "password": {"correct horse battery"}, "return_to": {"/tags/x"}})
	if r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/settings/two_factor?required=1" {
		t.Fatalf("staff sign-in: %d %q", r.Code, r.Header().Get("Location"))
	}
	page := c.do(http.MethodGet, r.Header().Get("Location"), nil)
	if !strings.Contains(html.UnescapeString(page.Body.String()), "requires a second factor") {
		t.Errorf("no notice:\n%s", page.Body)
	}
	// Not locked out: signed in.
	if c.signedInAs() != "root" {
		t.Error("the admin is not signed in")
	}
	// Off: no detour.
	off, _ := openSiteWithConfig(t, "[security]", "require_staff_second_factor = false")
	if _, _, err := off.inst.Accounts().Create(context.Background(), accounts.NewParams{Username: "root", Email: "root@example.test",
		Password: "correct horse battery", Approved: true, Role: accounts.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	c = off.newFormClient()
	form = c.do(http.MethodGet, "/auth/sign_in", nil)
	r = c.do(http.MethodPost, "/auth/sign_in", url.Values{"csrf_token": {csrfIn(t, form.Body.String())},
		"username": {"root"}, "password": {"correct horse battery"}, "return_to": {"/tags/x"}})
	if r.Header().Get("Location") != "/tags/x" {
		t.Errorf("with the switch off: %q", r.Header().Get("Location"))
	}
}
