package client

import (
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/ircsock/ircsock/filter"
	"github.com/ircsock/ircsock/ircmsg"
	"github.com/ircsock/ircsock/sock"
)

// A session is one connection: its wheel, its connection-bound queues
// (urgent: PONG, QUIT, keepalive PING; ctl: registration, CAP, SASL and
// rejoins) and its registration state. The state fields without a lock
// belong to the reading goroutine.
type session struct {
	c       *Client
	w       *sock.Wheel
	attempt int
	wg      sync.WaitGroup
	done    chan struct{} // closed by Closed
	stopCh  chan struct{} // stops the sender
	wake    chan struct{}

	pingInterval, pingTimeout time.Duration

	// guarded by c.qmu
	urgent      [][]byte
	ctl         [][]byte
	quitAfter   bool // disconnect once the urgent queue is written
	registered  bool
	tokens      float64
	refilled    time.Time
	closeReason string
	closeErr    error
	serverErr   string
	fatalErr    error
	pingOut     bool
	pingAt      time.Time
	pingT       *time.Timer

	final bool // set with fatalErr, read after done

	// sendLoop only, then read by runSession once it has stopped
	handed      []handedRec // written to the wheel, maybe not yet to the socket
	handedBytes int64       // their bytes on the wire

	// reading goroutine only
	offered     map[string]string
	lsDone      bool
	reqPending  int
	capEnded    bool
	nickTries   int
	sasl        *saslRun
	batches     map[string]*Batch
	serverMechs []string
}

func newSession(c *Client, attempt int) *session {
	s := &session{
		c: c, attempt: attempt,
		done:    make(chan struct{}),
		stopCh:  make(chan struct{}),
		wake:    make(chan struct{}, 1),
		offered: make(map[string]string),
		batches: make(map[string]*Batch),
	}
	s.pingInterval = orDur(c.cfg.PingInterval, DefaultPingInterval)
	if s.pingInterval < 0 {
		s.pingInterval = -1 // the wheel's "no idle events"
	}
	s.pingTimeout = orDur(c.cfg.PingTimeout, DefaultPingTimeout)
	s.tokens = float64(s.burst())
	s.refilled = time.Now()
	return s
}

func (s *session) burst() int { return orInt(s.c.cfg.Flood.Burst, DefaultFloodBurst) }
func (s *session) interval() time.Duration {
	return orDur(s.c.cfg.Flood.Interval, DefaultFloodInterval)
}

func (s *session) isRegistered() bool {
	s.c.qmu.Lock()
	defer s.c.qmu.Unlock()
	return s.registered
}

func (s *session) wakeLocked() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// sendCtl queues a connection-bound message (registration, CAP, SASL).
func (s *session) sendCtl(m *ircmsg.Message) {
	rec, err := encode(m)
	if err != nil {
		s.fail(err, false)
		return
	}
	s.c.qmu.Lock()
	s.ctl = append(s.ctl, rec)
	s.wakeLocked()
	s.c.qmu.Unlock()
}

// sendUrgent queues m ahead of everything else (PONG, PING, QUIT).
func (s *session) sendUrgent(m *ircmsg.Message, quit bool) {
	rec, err := encode(m)
	if err != nil {
		return
	}
	s.c.qmu.Lock()
	s.urgent = append(s.urgent, rec)
	if quit {
		s.quitAfter = true
	}
	s.wakeLocked()
	s.c.qmu.Unlock()
}

func (s *session) quit(reason string) {
	s.sendUrgent(&ircmsg.Message{Command: "QUIT", Params: []string{reason}}, true)
}

// fail ends the session with err; final makes Run return it.
func (s *session) fail(err error, final bool) {
	s.c.qmu.Lock()
	if s.fatalErr == nil {
		s.fatalErr = err
		s.final = final
	}
	s.c.qmu.Unlock()
}

// pick takes the next record the bucket allows. wait > 0 means a record
// is ready once a token is earned.
func (s *session) pick() (rec []byte, normal, disconnect bool, wait time.Duration) {
	c := s.c
	c.qmu.Lock()
	defer c.qmu.Unlock()
	now := time.Now()
	burst := float64(s.burst())
	s.tokens = min(burst, s.tokens+float64(now.Sub(s.refilled))/float64(s.interval()))
	s.refilled = now
	if len(s.urgent) > 0 {
		rec, s.urgent = s.urgent[0], s.urgent[1:]
		// Urgent lines still count against the server's limit, so they
		// take a token, and may leave the bucket in debt.
		s.tokens = max(s.tokens-1, -burst)
		if len(s.urgent) == 0 && s.quitAfter {
			disconnect = true
		}
		return rec, false, disconnect, 0
	}
	if s.quitAfter {
		return nil, false, false, 0
	}
	ready := len(s.ctl) > 0 || (s.registered && len(c.normal) > 0)
	if !ready {
		return nil, false, false, 0
	}
	if !c.cfg.Flood.Disabled && s.tokens < 1 {
		return nil, false, false, time.Duration((1 - s.tokens) * float64(s.interval()))
	}
	s.tokens--
	if len(s.ctl) > 0 {
		rec, s.ctl = s.ctl[0], s.ctl[1:]
		return rec, false, false, 0
	}
	rec, c.normal = c.normal[0], c.normal[1:]
	return rec, true, false, 0
}

func (s *session) sendLoop() {
	defer s.wg.Done()
	t := time.NewTimer(time.Hour)
	t.Stop()
	defer t.Stop()
	for {
		rec, normal, disconnect, wait := s.pick()
		if rec != nil {
			s.c.trace(true, string(rec))
			if err := s.w.Write(rec); err != nil {
				// The wheel is closing or closed: this record (if it is
				// the session queue's) goes back to the head of the
				// queue for the next connection, and nothing more is
				// sent on this one.
				s.c.qmu.Lock()
				if normal && !s.c.closed {
					s.c.normal = append([][]byte{rec}, s.c.normal...)
				}
				s.c.qmu.Unlock()
				<-s.stopCh
				return
			}
			s.noteHanded(rec, normal)
			if disconnect {
				s.w.Disconnect("Quit")
			}
			continue
		}
		if wait > 0 {
			t.Reset(wait)
		}
		select {
		case <-s.stopCh:
			return
		case <-s.wake:
		case <-t.C:
		}
		if wait > 0 && !t.Stop() {
			select {
			case <-t.C:
			default:
			}
		}
	}
}

// A handedRec is a record the wheel accepted; until the wheel has
// written it to the socket it can still be lost with the link.
type handedRec struct {
	rec    []byte
	normal bool // from the client's queue (not connection-bound)
}

// wireLen is what a record takes on the wire: the line and its CR LF.
func wireLen(rec []byte) int64 { return int64(len(rec)) + 2 }

// noteHanded remembers rec as handed to the wheel, and forgets the
// oldest records the wheel has certainly written: those before the last
// SendQ bytes (SendQ counts every byte not yet written, so it never
// undercounts).
func (s *session) noteHanded(rec []byte, normal bool) {
	s.handed = append(s.handed, handedRec{rec: rec, normal: normal})
	s.handedBytes += wireLen(rec)
	sq := int64(s.w.SendQ())
	drop := 0
	for drop < len(s.handed) && s.handedBytes-wireLen(s.handed[drop].rec) >= sq {
		s.handedBytes -= wireLen(s.handed[drop].rec)
		drop++
	}
	if drop > 0 {
		s.handed = append(s.handed[:0], s.handed[drop:]...)
	}
}

// unwritten sorts out the client-queue records the wheel had accepted
// but not written to the socket when it closed (its Undelivered bytes
// are the last bytes handed to it). Records no byte of which was written
// never reached the server: they are returned as resend, to go back to
// the head of the queue. A record cut in the middle, or every one when
// the count cannot be split from the kernel's (a drain cut also counts
// bytes the kernel held), may or may not have reached the server: those
// are returned as lost, reported and not sent again, so nothing is
// duplicated.
func (s *session) unwritten() (resend, lost [][]byte) {
	u := s.w.Undelivered()
	if u <= 0 {
		return nil, nil
	}
	s.c.qmu.Lock()
	closeErr := s.closeErr
	s.c.qmu.Unlock()
	var derr *sock.DrainError
	exact := !errors.As(closeErr, &derr)
	i := len(s.handed)
	var acc int64
	for i > 0 && acc+wireLen(s.handed[i-1].rec) <= u {
		i--
		acc += wireLen(s.handed[i].rec)
	}
	first := i
	if acc < u && i > 0 {
		first = i - 1 // partly written
	}
	for j := first; j < len(s.handed); j++ {
		h := s.handed[j]
		if !h.normal {
			continue
		}
		if exact && j >= i {
			resend = append(resend, h.rec)
		} else {
			lost = append(lost, h.rec)
		}
	}
	return resend, lost
}

func (s *session) stop() {
	s.c.qmu.Lock()
	if s.pingT != nil {
		s.pingT.Stop()
	}
	s.c.qmu.Unlock()
	close(s.stopCh)
}

// cause is why the session ended: a failure the client decided on, the
// server's ERROR, or the wheel's reason; nil after a requested quit.
func (s *session) cause() error {
	s.c.qmu.Lock()
	defer s.c.qmu.Unlock()
	switch {
	case s.fatalErr != nil:
		return s.fatalErr
	case s.quitAfter:
		return nil
	case s.closeErr != nil && s.serverErr == "":
		return s.closeErr
	case s.serverErr != "":
		return &ServerError{Message: s.serverErr}
	}
	return errors.New("client: " + strings.ToLower(s.closeReason[:1]) + s.closeReason[1:])
}

// register queues the opening of registration: PASS, CAP LS 302, NICK and
// USER. The server holds registration until CAP END.
func (s *session) register() {
	cfg := s.c.cfg
	if cfg.Password != "" {
		s.sendCtl(&ircmsg.Message{Command: "PASS", Params: []string{cfg.Password}})
	}
	s.sendCtl(&ircmsg.Message{Command: "CAP", Params: []string{"LS", "302"}})
	s.sendCtl(&ircmsg.Message{Command: "NICK", Params: []string{cfg.Nick}})
	user, real := cfg.User, cfg.RealName
	if user == "" {
		user = cfg.Nick
	}
	if real == "" {
		real = cfg.Nick
	}
	s.sendCtl(&ircmsg.Message{Command: "USER", Params: []string{user, "0", "*", real}})
}

// Handle implements sock.Handler: records, unreadable lines, idle time
// and the close of the wheel.
func (s *session) Handle(w *sock.Wheel, ev sock.Event) {
	switch ev.Kind {
	case sock.EventRecord:
		s.record(ev.Record)
	case sock.EventRecordError:
		s.c.trace(false, "(unreadable line: "+ev.Err.Error()+")")
	case sock.EventIdle:
		s.idle(w)
	case sock.EventClosed:
		s.closed(ev.Reason, ev.Err)
	}
}

func (s *session) record(rec []byte) {
	s.c.trace(false, string(rec))
	m, err := filter.IRCv3{}.Decode(rec)
	if err != nil {
		return // a malformed line spoils itself only
	}
	s.handle(m)
}

// idle: the link has been silent for PingInterval, so the client sends
// its own PING and gives the server PingTimeout to answer with anything
// at all.
func (s *session) idle(w *sock.Wheel) {
	s.c.qmu.Lock()
	if s.pingOut {
		s.c.qmu.Unlock()
		return
	}
	s.pingOut = true
	s.pingAt = time.Now()
	at := s.pingAt
	s.pingT = time.AfterFunc(s.pingTimeout, func() {
		if w.LastSeen().Before(at) {
			w.Close("Ping timeout", ErrPingTimeout)
			return
		}
		s.c.qmu.Lock()
		s.pingOut = false
		s.c.qmu.Unlock()
	})
	s.c.qmu.Unlock()
	s.sendUrgent(&ircmsg.Message{Command: "PING", Params: []string{"ircsock"}}, false)
}

func (s *session) closed(reason string, err error) {
	s.c.qmu.Lock()
	s.closeReason, s.closeErr = reason, err
	if reason == "" {
		s.closeReason = "closed"
	}
	s.c.qmu.Unlock()
	close(s.done)
}
