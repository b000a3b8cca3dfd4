package activitypub

// OrderedCollection is an outbox, a featured collection or a followers or
// following count, or one page of them (type OrderedCollectionPage).
type OrderedCollection struct {
	Context      any    `json:"@context,omitempty"`
	ID           string `json:"id"`
	Type         string `json:"type"`
	TotalItems   *int64 `json:"totalItems,omitempty"`
	First        string `json:"first,omitempty"`
	PartOf       string `json:"partOf,omitempty"`
	Next         string `json:"next,omitempty"`
	OrderedItems []any  `json:"orderedItems,omitempty"`
}

// NewOrderedCollection starts a collection (or, with page, a page of one).
func NewOrderedCollection(id string, page bool) *OrderedCollection {
	// The Notes a page embeds use the terms of their context.
	c := &OrderedCollection{Context: noteContext, ID: id, Type: "OrderedCollection"}
	if page {
		c.Type = "OrderedCollectionPage"
	}
	return c
}

// Create is the activity a Note was published with, as outboxes list it.
type Create struct {
	ID        string   `json:"id"`
	Type      string   `json:"type"`
	Actor     string   `json:"actor"`
	Published string   `json:"published"`
	To        []string `json:"to"`
	Cc        []string `json:"cc"`
	Object    *Note    `json:"object"`
}

// CreateOf is the Create activity of n, at Mastodon's id for it.
func CreateOf(n *Note) *Create {
	inner := *n
	inner.Context = nil
	return &Create{ID: n.ID + "/activity", Type: "Create", Actor: n.AttributedTo, Published: n.Published, To: n.To, Cc: n.Cc, Object: &inner}
}
