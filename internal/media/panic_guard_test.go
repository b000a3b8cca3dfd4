package media

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/rampart-social/rampart/internal/testutil"
)

// parserBug is a context whose Err panics: the image decoder asks it between
// reads, so the panic happens where a parser bug on crafted bytes would,
// inside the decoding step.
type parserBug struct{ context.Context }

func (parserBug) Err() error { panic("index out of range [1056772] with length 1056768") }

// A panic while an upload's bytes are parsed fails that upload with a clean
// refusal and leaves nothing behind; it is logged with its stack. Neither the
// request (a 500) nor, in the background, the process may be what ends.
func TestPanicInAParserFailsOnlyThatUpload(t *testing.T) {
	ts := newTestService(t)
	var logs testutil.SyncBuffer
	ts.log = slog.New(slog.NewJSONHandler(&logs, nil))
	before, err := os.ReadDir(ts.dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = ts.Upload(parserBug{context.Background()}, ts.owner.ID, UploadParams{Data: testutil.GradientPNG(t, 64, 48)})
	if !errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), "the file could not be processed") {
		t.Fatalf("Upload with a parser that panics: %v, want the refusal %q", err, "the file could not be processed")
	}
	if strings.Contains(err.Error(), "index out of range") {
		t.Errorf("the refusal shows the panic to the uploader: %v", err)
	}
	out := logs.String()
	for _, want := range []string{"recovered panic", "index out of range", "processing an upload", "panic_guard_test.go"} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %q (the panic with its stack):\n%s", want, out)
		}
	}
	after, err := os.ReadDir(ts.dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Errorf("the media directory went from %d to %d entries", len(before), len(after))
	}
	// The service goes on: the next upload is processed.
	ts.upload(t, testutil.GradientPNG(t, 64, 48))
}
