package activitypub

// Public is the collection a public or unlisted status is addressed to.
const Public = "https://www.w3.org/ns/activitystreams#Public"

// noteContext is a Note's JSON-LD context: ActivityStreams and the terms
// Mastodon adds (sensitive, Hashtag, blurhash).
var noteContext = []any{
	"https://www.w3.org/ns/activitystreams",
	map[string]any{
		"sensitive": "as:sensitive",
		"Hashtag":   "as:Hashtag",
		"toot":      "http://joinmastodon.org/ns#",
		"blurhash":  "toot:blurhash",
	},
}

// Note is a status as Rampart serves it.
type Note struct {
	Context      any        `json:"@context,omitempty"`
	ID           string     `json:"id"`
	Type         string     `json:"type"`
	AttributedTo string     `json:"attributedTo"`
	Content      string     `json:"content"`
	Summary      *string    `json:"summary"`
	Sensitive    bool       `json:"sensitive"`
	InReplyTo    *string    `json:"inReplyTo"`
	Published    string     `json:"published"`
	Updated      string     `json:"updated,omitempty"`
	URL          string     `json:"url"`
	To           []string   `json:"to"`
	Cc           []string   `json:"cc"`
	Tag          []Tag      `json:"tag"`
	Attachment   []Document `json:"attachment"`
	// A status with a poll is a Question (AsQuestion): its options as
	// oneOf (one choice) or anyOf (several), its end and its voters.
	OneOf       []QuestionOption `json:"oneOf,omitempty"`
	AnyOf       []QuestionOption `json:"anyOf,omitempty"`
	EndTime     string           `json:"endTime,omitempty"`
	Closed      string           `json:"closed,omitempty"`
	VotersCount *int64           `json:"votersCount,omitempty"`
}

// QuestionOption is one of a Question's options, its votes as the total
// of its replies (null while the poll hides its totals), as Mastodon
// writes them.
type QuestionOption struct {
	Type    string              `json:"type"`
	Name    string              `json:"name"`
	Replies QuestionOptionTally `json:"replies"`
}

// QuestionOptionTally is QuestionOption.replies.
type QuestionOptionTally struct {
	Type       string `json:"type"`
	TotalItems *int64 `json:"totalItems"`
}

// questionContext is noteContext with the term a Question adds.
var questionContext = []any{
	"https://www.w3.org/ns/activitystreams",
	map[string]any{
		"sensitive":   "as:sensitive",
		"Hashtag":     "as:Hashtag",
		"toot":        "http://joinmastodon.org/ns#",
		"blurhash":    "toot:blurhash",
		"votersCount": "toot:votersCount",
	},
}

// AsQuestion makes n a Question with options (oneOf, or anyOf when
// multiple), ending at end (RFC 3339), closed at end when closed.
func (n *Note) AsQuestion(options []QuestionOption, multiple bool, end string, closed bool, voters int64) {
	n.Type, n.Context, n.EndTime, n.VotersCount = "Question", questionContext, end, &voters
	if multiple {
		n.AnyOf = options
	} else {
		n.OneOf = options
	}
	if closed {
		n.Closed = end
	}
}

// Tag is a Mention or a Hashtag.
type Tag struct {
	Type string `json:"type"`
	Href string `json:"href"`
	Name string `json:"name"`
}

// Document is an attachment.
type Document struct {
	Type      string `json:"type"`
	MediaType string `json:"mediaType"`
	URL       string `json:"url"`
	Name      string `json:"name,omitempty"`
	Blurhash  string `json:"blurhash,omitempty"`
}

// NewNote starts a Note with its context.
func NewNote() *Note {
	return &Note{Context: noteContext, Type: "Note", To: []string{}, Cc: []string{}, Tag: []Tag{}, Attachment: []Document{}}
}

// Addressing is to and cc for a status of the given visibility (public,
// unlisted, private or direct), as Mastodon addresses them: public is to
// everyone and cc the followers; unlisted the reverse; private to the
// followers only; direct to the mentioned only. Mentioned actors are always
// addressed, in cc (in to for direct).
func Addressing(visibility, followers string, mentioned []string) (to, cc []string) {
	to, cc = []string{}, []string{}
	switch visibility {
	case "public":
		to, cc = append(to, Public), append(cc, followers)
	case "unlisted":
		to, cc = append(to, followers), append(cc, Public)
	case "private":
		to = append(to, followers)
	case "direct":
		return append(to, mentioned...), cc
	}
	return to, append(cc, mentioned...)
}

// NoteContext is the JSON-LD context of a Note, for an activity that
// embeds one.
func NoteContext() any { return noteContext }

// QuestionContext is a Question's context (NoteContext and votersCount),
// for an activity carrying one.
func QuestionContext() any { return questionContext }
