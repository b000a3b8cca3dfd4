package events

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The form of an event on a notification channel. An event is its JSON
// (Event's short field names), which begins with '{'. PostgreSQL refuses a
// payload of 8000 bytes or more, and a deleted status's Gone.Mentioned has
// no small bound (what it needs cannot be recomputed: the mentions went
// with the status), so a longer event goes as parts, each
//
//	#<sender> <seq> <i>/<n> <chunk of the JSON>
//
// sent in one transaction (store.(*Store).Notify): they arrive together and
// in order, or not at all. sender is random to each relay and seq counts its
// events, so that every part is a distinct payload (PostgreSQL delivers a
// payload repeated within one transaction once) and parts of different
// senders' events never mix.

// maxPayload is the longest notification payload PostgreSQL accepts.
const maxPayload = 7999

// maxParts bounds an event's parts (about 1 MiB of JSON: some 50,000
// mentions), and so what a receiver holds for one event.
const maxParts = 128

// maxSenders bounds the events a receiver is putting together at once. The
// server queues one transaction's notifications together, so one is the
// usual count; more means another process's parts were cut short.
const maxSenders = 16

// errTooLarge: an event past maxParts, which the relay drops.
var errTooLarge = errors.New("event too large for a notification")

// encode renders e as the payloads that carry it: one, or its parts.
func encode(e Event, sender string, seq uint64) ([]string, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encode event: %w", err)
	}
	if len(b) <= maxPayload {
		return []string{string(b)}, nil
	}
	// The header's length bounds each chunk: at most "/128" for i and n.
	head := "#" + sender + " " + strconv.FormatUint(seq, 10) + " "
	room := maxPayload - len(head) - len("128/128 ")
	n := (len(b) + room - 1) / room
	if n > maxParts {
		return nil, fmt.Errorf("%w: %d bytes", errTooLarge, len(b))
	}
	parts := make([]string, 0, n)
	for rest := b; len(rest) > 0; {
		cut := min(room, len(rest))
		// The server checks each payload is valid UTF-8: never split a
		// character (the JSON is ASCII today; this keeps it so if not).
		for cut < len(rest) && cut > 0 && !utf8.RuneStart(rest[cut]) {
			cut--
		}
		parts = append(parts, string(rest[:cut]))
		rest = rest[cut:]
	}
	for i := range parts {
		parts[i] = head + strconv.Itoa(i+1) + "/" + strconv.Itoa(len(parts)) + " " + parts[i]
	}
	return parts, nil
}

// assembler turns payloads back into events. Its zero value is ready; it is
// not safe for concurrent use (one listener feeds it).
type assembler struct {
	pending map[string]*partial // by sender
}

// partial is an event whose first parts have arrived.
type partial struct {
	seq  uint64
	next int // the part expected next (1-based)
	n    int
	json strings.Builder
}

// reset forgets events put together in part (their other parts are lost:
// the connection that would have brought them was).
func (a *assembler) reset() { a.pending = nil }

// add takes one payload. It returns the event once it is whole (ok), and
// nothing while parts are missing. err reports what was dropped: a payload
// that is not one of ours, or an event in parts that another cut short.
func (a *assembler) add(payload string) (e Event, ok bool, err error) {
	if strings.HasPrefix(payload, "{") {
		e, err = decode(payload)
		return e, err == nil, err
	}
	sender, seq, i, n, chunk, err := parsePart(payload)
	if err != nil {
		return Event{}, false, err
	}
	p := a.pending[sender]
	if i == 1 {
		if p != nil {
			delete(a.pending, sender)
			err = fmt.Errorf("event %d of %s cut short by the next", p.seq, sender)
		}
		if a.pending == nil {
			a.pending = map[string]*partial{}
		}
		if len(a.pending) >= maxSenders {
			// Events cut short pile up only if parts go missing; forget one.
			for k := range a.pending {
				delete(a.pending, k)
				break
			}
			err = errors.Join(err, errors.New("too many events in parts at once: one dropped"))
		}
		p = &partial{seq: seq, next: 1, n: n}
		a.pending[sender] = p
	}
	switch {
	case p == nil:
		return Event{}, false, fmt.Errorf("part %d/%d of %s's event %d without its first", i, n, sender, seq)
	case p.seq != seq || p.n != n || p.next != i:
		delete(a.pending, sender)
		return Event{}, false, fmt.Errorf("part %d/%d of %s's event %d out of order", i, n, sender, seq)
	}
	p.json.WriteString(chunk)
	p.next++
	if i < n {
		return Event{}, false, err
	}
	delete(a.pending, sender)
	e, derr := decode(p.json.String())
	if derr != nil {
		return Event{}, false, errors.Join(err, derr)
	}
	return e, true, err
}

// parsePart reads "#<sender> <seq> <i>/<n> <chunk>".
func parsePart(payload string) (sender string, seq uint64, i, n int, chunk string, err error) {
	bad := func(why string) error { return fmt.Errorf("malformed event part: %s", why) }
	rest, found := strings.CutPrefix(payload, "#")
	if !found {
		return "", 0, 0, 0, "", bad("neither an event nor a part")
	}
	fields := strings.SplitN(rest, " ", 4)
	if len(fields) != 4 {
		return "", 0, 0, 0, "", bad("missing fields")
	}
	sender = fields[0]
	if sender == "" || len(sender) > 64 {
		return "", 0, 0, 0, "", bad("sender")
	}
	if seq, err = strconv.ParseUint(fields[1], 10, 64); err != nil {
		return "", 0, 0, 0, "", bad("sequence")
	}
	is, ns, found := strings.Cut(fields[2], "/")
	if !found {
		return "", 0, 0, 0, "", bad("part number")
	}
	i, err1 := strconv.Atoi(is)
	n, err2 := strconv.Atoi(ns)
	if err1 != nil || err2 != nil || n < 2 || n > maxParts || i < 1 || i > n {
		return "", 0, 0, 0, "", bad("part number")
	}
	return sender, seq, i, n, fields[3], nil
}

// decode reads one event's JSON and holds it to what the subscribers rely
// on: a kind they know, with the ids that kind names.
func decode(s string) (Event, error) {
	var e Event
	// Fields this version does not know are ignored: a newer process may
	// add some while older ones still run.
	if err := json.Unmarshal([]byte(s), &e); err != nil {
		return Event{}, fmt.Errorf("malformed event: %w", err)
	}
	if err := e.check(); err != nil {
		return Event{}, fmt.Errorf("malformed event: %w", err)
	}
	return e, nil
}

// check is the shape of each kind of event as the services publish it.
func (e Event) check() error {
	if e.Status < 0 || e.Account < 0 || e.Notification < 0 || e.Reach&^ReachAll != 0 {
		return errors.New("a negative id or an unknown reach")
	}
	switch e.Kind {
	case StatusCreated, StatusEdited:
		if e.Status == 0 || e.Account == 0 {
			return fmt.Errorf("%s without its status or author", e.Kind)
		}
	case StatusDeleted:
		if e.Status == 0 || e.Account == 0 || e.Gone == nil {
			return fmt.Errorf("%s without its status, author or what is gone", e.Kind)
		}
		if e.Gone.ReblogOf < 0 || e.Gone.OrigAuthor < 0 {
			return errors.New("a negative id")
		}
		for _, m := range e.Gone.Mentioned {
			if m <= 0 {
				return errors.New("a mentioned account's id is not positive")
			}
		}
	case NotificationCreated:
		if e.Account == 0 || e.Notification == 0 {
			return fmt.Errorf("%s without its recipient or notification", e.Kind)
		}
	case FiltersChanged, TokensRevoked:
		if e.Account == 0 {
			return fmt.Errorf("%s without its account", e.Kind)
		}
	default:
		return fmt.Errorf("unknown kind %q", e.Kind)
	}
	return nil
}
