package instance

import (
	"net/url"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/rampart-social/rampart/internal/testdb"
)

// mediaSnapshot is what a failed profile change must leave as it was: the
// files in the media directory and the media_attachments rows.
type mediaSnapshot struct {
	files []string
	rows  []int64
}

func (ti *tlsInstance) mediaSnapshot(db *testdb.DB) mediaSnapshot {
	ti.t.Helper()
	entries, err := os.ReadDir(ti.mediaDir())
	if err != nil {
		ti.t.Fatal(err)
	}
	var s mediaSnapshot
	for _, e := range entries {
		s.files = append(s.files, e.Name())
	}
	rows, err := db.Query(`SELECT id FROM media_attachments ORDER BY id`)
	if err != nil {
		ti.t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			ti.t.Fatal(err)
		}
		s.rows = append(s.rows, id)
	}
	if err := rows.Err(); err != nil {
		ti.t.Fatal(err)
	}
	return s
}

// missingFrom is what of b is not in a.
func missingFrom[T comparable](a, b []T) []T {
	var out []T
	for _, x := range b {
		if !slices.Contains(a, x) {
			out = append(out, x)
		}
	}
	return out
}

// A PATCH /api/v1/accounts/update_credentials that fails leaves nothing
// behind: not the avatar or header it carried (files or rows), whichever
// step failed — a text field (checked before any image is processed), the
// second image, or the profile's write in the store (also when its second
// statement fails after the first succeeded). The profile keeps its old
// images, still served. A change that succeeds still stores the new images
// and leaves the replaced ones to the sweep.
func TestFailedProfileUpdateLeavesNoImages(t *testing.T) {
	ti := startMedia(t)
	tok, _ := ti.userToken("alice", "read write")
	db := ti.openDB()
	update := func(fields url.Values, files ...filePart) reply {
		t.Helper()
		r, err := ti.multipartRequest("PATCH", "/api/v1/accounts/update_credentials", tok, fields, files...)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	avatar := func(seed int) filePart {
		return filePart{"avatar", "me.png", "image/png", pngOf(t, picture(200, 200, seed))}
	}
	header := func(seed int) filePart {
		return filePart{"header", "h.png", "image/png", pngOf(t, picture(600, 200, seed))}
	}

	if r := update(url.Values{"display_name": {"Alice"}}, avatar(1), header(2)); r.status != 200 {
		t.Fatalf("the first avatar and header: %d %s", r.status, r.body)
	}
	before := ti.call(ti.client, "GET", "/api/v1/accounts/verify_credentials", nil, tok).json(t)
	oldAvatar, oldHeader := keyOf(t, before["avatar"]), keyOf(t, before["header"])
	snap := ti.mediaSnapshot(db)

	// Two ways the store can fail a valid change, at its first statement
	// (accounts) and at its second (users): a trigger aborts each.
	triggers := []string{
		`CREATE TRIGGER test_fail_accounts BEFORE UPDATE ON accounts WHEN NEW.display_name = 'the store fails'
			BEGIN SELECT RAISE(ABORT, 'the store failed (test)'); END`,
		`CREATE TRIGGER test_fail_users BEFORE UPDATE ON users WHEN NEW.default_language = 'zz'
			BEGIN SELECT RAISE(ABORT, 'the store failed (test)'); END`,
	}
	if testdb.Postgres() {
		triggers = []string{
			`CREATE FUNCTION test_fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'the store failed (test)'; END $$`,
			`CREATE TRIGGER test_fail_accounts BEFORE UPDATE ON accounts FOR EACH ROW WHEN (NEW.display_name = 'the store fails') EXECUTE FUNCTION test_fail()`,
			`CREATE TRIGGER test_fail_users BEFORE UPDATE ON users FOR EACH ROW WHEN (NEW.default_language = 'zz') EXECUTE FUNCTION test_fail()`,
		}
	}
	for _, trigger := range triggers {
		if _, err := db.Exec(trigger); err != nil {
			t.Fatal(err)
		}
	}
	truncated := pngOf(t, picture(300, 300, 3))
	truncated = truncated[:len(truncated)/2]
	for _, c := range []struct {
		what   string
		fields url.Values
		files  []filePart
		status int
		want   string
	}{
		{"a valid avatar with a non-image header", nil,
			[]filePart{avatar(4), {"header", "h.png", "image/png", []byte("<html><script>alert(1)</script>")}}, 422, "not accepted"},
		{"a valid avatar with a header that is not an image kind", nil,
			[]filePart{avatar(5), {"header", "h.png", "image/png", append([]byte("ID3\x04\x00\x00\x00\x00\x00\x00"), strings.Repeat("\xff\xfb\x90\x64", 64)...)}},
			422, "must be images"},
		{"a valid avatar with a header that cannot be decoded", nil,
			[]filePart{avatar(6), {"header", "h.png", "image/png", truncated}}, 422, "could not be read"},
		{"a display name over the limit", url.Values{"display_name": {strings.Repeat("x", 31)}},
			[]filePart{avatar(7), header(8)}, 422, "Display name"},
		// Checked before any image: the display name is the error, not the avatar.
		{"a display name over the limit with an avatar that is no image", url.Values{"display_name": {strings.Repeat("x", 31)}},
			[]filePart{{"avatar", "me.png", "image/png", []byte("<html>")}}, 422, "Display name"},
		{"a note over the limit", url.Values{"note": {strings.Repeat("x", 501)}}, []filePart{avatar(9)}, 422, "Note"},
		{"five profile fields", url.Values{"fields_attributes[0][name]": {"a"}, "fields_attributes[1][name]": {"b"},
			"fields_attributes[2][name]": {"c"}, "fields_attributes[3][name]": {"d"}, "fields_attributes[4][name]": {"e"}},
			[]filePart{avatar(10)}, 422, "fields"},
		{"an unknown default privacy", url.Values{"source[privacy]": {"everyone"}}, []filePart{avatar(11), header(12)}, 422, "privacy"},
		{"a language that is not a code", url.Values{"source[language]": {"english"}}, []filePart{header(13)}, 422, "language"},
		{"the store failing the profile's write", url.Values{"display_name": {"the store fails"}},
			[]filePart{avatar(14), header(15)}, 500, "Internal server error"},
		{"the store failing the preferences after the profile", url.Values{"display_name": {"Changed"}, "source[language]": {"zz"}},
			[]filePart{avatar(16), header(17)}, 500, "Internal server error"},
	} {
		r := update(c.fields, c.files...)
		wantRejected(t, c.what, r, c.status, c.want)
		if got := ti.mediaSnapshot(db); !reflect.DeepEqual(got, snap) {
			t.Errorf("%s: left files %v and upload rows %v behind (and lost files %v, rows %v)", c.what,
				missingFrom(snap.files, got.files), missingFrom(snap.rows, got.rows), missingFrom(got.files, snap.files), missingFrom(got.rows, snap.rows))
			snap = got // report each case's own leftovers once
		}
		after := ti.call(ti.client, "GET", "/api/v1/accounts/verify_credentials", nil, tok).json(t)
		if after["avatar"] != before["avatar"] || after["header"] != before["header"] || after["display_name"] != "Alice" {
			t.Errorf("%s: the profile changed: avatar %v, header %v, display name %v", c.what, after["avatar"], after["header"], after["display_name"])
		}
		for _, u := range []any{before["avatar"], before["header"]} {
			if got := ti.get(u.(string)); got.status != 200 {
				t.Errorf("%s: the old image %v is no longer served: %d", c.what, u, got.status)
			}
		}
	}

	// A change that succeeds stores the new avatar; the replaced one stays on
	// disk (and its row) until the sweep finds nothing uses it.
	r := update(url.Values{"display_name": {"Alice B"}}, avatar(18))
	if r.status != 200 {
		t.Fatalf("a valid change: %d %s", r.status, r.body)
	}
	changed := r.json(t)
	newAvatar := keyOf(t, changed["avatar"])
	if newAvatar == oldAvatar || keyOf(t, changed["header"]) != oldHeader || changed["display_name"] != "Alice B" {
		t.Errorf("after a valid change: %v", changed)
	}
	ti.assertServedImage("the new avatar", changed["avatar"], "image/jpeg")
	after := ti.mediaSnapshot(db)
	if len(after.rows) != len(snap.rows)+1 || len(after.files) != len(snap.files)+2 {
		t.Errorf("a valid change added %d rows and %d files, want 1 and 2 (the upload and its preview)",
			len(after.rows)-len(snap.rows), len(after.files)-len(snap.files))
	}
	if !slices.Contains(after.files, oldAvatar) || !slices.Contains(after.files, newAvatar) {
		t.Errorf("the replaced avatar %s or the new one %s is not on disk: %v", oldAvatar, newAvatar, after.files)
	}
	ti.assertDBMatchesDisk()
}
