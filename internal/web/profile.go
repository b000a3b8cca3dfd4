package web

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/rampart-social/rampart/internal/text"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rampart-social/rampart/internal/activitypub"
	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/media"
	"github.com/rampart-social/rampart/internal/remote"
	"github.com/rampart-social/rampart/internal/sanitize"
	"github.com/rampart-social/rampart/internal/store"
)

// The public pages show what an anonymous visitor may see — viewer 0 in every
// social and store call, so the store's one visibility rule decides — and
// nothing else: no session is read or started, whoever is signed in.

// Routes of the public pages. ServeMux cannot match "/@{user}" (a wildcard is
// a whole segment), so the pages take every path of one segment and of two or
// more, and pass what is not theirs to unclaimed. The patterns carry no
// method: a GET-only "/{seg}/{id}" would conflict with the method-less /api/
// and /oauth/token and with GET /static/ (neither would be more specific),
// and registering would panic. Without a method they are less specific than
// every other route, so they never shadow one.
const (
	oneSegment   = "/{seg}"
	moreSegments = "/{seg}/{rest...}"
)

// postsPerPage is how many statuses a profile page lists.
const postsPerPage = 20

// publicView is what the profile and status pages show.
type publicView struct {
	Tag     string // the hashtag of a tag page
	Profile *profileView
	Posts   []postView // the profile's page of statuses
	Older   string     // link to the next (older) page, "" on the last
	Newest  string     // link back to the first page, "" on it

	Ancestors   []postView
	Focus       *postView
	Descendants []postView
}

// authorView names an account.
type authorView struct {
	Name     string // display name, or the username when there is none
	Username string
	Acct     string // @username@host
	Profile  string // the profile page here (a remote account's too)
	Avatar   string // on the media origin when uploaded, else the default on the app host
}

// profileView is the head of a profile page.
type profileView struct {
	Author authorView
	Note   string // a local account's bio: plain text; the template escapes it
	// A remote account's bio, sanitized HTML (see remoteHTML), and the page
	// on its own server; Remote also hides the counts, which here would be
	// only what this instance has seen.
	RemoteNote                     template.HTML
	Original                       string
	Remote                         bool
	Fields                         []fieldView
	Bot, Locked                    bool
	Statuses, Following, Followers int64
	Joined, JoinedDatetime         string
}

// fieldView is one profile field: the name is text, the value HTML (a
// local account's escaped, a remote one's sanitized).
type fieldView struct {
	Name  string
	Value template.HTML
}

// postView is one status as the pages show it.
type postView struct {
	ID        string
	Link      string // the status's page here
	Original  string // a remote status's page on its own server (http(s) only), else ""
	Author    authorView
	BoostedBy *authorView
	ReplyTo   *authorView // the author of the status this one answers
	ReplyLink string      // that status's page
	Datetime  string      // <time datetime>
	Date      string
	Edited    bool
	Spoiler   string
	Language  string
	Content   template.HTML
	Media     []mediaView // the attachments, in order
	Sensitive bool        // the attachments are hidden until the visitor opens them
	Focus     bool        // the status of a status page
	Replies   int64
	Boosts    int64
	Favs      int64
}

// mediaView is one attachment as the pages show it. The URLs are built from
// the configured media origin and the stored keys only, never from a request.
type mediaView struct {
	Kind        string // image, video or audio
	URL         string // the full file on the media origin
	Src         string // what an <img> shows: the preview, else the file
	Description string
	Width       int // of Src, 0 when unknown
	Height      int
}

// pageOf reads a public list's max_id (one more post than shown is asked
// for, to know whether an older page exists); a malformed one is answered 400.
func (p *Pages) pageOf(w http.ResponseWriter, r *http.Request) (store.Page, bool) {
	pg := store.Page{Limit: postsPerPage + 1}
	if s := r.URL.Query().Get("max_id"); s != "" {
		var ok bool
		if pg.MaxID, ok = parseID(s); !ok {
			p.render(w, r, http.StatusBadRequest, "message.html", page{Title: "Bad request", Error: "This page link is malformed."})
			return pg, false
		}
	}
	return pg, true
}

// paginate trims ids to a page and sets the links to the older page and
// back to the newest; base is the list's own path.
func (v *publicView) paginate(base string, pg store.Page, ids []int64) []int64 {
	if len(ids) > postsPerPage {
		ids = ids[:postsPerPage]
		v.Older = base + "?max_id=" + strconv.FormatInt(ids[len(ids)-1], 10)
	}
	if pg.MaxID != 0 {
		v.Newest = base
	}
	return ids
}

// tagPage serves /tags/{tag}: the public statuses with a hashtag (hashtag
// links in statuses point here).
func (p *Pages) tagPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	tag := strings.ToLower(r.PathValue("tag"))
	pg, ok := p.pageOf(w, r)
	if !ok {
		return
	}
	ids, err := p.Social.Public(ctx, 0, store.PublicFilter{Tag: tag}, pg)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	view := &publicView{Tag: tag}
	ids = view.paginate("/tags/"+url.PathEscape(tag), pg, ids)
	if view.Posts, err = p.posts(ctx, ids); err != nil {
		p.fail(w, r, err)
		return
	}
	p.render(w, r, http.StatusOK, "tag.html", page{Title: "#" + tag, Public: view})
}

// profileRoute serves /@username and /@user@host; any other single segment
// is unclaimed.
func (p *Pages) profileRoute(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutPrefix(r.PathValue("seg"), "@")
	if !ok {
		p.unclaimed(w, r)
		return
	}
	if !readOnly(w, r) {
		return
	}
	p.profile(w, r, name)
}

// statusRoute serves /@username/:id and /@user@host/:id; other paths of two
// or more segments are unclaimed.
func (p *Pages) statusRoute(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutPrefix(r.PathValue("seg"), "@")
	if !ok {
		p.unclaimed(w, r)
		return
	}
	if !readOnly(w, r) {
		return
	}
	id, ok := parseID(r.PathValue("rest"))
	if !ok {
		p.notFound(w, r)
		return
	}
	p.status(w, r, name, id)
}

// readOnly answers 405 to anything but GET and HEAD.
func readOnly(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
	return false
}

// probeMethods are the methods unclaimed asks the mux about.
var probeMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
	http.MethodPatch, http.MethodDelete, http.MethodOptions}

// unclaimed answers a request the public pages' patterns caught but that is
// not theirs, as the mux would have without those patterns: a redirect to
// the path with a trailing slash when a route takes that path, 405 with Allow
// when routes take this path with other methods, else the mux's 404.
func (p *Pages) unclaimed(w http.ResponseWriter, r *http.Request) {
	other := func(probe *http.Request) bool {
		_, pattern := p.mux.Handler(probe)
		return pattern != "" && pattern != oneSegment && pattern != moreSegments
	}
	if !strings.HasSuffix(r.URL.Path, "/") {
		probe := r.WithContext(r.Context())
		u := *r.URL
		u.Path, u.RawPath = u.Path+"/", ""
		probe.URL = &u
		if other(probe) {
			http.Redirect(w, r, (&url.URL{Path: u.Path, RawQuery: u.RawQuery}).String(), http.StatusTemporaryRedirect)
			return
		}
	}
	var allow []string
	for _, m := range probeMethods {
		probe := r.WithContext(r.Context())
		probe.Method = m
		if m != r.Method && other(probe) {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		slices.Sort(allow)
		w.Header().Set("Allow", strings.Join(allow, ", "))
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	http.NotFound(w, r)
}

// notFound is the public pages' 404: an unknown, pending or disabled account,
// or a status that is not there for anonymous visitors.
func (p *Pages) notFound(w http.ResponseWriter, r *http.Request) {
	p.render(w, r, http.StatusNotFound, "message.html", page{Title: "Not found",
		Error: "There is nothing to see here, or it is not public."})
}

// parseID reads a positive decimal id, digits only.
func parseID(s string) (int64, bool) {
	if s == "" || strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		return 0, false
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}

// publicAccount finds an account others may see by the name in the path: a
// local username, or user@host for a remote account. Unknown, pending and
// disabled accounts are store.ErrNotFound alike. A remote account must
// already be stored: a page view never fetches from another server, since
// anyone may ask for any name and each fetch would be work (and traffic to a
// third party) an anonymous visitor makes Rampart do for them.
func (p *Pages) publicAccount(ctx context.Context, name string) (*store.Account, error) {
	domain := ""
	if strings.Contains(name, "@") {
		acct, ok := remote.ParseAcct(name)
		if !ok {
			return nil, store.ErrNotFound
		}
		// No local account has a domain, so user@this-host is 404 too:
		// a local account has one page, /@username.
		name, domain = acct.User, acct.Host
	}
	if domain == "" && !config.ValidUsername(name) {
		return nil, store.ErrNotFound
	}
	a, err := p.Store.AccountByUsername(ctx, name, domain)
	if err != nil {
		return nil, err
	}
	return p.Social.AccountFor(ctx, a.ID)
}

// found sorts a lookup's error: not found becomes the 404 page, anything
// else a 500; it reports whether the page may go on.
func (p *Pages) found(w http.ResponseWriter, r *http.Request, err error) bool {
	switch {
	case err == nil:
		return true
	case errors.Is(err, store.ErrNotFound):
		p.notFound(w, r)
	default:
		p.fail(w, r, err)
	}
	return false
}

func (p *Pages) profile(w http.ResponseWriter, r *http.Request, name string) {
	ctx := r.Context()
	acc, err := p.publicAccount(ctx, name)
	if !p.found(w, r, err) {
		return
	}
	w.Header().Add("Vary", "Accept")
	if acc.Domain == "" && activitypub.WantsActivityPub(r.Header.Get("Accept")) {
		// Content negotiation: an ActivityPub client asking for the
		// profile is sent to the actor, whose id is not this page. A remote
		// account's page is only HTML: its actor is not ours to point at.
		http.Redirect(w, r, acc.URI, http.StatusFound)
		return
	}
	pg, ok := p.pageOf(w, r)
	if !ok {
		return
	}
	// PublicOnly with viewer 0: public and unlisted statuses (and reblogs of
	// such), as the store's visibility rule lets anyone see them.
	ids, err := p.Social.AccountStatuses(ctx, 0, acc.ID, store.AccountFilter{PublicOnly: true}, pg)
	if !p.found(w, r, err) {
		return
	}
	prof := &profileView{Author: p.author(acc), Bot: acc.Bot, Locked: acc.Locked,
		Joined: acc.CreatedAt.UTC().Format("January 2006"), JoinedDatetime: acc.CreatedAt.UTC().Format("2006-01-02")}
	for _, f := range acc.Fields {
		v := fieldView{Name: f.Name, Value: template.HTML(text.FieldHTML(f.Value))} // escaped, URLs linked
		if acc.Domain != "" {
			v.Value = remoteHTML(f.Value)
		}
		prof.Fields = append(prof.Fields, v)
	}
	if acc.Domain == "" {
		prof.Note = acc.Note
	} else {
		prof.RemoteNote, prof.Remote = remoteHTML(acc.Note), true
		if prof.Original = httpURL(acc.URL); prof.Original == "" {
			prof.Original = httpURL(acc.URI)
		}
	}
	view := &publicView{Profile: prof}
	ids = view.paginate(profilePath(acc), pg, ids)
	if view.Posts, err = p.posts(ctx, ids); err != nil {
		p.fail(w, r, err)
		return
	}
	stats, err := p.Store.StatsFor(ctx, []int64{acc.ID})
	if err != nil {
		p.fail(w, r, err)
		return
	}
	st := stats[acc.ID]
	view.Profile.Statuses, view.Profile.Following, view.Profile.Followers = st.Statuses, st.Following, st.Followers
	data := page{Title: view.Profile.Author.Name + " (" + view.Profile.Author.Acct + ")",
		Alternate: acc.URI, NoIndex: !acc.Discoverable, Public: view}
	if acc.Domain != "" {
		// Remote people chose whether to be indexed on their own server,
		// not here: their copy on this instance is never indexed.
		data.Alternate, data.NoIndex = "", true
	}
	p.render(w, r, http.StatusOK, "profile.html", data)
}

func (p *Pages) status(w http.ResponseWriter, r *http.Request, name string, id int64) {
	ctx := r.Context()
	acc, err := p.publicAccount(ctx, name)
	if !p.found(w, r, err) {
		return
	}
	st, err := p.Social.Status(ctx, 0, id)
	if !p.found(w, r, err) {
		return
	}
	if st.AccountID != acc.ID {
		p.notFound(w, r)
		return
	}
	w.Header().Add("Vary", "Accept")
	if st.ReblogOfID == 0 && acc.Domain == "" && activitypub.WantsActivityPub(r.Header.Get("Accept")) {
		// Content negotiation: an ActivityPub client is sent to the Note.
		http.Redirect(w, r, st.URI, http.StatusFound)
		return
	}
	if st.ReblogOfID != 0 {
		// A reblog has no page of its own: it stands for the original.
		orig, err := p.Social.Status(ctx, 0, st.ReblogOfID)
		if !p.found(w, r, err) {
			return
		}
		author, err := p.Store.AccountByID(ctx, orig.AccountID)
		if !p.found(w, r, err) {
			return
		}
		http.Redirect(w, r, statusLink(author, orig), http.StatusFound)
		return
	}
	ancestors, descendants, err := p.Social.Context(ctx, 0, st.ID)
	if !p.found(w, r, err) {
		return
	}
	thread := append(append(append(make([]int64, 0, len(ancestors)+1+len(descendants)), ancestors...), st.ID), descendants...)
	posts, err := p.posts(ctx, thread)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	view := &publicView{}
	for i := range posts {
		switch {
		case view.Focus != nil:
			view.Descendants = append(view.Descendants, posts[i])
		case posts[i].ID == strconv.FormatInt(st.ID, 10):
			posts[i].Focus = true
			view.Focus = &posts[i]
		default:
			view.Ancestors = append(view.Ancestors, posts[i])
		}
	}
	if view.Focus == nil { // deleted meanwhile
		p.notFound(w, r)
		return
	}
	// The title quotes the text, unless a content warning hides it.
	quote := st.Text
	if !st.Local {
		// A remote status keeps no source text: its content's text stands in.
		quote = sanitize.Text(st.Content)
	}
	if st.SpoilerText != "" {
		quote = st.SpoilerText
	}
	data := page{Title: view.Focus.Author.Name + ": “" + truncate(quote, 60) + "”",
		Alternate: st.URI, NoIndex: !acc.Discoverable, Public: view}
	if acc.Domain != "" {
		data.Alternate, data.NoIndex = "", true // as on a remote profile
	}
	p.render(w, r, http.StatusOK, "status.html", data)
}

// truncate shortens s to n runes on one line, with an ellipsis when cut.
func truncate(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// author names an account; local and remote accounts link to their page
// here. A remote account's avatar is not shown: the CSP lets images come
// only from this instance and its media origin, and there is no media proxy
// yet, so it gets the default.
func (p *Pages) author(a *store.Account) authorView {
	v := authorView{Name: a.DisplayName, Username: a.Username, Acct: "@" + a.Username + "@" + p.Config.InstanceURL().Host,
		Profile: profilePath(a), Avatar: "/static/avatar.png"}
	if a.Domain != "" {
		v.Acct = "@" + a.Username + "@" + a.Domain
	} else if media.ValidKey(a.AvatarKey) {
		v.Avatar = p.Config.MediaOrigin().String() + "/" + a.AvatarKey
	}
	if strings.TrimSpace(v.Name) == "" {
		v.Name = a.Username
	}
	return v
}

// profilePath is an account's page here: /@username, or /@user@host for a
// remote account.
func profilePath(a *store.Account) string {
	if a.Domain != "" {
		return "/@" + url.PathEscape(a.Username+"@"+a.Domain)
	}
	return "/@" + url.PathEscape(a.Username)
}

// statusLink is the page here of a status by author.
func statusLink(author *store.Account, st *store.Status) string {
	return profilePath(author) + "/" + strconv.FormatInt(st.ID, 10)
}

// httpURL is s when it is an absolute http(s) URL without credentials, else
// "". html/template already neutralises javascript: and the like in href;
// this also keeps the other schemes a remote document may carry (data:,
// mailto:, …) and relative URLs, which would resolve against this
// instance, off the pages.
func httpURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return ""
	}
	return u.String()
}

// remoteHTML is HTML from another server as the pages insert it: cut down
// by sanitize.HTML, the one allow-list the API's remote content passed
// before it was stored. Stored remote HTML was sanitized already, and the
// allow-list's output passes it unchanged, so this shows the same markup
// the API serves; it is applied again here because a page runs in a
// browser on this instance's origin, and the page should stay inert even
// if some row reached the store by another path (an import, a future
// writer's bug, a hand edit). Its cost is bounded by sanitize.MaxInput and
// a page's postsPerPage.
func remoteHTML(s string) template.HTML {
	return template.HTML(sanitize.HTML(s))
}

// posts loads and shapes statuses for the pages, in the order of ids, with a
// fixed number of queries. The ids come from queries that applied the
// visibility rule for viewer 0; statuses deleted meanwhile are left out, and
// so is a reblog whose original is not public or unlisted.
func (p *Pages) posts(ctx context.Context, ids []int64) ([]postView, error) {
	statuses, err := p.Store.StatusesByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	var originalIDs []int64
	for _, st := range statuses {
		if st.ReblogOfID != 0 {
			originalIDs = append(originalIDs, st.ReblogOfID)
		}
	}
	originals, err := p.Store.StatusesByIDs(ctx, originalIDs)
	if err != nil {
		return nil, err
	}
	var accountIDs []int64
	for _, set := range []map[int64]*store.Status{statuses, originals} {
		for _, st := range set {
			accountIDs = append(accountIDs, st.AccountID)
			if st.InReplyToAccountID != 0 {
				accountIDs = append(accountIDs, st.InReplyToAccountID)
			}
		}
	}
	accounts, err := p.Store.AccountsByIDs(ctx, accountIDs)
	if err != nil {
		return nil, err
	}
	hidden, err := p.Store.HiddenAccounts(ctx, accountIDs)
	if err != nil {
		return nil, err
	}
	// The attachments of every status shown (a reblog shows its original's).
	var shownIDs []int64
	for _, set := range []map[int64]*store.Status{statuses, originals} {
		for id, st := range set {
			if st.ReblogOfID == 0 {
				shownIDs = append(shownIDs, id)
			}
		}
	}
	attachments, err := p.Store.MediaForStatuses(ctx, shownIDs)
	if err != nil {
		return nil, err
	}
	out := make([]postView, 0, len(ids))
	for _, id := range ids {
		st, ok := statuses[id]
		if !ok {
			continue
		}
		var booster *authorView
		if st.ReblogOfID != 0 {
			b, ok := accounts[st.AccountID]
			orig, found := originals[st.ReblogOfID]
			if !ok || !found || (orig.Visibility != store.Public && orig.Visibility != store.Unlisted) {
				continue
			}
			v := p.author(b)
			booster, st = &v, orig
		}
		author, ok := accounts[st.AccountID]
		if !ok {
			continue
		}
		v := p.post(author, st)
		v.Media = p.media(attachments[st.ID])
		v.Sensitive = st.Sensitive && st.SpoilerText == "" && len(v.Media) > 0
		v.BoostedBy = booster
		// A reply names its parent's author only while that account may be seen.
		if parent, ok := accounts[st.InReplyToAccountID]; ok && st.InReplyToID != 0 && !hidden[parent.ID] {
			to := p.author(parent)
			v.ReplyTo, v.ReplyLink = &to, statusLink(parent, &store.Status{ID: st.InReplyToID})
		}
		out = append(out, v)
	}
	return out, nil
}

// post shapes one status (not a reblog) by author.
func (p *Pages) post(author *store.Account, st *store.Status) postView {
	v := postView{ID: strconv.FormatInt(st.ID, 10), Link: statusLink(author, st), Author: p.author(author),
		Datetime: st.CreatedAt.UTC().Format(time.RFC3339), Date: st.CreatedAt.UTC().Format("2 Jan 2006, 15:04 UTC"),
		Edited: !st.EditedAt.IsZero(), Spoiler: st.SpoilerText, Language: st.Language,
		Replies: st.RepliesCount, Boosts: st.ReblogsCount, Favs: st.FavouritesCount}
	if st.Local {
		// Safe as HTML: a local status's content is written only by
		// internal/text, which escapes every character of what the author
		// typed and adds nothing but its own <p>, <br>, <a> and <span>
		// elements (links with fixed rel/class attributes, escaped hrefs).
		v.Content = template.HTML(st.Content)
	} else {
		v.Content = remoteHTML(st.Content)
	}
	if author.Domain != "" {
		if v.Original = httpURL(st.URL); v.Original == "" {
			v.Original = httpURL(st.URI)
		}
	}
	return v
}

// media shapes a status's attachments: ready ones of a kind the pages can
// show, with well-formed keys, on the media origin.
func (p *Pages) media(list []store.Media) []mediaView {
	origin := p.Config.MediaOrigin().String()
	var out []mediaView
	for _, m := range list {
		if m.State != "ready" || !media.ValidKey(m.FileKey) || (m.PreviewKey != "" && !media.ValidKey(m.PreviewKey)) {
			continue
		}
		v := mediaView{Kind: m.Kind, URL: origin + "/" + m.FileKey, Description: m.Description}
		switch m.Kind {
		case string(media.Image):
			v.Src = v.URL
			size := "original"
			if m.PreviewKey != "" {
				v.Src, size = origin+"/"+m.PreviewKey, "small"
			}
			v.Width, v.Height = metaSize(m.Meta, size)
		case string(media.Video), string(media.Audio):
		default:
			continue
		}
		out = append(out, v)
	}
	return out
}

// metaSize reads the width and height of one size in an attachment's meta
// JSON; 0, 0 when it is not there.
func metaSize(meta, size string) (int, int) {
	var m map[string]json.RawMessage
	var s struct {
		Width  int `json:"width"`
		Height int `json:"height"`
	}
	if json.Unmarshal([]byte(meta), &m) != nil || json.Unmarshal(m[size], &s) != nil || s.Width <= 0 || s.Height <= 0 {
		return 0, 0
	}
	return s.Width, s.Height
}
