package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// doctor's STREAM check against the real binary behind Debian's nginx
// running the site `rampart gen nginx` prints: the streaming API that
// /api/v1/instance advertises answers a WebSocket handshake through nginx,
// and a site whose streaming location no longer passes the Upgrade on is
// reported with the directives to put back.

// The streaming location's lines that pass the handshake on, as gen nginx
// writes them.
const (
	siteUpgradeLine    = "        proxy_set_header Upgrade $http_upgrade;\n"
	siteConnectionLine = "        proxy_set_header Connection \"upgrade\";\n"
)

// withoutSiteLines is a site edit that removes each line, failing the test
// when the site does not hold it exactly once.
func withoutSiteLines(t *testing.T, lines ...string) func(string) string {
	return func(site string) string {
		for _, l := range lines {
			if strings.Count(site, l) != 1 {
				t.Fatalf("the site's streaming location changed shape (want %q once); update this test:\n%s", l, site)
			}
			site = strings.Replace(site, l, "", 1)
		}
		return site
	}
}

// doctorThroughNginx runs `rampart doctor --json` over https through d's
// nginx and returns its report and exit status.
func doctorThroughNginx(t *testing.T, d *deployment) (doctorOutput, int) {
	t.Helper()
	unit, _, code := run(t, nil, "gen", "systemd")
	unitPath := filepath.Join(t.TempDir(), "rampart.service")
	if err := os.WriteFile(unitPath, []byte(unit), 0o644); code != 0 || err != nil {
		t.Fatalf("gen systemd: %d %v", code, err)
	}
	stdout, stderr, code := run(t, nil, "doctor", "--config", d.cfg, "--url", d.app, "--unit", unitPath,
		"--connect", "127.0.0.1:"+d.httpsPort, "--connect-http", "127.0.0.1:"+d.httpPort, "--ca", d.cert, "--json")
	var rep doctorOutput
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("doctor --json (exit %d) printed no report: %v\nstdout:\n%s\nstderr:\n%s", code, err, stdout, stderr)
	}
	return rep, code
}

// wantOnlyStreamFailing asserts the report: STREAM has verdict want, every
// other check passes (but for USER when Rampart runs as root, and the
// checks of doctorMayWarn), and the exit status follows. It returns STREAM.
func wantOnlyStreamFailing(t *testing.T, d *deployment, rep doctorOutput, code int, want string) (saw, fix string) {
	t.Helper()
	userFails := wantDoctorUser(t, d.rampart)
	failed, found := 0, false
	for _, c := range rep.Checks {
		switch {
		case c.ID == "STREAM":
			found, saw, fix = true, c.Saw, c.Fix
			if c.Verdict != want || c.Name != "streaming API" {
				t.Errorf("STREAM (%s): %s, want %s\n  saw: %s\n  fix: %s", c.Name, c.Verdict, want, c.Saw, c.Fix)
			}
		case c.ID == "USER":
			checkDoctorUser(t, d.rampart, userFails, c.Verdict, c.Saw)
		case c.Verdict == "pass":
		case c.Verdict == "warn" && doctorMayWarn[c.ID] != "":
		default:
			t.Errorf("doctor %s (%s): %s\n  saw: %s\n  fix: %s", c.ID, c.Name, c.Verdict, c.Saw, c.Fix)
		}
		if c.Verdict == "fail" {
			failed++
		}
	}
	if !found {
		t.Fatalf("doctor has no STREAM check: %+v", rep.Checks)
	}
	wantFailed := 0
	if userFails {
		wantFailed++
	}
	if want == "fail" {
		wantFailed++
	}
	wantCode := 0
	if wantFailed > 0 {
		wantCode = 1
	}
	if code != wantCode || rep.Failed != wantFailed || failed != wantFailed {
		t.Errorf("doctor: exit %d, %d failed; want exit %d, %d failed", code, rep.Failed, wantCode, wantFailed)
	}
	return saw, fix
}

func wantMentions(t *testing.T, what, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("STREAM %s %q, want it to mention %q", what, text, w)
		}
	}
}

// The site as gen nginx prints it: the advertised wss:// URL answers its
// health check and a tokenless handshake reaches Rampart, which answers 401.
func TestDoctorStreamingBehindNginx(t *testing.T) {
	d := deployBehindNginx(t)
	rep, code := doctorThroughNginx(t, d)
	saw, _ := wantOnlyStreamFailing(t, d, rep, code, "pass")
	wss := "wss://" + strings.TrimPrefix(d.app, "https://")
	wantMentions(t, "saw", saw,
		"/api/v1/instance advertises urls.streaming_api "+wss,
		d.app+"/api/v1/streaming/health answers OK",
		"a WebSocket handshake without a token to "+d.app+`/api/v1/streaming reaches Rampart as one: its 401 "Missing access token"`)
}

// With anonymous streams allowed, doctor's tokenless handshake is upgraded:
// nginx relays Rampart's 101 (and the socket) end to end.
func TestDoctorStreamingUpgradesThroughNginx(t *testing.T) {
	d := deploy(t, deployOptions{appHost: nginxAppHost, mediaHost: nginxMediaHost,
		config: map[string]string{"public_without_token = false": "public_without_token = true"}})
	rep, code := doctorThroughNginx(t, d)
	saw, _ := wantOnlyStreamFailing(t, d, rep, code, "pass")
	wantMentions(t, "saw", saw, d.app+"/api/v1/streaming is upgraded (101, Sec-WebSocket-Accept valid")
}

// A site whose streaming location lost the lines that pass the handshake
// on: the request reaches Rampart as a plain GET, which answers 400, and
// STREAM fails (alone) with the location's directives as the fix.
func TestDoctorStreamingBrokenNginxSite(t *testing.T) {
	for _, tc := range []struct {
		name  string
		lines []string
	}{
		// nginx passes neither hop-by-hop header without being told to.
		{"Upgrade and Connection lines removed", []string{siteUpgradeLine, siteConnectionLine}},
		// Upgrade passed, but nginx sends its own Connection: close.
		{"Connection line removed", []string{siteConnectionLine}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := deployBehindNginxEdited(t, withoutSiteLines(t, tc.lines...))
			rep, code := doctorThroughNginx(t, d)
			saw, fix := wantOnlyStreamFailing(t, d, rep, code, "fail")
			wantMentions(t, "saw", saw,
				"a WebSocket handshake without a token to "+d.app+"/api/v1/streaming reached Rampart without its Upgrade",
				`so Rampart answered 400 "This path is a WebSocket: send an Upgrade request`,
				d.app+"/api/v1/streaming/health answers OK")
			wantMentions(t, "fix", fix, "location /api/v1/streaming", "proxy_http_version 1.1",
				`proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade"`, "rampart gen nginx")
		})
	}
}
