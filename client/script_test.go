package client_test

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ircsock/ircsock/client"
	"github.com/ircsock/ircsock/ircmsg"
)

// A scripted peer is a loopback server whose every line the test writes.
// It is used only for what no server installed here does: CAP LS over
// several lines, 908 mechanism lists, SCRAM (Debian's Atheme 7.2 has
// none), AUTHENTICATE challenges longer than one line, and a server that
// stops answering.
type peer struct {
	t  *testing.T
	ln net.Listener
	c  net.Conn
	r  *bufio.Reader
}

func listenPeer(t *testing.T) *peer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &peer{t: t, ln: ln}
	t.Cleanup(func() {
		ln.Close()
		if p.c != nil {
			p.c.Close()
		}
	})
	return p
}

func (p *peer) addr() string { return p.ln.Addr().String() }

func (p *peer) accept() {
	p.t.Helper()
	_ = p.ln.(*net.TCPListener).SetDeadline(time.Now().Add(step))
	c, err := p.ln.Accept()
	if err != nil {
		p.t.Fatalf("accept: %v", err)
	}
	p.c, p.r = c, bufio.NewReader(c)
	// Registered after the client's cleanup, so it runs first: the
	// client's QUIT then meets a closed peer instead of waiting out its
	// drain time.
	p.t.Cleanup(func() { c.Close() })
}

// line reads the client's next line.
func (p *peer) line() string {
	p.t.Helper()
	_ = p.c.SetReadDeadline(time.Now().Add(step))
	l, err := p.r.ReadString('\n')
	if err != nil {
		p.t.Fatalf("read from the client: %v", err)
	}
	return strings.TrimRight(l, "\r\n")
}

// expect reads the next line and checks that it starts with prefix.
func (p *peer) expect(prefix string) string {
	p.t.Helper()
	l := p.line()
	if !strings.HasPrefix(l, prefix) {
		p.t.Fatalf("client sent %q, want a line starting %q", l, prefix)
	}
	return l
}

func (p *peer) send(lines ...string) {
	p.t.Helper()
	for _, l := range lines {
		if _, err := fmt.Fprintf(p.c, "%s\r\n", l); err != nil {
			p.t.Fatalf("write to the client: %v", err)
		}
	}
}

// open reads the client's opening (CAP LS 302, NICK, USER).
func (p *peer) open() {
	p.t.Helper()
	p.accept()
	p.expect("CAP LS 302")
	p.expect("NICK ")
	p.expect("USER ")
}

func (p *peer) welcome(nick string) {
	p.send(":srv 001 " + nick + " :Welcome")
}

func reqCaps(line string) []string {
	_, list, _ := strings.Cut(line, "CAP REQ ")
	caps := strings.Fields(strings.TrimPrefix(list, ":"))
	slices.Sort(caps)
	return caps
}

func TestCapLSMultiline(t *testing.T) {
	p := listenPeer(t)
	c := newTClient(t, "multi", client.Config{Addr: p.addr(), Nick: "multi", Caps: []string{"echo-message"}}).start()
	p.open()
	p.send(":srv CAP * LS * :multi-prefix sasl=PLAIN,EXTERNAL unknown-cap",
		":srv CAP * LS :server-time echo-message draft/other=1,2")
	req := p.expect("CAP REQ ")
	if got, want := reqCaps(req), []string{"echo-message", "multi-prefix", "server-time"}; !slices.Equal(got, want) {
		t.Errorf("CAP REQ %v, want %v (only wanted and offered, after the last LS line)", got, want)
	}
	p.send(":srv CAP multi ACK :multi-prefix server-time echo-message")
	p.expect("CAP END")
	p.welcome("multi")
	c.waitEvent(client.EventRegistered)
	if offered := c.OfferedCaps(); offered["sasl"] != "PLAIN,EXTERNAL" || offered["draft/other"] != "1,2" {
		t.Errorf("OfferedCaps() = %v, want sasl=PLAIN,EXTERNAL and draft/other=1,2", offered)
	}
	if !c.HasCap("echo-message") || c.HasCap("sasl") {
		t.Errorf("Caps() = %v", c.Caps())
	}
	// cap-notify: a capability that goes away and comes back.
	p.send(":srv CAP multi DEL :server-time")
	c.waitPoll("server-time disabled", func() bool { return !c.HasCap("server-time") })
	p.send(":srv CAP multi NEW :server-time")
	if got := reqCaps(p.expect("CAP REQ ")); !slices.Equal(got, []string{"server-time"}) {
		t.Errorf("after CAP NEW: REQ %v, want [server-time]", got)
	}
	p.send(":srv CAP multi ACK :server-time")
	c.waitPoll("server-time enabled again", func() bool { return c.HasCap("server-time") })
}

func TestSASLMechanismFallback(t *testing.T) {
	p := listenPeer(t)
	c := newTClient(t, "fallback", client.Config{Addr: p.addr(), Nick: "fb",
		SASL: client.SASL{Username: "acct", Password: "pw", Mechanisms: []string{"SCRAM-SHA-256", "PLAIN"}}}).start()
	p.open()
	p.send(":srv CAP * LS :sasl")
	p.expect("CAP REQ ")
	p.send(":srv CAP fb ACK :sasl")
	p.expect("AUTHENTICATE SCRAM-SHA-256")
	p.send(":srv 908 fb PLAIN :are available SASL mechanisms", ":srv 904 fb :SASL authentication failed")
	p.expect("AUTHENTICATE PLAIN")
	p.send("AUTHENTICATE +")
	got := p.expect("AUTHENTICATE ")
	if want := "AUTHENTICATE " + base64.StdEncoding.EncodeToString([]byte("\x00acct\x00pw")); got != want {
		t.Errorf("PLAIN response %q, want %q", got, want)
	}
	p.send(":srv 900 fb fb!u@h acct :You are now logged in as acct", ":srv 903 fb :SASL authentication successful")
	p.expect("CAP END")
	p.welcome("fb")
	ev := c.waitEvent(client.EventLoggedIn)
	if ev.Mechanism != "PLAIN" || ev.Account != "acct" {
		t.Errorf("logged in by %q as %q, want PLAIN as acct", ev.Mechanism, ev.Account)
	}
}

// scramServer is the server side of SCRAM-SHA-256 (RFC 5802 section 3),
// written from the RFC, for one login.
type scramServer struct {
	password    string
	salt        []byte
	iter        int
	nonce       string
	clientFirst string
	serverFirst string
}

func (s *scramServer) hmac(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}

func (s *scramServer) first(clientFirst string) string {
	s.clientFirst = strings.TrimPrefix(clientFirst, "n,,")
	attrs := map[string]string{}
	for f := range strings.SplitSeq(s.clientFirst, ",") {
		k, v, _ := strings.Cut(f, "=")
		attrs[k] = v
	}
	s.nonce = attrs["r"] + "server-part"
	s.serverFirst = fmt.Sprintf("r=%s,s=%s,i=%d", s.nonce, base64.StdEncoding.EncodeToString(s.salt), s.iter)
	return s.serverFirst
}

// final checks the client's proof; it returns the server-final-message,
// or ok false for a wrong proof.
func (s *scramServer) final(clientFinal string) (serverFinal string, ok bool) {
	without, proof64, _ := strings.Cut(clientFinal, ",p=")
	salted, _ := pbkdf2.Key(sha256.New, s.password, s.salt, s.iter, 32)
	clientKey := s.hmac(salted, "Client Key")
	stored := sha256.Sum256(clientKey)
	auth := s.clientFirst + "," + s.serverFirst + "," + without
	sig := s.hmac(stored[:], auth)
	proof, _ := base64.StdEncoding.DecodeString(proof64)
	if len(proof) != len(sig) {
		return "", false
	}
	recovered := make([]byte, len(sig))
	for i := range sig {
		recovered[i] = proof[i] ^ sig[i]
	}
	if h := sha256.Sum256(recovered); !hmac.Equal(h[:], stored[:]) {
		return "", false
	}
	return "v=" + base64.StdEncoding.EncodeToString(s.hmac(s.hmac(salted, "Server Key"), auth)), true
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func unb64(t *testing.T, line string) string {
	t.Helper()
	payload := strings.TrimPrefix(line, "AUTHENTICATE ")
	b, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		t.Fatalf("AUTHENTICATE payload %q: %v", payload, err)
	}
	return string(b)
}

func TestSCRAMAgainstRFCServer(t *testing.T) {
	cases := []struct {
		name       string
		password   string
		forgeV     bool // the server answers with a wrong signature
		required   bool
		wantLogin  bool
		wantSCRAM  bool // the failure is the client's own check
		wantNumber string
	}{
		{name: "right password", password: "correct horse", wantLogin: true},
		{name: "wrong password", password: "wrong", wantNumber: "904"},
		{name: "wrong server signature", password: "correct horse", forgeV: true, wantSCRAM: true},
		{name: "wrong server signature, required", password: "correct horse", forgeV: true, required: true, wantSCRAM: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := listenPeer(t)
			c := newTClient(t, "scram", client.Config{Addr: p.addr(), Nick: "sc",
				Reconnect: client.Reconnect{Disabled: true},
				SASL:      client.SASL{Username: "acct", Password: tc.password, Mechanisms: []string{"SCRAM-SHA-256"}, Required: tc.required}}).start()
			srv := &scramServer{password: "correct horse", salt: []byte("0123456789abcdef"), iter: 4096}
			p.open()
			p.send(":srv CAP * LS :sasl=SCRAM-SHA-256,PLAIN")
			p.expect("CAP REQ ")
			p.send(":srv CAP sc ACK :sasl")
			p.expect("AUTHENTICATE SCRAM-SHA-256")
			p.send("AUTHENTICATE +")
			p.send("AUTHENTICATE " + b64(srv.first(unb64(t, p.expect("AUTHENTICATE ")))))
			serverFinal, ok := srv.final(unb64(t, p.expect("AUTHENTICATE ")))
			if !ok {
				if tc.password == "correct horse" {
					t.Fatal("the RFC server rejected the right password's proof")
				}
				p.send(":srv 904 sc :SASL authentication failed")
			} else {
				if tc.forgeV {
					serverFinal = "v=" + b64("not the server signature at all!")
				}
				p.send("AUTHENTICATE " + b64(serverFinal))
				if tc.forgeV {
					p.expect("AUTHENTICATE *")
					p.send(":srv 906 sc :SASL authentication aborted")
				} else {
					p.expect("AUTHENTICATE +")
					p.send(":srv 900 sc sc!u@h acct :You are now logged in as acct", ":srv 903 sc :SASL authentication successful")
				}
			}
			if tc.required && !tc.wantLogin {
				p.expect("QUIT ")
				err := c.result()
				if !errors.Is(err, client.ErrSCRAM) {
					t.Errorf("Run = %v, want ErrSCRAM", err)
				}
				return
			}
			p.expect("CAP END")
			p.welcome("sc")
			c.waitEvent(client.EventRegistered)
			if tc.wantLogin {
				if ev := c.waitEvent(client.EventLoggedIn); ev.Mechanism != "SCRAM-SHA-256" {
					t.Errorf("logged in by %q", ev.Mechanism)
				}
				return
			}
			ev := c.waitEvent(client.EventSASLFailed)
			if tc.wantSCRAM != errors.Is(ev.Err, client.ErrSCRAM) || !errors.Is(ev.Err, client.ErrSASLFailed) {
				t.Errorf("failure %v: want ErrSCRAM %v", ev.Err, tc.wantSCRAM)
			}
			var ne *client.NumericError
			if tc.wantNumber != "" && (!errors.As(ev.Err, &ne) || ne.Numeric != tc.wantNumber) {
				t.Errorf("failure %v, want numeric %s", ev.Err, tc.wantNumber)
			}
			if c.Account() == "" && tc.forgeV {
				return
			}
		})
	}
}

// A server challenge longer than 400 bytes arrives in chunks, and a
// response of exactly 400 base64 bytes is followed by "+".
func TestAuthenticateChunks(t *testing.T) {
	p := listenPeer(t)
	user := strings.Repeat("u", 150)
	pass := strings.Repeat("p", 148) // "\0"+user+"\0"+pass = 300 bytes = 400 base64
	c := newTClient(t, "chunks", client.Config{Addr: p.addr(), Nick: "ch",
		SASL: client.SASL{Username: user, Password: pass, Mechanisms: []string{"SCRAM-SHA-256", "PLAIN"}}}).start()
	p.open()
	p.send(":srv CAP * LS :sasl")
	p.expect("CAP REQ ")
	p.send(":srv CAP ch ACK :sasl")
	p.expect("AUTHENTICATE SCRAM-SHA-256")
	p.send("AUTHENTICATE +")
	first := unb64(t, p.expect("AUTHENTICATE "))
	_, nonce, _ := strings.Cut(first, ",r=")
	// A server-first-message of 500 bytes: 668 base64 bytes, 400 + 268.
	serverFirst := "r=" + nonce + strings.Repeat("x", 500-len(nonce)-2-len(",s=c2FsdA==,i=1")) + ",s=c2FsdA==,i=1"
	enc := b64(serverFirst)
	p.send("AUTHENTICATE "+enc[:400], "AUTHENTICATE "+enc[400:])
	// The client-final-message is over 400 base64 bytes too: it comes in
	// chunks, the last shorter than 400.
	var enc2 string
	for {
		chunk := strings.TrimPrefix(p.expect("AUTHENTICATE "), "AUTHENTICATE ")
		enc2 += chunk
		if len(chunk) < 400 {
			break
		}
	}
	if len(enc2) <= 400 {
		t.Errorf("client-final took %d base64 bytes, want a multi-chunk one", len(enc2))
	}
	final := unb64(t, "AUTHENTICATE "+enc2)
	if !strings.HasPrefix(final, "c=biws,r="+serverFirst[2:strings.Index(serverFirst, ",")]) {
		t.Fatalf("client-final %q does not answer the reassembled challenge", final)
	}
	// Fail it to move on to PLAIN, whose response is exactly 400 bytes.
	p.send(":srv 904 ch :SASL authentication failed")
	p.expect("AUTHENTICATE PLAIN")
	p.send("AUTHENTICATE +")
	chunk := p.expect("AUTHENTICATE ")
	if len(chunk) != len("AUTHENTICATE ")+400 {
		t.Fatalf("first chunk is %d bytes, want 400", len(chunk)-len("AUTHENTICATE "))
	}
	p.expect("AUTHENTICATE +")
	p.send(":srv 903 ch :SASL authentication successful")
	p.expect("CAP END")
	p.welcome("ch")
	c.waitEvent(client.EventLoggedIn)
}

// PING is answered at once while flood control holds messages back, and
// the held messages keep their order.
func TestPingAnsweredDuringFlood(t *testing.T) {
	p := listenPeer(t)
	c := newTClient(t, "pong", client.Config{Addr: p.addr(), Nick: "pg",
		Flood: client.Flood{Burst: 5, Interval: time.Hour}}).start()
	p.open() // CAP LS, NICK, USER: three tokens
	p.send(":srv CAP * LS :")
	p.expect("CAP END") // the fourth
	p.welcome("pg")
	c.waitEvent(client.EventRegistered)
	for i := range 3 {
		if err := c.Privmsg("#x", fmt.Sprint("held ", i)); err != nil {
			t.Fatal(err)
		}
	}
	p.expect("PRIVMSG #x :held 0") // the fifth and last token
	p.send("PING :while-held")
	p.expect("PONG while-held")
	if n := c.Queued(); n != 2 {
		t.Errorf("Queued() = %d, want 2 still held", n)
	}
}

// CTCP requests get no reply while the send queue is more than half
// full.
func TestCTCPNotAnsweredWhenQueueFills(t *testing.T) {
	p := listenPeer(t)
	c := newTClient(t, "ctcpfull", client.Config{Addr: p.addr(), Nick: "cf",
		Flood: client.Flood{Burst: 5, Interval: time.Hour, MaxQueue: 4}}).start()
	p.open()
	p.send(":srv CAP * LS :")
	p.expect("CAP END")
	p.welcome("cf")
	c.waitEvent(client.EventRegistered)
	for i := range 4 {
		if err := c.Privmsg("#x", fmt.Sprint("held ", i)); err != nil {
			t.Fatal(err)
		}
	}
	p.expect("PRIVMSG #x :held 0") // the last token; three stay queued
	p.send(":peer!u@h PRIVMSG cf :\x01VERSION\x01", "PING :sync")
	p.expect("PONG sync") // the reader has handled the VERSION request
	if n := c.Queued(); n != 3 {
		t.Errorf("Queued() = %d, want 3: no CTCP reply queued behind a queue over half full", n)
	}
}

// A server that stops answering is found dead by the client's own PING.
func TestPingTimeout(t *testing.T) {
	p := listenPeer(t)
	c := newTClient(t, "pingto", client.Config{Addr: p.addr(), Nick: "pt",
		PingInterval: 200 * time.Millisecond, PingTimeout: 300 * time.Millisecond,
		Reconnect: client.Reconnect{Disabled: true}}).start()
	p.open()
	p.send(":srv CAP * LS :")
	p.expect("CAP END")
	p.welcome("pt")
	p.expect("PING ")
	err := c.result()
	if !errors.Is(err, client.ErrPingTimeout) {
		t.Errorf("Run = %v, want ErrPingTimeout", err)
	}
}

func TestSendChecks(t *testing.T) {
	c, err := client.New(client.Config{Addr: "127.0.0.1:1", Nick: "q", Flood: client.Flood{MaxQueue: 3}})
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"a\r\nQUIT", "a\nb", "nul\x00"} {
		if err := c.Privmsg("#x", text); !errors.Is(err, ircmsg.ErrBadByte) {
			t.Errorf("Privmsg(%q) = %v, want ircmsg.ErrBadByte", text, err)
		}
	}
	if err := c.Join("#a\r\n"); !errors.Is(err, ircmsg.ErrBadByte) {
		t.Errorf("Join with CR LF = %v, want ircmsg.ErrBadByte", err)
	}
	for i := range 3 {
		if err := c.Privmsg("#x", fmt.Sprint(i)); err != nil {
			t.Fatalf("Privmsg %d: %v", i, err)
		}
	}
	if err := c.Privmsg("#x", "4th"); !errors.Is(err, client.ErrQueueFull) {
		t.Errorf("4th Privmsg with MaxQueue 3 = %v, want ErrQueueFull", err)
	}
	if c.Queued() != 3 {
		t.Errorf("Queued() = %d, want 3", c.Queued())
	}
	// Run against nothing: the queued messages are reported as unsent.
	ctx, cancel := context.WithTimeout(context.Background(), step)
	defer cancel()
	c2, _ := client.New(client.Config{Addr: "127.0.0.1:1", Nick: "q", Reconnect: client.Reconnect{MaxTries: 2, MinDelay: time.Millisecond}})
	_ = c2.Privmsg("#x", "never sent")
	err = c2.Run(ctx)
	if !errors.Is(err, client.ErrGaveUp) || !errors.Is(err, client.ErrUnsent) {
		t.Errorf("Run against a closed port = %v, want ErrGaveUp and ErrUnsent", err)
	}
	if err := c2.Privmsg("#x", "late"); !errors.Is(err, client.ErrClosed) {
		t.Errorf("Privmsg after Run = %v, want ErrClosed", err)
	}
}

func TestNewChecks(t *testing.T) {
	cases := []struct {
		name string
		cfg  client.Config
		want error
	}{
		{"no addr", client.Config{Nick: "n"}, client.ErrNoAddr},
		{"no nick", client.Config{Addr: "h:1"}, client.ErrNoNick},
		{"unknown mechanism", client.Config{Addr: "h:1", Nick: "n", SASL: client.SASL{Mechanisms: []string{"X-NOPE"}}}, client.ErrUnknownMechanism},
		{"required without credentials", client.Config{Addr: "h:1", Nick: "n", SASL: client.SASL{Required: true}}, client.ErrSASLUnavailable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := client.New(tc.cfg); !errors.Is(err, tc.want) {
				t.Errorf("New = %v, want %v", err, tc.want)
			}
		})
	}
}
