package httpsec

import (
	"net/http"
	"strings"
)

// passkeyPermissionsPolicy is PermissionsPolicy with one feature opened:
// publickey-credentials-get for the page's own origin only ("self": no
// frame, no other origin). WebAuthn's navigator.credentials.get needs it;
// every other response keeps it closed.
var passkeyPermissionsPolicy = strings.Replace(PermissionsPolicy, "publickey-credentials-get=()", "publickey-credentials-get=(self)", 1)

// AllowPasskeys opens WebAuthn assertions (publickey-credentials-get) to
// this one response's own origin: the pages that ask for a passkey (the
// sign-in page, the passkeys settings page, the second sign-in step). The
// instance's CSP and frame-ancestors 'none' still hold, so no other origin
// can frame the page to use it.
func (l *Layer) AllowPasskeys(w http.ResponseWriter) {
	if !l.enabled {
		return
	}
	w.Header().Set("Permissions-Policy", passkeyPermissionsPolicy)
}
