package doctor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/deploy"
	"github.com/rampart-social/rampart/internal/safely"
)

// checkConfig is CONFIG: the lines of config.Load's error that no other check owns.
func (d *doctor) checkConfig() {
	c := d.checks["CONFIG"]
	fix := fmt.Sprintf("correct these lines in %s; `rampart config check --config %s` must accept the file before `rampart serve` starts with it", d.configName(), d.configName())
	for _, line := range d.loadLines["CONFIG"] {
		c.fail(line, fix)
	}
	switch {
	case len(d.loadLines["CONFIG"]) > 0:
	case d.loaded:
		c.pass("config.Load accepts %s (env %s)", d.configName(), d.cfg.Env)
	default:
		var owners []string
		for _, id := range []string{"S1", "S3", "S9", "DB"} {
			if len(d.loadLines[id]) > 0 {
				owners = append(owners, id)
			}
		}
		c.pass("config.Load refuses %s only for the reasons reported under %s", d.configName(), strings.Join(owners, ", "))
	}
}

// fixListen is S1's fix.
const fixListen = `set http.listen = "127.0.0.1:8080" (or "unix:/run/rampart/rampart.sock") and restart Rampart: the reverse proxy is the only way in, and it alone terminates TLS.`

// checkListen is S1.
func (d *doctor) checkListen() {
	c := d.checks["S1"]
	for _, line := range d.loadLines["S1"] {
		c.fail(line, fixListen)
	}
	if d.cfg == nil {
		c.warn("the config could not be read, so the listen address is unknown", "see CONFIG.")
		return
	}
	addr := d.cfg.HTTP.Listen
	if path, ok := strings.CutPrefix(addr, config.UnixPrefix); ok {
		fi, err := os.Stat(path)
		switch {
		case err != nil:
			c.pass("http.listen = %s, a unix socket (not present now: %v)", addr, errors.Unwrap(err))
		case fi.Mode().Type() != fs.ModeSocket:
			c.fail(fmt.Sprintf("http.listen = %s, but %s is not a socket", addr, path), "remove that file or point http.listen elsewhere; Rampart refuses to replace it.")
		case fi.Mode().Perm()&0o007 != 0:
			c.fail(fmt.Sprintf("http.listen = %s, a unix socket with mode %04o: any local user can connect", addr, fi.Mode().Perm()),
				"Rampart creates its socket with mode 0660; restart it, and do not chmod the socket.")
		default:
			c.pass("http.listen = %s, a unix socket with mode %04o", addr, fi.Mode().Perm())
		}
		return
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		if len(d.loadLines["S1"]) == 0 {
			c.fail(fmt.Sprintf("http.listen = %q is not host:port", addr), fixListen)
		}
		return
	}
	if config.IsLoopbackHost(host) {
		c.pass("http.listen = %s (loopback)", addr)
	} else {
		c.fail(fmt.Sprintf("http.listen = %s is not a loopback address", addr), fixListen)
	}
	if p := d.cfg.Debug.PprofListen; p != "" && !d.cfg.IsDev() {
		c.warn(fmt.Sprintf("debug.pprof_listen = %s: Go's profiler is on in prod (loopback only)", p),
			"remove debug.pprof_listen (and RAMPART_DEBUG_PPROF_LISTEN) and restart Rampart once the profiling is done.")
	}

	ips, err := nonLoopbackIPs()
	if err != nil {
		c.warn(fmt.Sprintf("cannot list this host's addresses: %v", err), "")
		return
	}
	if len(ips) == 0 {
		c.pass("this host has no non-loopback address to try port %s on", port)
		return
	}
	answered := d.dialAll(ips, port)
	if len(answered) > 0 {
		c.fail(fmt.Sprintf("port %s answers on %s", port, strings.Join(answered, ", ")),
			fixListen+" If that port belongs to another program, move Rampart to another loopback port or close it with a firewall.")
		return
	}
	var shown []string
	for _, ip := range ips {
		shown = append(shown, ip.String())
	}
	c.pass("port %s answers on none of %s", port, strings.Join(shown, ", "))
}

// nonLoopbackIPs lists the addresses of this host's interfaces that are up, except loopback.
func nonLoopbackIPs() ([]net.IPAddr, error) {
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	var out []net.IPAddr
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			var ip net.IP
			switch v := a.(type) {
			case *net.IPNet:
				ip = v.IP
			case *net.IPAddr:
				ip = v.IP
			}
			if ip == nil || ip.IsLoopback() || ip.IsMulticast() || ip.IsUnspecified() {
				continue
			}
			ia := net.IPAddr{IP: ip}
			if ip.To4() == nil && ip.IsLinkLocalUnicast() {
				ia.Zone = ifc.Name
			}
			out = append(out, ia)
		}
	}
	return out, nil
}

// dialAll tries a TCP connect to every address at port, in parallel, and
// returns those that accepted.
func (d *doctor) dialAll(ips []net.IPAddr, port string) []string {
	timeout := min(d.o.Timeout, 2*time.Second)
	var mu sync.Mutex
	probes := safely.NewGroup(d.log())
	var answered []string
	for _, ip := range ips {
		_ = probes.Go("probe", func() error {
			target := net.JoinHostPort(ip.String(), port)
			conn, err := net.DialTimeout("tcp", target, timeout)
			if err != nil {
				return nil
			}
			conn.Close()
			mu.Lock()
			answered = append(answered, target)
			mu.Unlock()
			return nil
		})
	}
	probes.Wait()
	sort.Strings(answered)
	return answered
}

// checkMediaConfig is S3's config part: media_url on a host of its own.
func (d *doctor) checkMediaConfig() {
	c := d.checks["S3"]
	fix := "serve uploads from a host name of their own: set media_url to e.g. \"https://media.<your host>\", point that name at the proxy, and include it in the certificate."
	for _, line := range d.loadLines["S3"] {
		c.fail(line, fix)
	}
	if len(d.loadLines["S3"]) > 0 || d.cfg == nil {
		return
	}
	switch {
	case d.cfgInst == nil || d.cfgMedia == nil:
		// Load's error, under CONFIG or S3, says why.
	case sameHost(d.cfgInst.Hostname(), d.cfgMedia.Hostname()):
		c.fail(fmt.Sprintf("media_url %s is on the instance's host %s", d.cfg.MediaURL, d.cfgInst.Hostname()), fix)
	default:
		c.pass("media_url host %s differs from url host %s", d.cfgMedia.Hostname(), d.cfgInst.Hostname())
	}
}

// fixUnit is S8's fix.
const fixUnit = "install the hardened unit: `rampart gen systemd > /etc/systemd/system/rampart.service`, then `systemctl daemon-reload && systemctl restart rampart` (put local changes in a drop-in that does not weaken these directives)."

// checkUnit is S8.
func (d *doctor) checkUnit(ctx context.Context) {
	c := d.checks["S8"]
	data, err := os.ReadFile(d.unitPath)
	if errors.Is(err, fs.ErrNotExist) && !d.unitGiven {
		c.warn(fmt.Sprintf("no unit at %s, so not checked", d.unitPath),
			"if Rampart runs under systemd, pass its unit with --unit PATH; otherwise "+fixUnit)
		return
	}
	if err != nil {
		c.warn(fmt.Sprintf("cannot read %s: %v", d.unitPath, err), "run doctor as root, or pass a readable copy with --unit PATH.")
		return
	}
	dropIns := unitDropIns(d.unitPath)
	merged := string(data)
	for _, p := range dropIns {
		b, err := os.ReadFile(p)
		if err != nil {
			c.warn(fmt.Sprintf("cannot read drop-in %s: %v", p, err), "run doctor as root.")
			return
		}
		merged += "\n" + string(b)
	}
	u, err := deploy.ParseUnit(merged)
	if err != nil {
		c.fail(fmt.Sprintf("%s (with its drop-ins) does not parse: %v", d.unitPath, err), fixUnit)
		return
	}
	if len(dropIns) > 0 {
		c.pass("judged with its drop-ins: %s", strings.Join(dropIns, ", "))
	}
	problems := deploy.CheckHardening(u)
	seedBad := map[string]bool{}
	for _, p := range problems {
		if p.Seed {
			seedBad[p.Directive] = true
			c.fail(p.Msg, fixUnit)
		} else {
			c.warn(p.Msg, fixUnit)
		}
	}
	if len(seedBad) == 0 {
		c.pass("%s has every seed directive at its value or stricter (%s)", d.unitPath, strings.Join(deploy.SeedDirectives, ", "))
	}
	d.checkExposure(ctx, c, merged)
}

// unitDropIns lists the *.conf drop-ins systemd would apply to the unit at
// path, in the order it applies them: by file name, a name in /etc hiding
// the same name in /run and /usr/lib. A drop-in can weaken any directive,
// so S8 judges the unit as systemd will run it.
func unitDropIns(path string) []string {
	name := filepath.Base(path)
	dirs := []string{path + ".d"}
	for _, root := range []string{"/etc/systemd/system", "/run/systemd/system", "/usr/local/lib/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"} {
		if d := filepath.Join(root, name+".d"); d != path+".d" {
			dirs = append(dirs, d)
		}
	}
	byName := map[string]string{}
	for _, dir := range dirs {
		matches, _ := filepath.Glob(filepath.Join(dir, "*.conf"))
		for _, m := range matches {
			if _, seen := byName[filepath.Base(m)]; !seen {
				byName[filepath.Base(m)] = m
			}
		}
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]string, 0, len(names))
	for _, n := range names {
		out = append(out, byName[n])
	}
	return out
}

// checkExposure adds systemd-analyze's exposure level to S8.
func (d *doctor) checkExposure(ctx context.Context, c *checker, merged string) {
	tool := d.o.SystemdAnalyze
	if tool == "none" {
		return
	}
	if tool == "" {
		p, err := exec.LookPath("systemd-analyze")
		if err != nil {
			c.pass("systemd-analyze is not on PATH, so the exposure level was not measured")
			return
		}
		tool = p
	}
	ctx, cancel := context.WithTimeout(ctx, d.o.Timeout)
	defer cancel()
	// The unit as systemd runs it, drop-ins merged, under its own name.
	dir, err := os.MkdirTemp("", "rampart-doctor-")
	if err != nil {
		c.warn(fmt.Sprintf("cannot measure the exposure level: %v", err), "run it by hand: systemd-analyze security "+filepath.Base(d.unitPath))
		return
	}
	defer os.RemoveAll(dir)
	analyzed := filepath.Join(dir, filepath.Base(d.unitPath))
	if err := os.WriteFile(analyzed, []byte(merged), 0o600); err != nil {
		c.warn(fmt.Sprintf("cannot measure the exposure level: %v", err), "run it by hand: systemd-analyze security "+filepath.Base(d.unitPath))
		return
	}
	cmd := exec.CommandContext(ctx, tool, "security", "--offline=true", "--no-pager", analyzed)
	cmd.Env = append(os.Environ(), "SYSTEMD_COLORS=0", "SYSTEMD_PAGER=", "SYSTEMD_LOG_COLOR=0")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	runErr := cmd.Run()
	_, exposure, ok := deploy.ParseExposure(out.String())
	if !ok {
		first := strings.TrimSpace(deploy.StripANSI(out.String()))
		if i := strings.IndexByte(first, '\n'); i >= 0 {
			first = first[:i]
		}
		if runErr != nil && first == "" {
			first = runErr.Error()
		}
		c.warn(fmt.Sprintf("`systemd-analyze security --offline=true %s` gave no exposure level (%s)", d.unitPath, first),
			"run it by hand to see why.")
		return
	}
	saw := fmt.Sprintf("systemd-analyze security exposure %.1f", exposure)
	switch {
	case exposure > ExposureFail:
		c.fail(fmt.Sprintf("%s (above %.1f: %s)", saw, ExposureFail, exposureWord(exposure)), fixUnit)
	case exposure > ExposureWarn:
		c.warn(fmt.Sprintf("%s (above %.1f; the shipped unit scores about 1.1)", saw, ExposureWarn), fixUnit)
	default:
		c.pass("%s (at most %.1f)", saw, ExposureWarn)
	}
}

// exposureWord is systemd's name for an exposure level.
func exposureWord(e float64) string {
	switch {
	case e >= 9.0:
		return "UNSAFE"
	case e >= 7.5:
		return "EXPOSED"
	}
	return "MEDIUM"
}

// checkFiles is S9.
func (d *doctor) checkFiles() {
	c := d.checks["S9"]
	for _, line := range d.loadLines["S9"] {
		switch {
		case strings.Contains(line, " has mode "):
			// The file's mode is checked below, in prod and dev alike.
		case strings.Contains(line, "secret_key:"):
			c.fail(line, "put a fresh secret in secret_key: `rampart gen config --domain … --media-domain …` prints one (copy its secret_key line). Changing it signs everyone out.")
		default:
			c.fail(line, `set env = "prod".`)
		}
	}
	if d.cfg != nil {
		switch d.cfg.Env {
		case config.EnvProd:
			c.pass("env = prod")
		case config.EnvDev:
			c.fail(`env = "dev": the dev environment allows plain http and only warns about a readable config file`, `set env = "prod".`)
		default:
			if !hasLine(d.loadLines["S9"], "env:") {
				c.fail(fmt.Sprintf("env = %q is not prod", d.cfg.Env), `set env = "prod".`)
			}
		}
		if !hasLine(d.loadLines["S9"], "secret_key:") {
			if d.cfg.SecretKey.IsSet() && !isExampleSecret(d.cfg.SecretKey) {
				c.pass("secret_key is set and is not the documentation's example")
			} else if d.cfg.SecretKey.IsSet() {
				c.fail("secret_key is the documentation's example", "put a fresh secret in secret_key: `rampart gen config` prints one.")
			}
		}
	}

	// The config file: config.Load's rule (mode & 0027 == 0).
	if fi, err := os.Stat(d.o.ConfigPath); err != nil {
		c.warn(fmt.Sprintf("cannot stat %s: %v", d.o.ConfigPath, err), "")
	} else if m := fi.Mode().Perm(); m&0o027 != 0 {
		c.fail(fmt.Sprintf("%s has mode %04o: others can read it or its group can change it, and it holds secret_key", d.o.ConfigPath, m),
			fmt.Sprintf("chmod 640 %s (owner root or rampart, group rampart).", d.o.ConfigPath))
	} else {
		c.pass("%s has mode %04o", d.o.ConfigPath, m)
	}

	if d.cfg == nil || strings.TrimSpace(d.cfg.DataDir) == "" {
		return
	}
	dirs := []string{d.cfg.DataDir}
	if md := d.cfg.MediaDir(); !within(md, d.cfg.DataDir) {
		dirs = append(dirs, md)
	}
	for _, dir := range dirs {
		fi, err := os.Stat(dir)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			c.warn(fmt.Sprintf("%s does not exist yet", dir), fmt.Sprintf("Rampart creates it with mode 0700 when it starts; check again after `rampart serve` has run (or create it: install -d -m 0700 -o rampart -g rampart %s).", dir))
		case err != nil:
			c.warn(fmt.Sprintf("cannot stat %s: %v", dir, err), "run doctor as root or as the user Rampart runs as.")
		case fi.Mode().Perm()&0o007 != 0:
			c.fail(fmt.Sprintf("%s has mode %04o: other users can reach the database and uploads", dir, fi.Mode().Perm()),
				fmt.Sprintf("chmod 700 %s (systemd's StateDirectoryMode=0700 in the shipped unit keeps it so).", dir))
		default:
			c.pass("%s has mode %04o", dir, fi.Mode().Perm())
		}
	}
}

func hasLine(lines []string, sub string) bool {
	for _, l := range lines {
		if strings.Contains(l, sub) {
			return true
		}
	}
	return false
}

// isExampleSecret reports whether s is config.ExampleSecret (Secret hides its text; its bytes tell).
func isExampleSecret(s config.Secret) bool {
	got, err1 := s.Bytes()
	want, err2 := config.NewSecret(config.ExampleSecret).Bytes()
	return err1 == nil && err2 == nil && bytes.Equal(got, want)
}

// within reports whether path is dir or inside it.
func within(path, dir string) bool {
	rel, err := filepath.Rel(filepath.Clean(dir), filepath.Clean(path))
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}
