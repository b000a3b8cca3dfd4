package server

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strconv"
	"sync"
)

// Request smuggling. A request with both Transfer-Encoding and Content-Length
// is framed by net/http as chunked, while a proxy in front may frame it by its
// Content-Length: the bytes one side takes for the body, the other takes for
// the next request. net/http removes Content-Length before any handler runs,
// so the conflict cannot be seen from the request. The server therefore reads
// each connection's request heads as the bytes arrive (framing), and the
// handler refuses such a request with 400 and closes the connection
// (refuseAmbiguousFraming).
//
// Keeping in step with net/http needs only the request head and
// Content-Length: the first request that carries Transfer-Encoding is also
// the connection's last (its response closes the connection), so no chunked
// body is ever followed to a next request.

// framing follows the requests on one connection: it reads each head, skips
// each Content-Length body, and stops at the first Transfer-Encoding.
type framing struct {
	maxLine int // a longer line means net/http refuses the head (431) and closes

	inBody  bool  // skipping a Content-Length body
	remain  int64 // body bytes still to skip
	stopped bool
	line    []byte
	inHead  bool // between the request line and the blank line
	te, cl  bool
	clValue string
	clBad   bool

	heads int  // complete request heads read
	teAt  int  // the head with the first Transfer-Encoding, or -1
	both  bool // that head also had Content-Length
	lost  int  // from this head on the framing is unknown (a head net/http refuses), or -1
}

func newFraming(maxHeaderBytes int) *framing {
	// net/http reads at most MaxHeaderBytes plus 4096 bytes of slack for a head.
	return &framing{maxLine: maxHeaderBytes + 4096 + 1, teAt: -1, lost: -1}
}

// feed reads the next bytes of the connection, in order.
func (f *framing) feed(b []byte) {
	for len(b) > 0 && !f.stopped {
		if f.inBody {
			n := int64(len(b))
			if n > f.remain {
				n = f.remain
			}
			f.remain -= n
			b = b[n:]
			if f.remain == 0 {
				f.inBody = false
			}
			continue
		}
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			f.appendLine(b)
			return
		}
		f.appendLine(b[:i])
		b = b[i+1:]
		if f.stopped {
			return
		}
		f.endLine(bytes.TrimSuffix(f.line, []byte("\r")))
		if cap(f.line) > 4096 {
			f.line = nil // a long line's buffer is not kept for the connection's life
		} else {
			f.line = f.line[:0]
		}
	}
}

func (f *framing) appendLine(b []byte) {
	if len(f.line)+len(b) > f.maxLine {
		f.lose()
		return
	}
	f.line = append(f.line, b...)
}

// lose gives up on the connection from the head being read: net/http refuses
// that head too and closes the connection.
func (f *framing) lose() {
	f.lost = f.heads
	f.stopped = true
	f.line = nil
}

func (f *framing) endLine(line []byte) {
	switch {
	case !f.inHead && len(line) == 0:
		// Blank lines before a request line (net/http tolerates some after a POST).
	case !f.inHead:
		// The request line. (Transfer-Encoding counts whatever the
		// version: net/http ignores it on HTTP/1.0, a proxy may not.)
		f.inHead = true
		f.te, f.cl, f.clValue, f.clBad = false, false, "", false
	case len(line) == 0:
		f.inHead = false
		f.endHead()
	case line[0] == ' ' || line[0] == '\t':
		// A continuation line belongs to the header before it.
	default:
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			f.lose() // net/http refuses a header line without a colon
			return
		}
		name = bytes.TrimRight(name, " \t")
		switch {
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			f.te = true
		case bytes.EqualFold(name, []byte("Content-Length")):
			v := string(bytes.Trim(value, " \t"))
			if f.cl && v != f.clValue {
				f.clBad = true // net/http refuses differing lengths
			}
			f.cl, f.clValue = true, v
		}
	}
}

func (f *framing) endHead() {
	f.heads++
	if f.te {
		f.teAt, f.both = f.heads-1, f.cl
		f.stopped = true // this request is the connection's last
		f.line = nil
		return
	}
	if !f.cl {
		return
	}
	n, err := strconv.ParseUint(f.clValue, 10, 63)
	if f.clBad || err != nil || f.clValue == "" || f.clValue[0] == '+' {
		f.heads--
		f.lose() // net/http refuses the request and closes
		return
	}
	if n > 0 {
		f.inBody, f.remain = true, int64(n)
	}
}

// verdict is what the handler of the n-th request (from 0) on a connection
// must do: refuse it (400 and close), or serve it and close after.
func (f *framing) verdict(n int) (refuse, closeAfter bool) {
	switch {
	case f.lost >= 0 && n >= f.lost:
		return true, true
	case f.teAt >= 0 && n > f.teAt:
		return true, true
	case f.teAt >= 0 && n == f.teAt:
		return f.both, true
	}
	return false, false
}

// framingListener wraps each accepted connection in a framingConn.
type framingListener struct {
	net.Listener
	maxHeaderBytes int
}

func (l framingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &framingConn{Conn: c, f: newFraming(l.maxHeaderBytes)}, nil
}

// framingConn feeds what net/http reads from the connection to its framing.
// net/http reads a connection from one goroutine at a time, but its
// background read and the handler may meet here, hence the lock.
type framingConn struct {
	net.Conn
	mu     sync.Mutex
	f      *framing
	served int // handlers started on this connection
}

// stopFramingWhenHijacked ends a connection's framing when a handler takes
// it over (a WebSocket): what follows is not HTTP, and must neither cost
// the parser's work nor fill its line buffer for the connection's life.
func stopFramingWhenHijacked(c net.Conn, s http.ConnState) {
	if fc, ok := c.(*framingConn); ok && s == http.StateHijacked {
		fc.mu.Lock()
		fc.f.stopped, fc.f.line = true, nil
		fc.mu.Unlock()
	}
}

func (c *framingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.mu.Lock()
		c.f.feed(b[:n])
		c.mu.Unlock()
	}
	return n, err
}

// CloseWrite keeps net/http's half-close (it lets a client read a final
// error response before the connection is torn down).
func (c *framingConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// next returns the verdict for the request whose handler starts now:
// net/http serves a connection's requests one after another, in order.
func (c *framingConn) next() (refuse, closeAfter bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.served
	c.served++
	return c.f.verdict(n)
}

type framingKey struct{}

// withFraming puts the connection's framing into every request's context
// (http.Server.ConnContext).
func withFraming(ctx context.Context, c net.Conn) context.Context {
	if fc, ok := c.(*framingConn); ok {
		return context.WithValue(ctx, framingKey{}, fc)
	}
	return ctx
}

// refuseAmbiguousFraming answers 400 and closes the connection for a request
// that carried both Transfer-Encoding and Content-Length, and closes the
// connection after any other request that carried Transfer-Encoding. It sits
// inside the security layer, so the 400 carries the headers.
func refuseAmbiguousFraming(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fc, ok := r.Context().Value(framingKey{}).(*framingConn)
		if !ok || r.ProtoMajor != 1 {
			next.ServeHTTP(w, r)
			return
		}
		refuse, closeAfter := fc.next()
		if closeAfter {
			w.Header().Set("Connection", "close")
		}
		if refuse {
			http.Error(w, "Bad Request: a request may not carry both Transfer-Encoding and Content-Length", http.StatusBadRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}
