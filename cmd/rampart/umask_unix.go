//go:build unix

package main

import "syscall"

// restrictUmask makes everything the process creates private to its user
// (files 0600, directories 0700), whatever mode the code asks for: SQLite
// creates its -wal and -shm files 0644, and the umask is what narrows them.
func restrictUmask() { syscall.Umask(0o077) }
