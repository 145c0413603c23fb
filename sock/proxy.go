package sock

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"syscall"
)

// PROXY protocol (HAProxy's "The PROXY protocol", versions 1 and 2): a
// proxy that accepts a client's connection opens its own to us and sends,
// before anything else, a header naming the client's address.

// Limits of the PROXY protocol headers.
const (
	// ProxyV1Max is the longest version 1 header the specification
	// allows, "PROXY" to CR LF included.
	ProxyV1Max = 107
	// DefaultProxyMaxHeader bounds a version 2 header, its 16 fixed bytes
	// and its address and TLV block, when [ListenConfig.ProxyMaxHeader]
	// is zero. The specification asks receivers to handle at least 536
	// bytes; a proxy adding TLVs (TLS details, unique ids) may need more.
	DefaultProxyMaxHeader = 4096
	// proxyMinHeader is the shortest header of either version:
	// "PROXY UNKNOWN\r\n" is 15 bytes, a version 2 header 16.
	proxyMinHeader = 15
)

// proxyV2Sig opens every version 2 header.
var proxyV2Sig = []byte("\r\n\r\n\x00\r\nQUIT\n")

var proxyV1Sig = []byte("PROXY ")

// Errors of the PROXY protocol, the causes of [OpProxy] failures in a
// [ListenEvent]; each refuses (closes) the one connection concerned.
var (
	// ErrProxyMissing means a connection from a trusted proxy network
	// did not start with a PROXY header (see [ListenConfig.ProxyOptional]).
	ErrProxyMissing = errors.New("sock: no PROXY protocol header from a trusted proxy")
	// ErrProxyUntrusted means a connection from outside the trusted proxy
	// networks sent a PROXY header: it is never believed.
	ErrProxyUntrusted = errors.New("sock: PROXY protocol header from an untrusted address")
	// ErrProxyMalformed means the header did not follow the specification.
	ErrProxyMalformed = errors.New("sock: malformed PROXY protocol header")
	// ErrProxyTooLong means a header was longer than allowed: ProxyV1Max
	// for version 1, [ListenConfig.ProxyMaxHeader] for version 2.
	ErrProxyTooLong = errors.New("sock: PROXY protocol header too long (ProxyMaxHeader)")
)

// ProxyHeader is what a PROXY protocol header says.
type ProxyHeader struct {
	// Version is 1 or 2.
	Version int
	// Local is true for a header that names no client: a version 2 LOCAL
	// command (the proxy's own connection, such as a health check), a
	// version 1 UNKNOWN, or a version 2 address family other than IPv4
	// and IPv6. The connection's own address stays in use.
	Local bool
	// Source and Dest are the client's address and the address it
	// connected to, unmapped; invalid when Local.
	Source, Dest netip.AddrPort
	// Len is the header's length in bytes.
	Len int
}

// ReadProxyHeader reads one PROXY protocol header (version 1 or 2) from r
// and nothing after it, so that what follows on r is the proxied stream
// itself. maxV2 bounds a version 2 header (zero means
// [DefaultProxyMaxHeader]). A stream that does not start with a header
// fails with [ErrProxyMissing] once the bytes read (returned as seen)
// cannot begin one; a broken header with [ErrProxyMalformed] or
// [ErrProxyTooLong]; a stream that ends early with io.ErrUnexpectedEOF;
// a read error is returned as is.
func ReadProxyHeader(r io.Reader, maxV2 int) (h ProxyHeader, seen []byte, err error) {
	if maxV2 <= 0 {
		maxV2 = DefaultProxyMaxHeader
	}
	buf := make([]byte, 0, 64)
	// Read no further than the shortest header until the version is known,
	// and give up as soon as the bytes cannot begin a header, so that a
	// peer that sends a few bytes and waits is not kept waiting.
	for {
		switch proxyPrefix(buf) {
		case prefixNone:
			return h, buf, ErrProxyMissing
		case prefixV1:
			return readProxyV1(r, buf)
		case prefixV2:
			return readProxyV2(r, buf, maxV2)
		}
		n, err := r.Read(buf[len(buf):proxyMinHeader])
		buf = buf[:len(buf)+n]
		if err != nil && n == 0 {
			if err == io.EOF {
				if len(buf) == 0 {
					return h, buf, io.EOF
				}
				err = io.ErrUnexpectedEOF
			}
			return h, buf, err
		}
	}
}

type prefixKind int

const (
	prefixMaybe prefixKind = iota // too short to tell
	prefixNone                    // cannot be a header
	prefixV1                      // "PROXY "
	prefixV2                      // the 12-byte signature
)

// proxyPrefix tells what the first bytes of a stream can be.
func proxyPrefix(b []byte) prefixKind {
	switch {
	case bytes.HasPrefix(b, proxyV1Sig):
		return prefixV1
	case bytes.HasPrefix(b, proxyV2Sig):
		return prefixV2
	case bytes.HasPrefix(proxyV1Sig, b), bytes.HasPrefix(proxyV2Sig, b):
		return prefixMaybe
	}
	return prefixNone
}

// readProxyV1 reads up to the LF one byte at a time: the header has no
// length field, and reading past it would take bytes of the stream.
func readProxyV1(r io.Reader, buf []byte) (ProxyHeader, []byte, error) {
	for {
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			if i != len(buf)-1 {
				// Only reachable when the first read went past LF, which
				// proxyMinHeader rules out for a valid header.
				return ProxyHeader{}, buf, fmt.Errorf("%w: data after LF in the first %d bytes", ErrProxyMalformed, proxyMinHeader)
			}
			h, err := ParseProxyV1(buf)
			return h, buf, err
		}
		if len(buf) >= ProxyV1Max {
			return ProxyHeader{}, buf, fmt.Errorf("%w: version 1 header over %d bytes", ErrProxyTooLong, ProxyV1Max)
		}
		var one [1]byte
		n, err := r.Read(one[:])
		if n == 1 {
			buf = append(buf, one[0])
			continue
		}
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		if err != nil {
			return ProxyHeader{}, buf, err
		}
	}
}

// ParseProxyV1 parses a complete version 1 header, from "PROXY " to CR LF.
func ParseProxyV1(b []byte) (ProxyHeader, error) {
	h := ProxyHeader{Version: 1, Len: len(b)}
	if len(b) > ProxyV1Max {
		return h, fmt.Errorf("%w: version 1 header over %d bytes", ErrProxyTooLong, ProxyV1Max)
	}
	line, ok := bytes.CutSuffix(b, []byte("\r\n"))
	if !ok || !bytes.HasPrefix(line, proxyV1Sig) {
		return h, fmt.Errorf("%w: version 1 header must be \"PROXY ...\\r\\n\"", ErrProxyMalformed)
	}
	f := bytes.Split(line[len(proxyV1Sig):], []byte(" "))
	if string(f[0]) == "UNKNOWN" {
		// The specification: the receiver must ignore anything after
		// UNKNOWN and use the connection's own address.
		h.Local = true
		return h, nil
	}
	if len(f) != 5 {
		return h, fmt.Errorf("%w: version 1 header has %d fields, want protocol, 2 addresses and 2 ports", ErrProxyMalformed, len(f))
	}
	var want6 bool
	switch string(f[0]) {
	case "TCP4":
	case "TCP6":
		want6 = true
	default:
		return h, fmt.Errorf("%w: version 1 protocol %q", ErrProxyMalformed, f[0])
	}
	var addrs [2]netip.Addr
	for i := range addrs {
		a, err := netip.ParseAddr(string(f[1+i]))
		if err != nil || a.Zone() != "" || a.Is6() != want6 {
			return h, fmt.Errorf("%w: version 1 %s address %q", ErrProxyMalformed, f[0], f[1+i])
		}
		addrs[i] = a.Unmap()
	}
	var ports [2]uint16
	for i := range ports {
		s := string(f[3+i])
		p, err := strconv.ParseUint(s, 10, 16)
		if err != nil || (len(s) > 1 && s[0] == '0') {
			return h, fmt.Errorf("%w: version 1 port %q", ErrProxyMalformed, s)
		}
		ports[i] = uint16(p)
	}
	h.Source = netip.AddrPortFrom(addrs[0], ports[0])
	h.Dest = netip.AddrPortFrom(addrs[1], ports[1])
	return h, nil
}

// readProxyV2 reads the fixed 16 bytes, then exactly the length they
// announce.
func readProxyV2(r io.Reader, buf []byte, maxV2 int) (ProxyHeader, []byte, error) {
	if have := len(buf); have < 16 {
		buf = buf[:16]
		if n, err := io.ReadFull(r, buf[have:]); err != nil {
			buf = buf[:have+n]
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return ProxyHeader{}, buf, err
		}
	}
	total := 16 + int(binary.BigEndian.Uint16(buf[14:16]))
	if total > maxV2 {
		return ProxyHeader{Version: 2, Len: total}, buf, fmt.Errorf("%w: version 2 header of %d bytes, limit %d", ErrProxyTooLong, total, maxV2)
	}
	full := make([]byte, total)
	copy(full, buf)
	if _, err := io.ReadFull(r, full[16:]); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return ProxyHeader{}, buf, err
	}
	h, err := ParseProxyV2(full)
	return h, full, err
}

// ParseProxyV2 parses a complete version 2 header: the signature, the
// version and command, the family, the length and the block it announces.
// TLVs after the addresses are skipped.
func ParseProxyV2(b []byte) (ProxyHeader, error) {
	h := ProxyHeader{Version: 2, Len: len(b)}
	if len(b) < 16 || !bytes.Equal(b[:12], proxyV2Sig) {
		return h, fmt.Errorf("%w: version 2 signature", ErrProxyMalformed)
	}
	if n := 16 + int(binary.BigEndian.Uint16(b[14:16])); n != len(b) {
		return h, fmt.Errorf("%w: version 2 length field says %d bytes, header has %d", ErrProxyMalformed, n, len(b))
	}
	if b[12]>>4 != 2 {
		return h, fmt.Errorf("%w: version 2 header with version nibble %d", ErrProxyMalformed, b[12]>>4)
	}
	body := b[16:]
	switch b[12] & 0x0f {
	case 0: // LOCAL: the proxy speaking for itself; the block is ignored.
		h.Local = true
		return h, nil
	case 1: // PROXY
	default:
		return h, fmt.Errorf("%w: version 2 command %d", ErrProxyMalformed, b[12]&0x0f)
	}
	switch b[13] >> 4 {
	case 1: // AF_INET: 4+4 address bytes, 2+2 port bytes
		if len(body) < 12 {
			return h, fmt.Errorf("%w: version 2 IPv4 block of %d bytes, want 12", ErrProxyMalformed, len(body))
		}
		h.Source = netip.AddrPortFrom(netip.AddrFrom4([4]byte(body[0:4])), binary.BigEndian.Uint16(body[8:10]))
		h.Dest = netip.AddrPortFrom(netip.AddrFrom4([4]byte(body[4:8])), binary.BigEndian.Uint16(body[10:12]))
	case 2: // AF_INET6: 16+16 address bytes, 2+2 port bytes
		if len(body) < 36 {
			return h, fmt.Errorf("%w: version 2 IPv6 block of %d bytes, want 36", ErrProxyMalformed, len(body))
		}
		src := netip.AddrFrom16([16]byte(body[0:16])).Unmap()
		dst := netip.AddrFrom16([16]byte(body[16:32])).Unmap()
		h.Source = netip.AddrPortFrom(src, binary.BigEndian.Uint16(body[32:34]))
		h.Dest = netip.AddrPortFrom(dst, binary.BigEndian.Uint16(body[34:36]))
	default:
		// AF_UNSPEC or AF_UNIX: nothing usable as a remote address; the
		// specification says to accept it and use the real one.
		h.Local = true
	}
	return h, nil
}

// proxiedConn is a connection whose remote address came from a PROXY
// header. Reads and writes go to the socket itself.
type proxiedConn struct {
	net.Conn
	remote *net.TCPAddr
}

func (c *proxiedConn) RemoteAddr() net.Addr { return c.remote }

// NetConn returns the socket, as *tls.Conn's method of the same name does.
func (c *proxiedConn) NetConn() net.Conn { return c.Conn }

// SyscallConn lets a [Wheel] read the socket's descriptor directly: the
// header was read exactly, so no byte of the stream is held here.
func (c *proxiedConn) SyscallConn() (syscall.RawConn, error) {
	sc, ok := c.Conn.(syscall.Conn)
	if !ok {
		return nil, errors.ErrUnsupported
	}
	return sc.SyscallConn()
}

// replayConn hands back bytes read ahead before reading the socket again:
// the first bytes of a trusted peer that sent no header
// ([ListenConfig.ProxyOptional]).
type replayConn struct {
	net.Conn
	ahead []byte
}

func (c *replayConn) Read(p []byte) (int, error) {
	if len(c.ahead) > 0 {
		n := copy(p, c.ahead)
		c.ahead = c.ahead[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// NetConn returns the socket.
func (c *replayConn) NetConn() net.Conn { return c.Conn }

// guardConn watches the first bytes an untrusted peer sends on a
// listener with trusted proxies: a PROXY header there fails the read
// with [ErrProxyUntrusted] instead of reaching the application. The bytes
// are passed on as soon as they cannot begin a header.
type guardConn struct {
	net.Conn
	report  func(error)
	checked bool
	ahead   []byte // read, not yet known to be safe or handed on
}

func (c *guardConn) Read(p []byte) (int, error) {
	for !c.checked {
		var tmp [12]byte
		n, err := c.Conn.Read(tmp[:len(proxyV2Sig)-len(c.ahead)])
		c.ahead = append(c.ahead, tmp[:n]...)
		switch proxyPrefix(c.ahead) {
		case prefixV1, prefixV2:
			err := fmt.Errorf("%w: refused %s", ErrProxyUntrusted, c.RemoteAddr())
			c.report(err)
			return 0, err
		case prefixNone:
			c.checked = true
		}
		if err != nil {
			if len(c.ahead) == 0 || !c.checked {
				return 0, err
			}
			break
		}
	}
	if len(c.ahead) > 0 {
		n := copy(p, c.ahead)
		c.ahead = c.ahead[n:]
		if len(c.ahead) == 0 {
			c.ahead = nil
		}
		return n, nil
	}
	return c.Conn.Read(p)
}

// NetConn returns the socket.
func (c *guardConn) NetConn() net.Conn { return c.Conn }

// closeWrite half-closes c when it can, so that a wrapper keeps the
// graceful disconnect of the socket under it (see [Wheel.Disconnect]).
func closeWrite(c net.Conn) error {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

// CloseWrite shuts down the socket's write side.
func (c *proxiedConn) CloseWrite() error { return closeWrite(c.Conn) }

// CloseWrite shuts down the socket's write side.
func (c *replayConn) CloseWrite() error { return closeWrite(c.Conn) }

// CloseWrite shuts down the socket's write side.
func (c *guardConn) CloseWrite() error { return closeWrite(c.Conn) }
