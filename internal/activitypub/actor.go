package activitypub

// The JSON-LD contexts of an actor: ActivityStreams, the security
// vocabulary (publicKey) and the terms Mastodon and its peers read.
var actorContext = []any{
	"https://www.w3.org/ns/activitystreams",
	"https://w3id.org/security/v1",
	"https://w3id.org/security/multikey/v1",
	map[string]any{
		"manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
		"toot":                      "http://joinmastodon.org/ns#",
		"featured":                  map[string]string{"@id": "toot:featured", "@type": "@id"},
		"discoverable":              "toot:discoverable",
		"indexable":                 "toot:indexable",
		"schema":                    "http://schema.org#",
		"PropertyValue":             "schema:PropertyValue",
		"value":                     "schema:value",
	},
}

// Actor is an actor document as Rampart serves it. The fields a stripped
// actor leaves out are omitted when empty (Strip empties them).
type Actor struct {
	Context                   any             `json:"@context"`
	ID                        string          `json:"id"`
	Type                      string          `json:"type"`
	PreferredUsername         string          `json:"preferredUsername"`
	Name                      string          `json:"name,omitempty"`
	Summary                   *string         `json:"summary,omitempty"`
	URL                       string          `json:"url,omitempty"`
	Inbox                     string          `json:"inbox"`
	Outbox                    string          `json:"outbox,omitempty"`
	Followers                 string          `json:"followers,omitempty"`
	Following                 string          `json:"following,omitempty"`
	Featured                  string          `json:"featured,omitempty"`
	Endpoints                 Endpoints       `json:"endpoints"`
	ManuallyApprovesFollowers *bool           `json:"manuallyApprovesFollowers,omitempty"`
	Discoverable              *bool           `json:"discoverable,omitempty"`
	Indexable                 *bool           `json:"indexable,omitempty"`
	Published                 string          `json:"published,omitempty"`
	Icon                      *Image          `json:"icon,omitempty"`
	Image                     *Image          `json:"image,omitempty"`
	Attachment                []PropertyValue `json:"attachment,omitempty"`
	PublicKey                 PublicKey       `json:"publicKey"`
	AssertionMethod           []Multikey      `json:"assertionMethod,omitempty"`
}

// Multikey is a FEP-521a key: Rampart's actors publish their Ed25519 key
// so, beside the RSA key every peer reads.
type Multikey struct {
	ID                 string `json:"id"`
	Type               string `json:"type"`
	Controller         string `json:"controller"`
	PublicKeyMultibase string `json:"publicKeyMultibase"`
}

// Endpoints holds the shared inbox.
type Endpoints struct {
	SharedInbox string `json:"sharedInbox"`
}

// Image is an actor's avatar (icon) or header (image).
type Image struct {
	Type      string `json:"type"`
	MediaType string `json:"mediaType,omitempty"`
	URL       string `json:"url"`
}

// PropertyValue is a profile field.
type PropertyValue struct {
	Type  string `json:"type"`
	Name  string `json:"name"`
	Value string `json:"value"`
}

// PublicKey is the security vocabulary's key: the RSA key HTTP signatures
// are checked with.
type PublicKey struct {
	ID           string `json:"id"`
	Owner        string `json:"owner"`
	PublicKeyPEM string `json:"publicKeyPem"`
}

// NewActor starts an actor document with its context.
func NewActor() *Actor { return &Actor{Context: actorContext} }

// Strip keeps what key discovery needs and nothing else: id, type,
// preferredUsername, inbox, endpoints and the keys (publicKey,
// assertionMethod), as Mastodon serves an unsigned fetch in authorized-fetch
// mode. Without them two servers that
// each sign their fetches could never learn each other's keys.
func (a *Actor) Strip() *Actor {
	return &Actor{Context: a.Context, ID: a.ID, Type: a.Type, PreferredUsername: a.PreferredUsername,
		Inbox: a.Inbox, Endpoints: a.Endpoints, PublicKey: a.PublicKey, AssertionMethod: a.AssertionMethod}
}
