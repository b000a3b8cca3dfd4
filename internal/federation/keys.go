package federation

import (
	"fmt"
	"net/http"
	"time"

	"github.com/rampart-social/rampart/internal/activitypub"
	"github.com/rampart-social/rampart/internal/httpsig"
)

// verifySigner checks r's signature, if it has one, and returns the key
// that signed it: nil for an unsigned request. A key that fails is fetched
// again (rate limited) before the request is refused.
func (f *Federation) verifySigner(r *http.Request) (*activitypub.FoundKey, error) {
	if !httpsig.Signed(r) {
		return nil, nil
	}
	sig, err := httpsig.Parse(r, f.cfg.InstanceURL().Scheme)
	if err != nil {
		return nil, err
	}
	if err := sig.Check(time.Now()); err != nil {
		return nil, err
	}
	key, err := f.remote.Key(r.Context(), sig.KeyID, false)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", sig.KeyID, err)
	}
	if err := sig.Verify(key.Key); err != nil {
		fresh, ferr := f.remote.Key(r.Context(), sig.KeyID, true)
		if ferr != nil || sig.Verify(fresh.Key) != nil {
			return nil, err
		}
		key = fresh
	}
	return key, nil
}
