package outbox

import (
	"testing"

	"github.com/rampart-social/rampart/internal/store"
	"github.com/rampart-social/rampart/internal/testutil"
)

// The actor publishes discoverable and indexable as the account has them,
// each on its own (the settings page and update_credentials set them apart).
func TestActorPublishesIndexableApartFromDiscoverable(t *testing.T) {
	r := NewRenderer(testutil.ProdConfig(t, t.TempDir()))
	for _, c := range []struct{ discoverable, indexable bool }{{true, false}, {false, true}, {true, true}, {false, false}} {
		acc := &store.Account{ID: 1, Username: "alice", URI: "https://example.test/users/alice", Discoverable: c.discoverable, Indexable: c.indexable}
		a := r.Actor(acc, "", nil)
		if a.Discoverable == nil || *a.Discoverable != c.discoverable || a.Indexable == nil || *a.Indexable != c.indexable {
			t.Errorf("account discoverable %v indexable %v: actor publishes %v and %v", c.discoverable, c.indexable, a.Discoverable, a.Indexable)
		}
	}
}
