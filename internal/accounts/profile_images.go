package accounts

import (
	"context"

	"github.com/rampart-social/rampart/internal/store"
)

// RemoveProfileImage takes the avatar (or, avatar false, the header) off a
// user's profile: the default image shows instead, and servers with
// followers of the account get the new profile, as after UpdateProfile. A
// profile without that image is returned as it is, and nothing is sent.
// The file goes with the media janitor's sweep, which keeps only what a
// profile or status names.
func (s *Service) RemoveProfileImage(ctx context.Context, accountID int64, avatar bool) (*store.Account, *store.User, error) {
	a, err := s.store.AccountByID(ctx, accountID)
	if err != nil {
		return nil, nil, err
	}
	key := a.HeaderKey
	if avatar {
		key = a.AvatarKey
	}
	if key == "" {
		u, err := s.store.UserByAccountID(ctx, accountID)
		if err != nil {
			return nil, nil, err
		}
		return a, u, nil
	}
	none := ""
	if avatar {
		return s.UpdateProfile(ctx, accountID, ProfileUpdate{AvatarKey: &none})
	}
	return s.UpdateProfile(ctx, accountID, ProfileUpdate{HeaderKey: &none})
}
