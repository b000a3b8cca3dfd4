package accounts

import "strings"

// maxUserAgentScan bounds how much of a User-Agent Browser reads: every
// token it looks for sits near the start of a real one.
const maxUserAgentScan = 512

// Browser describes a User-Agent header in words, "Firefox on Linux": the
// browser and the operating system, without versions, which is what a
// person recognises in a list of their sessions. A header it does not
// recognise is "Unknown browser" (with its system when that is known).
// It reads untrusted bytes: it only looks for fixed substrings.
func Browser(ua string) string {
	if len(ua) > maxUserAgentScan {
		ua = ua[:maxUserAgentScan]
	}
	name := browserName(ua)
	if os := osName(ua); os != "" {
		return name + " on " + os
	}
	return name
}

func browserName(ua string) string {
	has := func(s string) bool { return strings.Contains(ua, s) }
	switch {
	case has("Edg/") || has("EdgA/") || has("EdgiOS/"):
		return "Edge"
	case has("OPR/") || has("Opera"):
		return "Opera"
	case has("SamsungBrowser/"):
		return "Samsung Internet"
	case has("Vivaldi/"):
		return "Vivaldi"
	case has("Firefox/") || has("FxiOS/"):
		return "Firefox"
	case has("Chromium/"):
		return "Chromium"
	case has("Chrome/") || has("CriOS/"):
		return "Chrome"
	case has("Safari/") && has("Version/"):
		return "Safari"
	}
	return "Unknown browser"
}

func osName(ua string) string {
	has := func(s string) bool { return strings.Contains(ua, s) }
	switch {
	case has("iPhone") || has("iPod"):
		return "iOS"
	case has("iPad"):
		return "iPadOS"
	case has("Android"):
		return "Android"
	case has("CrOS"):
		return "ChromeOS"
	case has("Windows"):
		return "Windows"
	case has("Macintosh") || has("Mac OS X"):
		return "macOS"
	case has("Linux") || has("X11"):
		return "Linux"
	}
	return ""
}
