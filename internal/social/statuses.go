package social

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rampart-social/rampart/internal/events"
	"github.com/rampart-social/rampart/internal/remote"
	"github.com/rampart-social/rampart/internal/store"
	"github.com/rampart-social/rampart/internal/text"
)

// Visibilities by name, as the API spells them.
var visibilityNames = map[string]store.Visibility{"public": store.Public, "unlisted": store.Unlisted, "private": store.Private, "direct": store.Direct}

// VisibilityName is the API's word for v.
func VisibilityName(v store.Visibility) string {
	for name, x := range visibilityNames {
		if x == v {
			return name
		}
	}
	return "public"
}

// MaxPins is how many statuses an account may pin.
const MaxPins = 5

// PostParams are the inputs of a new status.
type PostParams struct {
	Text           string
	SpoilerText    string
	InReplyToID    int64
	Sensitive      *bool  // nil for the author's default
	Visibility     string // "" for the author's default
	Language       string
	IdempotencyKey string
	ApplicationID  int64
	MediaIDs       []int64
	Poll           *PollParams // nil: no poll
	// ScheduledID is the scheduled status this post publishes (its job's):
	// removed with the post, its held uploads the post's.
	ScheduledID int64
}

// MaxMedia is how many attachments a status may carry.
const MaxMedia = 4

func checkMedia(ids []int64) error {
	if len(ids) > MaxMedia {
		return invalid("media_ids", "at most %d attachments", MaxMedia)
	}
	seen := map[int64]bool{}
	for _, id := range ids {
		if seen[id] {
			return invalid("media_ids", "an attachment is listed twice")
		}
		seen[id] = true
	}
	return nil
}

// rendered is a status text made into HTML, with what it links.
type rendered struct {
	html     string
	mentions []int64 // every account mentioned, stored with the status
	local    []int64 // those of them on this instance: told, and fed direct statuses
	tags     []string
	words    []string
}

// Bounds on resolving the remote accounts a post mentions: each may cost
// two outbound requests, and the author waits for them.
const (
	maxRemoteMentions    = 10
	remoteMentionTimeout = 8 * time.Second
)

func (s *Service) render(ctx context.Context, author int64, body string) rendered {
	inst := s.cfg.InstanceURL()
	base := inst.String()
	remoteCtx, cancel := context.WithTimeout(ctx, remoteMentionTimeout)
	defer cancel()
	remoteIDs := map[int64]bool{}
	lookups := 0
	html, mentions, tags := text.Render(body, func(tag string) string { return base + "/tags/" + tag },
		func(m text.MentionRef) (text.Resolved, bool) {
			if m.Domain != "" && !s.isLocalHost(m.Domain) {
				// @user@host on another server: resolved through the
				// outbound guard (known ones from the store), within the
				// post's budget; otherwise it stays plain text.
				if s.remote == nil || lookups == maxRemoteMentions {
					return text.Resolved{}, false
				}
				lookups++
				acct, ok := remote.ParseAcct(m.Username + "@" + m.Domain)
				if !ok {
					return text.Resolved{}, false
				}
				acc, err := s.remote.Resolve(remoteCtx, author, acct)
				if err != nil {
					return text.Resolved{}, false
				}
				remoteIDs[acc.ID] = true
				return text.Resolved{ID: acc.ID, URL: acc.URL, Acct: acc.Username + "@" + acc.Domain}, true
			}
			acc, err := s.store.AccountByUsername(ctx, m.Username, "")
			if err != nil {
				return text.Resolved{}, false
			}
			if _, err := s.usableAccount(ctx, acc.ID); err != nil {
				return text.Resolved{}, false
			}
			return text.Resolved{ID: acc.ID, URL: acc.URL, Acct: acc.Username}, true
		})
	var local []int64
	for _, id := range mentions {
		if !remoteIDs[id] {
			local = append(local, id)
		}
	}
	return rendered{html: html, mentions: mentions, local: local, tags: tags, words: text.SearchWords(body)}
}

// SearchTerms turns a query into the words SearchStatuses matches.
func SearchTerms(q string) []string { return text.SearchWords(q) }

func (s *Service) checkText(body, spoiler string, hasMedia bool) error {
	if strings.TrimSpace(body) == "" && !hasMedia {
		return invalid("text", "can't be blank")
	}
	max := int(s.cfg.Statuses.MaxCharacters)
	if n := text.Length(body) + text.Length(spoiler); n > max {
		return invalid("text", "is too long (%d characters; the limit is %d)", n, max)
	}
	return nil
}

func checkLanguage(l string) error {
	if l == "" {
		return nil
	}
	if len(l) < 2 || len(l) > 3 || strings.ToLower(l) != l || strings.IndexFunc(l, func(r rune) bool { return r < 'a' || r > 'z' }) >= 0 {
		return invalid("language", "must be an ISO 639 code like en")
	}
	return nil
}

// postPlan is what the posting rules make of a post's parameters: the
// author's defaults filled in, the replied-to status loaded.
type postPlan struct {
	visibility store.Visibility
	language   string
	sensitive  bool
	parent     *store.Status // nil: not a reply
}

// checkPost holds p to the posting rules (a scheduled post is held to them
// when it is scheduled and again when it is published).
func (s *Service) checkPost(ctx context.Context, author *store.Account, user *store.User, p PostParams) (postPlan, error) {
	var plan postPlan
	if err := checkMedia(p.MediaIDs); err != nil {
		return plan, err
	}
	if p.Poll != nil && len(p.MediaIDs) > 0 {
		return plan, errPollWithMedia
	}
	if err := s.checkText(p.Text, p.SpoilerText, len(p.MediaIDs) > 0); err != nil {
		return plan, err
	}
	vis := user.DefaultPrivacy
	if p.Visibility != "" {
		vis = p.Visibility
	}
	visibility, ok := visibilityNames[vis]
	if !ok {
		return plan, invalid("visibility", "must be public, unlisted, private or direct")
	}
	lang := p.Language
	if lang == "" {
		lang = user.DefaultLanguage
	}
	if err := checkLanguage(lang); err != nil {
		return plan, err
	}
	if len(p.IdempotencyKey) > 200 {
		return plan, invalid("Idempotency-Key", "is too long")
	}
	sensitive := user.DefaultSensitive
	if p.Sensitive != nil {
		sensitive = *p.Sensitive
	}
	plan = postPlan{visibility: visibility, language: lang, sensitive: sensitive || p.SpoilerText != ""}
	if p.InReplyToID != 0 {
		parent, err := s.store.VisibleStatus(ctx, author.ID, p.InReplyToID)
		if err != nil {
			return plan, err
		}
		if parent.ReblogOfID != 0 {
			return plan, invalid("in_reply_to_id", "is a reblog; reply to the original status")
		}
		plan.parent = parent
	}
	return plan, nil
}

// Post creates a status.
func (s *Service) Post(ctx context.Context, author *store.Account, user *store.User, p PostParams) (*store.Status, error) {
	plan, err := s.checkPost(ctx, author, user, p)
	if err != nil {
		return nil, err
	}
	visibility := plan.visibility
	st := &store.Status{ID: s.ids.Next(), AccountID: author.ID, Local: true, Text: p.Text, SpoilerText: p.SpoilerText,
		Sensitive: plan.sensitive, Visibility: visibility, Language: plan.language, ApplicationID: p.ApplicationID,
		CreatedAt: s.now().UTC()}
	st.URI = author.URI + "/statuses/" + strconv.FormatInt(st.ID, 10)
	st.URL = author.URL + "/" + strconv.FormatInt(st.ID, 10)
	if plan.parent != nil {
		st.InReplyToID, st.InReplyToAccountID = plan.parent.ID, plan.parent.AccountID
	}
	if err := s.limits.posts.Allow(ctx, "posts", accountKey(author.ID)); err != nil {
		return nil, err
	}
	r := s.render(ctx, author.ID, p.Text)
	st.Content = r.html
	n := store.NewStatus{Status: st, MentionIDs: r.mentions, Tags: r.tags, Words: r.words, IdempotencyKey: p.IdempotencyKey, MediaIDs: p.MediaIDs,
		ScheduledID: p.ScheduledID}
	if p.Poll != nil {
		var err error
		if n.Poll, err = s.newPoll(p.Poll, st.ID, author.ID, st.CreatedAt); err != nil {
			return nil, err
		}
	}
	if visibility == store.Direct {
		n.FeedAccounts = r.local
	}
	deferred, err := s.deferFanOut(ctx, author.ID, visibility)
	if err != nil {
		return nil, err
	}
	n.DeferFanOut = deferred
	n.Federate = s.publishStatus(store.Publish{Activity: "Create", Actor: author.ID, Status: st.ID})
	err = s.store.CreateStatus(ctx, n)
	var dup *store.ErrDuplicateKey
	if errors.As(err, &dup) {
		return s.store.StatusByID(ctx, dup.StatusID)
	}
	if errors.Is(err, store.ErrMediaUnavailable) {
		return nil, invalid("media_ids", "%v", err)
	}
	if err != nil {
		return nil, err
	}
	s.published()
	s.emitCreated(st, deferred)
	for _, m := range r.local {
		if err := s.notify(ctx, m, author.ID, "mention", st.ID); err != nil {
			return nil, err
		}
	}
	// Followers who asked to be notified hear of new posts and self-threads, not of replies to others (as on Mastodon).
	if visibility != store.Direct && (st.InReplyToID == 0 || st.InReplyToAccountID == author.ID) {
		followers, err := s.store.FollowersToNotify(ctx, author.ID)
		if err != nil {
			return nil, err
		}
		for _, f := range followers {
			if err := s.notify(ctx, f, author.ID, "status", st.ID); err != nil {
				return nil, err
			}
		}
	}
	return st, nil
}

// EditParams are the inputs of an edit.
type EditParams struct {
	Text        string
	SpoilerText string
	Sensitive   bool
	Language    string
	MediaIDs    []int64 // nil keeps the attachments
	// Poll is the status's poll after the edit: nil removes it, as
	// Mastodon's edit does (clients send the poll again with every edit).
	Poll *PollParams
}

// Own loads a status the account wrote — even a reblog whose original has
// since been hidden from it. Another's status is forbidden when the account
// can see it and not found when it cannot (so existence does not leak).
func (s *Service) Own(ctx context.Context, author *store.Account, id int64) (*store.Status, error) {
	st, err := s.store.StatusByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if st.AccountID == author.ID {
		return st, nil
	}
	if _, err := s.store.VisibleStatus(ctx, author.ID, id); err != nil {
		return nil, err
	}
	return nil, ErrForbidden
}

// Edit replaces a status's text, keeping the previous version in its history,
// and tells those who favourited or reblogged it and those it newly mentions.
func (s *Service) Edit(ctx context.Context, author *store.Account, id int64, p EditParams) (*store.Status, error) {
	st, err := s.Own(ctx, author, id)
	if err != nil {
		return nil, err
	}
	if st.ReblogOfID != 0 {
		return nil, ErrForbidden
	}
	if err := checkMedia(p.MediaIDs); err != nil {
		return nil, err
	}
	if p.Poll != nil && len(p.MediaIDs) > 0 {
		return nil, errPollWithMedia
	}
	if err := s.checkText(p.Text, p.SpoilerText, len(p.MediaIDs) > 0); err != nil {
		return nil, err
	}
	if p.Language == "" {
		p.Language = st.Language
	}
	if err := checkLanguage(p.Language); err != nil {
		return nil, err
	}
	before, err := s.store.MentionedAccounts(ctx, []int64{st.ID})
	if err != nil {
		return nil, err
	}
	r := s.render(ctx, st.AccountID, p.Text)
	st.Text, st.Content, st.SpoilerText, st.Language = p.Text, r.html, p.SpoilerText, p.Language
	st.Sensitive = p.Sensitive || p.SpoilerText != ""
	st.EditedAt = s.now().UTC()
	poll, err := s.pollChange(ctx, st, p.Poll, st.EditedAt)
	if err != nil {
		return nil, err
	}
	if poll != nil && poll.Poll != nil && p.MediaIDs == nil {
		// Attachments kept from before count as much as new ones.
		if m, err := s.store.MediaForStatuses(ctx, []int64{st.ID}); err != nil {
			return nil, err
		} else if len(m[st.ID]) > 0 {
			return nil, errPollWithMedia
		}
	}
	err = s.store.EditStatusPoll(ctx, st, s.ids.Next(), r.mentions, r.tags, r.words, p.MediaIDs,
		s.publishStatus(store.Publish{Activity: "Update", Actor: author.ID, Status: st.ID}), poll)
	if errors.Is(err, store.ErrMediaUnavailable) {
		return nil, invalid("media_ids", "%v", err)
	}
	if err != nil {
		return nil, err
	}
	s.published()
	s.emit(events.Event{Kind: events.StatusEdited, Status: st.ID, Account: st.AccountID})
	who, err := s.store.AccountsWhoInteracted(ctx, st.ID)
	if err != nil {
		return nil, err
	}
	for _, a := range who {
		if err := s.notify(ctx, a, author.ID, "update", st.ID); err != nil {
			return nil, err
		}
	}
	// Accounts the edit mentions for the first time are told, as on Mastodon.
	for _, m := range r.local {
		if !slices.Contains(before[st.ID], m) {
			if err := s.notify(ctx, m, author.ID, "mention", st.ID); err != nil {
				return nil, err
			}
		}
	}
	return st, nil
}

// Delete removes one's own status (and its reblogs, favourites and notifications).
func (s *Service) Delete(ctx context.Context, author *store.Account, id int64) (*store.Status, error) {
	st, err := s.Own(ctx, author, id)
	if err != nil {
		return nil, err
	}
	if err := s.deleteStatus(ctx, author, st); err != nil {
		return nil, err
	}
	return st, nil
}

// deleteStatus deletes a local status, and tells the servers it reached:
// a Delete for a post, an Undo of its Announce for a reblog.
func (s *Service) deleteStatus(ctx context.Context, author *store.Account, st *store.Status) error {
	p := store.Publish{Activity: "Delete", Actor: author.ID, Status: st.ID, URI: st.URI, Visibility: st.Visibility}
	var mentioned map[int64][]int64
	var orig *store.Status
	if st.ReblogOfID != 0 {
		p.Activity = "UndoAnnounce"
		if o, err := s.store.StatusByID(ctx, st.ReblogOfID); err == nil {
			orig = o
			p.Object, p.Target = orig.URI, orig.AccountID
		}
	} else {
		var err error
		if mentioned, err = s.store.MentionedAccounts(ctx, []int64{st.ID}); err != nil {
			return err
		}
		if p.Audience, err = s.remoteAudience(ctx, mentioned[st.ID]); err != nil {
			return err
		}
	}
	reblogs, err := s.reblogsGoing(ctx, st)
	if err != nil {
		return err
	}
	if err := s.store.DeleteStatus(ctx, st, s.publishStatus(p)); err != nil {
		return err
	}
	s.published()
	s.emitDeleted(st, mentioned[st.ID], orig)
	s.emitReblogsGone(st, reblogs)
	return nil
}

// Favourite marks a visible status and tells its author.
func (s *Service) Favourite(ctx context.Context, viewer *store.Account, id int64) (*store.Status, error) {
	st, err := s.interactable(ctx, viewer, id)
	if err != nil {
		return nil, err
	}
	var jobs []store.NewJob
	fid := s.ids.Next()
	if !st.Local {
		// Its author's server hears of it.
		jobs = append(jobs, s.publish(store.Publish{Activity: "Like", Actor: viewer.ID, Status: st.ID, Target: st.AccountID, ID: fid}))
	}
	created, err := s.store.AddMark(ctx, store.Favourite, fid, viewer.ID, st.ID, s.now().UTC(), jobs...)
	if err != nil {
		return nil, err
	}
	s.published()
	if created {
		if err := s.notify(ctx, st.AccountID, viewer.ID, "favourite", st.ID); err != nil {
			return nil, err
		}
	}
	return s.store.StatusByID(ctx, st.ID)
}

// interactable loads a visible status; a reblog stands for its original.
func (s *Service) interactable(ctx context.Context, viewer *store.Account, id int64) (*store.Status, error) {
	st, err := s.store.VisibleStatus(ctx, viewer.ID, id)
	if err != nil {
		return nil, err
	}
	if st.ReblogOfID != 0 {
		return s.store.VisibleStatus(ctx, viewer.ID, st.ReblogOfID)
	}
	return st, nil
}

// Unmark removes a favourite, bookmark or pin (absent marks are fine).
func (s *Service) Unmark(ctx context.Context, viewer *store.Account, m store.Mark, id int64) (*store.Status, error) {
	st, err := s.interactable(ctx, viewer, id)
	if err != nil {
		return nil, err
	}
	var jobs []store.NewJob
	if m == store.Pin && st.Local && st.AccountID == viewer.ID {
		jobs = append(jobs, s.publish(store.Publish{Activity: "Remove", Actor: viewer.ID, Status: st.ID}))
	}
	if m == store.Favourite && !st.Local {
		fid, err := s.store.RelationID(ctx, string(store.Favourite), viewer.ID, st.ID)
		if err == nil {
			jobs = append(jobs, s.publish(store.Publish{Activity: "UndoLike", Actor: viewer.ID, Status: st.ID, Target: st.AccountID,
				ID: fid, Object: st.URI}))
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	if err := s.store.RemoveMark(ctx, m, viewer.ID, st.ID, jobs...); err != nil {
		return nil, err
	}
	s.published()
	return s.store.StatusByID(ctx, st.ID)
}

// Bookmark marks a visible status privately.
func (s *Service) Bookmark(ctx context.Context, viewer *store.Account, id int64) (*store.Status, error) {
	st, err := s.interactable(ctx, viewer, id)
	if err != nil {
		return nil, err
	}
	if _, err := s.store.AddMark(ctx, store.Bookmark, s.ids.Next(), viewer.ID, st.ID, s.now().UTC()); err != nil {
		return nil, err
	}
	return st, nil
}

// Pin features one's own public, unlisted or private status on the profile.
func (s *Service) Pin(ctx context.Context, viewer *store.Account, id int64) (*store.Status, error) {
	st, err := s.Own(ctx, viewer, id)
	if err != nil {
		return nil, err
	}
	if st.ReblogOfID != 0 || st.Visibility == store.Direct {
		return nil, invalid("status", "reblogs and direct messages cannot be pinned")
	}
	n, err := s.store.CountPins(ctx, viewer.ID)
	if err != nil {
		return nil, err
	}
	if n >= MaxPins {
		return nil, invalid("status", "at most %d statuses can be pinned", MaxPins)
	}
	// Servers of followers show pins too (Add to the featured collection).
	add := s.publish(store.Publish{Activity: "Add", Actor: viewer.ID, Status: st.ID})
	if _, err := s.store.AddMark(ctx, store.Pin, s.ids.Next(), viewer.ID, st.ID, s.now().UTC(), add); err != nil {
		return nil, err
	}
	s.published()
	return st, nil
}

// Reblog boosts a visible public or unlisted status (or one's own
// followers-only status, to one's followers); it returns the reblog.
func (s *Service) Reblog(ctx context.Context, viewer *store.Account, id int64, visibility string) (*store.Status, error) {
	orig, err := s.interactable(ctx, viewer, id)
	if err != nil {
		return nil, err
	}
	ownPrivate := orig.Visibility == store.Private && orig.AccountID == viewer.ID
	if orig.Visibility != store.Public && orig.Visibility != store.Unlisted && !ownPrivate {
		return nil, ErrForbidden
	}
	if existing, err := s.store.ReblogBy(ctx, viewer.ID, orig.ID); err == nil {
		return existing, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if err := s.limits.reblogs.Allow(ctx, "reblogs", accountKey(viewer.ID)); err != nil {
		return nil, err
	}
	vis := store.Public
	if visibility != "" {
		v, ok := visibilityNames[visibility]
		if !ok || v == store.Direct {
			return nil, invalid("visibility", "must be public, unlisted or private")
		}
		vis = v
	}
	if ownPrivate {
		vis = store.Private // one's own followers-only post stays with one's followers
	}
	rb := &store.Status{ID: s.ids.Next(), AccountID: viewer.ID, Local: true, ReblogOfID: orig.ID, Visibility: vis, CreatedAt: s.now().UTC()}
	rb.URI = viewer.URI + "/statuses/" + strconv.FormatInt(rb.ID, 10) + "/activity"
	rb.URL = rb.URI
	deferred, err := s.deferFanOut(ctx, viewer.ID, vis)
	if err != nil {
		return nil, err
	}
	n := store.NewStatus{Status: rb, DeferFanOut: deferred}
	announce := s.publish(store.Publish{Activity: "Announce", Actor: viewer.ID, Status: rb.ID, Target: orig.AccountID})
	if orig.Local {
		n.Federate = &announce // to the reblogger's remote followers, if any
	} else {
		n.Jobs = []store.NewJob{announce} // and always to the original's author
	}
	if err := s.store.CreateStatus(ctx, n); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return s.store.ReblogBy(ctx, viewer.ID, orig.ID)
		}
		return nil, err
	}
	s.published()
	s.emitCreated(rb, deferred)
	if err := s.notify(ctx, orig.AccountID, viewer.ID, "reblog", orig.ID); err != nil {
		return nil, err
	}
	return rb, nil
}

// Unreblog removes the viewer's reblog of a status; it returns the original.
func (s *Service) Unreblog(ctx context.Context, viewer *store.Account, id int64) (*store.Status, error) {
	orig, err := s.interactable(ctx, viewer, id)
	if errors.Is(err, store.ErrNotFound) {
		// The original may have become hidden from the viewer (its author
		// blocked them): the viewer's own reblog is still theirs to take
		// back, though the original stays not found.
		if rb, rerr := s.store.ReblogBy(ctx, viewer.ID, id); rerr == nil {
			if derr := s.deleteStatus(ctx, viewer, rb); derr != nil {
				return nil, derr
			}
		}
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	rb, err := s.store.ReblogBy(ctx, viewer.ID, orig.ID)
	if err == nil {
		if err := s.deleteStatus(ctx, viewer, rb); err != nil {
			return nil, err
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return s.store.StatusByID(ctx, orig.ID)
}

// Status loads a status the viewer may see.
func (s *Service) Status(ctx context.Context, viewer, id int64) (*store.Status, error) {
	return s.store.VisibleStatus(ctx, viewer, id)
}

// MaxStatusesAtOnce is how many statuses one multiple fetch may name; the
// rest are ignored.
const MaxStatusesAtOnce = 40

// Statuses returns, in the order asked, the statuses of ids the viewer may
// see (GET /api/v1/statuses?id[]=): the first MaxStatusesAtOnce ids, each
// once.
func (s *Service) Statuses(ctx context.Context, viewer int64, ids []int64) ([]int64, error) {
	if len(ids) > MaxStatusesAtOnce {
		ids = ids[:MaxStatusesAtOnce]
	}
	visible, err := s.store.VisibleStatusIDs(ctx, viewer, ids)
	if err != nil {
		return nil, err
	}
	seen := make(map[int64]bool, len(visible))
	for _, id := range visible {
		seen[id] = true
	}
	out := make([]int64, 0, len(visible))
	for _, id := range ids {
		if seen[id] {
			out = append(out, id)
			seen[id] = false
		}
	}
	return out, nil
}

// Thread limits of a status's context.
const (
	maxAncestors   = 40
	maxDescendants = 60
)

// Context returns the visible thread around a status.
func (s *Service) Context(ctx context.Context, viewer, id int64) (ancestors, descendants []int64, err error) {
	st, err := s.store.VisibleStatus(ctx, viewer, id)
	if err != nil {
		return nil, nil, err
	}
	if ancestors, err = s.store.Ancestors(ctx, viewer, st.ID, maxAncestors); err != nil {
		return nil, nil, err
	}
	descendants, err = s.store.Descendants(ctx, viewer, st.ID, maxDescendants)
	return ancestors, descendants, err
}
