package main

import (
	"bytes"
	"strconv"
)

// deliveryMarker opens the text of every message the bench sends, so that
// a receiver tells them from the server's own lines.
const deliveryMarker = "ircsock-bench "

// deliveryHeaderMax is the longest text appendDelivery writes before its
// padding: the marker, a sender index of up to 7 digits, a sequence
// number of up to 10 and a send time of up to 19, with their spaces.
const deliveryHeaderMax = len(deliveryMarker) + 7 + 1 + 10 + 1 + 19

// A delivery is one bench message as a receiver reads it back.
type delivery struct {
	sender int   // index of the sending client
	seq    int   // 0 for the sender's first message
	sent   int64 // nanoseconds since the run's clock started
}

// appendDelivery appends the text of d, padded with 'x' to size bytes.
func appendDelivery(dst []byte, d delivery, size int) []byte {
	start := len(dst)
	dst = append(dst, deliveryMarker...)
	dst = strconv.AppendInt(dst, int64(d.sender), 10)
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, int64(d.seq), 10)
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, d.sent, 10)
	if len(dst)-start < size {
		dst = append(dst, ' ')
	}
	for len(dst)-start < size {
		dst = append(dst, 'x')
	}
	return dst
}

// parseDelivery reads a bench message from one line as a server relays
// it: optional tags, optional source, PRIVMSG, a target and the text that
// appendDelivery wrote. Any other line gives ok == false. It does not
// allocate: the receive loop calls it for every line.
func parseDelivery(line []byte) (d delivery, ok bool) {
	line = bytes.TrimRight(line, "\r\n")
	if len(line) > 0 && line[0] == '@' {
		line = afterSpace(line)
	}
	if len(line) > 0 && line[0] == ':' {
		line = afterSpace(line)
	}
	const cmd = "PRIVMSG "
	if !bytes.HasPrefix(line, []byte(cmd)) {
		return d, false
	}
	line = afterSpace(line[len(cmd):]) // the target
	if len(line) < 1+len(deliveryMarker) || line[0] != ':' || string(line[1:1+len(deliveryMarker)]) != deliveryMarker {
		return d, false
	}
	line = line[1+len(deliveryMarker):]
	var sender, seq, sent int64
	if sender, line, ok = leadingInt(line, 7); !ok || len(line) == 0 || line[0] != ' ' {
		return d, false
	}
	if seq, line, ok = leadingInt(line[1:], 10); !ok || len(line) == 0 || line[0] != ' ' {
		return d, false
	}
	if sent, line, ok = leadingInt(line[1:], 19); !ok || (len(line) > 0 && line[0] != ' ') {
		return d, false
	}
	return delivery{sender: int(sender), seq: int(seq), sent: sent}, true
}

// afterSpace is b after its first space, or empty if it has none.
func afterSpace(b []byte) []byte {
	i := bytes.IndexByte(b, ' ')
	if i < 0 {
		return nil
	}
	return b[i+1:]
}

// leadingInt parses the 1 to maxDigits decimal digits that b starts with.
func leadingInt(b []byte, maxDigits int) (n int64, rest []byte, ok bool) {
	i := 0
	for i < len(b) && i < maxDigits && b[i] >= '0' && b[i] <= '9' {
		n = n*10 + int64(b[i]-'0')
		i++
	}
	if i == 0 || (i < len(b) && b[i] >= '0' && b[i] <= '9') {
		return 0, b, false
	}
	return n, b[i:], true
}
