package accounts

import (
	"context"
	"errors"
	"io"

	"github.com/rampart-social/rampart/internal/media"
	"github.com/rampart-social/rampart/internal/store"
)

// WithMedia gives the service the media pipeline that stores avatars and
// headers (ChangeProfile). It returns s.
func (s *Service) WithMedia(m *media.Service) *Service {
	s.media = m
	return s
}

// ImageUpload is an avatar or a header as a form carried it.
type ImageUpload struct {
	Avatar bool // else the header
	File   io.Reader
	Size   int64
}

// ImageError is an avatar or header the media pipeline refused (or could
// not store); its message is the pipeline's.
type ImageError struct {
	Avatar bool
	Err    error
}

func (e *ImageError) Error() string { return e.Err.Error() }
func (e *ImageError) Unwrap() error { return e.Err }

// ChangeProfile is a user's profile change with its images, as the API's
// update_credentials and the settings' profile page make it. The text
// fields are checked first, so a change that will be refused stores no
// image; each image then goes through the media pipeline (an image,
// re-encoded; the avatar its preview); if a later step fails (the next
// image, the profile's write) the images stored go again.
func (s *Service) ChangeProfile(ctx context.Context, accountID int64, p ProfileUpdate, images []ImageUpload) (*store.Account, *store.User, error) {
	if err := CheckProfile(p); err != nil {
		return nil, nil, err
	}
	if len(images) > 0 && s.media == nil {
		return nil, nil, errors.New("change profile: no media pipeline to store images")
	}
	var stored []*media.ProfileImage
	changed := false
	defer func() {
		if !changed {
			for _, img := range stored {
				s.media.DiscardProfileImage(ctx, img)
			}
		}
	}()
	for _, img := range images {
		pi, err := s.media.ProfileImage(ctx, accountID, img.File, img.Size, img.Avatar)
		if err != nil {
			return nil, nil, &ImageError{Avatar: img.Avatar, Err: err}
		}
		stored = append(stored, pi)
		if img.Avatar {
			p.AvatarKey = &pi.Key
		} else {
			p.HeaderKey = &pi.Key
		}
	}
	a, u, err := s.UpdateProfile(ctx, accountID, p)
	if err != nil {
		return nil, nil, err
	}
	changed = true
	return a, u, nil
}
