package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// AddRemoteMediaHost records host as one another server serves uploads
// from (lower case, port kept).
func (s *Store) AddRemoteMediaHost(ctx context.Context, host string, at time.Time) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO remote_media_hosts (host, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING`,
		strings.ToLower(host), ms(at))
	if err != nil {
		return fmt.Errorf("remote media host %s: %w", host, err)
	}
	return nil
}

// RemoteMediaHost reports whether host is one another server serves
// uploads from: one primary-key lookup.
func (s *Store) RemoteMediaHost(ctx context.Context, host string) (bool, error) {
	var one int
	err := s.read.QueryRowContext(ctx, `SELECT 1 FROM remote_media_hosts WHERE host = ?`, strings.ToLower(host)).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("remote media host %s: %w", host, err)
	}
	return true, nil
}
