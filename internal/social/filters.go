package social

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rampart-social/rampart/internal/events"
	"github.com/rampart-social/rampart/internal/store"
)

// FilterContext is where a filter applies (Mastodon's filter contexts); a
// filter's contexts are a set of them (store.Filter.Contexts).
type FilterContext int

// The contexts, and what reads them: home (the home timeline and lists),
// notifications, public (the public and hashtag timelines), thread (a
// status's context) and account (an account's statuses).
const (
	FilterHome FilterContext = 1 << iota
	FilterNotifications
	FilterPublic
	FilterThread
	FilterAccount
)

var filterContextNames = []struct {
	c    FilterContext
	name string
}{{FilterHome, "home"}, {FilterNotifications, "notifications"}, {FilterPublic, "public"}, {FilterThread, "thread"}, {FilterAccount, "account"}}

// FilterContextNames lists a set's contexts by name, in Mastodon's order.
func FilterContextNames(set int) []string {
	out := []string{}
	for _, c := range filterContextNames {
		if set&int(c.c) != 0 {
			out = append(out, c.name)
		}
	}
	return out
}

func filterContexts(names []string) (int, error) {
	set := 0
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		i := contextIndex(n)
		if i < 0 {
			return 0, invalid("context", "is invalid")
		}
		set |= int(filterContextNames[i].c)
	}
	if set == 0 {
		return 0, invalid("context", "can't be blank")
	}
	return set, nil
}

func contextIndex(name string) int {
	for i, c := range filterContextNames {
		if c.name == name {
			return i
		}
	}
	return -1
}

// Bounds on an account's filters, so that compiling and applying them on
// every read stays cheap: more is refused (422), not truncated.
const (
	maxFilters        = 100
	maxFilterKeywords = 100 // per filter
	maxFilterStatuses = 100 // per filter
	maxFilterTitle    = 256 // characters
	maxFilterKeyword  = 256 // characters
	// maxFilterExpiresIn is the longest expires_in (10 years in seconds).
	maxFilterExpiresIn = 10 * 365 * 24 * 3600
)

var filterLimits = store.FilterLimits{Filters: maxFilters, Keywords: maxFilterKeywords, Statuses: maxFilterStatuses}

// KeywordParams is one of keywords_attributes[]: a new keyword (no ID), a
// change of one (ID), or its removal (ID and Destroy).
type KeywordParams struct {
	ID        int64
	Keyword   *string
	WholeWord *bool
	Destroy   bool
}

// FilterParams are a v2 filter's inputs; nil leaves a field as it is (on
// create: its default). ExpiresIn is seconds from now, "" for never.
type FilterParams struct {
	Title     *string
	Context   []string // nil: unchanged
	Action    *string
	ExpiresIn *string
	Keywords  []KeywordParams
}

func checkTitle(t string) (string, error) {
	t = strings.TrimSpace(t)
	switch {
	case t == "":
		return "", invalid("title", "can't be blank")
	case utf8.RuneCountInString(t) > maxFilterTitle:
		return "", invalid("title", "is too long (maximum is %d characters)", maxFilterTitle)
	}
	return t, nil
}

func checkKeyword(field, k string) (string, error) {
	switch {
	case strings.TrimSpace(k) == "":
		return "", invalid(field, "can't be blank")
	case utf8.RuneCountInString(k) > maxFilterKeyword:
		return "", invalid(field, "is too long (maximum is %d characters)", maxFilterKeyword)
	}
	return k, nil
}

func filterAction(a string) (bool, error) {
	switch a {
	case "warn":
		return false, nil
	case "hide":
		return true, nil
	}
	return false, invalid("filter_action", "must be warn or hide")
}

// expiry reads expires_in: "" is never (the zero time).
func (s *Service) expiry(in string) (time.Time, error) {
	in = strings.TrimSpace(in)
	if in == "" {
		return time.Time{}, nil
	}
	n, err := strconv.ParseInt(in, 10, 64)
	if err != nil || n < 0 || n > maxFilterExpiresIn {
		return time.Time{}, invalid("expires_in", "must be a number of seconds")
	}
	return s.now().UTC().Add(time.Duration(n) * time.Second), nil
}

// filterError turns the store's limit and conflict errors into 422s.
func filterError(err error) error {
	var limit *store.FilterLimitError
	switch {
	case errors.As(err, &limit):
		switch limit.What {
		case "several keywords":
			return invalid("base", "this filter has several keywords: change it through /api/v2/filters")
		case "statuses":
			return invalid("statuses", "are too many (a filter names at most %d)", maxFilterStatuses)
		case "keywords":
			return invalid("keywords", "are too many (a filter holds at most %d)", maxFilterKeywords)
		}
		return invalid("base", "you have too many filters (at most %d)", maxFilters)
	case errors.Is(err, store.ErrConflict):
		return invalid("status_id", "has already been taken")
	}
	return err
}

// Filters lists the viewer's filters with their keywords and statuses.
func (s *Service) Filters(ctx context.Context, viewer int64) ([]store.Filter, error) {
	return s.store.Filters(ctx, viewer)
}

// Filter loads one of the viewer's filters.
func (s *Service) Filter(ctx context.Context, viewer, id int64) (*store.Filter, error) {
	return s.store.FilterByID(ctx, viewer, id)
}

// CreateFilter creates a v2 filter with its keywords.
func (s *Service) CreateFilter(ctx context.Context, viewer int64, p FilterParams) (*store.Filter, error) {
	if p.Title == nil {
		return nil, invalid("title", "can't be blank")
	}
	title, err := checkTitle(*p.Title)
	if err != nil {
		return nil, err
	}
	contexts, err := filterContexts(p.Context)
	if err != nil {
		return nil, err
	}
	f := &store.Filter{ID: s.ids.Next(), AccountID: viewer, Title: title, Contexts: contexts, CreatedAt: s.now().UTC(),
		Keywords: []store.FilterKeyword{}, Statuses: []store.FilterStatus{}}
	if p.Action != nil {
		if f.Hide, err = filterAction(*p.Action); err != nil {
			return nil, err
		}
	}
	if p.ExpiresIn != nil {
		if f.ExpiresAt, err = s.expiry(*p.ExpiresIn); err != nil {
			return nil, err
		}
	}
	for _, k := range p.Keywords {
		if k.Destroy || k.ID != 0 {
			continue // nothing to change or remove in a new filter
		}
		nk, err := s.newKeyword(k)
		if err != nil {
			return nil, err
		}
		f.Keywords = append(f.Keywords, nk)
	}
	if err := s.store.CreateFilter(ctx, f, filterLimits); err != nil {
		return nil, filterError(err)
	}
	s.filtersChanged(viewer)
	return f, nil
}

func (s *Service) newKeyword(k KeywordParams) (store.FilterKeyword, error) {
	if k.Keyword == nil {
		return store.FilterKeyword{}, invalid("keywords.keyword", "can't be blank")
	}
	kw, err := checkKeyword("keywords.keyword", *k.Keyword)
	if err != nil {
		return store.FilterKeyword{}, err
	}
	whole := true // Mastodon's default
	if k.WholeWord != nil {
		whole = *k.WholeWord
	}
	return store.FilterKeyword{ID: s.ids.Next(), Keyword: kw, WholeWord: whole}, nil
}

// UpdateFilter changes one of the viewer's filters and its keywords.
func (s *Service) UpdateFilter(ctx context.Context, viewer, id int64, p FilterParams) (*store.Filter, error) {
	cur, err := s.store.FilterByID(ctx, viewer, id)
	if err != nil {
		return nil, err
	}
	ch, err := s.filterChange(p)
	if err != nil {
		return nil, err
	}
	byID := map[int64]store.FilterKeyword{}
	for _, k := range cur.Keywords {
		byID[k.ID] = k
	}
	for _, k := range p.Keywords {
		switch {
		case k.ID == 0 && !k.Destroy:
			nk, err := s.newKeyword(k)
			if err != nil {
				return nil, err
			}
			ch.Add = append(ch.Add, nk)
		case k.ID == 0:
		case k.Destroy:
			ch.Destroy = append(ch.Destroy, k.ID)
		default:
			old, ok := byID[k.ID]
			if !ok {
				return nil, ErrNotFound
			}
			if k.Keyword != nil {
				if old.Keyword, err = checkKeyword("keywords.keyword", *k.Keyword); err != nil {
					return nil, err
				}
			}
			if k.WholeWord != nil {
				old.WholeWord = *k.WholeWord
			}
			ch.Update = append(ch.Update, old)
		}
	}
	if err := s.store.UpdateFilter(ctx, viewer, id, ch, filterLimits, s.now().UTC()); err != nil {
		return nil, filterError(err)
	}
	s.filtersChanged(viewer)
	return s.store.FilterByID(ctx, viewer, id)
}

// filterChange reads the filter's own fields of p.
func (s *Service) filterChange(p FilterParams) (store.FilterChange, error) {
	var ch store.FilterChange
	if p.Title != nil {
		t, err := checkTitle(*p.Title)
		if err != nil {
			return ch, err
		}
		ch.Title = &t
	}
	if p.Context != nil {
		c, err := filterContexts(p.Context)
		if err != nil {
			return ch, err
		}
		ch.Contexts = &c
	}
	if p.Action != nil {
		h, err := filterAction(*p.Action)
		if err != nil {
			return ch, err
		}
		ch.Hide = &h
	}
	if p.ExpiresIn != nil {
		e, err := s.expiry(*p.ExpiresIn)
		if err != nil {
			return ch, err
		}
		ch.ExpiresAt = &e
	}
	return ch, nil
}

// DeleteFilter deletes one of the viewer's filters.
func (s *Service) DeleteFilter(ctx context.Context, viewer, id int64) error {
	return s.changed(viewer, s.store.DeleteFilter(ctx, viewer, id))
}

// AddFilterKeyword adds a keyword to one of the viewer's filters.
func (s *Service) AddFilterKeyword(ctx context.Context, viewer, filter int64, k KeywordParams) (*store.FilterKeyword, error) {
	if k.Keyword == nil {
		return nil, invalid("keyword", "can't be blank")
	}
	kw, err := checkKeyword("keyword", *k.Keyword)
	if err != nil {
		return nil, err
	}
	k.Keyword = &kw
	nk, err := s.newKeyword(k)
	if err != nil {
		return nil, err
	}
	nk.FilterID = filter
	if err := s.store.AddFilterKeyword(ctx, viewer, &nk, filterLimits, s.now().UTC()); err != nil {
		return nil, filterError(err)
	}
	s.filtersChanged(viewer)
	return &nk, nil
}

// FilterKeyword loads one of the viewer's keywords.
func (s *Service) FilterKeyword(ctx context.Context, viewer, id int64) (*store.FilterKeyword, error) {
	return s.store.FilterKeywordByID(ctx, viewer, id)
}

// UpdateFilterKeyword changes one of the viewer's keywords.
func (s *Service) UpdateFilterKeyword(ctx context.Context, viewer, id int64, k KeywordParams) (*store.FilterKeyword, error) {
	cur, err := s.store.FilterKeywordByID(ctx, viewer, id)
	if err != nil {
		return nil, err
	}
	if k.Keyword != nil {
		if cur.Keyword, err = checkKeyword("keyword", *k.Keyword); err != nil {
			return nil, err
		}
	}
	if k.WholeWord != nil {
		cur.WholeWord = *k.WholeWord
	}
	if err := s.store.UpdateFilterKeyword(ctx, viewer, cur); err != nil {
		return nil, err
	}
	s.filtersChanged(viewer)
	return cur, nil
}

// DeleteFilterKeyword deletes one of the viewer's keywords (and so a v1
// filter: the v2 filter it belonged to stays, as on Mastodon).
func (s *Service) DeleteFilterKeyword(ctx context.Context, viewer, id int64) error {
	return s.changed(viewer, s.store.DeleteFilterKeyword(ctx, viewer, id))
}

// AddFilterStatus names a status the viewer may see in one of its filters.
func (s *Service) AddFilterStatus(ctx context.Context, viewer, filter, status int64) (*store.FilterStatus, error) {
	if _, err := s.store.FilterByID(ctx, viewer, filter); err != nil {
		return nil, err
	}
	if _, err := s.store.VisibleStatus(ctx, viewer, status); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, invalid("status_id", "must be a status you can see")
		}
		return nil, err
	}
	fs := &store.FilterStatus{ID: s.ids.Next(), FilterID: filter, StatusID: status}
	if err := s.store.AddFilterStatus(ctx, viewer, fs, filterLimits, s.now().UTC()); err != nil {
		return nil, filterError(err)
	}
	s.filtersChanged(viewer)
	return fs, nil
}

// FilterStatus loads one of the viewer's filtered statuses.
func (s *Service) FilterStatus(ctx context.Context, viewer, id int64) (*store.FilterStatus, error) {
	return s.store.FilterStatusByID(ctx, viewer, id)
}

// DeleteFilterStatus deletes one of the viewer's filtered statuses.
func (s *Service) DeleteFilterStatus(ctx context.Context, viewer, id int64) error {
	return s.changed(viewer, s.store.DeleteFilterStatus(ctx, viewer, id))
}

// V1Filter is a filter of the v1 API: one keyword of a v2 filter, with
// the filter's context, expiry and action (irreversible: hide).
type V1Filter struct {
	Keyword store.FilterKeyword
	Filter  *store.Filter
}

// V1FilterParams are a v1 filter's inputs; nil leaves a field as it is.
type V1FilterParams struct {
	Phrase       *string
	Context      []string
	Irreversible *bool
	WholeWord    *bool
	ExpiresIn    *string
}

// V1Filters lists the viewer's keywords as v1 filters.
func (s *Service) V1Filters(ctx context.Context, viewer int64) ([]V1Filter, error) {
	all, err := s.store.Filters(ctx, viewer)
	if err != nil {
		return nil, err
	}
	var out []V1Filter
	for i := range all {
		for _, k := range all[i].Keywords {
			out = append(out, V1Filter{Keyword: k, Filter: &all[i]})
		}
	}
	return out, nil
}

// V1Filter loads one of the viewer's keywords as a v1 filter.
func (s *Service) V1Filter(ctx context.Context, viewer, id int64) (*V1Filter, error) {
	k, err := s.store.FilterKeywordByID(ctx, viewer, id)
	if err != nil {
		return nil, err
	}
	f, err := s.store.FilterByID(ctx, viewer, k.FilterID)
	if err != nil {
		return nil, err
	}
	return &V1Filter{Keyword: *k, Filter: f}, nil
}

// CreateV1Filter creates a v2 filter titled with the phrase, holding it as
// its one keyword, as Mastodon maps a v1 filter.
func (s *Service) CreateV1Filter(ctx context.Context, viewer int64, p V1FilterParams) (*V1Filter, error) {
	if p.Phrase == nil {
		return nil, invalid("phrase", "can't be blank")
	}
	if _, err := checkKeyword("phrase", *p.Phrase); err != nil {
		return nil, err
	}
	action := "warn"
	if p.Irreversible != nil && *p.Irreversible {
		action = "hide"
	}
	f, err := s.CreateFilter(ctx, viewer, FilterParams{Title: p.Phrase, Context: p.Context, Action: &action, ExpiresIn: p.ExpiresIn,
		Keywords: []KeywordParams{{Keyword: p.Phrase, WholeWord: p.WholeWord}}})
	if err != nil {
		return nil, err
	}
	return &V1Filter{Keyword: f.Keywords[0], Filter: f}, nil
}

// UpdateV1Filter changes a v1 filter: its keyword, and its filter's
// fields (refused when that filter holds other keywords too).
func (s *Service) UpdateV1Filter(ctx context.Context, viewer, id int64, p V1FilterParams) (*V1Filter, error) {
	cur, err := s.V1Filter(ctx, viewer, id)
	if err != nil {
		return nil, err
	}
	fp := FilterParams{Context: p.Context, ExpiresIn: p.ExpiresIn}
	if p.Phrase != nil && *p.Phrase != cur.Filter.Title {
		fp.Title = p.Phrase
	}
	if p.Irreversible != nil && *p.Irreversible != cur.Filter.Hide {
		a := "warn"
		if *p.Irreversible {
			a = "hide"
		}
		fp.Action = &a
	}
	ch, err := s.filterChange(fp)
	if err != nil {
		return nil, err
	}
	// What a v1 client sends again unchanged is no change (go-mastodon
	// sends every field, expires_in "" for none).
	if p.Context != nil && *ch.Contexts == cur.Filter.Contexts {
		ch.Contexts = nil
	}
	if ch.ExpiresAt != nil && ch.ExpiresAt.IsZero() && cur.Filter.ExpiresAt.IsZero() {
		ch.ExpiresAt = nil
	}
	ch.OnlyKeyword = true
	k := cur.Keyword
	if p.Phrase != nil {
		if k.Keyword, err = checkKeyword("phrase", *p.Phrase); err != nil {
			return nil, err
		}
	}
	if p.WholeWord != nil {
		k.WholeWord = *p.WholeWord
	}
	ch.Update = []store.FilterKeyword{k}
	if err := s.store.UpdateFilter(ctx, viewer, cur.Filter.ID, ch, filterLimits, s.now().UTC()); err != nil {
		return nil, filterError(err)
	}
	s.filtersChanged(viewer)
	return s.V1Filter(ctx, viewer, id)
}

// filtersChanged tells the viewer's streams its filters changed.
func (s *Service) filtersChanged(viewer int64) {
	s.emit(events.Event{Kind: events.FiltersChanged, Account: viewer})
}

// changed is filtersChanged after a write that returned err, if it did not fail.
func (s *Service) changed(viewer int64, err error) error {
	if err == nil {
		s.filtersChanged(viewer)
	}
	return err
}

// ActiveFilters compiles the active filters of each viewer (0, anonymous,
// has none) in one statement: those not expired now, so an expired filter
// stops applying the moment it expires, with no sweep.
func (s *Service) ActiveFilters(ctx context.Context, viewers []int64) (map[int64]*FilterSet, error) {
	ids := make([]int64, 0, len(viewers))
	for _, v := range viewers {
		if v != 0 {
			ids = append(ids, v)
		}
	}
	out := make(map[int64]*FilterSet, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	all, err := s.store.ActiveFilters(ctx, ids, s.now())
	if err != nil {
		return nil, err
	}
	for v, list := range all {
		out[v] = compileFilters(v, list)
	}
	return out, nil
}

// ViewerFilters compiles one viewer's active filters; nil (which matches
// nothing) for an anonymous viewer.
func (s *Service) ViewerFilters(ctx context.Context, viewer int64) (*FilterSet, error) {
	if viewer == 0 {
		return nil, nil
	}
	all, err := s.ActiveFilters(ctx, []int64{viewer})
	if err != nil {
		return nil, err
	}
	return all[viewer], nil
}

// WithClock makes the service read the time from now (tests). It returns s.
func (s *Service) WithClock(now func() time.Time) *Service {
	s.now = now
	return s
}
