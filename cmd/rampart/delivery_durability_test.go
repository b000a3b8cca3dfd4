package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/store/storetest"

	"github.com/rampart-social/rampart/internal/id"
	"github.com/rampart-social/rampart/internal/store"
)

// inboxes are test inboxes on several hosts: they take any delivery, and
// keep, per inbox, the activity ids received and how many times.
type inboxes struct {
	mu       sync.Mutex
	received map[string]map[string]int // inbox path on host → activity id → deliveries
	total    int
	delay    time.Duration
}

func (ib *inboxes) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var act struct{ ID, Type string }
	if r.Method != http.MethodPost || json.Unmarshal(body, &act) != nil || act.ID == "" || r.Header.Get("Signature") == "" {
		http.Error(w, "not a signed activity", http.StatusBadRequest)
		return
	}
	time.Sleep(ib.delay) // a peer's inbox takes a moment
	ib.mu.Lock()
	key := r.Host + r.URL.Path
	if ib.received[key] == nil {
		ib.received[key] = map[string]int{}
	}
	ib.received[key][act.ID]++
	ib.total++
	ib.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}

// seedRemoteFollowers makes perHost remote accounts on each of hostPorts,
// each with an inbox of its own, and has them follow account.
func seedRemoteFollowers(t *testing.T, st *store.Store, ids *id.Generator, account int64, hostPorts []string, perHost int) {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	for h, hp := range hostPorts {
		for i := range perHost {
			name := fmt.Sprintf("f%d", i)
			ra := &store.RemoteAccount{Account: store.Account{Username: name, Domain: hp, URI: "http://" + hp + "/users/" + name,
				URL: "http://" + hp + "/@" + name, CreatedAt: now, UpdatedAt: now},
				InboxURL: "http://" + hp + "/users/" + name + "/inbox", FetchedAt: now}
			fid, err := st.UpsertRemoteAccount(ctx, ra, ids.Next())
			if err != nil {
				t.Fatalf("host %d follower %d: %v", h, i, err)
			}
			if _, err := st.Follow(ctx, ids.Next(), fid, account, store.FollowOptions{ShowReblogs: true, URI: ra.Account.URI + "#follow"}, now); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func (ib *inboxes) counts() (inboxesReached, deliveries int) {
	ib.mu.Lock()
	defer ib.mu.Unlock()
	return len(ib.received), ib.total
}

// A post to 1,000 followers on 10 hosts is delivered to every inbox even
// when the server is killed (SIGKILL) in the middle of the fan-out: after a
// restart the deliveries left are made, each inbox gets the activity (one
// id, which is how a receiver drops duplicates), and the only repeats are
// deliveries that were in flight at the kill.
func TestDeliveriesSurviveAKill(t *testing.T) {
	const hosts, perHost = 10, 100
	ib := &inboxes{received: map[string]map[string]int{}, delay: 5 * time.Millisecond}
	var hostPorts []string
	for range hosts {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: ib}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
		hostPorts = append(hostPorts, ln.Addr().String())
	}

	data := t.TempDir()
	q := quickstartWithUser(t, data, nil, "durability")
	q.p.cmd.Process.Kill()
	q.p.wait(t)
	// The test inboxes are on loopback: allowed for this instance only.
	cfgText, err := os.ReadFile(q.cfg)
	if err != nil {
		t.Fatal(err)
	}
	quoted := `"` + strings.Join(hostPorts, `", "`) + `"`
	cfgText = []byte(strings.Replace(string(cfgText), "test_hosts = []", "test_hosts = ["+quoted+"]", 1))
	if err := os.WriteFile(q.cfg, cfgText, 0o600); err != nil {
		t.Fatal(err)
	}
	// 1,000 remote followers of kim, each with an inbox of its own.
	ctx := context.Background()
	st, err := storetest.OpenErr(t, filepath.Join(data, "rampart.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	kim, err := st.AccountByUsername(ctx, "kim", "")
	if err != nil {
		t.Fatal(err)
	}
	seedRemoteFollowers(t, st, id.NewGenerator(), kim.ID, hostPorts, perHost)
	st.Close()

	p := startProc(t, nil, "quickstart", "--data", data, "--listen", q.addr)
	waitReady(t, p, q.addr, "localhost:"+q.port)
	form := url.Values{"status": {"to a thousand inboxes"}, "visibility": {"public"}}
	req, _ := http.NewRequest("POST", q.server+"/api/v1/statuses", strings.NewReader(form.Encode()))
	req.Header.Set("Authorization", "Bearer "+q.token)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("post: %d", resp.StatusCode)
	}
	// Kill it once the fan-out is under way.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if _, n := ib.counts(); n >= 100 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no deliveries started:\n%s", p.stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	p.cmd.Process.Kill()
	p.wait(t)
	reachedAtKill, _ := ib.counts()
	if reachedAtKill >= hosts*perHost {
		t.Fatalf("the fan-out was over before the kill (%d inboxes): nothing was tested", reachedAtKill)
	}

	p = startProc(t, nil, "quickstart", "--data", data, "--listen", q.addr)
	waitReady(t, p, q.addr, "localhost:"+q.port)
	for {
		if n, _ := ib.counts(); n == hosts*perHost {
			break
		}
		if time.Now().After(deadline) {
			n, _ := ib.counts()
			t.Fatalf("after the restart %d of %d inboxes got the post:\n%s", n, hosts*perHost, p.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	ib.mu.Lock()
	defer ib.mu.Unlock()
	repeats := 0
	for inbox, byID := range ib.received {
		if len(byID) != 1 {
			t.Errorf("%s got %d activities; want the one Create", inbox, len(byID))
		}
		for _, n := range byID {
			repeats += n - 1
		}
	}
	// Only what was in flight at the kill is sent twice: at most the job
	// runner's workers (16).
	if repeats > 16 {
		t.Errorf("%d deliveries repeated; want at most the 16 in flight at the kill", repeats)
	}
	t.Logf("%d inboxes reached at the kill; %d repeated after the restart", reachedAtKill, repeats)
}
