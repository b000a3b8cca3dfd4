package api

import (
	"bytes"
	"context"

	"github.com/rampart-social/rampart/internal/store"
)

// Entities renders what the streaming API sends: the very entities this
// API returns, for each viewer, encoded as the REST responses are.
type Entities struct{ a *API }

// Entities returns the renderer streams use.
func (a *API) Entities() Entities { return Entities{a: a} }

// Statuses renders status id for each of viewers. Viewers who see it alike
// (the same favourite, reblog, bookmark and pin flags, none its author)
// share one encoding. A status gone meanwhile renders for nobody.
func (e Entities) Statuses(ctx context.Context, id int64, viewers []int64) (map[int64][]byte, error) {
	out := make(map[int64][]byte, len(viewers))
	if len(viewers) == 0 {
		return out, nil
	}
	b, err := e.a.load(ctx, 0, []int64{id}, nil)
	if err != nil {
		return nil, err
	}
	b.pollsAnonymous = true // loaded without a viewer's votes
	st, ok := b.statuses[id]
	if !ok {
		return out, nil
	}
	all := make([]int64, 0, 2)
	var appIDs []int64
	for sid, x := range b.statuses {
		all = append(all, sid)
		if x.ApplicationID != 0 {
			appIDs = append(appIDs, x.ApplicationID)
		}
	}
	// statusFrom shows an app only to its status's author: loading both
	// statuses' apps up front shows nothing to anyone else.
	if b.apps, err = e.a.store.AppsByIDs(ctx, appIDs); err != nil {
		return nil, err
	}
	var origAuthor int64
	if o := b.statuses[st.ReblogOfID]; o != nil {
		origAuthor = o.AccountID
	}
	type look struct {
		anonymous, author bool
		flags             [2]store.ViewerFlags // the status's, and the reblogged one's
	}
	shared := map[look][]byte{}
	flags, err := e.a.store.ViewerFlagsForMany(ctx, viewers, all)
	if err != nil {
		return nil, err
	}
	for _, v := range viewers {
		b.flags = flags[v]
		// The author of the status, or of the one it reblogs, sees fields
		// (pinned, application) no one else does: never shared.
		l := look{anonymous: v == 0, author: st.AccountID == v || origAuthor == v, flags: [2]store.ViewerFlags{b.flags[id], b.flags[st.ReblogOfID]}}
		if enc, ok := shared[l]; ok && !l.author {
			out[v] = enc
			continue
		}
		entity, ok := e.a.statusFrom(b, st, v)
		if !ok {
			return out, nil
		}
		enc, err := compactJSON(entity)
		if err != nil {
			return nil, err
		}
		shared[l] = enc
		out[v] = enc
	}
	return out, nil
}

// Notification renders one of viewer's notifications; nil when it (or its
// status) is no longer viewer's to see.
func (e Entities) Notification(ctx context.Context, viewer int64, n *store.Notification) ([]byte, error) {
	list, err := e.a.renderNotifications(ctx, viewer, []store.Notification{*n})
	if err != nil || len(list) == 0 {
		return nil, err
	}
	return compactJSON(list[0])
}

// compactJSON is encodeJSON without its newline: a stream payload is one
// line.
func compactJSON(v any) ([]byte, error) {
	b, err := encodeJSON(v)
	return bytes.TrimSuffix(b, []byte("\n")), err
}
