package inbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/rampart-social/rampart/internal/activitypub"
	"github.com/rampart-social/rampart/internal/jobs"
	"github.com/rampart-social/rampart/internal/remote"
	"github.com/rampart-social/rampart/internal/social"
	"github.com/rampart-social/rampart/internal/store"
)

// Remote gives what other servers publish, fetched through the guard and
// held to the rules (remote.Accounts).
type Remote interface {
	Actor(ctx context.Context, uri string) (*store.Account, error)
	RefreshActor(ctx context.Context, uri string) (*store.Account, error)
	MoveTarget(ctx context.Context, old, target string) (*store.Account, error)
	DeliveredNote(ctx context.Context, raw []byte, author *store.Account, origin *url.URL) (int64, bool, []int64, error)
	DeliveredEdit(ctx context.Context, raw []byte, author *store.Account, origin *url.URL) (*store.Status, bool, error)
	FetchNote(ctx context.Context, uri string) (*store.Status, error)
}

// noteTypes are the object types kept as statuses (read-only for all but
// Note).
var noteTypes = map[string]bool{"Note": true, "Article": true, "Page": true, "Question": true, "Event": true}

// Processor runs inbox jobs.
type Processor struct {
	store  *store.Store
	social *social.Service
	remote Remote
	log    *slog.Logger
}

// New returns the processor.
func New(st *store.Store, so *social.Service, rem Remote, log *slog.Logger) *Processor {
	return &Processor{store: st, social: so, remote: rem, log: log}
}

// Job is the job store.KindInbox.
func (p *Processor) Job(ctx context.Context, payload []byte) error {
	var r store.Received
	if err := json.Unmarshal(payload, &r); err != nil || r.Signer == "" {
		return jobs.Permanent(fmt.Errorf("inbox payload: %v", err))
	}
	a, err := Parse(r.Activity, r.Signer)
	if err != nil {
		return jobs.Permanent(err)
	}
	if a.Ignored {
		return nil
	}
	if a.Type == "Delete" && a.ObjectID == a.Actor {
		// An actor's own deletion: its key may already be gone, and its
		// document with it; nothing is fetched.
		acc, err := p.store.AccountByURI(ctx, a.Actor)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return p.social.RemoteAccountDeleted(ctx, acc)
	}
	actor, err := p.remote.Actor(ctx, a.Actor)
	if err != nil {
		return p.fail(a, "its actor", err)
	}
	if actor.Domain == "" {
		return jobs.Permanent(errors.New("an activity of a local actor came from outside"))
	}
	if !actor.SuspendedAt.IsZero() {
		// The staff suspended the actor: nothing it does reaches anyone
		// here until it is unsuspended (its own deletion, above, still
		// goes through).
		p.log.Info("activity dropped: its actor is suspended", "id", a.ID, "type", a.Type, "actor", a.Actor)
		return nil
	}
	// An activity (or a Create's object) that its Undo (or Delete)
	// overtook is dropped: it was taken back before it was processed.
	for _, id := range []string{a.ID, a.ObjectID} {
		if id == "" || (id == a.ObjectID && a.Type != "Create") {
			continue
		}
		if gone, err := p.store.Gone(ctx, id); err != nil {
			return err
		} else if gone {
			p.log.Info("activity dropped: its Undo or Delete came first", "id", a.ID, "type", a.Type)
			return nil
		}
	}
	err = p.process(ctx, a, actor, r.Activity)
	if errors.Is(err, social.ErrNotFound) || errors.Is(err, social.ErrForbidden) {
		p.log.Info("activity has no effect", "id", a.ID, "type", a.Type, "err", err)
		return nil
	}
	return err
}

// vote counts a Create that is a vote in a local poll, as Mastodon sends
// one: a Note of the actor's with a name (the option's title) in reply to
// the poll's status. It is never stored as a status. voted is false for
// any other Note (a reply to a status without a poll is a reply).
func (p *Processor) vote(ctx context.Context, a *Activity, actor *store.Account) (voted bool, err error) {
	if a.Embedded.Type != "Note" {
		return false, nil
	}
	var doc struct {
		Name         json.RawMessage `json:"name"`
		InReplyTo    json.RawMessage `json:"inReplyTo"`
		AttributedTo json.RawMessage `json:"attributedTo"`
	}
	if json.Unmarshal(a.Object, &doc) != nil {
		return false, nil
	}
	var name string
	_ = json.Unmarshal(doc.Name, &name)
	parent := activitypub.IDs(doc.InReplyTo)
	if name == "" || len(parent) != 1 {
		return false, nil
	}
	if by := activitypub.IDs(doc.AttributedTo); len(by) != 1 || by[0] != actor.URI {
		return false, nil // held to the Note's rules, which refuse it
	}
	st, err := p.store.StatusByURI(ctx, parent[0])
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !st.Local {
		return false, nil
	}
	err = p.social.RemoteVote(ctx, actor, st, name)
	if errors.Is(err, social.ErrNotFound) {
		return false, nil // no poll: a reply
	}
	return err == nil, err
}

// fail is a failure to fetch what the activity needs: a refusal by the
// rules buries the job; anything else (the network) retries it.
func (p *Processor) fail(a *Activity, what string, err error) error {
	if err == nil {
		return nil
	}
	var oe *activitypub.OriginError
	var ne *remote.NoteError
	if errors.As(err, &oe) || errors.As(err, &ne) || errors.Is(err, remote.ErrNotFound) || errors.Is(err, remote.ErrBlocked) {
		p.log.Info("activity refused", "id", a.ID, "type", a.Type, "what", what, "err", err)
		return nil
	}
	return fmt.Errorf("%s of %s: %w", what, a.ID, err)
}

// localAccount is the local account an id names.
func (p *Processor) localAccount(ctx context.Context, uri string) (*store.Account, error) {
	acc, err := p.store.AccountByURI(ctx, uri)
	if err != nil {
		return nil, err
	}
	if acc.Domain != "" {
		return nil, social.ErrNotFound
	}
	return p.social.AccountFor(ctx, acc.ID)
}

func (p *Processor) process(ctx context.Context, a *Activity, actor *store.Account, body []byte) error {
	switch a.Type {
	case "Follow":
		target, err := p.localAccount(ctx, a.ObjectID)
		if err != nil {
			return err
		}
		return p.social.RemoteFollow(ctx, actor, target, a.ID)
	case "Accept", "Reject":
		follower, err := p.followAnswered(ctx, a, actor)
		if err != nil {
			return err
		}
		if a.Type == "Accept" {
			return p.social.FollowAccepted(ctx, actor, follower)
		}
		return p.social.FollowRejected(ctx, actor, follower)
	case "Create":
		if !noteTypes[a.Embedded.Type] {
			return nil
		}
		if voted, err := p.vote(ctx, a, actor); voted || err != nil {
			return err
		}
		origin, _ := url.Parse(a.Actor)
		id, created, mentioned, err := p.remote.DeliveredNote(ctx, a.Object, actor, origin)
		if err != nil {
			return p.fail(a, "its object", err)
		}
		if !created {
			return nil
		}
		st, err := p.store.StatusByID(ctx, id)
		if err != nil {
			return err
		}
		return p.social.RemoteStatusArrived(ctx, st, mentioned)
	case "Delete":
		if err := p.store.MarkGone(ctx, a.ObjectID, time.Now()); err != nil {
			return err
		}
		return p.social.RemoteDeleteStatus(ctx, actor, a.ObjectID)
	case "Update":
		if a.ObjectID == a.Actor {
			_, err := p.remote.RefreshActor(ctx, a.Actor)
			return p.fail(a, "the actor", err)
		}
		if a.Embedded == nil || !noteTypes[a.Embedded.Type] {
			return nil
		}
		origin, _ := url.Parse(a.Actor)
		st, changed, err := p.remote.DeliveredEdit(ctx, a.Object, actor, origin)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return p.fail(a, "its object", err)
		}
		if !changed {
			return nil // the same text again: nobody is told twice
		}
		return p.social.RemoteStatusEdited(ctx, st)
	case "Like", "Announce":
		st, err := p.store.StatusByURI(ctx, a.ObjectID)
		if errors.Is(err, store.ErrNotFound) && a.Type == "Announce" {
			// What an Announce embeds is not believed: the original comes
			// from its own origin.
			st, err = p.remote.FetchNote(ctx, a.ObjectID)
			if err != nil {
				return p.fail(a, "the announced object", err)
			}
		}
		if err != nil {
			return err
		}
		if a.Type == "Like" {
			return p.social.RemoteFavourite(ctx, actor, st.ID, a.ID)
		}
		at, err := time.Parse(time.RFC3339, a.Published)
		if err != nil {
			at = time.Now()
		}
		return p.social.RemoteReblog(ctx, actor, st.ID, a.ID, at)
	case "Block":
		target, err := p.localAccount(ctx, a.ObjectID)
		if err != nil {
			return err
		}
		return p.social.RemoteBlock(ctx, actor, target)
	case "Undo":
		return p.undo(ctx, a, actor)
	case "Flag":
		return p.flag(ctx, a, actor)
	case "Add", "Remove":
		// The actor's featured posts: a pin of its own post (fetched from
		// its origin when not known), or its removal. Adds to other
		// collections are not kept.
		if !strings.HasSuffix(a.Target, "/featured") && !strings.Contains(a.Target, "/collections/featured") {
			return nil
		}
		st, err := p.store.StatusByURI(ctx, a.ObjectID)
		if errors.Is(err, store.ErrNotFound) && a.Type == "Add" {
			if st, err = p.remote.FetchNote(ctx, a.ObjectID); err != nil {
				return p.fail(a, "the featured post", err)
			}
		}
		if err != nil {
			return err
		}
		return p.social.RemoteFeature(ctx, actor, st, a.Type == "Add")
	case "Move":
		moved, err := p.remote.MoveTarget(ctx, a.Actor, a.Target)
		if err != nil {
			return p.fail(a, "the move's target", err)
		}
		return p.social.RemoteMove(ctx, actor, moved)
	}
	return nil
}

// flag is a report from another server: of the local account it names (or
// the author of the first local status it names) and that account's
// statuses among those it names. What names nothing local is dropped.
func (p *Processor) flag(ctx context.Context, a *Activity, reporter *store.Account) error {
	var target *store.Account
	var statuses []*store.Status
	for _, uri := range a.Objects {
		if acc, err := p.store.AccountByURI(ctx, uri); err == nil {
			if acc.Domain == "" && target == nil {
				target = acc
			}
			continue
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if st, err := p.store.StatusByURI(ctx, uri); err == nil && st.Local {
			statuses = append(statuses, st)
		} else if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	if target == nil && len(statuses) > 0 {
		acc, err := p.store.AccountByID(ctx, statuses[0].AccountID)
		if err != nil {
			return err
		}
		target = acc
	}
	if target == nil {
		return social.ErrNotFound
	}
	var ids []int64
	for _, st := range statuses {
		if st.AccountID == target.ID {
			ids = append(ids, st.ID)
		}
	}
	return p.social.RemoteReport(ctx, reporter, target, ids, a.Content, a.ID)
}

// followAnswered is the local follower an Accept or Reject answers: by the
// Follow's id, which names it (followURI), or by the embedded Follow's
// actor.
func (p *Processor) followAnswered(ctx context.Context, a *Activity, target *store.Account) (*store.Account, error) {
	who := ""
	if a.Embedded != nil {
		who = a.Embedded.Actor
	}
	if who == "" {
		// Rampart's Follow ids are the follower's id and a fragment.
		who, _, _ = strings.Cut(a.ObjectID, "#")
	}
	return p.localAccount(ctx, who)
}

// undo processes an Undo, of an activity given by id or embedded. What it
// undoes is remembered as gone, in case it has not arrived yet.
func (p *Processor) undo(ctx context.Context, a *Activity, actor *store.Account) error {
	if err := p.store.MarkGone(ctx, a.ObjectID, time.Now()); err != nil {
		return err
	}
	typ, object := "", ""
	if a.Embedded != nil {
		typ, object = a.Embedded.Type, a.Embedded.Object
	}
	switch typ {
	case "Follow":
		target, err := p.localAccount(ctx, object)
		if err != nil {
			return err
		}
		return p.social.RemoteUnfollow(ctx, actor, target)
	case "Block":
		target, err := p.localAccount(ctx, object)
		if err != nil {
			return err
		}
		return p.social.RemoteUnblock(ctx, actor, target)
	case "Like":
		st, err := p.store.StatusByURI(ctx, object)
		if err != nil {
			return err
		}
		return p.social.RemoteUnfavourite(ctx, actor, st.ID)
	case "Announce", "":
		// A reblog is stored under its Announce's id: an Undo naming it
		// removes it (its author's only).
		return p.social.RemoteDeleteStatus(ctx, actor, a.ObjectID)
	}
	return nil
}
