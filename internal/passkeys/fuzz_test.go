package passkeys

import (
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/rampart-social/rampart/internal/safely"
)

// FuzzParseResponses: the client's JSON, registration or assertion, is
// read by the library's parsers (through parseCreation and parseAssertion)
// without a panic, whatever the bytes.
func FuzzParseResponses(f *testing.F) {
	f.Add([]byte(`{"id":"AQID","rawId":"AQID","type":"public-key","response":{"clientDataJSON":"e30","attestationObject":"oA"}}`))
	f.Add([]byte(`{"id":"AQID","rawId":"AQID","type":"public-key","response":{"clientDataJSON":"e30","authenticatorData":"AA","signature":"AA","userHandle":"AA"}}`))
	f.Add([]byte(`{"id":"","response":null}`))
	f.Add([]byte(`[]`))
	s := &Service{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := s.parseCreation(b); err != nil && isPanic(err) {
			t.Fatalf("registration parser panicked: %v", err)
		}
		if _, err := s.parseAssertion(b); err != nil && isPanic(err) {
			t.Fatalf("assertion parser panicked: %v", err)
		}
	})
}

func isPanic(err error) bool {
	var p *safely.PanicError
	return errors.As(err, &p)
}
