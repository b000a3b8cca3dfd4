// Package inbox processes the activities other servers deliver. The
// federation handler verifies a delivery (signature, digest, actor is the
// signer, blocks, replays), then Parse holds it to the origin rules that
// need no network (FEP-fe34), and it is queued, once per activity id; the
// job (store.KindInbox) does what it says through social's rules, fetching
// from their origin what the activity names but may not vouch for.
package inbox

import (
	"encoding/json"
	"fmt"
	"net/url"

	"github.com/rampart-social/rampart/internal/activitypub"
)

// maxIDLength bounds every id read from an activity.
const maxIDLength = 2048

// handled are the activity types processed; others (EmojiReact, Misskey's
// reactions and quotes, extensions) are accepted and ignored.
var handled = map[string]bool{
	"Follow": true, "Accept": true, "Reject": true, "Undo": true, "Create": true, "Update": true, "Delete": true,
	"Like": true, "Announce": true, "Block": true, "Flag": true, "Move": true, "Add": true, "Remove": true,
}

// maxFlagObjects bounds what one Flag names (an account and its statuses).
const maxFlagObjects = 100

// Activity is a delivered activity, as far as the rules need it.
type Activity struct {
	ID    string
	Type  string
	Actor string
	// Object is the object as given: an id, or an embedded document.
	Object json.RawMessage
	// ObjectID is the object's id either way.
	ObjectID string
	// Embedded is the object's own fields when it was embedded.
	Embedded *Embedded
	// Published is the activity's time, as given.
	Published string
	// Objects are a Flag's objects (the account and statuses reported),
	// Content its comment.
	Objects []string
	Content string
	// Target is a Move's new account, or the collection of an Add or a
	// Remove.
	Target string
	// Ignored: a type Rampart does not process (answered 202 all the same).
	Ignored bool
}

// Embedded is what the rules read of an embedded object.
type Embedded struct {
	Type         string
	Actor        string   // of an embedded activity (the Follow an Accept answers)
	Object       string   // its object's id
	AttributedTo []string // of a Note
}

// RuleError is an activity that breaks the rules: answered 400, nothing
// kept.
type RuleError struct{ Reason string }

func (e *RuleError) Error() string { return "activity refused: " + e.Reason }

func refuse(format string, args ...any) error {
	return &RuleError{Reason: fmt.Sprintf(format, args...)}
}

// raw is an activity or embedded object as decoded.
type raw struct {
	ID           json.RawMessage `json:"id"`
	Type         json.RawMessage `json:"type"`
	Actor        json.RawMessage `json:"actor"`
	Object       json.RawMessage `json:"object"`
	AttributedTo json.RawMessage `json:"attributedTo"`
	Published    string          `json:"published"`
	Content      json.RawMessage `json:"content"`
	Target       json.RawMessage `json:"target"`
}

// oneID reads a field that must be one id.
func oneID(field json.RawMessage) string {
	ids := activitypub.IDs(field)
	if len(ids) != 1 || len(ids[0]) > maxIDLength {
		return ""
	}
	return ids[0]
}

// firstType reads an object's type: the first of a list.
func firstType(field json.RawMessage) string {
	ids := activitypub.IDs(field)
	if len(ids) == 0 {
		return ""
	}
	return ids[0]
}

// sameOrigin reports whether two ids share an origin.
func sameOrigin(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && ua.IsAbs() && ub.IsAbs() && activitypub.SameOrigin(ua, ub)
}

// Parse reads a delivered activity whose actor is signer (the gate checked
// that) and holds it to the rules that need no network:
//   - it has an id, on its actor's origin (a server speaks only for its
//     own activities);
//   - Create: the object is embedded, on the actor's origin, and
//     attributed to the actor alone;
//   - Update and Delete: the object is on the actor's origin (an Update of
//     a Note attributed to the actor);
//   - Undo: what is undone is the actor's own activity, on its origin;
//   - Accept and Reject: the Follow answered, when embedded, was of the
//     actor;
//   - Follow, Block, Like, Announce: the object is one id (what an
//     Announce embeds is never believed: the original is fetched).
func Parse(body []byte, signer string) (*Activity, error) {
	if err := activitypub.CheckDepth(body); err != nil {
		return nil, refuse("%v", err)
	}
	var r raw
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, refuse("not a JSON object")
	}
	a := &Activity{ID: oneID(r.ID), Type: firstType(r.Type), Actor: oneID(r.Actor), Object: r.Object, Published: r.Published}
	if a.Type == "" {
		return nil, refuse("no type")
	}
	if a.Actor != signer {
		return nil, refuse("its actor is not its signer")
	}
	if !handled[a.Type] {
		a.Ignored = true
		return a, nil
	}
	if a.ID == "" || !sameOrigin(a.ID, a.Actor) {
		return nil, refuse("its id %q is not on its actor's origin", a.ID)
	}
	if a.Type == "Flag" {
		// A Flag names the account and statuses it reports: a list.
		for _, o := range activitypub.IDs(r.Object) {
			if len(o) <= maxIDLength && len(a.Objects) < maxFlagObjects {
				a.Objects = append(a.Objects, o)
			}
		}
		if len(a.Objects) == 0 {
			return nil, refuse("a Flag of nothing")
		}
		var comment string
		_ = json.Unmarshal(r.Content, &comment) // not a string: no comment
		a.Content = comment
		return a, nil
	}
	a.ObjectID = oneID(r.Object)
	if a.ObjectID == "" {
		return nil, refuse("it has not one object")
	}
	var obj raw
	if len(r.Object) > 0 && r.Object[0] == '{' {
		if err := json.Unmarshal(r.Object, &obj); err != nil {
			return nil, refuse("its object does not decode")
		}
		a.Embedded = &Embedded{Type: firstType(obj.Type), Actor: oneID(obj.Actor), Object: oneID(obj.Object),
			AttributedTo: activitypub.IDs(obj.AttributedTo)}
	}
	switch a.Type {
	case "Create":
		if a.Embedded == nil {
			return nil, refuse("a Create must embed its object")
		}
		if !sameOrigin(a.ObjectID, a.Actor) {
			return nil, refuse("a Create of an object on another origin")
		}
		if at := a.Embedded.AttributedTo; len(at) != 1 || at[0] != a.Actor {
			return nil, refuse("a Create of an object not attributed to its actor")
		}
	case "Update", "Delete":
		if !sameOrigin(a.ObjectID, a.Actor) {
			return nil, refuse("an %s of an object on another origin", a.Type)
		}
		if a.Embedded != nil && len(a.Embedded.AttributedTo) > 0 {
			if at := a.Embedded.AttributedTo; len(at) != 1 || at[0] != a.Actor {
				return nil, refuse("an %s of an object not attributed to its actor", a.Type)
			}
		}
	case "Undo":
		if !sameOrigin(a.ObjectID, a.Actor) {
			return nil, refuse("an Undo of an activity on another origin")
		}
		if a.Embedded != nil && a.Embedded.Actor != "" && a.Embedded.Actor != a.Actor {
			return nil, refuse("an Undo of another actor's activity")
		}
	case "Accept", "Reject":
		if a.Embedded != nil && a.Embedded.Object != "" && a.Embedded.Object != a.Actor {
			return nil, refuse("an %s of a Follow of someone else", a.Type)
		}
	case "Add", "Remove":
		// Pinning and unpinning one's own post: the collection and the
		// post are the actor's, on its origin.
		if a.Target = oneID(r.Target); a.Target == "" || !sameOrigin(a.Target, a.Actor) {
			return nil, refuse("an %s to a collection not on its actor's origin", a.Type)
		}
		if !sameOrigin(a.ObjectID, a.Actor) {
			return nil, refuse("an %s of an object on another origin", a.Type)
		}
	case "Move":
		// An account moves only itself, to a target named by id (whose
		// aliases are checked against it when the target is fetched).
		if a.ObjectID != a.Actor {
			return nil, refuse("a Move of another account")
		}
		if a.Target = oneID(r.Target); a.Target == "" || a.Target == a.Actor {
			return nil, refuse("a Move without one target")
		}
	case "Follow", "Block", "Like", "Announce":
		// The object is named, never taken from the activity.
	}
	return a, nil
}
