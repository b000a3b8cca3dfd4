package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/testutil"
)

// mediaServer is a quickstart instance with one user, and that user's token.
func mediaServer(t *testing.T) (p *proc, addr, server, token string) {
	t.Helper()
	q := quickstartWithUser(t, t.TempDir(), nil, "containers")
	return q.p, q.addr, q.server, q.token
}

func alive(t *testing.T, p *proc, addr, host, when string) {
	t.Helper()
	select {
	case <-p.exited:
		t.Fatalf("the server exited (%d) %s:\n%s", p.exitCode, when, p.stderr.String())
	default:
	}
	if resp, err := get(addr, host, "/livez"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("the server does not answer /livez %s: %v", when, err)
	}
}

// The crafted WAV of issue 9 killed the whole server when processed in the
// background (v2, over media.sync_limit_bytes, which is 1 MiB by default)
// and was a 500 on v1. Now it is refused on both, and the process serves on.
func TestCraftedWAVDoesNotKillTheServer(t *testing.T) {
	p, addr, server, token := mediaServer(t)
	host := strings.TrimPrefix(server, "http://")
	body, ctype := multipartFile(t, testutil.CraftedWAV())

	v2 := mediaCall(t, "POST", server+"/api/v2/media", token, body, ctype)
	if v2.status != 202 && v2.status != 200 && v2.status != 422 {
		t.Fatalf("POST /api/v2/media: %d, want 202 (processing), 200 or 422", v2.status)
	}
	if v2.status == 202 {
		deadline := time.Now().Add(30 * time.Second)
		for {
			alive(t, p, addr, host, "while processing the crafted WAV")
			s := mediaCall(t, "GET", server+"/api/v1/media/"+v2.ID, token, nil, "")
			if s.status == 422 || s.status == 200 {
				break
			}
			if s.status != 206 || time.Now().After(deadline) {
				t.Fatalf("GET /api/v1/media/%s: %d, want 206 until it ends failed (422) or ready (200)", v2.ID, s.status)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	alive(t, p, addr, host, "after the v2 upload")

	v1 := mediaCall(t, "POST", server+"/api/v1/media", token, body, ctype)
	if v1.status != 422 && v1.status != 200 {
		t.Errorf("POST /api/v1/media: %d, want 422 (or 200)", v1.status)
	}
	alive(t, p, addr, host, "after the v1 upload")
	// Refused by the container check, not by a recovered panic.
	if log := p.stderr.String(); strings.Contains(log, "recovered panic") {
		t.Errorf("a parser panicked on the crafted WAV (recovered):\n%s", log)
	}
}

// Every kind of audio and video made by real encoders is accepted through
// the real binary and served back byte for byte; the same files with a PDF
// appended, and the MPEG-header polyglots, are refused.
func TestRealAudioAndVideoAcceptedPolyglotsRefused(t *testing.T) {
	// Some 60 uploads by one account: limits.uploads (30 per 30 minutes) off.
	q := quickstartWithUser(t, t.TempDir(), []string{"RAMPART_LIMITS_UPLOADS=0"}, "containers")
	server, token := q.server, q.token
	names, err := filepath.Glob("../../internal/media/testdata/*.*")
	if err != nil || len(names) < 20 {
		t.Fatalf("samples: %v %q", err, names)
	}
	pdf := "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		body, ctype := multipartFile(t, data)
		s := mediaCall(t, "POST", server+"/api/v1/media", token, body, ctype)
		if s.status != 200 || s.URL == nil {
			t.Errorf("%s: %d, want 200", filepath.Base(name), s.status)
			continue
		}
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(*s.URL)
		if err != nil {
			t.Fatal(err)
		}
		served, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(served) != string(data) {
			t.Errorf("%s: served %d, %d bytes; want the %d bytes uploaded", filepath.Base(name), resp.StatusCode, len(served), len(data))
		}

		// A WAV whose header leaves its data's end open (written to a pipe)
		// takes appended bytes as samples, which are never inspected: the
		// media package's TestCheckStructureOpenEndsTakeOnlyTheirLastPart.
		if base := filepath.Base(name); base == "piped.wav" || base == "sox-piped.wav" {
			continue
		}
		body, ctype = multipartFile(t, append(data, pdf...))
		if s := mediaCall(t, "POST", server+"/api/v1/media", token, body, ctype); s.status != 422 {
			t.Errorf("%s with a PDF appended: %d, want 422", filepath.Base(name), s.status)
		}
	}
	for _, poly := range []string{"\xff\xfb\x90\x64" + pdf, "\xff\xfb<meta charset=utf-8><img src=x onerror=alert(1)>", "\xff\xfbPK\x03\x04\x14\x00\x00\x00",
		"\xff\xfb\n;fetch('/api/v1/accounts/verify_credentials').then(r=>r.text()).then(alert)//"} {
		body, ctype := multipartFile(t, []byte(poly))
		if s := mediaCall(t, "POST", server+"/api/v1/media", token, body, ctype); s.status != 422 {
			t.Errorf("%q: %d, want 422", poly[:min(len(poly), 12)], s.status)
		}
	}
}
