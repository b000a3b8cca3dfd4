package instance

import (
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/store"
)

// A post by an account with more followers than a request fills at once
// answers as soon as the post and its fan-out job are committed: the
// author's own home timeline has it in the answer's wake, the followers'
// get it from the job runner within seconds.
func TestLargeFanOutsRunAsJobs(t *testing.T) {
	ln, _ := listen(t)
	p := startPeer(t, ln, "127.0.0.1", "localhost")
	token := tokenFor(t, p, "star")
	ctx := t.Context()
	star, err := p.inst.Store().AccountByUsername(ctx, "star", "")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var followers []int64
	for i := range 65 {
		name := fmt.Sprintf("fan%d", i)
		a := &store.Account{ID: int64(1_000_000 + i), Username: name, URI: p.base + "/users/" + name, URL: p.base + "/@" + name, CreatedAt: now, UpdatedAt: now}
		if err := p.inst.Store().CreateLocalAccount(ctx, a, &store.User{Email: name + "@example.net", PasswordHash: "x", Role: "user",
			Approved: true, Locale: "en", DefaultPrivacy: "public", CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		if _, err := p.inst.Store().Follow(ctx, int64(2_000_000+i), a.ID, star.ID, store.FollowOptions{}, now); err != nil {
			t.Fatal(err)
		}
		followers = append(followers, a.ID)
	}
	id, _ := post(t, p, token, url.Values{"status": {"to all my fans"}, "visibility": {"public"}})
	var home []struct{ ID string }
	getJSON(t, p, token, "/api/v1/timelines/home", &home)
	if len(home) != 1 || home[0].ID != id {
		t.Fatalf("the author's home right after posting: %+v", home)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, f := range followers {
		for {
			got, err := p.inst.Store().HomeTimeline(ctx, f, store.Page{Limit: 5})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) == 1 {
				break
			}
			if time.Now().After(deadline) {
				js, _ := p.inst.Store().JobStats(ctx)
				t.Fatalf("follower %d has no post after 10 s; jobs %+v\n%s", f, js, p.logs.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if js, _ := p.inst.Store().JobStats(ctx); js.Pending != 0 || js.Dead != 0 {
		t.Fatalf("jobs left: %+v", js)
	}
}
