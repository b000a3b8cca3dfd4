// Package outbox turns local actions into the activities a Mastodon server
// would send, and decides where they go. Each action commits a publish job
// (store.KindPublish) with its change; this package runs it: it renders the
// activity when the job runs, works out the inboxes from the addressing
// (followers' shared inboxes once per server, the mentioned and the
// concerned people's own inboxes; a followers-only or direct post never to
// a server without a reader of it), and enqueues one delivery per inbox
// (delivery sends them).
package outbox

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/rampart-social/rampart/internal/activitypub"
	"github.com/rampart-social/rampart/internal/jobs"
	"github.com/rampart-social/rampart/internal/social"
	"github.com/rampart-social/rampart/internal/store"
)

// Notes gives local statuses as Notes (social.Service).
type Notes interface {
	OwnNote(ctx context.Context, id int64) (*social.Note, error)
}

// Keys give the keys local actors publish (accounts.Service).
type Keys interface {
	PublicKeyPEM(ctx context.Context, accountID int64) (string, error)
	Ed25519PublicKey(ctx context.Context, accountID int64) (ed25519.PublicKey, error)
}

// Outbox runs publish jobs.
type Outbox struct {
	store  *store.Store
	notes  Notes
	keys   Keys
	render Renderer
	log    *slog.Logger
	wake   func()
}

// New returns the outbox; wake tells the job runner deliveries were
// enqueued.
func New(st *store.Store, notes Notes, keys Keys, render Renderer, log *slog.Logger, wake func()) *Outbox {
	return &Outbox{store: st, notes: notes, keys: keys, render: render, log: log, wake: wake}
}

// activityContext is every sent activity's JSON-LD context.
const activityContext = "https://www.w3.org/ns/activitystreams"

// activity is an activity as sent: its object is an id or a document.
type activity struct {
	Context   any      `json:"@context,omitempty"`
	ID        string   `json:"id"`
	Type      string   `json:"type"`
	Actor     string   `json:"actor"`
	Published string   `json:"published,omitempty"`
	To        []string `json:"to,omitempty"`
	Cc        []string `json:"cc,omitempty"`
	Object    any      `json:"object"`
	Target    string   `json:"target,omitempty"`
}

// tombstone is a deleted object.
type tombstone struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

// Job is the job store.KindPublish.
func (o *Outbox) Job(ctx context.Context, payload []byte) error {
	var p store.Publish
	if err := json.Unmarshal(payload, &p); err != nil || p.Actor == 0 || p.Activity == "" {
		return jobs.Permanent(fmt.Errorf("publish payload %q", payload))
	}
	actor, err := o.store.AccountByID(ctx, p.Actor)
	if errors.Is(err, store.ErrNotFound) {
		return nil // the account is gone, and its Delete says so
	}
	if err != nil {
		return err
	}
	if actor.Domain != "" {
		return jobs.Permanent(fmt.Errorf("publish as remote account %d", p.Actor))
	}
	act, inboxes, err := o.build(ctx, p, actor)
	if errors.Is(err, store.ErrNotFound) {
		// What it was about is gone (deleted before the job ran): its own
		// Delete or Undo tells peers.
		return nil
	}
	if err != nil {
		return err
	}
	if len(inboxes) == 0 {
		return nil
	}
	body, err := json.Marshal(act)
	if err != nil {
		return jobs.Permanent(err)
	}
	n, err := o.store.EnqueueDeliveries(ctx, actor.ID, body, inboxes)
	if err != nil {
		return err
	}
	if n > 0 && o.wake != nil {
		o.wake()
	}
	return nil
}

// build renders p's activity and lists its inboxes.
func (o *Outbox) build(ctx context.Context, p store.Publish, actor *store.Account) (*activity, []string, error) {
	at := time.UnixMilli(p.At).UTC()
	tag := strconv.FormatInt(p.At, 10)
	a := &activity{Context: activityContext, Type: p.Activity, Actor: actor.URI}
	switch p.Activity {
	case "Create", "Update":
		n, err := o.notes.OwnNote(ctx, p.Status)
		if err != nil {
			return nil, nil, err
		}
		note := o.render.Note(n)
		note.Context = nil
		a.Context, a.To, a.Cc, a.Object = activitypub.NoteContext(), note.To, note.Cc, note
		if note.Type == "Question" {
			a.Context = activitypub.QuestionContext()
		}
		if p.Activity == "Create" {
			a.ID, a.Published = note.ID+"/activity", note.Published
		} else {
			a.ID, a.Published = note.ID+"#updates/"+tag, at.Format(time.RFC3339)
		}
		var mentioned []int64
		for _, m := range n.Mentions {
			mentioned = append(mentioned, m.ID)
		}
		inboxes, err := o.audience(ctx, actor.ID, n.Status.Visibility, mentioned)
		return a, inboxes, err
	case "Delete":
		a.ID, a.Object = p.URI+"#delete", tombstone{ID: p.URI, Type: "Tombstone"}
		a.To = []string{activitypub.Public}
		inboxes, err := o.audience(ctx, actor.ID, p.Visibility, p.Audience)
		return a, inboxes, err
	case "Announce", "UndoAnnounce":
		var announce *activity
		var visibility store.Visibility
		if p.Activity == "Announce" {
			rb, err := o.store.StatusByID(ctx, p.Status)
			if err != nil {
				return nil, nil, err
			}
			orig, err := o.store.StatusByID(ctx, rb.ReblogOfID)
			if err != nil {
				return nil, nil, err
			}
			visibility = rb.Visibility
			announce = &activity{ID: rb.URI, Type: "Announce", Actor: actor.URI, Published: rb.CreatedAt.UTC().Format(time.RFC3339), Object: orig.URI}
		} else {
			announce = &activity{ID: p.URI, Type: "Announce", Actor: actor.URI, Object: p.Object}
		}
		announce.To, announce.Cc = activitypub.Addressing(social.VisibilityName(visibility), actor.URI+"/followers", nil)
		if p.Activity == "Announce" {
			announce.Context = activityContext
			a = announce
		} else {
			a.Type, a.ID, a.Object, a.To = "Undo", p.URI+"#undo", announce, announce.To
		}
		inboxes, err := o.audience(ctx, actor.ID, visibility, []int64{p.Target})
		return a, inboxes, err
	case "Add", "Remove":
		st, err := o.store.StatusByID(ctx, p.Status)
		if err != nil {
			return nil, nil, err
		}
		a.Object, a.Target = st.URI, actor.URI+"/collections/featured"
		a.ID = actor.URI + "#" + strings.ToLower(p.Activity) + "s/" + strconv.FormatInt(st.ID, 10) + "/" + tag
		inboxes, err := o.store.FollowerInboxes(ctx, actor.ID)
		return a, inboxes, err
	case "DeleteActor":
		a.Type, a.ID, a.Object, a.To = "Delete", actor.URI+"#delete", actor.URI, []string{activitypub.Public}
		return a, p.Inboxes, nil
	case "UpdateActor":
		pem, err := o.keys.PublicKeyPEM(ctx, actor.ID)
		if err != nil {
			return nil, nil, err
		}
		ed, err := o.keys.Ed25519PublicKey(ctx, actor.ID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, nil, err
		}
		doc := o.render.Actor(actor, pem, ed)
		a.Context, a.Type, a.ID, a.Object = doc.Context, "Update", actor.URI+"#updates/"+tag, doc
		a.To = []string{activitypub.Public}
		inboxes, err := o.store.FollowerInboxes(ctx, actor.ID)
		return a, inboxes, err
	case "Vote":
		return o.vote(ctx, p, actor)
	case "Like", "UndoLike":
		like := &activity{ID: actor.URI + "#likes/" + strconv.FormatInt(p.ID, 10), Type: "Like", Actor: actor.URI, Object: p.Object}
		if p.Activity == "Like" {
			st, err := o.store.StatusByID(ctx, p.Status)
			if err != nil {
				return nil, nil, err
			}
			like.Object, like.Context = st.URI, activityContext
			a = like
		} else {
			a.Type, a.ID, a.Object = "Undo", like.ID+"/undo", like
		}
		inboxes, err := o.store.AccountInboxes(ctx, []int64{p.Target})
		return a, inboxes, err
	}
	target, err := o.store.AccountByID(ctx, p.Target)
	if err != nil {
		return nil, nil, err
	}
	inboxes, err := o.store.AccountInboxes(ctx, []int64{target.ID})
	if err != nil {
		return nil, nil, err
	}
	switch p.Activity {
	case "Follow":
		a.ID, a.Object = p.URI, target.URI
	case "UndoFollow":
		a.Type, a.ID = "Undo", p.URI+"/undo"
		a.Object = &activity{ID: p.URI, Type: "Follow", Actor: actor.URI, Object: target.URI}
	case "Accept", "Reject":
		a.ID = actor.URI + "#" + map[string]string{"Accept": "accepts", "Reject": "rejects"}[p.Activity] + "/follows/" + tag
		a.Object = &activity{ID: p.URI, Type: "Follow", Actor: target.URI, Object: actor.URI}
	case "Block":
		a.ID, a.Object = actor.URI+"#blocks/"+strconv.FormatInt(p.ID, 10), target.URI
	case "UndoBlock":
		block := &activity{ID: actor.URI + "#blocks/" + strconv.FormatInt(p.ID, 10), Type: "Block", Actor: actor.URI, Object: target.URI}
		a.Type, a.ID, a.Object = "Undo", block.ID+"/undo", block
	default:
		return nil, nil, jobs.Permanent(fmt.Errorf("publish: unknown activity %q", p.Activity))
	}
	return a, inboxes, nil
}

// audience is where a status of author's goes: its remote followers'
// inboxes (a server's shared inbox once) unless it is direct, and the
// remote accounts among people's own inboxes (the mentioned, the author of
// what is reblogged). A followers-only post goes to a server only when one
// of its people follows the author or is mentioned; a direct one only to
// the mentioned.
func (o *Outbox) audience(ctx context.Context, author int64, v store.Visibility, people []int64) ([]string, error) {
	var inboxes []string
	if v != store.Direct {
		followers, err := o.store.FollowerInboxes(ctx, author)
		if err != nil {
			return nil, err
		}
		inboxes = append(inboxes, followers...)
	}
	own, err := o.store.AccountInboxes(ctx, people)
	if err != nil {
		return nil, err
	}
	// A server that gets the post at its shared inbox finds the people it
	// addresses there: it is sent once per server.
	served := map[string]bool{}
	for _, in := range inboxes {
		served[store.InboxHost(in)] = true
	}
	for _, in := range own {
		if !served[store.InboxHost(in)] {
			inboxes = append(inboxes, in)
		}
	}
	return inboxes, nil
}

// voteNote is a vote in a remote poll as Mastodon sends it: a Note named
// after the option, in reply to the Question, to its author alone.
type voteNote struct {
	ID           string   `json:"id"`
	Type         string   `json:"type"`
	Name         string   `json:"name"`
	AttributedTo string   `json:"attributedTo"`
	InReplyTo    string   `json:"inReplyTo"`
	To           []string `json:"to"`
}

// vote renders a local account's choice (p.Choice) in the poll (p.ID) of
// a remote status (p.Status) by p.Target, and sends it to that author's
// inbox only.
func (o *Outbox) vote(ctx context.Context, p store.Publish, actor *store.Account) (*activity, []string, error) {
	st, err := o.store.StatusByID(ctx, p.Status)
	if err != nil {
		return nil, nil, err
	}
	author, err := o.store.AccountByID(ctx, st.AccountID)
	if err != nil {
		return nil, nil, err
	}
	if st.Local || author.Domain == "" || author.ID != p.Target {
		return nil, nil, jobs.Permanent(fmt.Errorf("publish: vote in status %d, not a remote poll of %d", p.Status, p.Target))
	}
	polls, err := o.store.PollsForStatuses(ctx, 0, []int64{st.ID})
	if err != nil {
		return nil, nil, err
	}
	poll := polls[st.ID]
	if poll == nil || poll.ID != p.ID || p.Choice < 0 || p.Choice >= len(poll.Options) {
		return nil, nil, store.ErrNotFound // the poll was replaced by an Update: the vote went with it
	}
	id := actor.URI + "#votes/" + strconv.FormatInt(p.ID, 10) + "/" + strconv.Itoa(p.Choice)
	note := &voteNote{ID: id, Type: "Note", Name: poll.Options[p.Choice].Title, AttributedTo: actor.URI,
		InReplyTo: st.URI, To: []string{author.URI}}
	a := &activity{Context: activityContext, ID: id + "/activity", Type: "Create", Actor: actor.URI, To: note.To, Object: note}
	inboxes, err := o.store.AccountInboxes(ctx, []int64{author.ID})
	return a, inboxes, err
}
