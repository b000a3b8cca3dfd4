package social

import (
	"context"
	"strconv"

	"github.com/rampart-social/rampart/internal/store"
)

// publish is the job that tells peers of a local action (store.KindPublish,
// run by outbox): the caller's store call commits it with the action.
func (s *Service) publish(p store.Publish) store.NewJob {
	p.At = s.now().UnixMilli()
	return store.NewPublish(p)
}

// publishStatus is publish for a status's Create, Update or Delete, which
// the store enqueues only when the status reaches another server.
func (s *Service) publishStatus(p store.Publish) *store.NewJob {
	j := s.publish(p)
	return &j
}

// published wakes the job runner after a commit that may have enqueued
// jobs.
func (s *Service) published() {
	if s.wakeJobs != nil {
		s.wakeJobs()
	}
}

// followURI names a local account's Follow of a remote one.
func followURI(follower *store.Account, requestID int64) string {
	return follower.URI + "#follows/" + strconv.FormatInt(requestID, 10)
}

// remoteAudience lists the remote accounts among ids.
func (s *Service) remoteAudience(ctx context.Context, ids []int64) ([]int64, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	accs, _, err := s.store.AccountsWithStats(ctx, ids)
	if err != nil {
		return nil, err
	}
	var out []int64
	for _, id := range ids {
		if a, ok := accs[id]; ok && a.Domain != "" {
			out = append(out, id)
		}
	}
	return out, nil
}
