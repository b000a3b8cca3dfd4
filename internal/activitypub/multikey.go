package activitypub

import (
	"crypto/ed25519"
	"errors"
	"math/big"
)

// ed25519Multicodec is the multicodec prefix of an Ed25519 public key
// (0xed, as an unsigned varint).
var ed25519Multicodec = []byte{0xed, 0x01}

const base58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

// EncodeMultikey writes an Ed25519 public key as FEP-521a's
// publicKeyMultibase: "z" (base58btc) over the multicodec prefix and the
// 32 key bytes.
func EncodeMultikey(pub ed25519.PublicKey) string {
	return "z" + base58Encode(append(append([]byte(nil), ed25519Multicodec...), pub...))
}

// DecodeMultikey reads an Ed25519 publicKeyMultibase.
func DecodeMultikey(s string) (ed25519.PublicKey, error) {
	if len(s) < 2 || len(s) > 64 || s[0] != 'z' {
		return nil, errors.New("multikey: not base58btc")
	}
	b, err := base58Decode(s[1:])
	if err != nil {
		return nil, err
	}
	if len(b) != 2+ed25519.PublicKeySize || b[0] != ed25519Multicodec[0] || b[1] != ed25519Multicodec[1] {
		return nil, errors.New("multikey: not an Ed25519 public key")
	}
	return ed25519.PublicKey(b[2:]), nil
}

func base58Encode(b []byte) string {
	n := new(big.Int).SetBytes(b)
	radix, mod := big.NewInt(58), new(big.Int)
	var out []byte
	for n.Sign() > 0 {
		n.DivMod(n, radix, mod)
		out = append(out, base58Alphabet[mod.Int64()])
	}
	for _, c := range b {
		if c != 0 {
			break
		}
		out = append(out, '1')
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return string(out)
}

func base58Decode(s string) ([]byte, error) {
	n := new(big.Int)
	radix := big.NewInt(58)
	zeros := 0
	for i := 0; i < len(s) && s[i] == '1'; i++ {
		zeros++
	}
	for i := 0; i < len(s); i++ {
		d := -1
		for j := 0; j < len(base58Alphabet); j++ {
			if base58Alphabet[j] == s[i] {
				d = j
				break
			}
		}
		if d < 0 {
			return nil, errors.New("multikey: not base58")
		}
		n.Mul(n, radix)
		n.Add(n, big.NewInt(int64(d)))
	}
	return append(make([]byte, zeros), n.Bytes()...), nil
}
