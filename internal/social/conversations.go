package social

import (
	"context"

	"github.com/rampart-social/rampart/internal/store"
)

// Conversations pages viewer's direct threads (the store files them as
// direct statuses are written, local or received, and shows each through
// the visibility rule).
func (s *Service) Conversations(ctx context.Context, viewer *store.Account, page store.Page) ([]store.Conversation, error) {
	return s.store.Conversations(ctx, viewer.ID, page)
}

// RemoveConversation takes a thread off viewer's list.
func (s *Service) RemoveConversation(ctx context.Context, viewer *store.Account, id int64) error {
	return s.store.DeleteConversation(ctx, viewer.ID, id)
}

// ReadConversation marks a thread read for viewer and returns it.
func (s *Service) ReadConversation(ctx context.Context, viewer *store.Account, id int64) (*store.Conversation, error) {
	if err := s.store.ReadConversation(ctx, viewer.ID, id); err != nil {
		return nil, err
	}
	return s.store.ConversationByID(ctx, viewer.ID, id)
}
