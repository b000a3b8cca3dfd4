package store

import (
	"context"
	"time"
)

// The staff's marks on one account, local or remote: suspension (hidden
// from everyone by the visibility rule, visibility.go) and sensitization
// (its media shown as sensitive). Both are times, 0 when unmarked; neither
// deletes anything, so lifting one restores the account as it was.

// SetSuspended suspends an account (at non-zero) or lifts its suspension
// (at zero). Suspending an account suspended already keeps its first time.
// ErrNotFound for no such account, or a deleted one.
func (s *Store) SetSuspended(ctx context.Context, id int64, at time.Time) error {
	res, err := s.write.ExecContext(ctx, `UPDATE accounts SET suspended_at = CASE WHEN suspended_at <> 0 AND CAST(? AS BIGINT) <> 0 THEN suspended_at ELSE CAST(? AS BIGINT) END
		WHERE id = ? AND deleted_at = 0`, markArg(at), markArg(at), id)
	return expectOne(res, err, "suspend")
}

// SetSensitized marks an account's media sensitive (at non-zero) or lifts
// the mark (at zero), as SetSuspended.
func (s *Store) SetSensitized(ctx context.Context, id int64, at time.Time) error {
	res, err := s.write.ExecContext(ctx, `UPDATE accounts SET sensitized_at = CASE WHEN sensitized_at <> 0 AND CAST(? AS BIGINT) <> 0 THEN sensitized_at ELSE CAST(? AS BIGINT) END
		WHERE id = ? AND deleted_at = 0`, markArg(at), markArg(at), id)
	return expectOne(res, err, "sensitize")
}

// markArg is a mark's stored time: 0 for the zero time.
func markArg(at time.Time) int64 {
	if at.IsZero() {
		return 0
	}
	return ms(at)
}
