package api

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/rampart-social/rampart/internal/push"
	"github.com/rampart-social/rampart/internal/store"
)

// WebPushSubscription is Mastodon's entity of a token's push subscription.
type WebPushSubscription struct {
	ID        string          `json:"id"`
	Endpoint  string          `json:"endpoint"`
	Standard  bool            `json:"standard"`
	Alerts    map[string]bool `json:"alerts"`
	Policy    string          `json:"policy"`
	ServerKey string          `json:"server_key"`
}

// registerPush mounts Web Push: one subscription per access token
// (scope push), its keys and alerts; the pushes are the push service's.
func (a *API) registerPush(mux *http.ServeMux) {
	if a.push == nil {
		return
	}
	mux.HandleFunc("POST /api/v1/push/subscription", a.auth(userToken, a.createPushSubscription, "push"))
	mux.HandleFunc("GET /api/v1/push/subscription", a.auth(userToken, a.getPushSubscription, "push"))
	mux.HandleFunc("PUT /api/v1/push/subscription", a.auth(userToken, a.updatePushSubscription, "push"))
	mux.HandleFunc("DELETE /api/v1/push/subscription", a.auth(userToken, a.deletePushSubscription, "push"))
}

// vapidKey is the instance's VAPID public key ("" without Web Push).
func (a *API) vapidKey() string {
	if a.push == nil {
		return ""
	}
	return a.push.PublicKey()
}

// Avatar is the URL of acc's avatar, as its entity has it (a push's icon).
func (e Entities) Avatar(acc *store.Account) string { return e.a.account(acc).Avatar }

func (a *API) pushEntity(p *store.PushSubscription) WebPushSubscription {
	alerts := make(map[string]bool, len(push.Alerts))
	for _, t := range push.Alerts {
		alerts[t] = false
	}
	for _, t := range p.Alerts {
		alerts[t] = true
	}
	return WebPushSubscription{ID: strconv.FormatInt(p.ID, 10), Endpoint: p.Endpoint, Standard: p.Standard, Alerts: alerts,
		Policy: p.Policy, ServerKey: a.push.PublicKey()}
}

// pushData reads data[alerts][type] and data[policy]; Alerts is nil when
// the request names no alert.
func pushData(v map[string][]string) push.Data {
	var d push.Data
	for k, vs := range v {
		t, ok := strings.CutPrefix(k, "data[alerts][")
		if !ok || !strings.HasSuffix(t, "]") || len(vs) == 0 {
			continue
		}
		if d.Alerts == nil {
			d.Alerts = map[string]bool{}
		}
		d.Alerts[strings.TrimSuffix(t, "]")] = truthy(vs[len(vs)-1])
	}
	if vs := v["data[policy]"]; len(vs) > 0 {
		d.Policy = vs[len(vs)-1]
	}
	return d
}

func (a *API) pushFailed(w http.ResponseWriter, r *http.Request, err error) {
	var ve *push.ValidationError
	if errors.As(err, &ve) {
		writeValidation(w, ve.Field, "ERR_INVALID", ve.Msg)
		return
	}
	a.serviceError(w, r, err)
}

func (a *API) createPushSubscription(w http.ResponseWriter, r *http.Request, c *Caller) {
	v, err := params(r)
	if err != nil {
		writeParamsError(w, err)
		return
	}
	p, err := a.push.Subscribe(r.Context(), c.Token, bearer(r), v.Get("subscription[endpoint]"),
		v.Get("subscription[keys][p256dh]"), v.Get("subscription[keys][auth]"), truthy(v.Get("subscription[standard]")), pushData(v))
	if err != nil {
		a.pushFailed(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a.pushEntity(p))
}

func (a *API) getPushSubscription(w http.ResponseWriter, r *http.Request, c *Caller) {
	p, err := a.push.Subscription(r.Context(), c.Token.ID)
	if err != nil {
		a.pushFailed(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a.pushEntity(p))
}

func (a *API) updatePushSubscription(w http.ResponseWriter, r *http.Request, c *Caller) {
	v, err := params(r)
	if err != nil {
		writeParamsError(w, err)
		return
	}
	p, err := a.push.Update(r.Context(), c.Token.ID, pushData(v))
	if err != nil {
		a.pushFailed(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a.pushEntity(p))
}

func (a *API) deletePushSubscription(w http.ResponseWriter, r *http.Request, c *Caller) {
	if err := a.push.Unsubscribe(r.Context(), c.Token.ID); err != nil {
		a.serviceError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{})
}
