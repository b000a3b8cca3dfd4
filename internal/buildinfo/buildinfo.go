// Package buildinfo names this build of Rampart.
package buildinfo

import "runtime/debug"

// Version is Rampart's release version.
const Version = "0.1.0"

// Commit is the VCS revision the binary was built from, when the build recorded it.
func Commit() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return s.Value[:12]
		}
	}
	return ""
}
