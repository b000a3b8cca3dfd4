// Package web serves Rampart's server-rendered pages and their static assets
// on the instance host. Pages use html/template and external CSS only — no
// inline script or style — so the strict CSP of internal/httpsec holds.
package web

import (
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"

	"github.com/rampart-social/rampart/internal/config"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Pages renders the instance's pages.
type Pages struct {
	tmpl *template.Template
	cfg  *config.Config
	log  *slog.Logger
}

// New parses the embedded templates.
func New(cfg *config.Config, log *slog.Logger) *Pages {
	return &Pages{
		tmpl: template.Must(template.ParseFS(templateFiles, "templates/*.html")),
		cfg:  cfg,
		log:  log,
	}
}

// Register adds the pages and /static/ to mux.
func (p *Pages) Register(mux *http.ServeMux) {
	static, _ := fs.Sub(staticFiles, "static")
	files := http.StripPrefix("/static/", http.FileServer(http.FS(static)))
	mux.Handle("GET /static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	}))
	mux.HandleFunc("GET /{$}", p.home)
}

type homeData struct {
	Host string
}

func (p *Pages) home(w http.ResponseWriter, r *http.Request) {
	p.render(w, r, "home.html", homeData{Host: p.cfg.InstanceURL().Host})
}

func (p *Pages) render(w http.ResponseWriter, r *http.Request, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := p.tmpl.ExecuteTemplate(w, name, data); err != nil {
		p.log.Error("render page", "template", name, "path", r.URL.Path, "err", err)
	}
}
