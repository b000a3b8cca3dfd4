package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/rampart-social/rampart/internal/testdb"
)

// TestNonLocalContentIsSanitizedAtRender: the pages insert a status's
// content as it is only when internal/text wrote it (a local status).
// Content of a status that is not local passes sanitize.HTML, the one
// allow-list for remote HTML, when the page is rendered — here a row
// written straight into the database, which never passed it before: the
// allowed markup stays, everything else is gone.
func TestNonLocalContentIsSanitizedAtRender(t *testing.T) {
	s, cfg := openSiteWithConfig(t)
	alice := s.user("alice")
	local := s.post(alice, "a local post linking https://example.org/page")
	remote := s.post(alice, "to be replaced")
	const markup = `<p>remote <b>bold</b><script>alert(1)</script><img src=x onerror=alert(2)>` +
		`<a href="javascript:alert(3)">click</a><iframe src="https://evil.test/"></iframe></p>`

	db := testdb.Open(t, cfg.DatabasePath())
	if res, err := db.Exec(`UPDATE statuses SET local = 0, content = ? WHERE id = ?`, markup, remote); err != nil {
		t.Fatal(err)
	} else if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("updated %d rows", n)
	}

	for _, target := range []string{"/@alice/" + remote, "/@alice"} {
		body := s.page(target, http.StatusOK)
		if !strings.Contains(body, `id="s`+remote+`"`) {
			t.Fatalf("%s does not show the status at all:\n%s", target, body)
		}
		if !strings.Contains(body, `<div class="content"><p>remote <b>bold</b>click</p></div>`) {
			t.Errorf("%s does not show the content as the allow-list cuts it:\n%s", target, body)
		}
		for _, raw := range []string{"<script", "alert(", "<img src=x", "onerror", "javascript:", "<iframe", "evil.test"} {
			if strings.Contains(body, raw) {
				t.Errorf("%s carries the markup %q:\n%s", target, raw, body)
			}
		}
	}
	// A local status's content is still inserted as the HTML internal/text made.
	if body := s.page("/@alice/"+local, http.StatusOK); !strings.Contains(body, `<a href="https://example.org/page"`) {
		t.Errorf("a local status's link is not rendered:\n%s", body)
	}
}
