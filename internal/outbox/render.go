package outbox

import (
	"strconv"
	"strings"
	"time"

	"github.com/rampart-social/rampart/internal/activitypub"
	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/social"
)

// Renderer writes local objects as ActivityPub documents: the same Note
// whether it is fetched (federation) or delivered (the outbox).
type Renderer struct {
	base  string // the instance URL, no trailing slash
	host  string // the instance's host name, no port
	media string // the media origin, no trailing slash
}

// NewRenderer renders for the instance cfg describes.
func NewRenderer(cfg *config.Config) Renderer {
	u := cfg.InstanceURL()
	return Renderer{base: strings.TrimSuffix(u.String(), "/"), host: strings.ToLower(u.Hostname()),
		media: strings.TrimSuffix(cfg.MediaOrigin().String(), "/")}
}

// Note is a local status as a Note, addressed as Mastodon addresses its
// visibility.
func (r Renderer) Note(n *social.Note) *activitypub.Note {
	st := n.Status
	out := activitypub.NewNote()
	out.ID, out.AttributedTo, out.Content, out.URL = st.URI, n.Author.URI, st.Content, st.URL
	if out.URL == "" {
		out.URL = n.Author.URL + "/" + strconv.FormatInt(st.ID, 10)
	}
	if st.SpoilerText != "" {
		s := st.SpoilerText
		out.Summary = &s
	}
	out.Sensitive = st.Sensitive
	if n.InReplyTo != "" {
		p := n.InReplyTo
		out.InReplyTo = &p
	}
	out.Published = st.CreatedAt.UTC().Truncate(time.Second).Format(time.RFC3339)
	if !st.EditedAt.IsZero() {
		out.Updated = st.EditedAt.UTC().Truncate(time.Second).Format(time.RFC3339)
	}
	var mentioned []string
	for _, m := range n.Mentions {
		mentioned = append(mentioned, m.URI)
		name := "@" + m.Username
		if m.Domain != "" {
			name += "@" + m.Domain
		} else {
			name += "@" + r.host
		}
		out.Tag = append(out.Tag, activitypub.Tag{Type: "Mention", Href: m.URI, Name: name})
	}
	for _, t := range n.Tags {
		out.Tag = append(out.Tag, activitypub.Tag{Type: "Hashtag", Href: r.base + "/tags/" + t, Name: "#" + t})
	}
	out.To, out.Cc = activitypub.Addressing(social.VisibilityName(st.Visibility), n.Author.URI+"/followers", mentioned)
	for _, m := range n.Media {
		if m.State != "ready" {
			continue
		}
		out.Attachment = append(out.Attachment, activitypub.Document{Type: "Document", MediaType: m.ContentType,
			URL: r.media + "/" + m.FileKey, Name: m.Description, Blurhash: m.Blurhash})
	}
	return out
}
