package api

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"sort"

	"github.com/rampart-social/rampart/internal/store"
)

// registerExtras mounts the small endpoints apps call from their main
// screens: private notes on accounts, removing a follower, muting a
// conversation, several accounts at once, removing the avatar or header,
// the deprecated identity proofs and the instance's public domain blocks.
func (a *API) registerExtras(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v1/accounts/{id}/note", a.auth(userToken, a.relationAction(a.accountNote), "write:accounts"))
	mux.HandleFunc("POST /api/v1/accounts/{id}/remove_from_followers", a.auth(userToken, a.relationAction(func(r *http.Request, c *Caller, id int64) error {
		return a.social.RemoveFromFollowers(r.Context(), c.Account, id)
	}), "write:follows"))
	mux.HandleFunc("POST /api/v1/statuses/{id}/mute", a.auth(userToken, a.statusAction(a.muteConversation(true)), "write:mutes"))
	mux.HandleFunc("POST /api/v1/statuses/{id}/unmute", a.auth(userToken, a.statusAction(a.muteConversation(false)), "write:mutes"))
	mux.HandleFunc("GET /api/v1/accounts", a.auth(optional, a.getAccounts, "read:accounts"))
	mux.HandleFunc("DELETE /api/v1/profile/avatar", a.auth(userToken, a.removeProfileImage(true), "write:accounts"))
	mux.HandleFunc("DELETE /api/v1/profile/header", a.auth(userToken, a.removeProfileImage(false), "write:accounts"))
	mux.HandleFunc("GET /api/v1/accounts/{id}/identity_proofs", a.auth(userToken, a.identityProofs, "read:accounts"))
	mux.HandleFunc("GET /api/v1/instance/domain_blocks", a.instanceDomainBlocks)
}

// accountNote is POST /api/v1/accounts/:id/note: comment, empty or absent
// to remove the note.
func (a *API) accountNote(r *http.Request, c *Caller, id int64) error {
	p, err := params(r)
	if err != nil {
		return paramsFailure(err)
	}
	return a.social.SetAccountNote(r.Context(), c.Account, id, p.Get("comment"))
}

func (a *API) muteConversation(mute bool) func(r *http.Request, c *Caller, id int64) (*store.Status, error) {
	return func(r *http.Request, c *Caller, id int64) (*store.Status, error) {
		return a.social.MuteConversation(r.Context(), c.Account, id, mute)
	}
}

// getAccounts is GET /api/v1/accounts?id[]= (Mastodon 4.3): the visible
// ones of at most 40 accounts, in the order asked.
func (a *API) getAccounts(w http.ResponseWriter, r *http.Request, c *Caller) {
	ids, err := a.social.Accounts(r.Context(), idList(r, "id"))
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	out, err := a.renderAccounts(r.Context(), ids)
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// removeProfileImage is DELETE /api/v1/profile/avatar and /header: the
// CredentialAccount after, as verify_credentials answers it.
func (a *API) removeProfileImage(avatar bool) func(http.ResponseWriter, *http.Request, *Caller) {
	return func(w http.ResponseWriter, r *http.Request, c *Caller) {
		acc, u, err := a.accounts.RemoveProfileImage(r.Context(), c.Account.ID, avatar)
		if err != nil {
			a.serviceError(w, r, err)
			return
		}
		a.writeCredentialAccount(w, r, acc, u, nil)
	}
}

// identityProofs is the deprecated GET /api/v1/accounts/:id/identity_proofs:
// always empty, as on Mastodon since 3.5, for an account that exists.
func (a *API) identityProofs(w http.ResponseWriter, r *http.Request, c *Caller) {
	id, ok := pathID(r, "id")
	if !ok {
		writeError(w, http.StatusNotFound, "Record not found")
		return
	}
	if _, err := a.social.AccountFor(r.Context(), id); err != nil {
		a.socialError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, []struct{}{})
}

// DomainBlock is Mastodon's DomainBlock entity (the instance's, public).
type DomainBlock struct {
	Domain   string `json:"domain"`
	Digest   string `json:"digest"`
	Severity string `json:"severity"`
	Comment  string `json:"comment"`
}

// instanceDomainBlocks is GET /api/v1/instance/domain_blocks: 404 unless
// federation.public_domain_blocks is on. Silenced domains come first, then
// suspended ones, each by name, as Mastodon orders them.
func (a *API) instanceDomainBlocks(w http.ResponseWriter, r *http.Request) {
	blocks, err := a.social.PublicDomainBlocks(r.Context())
	if err != nil {
		a.socialError(w, r, err)
		return
	}
	out := make([]DomainBlock, 0, len(blocks))
	for _, b := range blocks {
		sum := sha256.Sum256([]byte(b.Domain))
		out = append(out, DomainBlock{Domain: b.Domain, Digest: hex.EncodeToString(sum[:]), Severity: b.Severity, Comment: b.Reason})
	}
	sort.SliceStable(out, func(i, j int) bool {
		return out[i].Severity == store.SeveritySilence && out[j].Severity != store.SeveritySilence
	})
	writeJSON(w, http.StatusOK, out)
}
