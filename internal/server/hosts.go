package server

import (
	"net"
	"strings"

	"github.com/rampart-social/rampart/internal/config"
)

// Origin is which of Rampart's two faces a request is addressed to.
type Origin int

const (
	OriginOther Origin = iota // neither: refused
	OriginApp                 // the instance: API, pages, federation
	OriginMedia               // uploads only
)

func (o Origin) String() string {
	switch o {
	case OriginApp:
		return "app"
	case OriginMedia:
		return "media"
	}
	return "other"
}

// HostRouter classifies requests by their Host header. Hosts are compared
// without the port: cookies and browsers' site boundaries ignore ports, and
// config validation guarantees the two host names differ.
type HostRouter struct {
	app, media string
}

// NewHostRouter takes the host names from the config.
func NewHostRouter(cfg *config.Config) HostRouter {
	return HostRouter{app: cfg.InstanceURL().Hostname(), media: cfg.MediaOrigin().Hostname()}
}

// Classify maps a Host header value to an origin.
func (h HostRouter) Classify(hostHeader string) Origin {
	name := normalizeHost(hostHeader)
	switch {
	case name == "":
		return OriginOther
	case name == h.app:
		return OriginApp
	case name == h.media:
		return OriginMedia
	}
	return OriginOther
}

// normalizeHost lower-cases, strips the port, IPv6 brackets and a trailing dot.
// It returns "" for a value that is not a plausible host.
func normalizeHost(h string) string {
	if h == "" || len(h) > 300 {
		return ""
	}
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	} else if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		h = h[1 : len(h)-1]
	}
	h = strings.TrimSuffix(strings.ToLower(h), ".")
	if h == "" || strings.ContainsAny(h, "/\\@ \t\r\n[]") {
		return ""
	}
	return h
}
