package httpsig

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
)

// The subset of Structured Field Values (RFC 8941) that RFC 9421's
// Signature-Input and Signature headers use: a dictionary whose members are
// inner lists of strings (the covered components) or byte sequences (the
// signatures), each with parameters. Decimals and dates are refused, as no
// signature parameter is one.

// Bounds on what a peer can make the parser hold.
const (
	maxFieldLength = 8 << 10
	maxMembers     = 8
	maxListItems   = 32
	maxParams      = 16
)

type sfKind int

const (
	sfInteger sfKind = iota
	sfString
	sfToken
	sfBytes
	sfBoolean
)

// sfItem is a bare item.
type sfItem struct {
	kind  sfKind
	str   string // string, token
	num   int64  // integer
	bytes []byte // byte sequence
	bool  bool
}

type sfParam struct {
	key   string
	value sfItem
}

// sfMember is a dictionary member: an item or an inner list, with parameters.
type sfMember struct {
	name   string
	isList bool
	item   sfItem
	list   []sfListItem
	params []sfParam
}

type sfListItem struct {
	item   sfItem
	params []sfParam
}

func (m *sfMember) param(key string) (sfItem, bool) {
	for _, p := range m.params {
		if p.key == key {
			return p.value, true
		}
	}
	return sfItem{}, false
}

var errSF = errors.New("malformed structured field")

type sfParser struct {
	s string
	i int
}

// parseDictionary parses a whole field value. A repeated key keeps its last
// value, as RFC 8941 says.
func parseDictionary(s string) ([]sfMember, error) {
	if len(s) > maxFieldLength {
		return nil, errSF
	}
	p := &sfParser{s: s}
	p.skipSP()
	var out []sfMember
	for p.i < len(p.s) {
		key, err := p.key()
		if err != nil {
			return nil, err
		}
		m := sfMember{name: key}
		if p.peek() == '=' {
			p.i++
			if p.peek() == '(' {
				m.isList = true
				if m.list, err = p.innerList(); err != nil {
					return nil, err
				}
			} else if m.item, err = p.bareItem(); err != nil {
				return nil, err
			}
		} else {
			m.item = sfItem{kind: sfBoolean, bool: true}
		}
		if m.params, err = p.parameters(); err != nil {
			return nil, err
		}
		replaced := false
		for i := range out {
			if out[i].name == key {
				out[i], replaced = m, true
			}
		}
		if !replaced {
			if len(out) == maxMembers {
				return nil, errSF
			}
			out = append(out, m)
		}
		p.skipOWS()
		if p.i == len(p.s) {
			return out, nil
		}
		if p.peek() != ',' {
			return nil, errSF
		}
		p.i++
		p.skipOWS()
		if p.i == len(p.s) {
			return nil, errSF // a trailing comma
		}
	}
	return out, nil
}

func (p *sfParser) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *sfParser) skipSP() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *sfParser) skipOWS() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *sfParser) key() (string, error) {
	start := p.i
	c := p.peek()
	if !(c >= 'a' && c <= 'z') && c != '*' {
		return "", errSF
	}
	for p.i < len(p.s) {
		c := p.s[p.i]
		if (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' || c == '*' {
			p.i++
			continue
		}
		break
	}
	return p.s[start:p.i], nil
}

func (p *sfParser) innerList() ([]sfListItem, error) {
	p.i++ // (
	var out []sfListItem
	for p.i < len(p.s) {
		p.skipSP()
		if p.peek() == ')' {
			p.i++
			return out, nil
		}
		if len(out) == maxListItems {
			return nil, errSF
		}
		it, err := p.bareItem()
		if err != nil {
			return nil, err
		}
		params, err := p.parameters()
		if err != nil {
			return nil, err
		}
		out = append(out, sfListItem{item: it, params: params})
		if c := p.peek(); c != ' ' && c != ')' {
			return nil, errSF
		}
	}
	return nil, errSF // no closing parenthesis
}

func (p *sfParser) parameters() ([]sfParam, error) {
	var out []sfParam
	for p.peek() == ';' {
		p.i++
		p.skipSP()
		key, err := p.key()
		if err != nil {
			return nil, err
		}
		v := sfItem{kind: sfBoolean, bool: true}
		if p.peek() == '=' {
			p.i++
			if v, err = p.bareItem(); err != nil {
				return nil, err
			}
		}
		replaced := false
		for i := range out {
			if out[i].key == key {
				out[i].value, replaced = v, true
			}
		}
		if !replaced {
			if len(out) == maxParams {
				return nil, errSF
			}
			out = append(out, sfParam{key: key, value: v})
		}
	}
	return out, nil
}

func (p *sfParser) bareItem() (sfItem, error) {
	switch c := p.peek(); {
	case c == '-' || (c >= '0' && c <= '9'):
		return p.integer()
	case c == '"':
		return p.str()
	case c == ':':
		return p.byteSeq()
	case c == '?':
		return p.boolean()
	case (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '*':
		return p.token()
	}
	return sfItem{}, errSF
}

func (p *sfParser) integer() (sfItem, error) {
	start := p.i
	if p.peek() == '-' {
		p.i++
	}
	digits := p.i
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		p.i++
	}
	if p.i == digits || p.i-digits > 15 || p.peek() == '.' {
		return sfItem{}, errSF // no digits, too long, or a decimal
	}
	n, err := strconv.ParseInt(p.s[start:p.i], 10, 64)
	if err != nil {
		return sfItem{}, errSF
	}
	return sfItem{kind: sfInteger, num: n}, nil
}

func (p *sfParser) str() (sfItem, error) {
	p.i++ // "
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		switch {
		case c == '\\':
			if p.i == len(p.s) {
				return sfItem{}, errSF
			}
			next := p.s[p.i]
			p.i++
			if next != '"' && next != '\\' {
				return sfItem{}, errSF
			}
			b.WriteByte(next)
		case c == '"':
			return sfItem{kind: sfString, str: b.String()}, nil
		case c < 0x20 || c > 0x7e:
			return sfItem{}, errSF
		default:
			b.WriteByte(c)
		}
	}
	return sfItem{}, errSF
}

func (p *sfParser) token() (sfItem, error) {
	start := p.i
	p.i++
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c > 0x20 && c < 0x7f && !strings.ContainsRune(`"(),;<=>?@[\]{}`, rune(c)) || c == ':' || c == '/' {
			p.i++
			continue
		}
		break
	}
	return sfItem{kind: sfToken, str: p.s[start:p.i]}, nil
}

func (p *sfParser) byteSeq() (sfItem, error) {
	p.i++ // :
	end := strings.IndexByte(p.s[p.i:], ':')
	if end < 0 {
		return sfItem{}, errSF
	}
	enc := p.s[p.i : p.i+end]
	p.i += end + 1
	for _, c := range []byte(enc) {
		if !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=') {
			return sfItem{}, errSF
		}
	}
	b, err := base64.StdEncoding.Strict().DecodeString(enc)
	if err != nil {
		return sfItem{}, errSF
	}
	return sfItem{kind: sfBytes, bytes: b}, nil
}

func (p *sfParser) boolean() (sfItem, error) {
	if p.i+1 >= len(p.s) {
		return sfItem{}, errSF
	}
	c := p.s[p.i+1]
	p.i += 2
	switch c {
	case '1':
		return sfItem{kind: sfBoolean, bool: true}, nil
	case '0':
		return sfItem{kind: sfBoolean}, nil
	}
	return sfItem{}, errSF
}

// serializeInnerList writes an inner list and its parameters canonically:
// the "@signature-params" line of a signature base (RFC 9421 §2.3).
func serializeInnerList(list []sfListItem, params []sfParam) string {
	var b strings.Builder
	b.WriteByte('(')
	for i, it := range list {
		if i > 0 {
			b.WriteByte(' ')
		}
		writeItem(&b, it.item)
		writeParams(&b, it.params)
	}
	b.WriteByte(')')
	writeParams(&b, params)
	return b.String()
}

func writeParams(b *strings.Builder, params []sfParam) {
	for _, p := range params {
		b.WriteByte(';')
		b.WriteString(p.key)
		if p.value.kind == sfBoolean && p.value.bool {
			continue
		}
		b.WriteByte('=')
		writeItem(b, p.value)
	}
}

func writeItem(b *strings.Builder, it sfItem) {
	switch it.kind {
	case sfInteger:
		b.WriteString(strconv.FormatInt(it.num, 10))
	case sfString:
		b.WriteByte('"')
		for i := 0; i < len(it.str); i++ {
			if c := it.str[i]; c == '"' || c == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(it.str[i])
		}
		b.WriteByte('"')
	case sfToken:
		b.WriteString(it.str)
	case sfBytes:
		b.WriteByte(':')
		b.WriteString(base64.StdEncoding.EncodeToString(it.bytes))
		b.WriteByte(':')
	case sfBoolean:
		if it.bool {
			b.WriteString("?1")
		} else {
			b.WriteString("?0")
		}
	}
}
