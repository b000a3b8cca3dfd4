package instance

import (
	"syscall"
	"unsafe"
)

// processUIDs are the real, effective and saved uids of this process
// (getresuid(2); the syscall package has no wrapper for it).
func processUIDs() (ruid, euid, suid int) {
	var r, e, s uint32
	_, _, errno := syscall.RawSyscall(syscall.SYS_GETRESUID,
		uintptr(unsafe.Pointer(&r)), uintptr(unsafe.Pointer(&e)), uintptr(unsafe.Pointer(&s)))
	if errno != 0 {
		return syscall.Getuid(), syscall.Geteuid(), syscall.Geteuid()
	}
	return int(r), int(e), int(s)
}
