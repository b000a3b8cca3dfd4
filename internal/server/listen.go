// Package server owns how Rampart meets the network: the listener (loopback
// TCP or a unix socket), the server's timeouts and size limits, the split of
// requests by Host into the instance and media origins, the per-request
// plumbing (request id, log line, panic recovery, body caps) and graceful
// shutdown.
package server

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strings"
	"syscall"

	"github.com/rampart-social/rampart/internal/config"
)

// Listen opens the configured listen address: "host:port" or "unix:/path".
func Listen(cfg *config.Config) (net.Listener, error) {
	addr := cfg.HTTP.Listen
	if path, ok := strings.CutPrefix(addr, config.UnixPrefix); ok {
		return listenUnix(path)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("http.listen: cannot listen on %s: %s", addr, describeListenErr(err))
	}
	return ln, nil
}

func describeListenErr(err error) string {
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return "address already in use (is another Rampart or service running on this port?)"
	case errors.Is(err, syscall.EACCES):
		return "permission denied (ports below 1024 need privileges Rampart should not have; use the reverse proxy)"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "this machine has no such address"
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err.Error()
	}
	return err.Error()
}

// listenUnix binds a unix socket, replacing a stale socket file but never
// another kind of file. The socket is group-accessible (0660) so the reverse
// proxy can join the rampart group; nobody else can connect.
func listenUnix(path string) (net.Listener, error) {
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode().Type() != fs.ModeSocket {
			return nil, fmt.Errorf("http.listen: %s exists and is not a socket; refusing to replace it", path)
		}
		if c, err := net.Dial("unix", path); err == nil {
			c.Close()
			return nil, fmt.Errorf("http.listen: %s: a running server already answers on this socket", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("http.listen: remove stale socket %s: %w", path, err)
		}
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("http.listen: cannot listen on unix socket %s: %s", path, describeListenErr(err))
	}
	if err := os.Chmod(path, 0o660); err != nil {
		ln.Close()
		return nil, fmt.Errorf("http.listen: chmod %s: %w", path, err)
	}
	return ln, nil
}
