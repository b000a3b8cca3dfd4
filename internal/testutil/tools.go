package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
)

// Nginx returns the path of nginx (Debian puts it in /usr/sbin, which a
// user's PATH may lack). A missing nginx skips the test, or fails it with
// TEST_REQUIRE_TOOLS=1.
func Nginx(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	if fi, err := os.Stat("/usr/sbin/nginx"); err == nil && fi.Mode()&0o111 != 0 {
		return "/usr/sbin/nginx"
	}
	if os.Getenv("TEST_REQUIRE_TOOLS") == "1" { // scripts/test sets it
		t.Fatal("nginx not found and TEST_REQUIRE_TOOLS=1 (install the Debian package nginx, or run ./scripts/test which does)")
	}
	t.Skip("nginx not found; skipping (install nginx, or set TEST_REQUIRE_TOOLS=1 to make this a failure)")
	return ""
}

var nginxVersionRE = regexp.MustCompile(`nginx/(\d+)\.(\d+)\.(\d+)`)

// NginxPredatesHTTP2Directive reports whether the nginx at path is older
// than 1.25.1, which brought the http2 directive (Debian 12 ships 1.22).
func NginxPredatesHTTP2Directive(t testing.TB, path string) bool {
	t.Helper()
	out, err := exec.Command(path, "-v").CombinedOutput()
	m := nginxVersionRE.FindStringSubmatch(string(out))
	if err != nil || m == nil {
		t.Fatalf("nginx -v: %v %s", err, out)
	}
	v := [3]int{}
	for i := range v {
		v[i], _ = strconv.Atoi(m[i+1])
	}
	return v[0] < 1 || v[0] == 1 && (v[1] < 25 || v[1] == 25 && v[2] < 1)
}

// NginxConf is the least nginx.conf around the site at sitePath, standing in
// for Debian's, which includes sites-enabled/* inside http {}: everything
// nginx writes goes under prefix. top is put first (e.g. "daemon off;\n").
func NginxConf(prefix, sitePath, top string) string {
	return top + fmt.Sprintf(`worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log;
events { worker_connections 256; }
http {
    access_log %[1]s/access.log;
    client_body_temp_path %[1]s/client_body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    include %[2]s;
}
`, prefix, sitePath)
}
