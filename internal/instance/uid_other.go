//go:build !linux

package instance

import "os"

// processUIDs are the real and effective uids of this process; the saved
// uid has no portable call, so the effective one stands for it.
func processUIDs() (ruid, euid, suid int) {
	return os.Getuid(), os.Geteuid(), os.Geteuid()
}
