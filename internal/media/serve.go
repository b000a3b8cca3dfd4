package media

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// allowedServed are the only Content-Types the media origin ever sends for a
// file: the sniffed formats. Anything else would go out as an attachment.
var allowedServed = func() map[string]bool {
	m := map[string]bool{}
	for _, f := range Formats {
		m[f.MIME] = true
	}
	return m
}()

// Handler serves the media host: GET and HEAD of /<key>, with Range, ETag
// and long caching. The security headers (sandbox CSP, nosniff, CORP, no
// cookies) are added by internal/httpsec around it. Its root answers a plain
// page naming the instance (so that probes and scanners rate a real answer
// rather than an error), and the client API's paths (isAPI, nil for none) a
// 404 that says where the instance is, for a client pointed at this host.
func (s *Service) Handler(log *slog.Logger, isAPI func(path string) bool) http.Handler {
	maxAge := strconv.FormatInt(int64(s.cfg.Media.CacheMaxAge.D()/time.Second), 10)
	inst := s.cfg.InstanceURL()
	root := "Rampart media host for " + inst.Host + "\n\nThis host serves uploaded files only. The instance is at " + inst.String() + "/\n"
	notAPI := "Not Found: this is the media host of " + inst.Host + "; it serves uploaded files only. The instance, its API and its pages are at " + inst.String() + "/"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			_, _ = io.WriteString(w, root)
			return
		case isAPI != nil && isAPI(r.URL.Path):
			http.Error(w, notAPI, http.StatusNotFound)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
			return
		}
		key := strings.TrimPrefix(r.URL.Path, "/")
		f, sf, err := s.Open(r.Context(), key)
		if errors.Is(err, ErrNoFile) {
			http.Error(w, "Not Found", http.StatusNotFound)
			return
		}
		if err != nil {
			log.Error("serving media", "key", key, "err", err)
			http.Error(w, "Internal Server Error", http.StatusInternalServerError)
			return
		}
		defer f.Close()
		info, err := f.Stat()
		if err != nil {
			http.Error(w, "Internal Server Error", http.StatusInternalServerError)
			return
		}
		h := w.Header()
		disposition := "inline"
		ctype := sf.ContentType
		if !allowedServed[ctype] {
			ctype, disposition = "application/octet-stream", "attachment"
		}
		// Set explicitly: ServeContent would otherwise guess from the name or bytes.
		h.Set("Content-Type", ctype)
		h.Set("Content-Disposition", disposition+`; filename="`+key+`"`)
		h.Set("Cache-Control", "public, max-age="+maxAge+", immutable")
		h.Set("ETag", `"`+strings.TrimSuffix(key, "."+extOf(key))+`"`)
		http.ServeContent(w, r, "", info.ModTime(), f)
	})
}

func extOf(key string) string {
	if i := strings.LastIndexByte(key, '.'); i >= 0 {
		return key[i+1:]
	}
	return ""
}
