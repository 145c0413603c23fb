package client

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"hash"
	"strconv"
	"strings"
)

// ErrSCRAM is wrapped by every SCRAM failure, itself wrapping
// [ErrSASLFailed]: a malformed server message, a nonce that does not
// extend ours, a bad iteration count, a server error (e=) or a server
// signature (v=) that does not match, which means the server does not
// know the password and the login must not be trusted.
var ErrSCRAM = fmt.Errorf("%w: SCRAM", ErrSASLFailed)

// maxSCRAMIterations bounds the PBKDF2 work a server can ask for.
const maxSCRAMIterations = 1 << 20

// scramMech is the client side of SCRAM (RFC 5802) with SHA-1 or SHA-256
// (RFC 7677), without channel binding ("n,," GS2 header).
type scramMech struct {
	mech  string
	newH  func() hash.Hash
	user  string
	pass  string
	nonce string // client nonce

	step        int
	clientFirst string // client-first-message-bare
	serverSig   []byte
}

// newSCRAM makes a SCRAM mechanism; nonce nil means a random one (tests
// pass the RFC's).
func newSCRAM(mech, user, pass string, nonce []byte) *scramMech {
	m := &scramMech{mech: mech, user: user, pass: pass}
	if mech == "SCRAM-SHA-1" {
		m.newH = sha1.New
	} else {
		m.newH = sha256.New
	}
	if nonce == nil {
		b := make([]byte, 18)
		_, _ = rand.Read(b)
		m.nonce = base64.RawStdEncoding.EncodeToString(b)
	} else {
		m.nonce = string(nonce)
	}
	return m
}

func (m *scramMech) name() string { return m.mech }

// scramEscape encodes a username as RFC 5802 saslname: '=' and ','
// become "=3D" and "=2C".
func scramEscape(s string) string {
	s = strings.ReplaceAll(s, "=", "=3D")
	return strings.ReplaceAll(s, ",", "=2C")
}

func (m *scramMech) start() ([]byte, error) {
	m.clientFirst = "n=" + scramEscape(m.user) + ",r=" + m.nonce
	m.step = 1
	return []byte("n,," + m.clientFirst), nil
}

// parseSCRAM splits "a=1,b=2" into attributes; a repeated or malformed
// attribute is an error.
func parseSCRAM(msg string) (map[byte]string, error) {
	attrs := make(map[byte]string)
	for part := range strings.SplitSeq(msg, ",") {
		if len(part) < 2 || part[1] != '=' {
			return nil, fmt.Errorf("%w: malformed attribute %q", ErrSCRAM, part)
		}
		if _, dup := attrs[part[0]]; dup {
			return nil, fmt.Errorf("%w: repeated attribute %q", ErrSCRAM, part[:1])
		}
		attrs[part[0]] = part[2:]
	}
	return attrs, nil
}

func (m *scramMech) next(challenge []byte) ([]byte, error) {
	msg := string(challenge)
	attrs, err := parseSCRAM(msg)
	if err != nil {
		return nil, err
	}
	if e, ok := attrs['e']; ok {
		return nil, fmt.Errorf("%w: server error %q", ErrSCRAM, e)
	}
	switch m.step {
	case 1:
		return m.final(msg, attrs)
	case 2:
		v, ok := attrs['v']
		if !ok {
			return nil, fmt.Errorf("%w: server-final-message without v=", ErrSCRAM)
		}
		got, err := base64.StdEncoding.DecodeString(v)
		if err != nil || subtle.ConstantTimeCompare(got, m.serverSig) != 1 {
			return nil, fmt.Errorf("%w: server signature does not match", ErrSCRAM)
		}
		m.step = 3
		return nil, nil // the empty response that ends the exchange
	}
	return nil, fmt.Errorf("%w: unexpected challenge after the exchange ended", ErrSCRAM)
}

func (m *scramMech) final(serverFirst string, attrs map[byte]string) ([]byte, error) {
	if _, ok := attrs['m']; ok {
		return nil, fmt.Errorf("%w: unsupported mandatory extension", ErrSCRAM)
	}
	nonce, salt64, iter := attrs['r'], attrs['s'], attrs['i']
	if !strings.HasPrefix(nonce, m.nonce) || len(nonce) == len(m.nonce) {
		return nil, fmt.Errorf("%w: server nonce does not extend the client's", ErrSCRAM)
	}
	salt, err := base64.StdEncoding.DecodeString(salt64)
	if err != nil || len(salt) == 0 {
		return nil, fmt.Errorf("%w: bad salt", ErrSCRAM)
	}
	n, err := strconv.Atoi(iter)
	if err != nil || n < 1 || n > maxSCRAMIterations {
		return nil, fmt.Errorf("%w: bad iteration count %q (at most %d)", ErrSCRAM, iter, maxSCRAMIterations)
	}
	salted, err := pbkdf2.Key(m.newH, m.pass, salt, n, m.newH().Size())
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSCRAM, err)
	}
	clientKey := m.hmac(salted, "Client Key")
	h := m.newH()
	h.Write(clientKey)
	storedKey := h.Sum(nil)
	withoutProof := "c=biws,r=" + nonce // biws = base64("n,,")
	authMsg := m.clientFirst + "," + serverFirst + "," + withoutProof
	sig := m.hmac(storedKey, authMsg)
	proof := make([]byte, len(clientKey))
	for i := range proof {
		proof[i] = clientKey[i] ^ sig[i]
	}
	m.serverSig = m.hmac(m.hmac(salted, "Server Key"), authMsg)
	m.step = 2
	return []byte(withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof)), nil
}

func (m *scramMech) hmac(key []byte, msg string) []byte {
	h := hmac.New(m.newH, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}

// verified reports whether the server proved it knows the password.
func (m *scramMech) verified() bool { return m.step == 3 }
