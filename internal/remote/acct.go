package remote

import "strings"

// maxAcctLength bounds an acct: one of the longest username and host is
// far shorter.
const maxAcctLength = 512

// Acct is a user@host address.
type Acct struct {
	User, Host string
}

func (a Acct) String() string { return a.User + "@" + a.Host }

// ParseAcct reads "acct:user@host", "user@host" or "@user@host". The user
// part is what a username may be (letters, digits, underscores, dots and
// dashes, as peers allow) and the host a DNS name with an optional port;
// both are lower-cased hosts, the user kept as written (usernames are
// matched without regard to case).
func ParseAcct(s string) (Acct, bool) {
	if len(s) > maxAcctLength {
		return Acct{}, false
	}
	s = strings.TrimPrefix(s, "acct:")
	s = strings.TrimPrefix(s, "@")
	user, host, ok := strings.Cut(s, "@")
	if !ok || user == "" || host == "" || len(user) > 64 {
		return Acct{}, false
	}
	for _, c := range []byte(user) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return Acct{}, false
		}
	}
	host = strings.ToLower(host)
	if !validHost(host) {
		return Acct{}, false
	}
	return Acct{User: user, Host: host}, true
}

// validHost accepts a DNS name (labels of letters, digits and dashes) with
// an optional numeric port.
func validHost(h string) bool {
	name, port, hasPort := strings.Cut(h, ":")
	if hasPort {
		if port == "" || len(port) > 5 {
			return false
		}
		for _, c := range []byte(port) {
			if c < '0' || c > '9' {
				return false
			}
		}
	}
	if name == "" || len(name) > 253 {
		return false
	}
	for label := range strings.SplitSeq(name, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range []byte(label) {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}
