package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/rampart-social/rampart/internal/buildinfo"
	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/media"
	"github.com/rampart-social/rampart/internal/store"
	"github.com/rampart-social/rampart/internal/text"
)

// MastodonVersion is the Mastodon API level Rampart claims: only what it
// implements, so clients do not call endpoints that are not there. 4.3.0:
// 4.2's client API and what 4.3 added that apps gate on the version (grouped
// notifications, the notification policy, GET /api/v1/statuses?id[] and
// /api/v1/accounts?id[], profile image removal); what is missing, Web Push
// first, is named in docs/api-compatibility.md, which
// TestCompatibilityTableEndpointsAnswer holds to the routes.
const MastodonVersion = "4.3.0"

// APIVersion is api_versions.mastodon: 2 is the level of the grouped
// notifications (/api/v2/notifications and its companions, Mastodon 4.3),
// which Rampart implements; clients that gate on it check the version
// string too.
const APIVersion = 2

func versionString() string {
	return MastodonVersion + " (compatible; Rampart " + buildinfo.Version + ")"
}

type instanceFacts struct {
	users, activeMonth, activeHalfyear int64
	statuses                           int64
	contact                            *Account
}

// instanceDocsMaxAge is how stale the instance documents may be. They need no
// authentication, so anyone may ask for them as often as they like: they are
// built in memory at most once per interval, from one row of counters kept on
// write and the contact account, and every other request costs no database
// work at all. The counters and the contact account are the only parts that
// change at run time; Mastodon caches its instance figures likewise.
const instanceDocsMaxAge = 30 * time.Second

// instanceDocs holds the encoded instance documents.
type instanceDocs struct {
	now func() time.Time

	mu      sync.Mutex
	builtAt time.Time
	docs    map[string][]byte // by instanceDoc name
}

// The documents instanceDocs holds.
const (
	docInstanceV1 = "instance v1"
	docInstanceV2 = "instance v2"
	docNodeInfo20 = "nodeinfo 2.0"
	docNodeInfo21 = "nodeinfo 2.1"
)

// instanceDoc returns one encoded document, rebuilding all of them when they
// are older than instanceDocsMaxAge. Concurrent callers wait for the one
// rebuild rather than each running it.
func (a *API) instanceDoc(ctx context.Context, name string) ([]byte, error) {
	d := &a.instance
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	if d.docs == nil || now.Sub(d.builtAt) >= instanceDocsMaxAge || now.Before(d.builtAt) {
		// The rebuild is the instance's, not the request's: a client that
		// goes away does not fail it, and a failure serves the last
		// documents (if any) rather than none.
		bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		f, err := a.facts(bctx)
		if err != nil && d.docs != nil {
			a.log.Warn("rebuilding the instance documents; serving the last ones", "err", err)
			d.builtAt = now
			return d.docs[name], nil
		}
		if err != nil {
			return nil, err
		}
		docs := map[string][]byte{}
		for n, v := range map[string]any{docInstanceV1: a.instanceV1Doc(f), docInstanceV2: a.instanceV2Doc(f),
			docNodeInfo20: a.nodeinfoDoc("2.0", f), docNodeInfo21: a.nodeinfoDoc("2.1", f)} {
			if docs[n], err = encodeJSON(v); err != nil {
				return nil, fmt.Errorf("%s: %w", n, err)
			}
		}
		d.docs, d.builtAt = docs, now
	}
	return d.docs[name], nil
}

func (a *API) facts(ctx context.Context) (instanceFacts, error) {
	var f instanceFacts
	counts, err := a.store.InstanceStats(ctx)
	if err != nil {
		return f, err
	}
	f.users, f.statuses = counts.LocalUsers, counts.LocalPosts
	f.activeMonth, f.activeHalfyear = counts.ActiveMonth, counts.ActiveHalfyear
	if name := a.cfg.Instance.ContactUsername; name != "" {
		acc, err := a.store.AccountByUsername(ctx, name, "")
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return f, err
		}
		if acc != nil {
			e := a.account(acc)
			f.contact = &e
		}
	}
	return f, nil
}

func (a *API) streamingURL() string {
	u := a.cfg.InstanceURL()
	scheme := "wss"
	if u.Scheme == "http" {
		scheme = "ws"
	}
	return scheme + "://" + u.Host
}

func (a *API) statusLimits() map[string]any {
	return map[string]any{"max_characters": a.cfg.Statuses.MaxCharacters, "max_media_attachments": 4, "characters_reserved_per_url": text.URLLength}
}

func (a *API) mediaLimits() map[string]any {
	m := a.cfg.Media
	var types []string
	for _, f := range media.Formats {
		types = append(types, f.MIME)
	}
	return map[string]any{"supported_mime_types": types, "image_size_limit": int64(m.MaxImageBytes), "image_matrix_limit": m.MaxImagePixels,
		"video_size_limit": int64(m.MaxVideoBytes), "video_frame_rate_limit": 120, "video_matrix_limit": m.MaxImagePixels,
		"description_limit": m.DescriptionLimit}
}

func (a *API) instanceV1(w http.ResponseWriter, r *http.Request) {
	a.serveInstanceDoc(w, r, docInstanceV1, "")
}

func (a *API) instanceV2(w http.ResponseWriter, r *http.Request) {
	a.serveInstanceDoc(w, r, docInstanceV2, "")
}

// serveInstanceDoc writes one of the cached documents; contentType "" is JSON's.
func (a *API) serveInstanceDoc(w http.ResponseWriter, r *http.Request, name, contentType string) {
	doc, err := a.instanceDoc(r.Context(), name)
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	h := w.Header()
	if contentType == "" {
		setShared(h, "Content-Type", jsonContentType)
	} else {
		h.Set("Content-Type", contentType)
	}
	setShared(h, "Cache-Control", noStore)
	h.Set("Content-Length", strconv.Itoa(len(doc)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(doc)
}

func (a *API) instanceV1Doc(f instanceFacts) any {
	i := a.cfg.Instance
	base := a.cfg.InstanceURL().String()
	return map[string]any{
		"uri": a.cfg.InstanceURL().Host, "title": i.Title, "short_description": i.Description, "description": i.Description,
		"email": i.ContactEmail, "version": versionString(),
		"urls":      map[string]string{"streaming_api": a.streamingURL()},
		"stats":     map[string]int64{"user_count": f.users, "status_count": f.statuses, "domain_count": 0},
		"thumbnail": base + DefaultThumbnailPath, "languages": []string{"en"},
		"registrations":     a.cfg.Accounts.Registrations != config.RegistrationsClosed,
		"approval_required": a.cfg.Accounts.Registrations == config.RegistrationsApproval,
		"invites_enabled":   false,
		"configuration": map[string]any{
			"accounts": map[string]int{"max_featured_tags": 10}, "statuses": a.statusLimits(),
			"media_attachments": a.mediaLimits(), "polls": pollLimits,
		},
		"contact_account": f.contact, "rules": a.rules(),
	}
}

func (a *API) instanceV2Doc(f instanceFacts) any {
	i := a.cfg.Instance
	base := a.cfg.InstanceURL().String()
	return map[string]any{
		"domain": a.cfg.InstanceURL().Host, "title": i.Title, "version": versionString(),
		"source_url": "https://github.com/rampart-social/rampart", "description": i.Description,
		"usage":     map[string]any{"users": map[string]int64{"active_month": f.activeMonth}},
		"thumbnail": map[string]any{"url": base + DefaultThumbnailPath, "blurhash": nil, "versions": map[string]string{}},
		"icon":      []any{},
		"languages": []string{"en"},
		"configuration": map[string]any{
			"urls":              map[string]any{"streaming": a.streamingURL(), "status": nil},
			"vapid":             map[string]string{"public_key": a.vapidKey()},
			"accounts":          map[string]int{"max_featured_tags": 10, "max_pinned_statuses": 5},
			"statuses":          a.statusLimits(),
			"media_attachments": a.mediaLimits(),
			"polls":             pollLimits,
			"translation":       map[string]bool{"enabled": false},
		},
		"registrations": map[string]any{
			"enabled":           a.cfg.Accounts.Registrations != config.RegistrationsClosed,
			"approval_required": a.cfg.Accounts.Registrations == config.RegistrationsApproval,
			"message":           nil, "url": nil,
		},
		"api_versions": map[string]int{"mastodon": APIVersion},
		"contact":      map[string]any{"email": i.ContactEmail, "account": f.contact},
		"rules":        a.rules(),
	}
}

func (a *API) nodeinfoLinks(w http.ResponseWriter, r *http.Request) {
	base := a.cfg.InstanceURL().String()
	writeJSON(w, http.StatusOK, map[string]any{"links": []map[string]string{
		{"rel": "http://nodeinfo.diaspora.software/ns/schema/2.0", "href": base + "/nodeinfo/2.0"},
		{"rel": "http://nodeinfo.diaspora.software/ns/schema/2.1", "href": base + "/nodeinfo/2.1"},
	}})
}

func (a *API) nodeinfo(w http.ResponseWriter, r *http.Request) {
	version := r.PathValue("version")
	name := map[string]string{"2.0": docNodeInfo20, "2.1": docNodeInfo21}[version]
	if name == "" {
		writeError(w, http.StatusNotFound, "Record not found")
		return
	}
	a.serveInstanceDoc(w, r, name, `application/json; profile="http://nodeinfo.diaspora.software/ns/schema/`+version+`#"`)
}

func (a *API) nodeinfoDoc(version string, f instanceFacts) any {
	software := map[string]string{"name": "rampart", "version": buildinfo.Version}
	if version == "2.1" {
		software["repository"] = "https://github.com/rampart-social/rampart"
		software["homepage"] = "https://github.com/rampart-social/rampart"
	}
	return map[string]any{
		"version": version, "software": software, "protocols": []string{"activitypub"},
		"services":          map[string][]string{"inbound": {}, "outbound": {}},
		"openRegistrations": a.cfg.Accounts.Registrations == config.RegistrationsOpen,
		"usage":             map[string]any{"users": map[string]int64{"total": f.users, "activeMonth": f.activeMonth, "activeHalfyear": f.activeHalfyear}, "localPosts": f.statuses},
		// upstream: clients that pick an API by the server's software
		// (megalodon's detector) take an unknown name with a Mastodon
		// upstream as Mastodon, which Rampart's client API is.
		"metadata": map[string]any{"nodeName": a.cfg.Instance.Title,
			"upstream": map[string]string{"name": "mastodon", "version": MastodonVersion}},
	}
}
