// Package media owns the media origin: what the media host serves. Uploads
// arrive in a later version; until then the media host serves no file at
// all, and every request is answered 404 (with the media host's inert
// headers, applied by internal/httpsec).
package media

import "net/http"

// Handler serves the media host.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
			return
		}
		http.Error(w, "Not Found", http.StatusNotFound)
	})
}
