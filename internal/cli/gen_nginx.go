package cli

import (
	"context"
	"fmt"
	"strconv"

	"github.com/rampart-social/rampart/internal/deploy"
	"github.com/rampart-social/rampart/internal/instance"
)

func runGenNginx(_ context.Context, args []string, io IO, opts instance.Options) error {
	fs := newFlags("gen nginx", io)
	path := fs.String("config", "", "config file (default: $RAMPART_CONFIG); host names and listener come from it")
	o := deploy.DefaultNginxOptions()
	fs.StringVar(&o.Cert, "cert", "", "certificate chain of the instance host (default /etc/letsencrypt/live/<host>/fullchain.pem)")
	fs.StringVar(&o.Key, "key", "", "private key of the instance host (default /etc/letsencrypt/live/<host>/privkey.pem)")
	fs.StringVar(&o.MediaCert, "media-cert", "", "certificate chain of the media host (default: --cert when given, one certificate naming both hosts; else Let's Encrypt's path for the media host)")
	fs.StringVar(&o.MediaKey, "media-key", "", "private key of the media host (default: --key when given; else Let's Encrypt's path for the media host)")
	fs.IntVar(&o.HTTPSPort, "https-port", o.HTTPSPort, "port nginx serves https on")
	fs.IntVar(&o.HTTPPort, "http-port", o.HTTPPort, "port nginx redirects from http to https on")
	fs.StringVar(&o.ACMEWebroot, "acme-webroot", o.ACMEWebroot, "directory served at /.well-known/acme-challenge/ over http for certbot --webroot (empty: none)")
	fs.BoolVar(&o.HTTP2Directive, "http2-directive", false, "for nginx 1.25.1 and later: enable HTTP/2 with `http2 on` instead of `listen … ssl http2` (which every nginx accepts; newer ones warn it is deprecated)")
	fs.Func("backend", "address of a rampart serve process (host:port or unix:/path), repeated for each of several processes on one PostgreSQL database; default: http.listen alone", func(v string) error {
		o.Backends = append(o.Backends, v)
		return nil
	})
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, _, err := loadConfig(*path, io)
	if err != nil {
		return err
	}
	site, err := deploy.NginxSite(cfg, o)
	if err != nil {
		return usageError{err.Error()}
	}
	for _, u := range []struct{ key, port string }{{"url", cfg.InstanceURL().Port()}, {"media_url", cfg.MediaOrigin().Port()}} {
		if u.port != "" && u.port != strconv.Itoa(o.HTTPSPort) {
			fmt.Fprintf(io.Stderr, "WARNING: %s names port %s but the site listens on --https-port %d; clients will dial %s\n", u.key, u.port, o.HTTPSPort, u.port)
		}
	}
	_, err = fmt.Fprint(io.Stdout, site)
	return err
}
