package sock

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
)

// Buffer sizes of a WebSocket connection, kept for its life.
const (
	wsReadBuffer  = 1024
	wsWriteBuffer = 512
)

// DefaultWebSocketCloseWait is [WebSocketConfig.CloseWait] when zero.
const DefaultWebSocketCloseWait = time.Second

// DefaultWebSocketMaxRequest bounds the HTTP upgrade request, request line
// and headers, when [WebSocketConfig.MaxRequest] is zero.
const DefaultWebSocketMaxRequest = 16 << 10

// Errors of WebSocket connections. The upgrade errors are reported
// through [ListenHandler.Failed] with op "websocket" (the connection is
// answered with an HTTP error status and closed); ErrWebSocketUTF8 is the
// read error that ends a connection.
var (
	// ErrWebSocketPath means the upgrade request asked for another path
	// than [WebSocketConfig.Path]; the answer is 404.
	ErrWebSocketPath = errors.New("sock: websocket request for an unknown path")
	// ErrWebSocketOrigin means the request's Origin is not allowed by
	// [WebSocketConfig.Origins]; the answer is 403.
	ErrWebSocketOrigin = errors.New("sock: websocket Origin not allowed")
	// ErrWebSocketRequest means the upgrade request was not a valid
	// WebSocket handshake or was over [WebSocketConfig.MaxRequest].
	ErrWebSocketRequest = errors.New("sock: bad websocket upgrade request")
	// ErrWebSocketUTF8 means a text message was not valid UTF-8, which
	// RFC 6455 (8.1) says must fail the connection: it is closed with
	// status 1007. Fatal.
	ErrWebSocketUTF8 = errors.New("sock: websocket text message is not valid UTF-8")
)

// WebSocketConfig makes a [Listener] accept WebSocket connections (RFC
// 6455) instead of raw streams. Each WebSocket message carries one record
// in each direction, without its line terminator, so the same [Wheel] and
// line filters serve both: the connection given to
// [ListenHandler.Serve] is a *[WebSocketConn] that reads each message
// followed by LF and writes each line it is given as one message. The zero
// value accepts upgrades on "/" from same-host pages and non-browser
// clients, negotiates no subprotocol and sends text messages.
type WebSocketConfig struct {
	// Path is the request path upgrades are accepted on; any other gets
	// 404. Empty means "/".
	Path string
	// Origins lists the origins whose pages may connect, each an exact
	// origin ("https://irc.example.org"), a pattern of path.Match over
	// the origin ("https://*.example.org") or over its host alone
	// ("*.example.org"), or "*" for any. A page of the listener's own
	// host is always allowed, and so is a request without Origin (a
	// non-browser client, which no browser policy protects anyway).
	// Anything else gets 403, [ErrWebSocketOrigin].
	Origins []string
	// TextSubprotocols and BinarySubprotocols name the subprotocols the
	// listener accepts: the first one the client lists that appears in
	// either is chosen (the client's order of preference), and decides
	// whether this side sends text or binary messages. With none agreed
	// the connection goes on without a subprotocol and sends text. The
	// peer's messages may be either type in every case.
	TextSubprotocols, BinarySubprotocols []string
	// MaxRequest bounds the upgrade request in bytes. Zero means
	// [DefaultWebSocketMaxRequest].
	MaxRequest int
	// CloseWait bounds how long closing the connection waits for a
	// closing handshake under way (our close frame out, the peer's back).
	// Zero means [DefaultWebSocketCloseWait].
	CloseWait time.Duration
}

// WebSocketConn is a WebSocket connection as a byte stream: Read returns
// the peer's messages each ended by LF (unless it already ends with one),
// Write sends each LF-terminated line (a CR before the LF is dropped) as
// one message. Text messages are checked to be valid UTF-8 on the way in
// ([ErrWebSocketUTF8]); lines sent as text that are not valid UTF-8 have
// each invalid byte sequence replaced by U+FFFD, so that a browser is
// never sent invalid text (the IRCv3 WebSocket specification allows that
// replacement and forbids relaying invalid text). Ping frames are answered
// while a Read is pending; a close frame from the peer ends Read with
// io.EOF (statuses 1000, 1001 and none) or an error naming the status.
// Reads belong to one goroutine, writes to one other.
type WebSocketConn struct {
	ws       *websocket.Conn
	raw      net.Conn
	subproto string
	binary   bool
	origin   string

	// read side
	msg     io.Reader
	msgText bool
	last    byte // last byte of the message handed out, 0 if none
	needLF  bool // the message ended, its LF did not fit in p
	utf     utf8Stream

	// write side
	part  []byte // a line begun by a Write without its LF
	batch *batchWriter

	closeWait time.Duration
	closeMu   sync.Mutex
	closeDone chan struct{} // closed when the closing handshake ends; nil before
}

// Subprotocol returns the negotiated subprotocol, "" if none.
func (c *WebSocketConn) Subprotocol() string { return c.subproto }

// Binary reports whether this side sends binary messages (a binary
// subprotocol was negotiated) rather than text.
func (c *WebSocketConn) Binary() bool { return c.binary }

// Origin returns the Origin header of the upgrade request, "" if none.
func (c *WebSocketConn) Origin() string { return c.origin }

// NetConn returns the connection under the WebSocket (TLS or TCP), as
// *tls.Conn's method of the same name does.
func (c *WebSocketConn) NetConn() net.Conn { return c.raw }

// LocalAddr returns the local address of the connection under it.
func (c *WebSocketConn) LocalAddr() net.Addr { return c.raw.LocalAddr() }

// RemoteAddr returns the remote address of the connection under it (the
// client's, behind a trusted PROXY protocol proxy).
func (c *WebSocketConn) RemoteAddr() net.Addr { return c.raw.RemoteAddr() }

// SetDeadline sets the deadlines of the connection under it.
func (c *WebSocketConn) SetDeadline(t time.Time) error { return c.raw.SetDeadline(t) }

// SetReadDeadline sets the read deadline of the connection under it.
func (c *WebSocketConn) SetReadDeadline(t time.Time) error { return c.raw.SetReadDeadline(t) }

// SetWriteDeadline sets the write deadline of the connection under it.
func (c *WebSocketConn) SetWriteDeadline(t time.Time) error { return c.raw.SetWriteDeadline(t) }

// Read reads message bytes, each message ended by LF.
func (c *WebSocketConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if c.needLF {
		c.needLF = false
		p[0] = '\n'
		return 1, nil
	}
	for {
		if err := c.WaitRead(); err != nil {
			return 0, err
		}
		n, err := c.msg.Read(p)
		if n > 0 {
			if c.msgText && !c.utf.feed(p[:n]) {
				return 0, c.failUTF8()
			}
			c.last = p[n-1]
		}
		if err == io.EOF {
			c.msg = nil
			if c.msgText && !c.utf.complete() {
				return 0, c.failUTF8()
			}
			if c.last != '\n' {
				if n < len(p) {
					p[n] = '\n'
					n++
				} else {
					c.needLF = true
				}
			}
			return n, nil
		}
		if err != nil {
			if n > 0 {
				return n, nil // the error comes again on the next Read
			}
			return 0, c.readError(err)
		}
		if n > 0 {
			return n, nil
		}
	}
}

// WaitRead waits for the next message, if none is being read, without a
// buffer of the caller's (see [ReadWaiter]).
func (c *WebSocketConn) WaitRead() error {
	if c.needLF || c.msg != nil {
		return nil
	}
	typ, r, err := c.ws.Reader(context.Background())
	if err != nil {
		return c.readError(err)
	}
	c.msg, c.msgText, c.last = r, typ == websocket.MessageText, 0
	c.utf = utf8Stream{}
	return nil
}

var _ ReadWaiter = (*WebSocketConn)(nil)

func (c *WebSocketConn) failUTF8() error {
	c.startClose(websocket.StatusInvalidFramePayloadData, "invalid UTF-8 in a text message")
	return ErrWebSocketUTF8
}

// readError maps the peer's normal close to io.EOF.
func (c *WebSocketConn) readError(err error) error {
	switch websocket.CloseStatus(err) {
	case websocket.StatusNormalClosure, websocket.StatusGoingAway, websocket.StatusNoStatusRcvd:
		return io.EOF
	case -1:
		if errors.Is(err, net.ErrClosed) {
			return net.ErrClosed
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return io.EOF
		}
		return fmt.Errorf("sock: websocket read: %w", err)
	}
	return fmt.Errorf("sock: websocket closed by the peer: %w", err)
}

// Write sends every complete line of b as one message. The frames of
// one Write leave in one write to the connection under it, as the lines
// of one batch do on a raw connection.
func (c *WebSocketConn) Write(b []byte) (int, error) {
	c.batch.begin()
	n, err := c.writeLines(b)
	if ferr := c.batch.end(); err == nil && ferr != nil {
		// Nothing of the batch reached the peer for certain.
		return 0, fmt.Errorf("sock: websocket write: %w", ferr)
	}
	return n, err
}

func (c *WebSocketConn) writeLines(b []byte) (int, error) {
	n := 0
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			c.part = append(c.part, b...)
			return n + len(b), nil
		}
		line := b[:i]
		if len(c.part) > 0 {
			line = append(c.part, line...)
			c.part = c.part[:0]
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		typ := websocket.MessageBinary
		if !c.binary {
			typ = websocket.MessageText
			if !utf8.Valid(line) {
				line = bytes.ToValidUTF8(line, []byte("\uFFFD"))
			}
		}
		if err := c.ws.Write(context.Background(), typ, line); err != nil {
			return n, fmt.Errorf("sock: websocket write: %w", err)
		}
		n += i + 1
		b = b[i+1:]
	}
	return n, nil
}

// CloseWrite starts the closing handshake: a close frame with status 1000
// goes out after everything written, and the peer's close frame then ends
// Read with io.EOF. It returns at once.
func (c *WebSocketConn) CloseWrite() error {
	c.startClose(websocket.StatusNormalClosure, "")
	return nil
}

// startClose runs the closing handshake on a goroutine of its own, once:
// the library's Close writes the close frame, then waits for the peer's.
func (c *WebSocketConn) startClose(code websocket.StatusCode, reason string) {
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	if c.closeDone != nil {
		return
	}
	done := make(chan struct{})
	c.closeDone = done
	go func() {
		defer close(done)
		_ = c.ws.Close(code, reason)
	}()
}

// Close closes the connection. A closing handshake under way (CloseWrite,
// or a protocol error of the peer's) is given up to
// [WebSocketConfig.CloseWait] to finish first, so that its close frame is
// not cut off; otherwise the connection closes at once, without one.
func (c *WebSocketConn) Close() error {
	c.closeMu.Lock()
	done := c.closeDone
	c.closeMu.Unlock()
	if done != nil {
		t := time.NewTimer(c.closeWait)
		select {
		case <-done:
		case <-t.C:
		}
		t.Stop()
	}
	err := c.raw.Close()
	_ = c.ws.CloseNow()
	if done != nil {
		<-done // prompt: the connection under it is closed
	}
	if errors.Is(err, net.ErrClosed) && done != nil {
		err = nil // the handshake closed it
	}
	return err
}

// batchWriter is what the WebSocket library writes its frames to. During
// a [WebSocketConn.Write] it collects them, to write them at once at the
// end; otherwise (a pong, a close frame) it writes through. The library
// writes one frame at a time, under its own lock, and a control frame is
// small enough to reach here whole, so frames never interleave.
type batchWriter struct {
	mu       sync.Mutex
	raw      net.Conn
	batching bool
	buf      []byte
	err      error // sticky: the connection is broken
}

func (w *batchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return 0, w.err
	}
	if w.batching {
		w.buf = append(w.buf, p...)
		return len(p), nil
	}
	n, err := w.raw.Write(p)
	if err != nil {
		w.err = err
	}
	return n, err
}

func (w *batchWriter) begin() {
	w.mu.Lock()
	w.batching = true
	w.mu.Unlock()
}

// end writes what the batch collected.
func (w *batchWriter) end() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.batching = false
	if len(w.buf) > 0 && w.err == nil {
		if _, err := w.raw.Write(w.buf); err != nil {
			w.err = err
		}
	}
	w.buf = w.buf[:0]
	if cap(w.buf) > maxKeep {
		w.buf = nil // one burst does not pin its buffer for the connection's life
	}
	return w.err
}

// utf8Stream checks that a message arriving in pieces is valid UTF-8,
// holding at most the 3 bytes of a sequence cut between two pieces.
type utf8Stream struct {
	buf [utf8.UTFMax]byte
	n   int
}

// feed checks b, the next piece; false means invalid.
func (v *utf8Stream) feed(b []byte) bool {
	if v.n > 0 {
		for len(b) > 0 && !utf8.FullRune(v.buf[:v.n]) {
			v.buf[v.n] = b[0]
			v.n++
			b = b[1:]
		}
		if !utf8.FullRune(v.buf[:v.n]) {
			return true // still cut; wait for the next piece
		}
		if r, size := utf8.DecodeRune(v.buf[:v.n]); r == utf8.RuneError && size <= 1 || size != v.n {
			return false
		}
		v.n = 0
	}
	cut := len(b)
	for i := len(b) - 1; i >= 0 && i >= len(b)-(utf8.UTFMax-1); i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				cut = i
			}
			break
		}
	}
	if !utf8.Valid(b[:cut]) {
		return false
	}
	v.n = copy(v.buf[:], b[cut:])
	return true
}

// complete reports whether no sequence is left cut at the message's end.
func (v *utf8Stream) complete() bool { return v.n == 0 }

// upgradeWebSocket reads the HTTP upgrade request on c and answers it:
// 101 and a *WebSocketConn, or an error status, c closed and an error.
// A closed quit cuts the upgrade short.
func upgradeWebSocket(quit <-chan struct{}, c net.Conn, cfg *WebSocketConfig, timeout time.Duration) (*WebSocketConn, error) {
	_ = c.SetDeadline(time.Now().Add(timeout))
	// A watcher moves the deadline to the past when quit closes; it is
	// gone before the deadline is reset.
	done, watcher := make(chan struct{}), make(chan bool)
	go func() {
		select {
		case <-quit:
			_ = c.SetDeadline(time.Unix(1, 0))
			watcher <- true
		case <-done:
			watcher <- false
		}
	}()
	wc, err := upgrade(c, cfg)
	close(done)
	if <-watcher && err == nil {
		err = fmt.Errorf("websocket upgrade from %s: %w", c.RemoteAddr(), net.ErrClosed)
	}
	if err != nil {
		_ = c.Close()
		return nil, err
	}
	_ = c.SetDeadline(time.Time{})
	return wc, nil
}

func upgrade(c net.Conn, cfg *WebSocketConfig) (*WebSocketConn, error) {
	max := cfg.MaxRequest
	if max <= 0 {
		max = DefaultWebSocketMaxRequest
	}
	lr := &io.LimitedReader{R: c, N: int64(max)}
	// Small buffers: each idle connection keeps them (the library reads
	// frames through br and writes them through a writer on batch), and
	// bufio passes reads and writes larger than its buffer straight on.
	br := bufio.NewReaderSize(lr, wsReadBuffer)
	req, err := http.ReadRequest(br)
	if err != nil {
		if lr.N <= 0 {
			err = fmt.Errorf("%w: request over %d bytes (MaxRequest)", ErrWebSocketRequest, max)
		} else if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			err = fmt.Errorf("%w: connection closed during the request: %w", ErrWebSocketRequest, err)
		} else {
			err = fmt.Errorf("%w: %w", ErrWebSocketRequest, err)
		}
		return nil, fmt.Errorf("websocket upgrade from %s: %w", c.RemoteAddr(), err)
	}
	w := &upgradeWriter{c: c, br: br, bw: bufio.NewWriterSize(c, 1024), h: http.Header{}}
	fail := func(code int, err error) (*WebSocketConn, error) {
		http.Error(w, http.StatusText(code), code)
		_ = w.bw.Flush()
		return nil, fmt.Errorf("websocket upgrade from %s: %w", c.RemoteAddr(), err)
	}
	want := cfg.Path
	if want == "" {
		want = "/"
	}
	if req.URL.Path != want {
		return fail(http.StatusNotFound, fmt.Errorf("%w: %q, want %q", ErrWebSocketPath, req.URL.Path, want))
	}
	origin := req.Header.Get("Origin")
	if origin != "" && !originAllowed(origin, req.Host, cfg.Origins) {
		return fail(http.StatusForbidden, fmt.Errorf("%w: %q", ErrWebSocketOrigin, origin))
	}
	subproto, binary := chooseSubprotocol(req, cfg)
	opts := &websocket.AcceptOptions{
		InsecureSkipVerify: true, // the Origin was checked above
		CompressionMode:    websocket.CompressionDisabled,
	}
	if subproto != "" {
		opts.Subprotocols = []string{subproto}
	}
	ws, err := websocket.Accept(w, req, opts)
	if err != nil {
		_ = w.bw.Flush() // the error status Accept wrote
		return nil, fmt.Errorf("websocket upgrade from %s: %w: %w", c.RemoteAddr(), ErrWebSocketRequest, err)
	}
	// No limit of the library's: records are bounded by the line filter
	// above, which drops an over-long line as a per-record error, as it
	// does on a raw connection.
	ws.SetReadLimit(-1)
	wait := cfg.CloseWait
	if wait <= 0 {
		wait = DefaultWebSocketCloseWait
	}
	return &WebSocketConn{ws: ws, raw: c, subproto: subproto, binary: binary, origin: origin, closeWait: wait, batch: w.batch}, nil
}

// chooseSubprotocol picks the first subprotocol the client offers that
// the configuration accepts.
func chooseSubprotocol(req *http.Request, cfg *WebSocketConfig) (name string, binary bool) {
	for _, v := range req.Header.Values("Sec-WebSocket-Protocol") {
		for _, offered := range strings.Split(v, ",") {
			offered = strings.TrimSpace(offered)
			for _, s := range cfg.TextSubprotocols {
				if strings.EqualFold(s, offered) {
					return offered, false
				}
			}
			for _, s := range cfg.BinarySubprotocols {
				if strings.EqualFold(s, offered) {
					return offered, true
				}
			}
		}
	}
	return "", false
}

// originAllowed applies [WebSocketConfig.Origins] to an Origin header.
func originAllowed(origin, host string, allowed []string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, host) {
		return true
	}
	for _, pat := range allowed {
		target := u.Host
		if strings.Contains(pat, "://") {
			target = u.Scheme + "://" + u.Host
		}
		if pat == "*" {
			return true
		}
		if ok, err := path.Match(strings.ToLower(pat), strings.ToLower(target)); err == nil && ok {
			return true
		}
	}
	return false
}

// upgradeWriter is the http.ResponseWriter and http.Hijacker the upgrade
// needs over one connection, without an http.Server.
type upgradeWriter struct {
	c     net.Conn
	br    *bufio.Reader
	bw    *bufio.Writer
	h     http.Header
	wrote bool
	batch *batchWriter // what the connection writes frames to after Hijack
}

func (w *upgradeWriter) Header() http.Header { return w.h }

func (w *upgradeWriter) WriteHeader(code int) {
	if w.wrote {
		return
	}
	w.wrote = true
	if code != http.StatusSwitchingProtocols {
		w.h.Set("Connection", "close")
	}
	fmt.Fprintf(w.bw, "HTTP/1.1 %d %s\r\n", code, http.StatusText(code))
	_ = w.h.Write(w.bw)
	_, _ = w.bw.WriteString("\r\n")
}

func (w *upgradeWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.bw.Write(p)
}

// Hijack hands over the connection after sending the 101 response: the
// peer waits for it before its first frame.
func (w *upgradeWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if err := w.bw.Flush(); err != nil {
		return nil, nil, err
	}
	w.batch = &batchWriter{raw: w.c}
	return w.c, bufio.NewReadWriter(w.br, bufio.NewWriterSize(w.batch, wsWriteBuffer)), nil
}
