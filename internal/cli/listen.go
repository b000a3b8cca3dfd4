package cli

import (
	"fmt"
	"net"

	"github.com/rampart-social/rampart/internal/config"
)

// splitLoopbackListen accepts only a loopback host:port, as quickstart needs.
func splitLoopbackListen(addr string) (host, port string, err error) {
	host, port, err = net.SplitHostPort(addr)
	if err != nil || port == "" || port == "0" {
		return "", "", fmt.Errorf("--listen: %q must be a loopback host:port like 127.0.0.1:8080", addr)
	}
	if !config.IsLoopbackHost(host) {
		return "", "", fmt.Errorf("--listen: %s is not loopback; quickstart is a dev instance and only listens on loopback", addr)
	}
	return host, port, nil
}
