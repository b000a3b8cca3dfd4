package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// netNS is a network namespace the test made: its name (for `ip netns
// exec`) and its address on the link to its peer.
type netNS struct {
	name string
	ip   string
}

// newNetnsPair makes two network namespaces joined by a veth pair, each
// with loopback up and one address (10.203.0.1 and .2), and each with an
// /etc/hosts naming the given hosts at those addresses (`ip netns exec`
// mounts /etc/netns/<name>/hosts over /etc/hosts). Everything is removed
// at cleanup. ok is false, with nothing made, where the machine does not
// allow it (not root, no iproute2, or namespaces refused), and the caller
// falls back to loopback names.
func newNetnsPair(t *testing.T, hostsA, hostsB []string) (a, b *netNS, ok bool) {
	t.Helper()
	// TEST_NO_NETNS=1 takes the loopback path where namespaces would work,
	// to try it.
	if os.Geteuid() != 0 || os.Getenv("TEST_NO_NETNS") == "1" {
		return nil, nil, false
	}
	ip, err := exec.LookPath("ip")
	if err != nil {
		return nil, nil, false
	}
	suffix := make([]byte, 3)
	rand.Read(suffix)
	tag := hex.EncodeToString(suffix)
	a = &netNS{name: "rampart-a-" + tag, ip: "10.203.0.1"}
	b = &netNS{name: "rampart-b-" + tag, ip: "10.203.0.2"}
	if out, err := exec.Command(ip, "netns", "add", a.name).CombinedOutput(); err != nil {
		t.Logf("network namespaces not available here (%v: %s); using loopback names", err, strings.TrimSpace(string(out)))
		return nil, nil, false
	}
	t.Cleanup(func() {
		for _, n := range []*netNS{a, b} {
			exec.Command(ip, "netns", "del", n.name).Run() // takes its end of the veth pair with it
			os.RemoveAll(filepath.Join("/etc/netns", n.name))
		}
	})
	vethA, vethB := "rpa"+tag, "rpb"+tag // at most 15 bytes, as interface names must be
	hosts := "127.0.0.1 localhost\n"
	for _, h := range hostsA {
		hosts += a.ip + " " + h + "\n"
	}
	for _, h := range hostsB {
		hosts += b.ip + " " + h + "\n"
	}
	steps := [][]string{
		{"netns", "add", b.name},
		{"link", "add", vethA, "type", "veth", "peer", "name", vethB},
		{"link", "set", vethA, "netns", a.name},
		{"link", "set", vethB, "netns", b.name},
		{"-n", a.name, "addr", "add", a.ip + "/24", "dev", vethA},
		{"-n", b.name, "addr", "add", b.ip + "/24", "dev", vethB},
		{"-n", a.name, "link", "set", vethA, "up"},
		{"-n", b.name, "link", "set", vethB, "up"},
		{"-n", a.name, "link", "set", "lo", "up"},
		{"-n", b.name, "link", "set", "lo", "up"},
	}
	for _, s := range steps {
		if out, err := exec.Command(ip, s...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(s, " "), err, out)
		}
	}
	for _, n := range []*netNS{a, b} {
		dir := filepath.Join("/etc/netns", n.name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "hosts"), []byte(hosts), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("network namespaces %s (%s) and %s (%s), joined by a veth pair", a.name, a.ip, b.name, b.ip)
	return a, b, true
}

// command runs name with args inside the namespace.
func (n *netNS) command(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", n.name, name}, args...)...)
}

// dial connects to addr from inside the namespace: the socket is made on
// an OS thread that entered it, and a socket stays in the namespace it was
// made in. The thread is never unlocked, so it ends with the goroutine
// instead of serving others from the wrong namespace.
func (n *netNS) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	type result struct {
		c   net.Conn
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open(filepath.Join("/var/run/netns", n.name))
		if err != nil {
			done <- result{err: err}
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			done <- result{err: fmt.Errorf("setns %s: %w", n.name, err)}
			return
		}
		var d net.Dialer
		c, err := d.DialContext(ctx, network, addr)
		done <- result{c, err}
	}()
	r := <-done
	return r.c, r.err
}

// waitReadyIn is waitReady for a process in ns.
func waitReadyIn(t *testing.T, ns *netNS, p *proc, addr, host string) {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: ns.dial}}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			t.Fatalf("process exited early (%d):\n%s", p.exitCode, p.stderr.String())
		default:
		}
		req, _ := http.NewRequest("GET", "http://"+addr+"/livez", nil)
		req.Host = host
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no answer on %s in %s:\n%s", addr, ns.name, p.stderr.String())
}
