package streaming

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/rampart-social/rampart/internal/social"
	"github.com/rampart-social/rampart/internal/store"
)

// kind is a stream Mastodon defines.
type kind uint8

const (
	user kind = iota + 1
	userNotification
	public
	publicMedia
	publicLocal
	publicLocalMedia
	publicRemote
	publicRemoteMedia
	hashtag
	hashtagLocal
	direct
	list
)

var kindNames = map[string]kind{
	"user": user, "user:notification": userNotification,
	"public": public, "public:media": publicMedia,
	"public:local": publicLocal, "public:local:media": publicLocalMedia,
	"public:remote": publicRemote, "public:remote:media": publicRemoteMedia,
	"hashtag": hashtag, "hashtag:local": hashtagLocal,
	"direct": direct,
	"list":   list,
}

// stream is one subscription's stream: a kind, and the tag of a hashtag
// stream.
type stream struct {
	kind kind
	tag  string
	// label is the tag as the client named it, which Mastodon's events
	// name the stream with (and masto.js matches); not part of the
	// subscription's identity (client.streams keys it out). A list
	// stream's is its list's id.
	label string
	// listID is a list stream's list.
	listID int64
}

// maxTagLength bounds a hashtag stream's tag (Mastodon's tags are shorter).
const maxTagLength = 100

var (
	errUnknownStream = errors.New("Unknown stream type")
	errNoTag         = errors.New("No tag for stream provided")
	errNoList        = errors.New("No list for stream provided")
	errNotYourList   = errors.New("Not authorized to stream this list")
	errBadMessage    = errors.New("Unsupported message")
)

// parseStream reads a stream name and, for a hashtag stream, its tag, for
// a list stream, its list id.
func parseStream(name, tag, listID string) (stream, error) {
	k, ok := kindNames[name]
	if !ok {
		return stream{}, errUnknownStream
	}
	s := stream{kind: k}
	if k == list {
		n, err := strconv.ParseInt(strings.TrimSpace(listID), 10, 64)
		if err != nil || n <= 0 {
			return stream{}, errNoList
		}
		s.listID, s.label = n, strconv.FormatInt(n, 10)
		return s, nil
	}
	if k == hashtag || k == hashtagLocal {
		s.label = strings.TrimSpace(tag)
		tag = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(tag), "#"))
		if tag == "" || !utf8.ValidString(tag) || utf8.RuneCountInString(tag) > maxTagLength || strings.ContainsAny(tag, " \t\r\n#") {
			return stream{}, errNoTag
		}
		s.tag = tag
	}
	return s, nil
}

// name is the stream array an event carries: ["user"], ["hashtag", "tag"].
func (s stream) name() []string {
	for n, k := range kindNames {
		if k == s.kind {
			if s.label != "" {
				return []string{n, s.label}
			}
			if s.tag != "" {
				return []string{n, s.tag}
			}
			return []string{n}
		}
	}
	return nil
}

// isPublic reports whether the stream shows what public timelines show,
// which an anonymous client may read when the instance allows it.
func (s stream) isPublic() bool { return s.kind >= public && s.kind <= hashtagLocal }

// filterContext is where the subscriber's filters apply to the stream, as
// to the REST timeline it follows: home for the user stream, public for
// the public and hashtag streams, none for direct messages (Mastodon has
// no such context).
func (s stream) filterContext() social.FilterContext {
	switch {
	case s.kind == user, s.kind == list:
		return social.FilterHome
	case s.isPublic():
		return social.FilterPublic
	}
	return 0
}

// timeline is the REST timeline whose rule decides what the stream shows.
func (s stream) timeline() social.Timeline {
	switch s.kind {
	case user:
		return social.Timeline{Home: true}
	case direct:
		return social.Timeline{Direct: true}
	case list:
		return social.Timeline{List: s.listID}
	}
	f := store.PublicFilter{Tag: s.tag}
	switch s.kind {
	case publicMedia, publicLocalMedia, publicRemoteMedia:
		f.OnlyMedia = true
	}
	switch s.kind {
	case publicLocal, publicLocalMedia, hashtagLocal:
		f.LocalOnly = true
	case publicRemote, publicRemoteMedia:
		f.RemoteOnly = true
	}
	return social.Timeline{Public: f}
}

// clientMessage is what a WebSocket client sends: Mastodon's subscribe and
// unsubscribe.
type clientMessage struct {
	Type   string `json:"type"`
	Stream string `json:"stream"`
	Tag    string `json:"tag"`
	List   string `json:"list"`
}

// parseClientMessage reads one client frame (already bounded in size).
func parseClientMessage(b []byte) (subscribe bool, s stream, err error) {
	var m clientMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return false, stream{}, errBadMessage
	}
	switch m.Type {
	case "subscribe":
		subscribe = true
	case "unsubscribe":
	default:
		return false, stream{}, errBadMessage
	}
	s, err = parseStream(m.Stream, m.Tag, m.List)
	return subscribe, s, err
}
