package doctor

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/rampart-social/rampart/internal/config"
)

// DefaultProcDir is where Linux shows its processes.
const DefaultProcDir = "/proc"

// servingProcess is a process USER found serving the config's listener.
type servingProcess struct {
	pid  int
	name string // the Name: line of its status
	uids [4]int // real, effective, saved and filesystem uid
}

// fixRoot is USER's fix for a process running as root.
const fixRoot = "run Rampart as an unprivileged user: install the unit `rampart gen systemd` prints (User=rampart), then `systemctl daemon-reload && systemctl restart rampart`; do not set security.allow_root."

// checkUser is USER: the user the running Rampart has. It finds the process
// that owns the listening socket of http.listen (from the proc filesystem:
// net/tcp, net/tcp6 or net/unix, then each process's open files), else a
// `rampart serve` whose command line names this config, and reads its uids.
func (d *doctor) checkUser() {
	c := d.checks["USER"]
	if d.cfg == nil {
		c.warn("the config could not be read, so the listen address of the running Rampart is unknown", "see CONFIG.")
		return
	}
	procDir := d.o.ProcDir
	if procDir == "" {
		procDir = DefaultProcDir
	}
	procs, how, why := findServing(procDir, d.cfg.HTTP.Listen, d.o.ConfigPath)
	if len(procs) == 0 {
		c.warn("could not find the running Rampart: "+why,
			"run doctor as root (sudo) on the host where Rampart runs, while it runs; `systemctl show -p MainPID,User rampart` shows the same.")
		return
	}
	for _, p := range procs {
		who := fmt.Sprintf("pid %d (%s, %s)", p.pid, p.name, how)
		real, effective, saved := p.uids[0], p.uids[1], p.uids[2]
		switch {
		case effective == 0:
			c.fail(fmt.Sprintf("%s runs as %s", who, userName(0)), fixRoot)
		case real == 0 || saved == 0:
			// It may set its effective uid back to 0 at will.
			c.fail(fmt.Sprintf("%s runs as %s but can become root again (real uid %d, saved uid %d)", who, userName(effective), real, saved), fixRoot)
		default:
			c.pass("%s runs as %s, not root", who, userName(effective))
		}
	}
}

// userName is "name (uid N)", or "uid N" for a uid without a name here.
func userName(uid int) string {
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil && u.Username != "" {
		return fmt.Sprintf("%s (uid %d)", u.Username, uid)
	}
	return fmt.Sprintf("uid %d", uid)
}

// findServing returns the processes serving listen under procDir and how
// they were found, or why none was.
func findServing(procDir, listen, configPath string) (procs []servingProcess, how, why string) {
	inodes, err := listeningInodes(procDir, listen)
	if err != nil {
		return nil, "", err.Error()
	}
	pids, hidden := socketOwners(procDir, inodes)
	how = "owner of the socket listening on " + listen
	if len(pids) == 0 {
		// Another user's open files are root's to read; the command line is
		// anyone's.
		pids = serveCommands(procDir, configPath)
		how = "`rampart serve` with this config"
	}
	if len(pids) == 0 {
		switch {
		case len(inodes) == 0:
			return nil, "", fmt.Sprintf("nothing listens on %s here, and no `rampart serve --config %s` runs (is Rampart running?)", listen, configPath)
		case hidden > 0:
			return nil, "", fmt.Sprintf("a socket listens on %s, but the open files of %d processes could not be read (only root may read another user's), and no `rampart serve --config %s` is visible", listen, hidden, configPath)
		default:
			return nil, "", fmt.Sprintf("a socket listens on %s, but no process visible here owns it (another namespace, or %s mounted with hidepid)", listen, procDir)
		}
	}
	var unreadable []string
	for _, pid := range pids {
		p, err := readStatus(procDir, pid)
		if err != nil {
			unreadable = append(unreadable, err.Error())
			continue
		}
		procs = append(procs, p)
	}
	if len(procs) == 0 {
		return nil, "", strings.Join(unreadable, "; ")
	}
	return procs, how, ""
}

// listeningInodes returns the inodes of the sockets listening on listen
// (http.listen: host:port or unix:/path), as the proc filesystem lists them.
func listeningInodes(procDir, listen string) (map[string]bool, error) {
	inodes := map[string]bool{}
	if path, ok := strings.CutPrefix(listen, config.UnixPrefix); ok {
		err := scanTable(filepath.Join(procDir, "net", "unix"), func(f []string) {
			// Num RefCount Protocol Flags Type St Inode Path
			if len(f) >= 8 && filepath.Clean(f[7]) == filepath.Clean(path) {
				inodes[f[6]] = true
			}
		})
		return inodes, err
	}
	host, portText, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, fmt.Errorf("http.listen %q is not host:port", listen)
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("http.listen %q has no numeric port", listen)
	}
	want := net.ParseIP(host) // nil for a name: any address on the port
	var read int
	for _, table := range []string{"tcp", "tcp6"} {
		err := scanTable(filepath.Join(procDir, "net", table), func(f []string) {
			// sl local_address rem_address st … uid timeout inode
			if len(f) < 10 || f[3] != "0A" { // 0A: LISTEN
				return
			}
			ip, p, ok := parseProcAddr(f[1])
			if !ok || p != port {
				return
			}
			if want == nil || ip.Equal(want) || ip.IsUnspecified() {
				inodes[f[9]] = true
			}
		})
		if err == nil {
			read++
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	if read == 0 {
		return nil, fmt.Errorf("%s has no net/tcp or net/tcp6 to read sockets from", procDir)
	}
	return inodes, nil
}

// scanTable calls fn with the fields of every line of a proc net table but
// its header.
func scanTable(path string, fn func(fields []string)) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for first := true; sc.Scan(); first = false {
		if !first {
			fn(strings.Fields(sc.Text()))
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}

// parseProcAddr reads "0100007F:1F90": the address as the kernel stores it
// (32-bit words in host order, little-endian here) and the port in hex.
func parseProcAddr(s string) (net.IP, uint64, bool) {
	addrHex, portHex, ok := strings.Cut(s, ":")
	if !ok {
		return nil, 0, false
	}
	port, err := strconv.ParseUint(portHex, 16, 16)
	if err != nil {
		return nil, 0, false
	}
	raw, err := hex.DecodeString(addrHex)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return nil, 0, false
	}
	ip := make(net.IP, len(raw))
	for w := 0; w < len(raw); w += 4 {
		for i := range 4 {
			ip[w+i] = raw[w+3-i]
		}
	}
	return ip, port, true
}

// socketOwners returns the pids with one of inodes open, and how many
// processes' open files could not be read.
func socketOwners(procDir string, inodes map[string]bool) (pids []int, hidden int) {
	if len(inodes) == 0 {
		return nil, 0
	}
	for _, pid := range listPids(procDir) {
		fds, err := os.ReadDir(filepath.Join(procDir, strconv.Itoa(pid), "fd"))
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) { // gone meanwhile
				hidden++
			}
			continue
		}
		for _, fd := range fds {
			target, err := os.Readlink(filepath.Join(procDir, strconv.Itoa(pid), "fd", fd.Name()))
			if err != nil {
				continue
			}
			if inode, ok := strings.CutPrefix(target, "socket:["); ok && inodes[strings.TrimSuffix(inode, "]")] {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids, hidden
}

// serveCommands returns the pids whose command line is a rampart binary
// running `serve` with configPath.
func serveCommands(procDir, configPath string) []int {
	abs, err := filepath.Abs(configPath)
	if err != nil {
		return nil
	}
	var pids []int
	for _, pid := range listPids(procDir) {
		b, err := os.ReadFile(filepath.Join(procDir, strconv.Itoa(pid), "cmdline"))
		if err != nil || len(b) == 0 {
			continue
		}
		args := strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
		if filepath.Base(args[0]) != "rampart" || len(args) < 2 || args[1] != "serve" {
			continue
		}
		for i, a := range args[2:] {
			cfg, ok := strings.CutPrefix(a, "--config=")
			if !ok && (a == "--config" || a == "-config") && i+3 < len(args) {
				cfg, ok = args[i+3], true
			}
			if ok && (cfg == configPath || cfg == abs) {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}

// listPids lists the numeric entries of procDir in order.
func listPids(procDir string) []int {
	entries, err := os.ReadDir(procDir)
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil && pid > 0 {
			pids = append(pids, pid)
		}
	}
	sort.Ints(pids)
	return pids
}

// readStatus reads a process's name and uids from its status file.
func readStatus(procDir string, pid int) (servingProcess, error) {
	p := servingProcess{pid: pid}
	path := filepath.Join(procDir, strconv.Itoa(pid), "status")
	b, err := os.ReadFile(path)
	if err != nil {
		return p, fmt.Errorf("cannot read the user of pid %d: %w", pid, err)
	}
	uidsSeen := false
	for _, line := range strings.Split(string(b), "\n") {
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch key {
		case "Name":
			p.name = strings.TrimSpace(value)
		case "Uid":
			f := strings.Fields(value)
			if len(f) != 4 {
				return p, fmt.Errorf("cannot read the user of pid %d: %s has Uid:%s", pid, path, value)
			}
			for i, s := range f {
				n, err := strconv.Atoi(s)
				if err != nil || n < 0 {
					return p, fmt.Errorf("cannot read the user of pid %d: %s has Uid:%s", pid, path, value)
				}
				p.uids[i] = n
			}
			uidsSeen = true
		}
	}
	if !uidsSeen {
		return p, fmt.Errorf("cannot read the user of pid %d: %s has no Uid line", pid, path)
	}
	return p, nil
}
