package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/rampart-social/rampart/internal/hostname"
)

// ErrDomainBlocked: the account or document is on a blocked domain.
var ErrDomainBlocked = errors.New("the domain is blocked")

// DomainBlock is a blocked domain (and its subdomains).
type DomainBlock struct {
	Domain    string
	Reason    string
	CreatedAt time.Time
	// Severity is SeveritySuspend, SeveritySilence or SeverityNoop.
	Severity    string
	RejectMedia bool
}

// Severities of a domain block, Mastodon's.
const (
	// SeveritySuspend: nothing federates; the domain's accounts go.
	SeveritySuspend = "suspend"
	// SeveritySilence: its accounts stay, out of the public timelines;
	// their follows need approval; they notify only whom they are followed
	// by.
	SeveritySilence = "silence"
	// SeverityNoop: neither, for RejectMedia alone.
	SeverityNoop = "noop"
)

// blockChunk is how many accounts one statement of BlockDomain removes,
// well inside SQLite's limit on bound parameters.
const blockChunk = 500

// BlockDomain blocks domain and its subdomains (a new reason replaces an
// older one) and, in the same transaction, removes the stored accounts on
// them, whose statuses, follows, favourites, mentions and notifications go
// with them by ON DELETE CASCADE: Mastodon's "suspend". It returns how many
// accounts were removed. The counters kept in the remaining statuses
// (replies, reblogs, favourites) are brought down by what was removed.
func (s *Store) BlockDomain(ctx context.Context, domain, reason string, at time.Time) (removed int, err error) {
	d, ok := hostname.Domain(domain)
	if !ok {
		return 0, fmt.Errorf("block domain %q: not a domain name", domain)
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("block domain %s: %w", d, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO domain_blocks (domain, reason, created_at, severity, reject_media) VALUES (?, ?, ?, 'suspend', 0)
		ON CONFLICT (domain) DO UPDATE SET reason = excluded.reason, severity = 'suspend', reject_media = 0`, d, reason, ms(at)); err != nil {
		return 0, fmt.Errorf("block domain %s: %w", d, err)
	}
	// instr narrows the scan to domains containing d; Suffixes decides,
	// with the port dropped, as DomainBlocked does.
	rows, err := tx.QueryContext(ctx, `SELECT id, domain FROM accounts WHERE domain <> '' AND instr(domain, ?) > 0`, d)
	if err != nil {
		return 0, fmt.Errorf("block domain %s: %w", d, err)
	}
	var doomed []int64
	for rows.Next() {
		var id int64
		var host string
		if err := rows.Scan(&id, &host); err != nil {
			rows.Close()
			return 0, fmt.Errorf("block domain %s: %w", d, err)
		}
		if slices.Contains(hostname.Suffixes(host), d) {
			doomed = append(doomed, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("block domain %s: %w", d, err)
	}
	if err := removeAccounts(ctx, tx, doomed); err != nil {
		return 0, fmt.Errorf("block domain %s: %w", d, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("block domain %s: %w", d, err)
	}
	return len(doomed), nil
}

// UnblockDomain lifts the block of domain (exactly that domain, as
// blocked): ErrNotFound when it is not blocked. What the block removed
// stays removed.
func (s *Store) UnblockDomain(ctx context.Context, domain string) error {
	d, ok := hostname.Domain(domain)
	if !ok {
		return fmt.Errorf("unblock domain %q: not a domain name: %w", domain, ErrNotFound)
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("unblock domain %s: %w", d, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `DELETE FROM domain_blocks WHERE domain = ?`, d)
	if err := expectOne(res, err, "unblock domain "+d); err != nil {
		return err
	}
	// A silence lifted: the accounts it covered are silenced only if
	// another block still covers them. (Images rejected stay dropped until
	// the accounts are fetched again.)
	if _, err := applyLimits(ctx, tx, d); err != nil {
		return fmt.Errorf("unblock domain %s: %w", d, err)
	}
	return tx.Commit()
}

// DomainBlocks lists the blocked domains, by name.
func (s *Store) DomainBlocks(ctx context.Context) ([]DomainBlock, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT domain, reason, created_at, severity, reject_media FROM domain_blocks ORDER BY domain`)
	if err != nil {
		return nil, fmt.Errorf("domain blocks: %w", err)
	}
	defer rows.Close()
	var out []DomainBlock
	for rows.Next() {
		var b DomainBlock
		var at int64
		if err := rows.Scan(&b.Domain, &b.Reason, &at, &b.Severity, &b.RejectMedia); err != nil {
			return nil, fmt.Errorf("domain blocks: %w", err)
		}
		b.CreatedAt = fromMs(at)
		out = append(out, b)
	}
	return out, rows.Err()
}

// DomainBlocked reports whether federation with host (a URL's or an acct's
// host; case and port do not matter) is refused: it is on a blocked domain
// (the host itself or any parent domain), or, in allow-list mode, on no
// allowed one. It is the one check the inbox, fetches and deliveries make.
// One primary-key lookup per label, in one statement and nothing cached,
// so that a block made by the CLI (another process) holds from the next
// request on.
func (s *Store) DomainBlocked(ctx context.Context, host string) (bool, error) {
	return domainBlocked(ctx, s.read, host, s.allowList.Load())
}

// UseAllowList sets federation.mode: true federates only with allowed
// domains (AllowDomain).
func (s *Store) UseAllowList(on bool) { s.allowList.Store(on) }

// rowQuerier is the read pool or a transaction.
type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func domainBlocked(ctx context.Context, q rowQuerier, host string, allowList bool) (bool, error) {
	names := hostname.Suffixes(host)
	if len(names) == 0 {
		return allowList, nil
	}
	in := `(` + placeholders(len(names)) + `)`
	var blocked, allowed bool
	if err := q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM domain_blocks WHERE domain IN `+in+` AND severity = 'suspend'),
		EXISTS (SELECT 1 FROM domain_allows WHERE domain IN `+in+`)`,
		append(strArgs(names), strArgs(names)...)...).Scan(&blocked, &allowed); err != nil {
		return false, fmt.Errorf("domain block of %s: %w", host, err)
	}
	return blocked || allowList && !allowed, nil
}

// AllowDomain allows domain and its subdomains in allow-list mode.
func (s *Store) AllowDomain(ctx context.Context, domain string, at time.Time) error {
	d, ok := hostname.Domain(domain)
	if !ok {
		return fmt.Errorf("allow domain %q: not a domain name", domain)
	}
	if _, err := s.write.ExecContext(ctx, `INSERT INTO domain_allows (domain, created_at) VALUES (?, ?) ON CONFLICT (domain) DO NOTHING`,
		d, ms(at)); err != nil {
		return fmt.Errorf("allow domain %s: %w", d, err)
	}
	return nil
}

// DisallowDomain takes domain off the allow-list (exactly that domain, as
// allowed): ErrNotFound when it is not on it.
func (s *Store) DisallowDomain(ctx context.Context, domain string) error {
	d, ok := hostname.Domain(domain)
	if !ok {
		return fmt.Errorf("disallow domain %q: not a domain name: %w", domain, ErrNotFound)
	}
	res, err := s.write.ExecContext(ctx, `DELETE FROM domain_allows WHERE domain = ?`, d)
	return expectOne(res, err, "disallow domain "+d)
}

// DomainAllows lists the allowed domains, alphabetically.
func (s *Store) DomainAllows(ctx context.Context) ([]DomainBlock, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT domain, created_at FROM domain_allows ORDER BY domain`)
	if err != nil {
		return nil, fmt.Errorf("domain allows: %w", err)
	}
	defer rows.Close()
	var out []DomainBlock
	for rows.Next() {
		var d DomainBlock
		var at int64
		if err := rows.Scan(&d.Domain, &at); err != nil {
			return nil, fmt.Errorf("domain allows: %w", err)
		}
		d.CreatedAt = fromMs(at)
		out = append(out, d)
	}
	return out, rows.Err()
}

func strArgs(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// removeAccounts deletes remote accounts and all they made (statuses,
// favourites, follows: by cascade), correcting the counters on what stays.
func removeAccounts(ctx context.Context, tx *writeTx, ids []int64) error {
	if err := uncountAccounts(ctx, tx, ids); err != nil {
		return err
	}
	for chunk := range slices.Chunk(ids, blockChunk) {
		in, args := inList(chunk)
		if _, err := tx.ExecContext(ctx, `DELETE FROM accounts WHERE domain != '' AND id IN `+in, args...); err != nil {
			return fmt.Errorf("removing accounts: %w", err)
		}
	}
	return nil
}

// uncountAccounts brings down the reply, reblog and favourite counters of
// the statuses that stay by what the given accounts' statuses and
// favourites, about to go, added to them.
func uncountAccounts(ctx context.Context, tx *writeTx, ids []int64) error {
	for chunk := range slices.Chunk(ids, blockChunk) {
		in, args := inList(chunk)
		twice := append(append([]any{}, args...), args...)
		// A count never goes below zero: CASE, since SQLite's MAX(a, b) is
		// PostgreSQL's GREATEST.
		for _, q := range []string{
			`UPDATE statuses SET replies_count = (SELECT CASE WHEN d > replies_count THEN 0 ELSE replies_count - d END FROM (SELECT (SELECT COUNT(*) FROM statuses r
				WHERE r.in_reply_to_id = statuses.id AND r.account_id IN ` + in + `) AS d) c)
				WHERE id IN (SELECT in_reply_to_id FROM statuses WHERE account_id IN ` + in + `)`,
			`UPDATE statuses SET reblogs_count = (SELECT CASE WHEN d > reblogs_count THEN 0 ELSE reblogs_count - d END FROM (SELECT (SELECT COUNT(*) FROM statuses r
				WHERE r.reblog_of_id = statuses.id AND r.account_id IN ` + in + `) AS d) c)
				WHERE id IN (SELECT reblog_of_id FROM statuses WHERE account_id IN ` + in + `)`,
			`UPDATE statuses SET favourites_count = (SELECT CASE WHEN d > favourites_count THEN 0 ELSE favourites_count - d END FROM (SELECT (SELECT COUNT(*) FROM favourites f
				WHERE f.status_id = statuses.id AND f.account_id IN ` + in + `) AS d) c)
				WHERE id IN (SELECT status_id FROM favourites WHERE account_id IN ` + in + `)`,
		} {
			if _, err := tx.ExecContext(ctx, q, twice...); err != nil {
				return fmt.Errorf("correcting counters: %w", err)
			}
		}
	}
	return nil
}

// DeleteRemoteAccount removes a remote account and all it made here (its
// actor was deleted on its server).
func (s *Store) DeleteRemoteAccount(ctx context.Context, id int64) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("delete remote account: %w", err)
	}
	defer tx.Rollback()
	if err := removeAccounts(ctx, tx, []int64{id}); err != nil {
		return err
	}
	return tx.Commit()
}

// LimitDomain limits domain and its subdomains without suspending them:
// silence (SeveritySilence) or not (SeverityNoop), rejecting their media or
// not. A suspension of the domain itself becomes this limit. In the same
// transaction the domain's stored accounts are marked (silenced, and their
// images dropped when media are rejected); it returns how many.
func (s *Store) LimitDomain(ctx context.Context, domain, reason string, silence, rejectMedia bool, at time.Time) (int, error) {
	d, ok := hostname.Domain(domain)
	if !ok {
		return 0, fmt.Errorf("limit domain %q: not a domain name", domain)
	}
	severity := SeverityNoop
	if silence {
		severity = SeveritySilence
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("limit domain %s: %w", d, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO domain_blocks (domain, reason, created_at, severity, reject_media) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (domain) DO UPDATE SET reason = excluded.reason, severity = excluded.severity, reject_media = excluded.reject_media`,
		d, reason, ms(at), severity, boolInt(rejectMedia)); err != nil {
		return 0, fmt.Errorf("limit domain %s: %w", d, err)
	}
	n, err := applyLimits(ctx, tx, d)
	if err != nil {
		return 0, fmt.Errorf("limit domain %s: %w", d, err)
	}
	return n, tx.Commit()
}

// applyLimits brings the stored accounts on domain d (and its subdomains)
// in line with the limits that now cover each: silenced or not, images
// dropped when media are rejected.
func applyLimits(ctx context.Context, tx *writeTx, d string) (int, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, domain FROM accounts WHERE domain <> '' AND instr(domain, ?) > 0`, d)
	if err != nil {
		return 0, err
	}
	type acc struct {
		id   int64
		host string
	}
	var covered []acc
	for rows.Next() {
		var a acc
		if err := rows.Scan(&a.id, &a.host); err != nil {
			rows.Close()
			return 0, err
		}
		if slices.Contains(hostname.Suffixes(a.host), d) {
			covered = append(covered, a)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, a := range covered {
		silence, rejectMedia, err := domainLimits(ctx, tx, a.host)
		if err != nil {
			return 0, err
		}
		q := `UPDATE accounts SET silenced = ? WHERE id = ?`
		if rejectMedia {
			q = `UPDATE accounts SET silenced = ?, avatar_remote_url = '', header_remote_url = '' WHERE id = ?`
		}
		if _, err := tx.ExecContext(ctx, q, boolInt(silence), a.id); err != nil {
			return 0, err
		}
	}
	return len(covered), nil
}

// domainLimits are the limits on host: silenced by a block of it or a
// parent domain, and whether its media are rejected.
func domainLimits(ctx context.Context, q rowQuerier, host string) (silence, rejectMedia bool, err error) {
	names := hostname.Suffixes(host)
	if len(names) == 0 {
		return false, false, nil
	}
	if err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(CASE WHEN severity = 'silence' THEN 1 ELSE 0 END), 0), COALESCE(MAX(reject_media), 0)
		FROM domain_blocks WHERE domain IN (`+placeholders(len(names))+`)`, strArgs(names)...).Scan(&silence, &rejectMedia); err != nil {
		return false, false, fmt.Errorf("domain limits of %s: %w", host, err)
	}
	return silence, rejectMedia, nil
}

// DomainRejectsMedia reports whether the media of host are rejected.
func (s *Store) DomainRejectsMedia(ctx context.Context, host string) (bool, error) {
	_, reject, err := domainLimits(ctx, s.read, host)
	return reject, err
}

// AccountSilenced reports whether an account is silenced (its domain is).
func (s *Store) AccountSilenced(ctx context.Context, id int64) (bool, error) {
	var silenced bool
	err := s.read.QueryRowContext(ctx, `SELECT silenced FROM accounts WHERE id = ?`, id).Scan(&silenced)
	if errors.Is(err, sql.ErrNoRows) {
		return false, ErrNotFound
	}
	if err != nil {
		return false, fmt.Errorf("account %d silenced: %w", id, err)
	}
	return silenced, nil
}
