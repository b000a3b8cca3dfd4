package testutil

import (
	"fmt"
	"strings"
)

// DeniedFeatures are the powerful browser features the instance host's
// Permissions-Policy must turn off (each as feature=()): Rampart's pages use
// none of them, so no page and nothing injected into one may use them.
var DeniedFeatures = []string{
	"accelerometer", "autoplay", "camera", "display-capture", "geolocation", "gyroscope", "hid",
	"magnetometer", "microphone", "midi", "payment", "publickey-credentials-get", "serial", "usb",
	"browsing-topics", "interest-cohort",
}

// PermissionsPolicyProblems lists what is wrong with a Permissions-Policy
// value: a feature of DeniedFeatures that is missing or not exactly (), a
// feature listed twice, any feature allowed to some origin, or an entry that
// is not feature=allowlist. None means the policy denies everything it must.
func PermissionsPolicyProblems(value string) []string {
	var problems []string
	seen := map[string]string{}
	for _, item := range strings.Split(value, ",") {
		name, allow, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok || name == "" {
			problems = append(problems, fmt.Sprintf("malformed entry %q", item))
			continue
		}
		if _, dup := seen[name]; dup {
			problems = append(problems, fmt.Sprintf("%s is listed twice", name))
		}
		seen[name] = allow
		if allow != "()" {
			problems = append(problems, fmt.Sprintf("%s=%s allows an origin; every entry must be ()", name, allow))
		}
	}
	for _, f := range DeniedFeatures {
		if _, ok := seen[f]; !ok {
			problems = append(problems, fmt.Sprintf("%s is not denied", f))
		}
	}
	return problems
}
