package store

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"
)

// TestTheSameRemoteEditTwiceAtOnceIsOneEdit: two deliveries of one edit,
// processed at once, make one edit; the other finds it made
// (ErrUnchanged), so its readers are told once.
func TestTheSameRemoteEditTwiceAtOnceIsOneEdit(t *testing.T) {
	ctx := context.Background()
	f := newCounterFixture(t, 2)
	id := f.id()
	st := &Status{ID: id, URI: "https://remote.example/s/1", AccountID: f.accounts[0], Visibility: Public, Content: "<p>hello</p>", CreatedAt: time.Now()}
	if err := f.s.CreateStatus(ctx, NewStatus{Status: st}); err != nil {
		t.Fatal(err)
	}
	for round := range 20 {
		content := "<p>edit " + strconv.Itoa(round) + "</p>"
		errs := make(chan error, 2)
		for range 2 {
			edit := *st
			edit.Content, edit.EditedAt = content, time.Now()
			go func() { errs <- f.s.EditRemoteStatus(ctx, &edit, f.id(), nil, nil, nil) }()
		}
		var made, unchanged int
		for range 2 {
			switch err := <-errs; {
			case err == nil:
				made++
			case errors.Is(err, ErrUnchanged):
				unchanged++
			default:
				t.Fatal(err)
			}
		}
		if made != 1 || unchanged != 1 {
			t.Fatalf("round %d: %d edits made, %d found unchanged; want 1 and 1", round, made, unchanged)
		}
	}
}
