package social

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/rampart-social/rampart/internal/events"
	"github.com/rampart-social/rampart/internal/store"
)

// What a notification policy does with the notifications one of its rules
// covers (Mastodon 4.3's NotificationPolicy).
const (
	PolicyAccept = "accept" // as any other
	PolicyFilter = "filter" // stored, held back in a notification request
	PolicyDrop   = "drop"   // never stored
)

// DefaultNotificationPolicy is the policy of an account that never set
// one: Mastodon 4.3's defaults, which hold back private mentions from
// strangers and notifications from limited (silenced) accounts.
var DefaultNotificationPolicy = store.NotificationPolicy{
	ForNotFollowing: PolicyAccept, ForNotFollowers: PolicyAccept, ForNewAccounts: PolicyAccept,
	ForPrivateMentions: PolicyFilter, ForLimitedAccounts: PolicyFilter,
}

// filterableTypes are the notification types a policy applies to, as on
// Mastodon: a followed account's new post or edit is always let through.
var filterableTypes = map[string]bool{"mention": true, "reblog": true, "follow": true, "follow_request": true, "favourite": true}

// As Mastodon: an account is new for 30 days, a follower for 3.
const (
	newAccountAge  = 30 * 24 * time.Hour
	newFollowerAge = 3 * 24 * time.Hour
)

// policyDecision applies the recipient's policy to a notification of typ:
// accept, filter or drop. A drop by any rule that covers the notification
// wins over a filter.
func policyDecision(f store.NotificationFacts, typ string, now time.Time) string {
	if !filterableTypes[typ] || f.Permitted {
		return PolicyAccept
	}
	p := f.Policy
	if !f.PolicyFound {
		p = DefaultNotificationPolicy
	}
	notFollowing := !f.Following
	notFollower := f.FollowerAt.IsZero() || f.FollowerAt.After(now.Add(-newFollowerAge))
	newAccount := f.SenderSince.After(now.Add(-newAccountAge))
	// Replies to one's own private mentions, and accounts one follows, are
	// always let through.
	privateMention := typ == "mention" && f.Direct && !f.RepliesToDMs
	out := PolicyAccept
	for _, rule := range []struct {
		value   string
		applies bool
	}{
		{p.ForLimitedAccounts, f.Limited && notFollowing},
		{p.ForNotFollowing, notFollowing},
		{p.ForNotFollowers, notFollower},
		{p.ForNewAccounts, newAccount && notFollowing},
		{p.ForPrivateMentions, privateMention && notFollowing},
	} {
		if !rule.applies {
			continue
		}
		switch rule.value {
		case PolicyDrop:
			return PolicyDrop
		case PolicyFilter:
			out = PolicyFilter
		}
	}
	return out
}

// notify stores a notification, as the recipient's notification policy
// has it: dropped, held back in a request, or stored in its group. A
// failure is not the caller's failure, but it is not hidden either.
func (s *Service) notify(ctx context.Context, to, from int64, typ string, status int64) error {
	if to == from {
		return nil
	}
	n := &store.Notification{ID: s.ids.Next(), AccountID: to, FromAccountID: from, Type: typ, StatusID: status, CreatedAt: s.now().UTC()}
	if filterableTypes[typ] {
		facts, err := s.store.NotificationFactsFor(ctx, to, from, status)
		if err != nil {
			return err
		}
		switch policyDecision(facts, typ, n.CreatedAt) {
		case PolicyDrop:
			return nil
		case PolicyFilter:
			_, err := s.store.CreateFilteredNotification(ctx, n, s.ids.Next())
			return err
		}
	}
	key, err := s.groupKey(ctx, to, typ, status, n.CreatedAt)
	if err != nil {
		return err
	}
	n.GroupKey = key
	stored, err := s.store.CreateNotification(ctx, n)
	if stored {
		s.emit(events.Event{Kind: events.NotificationCreated, Notification: n.ID, Account: to})
		s.push(ctx, n)
	}
	return err
}

// GroupableTypes are the notification types grouped (Mastodon 4.3's).
var GroupableTypes = []string{"favourite", "follow", "reblog"}

// maxGroupSpanHours: a group takes notifications for 12 hours from its
// first one's hour, then the next starts (Mastodon's MAXIMUM_GROUP_SPAN_HOURS).
const maxGroupSpanHours = 12

// groupKey is the group a new notification joins, as Mastodon names them:
// favourites and reblogs of one status ("favourite-<status>-<hour>"), and
// follows ("follow-<hour>"), where hour is the hour (since the epoch) the
// group began. Other types are not grouped ("").
func (s *Service) groupKey(ctx context.Context, to int64, typ string, status int64, at time.Time) (string, error) {
	var prefix string
	switch typ {
	case "favourite", "reblog":
		prefix = typ + "-" + strconv.FormatInt(status, 10)
	case "follow":
		prefix = typ
	default:
		return "", nil
	}
	bucket := at.Unix() / 3600
	latest, err := s.store.LatestNotificationGroupKey(ctx, to, prefix)
	if err != nil {
		return "", err
	}
	if prev, err := strconv.ParseInt(strings.TrimPrefix(latest, prefix+"-"), 10, 64); err == nil && bucket >= prev && bucket < prev+maxGroupSpanHours {
		bucket = prev
	}
	return prefix + "-" + strconv.FormatInt(bucket, 10), nil
}

// NotificationPolicySummary is the policy with what it holds back.
type NotificationPolicySummary struct {
	store.NotificationPolicy
	PendingRequests      int64
	PendingNotifications int64
}

// NotificationPolicy returns the viewer's policy and what it holds back.
func (s *Service) NotificationPolicy(ctx context.Context, viewer int64) (*NotificationPolicySummary, error) {
	p, found, err := s.store.NotificationPolicyOf(ctx, viewer)
	if err != nil {
		return nil, err
	}
	if !found {
		p = DefaultNotificationPolicy
	}
	out := &NotificationPolicySummary{NotificationPolicy: p}
	out.PendingRequests, out.PendingNotifications, err = s.store.NotificationRequestsSummary(ctx, viewer)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateNotificationPolicy changes the rules given (by their API names,
// for_not_following…), each to accept, filter or drop; the others keep
// their values.
func (s *Service) UpdateNotificationPolicy(ctx context.Context, viewer int64, changes map[string]string) (*NotificationPolicySummary, error) {
	p, found, err := s.store.NotificationPolicyOf(ctx, viewer)
	if err != nil {
		return nil, err
	}
	if !found {
		p = DefaultNotificationPolicy
	}
	fields := map[string]*string{"for_not_following": &p.ForNotFollowing, "for_not_followers": &p.ForNotFollowers,
		"for_new_accounts": &p.ForNewAccounts, "for_private_mentions": &p.ForPrivateMentions, "for_limited_accounts": &p.ForLimitedAccounts}
	for name, v := range changes {
		f, ok := fields[name]
		if !ok {
			continue
		}
		switch v {
		case PolicyAccept, PolicyFilter, PolicyDrop:
			*f = v
		default:
			return nil, invalid(name, "must be accept, filter or drop")
		}
	}
	if err := s.store.SetNotificationPolicy(ctx, viewer, p, s.now().UTC()); err != nil {
		return nil, err
	}
	return s.NotificationPolicy(ctx, viewer)
}

// NotificationRequests lists the viewer's notification requests (id 0), or
// the one with that id (ErrNotFound when it is not the viewer's).
func (s *Service) NotificationRequests(ctx context.Context, viewer, id int64, p store.Page) ([]store.NotificationRequest, error) {
	if id != 0 {
		p = store.Page{Limit: 1}
	}
	list, err := s.store.NotificationRequests(ctx, viewer, id, p)
	if err == nil && id != 0 && len(list) == 0 {
		return nil, ErrNotFound
	}
	return list, err
}

// SettleNotificationRequests accepts (or dismisses) the viewer's requests
// with these ids. With one, that one must be the viewer's (ErrNotFound);
// of several, those that are not are passed over, as Mastodon does.
func (s *Service) SettleNotificationRequests(ctx context.Context, viewer int64, ids []int64, accept, single bool) error {
	var n int64
	var err error
	if accept {
		n, err = s.store.AcceptNotificationRequests(ctx, viewer, ids, s.now().UTC())
	} else {
		n, err = s.store.DismissNotificationRequests(ctx, viewer, ids)
	}
	if err == nil && single && n == 0 {
		return ErrNotFound
	}
	return err
}

// lastRead is the viewer's notifications read marker (0: none saved).
func (s *Service) lastRead(ctx context.Context, viewer int64) (int64, error) {
	m, err := s.store.Markers(ctx, viewer, []string{"notifications"})
	if err != nil {
		return 0, err
	}
	return m["notifications"].LastReadID, nil
}

// unreadScanFactor bounds the notifications read to count unread groups:
// limit groups are looked for among at most this many times as many.
const unreadScanFactor = 4

// UnreadNotifications counts, up to limit, the viewer's notifications under
// f newer than the read marker; grouped, it counts their groups (grouped
// as groupedTypes allows, nil: every groupable type).
func (s *Service) UnreadNotifications(ctx context.Context, viewer int64, f store.NotificationFilter, limit int, grouped bool, groupedTypes []string) (int, error) {
	after, err := s.lastRead(ctx, viewer)
	if err != nil {
		return 0, err
	}
	scan := limit
	if grouped {
		scan = limit * unreadScanFactor
	}
	list, err := s.store.UnreadNotifications(ctx, viewer, f, after, scan)
	if err != nil || !grouped {
		return len(list), err
	}
	groupable := groupableSet(groupedTypes)
	seen := map[string]bool{}
	for _, n := range list {
		seen[effectiveGroupKey(n.ID, n.Type, n.GroupKey, groupable)] = true
		if len(seen) == limit {
			break
		}
	}
	return len(seen), nil
}

// groupableSet is the types grouped: those of requested that Rampart
// groups, or all of them when the client did not say.
func groupableSet(requested []string) map[string]bool {
	out := map[string]bool{}
	for _, t := range GroupableTypes {
		out[t] = requested == nil
	}
	for _, t := range requested {
		if _, ok := out[t]; ok {
			out[t] = true
		}
	}
	return out
}

// effectiveGroupKey is a notification's group as a client asked: its own
// when its type is grouped, otherwise "ungrouped-<id>".
func effectiveGroupKey(id int64, typ, key string, groupable map[string]bool) string {
	if key != "" && groupable[typ] {
		return key
	}
	return UngroupedKey(id)
}

// UngroupedKey is the group key of a notification in a group of its own.
func UngroupedKey(id int64) string { return "ungrouped-" + strconv.FormatInt(id, 10) }
