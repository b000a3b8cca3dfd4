package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rampart-social/rampart/internal/id"
)

// Storage keeps uploaded files under keys Rampart chose. A key is random
// (never a user-supplied name) plus an extension. The local directory is the
// default; an S3-compatible backend can implement the same interface.
type Storage interface {
	// Put stores data under a new key and returns it; the file appears
	// whole or not at all.
	Put(ctx context.Context, ext string, data []byte) (key string, err error)
	// Open returns the file for reading (an *os.File locally: it seeks, for Range).
	Open(ctx context.Context, key string) (File, error)
	Delete(ctx context.Context, key string) error
	// Keys lists every stored key, for pruning files no row refers to.
	Keys(ctx context.Context) ([]string, error)
}

// File is an open stored file.
type File interface {
	io.ReadSeekCloser
	Stat() (os.FileInfo, error)
}

// ErrNoFile means no file has that key.
var ErrNoFile = errors.New("no such media file")

// Local stores files in a directory.
type Local struct {
	dir string
}

// NewLocal uses dir (created 0700 if missing).
func NewLocal(dir string) (*Local, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("media directory: %w", err)
	}
	return &Local{dir: dir}, nil
}

// ValidKey reports whether key has the shape Put makes: 43 base64url
// characters, a dot, a short extension. Anything else (paths, dots, slashes)
// is not a key, so no request can reach outside the directory.
func ValidKey(key string) bool {
	name, ext, ok := strings.Cut(key, ".")
	if !ok || len(name) != 43 || len(ext) < 2 || len(ext) > 5 {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	for _, r := range ext {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// Put writes to a temporary file, syncs it and renames it into place.
func (l *Local) Put(ctx context.Context, ext string, data []byte) (string, error) {
	key := id.Secret() + "." + ext
	if !ValidKey(key) {
		return "", fmt.Errorf("bad extension %q", ext)
	}
	tmp, err := os.CreateTemp(l.dir, ".upload-*")
	if err != nil {
		return "", fmt.Errorf("store media: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename this is a no-op
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return "", fmt.Errorf("store media: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", fmt.Errorf("store media: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("store media: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(l.dir, key)); err != nil {
		return "", fmt.Errorf("store media: %w", err)
	}
	// The rename is durable only once the directory is synced: without it a
	// power cut could lose the name while the row written next survives,
	// leaving a row that points at no file. (Best effort: some systems
	// cannot sync a directory.)
	if d, err := os.Open(l.dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return key, nil
}

// Open opens a stored file.
func (l *Local) Open(_ context.Context, key string) (File, error) {
	if !ValidKey(key) {
		return nil, ErrNoFile
	}
	f, err := os.Open(filepath.Join(l.dir, key))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNoFile
	}
	return f, err
}

// Delete removes a stored file (a missing one is fine).
func (l *Local) Delete(_ context.Context, key string) error {
	if !ValidKey(key) {
		return nil
	}
	if err := os.Remove(filepath.Join(l.dir, key)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("delete media: %w", err)
	}
	return nil
}

// staleTemp is how old a temporary file must be before it counts as left
// behind by a crash rather than an upload in progress.
const staleTemp = time.Hour

// Keys lists stored files and removes temporary files a crash left behind.
func (l *Local) Keys(_ context.Context) ([]string, error) {
	entries, err := os.ReadDir(l.dir)
	if err != nil {
		return nil, fmt.Errorf("list media: %w", err)
	}
	var keys []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".upload-") {
			if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > staleTemp {
				_ = os.Remove(filepath.Join(l.dir, e.Name()))
			}
			continue
		}
		if ValidKey(e.Name()) {
			keys = append(keys, e.Name())
		}
	}
	return keys, nil
}
