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
// (the same favourite, reblog, bookmark and pin flags, none its author, no
// filter of theirs matching it) share one encoding. A status gone
// meanwhile renders for nobody. hidden holds, for each viewer whose hiding
// filters match it, the contexts where they hide it (social.FilterContext
// bits): the streams of those contexts leave it out.
func (e Entities) Statuses(ctx context.Context, id int64, viewers []int64) (out map[int64][]byte, hidden map[int64]int, err error) {
	out, hidden = make(map[int64][]byte, len(viewers)), map[int64]int{}
	if len(viewers) == 0 {
		return out, hidden, nil
	}
	b, err := e.a.load(ctx, 0, []int64{id}, nil)
	if err != nil {
		return nil, nil, err
	}
	b.pollsAnonymous = true // loaded without a viewer's votes
	st, ok := b.statuses[id]
	if !ok {
		return out, hidden, nil
	}
	// Every viewer's active filters, in one statement.
	filters, err := e.a.social.ActiveFilters(ctx, viewers)
	if err != nil {
		return nil, nil, err
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
		return nil, nil, err
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
		return nil, nil, err
	}
	for _, v := range viewers {
		b.flags = flags[v]
		b.filters, b.matched = filters[v], nil
		matches := e.a.filterMatches(b, st)
		for _, m := range matches {
			if m.Filter.Hide {
				hidden[v] |= m.Filter.Contexts
			}
		}
		// The author of the status, or of the one it reblogs, sees fields
		// (pinned, application) no one else does, and a viewer whose
		// filters match it its own filtered[]: never shared.
		l := look{anonymous: v == 0, author: st.AccountID == v || origAuthor == v, flags: [2]store.ViewerFlags{b.flags[id], b.flags[st.ReblogOfID]}}
		own := l.author || len(matches) > 0
		if enc, ok := shared[l]; ok && !own {
			out[v] = enc
			continue
		}
		entity, ok := e.a.statusFrom(b, st, v)
		if !ok {
			return out, hidden, nil
		}
		enc, err := compactJSON(entity)
		if err != nil {
			return nil, nil, err
		}
		if !own {
			shared[l] = enc
		}
		out[v] = enc
	}
	return out, hidden, nil
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
