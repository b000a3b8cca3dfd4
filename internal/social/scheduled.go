package social

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/rampart-social/rampart/internal/jobs"
	"github.com/rampart-social/rampart/internal/store"
)

// Mastodon's bounds on scheduled statuses.
const (
	// ScheduleLead is how far ahead a status must be scheduled.
	ScheduleLead = 5 * time.Minute
	// MaxScheduled is how many an account may have waiting.
	MaxScheduled = 300
	// MaxScheduledDaily is how many may be scheduled for one (UTC) day.
	MaxScheduledDaily = 25
)

var scheduledLimits = store.ScheduledLimits{Total: MaxScheduled, Daily: MaxScheduledDaily}

// ScheduledPoll is a scheduled post's poll, kept as it was asked for.
type ScheduledPoll struct {
	Options    []string `json:"options"`
	ExpiresIn  string   `json:"expires_in"`
	Multiple   bool     `json:"multiple"`
	HideTotals bool     `json:"hide_totals"`
}

// ScheduledParams are a scheduled post's parameters, stored as JSON in
// Mastodon's shape (the params of its ScheduledStatus entity); a field the
// poster did not send is null.
type ScheduledParams struct {
	Text          string         `json:"text"`
	Poll          *ScheduledPoll `json:"poll"`
	MediaIDs      []string       `json:"media_ids"`
	Sensitive     *bool          `json:"sensitive"`
	SpoilerText   *string        `json:"spoiler_text"`
	Visibility    *string        `json:"visibility"`
	InReplyToID   *string        `json:"in_reply_to_id"`
	Language      *string        `json:"language"`
	ApplicationID int64          `json:"application_id,string"` // a string, as every id the API gives
	ScheduledAt   *string        `json:"scheduled_at"`          // always null, as on Mastodon
	Idempotency   *string        `json:"idempotency"`
	WithRateLimit bool           `json:"with_rate_limit"`
}

// Scheduled is a scheduled status with its decoded parameters.
type Scheduled struct {
	*store.ScheduledStatus
	Params ScheduledParams
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// ScheduleOptions are what a scheduled post keeps besides a post's
// parameters.
type ScheduleOptions struct {
	WithRateLimit bool
}

// paramsOf is what a post's parameters are stored as.
func paramsOf(p PostParams, o ScheduleOptions) ScheduledParams {
	sp := ScheduledParams{Text: p.Text, WithRateLimit: o.WithRateLimit, Sensitive: p.Sensitive, SpoilerText: optString(p.SpoilerText),
		Visibility: optString(p.Visibility), Language: optString(p.Language), ApplicationID: p.ApplicationID,
		Idempotency: optString(p.IdempotencyKey)}
	if p.Poll != nil {
		sp.Poll = &ScheduledPoll{Options: p.Poll.Options, ExpiresIn: strconv.FormatInt(p.Poll.ExpiresIn, 10),
			Multiple: p.Poll.Multiple, HideTotals: p.Poll.HideTotals}
	}
	if p.InReplyToID != 0 {
		sp.InReplyToID = optString(strconv.FormatInt(p.InReplyToID, 10))
	}
	for _, id := range p.MediaIDs {
		sp.MediaIDs = append(sp.MediaIDs, strconv.FormatInt(id, 10))
	}
	return sp
}

// postParams turns stored parameters back into a post's.
func (sp ScheduledParams) postParams() (PostParams, error) {
	p := PostParams{Text: sp.Text, Sensitive: sp.Sensitive, SpoilerText: deref(sp.SpoilerText), Visibility: deref(sp.Visibility),
		Language: deref(sp.Language), ApplicationID: sp.ApplicationID}
	if sp.Poll != nil {
		secs, err := strconv.ParseInt(sp.Poll.ExpiresIn, 10, 64)
		if err != nil {
			return p, fmt.Errorf("poll expires_in %q: %w", sp.Poll.ExpiresIn, err)
		}
		p.Poll = &PollParams{Options: sp.Poll.Options, ExpiresIn: secs, Multiple: sp.Poll.Multiple, HideTotals: sp.Poll.HideTotals}
	}
	if sp.InReplyToID != nil {
		id, err := strconv.ParseInt(*sp.InReplyToID, 10, 64)
		if err != nil {
			return p, fmt.Errorf("in_reply_to_id %q: %w", *sp.InReplyToID, err)
		}
		p.InReplyToID = id
	}
	for _, s := range sp.MediaIDs {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return p, fmt.Errorf("media id %q: %w", s, err)
		}
		p.MediaIDs = append(p.MediaIDs, id)
	}
	return p, nil
}

func decodeScheduled(sc *store.ScheduledStatus) (*Scheduled, error) {
	out := &Scheduled{ScheduledStatus: sc}
	if err := json.Unmarshal([]byte(sc.Params), &out.Params); err != nil {
		return nil, fmt.Errorf("scheduled status %d: %w", sc.ID, err)
	}
	return out, nil
}

func (s *Service) checkScheduledAt(at time.Time) error {
	if at.Before(s.now().Add(ScheduleLead)) {
		return invalid("scheduled_at", "The scheduled date must be in the future")
	}
	return nil
}

func scheduleError(err error) error {
	switch {
	case errors.Is(err, store.ErrScheduledTotal):
		return invalid("scheduled_at", "You have exceeded the limit of %d scheduled statuses", MaxScheduled)
	case errors.Is(err, store.ErrScheduledDaily):
		return invalid("scheduled_at", "You have exceeded the limit of %d scheduled statuses for that day", MaxScheduledDaily)
	case errors.Is(err, store.ErrMediaUnavailable):
		return invalid("media_ids", "%v", err)
	}
	return err
}

// Schedule keeps a post to be published at at (at least ScheduleLead
// ahead), held to the posting rules now and again when it is published.
// Its uploads are held for it.
func (s *Service) Schedule(ctx context.Context, author *store.Account, user *store.User, p PostParams, at time.Time, o ScheduleOptions) (*Scheduled, error) {
	if err := s.checkScheduledAt(at); err != nil {
		return nil, err
	}
	if _, err := s.checkPost(ctx, author, user, p); err != nil {
		return nil, err
	}
	if p.Poll != nil { // held to the poll rules now, not only when published
		if _, err := s.newPoll(p.Poll, 0, author.ID, s.now()); err != nil {
			return nil, err
		}
	}
	sp := paramsOf(p, o)
	raw, err := json.Marshal(sp)
	if err != nil {
		return nil, err
	}
	sc := &store.ScheduledStatus{ID: s.ids.Next(), AccountID: author.ID, ScheduledAt: at.UTC(), Params: string(raw),
		Idempotency: p.IdempotencyKey, MediaIDs: p.MediaIDs, CreatedAt: s.now().UTC()}
	err = s.store.CreateScheduledStatus(ctx, sc, scheduledLimits)
	var dup *store.ErrDuplicateScheduled
	if errors.As(err, &dup) {
		return s.ScheduledStatus(ctx, author, dup.ID) // the request repeated: what it scheduled
	}
	if err != nil {
		return nil, scheduleError(err)
	}
	s.published()
	return &Scheduled{ScheduledStatus: sc, Params: sp}, nil
}

// ScheduledStatus loads one of account's scheduled statuses.
func (s *Service) ScheduledStatus(ctx context.Context, account *store.Account, id int64) (*Scheduled, error) {
	sc, err := s.store.ScheduledStatusByID(ctx, account.ID, id)
	if err != nil {
		return nil, err
	}
	return decodeScheduled(sc)
}

// ScheduledStatuses pages account's scheduled statuses.
func (s *Service) ScheduledStatuses(ctx context.Context, account *store.Account, page store.Page) ([]*Scheduled, error) {
	list, err := s.store.ScheduledStatuses(ctx, account.ID, page)
	if err != nil {
		return nil, err
	}
	out := make([]*Scheduled, 0, len(list))
	for i := range list {
		sc, err := decodeScheduled(&list[i])
		if err != nil {
			return nil, err
		}
		out = append(out, sc)
	}
	return out, nil
}

// Reschedule moves one of account's scheduled statuses to at (at least
// ScheduleLead ahead).
func (s *Service) Reschedule(ctx context.Context, account *store.Account, id int64, at time.Time) (*Scheduled, error) {
	if err := s.checkScheduledAt(at); err != nil {
		return nil, err
	}
	if err := s.store.RescheduleStatus(ctx, account.ID, id, at.UTC(), scheduledLimits); err != nil {
		return nil, scheduleError(err)
	}
	s.published()
	return s.ScheduledStatus(ctx, account, id)
}

// CancelScheduled deletes one of account's scheduled statuses.
func (s *Service) CancelScheduled(ctx context.Context, account *store.Account, id int64) error {
	return s.store.DeleteScheduledStatus(ctx, account.ID, id)
}

// PublishScheduledJob is the job store.KindPublishScheduled: it posts a
// scheduled status whose time has come, through Post (the same rules,
// fan-out and federation), removing it in the post's transaction, so that
// a job run twice publishes once. A status cancelled, published already, or
// moved later (its new time has its own job) is nothing to do.
func (s *Service) PublishScheduledJob(ctx context.Context, payload []byte) error {
	var p store.ScheduledPayload
	if err := json.Unmarshal(payload, &p); err != nil || p.ID <= 0 {
		return jobs.Permanent(fmt.Errorf("scheduled status payload %q", payload))
	}
	stored, err := s.store.ScheduledStatusByID(ctx, 0, p.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if stored.ScheduledAt.After(s.now()) {
		return nil
	}
	sc, err := decodeScheduled(stored)
	if err != nil {
		return jobs.Permanent(err)
	}
	post, err := sc.Params.postParams()
	if err != nil {
		return jobs.Permanent(err)
	}
	// The uploads held for it are what it attaches, in their order.
	post.MediaIDs, post.ScheduledID = stored.MediaIDs, stored.ID
	author, err := s.usableAccount(ctx, stored.AccountID)
	if err != nil {
		return jobs.Permanent(fmt.Errorf("scheduled status %d: its account: %w", stored.ID, err))
	}
	user, err := s.store.UserByAccountID(ctx, author.ID)
	if err != nil {
		return err
	}
	_, err = s.Post(ctx, author, user, post)
	var ve *ValidationError
	switch {
	case errors.Is(err, store.ErrNotFound):
		if _, gone := s.store.ScheduledStatusByID(ctx, 0, p.ID); errors.Is(gone, store.ErrNotFound) {
			return nil // cancelled meanwhile, or published by another run
		}
		// The status it answers is gone: it stays listed for its author,
		// and the job is kept as dead.
		return jobs.Permanent(err)
	case errors.As(err, &ve):
		return jobs.Permanent(err) // it no longer passes the rules
	}
	return err
}
