package api

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/rampart-social/rampart/internal/oauth"
	"github.com/rampart-social/rampart/internal/store"
	"github.com/rampart-social/rampart/internal/text"
)

// Entities follow Mastodon's documentation field for field: documented
// nullable fields are present as null, URL fields are never "".

// Account is Mastodon's Account entity.
type Account struct {
	ID             string         `json:"id"`
	Username       string         `json:"username"`
	Acct           string         `json:"acct"`
	URL            string         `json:"url"`
	URI            string         `json:"uri"`
	DisplayName    string         `json:"display_name"`
	Note           string         `json:"note"`
	Avatar         string         `json:"avatar"`
	AvatarStatic   string         `json:"avatar_static"`
	Header         string         `json:"header"`
	HeaderStatic   string         `json:"header_static"`
	Locked         bool           `json:"locked"`
	Fields         []Field        `json:"fields"`
	Emojis         []struct{}     `json:"emojis"`
	Bot            bool           `json:"bot"`
	Group          bool           `json:"group"`
	Discoverable   *bool          `json:"discoverable"`
	Indexable      bool           `json:"indexable"`
	HideCollection *bool          `json:"hide_collections"`
	Noindex        *bool          `json:"noindex"`
	Roles          []struct{}     `json:"roles"`
	CreatedAt      string         `json:"created_at"`
	LastStatusAt   *string        `json:"last_status_at"`
	StatusesCount  int64          `json:"statuses_count"`
	Followers      int64          `json:"followers_count"`
	Following      int64          `json:"following_count"`
	Source         *AccountSource `json:"source,omitempty"`
	Role           *Role          `json:"role,omitempty"`
	// Suspended is there, true, only for a suspended account (as on
	// Mastodon); only the staff see one (Admin::Account).
	Suspended bool `json:"suspended,omitempty"`
}

// Field is a profile metadata pair, HTML in value.
type Field struct {
	Name       string  `json:"name"`
	Value      string  `json:"value"`
	VerifiedAt *string `json:"verified_at"`
}

// AccountSource is the plain-text source of CredentialAccount.
type AccountSource struct {
	Privacy             string        `json:"privacy"`
	Sensitive           bool          `json:"sensitive"`
	Language            *string       `json:"language"`
	Note                string        `json:"note"`
	Fields              []store.Field `json:"fields"`
	FollowRequestsCount int64         `json:"follow_requests_count"`
	HideCollections     bool          `json:"hide_collections"`
	Discoverable        bool          `json:"discoverable"`
	Indexable           bool          `json:"indexable"`
	AttributionDomains  []string      `json:"attribution_domains"`
}

// Role is Mastodon's Role entity.
type Role struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Color       string `json:"color"`
	Permissions string `json:"permissions"`
	Highlighted bool   `json:"highlighted"`
}

// timestamp renders Mastodon's date format: milliseconds and Z.
func timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func (a *API) account(acc *store.Account) Account {
	base := a.cfg.InstanceURL().String()
	acct := acc.Username
	if acc.Domain != "" {
		acct += "@" + acc.Domain
	}
	// A local account's bio and field values are plain text as written; a
	// remote one's are HTML, sanitized when it was stored (remote).
	remote := acc.Domain != ""
	fields := make([]Field, 0, len(acc.Fields))
	for _, f := range acc.Fields {
		// Like Mastodon: the name is plain text (clients escape it), the
		// value is HTML; a local one's URLs are links (rel "me").
		v := f.Value
		if !remote {
			v = text.FieldHTML(v)
		}
		fields = append(fields, Field{Name: f.Name, Value: v})
	}
	note := acc.Note
	if !remote {
		note = text.NoteHTML(acc.Note)
	}
	avatar := a.profileImage(acc.AvatarKey, base+DefaultAvatarPath)
	header := a.profileImage(acc.HeaderKey, base+DefaultHeaderPath)
	if acc.AvatarRemoteURL != "" {
		avatar = acc.AvatarRemoteURL
	}
	if acc.HeaderRemoteURL != "" {
		header = acc.HeaderRemoteURL
	}
	disc := acc.Discoverable
	f := false
	return Account{
		ID: strconv.FormatInt(acc.ID, 10), Username: acc.Username, Acct: acct, URL: acc.URL, URI: acc.URI,
		DisplayName: acc.DisplayName, Note: note,
		Avatar: avatar, AvatarStatic: avatar, Header: header, HeaderStatic: header,
		Locked: acc.Locked, Fields: fields, Emojis: []struct{}{}, Bot: acc.Bot, Discoverable: &disc, Indexable: acc.Indexable,
		HideCollection: &f, Noindex: &f, Roles: []struct{}{},
		CreatedAt: timestamp(acc.CreatedAt), Suspended: !acc.SuspendedAt.IsZero(),
	}
}

// profileImage is an uploaded avatar or header on the media origin, or the default.
func (a *API) profileImage(key, fallback string) string {
	if u := a.mediaURL(key); u != nil {
		return *u
	}
	return fallback
}

// Default images, served by the app host (never "" in an entity).
const (
	DefaultAvatarPath    = "/static/avatar.png"
	DefaultHeaderPath    = "/static/header.png"
	DefaultThumbnailPath = "/static/thumbnail.png"
)

var roles = map[string]Role{
	"user":      {ID: "-99", Name: "", Color: "", Permissions: "0"},
	"moderator": {ID: "2", Name: "Moderator", Color: "", Permissions: "1308", Highlighted: true},
	"admin":     {ID: "3", Name: "Admin", Color: "", Permissions: "1048575", Highlighted: true},
}

// credentialAccount is the caller's own Account, with source and role.
func (a *API) credentialAccount(ctx context.Context, acc *store.Account, u *store.User, stats *store.AccountStats) (Account, error) {
	if stats == nil {
		all, err := a.store.StatsFor(ctx, []int64{acc.ID})
		if err != nil {
			return Account{}, err
		}
		st := all[acc.ID]
		stats = &st
	}
	b := &batch{stats: map[int64]store.AccountStats{acc.ID: *stats}}
	out := a.accountFrom(b, acc)
	var lang *string
	if u.DefaultLanguage != "" {
		l := u.DefaultLanguage
		lang = &l
	}
	fields := acc.Fields
	if fields == nil {
		fields = []store.Field{}
	}
	out.Source = &AccountSource{Privacy: u.DefaultPrivacy, Sensitive: u.DefaultSensitive, Language: lang, Note: acc.Note,
		Fields: fields, Discoverable: acc.Discoverable, Indexable: acc.Indexable, AttributionDomains: []string{}, FollowRequestsCount: b.stats[acc.ID].FollowRequests}
	r := roles[u.Role]
	out.Role = &r
	return out, nil
}

// Application is Mastodon's Application entity.
type Application struct {
	ID                    string   `json:"id"`
	Name                  string   `json:"name"`
	Website               *string  `json:"website"`
	Scopes                []string `json:"scopes"`
	RedirectURI           string   `json:"redirect_uri"`
	RedirectURIs          []string `json:"redirect_uris"`
	ClientID              string   `json:"client_id,omitempty"`
	ClientSecret          string   `json:"client_secret,omitempty"`
	ClientSecretExpiresAt *int64   `json:"client_secret_expires_at,omitempty"`
}

func application(app *store.App, secret string) Application {
	var website *string
	if app.Website != "" {
		w := app.Website
		website = &w
	}
	scopes, _ := oauth.ParseScopes(app.Scopes)
	out := Application{ID: strconv.FormatInt(app.ID, 10), Name: app.Name, Website: website, Scopes: scopes.List(),
		RedirectURI: strings.Join(app.RedirectURIs, "\n"), RedirectURIs: app.RedirectURIs}
	if secret != "" {
		zero := int64(0)
		out.ClientID, out.ClientSecret, out.ClientSecretExpiresAt = app.ClientID, secret, &zero
	}
	return out
}

// Token is Mastodon's Token entity.
type Token struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	Scope       string `json:"scope"`
	CreatedAt   int64  `json:"created_at"`
}

func token(t *oauth.Issued) Token {
	return Token{AccessToken: t.Token, TokenType: "Bearer", Scope: t.Scopes.String(), CreatedAt: t.At.Unix()}
}
