package deploy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// goldenPath is the committed unit, relative to this package's directory.
const goldenPath = "../../installation/rampart.service"

// maxExposure is the highest `systemd-analyze security` exposure we accept.
const maxExposure = 1.5

// TestGoldenUnit keeps installation/rampart.service identical to what
// `rampart gen systemd` prints with its defaults.
func TestGoldenUnit(t *testing.T) {
	want, err := SystemdUnit(DefaultUnitOptions())
	if err != nil {
		t.Fatalf("SystemdUnit(DefaultUnitOptions()): %v", err)
	}
	got, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatalf("read %s: %v\nregenerate it with: go run ./cmd/rampart gen systemd > installation/rampart.service", goldenPath, err)
	}
	if string(got) == want {
		return
	}
	gl, wl := strings.Split(string(got), "\n"), strings.Split(want, "\n")
	line := 0
	for line < len(gl) && line < len(wl) && gl[line] == wl[line] {
		line++
	}
	at := func(ls []string, i int) string {
		if i < len(ls) {
			return strconv.Quote(ls[i])
		}
		return "<end of file>"
	}
	t.Fatalf("installation/rampart.service is out of date (first difference at line %d:\n  file:     %s\n  rendered: %s)\nregenerate it with: go run ./cmd/rampart gen systemd > installation/rampart.service",
		line+1, at(gl, line), at(wl, line))
}

// postgresUnitOptions are the defaults for a config whose database.driver
// is "postgres".
func postgresUnitOptions() UnitOptions {
	o := DefaultUnitOptions()
	o.Postgres = true
	return o
}

func TestHardeningDirectives(t *testing.T) {
	for name, o := range map[string]UnitOptions{
		"defaults": DefaultUnitOptions(),
		"data outside /var/lib": func() UnitOptions {
			o := DefaultUnitOptions()
			o.DataDir = "/srv/rampart"
			return o
		}(),
		"postgres": postgresUnitOptions(),
	} {
		t.Run(name, func(t *testing.T) {
			text, err := SystemdUnit(o)
			if err != nil {
				t.Fatal(err)
			}
			u, err := ParseUnit(text)
			if err != nil {
				t.Fatalf("rendered unit does not parse: %v", err)
			}
			for _, p := range CheckHardening(u) {
				t.Error(p)
			}
		})
	}
}

// TestHardeningChecker proves checkHardening fails on weakened units, so the
// test above cannot pass vacuously.
func TestHardeningChecker(t *testing.T) {
	text, err := SystemdUnit(DefaultUnitOptions())
	if err != nil {
		t.Fatal(err)
	}
	weaken := []struct{ name, old, new string }{
		{"PrivateTmp off", "PrivateTmp=yes", "PrivateTmp=no"},
		{"PrivateTmp dropped", "PrivateTmp=yes", ""},
		{"ProtectHome off", "ProtectHome=yes", "ProtectHome=no"},
		{"ProtectSystem yes", "ProtectSystem=strict", "ProtectSystem=yes"},
		{"PrivateDevices overridden later", "PrivateDevices=yes", "PrivateDevices=yes\nPrivateDevices=false"},
		{"NoNewPrivileges off", "NoNewPrivileges=yes", "NoNewPrivileges=0"},
		{"CapabilityBoundingSet dropped", "CapabilityBoundingSet=\n", "\n"},
		{"CAP_SYS_ADMIN granted", "CapabilityBoundingSet=\n", "CapabilityBoundingSet=\nCapabilityBoundingSet=CAP_NET_BIND_SERVICE cap_sys_admin\n"},
		{"deny-list keeps CAP_SYS_ADMIN", "CapabilityBoundingSet=\n", "CapabilityBoundingSet=~CAP_SYS_PTRACE\n"},
		{"MemoryDenyWriteExecute off", "MemoryDenyWriteExecute=yes", "MemoryDenyWriteExecute=no"},
		{"SystemCallFilter widened", "SystemCallFilter=@system-service\n", "SystemCallFilter=@system-service @mount\n"},
		{"SystemCallFilter reset", "SystemCallFilter=~@privileged @resources", "SystemCallFilter=~@privileged @resources\nSystemCallFilter="},
		{"no AF_INET6", "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX", "RestrictAddressFamilies=AF_INET AF_UNIX"},
		{"AF_INET removed", "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX", "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX\nRestrictAddressFamilies=~AF_INET"},
		{"UMask looser", "UMask=0077", "UMask=0022"},
		// Rampart's additions: each weakened, caught without systemd-analyze.
		{"RestrictNamespaces off", "RestrictNamespaces=yes", "RestrictNamespaces=no"},
		{"RestrictNamespaces dropped", "RestrictNamespaces=yes\n", ""},
		{"RestrictNamespaces reset", "RestrictNamespaces=yes", "RestrictNamespaces=yes\nRestrictNamespaces="},
		{"RestrictNamespaces allows user", "RestrictNamespaces=yes", "RestrictNamespaces=yes\nRestrictNamespaces=user"},
		{"RestrictNamespaces deny-list", "RestrictNamespaces=yes", "RestrictNamespaces=~user net"},
		{"RestrictNamespaces allow-list", "RestrictNamespaces=yes", "RestrictNamespaces=cgroup"},
		{"User root", "User=rampart", "User=root"},
		{"User dropped", "User=rampart\n", ""},
		{"ProtectSystem full", "ProtectSystem=strict", "ProtectSystem=full"},
		{"ProtectHome read-only", "ProtectHome=yes", "ProtectHome=read-only"},
		{"a capability kept", "CapabilityBoundingSet=\n", "CapabilityBoundingSet=CAP_NET_BIND_SERVICE\n"},
		{"an ambient capability", "AmbientCapabilities=\n", "AmbientCapabilities=CAP_NET_RAW\n"},
		{"PrivateUsers off", "PrivateUsers=yes", "PrivateUsers=no"},
		{"ProtectKernelTunables off", "ProtectKernelTunables=yes", "ProtectKernelTunables=false"},
		{"ProtectControlGroups off", "ProtectControlGroups=yes", "ProtectControlGroups=no"},
		{"ProtectProc default", "ProtectProc=invisible", "ProtectProc=default"},
		{"ProtectProc ptraceable", "ProtectProc=invisible", "ProtectProc=ptraceable"},
		{"ProcSubset all", "ProcSubset=pid", "ProcSubset=all"},
		{"RestrictSUIDSGID off", "RestrictSUIDSGID=yes", "RestrictSUIDSGID=no"},
		{"LockPersonality off", "LockPersonality=yes", "LockPersonality=no"},
		{"RemoveIPC off", "RemoveIPC=yes", "RemoveIPC=no"},
		{"DevicePolicy auto", "DevicePolicy=closed", "DevicePolicy=auto"},
		{"KeyringMode shared", "KeyringMode=private", "KeyringMode=shared"},
		{"another architecture", "SystemCallArchitectures=native", "SystemCallArchitectures=native x86"},
		{"@privileged not taken out", "SystemCallFilter=~@privileged @resources", "SystemCallFilter=~@resources"},
		{"@privileged put back", "SystemCallFilter=~@privileged @resources", "SystemCallFilter=~@privileged @resources\nSystemCallFilter=@privileged"},
		{"AF_NETLINK allowed", "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX", "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK"},
		{"data dir open", "StateDirectoryMode=0700", "StateDirectoryMode=0755"},
		{"runtime dir open", "RuntimeDirectoryMode=0750", "RuntimeDirectoryMode=0755"},
		{"/etc writable", "UMask=0077", "UMask=0077\nReadWritePaths=-/etc/rampart"},
		{"root writable", "UMask=0077", "UMask=0077\nReadWritePaths=/"},
	}
	for _, w := range weaken {
		t.Run(w.name, func(t *testing.T) {
			if !strings.Contains(text, w.old) {
				t.Fatalf("unit no longer contains %q; update this test", w.old)
			}
			u, err := ParseUnit(strings.Replace(text, w.old, w.new, 1))
			if err != nil {
				t.Fatal(err)
			}
			if problems := CheckHardening(u); len(problems) == 0 {
				t.Errorf("checkHardening accepted a unit with %s", w.name)
			}
		})
	}
}

// notHardening are the [Service] directives of the shipped unit that do not
// harden it, so that removing one weakens nothing, and why.
var notHardening = map[string]string{
	"Type":                  "how systemd tracks the process",
	"Group":                 "User= decides; the group only names the socket's and data's group",
	"ExecStart":             "what runs",
	"Restart":               "availability",
	"RestartSec":            "availability",
	"KillSignal":            "graceful stop",
	"TimeoutStopSec":        "graceful stop",
	"WorkingDirectory":      "where relative paths start",
	"StateDirectory":        "without it the data directory is not writable at all: stricter",
	"ReadWritePaths":        "without it the data directory is not writable at all: stricter (CheckHardening refuses system paths in it)",
	"RuntimeDirectory":      "without it there is no socket directory: stricter",
	"AmbientCapabilities":   "unset grants none, like the empty value (CheckHardening refuses any capability in it)",
	"SystemCallErrorNumber": "which error a refused call gets (EPERM) instead of the process being killed: the filter is the same",
}

// Every hardening directive of the shipped unit is guarded by CheckHardening,
// the parser-based check that needs no systemd-analyze: dropping any one of
// them makes it report that directive.
func TestEveryHardeningDirectiveIsChecked(t *testing.T) {
	seen := map[string]bool{}
	for name, o := range map[string]UnitOptions{
		"StateDirectory": DefaultUnitOptions(),
		"ReadWritePaths": func() UnitOptions { o := DefaultUnitOptions(); o.DataDir = "/srv/rampart"; return o }(),
	} {
		t.Run(name, func(t *testing.T) {
			text, err := SystemdUnit(o)
			if err != nil {
				t.Fatal(err)
			}
			u, err := ParseUnit(text)
			if err != nil {
				t.Fatal(err)
			}
			if problems := CheckHardening(u); len(problems) != 0 {
				t.Fatalf("the shipped unit has problems: %v", problems)
			}
			for key := range u["Service"] {
				seen[key] = true
				if notHardening[key] != "" {
					continue
				}
				var kept []string
				for _, line := range strings.Split(text, "\n") {
					if !strings.HasPrefix(line, key+"=") {
						kept = append(kept, line)
					}
				}
				weak, err := ParseUnit(strings.Join(kept, "\n"))
				if err != nil {
					t.Fatal(err)
				}
				var named []string
				for _, p := range CheckHardening(weak) {
					if p.Directive == key {
						named = append(named, p.Msg)
					}
				}
				if len(named) == 0 {
					t.Errorf("without %s= CheckHardening reports nothing about it (%v): a weakening only systemd-analyze would see", key, CheckHardening(weak))
				}
				isSeed := false
				for _, sd := range SeedDirectives {
					isSeed = isSeed || sd == key
				}
				// A seed directive's absence is the seed's failure (doctor
				// fails S8 on it); an addition's only warns.
				seedProblem := false
				for _, p := range CheckHardening(weak) {
					seedProblem = seedProblem || p.Directive == key && p.Seed
				}
				if seedProblem != isSeed {
					t.Errorf("without %s=: a seed problem = %v, want %v", key, seedProblem, isSeed)
				}
			}
		})
	}
	for key := range notHardening {
		if !seen[key] {
			t.Errorf("notHardening names %s, which the unit does not have", key)
		}
	}
}

// Stricter values than the shipped unit's pass the check.
func TestHardeningCheckerAcceptsStricterValues(t *testing.T) {
	text, err := SystemdUnit(DefaultUnitOptions())
	if err != nil {
		t.Fatal(err)
	}
	for old, stricter := range map[string]string{
		"ProtectProc=invisible":     "ProtectProc=noaccess",
		"DevicePolicy=closed":       "DevicePolicy=strict",
		"ProtectHome=yes":           "ProtectHome=tmpfs",
		"RestrictNamespaces=yes":    "RestrictNamespaces=true",
		"RuntimeDirectoryMode=0750": "RuntimeDirectoryMode=0700",
		"UMask=0077":                "UMask=0777",
		"ProtectControlGroups=yes":  "ProtectControlGroups=strict",
		"User=rampart":              "User=rampart\nDynamicUser=yes",
	} {
		u, err := ParseUnit(strings.Replace(text, old, stricter, 1))
		if err != nil {
			t.Fatal(err)
		}
		if p := CheckHardening(u); len(p) != 0 {
			t.Errorf("%s instead of %s: %v", stricter, old, p)
		}
	}
}

func TestAllowedNamespaces(t *testing.T) {
	for _, c := range []struct {
		values []string
		want   string
	}{
		{nil, "cgroup ipc mnt net pid time user uts"},
		{[]string{"yes"}, ""},
		{[]string{"true"}, ""},
		{[]string{"no"}, "cgroup ipc mnt net pid time user uts"},
		{[]string{"yes", ""}, "cgroup ipc mnt net pid time user uts"},
		{[]string{"yes", "net"}, "net"},
		{[]string{"net ipc"}, "ipc net"},
		{[]string{"~user"}, "cgroup ipc mnt net pid time uts"},
		{[]string{"net", "~net"}, ""},
		{[]string{"no", "yes"}, ""},
		{[]string{"yes", "no"}, "cgroup ipc mnt net pid time user uts"},
	} {
		if got := strings.Join(unitAllowedNamespaces(c.values), " "); got != c.want {
			t.Errorf("RestrictNamespaces=%q allows %q, want %q", c.values, got, c.want)
		}
	}
}

func TestSystemdUnitRejectsBadOptions(t *testing.T) {
	bad := []struct {
		name string
		edit func(*UnitOptions)
		flag string
	}{
		{"relative binary", func(o *UnitOptions) { o.Binary = "bin/rampart" }, "--binary"},
		{"relative config", func(o *UnitOptions) { o.Config = "rampart.toml" }, "--config"},
		{"relative data", func(o *UnitOptions) { o.DataDir = "./data" }, "--data"},
		{"empty binary", func(o *UnitOptions) { o.Binary = "" }, "--binary"},
		{"binary with space", func(o *UnitOptions) { o.Binary = "/opt/my rampart/rampart" }, "--binary"},
		{"config with double quote", func(o *UnitOptions) { o.Config = `/etc/rampart/"x".toml` }, "--config"},
		{"data with single quote", func(o *UnitOptions) { o.DataDir = "/var/lib/ramp'art" }, "--data"},
		{"data with newline", func(o *UnitOptions) { o.DataDir = "/var/lib/rampart\nExecStartPre=/bin/sh" }, "--data"},
		{"user root", func(o *UnitOptions) { o.User = "root" }, "--user"},
		{"empty user", func(o *UnitOptions) { o.User = "" }, "--user"},
		{"user with space", func(o *UnitOptions) { o.User = "ram part" }, "--user"},
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			o := DefaultUnitOptions()
			b.edit(&o)
			unit, err := SystemdUnit(o)
			if err == nil {
				t.Fatalf("SystemdUnit(%+v) = nil error, rendered:\n%s", o, unit)
			}
			if !strings.Contains(err.Error(), b.flag) {
				t.Errorf("error %q does not name %s", err, b.flag)
			}
		})
	}
}

// The PostgreSQL variant is the SQLite unit plus one ordering after
// postgresql.service (and its comment): no sandboxing directive differs.
func TestPostgresUnit(t *testing.T) {
	sqlite, err := SystemdUnit(DefaultUnitOptions())
	if err != nil {
		t.Fatal(err)
	}
	pg, err := SystemdUnit(postgresUnitOptions())
	if err != nil {
		t.Fatal(err)
	}
	var added []string
	sl, pl := strings.Split(sqlite, "\n"), strings.Split(pg, "\n")
	for i, j := 0, 0; j < len(pl); j++ {
		if i < len(sl) && sl[i] == pl[j] {
			i++
			continue
		}
		added = append(added, pl[j])
	}
	var directives []string
	for _, l := range added {
		if !strings.HasPrefix(l, "#") {
			directives = append(directives, l)
		}
	}
	if len(sl)+len(added) != len(pl) || strings.Join(directives, "|") != "After=postgresql.service" {
		t.Errorf("the PostgreSQL unit adds %q to the SQLite one, want only After=postgresql.service and its comment", added)
	}
	u, err := ParseUnit(pg)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(u["Unit"]["After"], " "); got != "network-online.target postgresql.service" {
		t.Errorf("After=%q", got)
	}
	if got := u["Unit"]["Wants"]; len(got) != 1 || got[0] != "network-online.target" {
		t.Errorf("Wants=%q: the database may be on another machine, where no postgresql.service exists", got)
	}
	if !strings.Contains(u["Service"]["RestrictAddressFamilies"][0], "AF_UNIX") {
		t.Error("AF_UNIX is needed for host=/run/postgresql")
	}
}

func TestSystemdUnitDataDir(t *testing.T) {
	for _, c := range []struct {
		dir, stateDirectory string // stateDirectory "" means ReadWritePaths=dir
	}{
		{"/var/lib/rampart", "rampart"},
		{"/var/lib/rampart/instance", "rampart/instance"},
		{"/srv/rampart", ""},
		{"/var/library/rampart", ""},
		{"/var/lib", ""},
	} {
		t.Run(c.dir, func(t *testing.T) {
			o := DefaultUnitOptions()
			o.DataDir = c.dir
			text, err := SystemdUnit(o)
			if err != nil {
				t.Fatal(err)
			}
			u, err := ParseUnit(text)
			if err != nil {
				t.Fatal(err)
			}
			svc := u["Service"]
			if c.stateDirectory != "" {
				if got := svc["StateDirectory"]; len(got) != 1 || got[0] != c.stateDirectory {
					t.Errorf("StateDirectory=%q, want [%q]", got, c.stateDirectory)
				}
				if got := svc["ReadWritePaths"]; len(got) != 0 {
					t.Errorf("ReadWritePaths=%q, want none (StateDirectory makes it writable)", got)
				}
			} else {
				if got := svc["ReadWritePaths"]; len(got) != 1 || got[0] != c.dir {
					t.Errorf("ReadWritePaths=%q, want [%q]", got, c.dir)
				}
				if got := svc["StateDirectory"]; len(got) != 0 {
					t.Errorf("StateDirectory=%q, want none outside /var/lib", got)
				}
			}
			if got := svc["WorkingDirectory"]; len(got) != 1 || got[0] != c.dir {
				t.Errorf("WorkingDirectory=%q, want [%q]", got, c.dir)
			}
		})
	}
}

// requireTool returns the path of an external tool. A missing tool skips the
// test, unless TEST_REQUIRE_TOOLS=1 (scripts/test sets it), which fails it.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("TEST_REQUIRE_TOOLS") == "1" {
		t.Fatalf("%s not found on PATH and TEST_REQUIRE_TOOLS=1 (install the Debian package systemd, or run ./scripts/test which does)", name)
	}
	t.Skipf("%s not found on PATH; skipping (install systemd, or set TEST_REQUIRE_TOOLS=1 to make this a failure)", name)
	return ""
}

// existingExecutable is an executable that exists here, so that verify does
// not complain about ExecStart=.
func existingExecutable(t *testing.T) string {
	t.Helper()
	var candidates []string
	if p, err := os.Executable(); err == nil {
		candidates = append(candidates, p)
	}
	candidates = append(candidates, "/bin/true", "/usr/bin/true")
	for _, p := range candidates {
		o := DefaultUnitOptions()
		o.Binary = p
		if _, err := SystemdUnit(o); err != nil {
			continue // e.g. a temp dir with a space in its path
		}
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	t.Fatalf("no usable executable among %q", candidates)
	return ""
}

// writeUnit renders a unit for an existing binary into a temp dir.
func writeUnit(t *testing.T, o UnitOptions) string {
	t.Helper()
	o.Binary = existingExecutable(t)
	text, err := SystemdUnit(o)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "rampart.service")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// runTool runs a command and returns its stdout, stderr and exit code
// (-1 with err set when it could not run at all).
func runTool(t *testing.T, name string, args ...string) (stdout, stderr string, code int, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), "SYSTEMD_COLORS=0", "SYSTEMD_PAGER=", "SYSTEMD_LOG_COLOR=0")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return out.String(), errb.String(), 0, nil
	case errors.As(err, &exit):
		return out.String(), errb.String(), exit.ExitCode(), nil
	default:
		return out.String(), errb.String(), -1, err
	}
}

// parseMarkers are what systemd's unit parser prints for a directive it
// rejects or ignores; verify still exits 0 for most of them.
var parseMarkers = []string{
	"Failed to parse", "Unknown key", "Unknown lvalue", "Invalid",
	"Unknown section", "Missing '='", "Assignment outside of section",
}

// aboutUnit reports whether a systemd-analyze output line concerns our file.
func aboutUnit(line, path string) bool {
	return strings.Contains(line, path) || strings.Contains(line, filepath.Base(path))
}

// parseComplaints are the lines of output in which systemd rejects one of
// the unit's directives.
func parseComplaints(output, path string) []string {
	var bad []string
	for _, line := range strings.Split(output, "\n") {
		if !aboutUnit(line, path) {
			continue
		}
		for _, m := range parseMarkers {
			if strings.Contains(line, m) {
				bad = append(bad, strings.TrimSpace(line))
				break
			}
		}
	}
	return bad
}

// verifyParses checks that systemd-analyze really parses a unit here: a unit
// with known-bad directives must draw complaints. Otherwise (e.g. the
// analyzer cannot start in this sandbox) a clean result would mean nothing.
func verifyParses(t *testing.T, tool string) {
	t.Helper()
	path := writeUnit(t, DefaultUnitOptions())
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(text), "[Service]\n", "[Service]\nPrivateTmp=maybe\nNoSuchDirective=1\n", 1)
	if err := os.WriteFile(path, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code, err := runTool(t, tool, "verify", path)
	if err != nil {
		t.Fatalf("run %s verify: %v", tool, err)
	}
	if got := parseComplaints(stderr, path); len(got) < 2 {
		msg := fmt.Sprintf("%s verify (exit %d) did not report the 2 bad directives of a deliberately broken unit, so it cannot check ours here; it printed:\n%s", tool, code, stderr)
		if os.Getenv("TEST_REQUIRE_TOOLS") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

func TestSystemdAnalyzeVerify(t *testing.T) {
	tool := requireTool(t, "systemd-analyze")
	verifyParses(t, tool)
	for name, o := range map[string]UnitOptions{
		"StateDirectory": DefaultUnitOptions(),
		"ReadWritePaths": func() UnitOptions {
			o := DefaultUnitOptions()
			o.DataDir = "/srv/rampart"
			return o
		}(),
		"postgres": postgresUnitOptions(),
	} {
		t.Run(name, func(t *testing.T) {
			path := writeUnit(t, o)
			stdout, stderr, code, err := runTool(t, tool, "verify", path)
			if err != nil {
				t.Fatalf("run %s verify: %v", tool, err)
			}
			output := stdout + stderr
			if strings.TrimSpace(output) != "" {
				t.Logf("systemd-analyze verify %s (exit %d):\n%s", path, code, output)
			}
			for _, c := range parseComplaints(output, path) {
				t.Errorf("systemd rejects a directive: %s", c)
			}
			if code != 0 {
				// Lines not about our unit (missing user, /etc/systemd paths,
				// no bus) are the sandbox's doing; any about it are ours.
				var ours []string
				for _, line := range strings.Split(output, "\n") {
					if aboutUnit(line, path) {
						ours = append(ours, strings.TrimSpace(line))
					}
				}
				if len(ours) > 0 || strings.TrimSpace(output) == "" {
					t.Errorf("systemd-analyze verify exited %d; about the unit:\n%s", code, strings.Join(ours, "\n"))
				} else {
					t.Logf("systemd-analyze verify exited %d for environment reasons only", code)
				}
			}
		})
	}
}

// TestSystemdAnalyzeSecurity scores both units gen systemd writes: the
// default (SQLite) and the one for a PostgreSQL config.
func TestSystemdAnalyzeSecurity(t *testing.T) {
	tool := requireTool(t, "systemd-analyze")
	for name, o := range map[string]UnitOptions{"sqlite": DefaultUnitOptions(), "postgres": postgresUnitOptions()} {
		t.Run(name, func(t *testing.T) {
			path := writeUnit(t, o)
			// --threshold is in tenths: 15 fails the run above an exposure of 1.5.
			stdout, stderr, code, err := runTool(t, tool, "security", "--offline=true", "--threshold=15", "--no-pager", path)
			if err != nil {
				t.Fatalf("run %s security: %v", tool, err)
			}
			output := StripANSI(stdout + stderr)
			for _, c := range parseComplaints(stderr, path) {
				t.Errorf("systemd rejects a directive: %s", c)
			}
			unit, exposure, ok := ParseExposure(output)
			if !ok {
				t.Fatalf("no \"Overall exposure level\" line in systemd-analyze security output (exit %d):\n%s", code, output)
			}
			t.Logf("systemd-analyze security: overall exposure level for %s (%s): %.1f (limit %.1f)", unit, name, exposure, maxExposure)
			if exposure > maxExposure {
				t.Errorf("exposure %.1f > %.1f; the unit got weaker. Full report:\n%s", exposure, maxExposure, output)
			}
			if code != 0 {
				t.Errorf("systemd-analyze security --threshold=15 exited %d:\n%s", code, output)
			}
		})
	}
}
