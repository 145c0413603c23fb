package client

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// A mechanism is one SASL exchange: start gives the initial response,
// next answers each server challenge. Both return the raw (not yet
// base64) bytes to send; done reports that the client has nothing more to
// check (SCRAM sets it after verifying the server signature).
type mechanism interface {
	name() string
	start() ([]byte, error)
	next(challenge []byte) ([]byte, error)
}

func newMechanism(name string, s SASL, nick string) (mechanism, error) {
	user := s.Username
	if user == "" {
		user = nick
	}
	switch strings.ToUpper(name) {
	case "PLAIN":
		return &plainMech{user: user, pass: s.Password}, nil
	case "EXTERNAL":
		return externalMech{}, nil
	case "SCRAM-SHA-256":
		return newSCRAM("SCRAM-SHA-256", user, s.Password, nil), nil
	case "SCRAM-SHA-1":
		return newSCRAM("SCRAM-SHA-1", user, s.Password, nil), nil
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknownMechanism, name)
}

// plainMech is RFC 4616 PLAIN: authzid NUL authcid NUL password, with an
// empty authzid (the account logged into is the one authenticated).
type plainMech struct{ user, pass string }

func (m *plainMech) name() string { return "PLAIN" }
func (m *plainMech) start() ([]byte, error) {
	return []byte("\x00" + m.user + "\x00" + m.pass), nil
}
func (m *plainMech) next([]byte) ([]byte, error) {
	return nil, fmt.Errorf("%w: PLAIN got a second challenge", ErrSASLFailed)
}

// externalMech is RFC 4422 EXTERNAL: the TLS client certificate is the
// credential; the response is empty (no authzid).
type externalMech struct{}

func (externalMech) name() string           { return "EXTERNAL" }
func (externalMech) start() ([]byte, error) { return nil, nil }
func (externalMech) next([]byte) ([]byte, error) {
	return nil, fmt.Errorf("%w: EXTERNAL got a second challenge", ErrSASLFailed)
}

// saslChunk is the most base64 bytes in one AUTHENTICATE (IRCv3 sasl).
const saslChunk = 400

// authenticateLines splits a response into AUTHENTICATE parameters: the
// base64 text in 400-byte pieces, then "+" when the text is empty or its
// last piece is exactly 400 bytes long (so the server knows it ended).
func authenticateLines(raw []byte) []string {
	enc := base64.StdEncoding.EncodeToString(raw)
	var out []string
	for len(enc) >= saslChunk {
		out = append(out, enc[:saslChunk])
		enc = enc[saslChunk:]
	}
	if enc == "" {
		out = append(out, "+")
	} else {
		out = append(out, enc)
	}
	return out
}

// authBuffer reassembles a server's AUTHENTICATE challenge from its
// chunks. Feed returns done once a chunk shorter than 400 bytes (or "+")
// ends it; the result is the decoded challenge.
type authBuffer struct {
	buf strings.Builder
	max int
}

func (a *authBuffer) feed(param string) (raw []byte, done bool, err error) {
	if param != "+" {
		if a.buf.Len()+len(param) > a.max {
			a.buf.Reset()
			return nil, true, fmt.Errorf("%w: more than %d bytes", ErrSASLTooLong, a.max)
		}
		a.buf.WriteString(param)
	}
	if param != "+" && len(param) >= saslChunk {
		return nil, false, nil
	}
	enc := a.buf.String()
	a.buf.Reset()
	raw, err = base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return nil, true, fmt.Errorf("%w: challenge is not base64: %v", ErrSASLFailed, err)
	}
	return raw, true, nil
}
