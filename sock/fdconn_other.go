//go:build !linux

package sock

import (
	"net"
	"net/netip"
)

// canFD is false where FDConns are not built: [ListenConfig.FDConns] is
// ignored and connections are *net.TCPConn.
const canFD = false

// FDConn is a bare socket descriptor as a net.Conn; this system has none
// (see the Linux build).
type FDConn struct{ net.Conn }

func fdConnOf(c net.Conn, _ **netip.AddrPort) net.Conn { return c }
