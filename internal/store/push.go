package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// KindPushDeliver is the job that encrypts one notification for one Web
// Push subscription and sends it to the push service.
const KindPushDeliver = "push.deliver"

// PushSubscription is a Web Push subscription: where to send an
// account's notifications, with the subscriber's keys, for one token.
type PushSubscription struct {
	ID          int64
	TokenID     int64
	AccountID   int64
	Endpoint    string
	P256DH      string // the subscriber's public key, base64url (as given)
	Auth        string // the subscriber's auth secret, base64url (as given)
	Standard    bool   // RFC 8291 aes128gcm; else the legacy aesgcm
	Alerts      []string
	Policy      string // all, followed, follower, none
	SealedToken string
	CreatedAt   time.Time
}

// PushDelivery is what a push.deliver job carries.
type PushDelivery struct {
	Subscription int64 `json:"subscription"`
	Notification int64 `json:"notification"`
}

const pushCols = `id, token_id, account_id, endpoint, p256dh, auth, standard, alerts, policy, sealed_token, created_at`

func scanPush(row interface{ Scan(...any) error }) (*PushSubscription, error) {
	var p PushSubscription
	var alerts string
	var standard int
	var created int64
	if err := row.Scan(&p.ID, &p.TokenID, &p.AccountID, &p.Endpoint, &p.P256DH, &p.Auth, &standard, &alerts, &p.Policy, &p.SealedToken, &created); err != nil {
		return nil, err
	}
	p.Standard = standard != 0
	p.Alerts = strings.Fields(alerts)
	p.CreatedAt = time.UnixMilli(created).UTC()
	return &p, nil
}

// PutPushSubscription stores p as its token's one subscription, replacing
// the one the token had (Mastodon: subscribing again replaces it).
func (s *Store) PutPushSubscription(ctx context.Context, p *PushSubscription) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("push subscription: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM push_subscriptions WHERE token_id = ?`, p.TokenID); err != nil {
		return fmt.Errorf("push subscription: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO push_subscriptions (`+pushCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.ID, p.TokenID, p.AccountID, p.Endpoint, p.P256DH, p.Auth, boolInt(p.Standard), strings.Join(p.Alerts, " "), p.Policy,
		p.SealedToken, ms(p.CreatedAt)); err != nil {
		return fmt.Errorf("push subscription: %w", err)
	}
	return tx.Commit()
}

// PushSubscriptionOfToken returns the token's subscription (nil: none).
func (s *Store) PushSubscriptionOfToken(ctx context.Context, token int64) (*PushSubscription, error) {
	p, err := scanPush(s.read.QueryRowContext(ctx, `SELECT `+pushCols+` FROM push_subscriptions WHERE token_id = ?`, token))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("push subscription: %w", err)
	}
	return p, nil
}

// PushSubscription returns a subscription by id (nil: gone).
func (s *Store) PushSubscription(ctx context.Context, id int64) (*PushSubscription, error) {
	p, err := scanPush(s.read.QueryRowContext(ctx, `SELECT `+pushCols+` FROM push_subscriptions WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("push subscription: %w", err)
	}
	return p, nil
}

// UpdatePushSubscriptionData changes the token's subscription's alerts
// and policy; it reports whether the token has one.
func (s *Store) UpdatePushSubscriptionData(ctx context.Context, token int64, alerts []string, policy string) (bool, error) {
	res, err := s.write.ExecContext(ctx, `UPDATE push_subscriptions SET alerts = ?, policy = ? WHERE token_id = ?`,
		strings.Join(alerts, " "), policy, token)
	if err != nil {
		return false, fmt.Errorf("push subscription: %w", err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// DeletePushSubscriptionOfToken ends the token's subscription, if any.
func (s *Store) DeletePushSubscriptionOfToken(ctx context.Context, token int64) error {
	if _, err := s.write.ExecContext(ctx, `DELETE FROM push_subscriptions WHERE token_id = ?`, token); err != nil {
		return fmt.Errorf("push subscription: %w", err)
	}
	return nil
}

// DeletePushSubscription ends a subscription the push service says is
// gone (404/410).
func (s *Store) DeletePushSubscription(ctx context.Context, id int64) error {
	if _, err := s.write.ExecContext(ctx, `DELETE FROM push_subscriptions WHERE id = ?`, id); err != nil {
		return fmt.Errorf("push subscription: %w", err)
	}
	return nil
}

// pushPolicySQL is the rule of a subscription's policy (p) for a
// notification from sender to its recipient (p.account_id): all, none,
// followed (the recipient follows the sender), follower (the sender
// follows the recipient).
const pushPolicySQL = `(p.policy = 'all'
	OR (p.policy = 'followed' AND EXISTS (SELECT 1 FROM follows f WHERE f.account_id = p.account_id AND f.target_account_id = ?))
	OR (p.policy = 'follower' AND EXISTS (SELECT 1 FROM follows f WHERE f.account_id = ? AND f.target_account_id = p.account_id)))`

// EnqueuePushes writes a push.deliver job for each subscription of the
// notification's recipient whose alerts take its type and whose policy
// takes its sender, and whose token has not expired (a revoked one took
// its subscription with it), in one transaction. It returns how many.
func (s *Store) EnqueuePushes(ctx context.Context, n *Notification) (int, error) {
	now := time.Now()
	rows, err := s.read.QueryContext(ctx, `SELECT p.id, p.endpoint, p.alerts FROM push_subscriptions p JOIN oauth_tokens t ON t.id = p.token_id
		WHERE p.account_id = ? AND (t.expires_at IS NULL OR t.expires_at > ?) AND `+pushPolicySQL,
		n.AccountID, ms(now), n.FromAccountID, n.FromAccountID)
	if err != nil {
		return 0, fmt.Errorf("push subscriptions: %w", err)
	}
	var jobs []NewJob
	for rows.Next() {
		var id int64
		var endpoint, alerts string
		if err := rows.Scan(&id, &endpoint, &alerts); err != nil {
			rows.Close()
			return 0, fmt.Errorf("push subscriptions: %w", err)
		}
		if !hasField(alerts, n.Type) {
			continue
		}
		payload, _ := json.Marshal(PushDelivery{Subscription: id, Notification: n.ID})
		host := ""
		if u, err := url.Parse(endpoint); err == nil {
			host = u.Host
		}
		jobs = append(jobs, NewJob{Kind: KindPushDeliver, Payload: payload, Host: host})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("push subscriptions: %w", err)
	}
	if len(jobs) == 0 {
		return 0, nil
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("enqueue pushes: %w", err)
	}
	defer tx.Rollback()
	for _, j := range jobs {
		if err := enqueue(ctx, tx, j, now); err != nil {
			return 0, err
		}
	}
	return len(jobs), tx.Commit()
}

func hasField(list, word string) bool {
	for _, f := range strings.Fields(list) {
		if f == word {
			return true
		}
	}
	return false
}

// NotificationByID returns one notification of recipient (nil: gone).
func (s *Store) NotificationByID(ctx context.Context, recipient, id int64) (*Notification, error) {
	n, err := scanNotification(s.read.QueryRowContext(ctx, `SELECT `+notificationCols+` FROM notifications n WHERE n.id = ? AND n.account_id = ?`, id, recipient))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("notification: %w", err)
	}
	return &n, nil
}
