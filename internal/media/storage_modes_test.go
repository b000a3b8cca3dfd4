//go:build unix

package media

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestStoredMediaIsClosedToOthers: the media directory is created 0700 and
// every stored file is 0600, whatever the process umask lets through (the
// test clears the umask, so nothing but Rampart's own modes can close them).
func TestStoredMediaIsClosedToOthers(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)

	dir := filepath.Join(t.TempDir(), "data", "media")
	l, err := NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if mode := info.Mode().Perm(); mode != 0o700 {
		t.Errorf("media dir mode %04o, want 0700", mode)
	}
	for _, ext := range []string{"png", "jpg", "mp4"} {
		key, err := l.Put(context.Background(), ext, []byte("stored bytes"))
		if err != nil {
			t.Fatal(err)
		}
		info, err := os.Stat(filepath.Join(dir, key))
		if err != nil {
			t.Fatal(err)
		}
		if mode := info.Mode().Perm(); mode != 0o600 {
			t.Errorf("stored file %s has mode %04o, want 0600", key, mode)
		}
	}
}
