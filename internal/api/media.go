package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"time"

	"github.com/rampart-social/rampart/internal/media"
	"github.com/rampart-social/rampart/internal/store"
)

// Attachment is Mastodon's MediaAttachment entity.
type Attachment struct {
	ID          string          `json:"id"`
	Type        string          `json:"type"`
	URL         *string         `json:"url"`
	PreviewURL  *string         `json:"preview_url"`
	RemoteURL   *string         `json:"remote_url"`
	Meta        json.RawMessage `json:"meta"`
	Description *string         `json:"description"`
	Blurhash    *string         `json:"blurhash"`
}

// mediaURL is where the media origin serves a key ("" → nil).
func (a *API) mediaURL(key string) *string {
	if key == "" {
		return nil
	}
	u := a.cfg.MediaOrigin().String() + "/" + key
	return &u
}

func (a *API) attachment(m *store.Media) Attachment {
	out := Attachment{ID: idString(m.ID), Type: m.Kind, Meta: json.RawMessage(m.Meta)}
	if m.State == "ready" {
		out.URL, out.PreviewURL = a.mediaURL(m.FileKey), a.mediaURL(m.PreviewKey)
	}
	if m.Description != "" {
		d := m.Description
		out.Description = &d
	}
	if m.Blurhash != "" {
		b := m.Blurhash
		out.Blurhash = &b
	}
	if len(out.Meta) == 0 {
		out.Meta = json.RawMessage("{}")
	}
	return out
}

// errNotMultipart is a request that carries no readable form.
var errNotMultipart = errors.New("the upload must be multipart/form-data with a file field")

// formMemory is how much of a multipart form net/http keeps in memory
// (file parts beyond it go to a temporary file; other values may take 10 MiB
// more, a limit of mime/multipart's own).
const formMemory = 1 << 20

// openUpload opens a multipart file field (the body size is already capped
// by the server for upload routes; going over it is a *http.MaxBytesError).
// The part is on disk (or in memory when small) after parsing; its size and
// sniffed kind are checked before anything reads it into memory, which
// media.(*Service).Upload does once its bytes fit the service's budget.
// The caller closes the file. Callers hold an upload slot (uploadSlot) first.
func (a *API) openUpload(r *http.Request, field string) (multipart.File, int64, bool, error) {
	if err := r.ParseMultipartForm(formMemory); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, 0, false, err
		}
		return nil, 0, false, errNotMultipart
	}
	f, fh, err := r.FormFile(field)
	if errors.Is(err, http.ErrMissingFile) {
		return nil, 0, false, nil
	}
	if err != nil {
		return nil, 0, false, errors.New("the file could not be read")
	}
	head := make([]byte, 4096)
	n, _ := io.ReadFull(f, head)
	if err := a.media.CheckSize(head[:n], fh.Size); err != nil {
		f.Close()
		return nil, 0, false, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, 0, false, errors.New("the file could not be read")
	}
	return f, fh.Size, true, nil
}

// uploadSlot waits for one of the concurrentUploads slots, so only that many
// requests parse forms that may carry files at once. The caller defers the
// returned release. A request takes one slot however many files it carries.
func (a *API) uploadSlot(ctx context.Context) (release func(), err error) {
	select {
	case a.uploads <- struct{}{}:
		return func() { <-a.uploads }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// uploadContext is the request's context for an upload, ending also a
// little before the server's write timeout: after that no answer can reach
// the client (net/http does not end the request's context then), so waiting
// for a slot or for memory, or processing, would be work for no one.
func (a *API) uploadContext(r *http.Request) (context.Context, context.CancelFunc) {
	wt := a.cfg.HTTP.WriteTimeout.D()
	return context.WithTimeout(r.Context(), wt-min(wt/10, 5*time.Second))
}

func (a *API) mediaError(w http.ResponseWriter, r *http.Request, err error) {
	var mbe *http.MaxBytesError
	switch {
	case r.Context().Err() != nil:
		return // the client went away, and the upload stopped with it: no one reads an answer
	case errors.Is(err, context.DeadlineExceeded): // uploadContext's end, before the write timeout
		w.Header().Set("Retry-After", "60")
		writeError(w, http.StatusServiceUnavailable, "The server is busy with other uploads; try again in a minute")
	case errors.Is(err, media.ErrRejected):
		writeError(w, http.StatusUnprocessableEntity, "Validation failed: "+err.Error())
	case errors.As(err, &mbe):
		writeError(w, http.StatusRequestEntityTooLarge, "The upload is too large (at most "+strconv.FormatInt(mbe.Limit, 10)+" bytes)")
	default:
		a.serviceError(w, r, err)
	}
}

func (a *API) upload(async bool) func(http.ResponseWriter, *http.Request, *Caller) {
	return func(w http.ResponseWriter, r *http.Request, c *Caller) {
		if err := a.media.TakeUpload(r.Context(), c.Account.ID); err != nil {
			a.serviceError(w, r, err)
			return
		}
		ctx, cancel := a.uploadContext(r)
		defer cancel()
		release, err := a.uploadSlot(ctx)
		if err != nil {
			a.mediaError(w, r, err)
			return
		}
		defer release()
		file, size, ok, err := a.openUpload(r, "file")
		if errors.Is(err, errNotMultipart) {
			writeError(w, http.StatusUnprocessableEntity, "Validation failed: "+err.Error())
			return
		}
		if err != nil {
			a.mediaError(w, r, err)
			return
		}
		if !ok {
			writeValidation(w, "file", "ERR_BLANK", "can't be blank")
			return
		}
		defer file.Close()
		p, err := params(r) // the form is parsed already; this bounds its text fields and lets the body win
		if err != nil {
			writeParamsError(w, err)
			return
		}
		m, err := a.media.Upload(ctx, c.Account.ID, media.UploadParams{File: file, Size: size,
			Description: p.Get("description"), Focus: p.Get("focus"), Async: async})
		if err != nil {
			a.mediaError(w, r, err)
			return
		}
		status := http.StatusOK
		if m.State == "processing" {
			status = http.StatusAccepted
		}
		writeJSON(w, status, a.attachment(m))
	}
}

func (a *API) getMedia(w http.ResponseWriter, r *http.Request, c *Caller) {
	id, ok := pathID(r, "id")
	if !ok {
		writeError(w, http.StatusNotFound, "Record not found")
		return
	}
	m, err := a.media.Own(r.Context(), c.Account.ID, id)
	if err != nil {
		a.mediaError(w, r, err)
		return
	}
	switch m.State {
	case "processing":
		writeJSON(w, http.StatusPartialContent, a.attachment(m))
	case "failed":
		writeError(w, http.StatusUnprocessableEntity, "Validation failed: "+m.Failure)
	default:
		writeJSON(w, http.StatusOK, a.attachment(m))
	}
}

func (a *API) updateMedia(w http.ResponseWriter, r *http.Request, c *Caller) {
	id, ok := pathID(r, "id")
	if !ok {
		writeError(w, http.StatusNotFound, "Record not found")
		return
	}
	p, err := params(r)
	if err != nil {
		writeParamsError(w, err)
		return
	}
	m, err := a.media.Describe(r.Context(), c.Account.ID, id, optString(p, "description"), optString(p, "focus"))
	if err != nil {
		a.mediaError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a.attachment(m))
}
