package instance

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/rampart-social/rampart/internal/accounts"
)

// socialT drives several users of one instance through the client API.
// Helpers fail the test on anything unexpected; they never run in subtests
// (ti.call fails the top-level test).
type socialT struct {
	t  *testing.T
	ti *tlsInstance
}

func newSocial(t *testing.T, extra ...string) *socialT {
	return &socialT{t: t, ti: startTLS(t, extra...)}
}

// user is an account with a read/write/follow token; anon has neither.
type user struct{ name, tok, id string }

var anon = user{name: "anonymous"}

func (s *socialT) user(name string) user {
	s.t.Helper()
	tok, id := s.ti.userToken(name, "read write follow")
	return user{name, tok, id}
}

func (s *socialT) req(u user, method, path string, form url.Values, hdr ...string) reply {
	s.t.Helper()
	return s.ti.call(s.ti.client, method, path, form, u.tok, hdr...)
}

// must is req that fails the test unless the answer is 200.
func (s *socialT) must(u user, method, path string, form url.Values) reply {
	s.t.Helper()
	r := s.req(u, method, path, form)
	if r.status != 200 {
		s.t.Fatalf("%s %s %s: %d %s", u.name, method, path, r.status, r.body)
	}
	return r
}

// post creates a status and returns its id; kv are extra form fields.
func (s *socialT) post(u user, text string, kv ...string) string {
	s.t.Helper()
	form := url.Values{"status": {text}}
	for i := 0; i+1 < len(kv); i += 2 {
		form.Set(kv[i], kv[i+1])
	}
	return s.must(u, "POST", "/api/v1/statuses", form).json(s.t)["id"].(string)
}

func (s *socialT) follow(u, target user) {
	s.t.Helper()
	if r := s.must(u, "POST", "/api/v1/accounts/"+target.id+"/follow", url.Values{}).json(s.t); r["following"] != true {
		s.t.Fatalf("%s follows %s: %v", u.name, target.name, r)
	}
}

// act POSTs /api/v1/<action> ("accounts/1/block", "statuses/2/favourite", …) and wants a 200.
func (s *socialT) act(u user, action string) reply {
	s.t.Helper()
	return s.must(u, "POST", "/api/v1/"+action, url.Values{})
}

// statusList reads a list of statuses; a 404 is an empty list (a hidden
// account's statuses). Items are "id" or, for reblogs, "id>reblog-id".
func (s *socialT) statusList(u user, path string) []string {
	s.t.Helper()
	r := s.req(u, "GET", path, nil)
	if r.status == 404 && strings.Contains(path, "/accounts/") {
		return nil
	}
	if r.status != 200 {
		s.t.Errorf("%s GET %s: %d %s", u.name, path, r.status, r.body)
		return nil
	}
	return itemIDs(r.list(s.t))
}

func itemIDs(list []map[string]any) []string {
	out := make([]string, 0, len(list))
	for _, st := range list {
		id := st["id"].(string)
		if rb, ok := st["reblog"].(map[string]any); ok {
			id += ">" + rb["id"].(string)
		}
		out = append(out, id)
	}
	return out
}

func has(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// hasReblogOf reports whether a list holds a reblog of id.
func hasReblogOf(ids []string, id string) bool {
	for _, x := range ids {
		if strings.HasSuffix(x, ">"+id) {
			return true
		}
	}
	return false
}

// context returns the ids above and below a status, and the answer's status code.
func (s *socialT) context(u user, id string) (up, down []string, status int) {
	s.t.Helper()
	r := s.req(u, "GET", "/api/v1/statuses/"+id+"/context", nil)
	if r.status != 200 {
		if r.status != 404 {
			s.t.Errorf("%s context of %s: %d %s", u.name, id, r.status, r.body)
		}
		return nil, nil, r.status
	}
	m := r.json(s.t)
	ids := func(k string) []string {
		var out []string
		for _, x := range m[k].([]any) {
			out = append(out, x.(map[string]any)["id"].(string))
		}
		return out
	}
	return ids("ancestors"), ids("descendants"), 200
}

// search returns the statuses /api/v2/search finds.
func (s *socialT) search(u user, q string) []string {
	s.t.Helper()
	r := s.req(u, "GET", "/api/v2/search?type=statuses&q="+url.QueryEscape(q), nil)
	if r.status != 200 {
		s.t.Errorf("%s search %q: %d %s", u.name, q, r.status, r.body)
		return nil
	}
	var list []map[string]any
	for _, x := range r.json(s.t)["statuses"].([]any) {
		list = append(list, x.(map[string]any))
	}
	return itemIDs(list)
}

// note is a notification reduced to what the tests compare.
type note struct{ id, typ, from, status string }

func (s *socialT) notes(u user, query string) []note {
	s.t.Helper()
	r := s.req(u, "GET", "/api/v1/notifications"+query, nil)
	if r.status != 200 {
		s.t.Errorf("%s notifications: %d %s", u.name, r.status, r.body)
		return nil
	}
	var out []note
	for _, n := range r.list(s.t) {
		x := note{id: n["id"].(string), typ: n["type"].(string), from: n["account"].(map[string]any)["id"].(string)}
		if st, ok := n["status"].(map[string]any); ok {
			x.status = st["id"].(string)
		}
		out = append(out, x)
	}
	return out
}

func hasNote(list []note, typ, from, status string) bool {
	for _, n := range list {
		if n.typ == typ && n.from == from && n.status == status {
			return true
		}
	}
	return false
}

// statusCode is GET /api/v1/statuses/:id's status, which must be 200 or 404.
func (s *socialT) statusCode(u user, id string) int {
	s.t.Helper()
	r := s.req(u, "GET", "/api/v1/statuses/"+id, nil)
	if r.status != 200 && r.status != 404 {
		s.t.Errorf("%s GET status %s: %d %s", u.name, id, r.status, r.body)
	}
	return r.status
}

// TestVisibilityMatrix checks every visibility × viewer × read path against
// the one table of who may see what.
func TestVisibilityMatrix(t *testing.T) {
	s := newSocial(t)
	author, follower, mentioned, stranger := s.user("author"), s.user("follower"), s.user("mentioned"), s.user("stranger")
	blocked, blocker, op := s.user("blocked"), s.user("blocker"), s.user("op")
	s.follow(follower, author)
	s.follow(follower, op) // so that a reply to op belongs in the home timeline by any rule
	// Both blocked parties followed the author; the blocks end that.
	s.follow(blocked, author)
	s.follow(blocker, author)
	s.act(author, "accounts/"+blocked.id+"/block") // the author blocks the viewer
	s.act(blocker, "accounts/"+author.id+"/block") // the viewer blocks the author
	// The mentioned account takes private mentions from strangers (the
	// default notification policy holds them back, as Mastodon 4.3's does).
	s.must(mentioned, "PATCH", "/api/v2/notifications/policy", url.Values{"for_private_mentions": {"accept"}})

	root := s.post(op, "A thread root", "visibility", "public")
	visibilities := []string{"public", "unlisted", "private", "direct"}
	status := map[string]string{}
	for _, v := range visibilities {
		// The blocked parties are mentioned too: a block beats a mention.
		status[v] = s.post(author, "@mentioned @blocked @blocker hello kw"+v+" #VisTag", "visibility", v, "in_reply_to_id", root)
	}

	canSee := func(v, who string) bool {
		switch who {
		case "blocked", "blocker":
			return false
		}
		switch v {
		case "public", "unlisted":
			return true
		case "private":
			return who == "author" || who == "follower" || who == "mentioned"
		}
		return who == "author" || who == "mentioned"
	}
	inPublic := func(v, who string) bool { return v == "public" && who != "blocked" && who != "blocker" }

	// Lists are read once per viewer.
	cache := map[string][]string{}
	list := func(u user, path string) []string {
		k := u.name + " " + path
		if l, ok := cache[k]; ok {
			return l
		}
		cache[k] = s.statusList(u, path)
		return cache[k]
	}
	noteCache := map[string][]note{}

	type readPath struct {
		name  string
		token bool // anonymous callers cannot use it
		want  func(v, who string) bool
		seen  func(u user, id string) bool
	}
	paths := []readPath{
		{"GET /api/v1/statuses/:id", false, canSee, func(u user, id string) bool { return s.statusCode(u, id) == 200 }},
		{"context of the root (descendants)", false, canSee, func(u user, id string) bool {
			_, down, code := s.context(u, root)
			if code != 200 {
				t.Errorf("%s cannot read the public root's context: %d", u.name, code)
			}
			return has(down, id)
		}},
		{"context of the status (ancestors)", false, canSee, func(u user, id string) bool {
			up, _, code := s.context(u, id)
			if code == 200 && !has(up, root) {
				t.Errorf("%s: context of %s lacks the root among its ancestors: %v", u.name, id, up)
			}
			return code == 200
		}},
		{"GET /api/v1/timelines/home", true, func(v, who string) bool {
			if v == "direct" {
				return who == "author" || who == "mentioned"
			}
			return who == "author" || who == "follower"
		}, func(u user, id string) bool { return has(list(u, "/api/v1/timelines/home"), id) }},
		{"GET /api/v1/timelines/public", false, inPublic, func(u user, id string) bool { return has(list(u, "/api/v1/timelines/public"), id) }},
		{"GET /api/v1/timelines/public?local=true", false, inPublic, func(u user, id string) bool {
			return has(list(u, "/api/v1/timelines/public?local=true"), id)
		}},
		{"GET /api/v1/timelines/tag/vistag", false, inPublic, func(u user, id string) bool { return has(list(u, "/api/v1/timelines/tag/vistag"), id) }},
		{"GET /api/v1/accounts/:author/statuses", false, canSee, func(u user, id string) bool {
			return has(list(u, "/api/v1/accounts/"+author.id+"/statuses"), id)
		}},
		// Anonymous searches find accounts and tags, never statuses.
		{"GET /api/v2/search (statuses)", false, func(v, who string) bool { return who != "anonymous" && canSee(v, who) }, func(u user, id string) bool {
			for v, sid := range status {
				if sid == id {
					return has(s.search(u, "kw"+v), id)
				}
			}
			return false
		}},
		{"GET /api/v1/notifications (mention)", true, func(v, who string) bool { return who == "mentioned" }, func(u user, id string) bool {
			l, ok := noteCache[u.name]
			if !ok {
				l = s.notes(u, "")
				noteCache[u.name] = l
			}
			for _, n := range l {
				if n.status == id {
					return n.typ == "mention" && n.from == author.id
				}
			}
			return false
		}},
	}

	cells := 0
	for _, v := range visibilities {
		for _, u := range []user{author, follower, mentioned, stranger, blocked, blocker, anon} {
			for _, p := range paths {
				if p.token && u.tok == "" {
					continue
				}
				cells++
				want, got := p.want(v, u.name), p.seen(u, status[v])
				if want != got {
					t.Errorf("%s status × %s × %s: visible %v, want %v", v, u.name, p.name, got, want)
				}
			}
		}
	}
	t.Logf("visibility matrix: %d cells", cells)

	// Nobody but the mentioned account was notified of anything by the author.
	for _, u := range []user{follower, stranger, blocked, blocker, op} {
		for _, n := range s.notes(u, "") {
			if n.from == author.id {
				t.Errorf("%s got a %s notification from the author", u.name, n.typ)
			}
		}
	}
}

func TestMutedAccountVanishesFromListsButNotFromItsURL(t *testing.T) {
	s := newSocial(t)
	muted, muter, other, booster := s.user("muted"), s.user("muter"), s.user("other"), s.user("booster")
	s.follow(muter, muted)
	s.follow(muter, booster)
	root := s.post(muter, "my thread", "visibility", "public")
	mine := s.post(muter, "favourite this", "visibility", "public")
	st := s.post(muted, "@muter hello mutekw #mutetag", "visibility", "public", "in_reply_to_id", root)
	s.act(muted, "statuses/"+mine+"/favourite")
	s.act(booster, "statuses/"+st+"/reblog")

	type view struct {
		home, public, tag, context, search, reblogged, mention, favourite bool
	}
	look := func(u user) view {
		_, down, _ := s.context(u, root)
		notes := s.notes(u, "")
		home := s.statusList(u, "/api/v1/timelines/home")
		return view{
			home:      has(home, st),
			public:    has(s.statusList(u, "/api/v1/timelines/public"), st),
			tag:       has(s.statusList(u, "/api/v1/timelines/tag/mutetag"), st),
			context:   has(down, st),
			search:    has(s.search(u, "mutekw"), st),
			reblogged: hasReblogOf(home, st),
			mention:   hasNote(notes, "mention", muted.id, st),
			favourite: hasNote(notes, "favourite", muted.id, mine),
		}
	}
	all := view{true, true, true, true, true, true, true, true}
	if got := look(muter); got != all {
		t.Fatalf("before the mute: %+v", got)
	}
	s.act(muter, "accounts/"+muted.id+"/mute")
	if got := look(muter); got != (view{}) {
		t.Errorf("after the mute, the muted account still shows: %+v", got)
	}
	if s.statusCode(muter, st) != 200 {
		t.Error("a muted account's status is not reachable by its URL")
	}
	if got := s.statusList(muter, "/api/v1/accounts/"+muted.id+"/statuses"); !has(got, st) {
		t.Errorf("the muted account's own profile lost the status: %v", got)
	}
	// The mute is the muter's alone.
	if !has(s.statusList(other, "/api/v1/timelines/public"), st) || !has(s.search(other, "mutekw"), st) {
		t.Error("a mute hid the status from someone else")
	}
	s.act(muter, "accounts/"+muted.id+"/unmute")
	if got := look(muter); got != all {
		t.Errorf("after unmuting: %+v", got)
	}
	// Muting without notifications keeps the notifications (Mastodon's hide_notifications=false).
	if r := s.must(muter, "POST", "/api/v1/accounts/"+muted.id+"/mute", url.Values{"notifications": {"false"}}).json(t); r["muting"] != true || r["muting_notifications"] != false {
		t.Errorf("mute without notifications: %v", r)
	}
	if got := look(muter); got != (view{mention: true, favourite: true}) {
		t.Errorf("muted without notifications: %+v", got)
	}
}

func TestBlockHidesEarlierNotifications(t *testing.T) {
	s := newSocial(t)
	a, b, c := s.user("alice"), s.user("bob"), s.user("carol")
	s.follow(a, b)
	s.follow(a, c)
	st := s.post(a, "hi @bob and @carol", "visibility", "public")
	before := map[string][]note{}
	for _, u := range []user{b, c} {
		ns := s.notes(u, "")
		// A notification with a status (the mention) and one without (the follow).
		if len(ns) != 2 || !hasNote(ns, "mention", a.id, st) || !hasNote(ns, "follow", a.id, "") {
			t.Fatalf("%s's notifications: %v", u.name, ns)
		}
		before[u.name] = ns
		for _, n := range ns {
			s.must(u, "GET", "/api/v1/notifications/"+n.id, nil)
		}
	}
	s.act(b, "accounts/"+a.id+"/block") // the recipient blocks the sender
	s.act(a, "accounts/"+c.id+"/block") // the sender blocks the recipient
	for _, u := range []user{b, c} {
		if ns := s.notes(u, ""); len(ns) != 0 {
			t.Errorf("%s still has notifications after the block: %v", u.name, ns)
		}
		for _, n := range before[u.name] {
			if r := s.req(u, "GET", "/api/v1/notifications/"+n.id, nil); r.status != 404 {
				t.Errorf("%s: GET the hidden %s notification: %d", u.name, n.typ, r.status)
			}
		}
	}
	// Unblocking brings the notification back (it was hidden, not lost).
	s.act(b, "accounts/"+a.id+"/unblock")
	if ns := s.notes(b, ""); !hasNote(ns, "mention", a.id, st) {
		t.Errorf("after unblocking: %v", ns)
	}
}

// everywhere reports, for one viewer, where status id can be found.
func (s *socialT) everywhere(u user, id, root, authorID, word, tag string) map[string]bool {
	s.t.Helper()
	_, down, _ := s.context(u, root)
	home := s.statusList(u, "/api/v1/timelines/home")
	return map[string]bool{
		"status":           s.statusCode(u, id) == 200,
		"context":          has(down, id),
		"home":             has(home, id),
		"home (reblog)":    hasReblogOf(home, id),
		"public":           has(s.statusList(u, "/api/v1/timelines/public"), id),
		"local":            has(s.statusList(u, "/api/v1/timelines/public?local=true"), id),
		"tag":              has(s.statusList(u, "/api/v1/timelines/tag/"+tag), id),
		"account statuses": has(s.statusList(u, "/api/v1/accounts/"+authorID+"/statuses"), id),
		"search":           has(s.search(u, word), id),
		"favourites":       has(s.statusList(u, "/api/v1/favourites"), id),
		"bookmarks":        has(s.statusList(u, "/api/v1/bookmarks"), id),
	}
}

// where lists the places a status was found.
func where(m map[string]bool) []string {
	var out []string
	for k, v := range m {
		if v {
			out = append(out, k)
		}
	}
	return out
}

func TestDeletedStatusVanishesEverywhere(t *testing.T) {
	s := newSocial(t)
	a, f, m, g, op := s.user("alice"), s.user("fan"), s.user("mentioned"), s.user("fanfan"), s.user("op")
	s.follow(f, a)
	s.follow(f, op)
	s.follow(g, f)
	root := s.post(op, "root", "visibility", "public")
	st := s.post(a, "@mentioned delkw #deltag", "visibility", "public", "in_reply_to_id", root)
	s.act(f, "statuses/"+st+"/favourite")
	s.act(f, "statuses/"+st+"/bookmark")
	rb := s.act(f, "statuses/"+st+"/reblog").json(t)["id"].(string)

	// The fan's own reblog is in the fan's home too.
	want := map[string]bool{"status": true, "context": true, "home": true, "home (reblog)": true, "public": true, "local": true, "tag": true,
		"account statuses": true, "search": true, "favourites": true, "bookmarks": true}
	if got := s.everywhere(f, st, root, a.id, "delkw", "deltag"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("before the delete, the fan sees %v", got)
	}
	if !hasReblogOf(s.statusList(g, "/api/v1/timelines/home"), st) {
		t.Fatal("the reblog is not in the reblogger's follower's home")
	}
	if ns := s.notes(a, ""); !hasNote(ns, "favourite", f.id, st) || !hasNote(ns, "reblog", f.id, st) {
		t.Fatalf("author's notifications: %v", ns)
	}
	if ns := s.notes(m, ""); !hasNote(ns, "mention", a.id, st) {
		t.Fatalf("mentioned account's notifications: %v", ns)
	}
	if c := s.must(op, "GET", "/api/v1/statuses/"+root, nil).json(t)["replies_count"]; c != float64(1) {
		t.Errorf("replies_count before the delete: %v", c)
	}

	if r := s.req(f, "DELETE", "/api/v1/statuses/"+st, nil); r.status != 403 && r.status != 404 {
		t.Errorf("someone else deleted the status: %d", r.status)
	}
	s.must(a, "DELETE", "/api/v1/statuses/"+st, nil)
	for _, u := range []user{a, f, m, g} {
		if found := where(s.everywhere(u, st, root, a.id, "delkw", "deltag")); len(found) > 0 {
			t.Errorf("%s still finds the deleted status in %v", u.name, found)
		}
		for _, n := range s.notes(u, "") {
			if n.status == st {
				t.Errorf("%s still has a %s notification of the deleted status", u.name, n.typ)
			}
		}
	}
	if s.statusCode(anon, st) != 404 || has(s.statusList(anon, "/api/v1/timelines/public"), st) {
		t.Error("anonymous still sees the deleted status")
	}
	if s.statusCode(g, rb) != 404 {
		t.Error("the reblog of a deleted status survived")
	}
	if c := s.must(op, "GET", "/api/v1/statuses/"+root, nil).json(t)["replies_count"]; c != float64(0) {
		t.Errorf("replies_count after the delete: %v", c)
	}
	if r := s.req(a, "DELETE", "/api/v1/statuses/"+st, nil); r.status != 404 {
		t.Errorf("deleting twice: %d", r.status)
	}
}

func TestDisabledAuthorVanishesEverywhere(t *testing.T) {
	s := newSocial(t)
	a, f, m, op := s.user("alice"), s.user("fan"), s.user("mentioned"), s.user("op")
	s.follow(f, a)
	s.follow(f, op)
	s.follow(a, op) // op gets a follow notification from alice
	root := s.post(op, "root", "visibility", "public")
	st := s.post(a, "@mentioned diskw #distag", "visibility", "public", "in_reply_to_id", root)
	s.act(f, "statuses/"+st+"/favourite")
	s.act(f, "statuses/"+st+"/bookmark")
	s.act(a, "statuses/"+root+"/favourite") // op is notified by alice about op's own status

	want := map[string]bool{"status": true, "context": true, "home": true, "home (reblog)": false, "public": true, "local": true, "tag": true,
		"account statuses": true, "search": true, "favourites": true, "bookmarks": true}
	if got := s.everywhere(f, st, root, a.id, "diskw", "distag"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("before disabling, the fan sees %v", got)
	}
	alice, err := s.ti.inst.Store().AccountByUsername(context.Background(), "alice", "")
	if err != nil {
		t.Fatal(err)
	}
	yes, no := true, false
	if _, err := s.ti.inst.Accounts().Modify(context.Background(), alice.ID, accounts.Change{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []user{f, m, op} {
		if found := where(s.everywhere(u, st, root, a.id, "diskw", "distag")); len(found) > 0 {
			t.Errorf("%s still finds the disabled author's status in %v", u.name, found)
		}
		for _, n := range s.notes(u, "") {
			if n.from == a.id {
				t.Errorf("%s still has a %s notification from the disabled author", u.name, n.typ)
			}
		}
	}
	if s.statusCode(anon, st) != 404 || has(s.statusList(anon, "/api/v1/timelines/public"), st) {
		t.Error("anonymous still sees the disabled author's status")
	}
	if r := s.req(anon, "GET", "/api/v1/accounts/"+a.id, nil); r.status != 404 {
		t.Errorf("the disabled account is visible: %d", r.status)
	}
	if r := s.req(f, "GET", "/api/v1/statuses/"+root+"/favourited_by", nil); r.status != 200 || strings.Contains(r.body, `"id":"`+a.id+`"`) {
		t.Errorf("the disabled account is listed among those who favourited: %d %.200s", r.status, r.body)
	}
	if r := s.req(f, "GET", "/api/v1/accounts/"+op.id+"/followers", nil); r.status != 200 || strings.Contains(r.body, `"id":"`+a.id+`"`) {
		t.Errorf("the disabled account is listed among followers: %d %.200s", r.status, r.body)
	}
	// Re-enabling brings everything back: disabling hides, it does not delete.
	if _, err := s.ti.inst.Accounts().Modify(context.Background(), alice.ID, accounts.Change{Disabled: &no}); err != nil {
		t.Fatal(err)
	}
	if got := s.everywhere(f, st, root, a.id, "diskw", "distag"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after re-enabling, the fan sees %v", got)
	}
	if ns := s.notes(op, ""); !hasNote(ns, "favourite", a.id, root) {
		t.Errorf("after re-enabling, op's notifications: %v", ns)
	}
}

func TestReblogs(t *testing.T) {
	s := newSocial(t)
	a, f, g, h := s.user("alice"), s.user("fan"), s.user("fanfan"), s.user("hater")
	s.follow(f, a)
	s.follow(g, f)
	s.follow(h, f)
	s.act(h, "accounts/"+a.id+"/block")
	pub := s.post(a, "boost me", "visibility", "public")
	unl := s.post(a, "boost me quietly", "visibility", "unlisted")
	priv := s.post(a, "followers only", "visibility", "private")
	dm := s.post(a, "@fan secret", "visibility", "direct")

	r := s.act(f, "statuses/"+pub+"/reblog").json(t)
	rb := r["id"].(string)
	if orig, _ := r["reblog"].(map[string]any); orig == nil || orig["id"] != pub || orig["reblogged"] != true {
		t.Errorf("reblog entity: %v", r)
	}
	if again := s.act(f, "statuses/"+pub+"/reblog").json(t)["id"]; again != rb {
		t.Errorf("reblogging twice made another reblog: %v vs %v", again, rb)
	}
	if c := s.must(a, "GET", "/api/v1/statuses/"+pub, nil).json(t)["reblogs_count"]; c != float64(1) {
		t.Errorf("reblogs_count = %v", c)
	}
	s.act(f, "statuses/"+unl+"/reblog")
	home := s.statusList(g, "/api/v1/timelines/home")
	if !has(home, rb+">"+pub) || !hasReblogOf(home, unl) {
		t.Errorf("the reblogs are not in the reblogger's follower's home: %v", home)
	}
	if home := s.statusList(h, "/api/v1/timelines/home"); hasReblogOf(home, pub) {
		t.Errorf("a reblog of a blocked account's status reached the blocker's home: %v", home)
	}
	if ns := s.notes(a, ""); !hasNote(ns, "reblog", f.id, pub) {
		t.Errorf("no reblog notification: %v", ns)
	}
	for _, id := range []string{priv, dm} {
		if r := s.req(f, "POST", "/api/v1/statuses/"+id+"/reblog", nil); r.status != 403 {
			t.Errorf("reblogging a private or direct status: %d %s", r.status, r.body)
		}
	}
	if r := s.req(g, "POST", "/api/v1/statuses/"+priv+"/reblog", nil); r.status != 404 {
		t.Errorf("reblogging a status one cannot see: %d", r.status)
	}
	// A reblog is not a second way into the public timeline.
	if pubTL := s.statusList(anon, "/api/v1/timelines/public"); hasReblogOf(pubTL, pub) {
		t.Errorf("a reblog in the public timeline: %v", pubTL)
	}

	if r := s.act(f, "statuses/"+pub+"/unreblog").json(t); r["id"] != pub || r["reblogged"] != false {
		t.Errorf("unreblog answer: %v", r)
	}
	if home := s.statusList(g, "/api/v1/timelines/home"); hasReblogOf(home, pub) || !hasReblogOf(home, unl) {
		t.Errorf("after unreblog, the follower's home: %v", home)
	}
	if s.statusCode(g, rb) != 404 {
		t.Error("the removed reblog is still reachable")
	}
	if c := s.must(a, "GET", "/api/v1/statuses/"+pub, nil).json(t)["reblogs_count"]; c != float64(0) {
		t.Errorf("reblogs_count after unreblog = %v", c)
	}

	// A reblog stays its author's to withdraw after the original's author
	// blocks them, without the original being shown to them.
	rb = s.act(f, "statuses/"+pub+"/reblog").json(t)["id"].(string)
	s.act(a, "accounts/"+f.id+"/block")
	if !hasReblogOf(s.statusList(g, "/api/v1/timelines/home"), pub) {
		t.Fatal("the reblog is not in the follower's home")
	}
	if r := s.req(f, "POST", "/api/v1/statuses/"+pub+"/unreblog", nil); r.status != 404 && r.status != 200 || strings.Contains(r.body, "boost me") {
		t.Errorf("unreblog after being blocked: %d %s", r.status, r.body)
	}
	if s.statusCode(g, rb) != 404 || hasReblogOf(s.statusList(g, "/api/v1/timelines/home"), pub) {
		t.Error("a reblog could not be withdrawn after its author was blocked by the original's author")
	}
}

func TestEditKeepsHistoryAndTellsFavouriters(t *testing.T) {
	s := newSocial(t)
	a, f, x := s.user("alice"), s.user("fan"), s.user("stranger")
	st := s.post(a, "first version oldword", "visibility", "public")
	s.act(f, "statuses/"+st+"/favourite")
	orig := s.must(a, "GET", "/api/v1/statuses/"+st, nil).json(t)
	if orig["edited_at"] != nil {
		t.Errorf("edited_at before any edit: %v", orig["edited_at"])
	}

	r := s.must(a, "PUT", "/api/v1/statuses/"+st, url.Values{"status": {"second version newword"}}).json(t)
	if c, _ := r["content"].(string); !strings.Contains(c, "second version") || strings.Contains(c, "first") {
		t.Errorf("edited content: %q", c)
	}
	if e, _ := r["edited_at"].(string); e == "" {
		t.Errorf("edited_at after the edit: %v", r["edited_at"])
	}
	if r["id"] != st || r["created_at"] != orig["created_at"] || r["favourites_count"] != float64(1) {
		t.Errorf("the edit changed what it should not: %v", r)
	}
	hist := s.must(anon, "GET", "/api/v1/statuses/"+st+"/history", nil).list(t)
	if len(hist) != 2 {
		t.Fatalf("history has %d entries: %v", len(hist), hist)
	}
	if c := hist[0]["content"].(string); !strings.Contains(c, "first version") {
		t.Errorf("history[0] (oldest) = %q", c)
	}
	if c := hist[1]["content"].(string); !strings.Contains(c, "second version") {
		t.Errorf("history[1] (current) = %q", c)
	}
	if hist[0]["created_at"].(string) > hist[1]["created_at"].(string) {
		t.Errorf("history not oldest first: %v then %v", hist[0]["created_at"], hist[1]["created_at"])
	}
	src := s.must(a, "GET", "/api/v1/statuses/"+st+"/source", nil).json(t)
	if src["text"] != "second version newword" || src["id"] != st {
		t.Errorf("source: %v", src)
	}
	if r := s.req(x, "GET", "/api/v1/statuses/"+st+"/source", nil); r.status != 403 && r.status != 404 {
		t.Errorf("someone else read the source: %d", r.status)
	}
	if ns := s.notes(f, ""); !hasNote(ns, "update", a.id, st) {
		t.Errorf("the favouriter was not told of the edit: %v", ns)
	}
	if ns := s.notes(x, ""); len(ns) != 0 {
		t.Errorf("a stranger was told of the edit: %v", ns)
	}
	// Search follows the text.
	if has(s.search(x, "oldword"), st) || !has(s.search(x, "newword"), st) {
		t.Error("search still matches the old text, or not the new")
	}
	// Only the author edits, and not to nothing.
	for _, u := range []user{f, x} {
		if r := s.req(u, "PUT", "/api/v1/statuses/"+st, url.Values{"status": {"hijacked"}}); r.status != 403 && r.status != 404 {
			t.Errorf("%s edited someone else's status: %d", u.name, r.status)
		}
	}
	if r := s.req(a, "PUT", "/api/v1/statuses/"+st, url.Values{"status": {"  "}}); r.status != 422 {
		t.Errorf("edit to an empty status: %d", r.status)
	}
	if got := s.must(anon, "GET", "/api/v1/statuses/"+st, nil).json(t)["content"].(string); !strings.Contains(got, "second version") {
		t.Errorf("after refused edits: %q", got)
	}
	// An edit that mentions someone new tells them (and only them), as on Mastodon.
	s.must(a, "PUT", "/api/v1/statuses/"+st, url.Values{"status": {"third version @stranger"}})
	if ns := s.notes(x, ""); len(ns) != 1 || !hasNote(ns, "mention", a.id, st) {
		t.Errorf("the newly mentioned account's notifications: %v", ns)
	}
	s.must(a, "PUT", "/api/v1/statuses/"+st, url.Values{"status": {"fourth version @stranger"}})
	if ns := s.notes(x, ""); len(ns) != 1 {
		t.Errorf("a mention kept across an edit notified again: %v", ns)
	}
	if hist := s.must(anon, "GET", "/api/v1/statuses/"+st+"/history", nil).list(t); len(hist) != 4 {
		t.Errorf("history after three edits has %d entries", len(hist))
	}
}

func TestDirectMessagesLeaveNoTraceOnTheProfile(t *testing.T) {
	s := newSocial(t)
	a, m := s.user("alice"), s.user("mentioned")
	s.post(a, "@mentioned psst", "visibility", "direct")
	acc := s.must(anon, "GET", "/api/v1/accounts/"+a.id, nil).json(t)
	if acc["statuses_count"] != float64(0) || acc["last_status_at"] != nil {
		t.Errorf("a direct message shows on the profile: statuses_count %v, last_status_at %v", acc["statuses_count"], acc["last_status_at"])
	}
	s.post(a, "hello world", "visibility", "private")
	acc = s.must(m, "GET", "/api/v1/accounts/"+a.id, nil).json(t)
	if acc["statuses_count"] != float64(1) || acc["last_status_at"] == nil {
		t.Errorf("after a private status: statuses_count %v, last_status_at %v", acc["statuses_count"], acc["last_status_at"])
	}
}

func TestFollowRequestsGateFollowersOnlyStatuses(t *testing.T) {
	s := newSocial(t)
	l, f := s.user("locked"), s.user("fan")
	s.must(l, "PATCH", "/api/v1/accounts/update_credentials", url.Values{"locked": {"true"}})
	p1 := s.post(l, "for followers", "visibility", "private")
	if r := s.must(f, "POST", "/api/v1/accounts/"+l.id+"/follow", url.Values{}).json(t); r["following"] != false || r["requested"] != true {
		t.Fatalf("follow of a locked account: %v", r)
	}
	if s.statusCode(f, p1) != 404 || has(s.statusList(f, "/api/v1/timelines/home"), p1) || has(s.statusList(f, "/api/v1/accounts/"+l.id+"/statuses"), p1) {
		t.Error("a pending request shows followers-only statuses")
	}
	if ns := s.notes(l, ""); !hasNote(ns, "follow_request", f.id, "") {
		t.Errorf("no follow_request notification: %v", ns)
	}
	s.act(l, "follow_requests/"+f.id+"/authorize")
	if s.statusCode(f, p1) != 200 || !has(s.statusList(f, "/api/v1/timelines/home"), p1) || !has(s.statusList(f, "/api/v1/accounts/"+l.id+"/statuses"), p1) {
		t.Error("an accepted follower does not see followers-only statuses (status, home backfill, profile)")
	}
	p2 := s.post(l, "for followers again", "visibility", "private")
	if !has(s.statusList(f, "/api/v1/timelines/home"), p2) {
		t.Error("a new followers-only status did not reach the follower's home")
	}
	s.act(f, "accounts/"+l.id+"/unfollow")
	for _, id := range []string{p1, p2} {
		if s.statusCode(f, id) != 404 || has(s.statusList(f, "/api/v1/timelines/home"), id) {
			t.Error("a former follower still sees followers-only statuses")
		}
	}
	// A rejected request grants nothing.
	s.must(f, "POST", "/api/v1/accounts/"+l.id+"/follow", url.Values{})
	s.act(l, "follow_requests/"+f.id+"/reject")
	if s.statusCode(f, p1) != 404 {
		t.Error("a rejected request shows followers-only statuses")
	}
	if r := s.must(f, "GET", "/api/v1/accounts/relationships?id[]="+l.id, nil).list(t); r[0]["requested"] != false || r[0]["following"] != false {
		t.Errorf("relationship after the rejection: %v", r[0])
	}
}
