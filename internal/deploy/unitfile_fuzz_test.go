package deploy

import (
	"strings"
	"testing"
)

// FuzzParseUnit: doctor parses the installed unit and its drop-ins, which
// anyone with write access to /etc/systemd could have written. Any text
// parses or is refused naming its line, never a panic; a parsed unit's
// hardening check runs; and text appended to the shipped unit that assigns
// nothing leaves it without findings.
func FuzzParseUnit(f *testing.F) {
	shipped, err := SystemdUnit(DefaultUnitOptions())
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"", "[Service]\nUser=root\n", "[Service]\nRestrictNamespaces=net\\\n", "Key=Value\n",
		"[Service]\nSystemCallFilter=~@privileged\nSystemCallFilter=\n", "[]\n", "[Service]\nCapabilityBoundingSet=CAP_SYS_ADMIN\n"} {
		f.Add(s)
	}
	f.Add("[Service]\nUser=" + strings.Repeat("a", 70<<10) + "\n") // over bufio.Scanner's line limit
	f.Fuzz(func(t *testing.T, text string) {
		u, err := ParseUnit(text)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "line ") {
				t.Fatalf("ParseUnit(%q): error without a line: %v", text, err)
			}
			return
		}
		CheckHardening(u)
		merged, err := ParseUnit(shipped + "\n" + text)
		if err != nil {
			return
		}
		if !strings.Contains(text, "=") && len(CheckHardening(merged)) != 0 {
			t.Fatalf("text without an assignment changed the shipped unit's findings: %q → %v", text, CheckHardening(merged))
		}
	})
}
