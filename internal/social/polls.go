package social

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rampart-social/rampart/internal/events"
	"github.com/rampart-social/rampart/internal/jobs"
	"github.com/rampart-social/rampart/internal/store"
)

// Poll limits, Mastodon's defaults; /api/v1/instance and /api/v2/instance
// advertise these same numbers (configuration.polls).
const (
	MaxPollOptions           = 4
	MaxPollOptionChars       = 50
	MinPollExpiresIn   int64 = 300     // seconds: 5 minutes
	MaxPollExpiresIn   int64 = 2629746 // seconds: Mastodon's 1.month
)

// PollParams are the inputs of a poll posted (or edited) with a status.
type PollParams struct {
	Options    []string
	ExpiresIn  int64 // seconds
	Multiple   bool
	HideTotals bool
}

// newPoll checks p as Mastodon's PollValidator does (options stripped and
// blank ones dropped first) and makes the poll of status statusID.
func (s *Service) newPoll(p *PollParams, statusID, author int64, now time.Time) (*store.Poll, error) {
	var opts []store.PollOption
	var seen []string
	for _, o := range p.Options {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		if utf8.RuneCountInString(o) > MaxPollOptionChars {
			return nil, invalid("poll", "options cannot be longer than %d characters each", MaxPollOptionChars)
		}
		if slices.Contains(seen, o) {
			return nil, invalid("poll", "options contain duplicate items")
		}
		seen = append(seen, o)
		opts = append(opts, store.PollOption{Title: o})
	}
	if len(opts) < 2 {
		return nil, invalid("poll", "must have more than one option")
	}
	if len(opts) > MaxPollOptions {
		return nil, invalid("poll", "can't contain more than %d options", MaxPollOptions)
	}
	if p.ExpiresIn < MinPollExpiresIn {
		return nil, invalid("poll", "expires_in is too soon (at least %d seconds)", MinPollExpiresIn)
	}
	if p.ExpiresIn > MaxPollExpiresIn {
		return nil, invalid("poll", "expires_in is too far into the future (at most %d seconds)", MaxPollExpiresIn)
	}
	return &store.Poll{ID: s.ids.Next(), StatusID: statusID, AccountID: author, Options: opts, Multiple: p.Multiple,
		HideTotals: p.HideTotals, ExpiresAt: now.Add(time.Duration(p.ExpiresIn) * time.Second).Truncate(time.Millisecond)}, nil
}

// errPollWithMedia: a status carries a poll or attachments, not both (as on Mastodon).
var errPollWithMedia = invalid("media_ids", "a status with a poll cannot have attachments")

// pollChange is what an edit does to st's poll, as Mastodon's edit does:
// no poll sent removes it; one sent with the same options and multiple
// keeps its votes (taking the new hide_totals and end); any other
// replaces it, its votes reset. nil: nothing changes.
func (s *Service) pollChange(ctx context.Context, st *store.Status, p *PollParams, now time.Time) (*store.PollChange, error) {
	current, err := s.store.PollsForStatuses(ctx, 0, []int64{st.ID})
	if err != nil {
		return nil, err
	}
	old := current[st.ID]
	if p == nil {
		if old == nil {
			return nil, nil
		}
		return &store.PollChange{}, nil
	}
	poll, err := s.newPoll(p, st.ID, st.AccountID, now)
	if err != nil {
		return nil, err
	}
	if old == nil {
		return &store.PollChange{Poll: poll, Reset: true}, nil
	}
	same := old.Multiple == poll.Multiple && len(old.Options) == len(poll.Options)
	for i := range poll.Options {
		same = same && old.Options[i].Title == poll.Options[i].Title
	}
	if same {
		poll.ID = old.ID
	}
	return &store.PollChange{Poll: poll, Reset: !same}, nil
}

// Poll loads the status of poll id, if the viewer may see it, and its poll
// with the viewer's choices.
func (s *Service) Poll(ctx context.Context, viewer, pollID int64) (*store.Status, *store.Poll, error) {
	st, err := s.store.PollStatus(ctx, viewer, pollID)
	if err != nil {
		return nil, nil, err
	}
	polls, err := s.store.PollsForStatuses(ctx, viewer, []int64{st.ID})
	if err != nil {
		return nil, nil, err
	}
	p, ok := polls[st.ID]
	if !ok || p.ID != pollID {
		return nil, nil, store.ErrNotFound
	}
	return st, p, nil
}

// Vote casts voter's choices (option indexes) in a poll the voter may see,
// once, before its end, never in one's own poll, several choices only in
// a multiple-choice poll: Mastodon's VoteValidator. It returns the poll as
// the voter now sees it.
func (s *Service) Vote(ctx context.Context, voter *store.Account, pollID int64, choices []int) (*store.Poll, error) {
	st, p, err := s.Poll(ctx, voter.ID, pollID)
	if err != nil {
		return nil, err
	}
	if p.AccountID == voter.ID {
		return nil, invalid("base", "You cannot vote in your own polls")
	}
	if len(choices) == 0 {
		return nil, invalid("choices", "must name at least one option")
	}
	for i, c := range choices {
		if c < 0 || c >= len(p.Options) {
			return nil, invalid("choices", "%d is not one of the poll's options", c)
		}
		if slices.Contains(choices[:i], c) {
			return nil, invalid("choices", "an option is chosen twice")
		}
	}
	now := s.now().UTC()
	if p.Ended(now) {
		return nil, invalid("base", "The poll has already ended")
	}
	if len(p.OwnVotes) > 0 || (!p.Multiple && len(choices) > 1) {
		return nil, invalid("base", "You have already voted on this poll")
	}
	var send []store.NewJob
	if !st.Local {
		// A vote in a remote poll goes to its author, as Mastodon sends it:
		// a Note per choice naming the option, in reply to the Question.
		for _, c := range choices {
			send = append(send, s.publish(store.Publish{Activity: "Vote", Actor: voter.ID, Status: st.ID,
				Target: p.AccountID, ID: p.ID, Choice: c}))
		}
	}
	switch err := s.store.Vote(ctx, pollID, voter.ID, choices, now, send...); {
	case errors.Is(err, store.ErrAlreadyVoted):
		return nil, invalid("base", "You have already voted on this poll")
	case errors.Is(err, store.ErrPollExpired):
		return nil, invalid("base", "The poll has already ended")
	case err != nil:
		return nil, err
	}
	if len(send) > 0 {
		s.published()
	}
	_, p, err = s.Poll(ctx, voter.ID, pollID)
	return p, err
}

// RemoteVote counts a vote that came from another server: a Note naming
// one option of the poll of a local status (inReplyTo) by its title, from
// an actor who may see the status. One vote per actor, several only in a
// multiple-choice poll, none after the end, none from the author; a title
// that is no option is nothing. ErrNotFound when the status has no poll
// (the Note is then an ordinary reply).
func (s *Service) RemoteVote(ctx context.Context, voter *store.Account, st *store.Status, title string) error {
	if !st.Local || voter.Domain == "" {
		return ErrNotFound
	}
	polls, err := s.store.PollsForStatuses(ctx, 0, []int64{st.ID})
	if err != nil {
		return err
	}
	p := polls[st.ID]
	if p == nil {
		return ErrNotFound
	}
	if _, err := s.store.VisibleStatus(ctx, voter.ID, st.ID); errors.Is(err, store.ErrNotFound) {
		return nil // a vote in a poll the voter may not see is nothing
	} else if err != nil {
		return err
	}
	choice := -1
	for i, o := range p.Options {
		if o.Title == title {
			choice = i
			break
		}
	}
	if choice < 0 || p.AccountID == voter.ID {
		return nil
	}
	switch err := s.store.AddRemoteVote(ctx, p.ID, voter.ID, choice, s.now().UTC()); {
	case errors.Is(err, store.ErrAlreadyVoted), errors.Is(err, store.ErrPollExpired), errors.Is(err, store.ErrNotFound):
		return nil // counted once, and never after the end
	default:
		return err
	}
}

// PollExpireJob is the job store.KindPollExpire, due at a poll's end: its
// voters and its author are told (store.EndPoll, once). A poll whose end
// was moved later puts the job off until then.
func (s *Service) PollExpireJob(ctx context.Context, payload []byte) error {
	var p store.PollExpirePayload
	if err := json.Unmarshal(payload, &p); err != nil || p.Poll <= 0 {
		return jobs.Permanent(fmt.Errorf("poll.expire payload %q", payload))
	}
	// Other servers hear of the final results, as from Mastodon: an Update.
	update := func(status, author int64) *store.NewJob {
		return s.publishStatus(store.Publish{Activity: "Update", Actor: author, Status: status})
	}
	stored, open, err := s.store.EndPoll(ctx, p.Poll, s.now().UTC(), s.ids.Next, update)
	if err != nil {
		return err
	}
	if !open.IsZero() {
		return jobs.Defer(open, "the poll is still open")
	}
	s.published()
	for _, n := range stored {
		s.emit(events.Event{Kind: events.NotificationCreated, Notification: n.ID, Account: n.AccountID})
		s.push(ctx, &n)
	}
	return nil
}
