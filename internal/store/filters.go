package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Filter is one of an account's filters (Mastodon's v2 filter): keywords
// and statuses that hide or flag what the account reads in some contexts.
// What a filter matches and where is social's rule; the store keeps them.
type Filter struct {
	ID        int64
	AccountID int64
	Title     string
	Contexts  int // bit set, social's FilterContext values
	Hide      bool
	ExpiresAt time.Time // zero: never
	CreatedAt time.Time
	Keywords  []FilterKeyword
	Statuses  []FilterStatus
}

// FilterKeyword is a filter's keyword.
type FilterKeyword struct {
	ID        int64
	FilterID  int64
	Keyword   string
	WholeWord bool
}

// FilterStatus is a status a filter names by id.
type FilterStatus struct {
	ID       int64
	FilterID int64
	StatusID int64
}

// ErrFilterLimit is returned (as a *FilterLimitError) when a write would
// pass one of the bounds its caller gave (FilterLimits).
var ErrFilterLimit = errors.New("filter limit reached")

// FilterLimitError names the bound a write would pass: "filters",
// "keywords", "statuses", or "several keywords" (FilterChange.OnlyKeyword).
type FilterLimitError struct{ What string }

func (e *FilterLimitError) Error() string        { return "filter limit reached: " + e.What }
func (e *FilterLimitError) Is(target error) bool { return target == ErrFilterLimit }

func limitErr(what, bound string) error {
	return fmt.Errorf("%s: %w", what, &FilterLimitError{What: bound})
}

// FilterLimits bound an account's filters: how many filters, and how many
// keywords and statuses each.
type FilterLimits struct {
	Filters, Keywords, Statuses int
}

const filterCols = `f.id, f.account_id, f.title, f.contexts, f.action, f.expires_at, f.created_at`

func scanFilter(row scanner) (*Filter, error) {
	var f Filter
	var action, expires, created int64
	if err := row.Scan(&f.ID, &f.AccountID, &f.Title, &f.Contexts, &action, &expires, &created); err != nil {
		return nil, err
	}
	f.Hide, f.CreatedAt = action == 1, fromMs(created)
	if expires != 0 {
		f.ExpiresAt = fromMs(expires)
	}
	return &f, nil
}

func actionInt(hide bool) int {
	if hide {
		return 1
	}
	return 0
}

func expiresMs(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return ms(t)
}

// Filters lists account's filters, oldest first, with their keywords and
// statuses: three statements whatever their number.
func (s *Store) Filters(ctx context.Context, account int64) ([]Filter, error) {
	return s.filters(ctx, account, 0)
}

// FilterByID loads one of account's filters with its keywords and
// statuses; ErrNotFound when account has no such filter.
func (s *Store) FilterByID(ctx context.Context, account, id int64) (*Filter, error) {
	list, err := s.filters(ctx, account, id)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("filter: %w", ErrNotFound)
	}
	return &list[0], nil
}

func (s *Store) filters(ctx context.Context, account, id int64) ([]Filter, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+filterCols+` FROM filters f WHERE f.account_id = ? AND (CAST(? AS BIGINT) = 0 OR f.id = ?) ORDER BY f.id`,
		account, id, id)
	if err != nil {
		return nil, fmt.Errorf("filters: %w", err)
	}
	defer rows.Close()
	var out []Filter
	index := map[int64]int{}
	for rows.Next() {
		f, err := scanFilter(rows)
		if err != nil {
			return nil, fmt.Errorf("filters: %w", err)
		}
		f.Keywords, f.Statuses = []FilterKeyword{}, []FilterStatus{}
		index[f.ID] = len(out)
		out = append(out, *f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("filters: %w", err)
	}
	if len(out) == 0 {
		return out, nil
	}
	krows, err := s.read.QueryContext(ctx, `SELECT k.id, k.filter_id, k.keyword, k.whole_word FROM filter_keywords k
		JOIN filters f ON f.id = k.filter_id WHERE f.account_id = ? AND (CAST(? AS BIGINT) = 0 OR f.id = ?) ORDER BY k.id`, account, id, id)
	if err != nil {
		return nil, fmt.Errorf("filter keywords: %w", err)
	}
	defer krows.Close()
	for krows.Next() {
		var k FilterKeyword
		var whole int
		if err := krows.Scan(&k.ID, &k.FilterID, &k.Keyword, &whole); err != nil {
			return nil, fmt.Errorf("filter keywords: %w", err)
		}
		k.WholeWord = whole != 0
		if i, ok := index[k.FilterID]; ok {
			out[i].Keywords = append(out[i].Keywords, k)
		}
	}
	if err := krows.Err(); err != nil {
		return nil, fmt.Errorf("filter keywords: %w", err)
	}
	srows, err := s.read.QueryContext(ctx, `SELECT fs.id, fs.filter_id, fs.status_id FROM filter_statuses fs
		JOIN filters f ON f.id = fs.filter_id WHERE f.account_id = ? AND (CAST(? AS BIGINT) = 0 OR f.id = ?) ORDER BY fs.id`, account, id, id)
	if err != nil {
		return nil, fmt.Errorf("filter statuses: %w", err)
	}
	defer srows.Close()
	for srows.Next() {
		var fs FilterStatus
		if err := srows.Scan(&fs.ID, &fs.FilterID, &fs.StatusID); err != nil {
			return nil, fmt.Errorf("filter statuses: %w", err)
		}
		if i, ok := index[fs.FilterID]; ok {
			out[i].Statuses = append(out[i].Statuses, fs)
		}
	}
	return out, srows.Err()
}

// ActiveFilters loads the filters of each of accounts that have not
// expired at now and name at least one keyword or status (a filter with
// neither matches nothing), with those keywords and statuses: one
// statement, for rendering a page or routing a streamed status.
func (s *Store) ActiveFilters(ctx context.Context, accounts []int64, now time.Time) (map[int64][]Filter, error) {
	out := map[int64][]Filter{}
	if len(accounts) == 0 {
		return out, nil
	}
	q, args := activeFiltersSQL(accounts, now)
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("active filters: %w", err)
	}
	defer rows.Close()
	last := map[int64]*Filter{} // each account's filter being filled (rows come by filter id)
	for rows.Next() {
		var f Filter
		var action, expires, created, ruleID, statusID int64
		var keyword string
		var whole int
		if err := rows.Scan(&f.ID, &f.AccountID, &f.Title, &f.Contexts, &action, &expires, &created, &ruleID, &keyword, &whole, &statusID); err != nil {
			return nil, fmt.Errorf("active filters: %w", err)
		}
		cur := last[f.AccountID]
		if cur == nil || cur.ID != f.ID {
			f.Hide, f.CreatedAt = action == 1, fromMs(created)
			if expires != 0 {
				f.ExpiresAt = fromMs(expires)
			}
			out[f.AccountID] = append(out[f.AccountID], f)
			list := out[f.AccountID]
			cur = &list[len(list)-1]
			last[f.AccountID] = cur
		}
		if statusID != 0 {
			cur.Statuses = append(cur.Statuses, FilterStatus{ID: ruleID, FilterID: f.ID, StatusID: statusID})
		} else {
			cur.Keywords = append(cur.Keywords, FilterKeyword{ID: ruleID, FilterID: f.ID, Keyword: keyword, WholeWord: whole != 0})
		}
	}
	return out, rows.Err()
}

// activeFiltersSQL is ActiveFilters' statement: the keywords, then the
// statuses, of the accounts' unexpired filters, by filter.
func activeFiltersSQL(accounts []int64, now time.Time) (string, []any) {
	// One JSON parameter, however many accounts (a streamed status's
	// subscribers may be thousands: a list of placeholders could pass
	// SQLite's bound on parameters).
	who, _ := json.Marshal(accounts)
	at := ms(now)
	return `SELECT ` + filterCols + `, k.id, k.keyword, k.whole_word, 0 FROM filters f
		JOIN filter_keywords k ON k.filter_id = f.id
		WHERE f.account_id IN (SELECT v.value FROM json_each(?) v) AND (f.expires_at = 0 OR f.expires_at > ?)
		UNION ALL
		SELECT ` + filterCols + `, fs.id, '', 0, fs.status_id FROM filters f
		JOIN filter_statuses fs ON fs.filter_id = f.id
		WHERE f.account_id IN (SELECT v.value FROM json_each(?) v) AND (f.expires_at = 0 OR f.expires_at > ?)
		ORDER BY 1, 8`, []any{string(who), at, string(who), at}
}

// CreateFilter stores f with its keywords (ids set by the caller) unless
// the account has lim.Filters filters already, or f more than
// lim.Keywords keywords (ErrFilterLimit).
func (s *Store) CreateFilter(ctx context.Context, f *Filter, lim FilterLimits) error {
	if len(f.Keywords) > lim.Keywords {
		return limitErr("create filter", "keywords")
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("create filter: %w", err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM filters WHERE account_id = ?`, f.AccountID).Scan(&n); err != nil {
		return fmt.Errorf("create filter: %w", err)
	}
	if n >= lim.Filters {
		return limitErr("create filter", "filters")
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO filters (id, account_id, title, contexts, action, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		f.ID, f.AccountID, f.Title, f.Contexts, actionInt(f.Hide), expiresMs(f.ExpiresAt), ms(f.CreatedAt)); err != nil {
		return fmt.Errorf("create filter: %w", err)
	}
	for i := range f.Keywords {
		k := &f.Keywords[i]
		k.FilterID = f.ID
		if err := insertKeyword(ctx, tx, k, f.CreatedAt); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func insertKeyword(ctx context.Context, tx *writeTx, k *FilterKeyword, at time.Time) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO filter_keywords (id, filter_id, keyword, whole_word, created_at) VALUES (?, ?, ?, ?, ?)`,
		k.ID, k.FilterID, k.Keyword, boolInt(k.WholeWord), ms(at)); err != nil {
		return fmt.Errorf("filter keyword: %w", err)
	}
	return nil
}

// FilterChange is an update of a filter: the fields set change, then the
// keywords named in Destroy go, those in Update change (by id) and those
// in Add are added (ids set by the caller).
type FilterChange struct {
	Title     *string
	Contexts  *int
	Hide      *bool
	ExpiresAt *time.Time // zero time: never
	Add       []FilterKeyword
	Update    []FilterKeyword
	Destroy   []int64
	// OnlyKeyword refuses (ErrFilterLimit) a change of the filter's own
	// fields when it has more than one keyword: a v1 filter is one keyword.
	OnlyKeyword bool
}

// UpdateFilter applies ch to account's filter id in one transaction:
// ErrNotFound when there is no such filter or a keyword to change or
// destroy is not its own, ErrFilterLimit when it would have more than
// lim.Keywords keywords.
func (s *Store) UpdateFilter(ctx context.Context, account, id int64, ch FilterChange, lim FilterLimits, at time.Time) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("update filter: %w", err)
	}
	defer tx.Rollback()
	var keywords int
	if err := tx.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM filter_keywords WHERE filter_id = f.id) FROM filters f WHERE f.id = ? AND f.account_id = ?`,
		id, account).Scan(&keywords); err != nil {
		return fmt.Errorf("update filter: %w", notFound(err))
	}
	own := ch.Title != nil || ch.Contexts != nil || ch.Hide != nil || ch.ExpiresAt != nil
	if ch.OnlyKeyword && own && keywords > 1 {
		return limitErr("update filter", "several keywords")
	}
	if ch.Title != nil {
		if _, err := tx.ExecContext(ctx, `UPDATE filters SET title = ? WHERE id = ?`, *ch.Title, id); err != nil {
			return fmt.Errorf("update filter: %w", err)
		}
	}
	if ch.Contexts != nil {
		if _, err := tx.ExecContext(ctx, `UPDATE filters SET contexts = ? WHERE id = ?`, *ch.Contexts, id); err != nil {
			return fmt.Errorf("update filter: %w", err)
		}
	}
	if ch.Hide != nil {
		if _, err := tx.ExecContext(ctx, `UPDATE filters SET action = ? WHERE id = ?`, actionInt(*ch.Hide), id); err != nil {
			return fmt.Errorf("update filter: %w", err)
		}
	}
	if ch.ExpiresAt != nil {
		if _, err := tx.ExecContext(ctx, `UPDATE filters SET expires_at = ? WHERE id = ?`, expiresMs(*ch.ExpiresAt), id); err != nil {
			return fmt.Errorf("update filter: %w", err)
		}
	}
	for _, k := range ch.Destroy {
		res, err := tx.ExecContext(ctx, `DELETE FROM filter_keywords WHERE id = ? AND filter_id = ?`, k, id)
		if err := expectOne(res, err, "update filter: keyword"); err != nil {
			return err
		}
	}
	for _, k := range ch.Update {
		res, err := tx.ExecContext(ctx, `UPDATE filter_keywords SET keyword = ?, whole_word = ? WHERE id = ? AND filter_id = ?`,
			k.Keyword, boolInt(k.WholeWord), k.ID, id)
		if err := expectOne(res, err, "update filter: keyword"); err != nil {
			return err
		}
	}
	if keywords-len(ch.Destroy)+len(ch.Add) > lim.Keywords && len(ch.Add) > 0 {
		return limitErr("update filter", "keywords")
	}
	for i := range ch.Add {
		k := &ch.Add[i]
		k.FilterID = id
		if err := insertKeyword(ctx, tx, k, at); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// DeleteFilter deletes account's filter id with its keywords and statuses.
func (s *Store) DeleteFilter(ctx context.Context, account, id int64) error {
	res, err := s.write.ExecContext(ctx, `DELETE FROM filters WHERE id = ? AND account_id = ?`, id, account)
	return expectOne(res, err, "delete filter")
}

// FilterKeywordByID loads one of account's keywords.
func (s *Store) FilterKeywordByID(ctx context.Context, account, id int64) (*FilterKeyword, error) {
	var k FilterKeyword
	var whole int
	err := s.read.QueryRowContext(ctx, `SELECT k.id, k.filter_id, k.keyword, k.whole_word FROM filter_keywords k
		JOIN filters f ON f.id = k.filter_id WHERE k.id = ? AND f.account_id = ?`, id, account).Scan(&k.ID, &k.FilterID, &k.Keyword, &whole)
	if err != nil {
		return nil, fmt.Errorf("filter keyword: %w", notFound(err))
	}
	k.WholeWord = whole != 0
	return &k, nil
}

// AddFilterKeyword adds k to account's filter k.FilterID unless it has
// lim.Keywords already (ErrFilterLimit).
func (s *Store) AddFilterKeyword(ctx context.Context, account int64, k *FilterKeyword, lim FilterLimits, at time.Time) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("add filter keyword: %w", err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM filter_keywords WHERE filter_id = f.id) FROM filters f WHERE f.id = ? AND f.account_id = ?`,
		k.FilterID, account).Scan(&n); err != nil {
		return fmt.Errorf("add filter keyword: %w", notFound(err))
	}
	if n >= lim.Keywords {
		return limitErr("add filter keyword", "keywords")
	}
	if err := insertKeyword(ctx, tx, k, at); err != nil {
		return err
	}
	return tx.Commit()
}

// UpdateFilterKeyword changes one of account's keywords.
func (s *Store) UpdateFilterKeyword(ctx context.Context, account int64, k *FilterKeyword) error {
	res, err := s.write.ExecContext(ctx, `UPDATE filter_keywords SET keyword = ?, whole_word = ?
		WHERE id = ? AND filter_id IN (SELECT id FROM filters WHERE account_id = ?)`, k.Keyword, boolInt(k.WholeWord), k.ID, account)
	return expectOne(res, err, "update filter keyword")
}

// DeleteFilterKeyword deletes one of account's keywords.
func (s *Store) DeleteFilterKeyword(ctx context.Context, account, id int64) error {
	res, err := s.write.ExecContext(ctx, `DELETE FROM filter_keywords WHERE id = ? AND filter_id IN (SELECT id FROM filters WHERE account_id = ?)`,
		id, account)
	return expectOne(res, err, "delete filter keyword")
}

// FilterStatusByID loads one of account's filtered statuses.
func (s *Store) FilterStatusByID(ctx context.Context, account, id int64) (*FilterStatus, error) {
	var fs FilterStatus
	err := s.read.QueryRowContext(ctx, `SELECT fs.id, fs.filter_id, fs.status_id FROM filter_statuses fs
		JOIN filters f ON f.id = fs.filter_id WHERE fs.id = ? AND f.account_id = ?`, id, account).Scan(&fs.ID, &fs.FilterID, &fs.StatusID)
	if err != nil {
		return nil, fmt.Errorf("filter status: %w", notFound(err))
	}
	return &fs, nil
}

// AddFilterStatus adds fs to account's filter fs.FilterID unless it has
// lim.Statuses already (ErrFilterLimit); ErrConflict when the filter
// names that status already.
func (s *Store) AddFilterStatus(ctx context.Context, account int64, fs *FilterStatus, lim FilterLimits, at time.Time) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("add filter status: %w", err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM filter_statuses WHERE filter_id = f.id) FROM filters f WHERE f.id = ? AND f.account_id = ?`,
		fs.FilterID, account).Scan(&n); err != nil {
		return fmt.Errorf("add filter status: %w", notFound(err))
	}
	if n >= lim.Statuses {
		return limitErr("add filter status", "statuses")
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO filter_statuses (id, filter_id, status_id, created_at) VALUES (?, ?, ?, ?)`,
		fs.ID, fs.FilterID, fs.StatusID, ms(at)); err != nil {
		if isUniqueViolation(err) {
			return fmt.Errorf("add filter status: %w", ErrConflict)
		}
		return fmt.Errorf("add filter status: %w", err)
	}
	return tx.Commit()
}

// DeleteFilterStatus deletes one of account's filtered statuses.
func (s *Store) DeleteFilterStatus(ctx context.Context, account, id int64) error {
	res, err := s.write.ExecContext(ctx, `DELETE FROM filter_statuses WHERE id = ? AND filter_id IN (SELECT id FROM filters WHERE account_id = ?)`,
		id, account)
	return expectOne(res, err, "delete filter status")
}
