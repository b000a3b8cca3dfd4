package server

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

func framed(data string) *framing {
	f := newFraming(32 << 10)
	f.feed([]byte(data))
	return f
}

func TestFramingVerdicts(t *testing.T) {
	get := "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
	cases := []struct {
		name    string
		data    string
		refuse  []bool // per request index
		closeAt int    // first index whose answer closes, -1 none
	}{
		{"plain pipeline", get + get + get, []bool{false, false, false}, -1},
		{"both headers", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n" + get, []bool{true, true}, 0},
		{"both, lower case, CL first", get + "POST / HTTP/1.1\r\ncontent-length: 4\r\ntransfer-encoding: chunked\r\n\r\n", []bool{false, true}, 1},
		{"HTTP/1.0 both", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n", []bool{true}, 0},
		{"chunked alone closes after", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" + get, []bool{false, true}, 0},
		{"CL body with heads inside is a body", "POST / HTTP/1.1\r\nContent-Length: 60\r\n\r\n" +
			"x\r\n\r\nPOST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"[:60] + get, []bool{false, false}, -1},
		{"bare LF lines", "GET / HTTP/1.1\nHost: a\n\nPOST / HTTP/1.1\nTransfer-Encoding: chunked\nContent-Length: 1\n\n", []bool{false, true}, 1},
		{"continuation is not a header", "GET / HTTP/1.1\r\nX-A: b\r\n Content-Length: 5\r\n\r\n" + get, []bool{false, false}, -1},
		{"leading blank lines", "\r\n\r\n" + get + get, []bool{false, false}, -1},
		{"bad length loses the framing", "POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n" + get, []bool{true, true}, 0},
		{"differing lengths lose it", "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx" + get, []bool{true}, 0},
		{"equal lengths are one", "POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nxx" + get, []bool{false, false}, -1},
	}
	for _, tc := range cases {
		for split := 0; split <= len(tc.data); split++ {
			f := newFraming(32 << 10)
			f.feed([]byte(tc.data[:split]))
			f.feed([]byte(tc.data[split:]))
			closeAt := -1
			for i, want := range tc.refuse {
				refuse, closeAfter := f.verdict(i)
				if refuse != want {
					t.Fatalf("%s (split at %d): request %d refused %v, want %v", tc.name, split, i, refuse, want)
				}
				if closeAfter && closeAt < 0 {
					closeAt = i
				}
			}
			if closeAt != tc.closeAt {
				t.Fatalf("%s (split at %d): first closing answer %d, want %d", tc.name, split, closeAt, tc.closeAt)
			}
		}
	}
}

// A head line longer than net/http reads loses the framing (net/http
// answers 431 and closes), and its buffer is not kept.
func TestFramingBoundsItsMemory(t *testing.T) {
	f := newFraming(4 << 10)
	f.feed([]byte("GET / HTTP/1.1\r\nX-Big: " + strings.Repeat("a", 9<<10)))
	if refuse, _ := f.verdict(0); !refuse || f.line != nil {
		t.Errorf("an over-long line: refused %v, buffer %d bytes", refuse, len(f.line))
	}
	f = newFraming(32 << 10)
	f.feed([]byte("GET / HTTP/1.1\r\nX-Big: " + strings.Repeat("a", 20<<10) + "\r\n\r\n"))
	if cap(f.line) > 4096 {
		t.Errorf("a long line's buffer (%d bytes) is kept for the connection", cap(f.line))
	}
	if refuse, _ := f.verdict(0); refuse {
		t.Error("a long line within the limit was refused")
	}
}

// FuzzFraming checks the framing against net/http's own parser: every
// request net/http reads from the bytes is one the framing counted at the
// same place, a request net/http reads as chunked is the one the framing
// closes on, and the result does not depend on how the bytes arrive.
func FuzzFraming(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.1\r\nHost: a\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\n\r\nPOST / HTTP/1.1\r\nhost: a\r\ntransfer-encoding: Chunked\r\ncontent-length: 0\r\n\r\n0\r\n\r\n",
		"GET / HTTP/1.1\nHost: a\n\n",
		"GET / HTTP/1.1\r\nHost: a\r\nX: y\r\n z\r\n\r\n",
	} {
		f.Add([]byte(s), uint16(7))
	}
	f.Fuzz(func(t *testing.T, data []byte, split uint16) {
		data = data[:len(data):len(data)]
		// A limit no line here reaches: net/http's ReadRequest has none, so
		// every refusal below must be one net/http makes too.
		whole := newFraming(1 << 20)
		whole.feed(data)
		k := int(split) % (len(data) + 1)
		parts := newFraming(1 << 20)
		parts.feed(data[:k])
		parts.feed(data[k:])
		if whole.heads != parts.heads || whole.teAt != parts.teAt || whole.both != parts.both || whole.lost != parts.lost {
			t.Fatalf("split at %d changes the result: %+v vs %+v", k, *whole, *parts)
		}
		br := bufio.NewReader(bytes.NewReader(data))
		for i := 0; ; i++ {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			if whole.lost >= 0 && i >= whole.lost {
				t.Fatalf("the framing refuses request %d, which net/http reads", i)
			}
			if i >= whole.heads {
				t.Fatalf("net/http read request %d, the framing counted %d", i, whole.heads)
			}
			if len(req.TransferEncoding) > 0 && whole.teAt != i {
				t.Fatalf("net/http read request %d as chunked; the framing closes at %d", i, whole.teAt)
			}
			if whole.teAt >= 0 && i >= whole.teAt {
				return // its answer closes the connection
			}
			if _, err := io.Copy(io.Discard, req.Body); err != nil {
				return
			}
			req.Body.Close()
		}
	})
}
