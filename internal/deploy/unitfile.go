package deploy

import (
	"bufio"
	"fmt"
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
	return u, sc.Err()
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
	mode := "" // "", "allow" or "deny"
	for _, v := range values {
		if v == "" {
			mode, set = "", nil
			continue
		}
		invert := strings.HasPrefix(v, "~")
		tokens := strings.Fields(strings.TrimPrefix(v, "~"))
		if mode == "" {
			mode, set = "allow", map[string]bool{}
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
			if add {
				set[unitStripErrno(tok)] = true
			} else {
				delete(set, unitStripErrno(tok))
			}
		}
	}
	return set, mode == "allow"
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
	unset, include := true, false
	set := map[string]bool{} // granted when include, withheld otherwise
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
	if unset {
		return true
	}
	return set[strings.ToUpper(capName)] == include
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
// section misses: each seed directive at its value or stricter, then
// Rampart's additions (MemoryDenyWriteExecute, SystemCallFilter,
// RestrictAddressFamilies, UMask).
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
	boolean("MemoryDenyWriteExecute")
	if set, ok := unitAllowList(u[svc]["SystemCallFilter"]); !ok {
		fail("SystemCallFilter", "SystemCallFilter= %q is not an allow-list (want @system-service)", u[svc]["SystemCallFilter"])
	} else if !set["@system-service"] || len(set) != 1 {
		// Any other allowed entry would widen @system-service.
		fail("SystemCallFilter", "SystemCallFilter= allows %v, want exactly @system-service (then ~ removals)", sortedSetKeys(set))
	}
	if set, ok := unitAllowList(u[svc]["RestrictAddressFamilies"]); !ok {
		fail("RestrictAddressFamilies", "RestrictAddressFamilies= %q is not an allow-list", u[svc]["RestrictAddressFamilies"])
	} else if !set["AF_INET"] || !set["AF_INET6"] {
		fail("RestrictAddressFamilies", "RestrictAddressFamilies= allows %v; outbound federation needs AF_INET and AF_INET6", sortedSetKeys(set))
	}
	if v, ok := u.Last(svc, "UMask"); !ok {
		fail("UMask", "UMask= is missing (want 0077)")
	} else if m, err := strconv.ParseUint(v, 8, 32); err != nil || m > 0o777 || m&0o077 != 0o077 {
		fail("UMask", "UMask=%s, want 0077 (or stricter)", v)
	}
	return problems
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
