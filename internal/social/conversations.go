package social

import (
	"context"

	"github.com/rampart-social/rampart/internal/store"
)

// Conversations pages viewer's direct threads (the store files them as
// direct statuses are written, local or received, and shows each through
// the visibility rule). Participants others may not see (disabled,
// pending or deleted accounts) are left out, as from every account list.
func (s *Service) Conversations(ctx context.Context, viewer *store.Account, page store.Page) ([]store.Conversation, error) {
	list, err := s.store.Conversations(ctx, viewer.ID, page)
	if err != nil {
		return nil, err
	}
	return list, s.visibleParticipants(ctx, list)
}

// MaxConversationParticipants is how many of a conversation's other
// participants are shown: a thread that grows with every reply cannot grow
// a page (or its one statement's parameters) with it.
const MaxConversationParticipants = 40

// visibleParticipants keeps, in each conversation, the first
// MaxConversationParticipants participants store.VisibleAccountIDs keeps:
// one statement for the whole page.
func (s *Service) visibleParticipants(ctx context.Context, list []store.Conversation) error {
	var all []int64
	for i, c := range list {
		if len(c.Participants) > MaxConversationParticipants {
			list[i].Participants = c.Participants[:MaxConversationParticipants]
		}
		all = append(all, list[i].Participants...)
	}
	if len(all) == 0 {
		return nil
	}
	visible, err := s.store.VisibleAccountIDs(ctx, unique(all))
	if err != nil {
		return err
	}
	keep := make(map[int64]bool, len(visible))
	for _, id := range visible {
		keep[id] = true
	}
	for i := range list {
		kept := list[i].Participants[:0:0]
		for _, id := range list[i].Participants {
			if keep[id] {
				kept = append(kept, id)
			}
		}
		list[i].Participants = kept
	}
	return nil
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
	c, err := s.store.ConversationByID(ctx, viewer.ID, id)
	if err != nil {
		return nil, err
	}
	list := []store.Conversation{*c}
	if err := s.visibleParticipants(ctx, list); err != nil {
		return nil, err
	}
	return &list[0], nil
}
