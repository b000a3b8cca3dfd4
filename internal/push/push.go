package push

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/id"
	"github.com/rampart-social/rampart/internal/jobs"
	"github.com/rampart-social/rampart/internal/outbound"
	"github.com/rampart-social/rampart/internal/sealed"
	"github.com/rampart-social/rampart/internal/store"
)

// Alerts are the notification types a subscription can ask for
// (Mastodon's data[alerts]).
var Alerts = []string{"mention", "status", "reblog", "follow", "follow_request", "favourite", "poll", "update", "admin.sign_up", "admin.report"}

// Policies are whose notifications a subscription takes (data[policy]).
var Policies = []string{"all", "followed", "follower", "none"}

// VAPIDSetting is the instance setting holding the VAPID private key
// (base64url of the raw P-256 scalar): made once, shared by every process.
const VAPIDSetting = "push_vapid_private_key"

// maxEndpoint bounds a subscription's endpoint URL.
const maxEndpoint = 2048

// pushTTL is how long a push service keeps an undelivered message
// (Mastodon's 48 hours).
const pushTTL = 48 * 60 * 60

// ValidationError is a subscription the request got wrong.
type ValidationError struct{ Field, Msg string }

func (e *ValidationError) Error() string { return e.Field + " " + e.Msg }

// Service keeps the subscriptions and sends the pushes.
type Service struct {
	store   *store.Store
	ids     *id.Generator
	client  *outbound.Client
	log     *slog.Logger
	vapid   *ecdsa.PrivateKey
	public  []byte      // the VAPID public key, uncompressed point
	sealer  *sealed.Box // seals the access token each subscription keeps
	subject string
	icon    func(*store.Account) string
	now     func() time.Time
}

// New loads (or makes, once for every process sharing the database) the
// instance's VAPID key.
func New(ctx context.Context, cfg *config.Config, st *store.Store, ids *id.Generator, client *outbound.Client, log *slog.Logger) (*Service, error) {
	fresh, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	stored, err := st.SettingOnce(ctx, VAPIDSetting, b64.EncodeToString(fresh.Bytes()))
	if err != nil {
		return nil, fmt.Errorf("vapid key: %w", err)
	}
	raw, err := b64.DecodeString(stored)
	if err != nil {
		return nil, fmt.Errorf("vapid key: %w", err)
	}
	key, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), raw)
	if err != nil {
		return nil, fmt.Errorf("vapid key: %w", err)
	}
	public, err := key.PublicKey.Bytes()
	if err != nil {
		return nil, fmt.Errorf("vapid key: %w", err)
	}
	seal, err := cfg.SecretKey.Derive("rampart push token v1")
	if err != nil {
		return nil, fmt.Errorf("secret_key: %w", err)
	}
	sealer, err := sealed.New(seal[:16])
	if err != nil {
		return nil, err
	}
	return &Service{store: st, ids: ids, client: client, log: log, vapid: key, public: public, sealer: sealer,
		subject: cfg.InstanceURL().String(), icon: func(*store.Account) string { return "" }, now: time.Now}, nil
}

// WithIcon sets how an account's avatar URL is made (the API's rule).
func (s *Service) WithIcon(icon func(*store.Account) string) *Service {
	s.icon = icon
	return s
}

// PublicKey is the VAPID public key, base64url of the uncompressed point
// (the subscription's server_key, the instance's vapid.public_key).
func (s *Service) PublicKey() string { return b64.EncodeToString(s.public) }

// Data is a subscription's choice of alerts and policy.
type Data struct {
	Alerts map[string]bool // only the types named; others false
	Policy string          // "" keeps the current (or "all")
}

// Subscribe makes token's subscription, replacing any it had. rawToken is
// the access token itself, sealed and sent back in each push (Mastodon's
// payload carries it so the app knows which account it is for).
func (s *Service) Subscribe(ctx context.Context, token *store.Token, rawToken, endpoint, p256dh, auth string, standard bool, d Data) (*store.PushSubscription, error) {
	u, err := url.Parse(endpoint)
	if endpoint == "" || len(endpoint) > maxEndpoint || err != nil || !s.schemeAllowed(u) || u.Host == "" || u.User != nil {
		return nil, &ValidationError{"endpoint", "is not a valid https URL"}
	}
	if _, err := ParseSubscriber(p256dh, auth); err != nil {
		return nil, &ValidationError{"keys", err.Error()}
	}
	policy, err := checkPolicy(d.Policy)
	if err != nil {
		return nil, err
	}
	sealed, err := s.seal(rawToken)
	if err != nil {
		return nil, err
	}
	p := &store.PushSubscription{ID: s.ids.Next(), TokenID: token.ID, AccountID: token.AccountID, Endpoint: endpoint,
		P256DH: p256dh, Auth: auth, Standard: standard, Alerts: alertList(d.Alerts), Policy: policy, SealedToken: sealed,
		CreatedAt: s.now().UTC()}
	if err := s.store.PutPushSubscription(ctx, p); err != nil {
		return nil, err
	}
	return p, nil
}

// Subscription is token's subscription; store.ErrNotFound when none.
func (s *Service) Subscription(ctx context.Context, token int64) (*store.PushSubscription, error) {
	p, err := s.store.PushSubscriptionOfToken(ctx, token)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, store.ErrNotFound
	}
	return p, nil
}

// Update changes the alerts and policy of token's subscription. Like
// Mastodon, the alerts given replace them all; a policy not given stays.
func (s *Service) Update(ctx context.Context, token int64, d Data) (*store.PushSubscription, error) {
	p, err := s.Subscription(ctx, token)
	if err != nil {
		return nil, err
	}
	policy := p.Policy
	if d.Policy != "" {
		if policy, err = checkPolicy(d.Policy); err != nil {
			return nil, err
		}
	}
	alerts := p.Alerts
	if d.Alerts != nil {
		alerts = alertList(d.Alerts)
	}
	if _, err := s.store.UpdatePushSubscriptionData(ctx, token, alerts, policy); err != nil {
		return nil, err
	}
	p.Alerts, p.Policy = alerts, policy
	return p, nil
}

// Unsubscribe ends token's subscription (none: nothing to do).
func (s *Service) Unsubscribe(ctx context.Context, token int64) error {
	return s.store.DeletePushSubscriptionOfToken(ctx, token)
}

// schemeAllowed: https, or http for a host on the outbound guard's test
// allow-list (tests between processes on one machine).
func (s *Service) schemeAllowed(u *url.URL) bool {
	return u.Scheme == "https" || u.Scheme == "http" && slices.Contains(s.client.Schemes(u.Host), "http")
}

func checkPolicy(p string) (string, error) {
	if p == "" {
		return "all", nil
	}
	if !slices.Contains(Policies, p) {
		return "", &ValidationError{"policy", "is not one of all, followed, follower, none"}
	}
	return p, nil
}

func alertList(m map[string]bool) []string {
	var out []string
	for _, a := range Alerts {
		if m[a] {
			out = append(out, a)
		}
	}
	return out
}

// seal encrypts the access token under a key derived from secret_key
// (internal/sealed).
func (s *Service) seal(token string) (string, error) {
	return s.sealer.Seal([]byte(token), nil), nil
}

func (s *Service) unseal(v string) (string, error) {
	plain, err := s.sealer.Open(v, nil)
	if err != nil {
		return "", fmt.Errorf("sealed token: %w", err)
	}
	return string(plain), nil
}

// Notified enqueues the pushes of a notification just stored (the social
// service calls it after each one it shows). A failure loses pushes, not
// the notification: it is logged.
func (s *Service) Notified(ctx context.Context, n *store.Notification) {
	if _, err := s.store.EnqueuePushes(ctx, n); err != nil {
		s.log.Warn("enqueue pushes", "notification", n.ID, "err", err)
	}
}

// Payload is what Mastodon sends in a push (Web::NotificationSerializer).
type Payload struct {
	AccessToken      string `json:"access_token"`
	PreferredLocale  string `json:"preferred_locale"`
	NotificationID   int64  `json:"notification_id"`
	NotificationType string `json:"notification_type"`
	Icon             string `json:"icon"`
	Title            string `json:"title"`
	Body             string `json:"body"`
}

// Job sends one push (a push.deliver job). The subscription or the
// notification gone, there is nothing to send. 404/410 from the push
// service ends the subscription; 429 and 5xx retry; other failures of
// the request are permanent.
func (s *Service) Job(ctx context.Context, payload []byte) error {
	var d store.PushDelivery
	if err := json.Unmarshal(payload, &d); err != nil {
		return jobs.Permanent(fmt.Errorf("push payload: %w", err))
	}
	sub, err := s.store.PushSubscription(ctx, d.Subscription)
	if err != nil || sub == nil {
		return err
	}
	n, err := s.store.NotificationByID(ctx, sub.AccountID, d.Notification)
	if err != nil || n == nil {
		return err
	}
	body, err := s.payload(ctx, sub, n)
	if errors.Is(err, store.ErrNotFound) {
		return nil // its sender is gone: so is the notification's point
	}
	if err != nil {
		return err
	}
	req, err := s.Request(ctx, sub, body)
	if err != nil {
		return jobs.Permanent(err)
	}
	resp, err := s.client.Do(ctx, req, nil)
	if err != nil {
		var refused *outbound.RefusedError
		if errors.As(err, &refused) {
			return jobs.Permanent(err)
		}
		return fmt.Errorf("push to %s: %w", req.URL.Host, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		// The push service forgot the subscription: so do we.
		return s.store.DeletePushSubscription(ctx, sub.ID)
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return fmt.Errorf("push to %s: %s", req.URL.Host, resp.Status)
	default:
		return jobs.Permanent(fmt.Errorf("push to %s: %s", req.URL.Host, resp.Status))
	}
}

// Request builds the encrypted, VAPID-signed POST of plaintext to sub's
// endpoint, in the subscription's encoding.
func (s *Service) Request(ctx context.Context, sub *store.PushSubscription, plaintext []byte) (*http.Request, error) {
	if len(plaintext) > maxPlaintext {
		return nil, fmt.Errorf("push payload of %d bytes is too large", len(plaintext))
	}
	rcpt, err := ParseSubscriber(sub.P256DH, sub.Auth)
	if err != nil {
		return nil, err
	}
	eph, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	jwt, err := VAPIDToken(s.vapid, sub.Endpoint, s.subject, s.now())
	if err != nil {
		return nil, err
	}
	salt := newSalt()
	h := http.Header{}
	var body []byte
	if sub.Standard {
		body, err = Encrypt128GCM(plaintext, rcpt, eph, salt)
		h.Set("Content-Encoding", "aes128gcm")
		h.Set("Authorization", "vapid t="+jwt+", k="+s.PublicKey())
	} else {
		body, err = EncryptAESGCM(plaintext, rcpt, eph, salt)
		h.Set("Content-Encoding", "aesgcm")
		h.Set("Encryption", "salt="+b64.EncodeToString(salt))
		h.Set("Crypto-Key", "dh="+b64.EncodeToString(eph.PublicKey().Bytes())+";p256ecdsa="+s.PublicKey())
		h.Set("Authorization", "WebPush "+jwt)
	}
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.Endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("TTL", strconv.Itoa(pushTTL))
	req.Header.Set("Urgency", "normal")
	return req, nil
}

// payload renders the notification as Mastodon's push JSON.
func (s *Service) payload(ctx context.Context, sub *store.PushSubscription, n *store.Notification) ([]byte, error) {
	token, err := s.unseal(sub.SealedToken)
	if err != nil {
		return nil, jobs.Permanent(err)
	}
	from, err := s.store.AccountByID(ctx, n.FromAccountID)
	if err != nil {
		return nil, err
	}
	locale := "en"
	if u, err := s.store.UserByAccountID(ctx, sub.AccountID); err == nil && u.Locale != "" {
		locale = u.Locale
	}
	p := Payload{AccessToken: token, PreferredLocale: locale, NotificationID: n.ID, NotificationType: n.Type,
		Icon: s.icon(from), Title: title(n.Type, displayName(from))}
	if n.StatusID != 0 {
		if st, err := s.store.StatusByID(ctx, n.StatusID); err == nil {
			p.Body = st.SpoilerText
			if p.Body == "" {
				p.Body = plain(st.Content)
			}
		}
	} else if n.Type == "follow" || n.Type == "follow_request" {
		p.Body = plain(from.Note)
	}
	p.Body = truncate(p.Body, 140)
	return json.Marshal(p)
}

func displayName(a *store.Account) string {
	if strings.TrimSpace(a.DisplayName) != "" {
		return a.DisplayName
	}
	return a.Username
}

// title is Mastodon's English title of each type.
func title(typ, name string) string {
	switch typ {
	case "mention":
		return name + " mentioned you"
	case "status":
		return name + " just posted"
	case "reblog":
		return name + " boosted your post"
	case "follow":
		return name + " followed you"
	case "follow_request":
		return "New follow request from " + name
	case "favourite":
		return name + " favorited your post"
	case "poll":
		return "A poll by " + name + " has ended"
	case "update":
		return name + " edited a post"
	case "admin.sign_up":
		return name + " signed up"
	case "admin.report":
		return "New report from " + name
	}
	return "New notification from " + name
}

var tags = regexp.MustCompile(`<[^>]*>`)

// plain is the text of sanitized HTML, for a notification's body.
func plain(s string) string {
	s = strings.ReplaceAll(s, "</p><p>", "\n\n")
	s = strings.ReplaceAll(s, "<br>", "\n")
	return strings.TrimSpace(html.UnescapeString(tags.ReplaceAllString(s, "")))
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
