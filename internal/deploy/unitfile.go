package deploy

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// This file reads systemd units back: `rampart doctor` checks the installed
// unit with it, and the tests check the rendered one.

// UnitFile is a parsed unit: section → key → every value assigned, in order.
type UnitFile map[string]map[string][]string

// ParseUnit parses systemd unit syntax: [Section] headers, Key=Value lines
// (a key may repeat), # and ; comments, and backslash line continuations.
func ParseUnit(text string) (UnitFile, error) {
	u := UnitFile{}
	section := ""
	sc := bufio.NewScanner(strings.NewReader(text))
	n := 0
	pending := ""
	for sc.Scan() {
		n++
		line := sc.Text()
		if pending == "" {
			trimmed := strings.TrimSpace(line)
			if trimmed == "" || strings.HasPrefix(trimmed, "#") || strings.HasPrefix(trimmed, ";") {
				continue
			}
		}
		if strings.HasSuffix(line, "\\") {
			pending += strings.TrimSuffix(line, "\\") + " "
			continue
		}
		line = strings.TrimSpace(pending + line)
		pending = ""
		if strings.HasPrefix(line, "[") {
			if !strings.HasSuffix(line, "]") || len(line) < 3 {
				return nil, fmt.Errorf("line %d: bad section header %q", n, line)
			}
			section = line[1 : len(line)-1]
			if u[section] == nil {
				u[section] = map[string][]string{}
			}
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("line %d: no '=' in %q", n, line)
		}
		if section == "" {
			return nil, fmt.Errorf("line %d: assignment outside a section", n)
		}
		key = strings.TrimSpace(key)
		u[section][key] = append(u[section][key], strings.TrimSpace(value))
	}
	if pending != "" {
		return nil, fmt.Errorf("line %d: file ends in a line continuation", n)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", n+1, err) // a line over bufio's 64 KiB
	}
	return u, nil
}

// Last is the effective value of a single-valued directive (the last wins).
func (u UnitFile) Last(section, key string) (string, bool) {
	vs := u[section][key]
	if len(vs) == 0 {
		return "", false
	}
	return vs[len(vs)-1], true
}

func unitIsTrue(v string) bool {
	switch strings.ToLower(v) {
	case "1", "yes", "y", "true", "t", "on":
		return true
	}
	return false
}

// unitAllowList evaluates a list directive the way systemd does
// (SystemCallFilter=, RestrictAddressFamilies=): an empty assignment resets,
// the first assignment picks allow-list or (with ~) deny-list mode, later
// plain entries add to an allow-list and ~ entries remove from it. ok is false
// when the directive does not end up as an allow-list.
func unitAllowList(values []string) (set map[string]bool, ok bool) {
	set, _, ok = unitAllowListRemoving(values)
	return set, ok
}

// unitAllowListRemoving is unitAllowList that also returns the entries an
// allow-list had taken out with ~ after its first assignment (e.g.
// SystemCallFilter=~@privileged after @system-service, which removes the
// group's calls from those @system-service allows) and that no later entry
// put back.
func unitAllowListRemoving(values []string) (set, removed map[string]bool, ok bool) {
	mode := "" // "", "allow" or "deny"
	for _, v := range values {
		if v == "" {
			mode, set, removed = "", nil, nil
			continue
		}
		invert := strings.HasPrefix(v, "~")
		tokens := strings.Fields(strings.TrimPrefix(v, "~"))
		if mode == "" {
			mode, set, removed = "allow", map[string]bool{}, map[string]bool{}
			if invert {
				mode = "deny"
			}
			for _, tok := range tokens {
				set[unitStripErrno(tok)] = true
			}
			continue
		}
		add := (mode == "allow") != invert
		for _, tok := range tokens {
			tok = unitStripErrno(tok)
			if add {
				set[tok] = true
				delete(removed, tok)
			} else {
				delete(set, tok)
				removed[tok] = true
			}
		}
	}
	return set, removed, mode == "allow"
}

// namespaceTypes are the kinds of namespace RestrictNamespaces= names.
var namespaceTypes = []string{"cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"}

// unitAllowedNamespaces evaluates RestrictNamespaces= as systemd does and
// returns the namespace types the service may still create: unset or empty
// allows all, a boolean replaces what came before (yes allows none), the
// first list sets the allowed types (with ~: all but those), and later lists
// add to them (with ~: take away).
func unitAllowedNamespaces(values []string) []string {
	allowed, initial := map[string]bool{}, true
	all := func() map[string]bool {
		m := map[string]bool{}
		for _, n := range namespaceTypes {
			m[n] = true
		}
		return m
	}
	for _, v := range values {
		switch {
		case v == "":
			allowed, initial = map[string]bool{}, true
			continue
		case unitIsTrue(v):
			allowed, initial = map[string]bool{}, false
			continue
		case unitIsFalse(v):
			allowed, initial = all(), false
			continue
		}
		invert := strings.HasPrefix(v, "~")
		types := map[string]bool{}
		for _, n := range strings.Fields(strings.TrimPrefix(v, "~")) {
			types[n] = true
		}
		if initial {
			allowed, initial = map[string]bool{}, false
			for _, n := range namespaceTypes {
				if types[n] != invert {
					allowed[n] = true
				}
			}
			continue
		}
		for n := range types {
			if invert {
				delete(allowed, n)
			} else {
				allowed[n] = true
			}
		}
	}
	if initial {
		return namespaceTypes
	}
	return sortedSetKeys(allowed)
}

func unitIsFalse(v string) bool {
	switch strings.ToLower(v) {
	case "0", "no", "n", "false", "f", "off":
		return true
	}
	return false
}

// unitStripErrno drops SystemCallFilter's per-call ":errno" suffix.
func unitStripErrno(tok string) string {
	name, _, _ := strings.Cut(tok, ":")
	return name
}

// unitGrantsCapability evaluates CapabilityBoundingSet= as systemd does: unset
// keeps every capability, the first assignment sets the list (with ~: all but
// the list), later plain assignments add and ~ assignments remove, and an
// empty assignment leaves no capability at all.
func unitGrantsCapability(values []string, capName string) bool {
	unset, include, set := unitCapabilities(values)
	if unset {
		return true
	}
	return set[strings.ToUpper(capName)] == include
}

// unitGrantsNoCapability reports whether CapabilityBoundingSet= (or
// AmbientCapabilities= with unsetGrants false) leaves no capability at all.
func unitGrantsNoCapability(values []string, unsetGrants bool) bool {
	unset, include, set := unitCapabilities(values)
	if unset {
		return !unsetGrants
	}
	return include && len(set) == 0
}

// unitCapabilities evaluates a capability list directive: unset, or the set
// granted (include) or withheld (!include).
func unitCapabilities(values []string) (unset, include bool, set map[string]bool) {
	unset, include = true, false
	set = map[string]bool{} // granted when include, withheld otherwise
	for _, v := range values {
		if v == "" {
			unset, include, set = false, true, map[string]bool{}
			continue
		}
		invert := strings.HasPrefix(v, "~")
		tokens := strings.Fields(strings.ToUpper(strings.TrimPrefix(v, "~")))
		if unset {
			unset, include, set = false, !invert, map[string]bool{}
			for _, tok := range tokens {
				set[tok] = true
			}
			continue
		}
		add := include != invert // put the tokens in the set
		for _, tok := range tokens {
			if add {
				set[tok] = true
			} else {
				delete(set, tok)
			}
		}
	}
	return unset, include, set
}

// UnitProblem is one hardening requirement a unit misses.
type UnitProblem struct {
	Directive string // e.g. "PrivateTmp"
	// Seed is true for the directives of the seed (Akkoma's hardening guide):
	// PrivateTmp, ProtectHome, ProtectSystem, PrivateDevices, NoNewPrivileges
	// and CapabilityBoundingSet. The others are Rampart's own additions.
	Seed bool
	Msg  string
}

func (p UnitProblem) String() string { return p.Msg }

// SeedDirectives are the seed's directives, in the order CheckHardening checks them.
var SeedDirectives = []string{"PrivateTmp", "ProtectHome", "ProtectSystem", "PrivateDevices", "NoNewPrivileges", "CapabilityBoundingSet"}

// CheckHardening returns every hardening requirement the unit's [Service]
// section misses: each seed directive at its value or stricter, then each of
// Rampart's additions at the value the shipped unit has or stricter (a
// non-root User, no capabilities, the Private*, Protect* and Restrict*
// directives, the system-call filter and architectures, the address
// families, the device policy, the keyring, the file and directory modes,
// and no ReadWritePaths= that would reopen the system). Every directive of
// the shipped unit that hardens it is checked here, so that weakening any of
// them shows without systemd-analyze.
func CheckHardening(u UnitFile) []UnitProblem {
	const svc = "Service"
	var problems []UnitProblem
	seed := true
	fail := func(directive, format string, args ...any) {
		problems = append(problems, UnitProblem{Directive: directive, Seed: seed, Msg: fmt.Sprintf(format, args...)})
	}
	boolean := func(key string) {
		if v, ok := u.Last(svc, key); !ok {
			fail(key, "%s= is missing (want yes)", key)
		} else if !unitIsTrue(v) {
			fail(key, "%s=%s, want yes", key, v)
		}
	}

	// The seed's directives, each at its value or stricter.
	boolean("PrivateTmp")
	if v, ok := u.Last(svc, "ProtectHome"); !ok {
		fail("ProtectHome", "ProtectHome= is missing (want yes, read-only or tmpfs)")
	} else if !unitIsTrue(v) && v != "read-only" && v != "tmpfs" {
		fail("ProtectHome", "ProtectHome=%s, want yes, read-only or tmpfs", v)
	}
	if v, ok := u.Last(svc, "ProtectSystem"); !ok {
		fail("ProtectSystem", "ProtectSystem= is missing (want full or strict)")
	} else if v != "full" && v != "strict" {
		fail("ProtectSystem", "ProtectSystem=%s, want full or strict", v)
	}
	boolean("PrivateDevices")
	boolean("NoNewPrivileges")
	if caps, ok := u[svc]["CapabilityBoundingSet"]; !ok {
		fail("CapabilityBoundingSet", "CapabilityBoundingSet= is missing (an unset bounding set keeps CAP_SYS_ADMIN)")
	} else if unitGrantsCapability(caps, "CAP_SYS_ADMIN") {
		fail("CapabilityBoundingSet", "CapabilityBoundingSet=%q keeps CAP_SYS_ADMIN", caps)
	}

	// Rampart's own additions.
	seed = false
	oneOf := func(key string, allowed ...string) {
		v, ok := u.Last(svc, key)
		if !ok {
			fail(key, "%s= is missing (want %s)", key, strings.Join(allowed, " or "))
			return
		}
		for _, a := range allowed {
			if v == a || a == "yes" && unitIsTrue(v) {
				return
			}
		}
		fail(key, "%s=%s, want %s", key, v, strings.Join(allowed, " or "))
	}
	mode := func(key string, forbidden os.FileMode, want string) {
		if v, ok := u.Last(svc, key); !ok {
			fail(key, "%s= is missing (systemd's default is 0755; want %s)", key, want)
		} else if m, err := strconv.ParseUint(v, 8, 32); err != nil || m > 0o7777 || os.FileMode(m)&forbidden != 0 {
			fail(key, "%s=%s, want %s", key, v, want)
		}
	}

	if v, ok := u.Last(svc, "User"); (!ok || v == "" || v == "root" || v == "0") && !unitIsTrue(lastOr(u, svc, "DynamicUser")) {
		fail("User", "User=%q: the service would run as root (want an unprivileged user such as rampart)", v)
	}
	// Where the seed's value passes, the shipped unit's stricter one is
	// still wanted.
	if v, _ := u.Last(svc, "ProtectSystem"); v == "full" {
		fail("ProtectSystem", "ProtectSystem=full, want strict (everything read-only but the data directory)")
	}
	if v, _ := u.Last(svc, "ProtectHome"); v == "read-only" {
		fail("ProtectHome", "ProtectHome=read-only leaves /home readable, want yes")
	}
	if caps, ok := u[svc]["CapabilityBoundingSet"]; ok && !unitGrantsCapability(caps, "CAP_SYS_ADMIN") && !unitGrantsNoCapability(caps, true) {
		fail("CapabilityBoundingSet", "CapabilityBoundingSet=%q keeps capabilities; want it empty (none at all)", caps)
	}
	if caps := u[svc]["AmbientCapabilities"]; !unitGrantsNoCapability(caps, false) {
		fail("AmbientCapabilities", "AmbientCapabilities=%q grants capabilities; want none", caps)
	}
	for _, key := range []string{"PrivateUsers", "PrivateMounts", "ProtectHostname", "ProtectClock", "ProtectKernelTunables",
		"ProtectKernelModules", "ProtectKernelLogs", "RestrictRealtime", "RestrictSUIDSGID", "LockPersonality",
		"MemoryDenyWriteExecute", "RemoveIPC"} {
		boolean(key)
	}
	oneOf("ProtectControlGroups", "yes", "private", "strict")
	oneOf("ProtectProc", "invisible", "noaccess")
	oneOf("ProcSubset", "pid")
	oneOf("DevicePolicy", "closed", "strict")
	oneOf("KeyringMode", "private")
	if _, ok := u.Last(svc, "RestrictNamespaces"); !ok {
		fail("RestrictNamespaces", "RestrictNamespaces= is missing (want yes: no namespace at all)")
	} else if allowed := unitAllowedNamespaces(u[svc]["RestrictNamespaces"]); len(allowed) > 0 {
		fail("RestrictNamespaces", "RestrictNamespaces= %q still allows %v namespaces, want yes (none)", u[svc]["RestrictNamespaces"], allowed)
	}
	if set, ok := unitAllowList(u[svc]["SystemCallArchitectures"]); !ok || len(set) != 1 || !set["native"] {
		fail("SystemCallArchitectures", "SystemCallArchitectures= %q, want native only", u[svc]["SystemCallArchitectures"])
	}
	if set, removed, ok := unitAllowListRemoving(u[svc]["SystemCallFilter"]); !ok {
		fail("SystemCallFilter", "SystemCallFilter= %q is not an allow-list (want @system-service)", u[svc]["SystemCallFilter"])
	} else if !set["@system-service"] || len(set) != 1 {
		// Any other allowed entry would widen @system-service.
		fail("SystemCallFilter", "SystemCallFilter= allows %v, want exactly @system-service (then ~ removals)", sortedSetKeys(set))
	} else if !removed["@privileged"] || !removed["@resources"] {
		fail("SystemCallFilter", "SystemCallFilter= takes out only %v of @system-service, want ~@privileged @resources", sortedSetKeys(removed))
	}
	if set, ok := unitAllowList(u[svc]["RestrictAddressFamilies"]); !ok {
		fail("RestrictAddressFamilies", "RestrictAddressFamilies= %q is not an allow-list", u[svc]["RestrictAddressFamilies"])
	} else if !set["AF_INET"] || !set["AF_INET6"] {
		fail("RestrictAddressFamilies", "RestrictAddressFamilies= allows %v; outbound federation needs AF_INET and AF_INET6", sortedSetKeys(set))
	} else if extra := sortedSetKeys(without(set, "AF_INET", "AF_INET6", "AF_UNIX")); len(extra) > 0 {
		fail("RestrictAddressFamilies", "RestrictAddressFamilies= also allows %v; want AF_INET, AF_INET6 and AF_UNIX only", extra)
	}
	if v, ok := u.Last(svc, "UMask"); !ok {
		fail("UMask", "UMask= is missing (want 0077)")
	} else if m, err := strconv.ParseUint(v, 8, 32); err != nil || m > 0o777 || m&0o077 != 0o077 {
		fail("UMask", "UMask=%s, want 0077 (or stricter)", v)
	}
	if _, ok := u.Last(svc, "StateDirectory"); ok {
		mode("StateDirectoryMode", 0o077, "0700: the database and uploads are the service's alone")
	}
	if _, ok := u.Last(svc, "RuntimeDirectory"); ok {
		mode("RuntimeDirectoryMode", 0o007, "0750: the socket is for the proxy's group only")
	}
	for _, v := range u[svc]["ReadWritePaths"] {
		for _, p := range strings.Fields(v) {
			p = strings.TrimLeft(p, "-+")
			if systemPath(p) {
				fail("ReadWritePaths", "ReadWritePaths= makes %s writable again, undoing ProtectSystem=strict", p)
			}
		}
	}
	return problems
}

// lastOr is the directive's effective value, or "".
func lastOr(u UnitFile, section, key string) string {
	v, _ := u.Last(section, key)
	return v
}

// without returns set minus keys.
func without(set map[string]bool, keys ...string) map[string]bool {
	out := map[string]bool{}
	for k := range set {
		out[k] = true
	}
	for _, k := range keys {
		delete(out, k)
	}
	return out
}

// systemPath reports whether p is the root or lies in a directory that
// ProtectSystem=strict and ProtectHome keep the service from writing.
func systemPath(p string) bool {
	p = filepath.Clean(p)
	if p == "/" {
		return true
	}
	for _, dir := range []string{"/boot", "/efi", "/etc", "/usr", "/bin", "/sbin", "/lib", "/lib64", "/home", "/root", "/run/user", "/proc", "/sys", "/dev"} {
		if p == dir || strings.HasPrefix(p, dir+"/") {
			return true
		}
	}
	return false
}

func sortedSetKeys(m map[string]bool) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

var (
	exposureRE = regexp.MustCompile(`Overall exposure level for (\S+): ([0-9]+(?:\.[0-9]+)?)`)
	// ansiRE matches terminal colour sequences, in case the tool emits them.
	ansiRE = regexp.MustCompile("\x1b\\[[0-9;]*[A-Za-z]")
)

// StripANSI removes terminal colour sequences from a tool's output.
func StripANSI(s string) string { return ansiRE.ReplaceAllString(s, "") }

// ParseExposure finds the "Overall exposure level for UNIT: N" line of
// `systemd-analyze security` output (0 is best, 10 worst).
func ParseExposure(output string) (unit string, exposure float64, ok bool) {
	m := exposureRE.FindStringSubmatch(StripANSI(output))
	if m == nil {
		return "", 0, false
	}
	exposure, err := strconv.ParseFloat(m[2], 64)
	if err != nil {
		return "", 0, false
	}
	return m[1], exposure, true
}
