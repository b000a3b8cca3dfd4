package api

import (
	"context"
	"strconv"
	"time"

	"github.com/rampart-social/rampart/internal/social"
	"github.com/rampart-social/rampart/internal/store"
)

// Status is Mastodon's Status entity.
type Status struct {
	ID                 string        `json:"id"`
	URI                string        `json:"uri"`
	URL                *string       `json:"url"`
	CreatedAt          string        `json:"created_at"`
	EditedAt           *string       `json:"edited_at"`
	Account            Account       `json:"account"`
	InReplyToID        *string       `json:"in_reply_to_id"`
	InReplyToAccountID *string       `json:"in_reply_to_account_id"`
	Reblog             *Status       `json:"reblog"`
	Content            string        `json:"content"`
	Text               *string       `json:"text,omitempty"`
	SpoilerText        string        `json:"spoiler_text"`
	Sensitive          bool          `json:"sensitive"`
	Visibility         string        `json:"visibility"`
	Language           *string       `json:"language"`
	RepliesCount       int64         `json:"replies_count"`
	ReblogsCount       int64         `json:"reblogs_count"`
	FavouritesCount    int64         `json:"favourites_count"`
	Favourited         *bool         `json:"favourited,omitempty"`
	Reblogged          *bool         `json:"reblogged,omitempty"`
	Muted              *bool         `json:"muted,omitempty"`
	Bookmarked         *bool         `json:"bookmarked,omitempty"`
	Pinned             *bool         `json:"pinned,omitempty"`
	Filtered           filterList    `json:"filtered,omitzero"`
	MediaAttachments   []Attachment  `json:"media_attachments"`
	Mentions           []Mention     `json:"mentions"`
	Tags               []TagRef      `json:"tags"`
	Emojis             []CustomEmoji `json:"emojis"`
	Card               *struct{}     `json:"card"`
	Poll               *Poll         `json:"poll"`
	Application        *AppReference `json:"application,omitempty"`
}

// Mention is Status.mentions[].
type Mention struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	URL      string `json:"url"`
	Acct     string `json:"acct"`
}

// TagRef is Status.tags[].
type TagRef struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// AppReference is Status.application.
type AppReference struct {
	Name    string  `json:"name"`
	Website *string `json:"website"`
}

func idString(id int64) string { return strconv.FormatInt(id, 10) }

func optID(id int64) *string {
	if id == 0 {
		return nil
	}
	s := idString(id)
	return &s
}

// batch holds what rendering a set of statuses and accounts needs, loaded
// with a fixed number of queries whatever the list's length.
type batch struct {
	statuses map[int64]*store.Status
	accounts map[int64]*store.Account
	stats    map[int64]store.AccountStats
	mentions map[int64][]int64
	tags     map[int64][]string
	flags    map[int64]store.ViewerFlags
	apps     map[int64]*store.App
	media    map[int64][]store.Media
	// codes are the :shortcode: uses of each local status's text, emojis
	// the custom emojis they name (one query for the page).
	codes  map[int64][]string
	emojis map[string]store.CustomEmoji
	polls  map[int64]*store.Poll // by status id, with the viewer's choices
	now    time.Time             // polls' expired, as of loading
	// pollsAnonymous renders polls without voted and own_votes: the
	// stream's one rendering for many viewers, as Mastodon's has none.
	pollsAnonymous bool
	// filters are the viewer's active filters (nil: none, or anonymous);
	// matched memoizes what they match, by status id.
	filters *social.FilterSet
	matched map[int64][]social.FilterMatch
}

func (a *API) load(ctx context.Context, viewer int64, statusIDs, accountIDs []int64) (*batch, error) {
	b := &batch{}
	var err error
	if b.statuses, err = a.store.StatusesByIDs(ctx, statusIDs); err != nil {
		return nil, err
	}
	var originals []int64
	for _, st := range b.statuses {
		if st.ReblogOfID != 0 {
			originals = append(originals, st.ReblogOfID)
		}
	}
	more, err := a.store.StatusesByIDs(ctx, originals)
	if err != nil {
		return nil, err
	}
	for id, st := range more {
		b.statuses[id] = st
	}
	all := make([]int64, 0, len(b.statuses))
	for id := range b.statuses {
		all = append(all, id)
	}
	if b.mentions, err = a.store.MentionedAccounts(ctx, all); err != nil {
		return nil, err
	}
	if b.tags, err = a.store.StatusTags(ctx, all); err != nil {
		return nil, err
	}
	if b.flags, err = a.store.ViewerFlagsFor(ctx, viewer, all); err != nil {
		return nil, err
	}
	if b.media, err = a.store.MediaForStatuses(ctx, all); err != nil {
		return nil, err
	}
	b.codes = map[int64][]string{}
	var codes []string
	for id, st := range b.statuses {
		if c := statusShortcodes(st); len(c) > 0 {
			b.codes[id] = c
			codes = append(codes, c...)
		}
	}
	if b.emojis, err = a.store.CustomEmojisNamed(ctx, codes); err != nil {
		return nil, err
	}
	if b.polls, err = a.store.PollsForStatuses(ctx, viewer, all); err != nil {
		return nil, err
	}
	b.now = time.Now()
	if viewer != 0 && len(all) > 0 {
		if b.filters, err = a.social.ViewerFilters(ctx, viewer); err != nil {
			return nil, err
		}
	}
	accs := append([]int64(nil), accountIDs...)
	for _, st := range b.statuses {
		accs = append(accs, st.AccountID)
	}
	for _, ms := range b.mentions {
		accs = append(accs, ms...)
	}
	if b.accounts, b.stats, err = a.store.AccountsWithStats(ctx, accs); err != nil {
		return nil, err
	}
	var apps []int64
	for _, st := range b.statuses {
		if st.ApplicationID != 0 && st.AccountID == viewer {
			apps = append(apps, st.ApplicationID)
		}
	}
	if b.apps, err = a.store.AppsByIDs(ctx, apps); err != nil {
		return nil, err
	}
	return b, nil
}

func (a *API) accountFrom(b *batch, acc *store.Account) Account {
	out := a.account(acc)
	st := b.stats[acc.ID]
	out.StatusesCount, out.Followers, out.Following = st.Statuses, st.Followers, st.Following
	if !st.LastStatusAt.IsZero() {
		d := st.LastStatusAt.Format("2006-01-02")
		out.LastStatusAt = &d
	}
	return out
}

// sensitive is the status's mark, or its author's: the staff's sensitive
// action shows all of an account's media as sensitive to others (as
// Mastodon, the author sees their own statuses as written).
func sensitive(st *store.Status, author *store.Account, viewer int64) bool {
	return st.Sensitive || !author.SensitizedAt.IsZero() && viewer != st.AccountID
}

func (a *API) statusFrom(b *batch, st *store.Status, viewer int64) (Status, bool) {
	author, ok := b.accounts[st.AccountID]
	if !ok {
		return Status{}, false
	}
	out := Status{
		ID: idString(st.ID), URI: st.URI, CreatedAt: timestamp(st.CreatedAt), Account: a.accountFrom(b, author),
		InReplyToID: optID(st.InReplyToID), InReplyToAccountID: optID(st.InReplyToAccountID),
		Content: st.Content, SpoilerText: st.SpoilerText, Sensitive: sensitive(st, author, viewer), Visibility: social.VisibilityName(st.Visibility),
		RepliesCount: st.RepliesCount, ReblogsCount: st.ReblogsCount, FavouritesCount: st.FavouritesCount,
		MediaAttachments: []Attachment{}, Mentions: []Mention{}, Tags: []TagRef{}, Emojis: a.emojisIn(b.emojis, b.codes[st.ID]),
	}
	for i := range b.media[st.ID] {
		out.MediaAttachments = append(out.MediaAttachments, a.attachment(&b.media[st.ID][i]))
	}
	if p := b.polls[st.ID]; p != nil {
		pv := viewer
		if b.pollsAnonymous {
			pv = 0
		}
		out.Poll = pollEntity(p, pv, b.now)
	}
	if st.URL != "" {
		u := st.URL
		out.URL = &u
	}
	if !st.EditedAt.IsZero() {
		e := timestamp(st.EditedAt)
		out.EditedAt = &e
	}
	if st.Language != "" {
		l := st.Language
		out.Language = &l
	}
	if st.ReblogOfID != 0 {
		orig, ok := b.statuses[st.ReblogOfID]
		if !ok {
			return Status{}, false
		}
		r, ok := a.statusFrom(b, orig, viewer)
		if !ok {
			return Status{}, false
		}
		out.Reblog = &r
		out.Content, out.Language = "", nil
	}
	for _, m := range b.mentions[st.ID] {
		if acc, ok := b.accounts[m]; ok {
			e := a.account(acc)
			out.Mentions = append(out.Mentions, Mention{ID: e.ID, Username: e.Username, URL: e.URL, Acct: e.Acct})
		}
	}
	base := a.cfg.InstanceURL().String()
	for _, t := range b.tags[st.ID] {
		out.Tags = append(out.Tags, TagRef{Name: t, URL: base + "/tags/" + t})
	}
	if viewer != 0 {
		f := b.flags[st.ID]
		out.Favourited, out.Reblogged, out.Bookmarked, out.Muted = &f.Favourited, &f.Reblogged, &f.Bookmarked, &f.Muted
		out.Filtered = filterResults(a.filterMatches(b, st))
		if st.AccountID == viewer && st.ReblogOfID == 0 && st.Visibility != store.Direct {
			out.Pinned = &f.Pinned
		}
	}
	// Only the author sees which app a status came from.
	if app := b.apps[st.ApplicationID]; app != nil && st.AccountID == viewer {
		var site *string
		if app.Website != "" {
			w := app.Website
			site = &w
		}
		out.Application = &AppReference{Name: app.Name, Website: site}
	}
	return out, true
}

// filterMatches is what the batch's filters match of st: for a reblog,
// the reblogged status's text and both ids (social.Filterable).
func (a *API) filterMatches(b *batch, st *store.Status) []social.FilterMatch {
	if b.filters.Empty() {
		return nil
	}
	if m, ok := b.matched[st.ID]; ok {
		return m
	}
	proper, reblog := st, int64(0)
	if st.ReblogOfID != 0 {
		if orig, ok := b.statuses[st.ReblogOfID]; ok {
			proper, reblog = orig, st.ID
		}
	}
	f := social.Filterable{ID: proper.ID, ReblogID: reblog, AccountID: proper.AccountID, Local: proper.Local, Text: proper.Text,
		Content: proper.Content, SpoilerText: proper.SpoilerText}
	for _, m := range b.media[proper.ID] {
		if m.Description != "" {
			f.MediaDescriptions = append(f.MediaDescriptions, m.Description)
		}
	}
	if p := b.polls[proper.ID]; p != nil {
		for _, o := range p.Options {
			f.PollOptions = append(f.PollOptions, o.Title)
		}
	}
	m := b.filters.Match(f)
	if b.matched == nil {
		b.matched = map[int64][]social.FilterMatch{}
	}
	b.matched[st.ID] = m
	return m
}

// hidden reports whether the viewer's filters hide st where it is read
// (fctx; 0 hides nothing).
func (a *API) hidden(b *batch, st *store.Status, fctx social.FilterContext) bool {
	return fctx != 0 && social.Hides(a.filterMatches(b, st), fctx)
}

// renderStatuses renders ids in order, dropping any that vanished meanwhile.
func (a *API) renderStatuses(ctx context.Context, viewer int64, ids []int64) ([]Status, error) {
	return a.renderStatusesIn(ctx, viewer, ids, 0)
}

// renderStatusesIn is renderStatuses where the viewer's filters of
// context fctx apply: the statuses they hide are left out.
func (a *API) renderStatusesIn(ctx context.Context, viewer int64, ids []int64, fctx social.FilterContext) ([]Status, error) {
	b, err := a.load(ctx, viewer, ids, nil)
	if err != nil {
		return nil, err
	}
	out := make([]Status, 0, len(ids))
	for _, id := range ids {
		if st, ok := b.statuses[id]; ok && !a.hidden(b, st, fctx) {
			if e, ok := a.statusFrom(b, st, viewer); ok {
				out = append(out, e)
			}
		}
	}
	return out, nil
}

func (a *API) renderStatus(ctx context.Context, viewer int64, st *store.Status) (Status, error) {
	list, err := a.renderStatuses(ctx, viewer, []int64{st.ID})
	if err != nil {
		return Status{}, err
	}
	if len(list) == 0 {
		return Status{}, store.ErrNotFound
	}
	return list[0], nil
}

// renderAccounts renders accounts with their counters, in order.
func (a *API) renderAccounts(ctx context.Context, ids []int64) ([]Account, error) {
	b, err := a.load(ctx, 0, nil, ids)
	if err != nil {
		return nil, err
	}
	out := make([]Account, 0, len(ids))
	for _, id := range ids {
		if acc, ok := b.accounts[id]; ok {
			out = append(out, a.accountFrom(b, acc))
		}
	}
	return out, nil
}
