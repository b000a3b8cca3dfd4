package api

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/rampart-social/rampart/internal/social"
	"github.com/rampart-social/rampart/internal/store"
)

// Poll is Mastodon's Poll entity.
type Poll struct {
	ID          string       `json:"id"`
	ExpiresAt   *string      `json:"expires_at"`
	Expired     bool         `json:"expired"`
	Multiple    bool         `json:"multiple"`
	VotesCount  int64        `json:"votes_count"`
	VotersCount *int64       `json:"voters_count"`
	Options     []PollOption `json:"options"`
	Emojis      []struct{}   `json:"emojis"`
	// Only for a signed-in viewer, as on Mastodon.
	Voted    *bool `json:"voted,omitempty"`
	OwnVotes []int `json:"own_votes,omitzero"`
}

// PollOption is Poll.options[]: votes_count is null while the poll hides
// its totals (hide_totals) and has not ended, for everyone, its author
// included, as on Mastodon.
type PollOption struct {
	Title      string `json:"title"`
	VotesCount *int64 `json:"votes_count"`
}

// pollLimits are configuration.polls of the instance documents: the
// limits the social service holds posts to.
var pollLimits = map[string]any{"max_options": social.MaxPollOptions, "max_characters_per_option": social.MaxPollOptionChars,
	"min_expiration": social.MinPollExpiresIn, "max_expiration": social.MaxPollExpiresIn}

func (a *API) registerPolls(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/polls/{id}", a.auth(optional, a.getPoll, "read:statuses"))
	mux.HandleFunc("POST /api/v1/polls/{id}/votes", a.auth(userToken, a.votePoll, "write:statuses"))
}

// pollEntity renders p for viewer (0: anonymous) at now.
func pollEntity(p *store.Poll, viewer int64, now time.Time) *Poll {
	expired := p.Ended(now)
	var expires *string
	if !p.ExpiresAt.IsZero() {
		exp := timestamp(p.ExpiresAt)
		expires = &exp
	}
	voters := p.VotersCount
	out := &Poll{ID: idString(p.ID), ExpiresAt: expires, Expired: expired, Multiple: p.Multiple, VotesCount: p.VotesCount,
		VotersCount: &voters, Options: make([]PollOption, 0, len(p.Options)), Emojis: []struct{}{}}
	for _, o := range p.Options {
		e := PollOption{Title: o.Title}
		if expired || !p.HideTotals {
			n := o.VotesCount
			e.VotesCount = &n
		}
		out.Options = append(out.Options, e)
	}
	if viewer != 0 {
		// The author counts as having voted (Mastodon's Poll#voted?): apps
		// show the results to the author instead of the choices.
		voted := viewer == p.AccountID || len(p.OwnVotes) > 0
		out.Voted = &voted
		out.OwnVotes = append([]int{}, p.OwnVotes...)
	}
	return out
}

func (a *API) getPoll(w http.ResponseWriter, r *http.Request, c *Caller) {
	id, ok := pathID(r, "id")
	if !ok {
		writeError(w, http.StatusNotFound, "Record not found")
		return
	}
	_, p, err := a.social.Poll(r.Context(), viewerID(c), id)
	if err != nil {
		a.socialError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, pollEntity(p, viewerID(c), time.Now()))
}

func (a *API) votePoll(w http.ResponseWriter, r *http.Request, c *Caller) {
	id, ok := pathID(r, "id")
	if !ok {
		writeError(w, http.StatusNotFound, "Record not found")
		return
	}
	p, err := params(r)
	if err != nil {
		writeParamsError(w, err)
		return
	}
	var choices []int
	for _, v := range list(p, "choices") {
		n, err := strconv.Atoi(v)
		if err != nil {
			writeValidation(w, "choices", "ERR_INVALID", "must be option indexes")
			return
		}
		choices = append(choices, n)
	}
	poll, err := a.social.Vote(r.Context(), c.Account, id, choices)
	if err != nil {
		a.socialError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, pollEntity(poll, viewerID(c), time.Now()))
}

// pollParams reads poll[options][], poll[expires_in], poll[multiple] and
// poll[hide_totals]; nil when no option was sent (no poll). ok is false
// (and the request answered) when expires_in is not a number.
func pollParams(w http.ResponseWriter, p url.Values) (*social.PollParams, bool) {
	opts := list(p, "poll[options]")
	if len(opts) == 0 {
		return nil, true
	}
	out := &social.PollParams{Options: opts, Multiple: truthy(p.Get("poll[multiple]")), HideTotals: truthy(p.Get("poll[hide_totals]"))}
	if v := p.Get("poll[expires_in]"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			writeValidation(w, "poll", "ERR_INVALID", "expires_in must be a number of seconds")
			return nil, false
		}
		out.ExpiresIn = n
	}
	return out, true
}
