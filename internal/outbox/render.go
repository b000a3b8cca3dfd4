package outbox

import (
	"crypto/ed25519"
	"strconv"
	"strings"
	"time"

	"github.com/rampart-social/rampart/internal/activitypub"
	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/social"
	"github.com/rampart-social/rampart/internal/store"
	"github.com/rampart-social/rampart/internal/text"
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
	if p := n.Poll; p != nil {
		open := time.Now().Before(p.ExpiresAt)
		var opts []activitypub.QuestionOption
		for _, o := range p.Options {
			tally := activitypub.QuestionOptionTally{Type: "Collection"}
			if !open || !p.HideTotals {
				v := o.VotesCount
				tally.TotalItems = &v
			}
			opts = append(opts, activitypub.QuestionOption{Type: "Note", Name: o.Title, Replies: tally})
		}
		out.AsQuestion(opts, p.Multiple, p.ExpiresAt.UTC().Truncate(time.Second).Format(time.RFC3339), !open, p.VotersCount)
	}
	return out
}

// Actor is a local account as an ActivityPub actor, with its RSA key and,
// when it has one, its Ed25519 key (FEP-521a).
func (r Renderer) Actor(acc *store.Account, publicKeyPEM string, ed ed25519.PublicKey) *activitypub.Actor {
	a := activitypub.NewActor()
	a.ID, a.Type, a.PreferredUsername = acc.URI, "Person", acc.Username
	if acc.Bot {
		a.Type = "Service"
	}
	a.Name = acc.DisplayName
	summary := text.NoteHTML(acc.Note)
	a.Summary = &summary
	a.URL = acc.URL
	a.Inbox, a.Outbox = acc.URI+"/inbox", acc.URI+"/outbox"
	a.Followers, a.Following = acc.URI+"/followers", acc.URI+"/following"
	a.Featured = acc.URI + "/collections/featured"
	a.Endpoints.SharedInbox = r.base + "/inbox"
	locked, disc, indexable := acc.Locked, acc.Discoverable, acc.Indexable
	a.ManuallyApprovesFollowers, a.Discoverable, a.Indexable = &locked, &disc, &indexable
	a.Published = acc.CreatedAt.UTC().Truncate(time.Second).Format(time.RFC3339)
	if acc.AvatarKey != "" {
		a.Icon = &activitypub.Image{Type: "Image", URL: r.media + "/" + acc.AvatarKey}
	}
	if acc.HeaderKey != "" {
		a.Image = &activitypub.Image{Type: "Image", URL: r.media + "/" + acc.HeaderKey}
	}
	for _, field := range acc.Fields {
		a.Attachment = append(a.Attachment, activitypub.PropertyValue{Type: "PropertyValue", Name: field.Name,
			Value: text.FieldHTML(field.Value)})
	}
	a.PublicKey = activitypub.PublicKey{ID: acc.URI + "#main-key", Owner: acc.URI, PublicKeyPEM: publicKeyPEM}
	if ed != nil {
		a.AssertionMethod = []activitypub.Multikey{{ID: acc.URI + "#ed25519-key", Type: "Multikey", Controller: acc.URI,
			PublicKeyMultibase: activitypub.EncodeMultikey(ed)}}
	}
	return a
}
