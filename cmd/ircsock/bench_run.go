package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ircsock/ircsock/ircmsg"
	"golang.org/x/sync/errgroup"
)

const (
	// benchBucket is the width of one throughput sample.
	benchBucket = 100 * time.Millisecond
	// benchBatch is the most messages a sender writes in one call.
	benchBatch = 64
	// benchReadBuffer is each client's read buffer; a line longer than
	// it fails the client.
	benchReadBuffer = 64 << 10
	// benchRegisterTimeout bounds one client's connect and registration.
	benchRegisterTimeout = 30 * time.Second
)

// benchRun is the state the clients of one run share.
type benchRun struct {
	cfg       benchConfig
	clock     time.Time        // the zero of every timestamp
	receivers []int            // per sender: how many clients receive it
	counts    [][]atomic.Int32 // per sender, per seq: deliveries so far
	notify    []chan struct{}  // per sender: a seq reached all receivers
	expected  int64
	total     atomic.Int64
	last      atomic.Int64   // clock time of the latest delivery
	buckets   []atomic.Int64 // deliveries per benchBucket since sendStart
	sendStart atomic.Int64   // clock time the senders started
	done      chan struct{}  // closed when total reaches expected
	doneOnce  sync.Once
	failed    chan error // client failures, first few kept
	stopping  atomic.Bool
}

func newBenchRun(cfg benchConfig) *benchRun {
	r := &benchRun{
		cfg:       cfg,
		clock:     time.Now(),
		receivers: make([]int, cfg.Senders),
		counts:    make([][]atomic.Int32, cfg.Senders),
		notify:    make([]chan struct{}, cfg.Senders),
		expected:  cfg.expectedDeliveries(),
		buckets:   make([]atomic.Int64, int(cfg.Timeout/benchBucket)+2),
		done:      make(chan struct{}),
		failed:    make(chan error, 16),
	}
	for s := range cfg.Senders {
		r.receivers[s] = cfg.receiversOf(s)
		r.counts[s] = make([]atomic.Int32, cfg.Messages)
		r.notify[s] = make(chan struct{}, 1)
	}
	return r
}

func (r *benchRun) now() int64 { return int64(time.Since(r.clock)) }

// fail records a client's failure unless the run is already stopping.
func (r *benchRun) fail(err error) {
	if r.stopping.Load() {
		return
	}
	select {
	case r.failed <- err:
	default:
	}
}

// addBatch counts n deliveries read at clock time now.
func (r *benchRun) addBatch(n, now int64) {
	r.last.Store(now)
	i := (now - r.sendStart.Load()) / int64(benchBucket)
	if i >= 0 && i < int64(len(r.buckets)) {
		r.buckets[i].Add(n)
	}
	if r.total.Add(n) >= r.expected {
		r.doneOnce.Do(func() { close(r.done) })
	}
}

// A benchClient is one connection of the run.
type benchClient struct {
	idx     int
	nick    string
	channel string
	conn    net.Conn
	r       *bufio.Reader
	wmu     sync.Mutex // senders and PONG replies share the connection

	// Owned by the receive loop until it returns.
	next       []int // per sender: the seq expected next
	hist       latencyHistogram
	got        int64
	outOfOrder int64
	unexpected int64
	lastError  string // the server's last ERROR line, for the failure
}

func (c *benchClient) write(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, err := c.conn.Write(b)
	return err
}

func (c *benchClient) writeLine(format string, args ...any) error {
	return c.write([]byte(fmt.Sprintf(format, args...) + "\r\n"))
}

// dialAndRegister connects client i and registers it: NICK and USER, for
// senders OPER and MODE, then JOIN of its channel, each step waiting for
// the server's answer.
func dialAndRegister(ctx context.Context, run *benchRun, i int) (*benchClient, error) {
	cfg := &run.cfg
	ctx, cancel := context.WithTimeout(ctx, benchRegisterTimeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", cfg.Addr)
	if err != nil {
		return nil, err
	}
	c := &benchClient{
		idx:     i,
		nick:    fmt.Sprintf("%s%d", cfg.Prefix, i),
		channel: cfg.channelOf(i),
		conn:    conn,
		r:       bufio.NewReaderSize(conn, benchReadBuffer),
		next:    make([]int, cfg.Senders),
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	err = c.register(cfg)
	stop()
	_ = conn.SetDeadline(time.Time{})
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("client %s: %w", c.nick, err)
	}
	return c, nil
}

func (c *benchClient) register(cfg *benchConfig) error {
	if cfg.Pass != "" {
		if err := c.writeLine("PASS %s", cfg.Pass); err != nil {
			return err
		}
	}
	if err := c.writeLine("NICK %s\r\nUSER %s 0 * :ircsock bench", c.nick, c.nick); err != nil {
		return err
	}
	if err := c.await("registration", func(m *ircmsg.Message) bool { return m.Command == "001" }); err != nil {
		return err
	}
	sender := c.idx < cfg.Senders
	if sender && cfg.Oper != "" {
		name, pass, _ := strings.Cut(cfg.Oper, ":")
		if err := c.writeLine("OPER %s %s", name, pass); err != nil {
			return err
		}
		if err := c.await("OPER", func(m *ircmsg.Message) bool { return m.Command == "381" }); err != nil {
			return err
		}
	}
	if sender && cfg.UserModes != "" {
		if err := c.writeLine("MODE %s %s", c.nick, cfg.UserModes); err != nil {
			return err
		}
		if err := c.await("MODE "+cfg.UserModes, func(m *ircmsg.Message) bool {
			return m.Command == "MODE" && len(m.Params) > 0 && m.Params[0] == c.nick
		}); err != nil {
			return err
		}
	}
	if err := c.writeLine("JOIN %s", c.channel); err != nil {
		return err
	}
	return c.await("JOIN "+c.channel, func(m *ircmsg.Message) bool {
		return m.Command == "JOIN" && sourceNick(m) == c.nick
	})
}

// await reads lines until want accepts one. It answers PING, and fails on
// ERROR or on an error numeric (4xx, 5xx) other than the harmless ones
// servers send during registration.
func (c *benchClient) await(what string, want func(*ircmsg.Message) bool) error {
	for {
		line, err := c.r.ReadSlice('\n')
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		m, err := ircmsg.Parse(bytes.TrimRight(line, "\r\n"))
		if err != nil {
			continue
		}
		switch {
		case want(m):
			return nil
		case m.Command == "PING":
			if err := c.writeLine("PONG :%s", lastParam(m)); err != nil {
				return err
			}
		case m.Command == "ERROR":
			return fmt.Errorf("waiting for %s: server said ERROR :%s", what, lastParam(m))
		case len(m.Command) == 3 && (m.Command[0] == '4' || m.Command[0] == '5') && m.Command != "422":
			// 422 is "MOTD file is missing", not a failure.
			return fmt.Errorf("waiting for %s: server answered %s", what, strings.TrimSpace(string(line)))
		}
	}
}

// receive reads until the connection ends, checking every delivery.
func (c *benchClient) receive(run *benchRun) {
	var batch int64
	var now int64
	for {
		if batch > 0 && c.r.Buffered() == 0 {
			run.addBatch(batch, now)
			batch = 0
		}
		line, err := c.r.ReadSlice('\n')
		if err != nil {
			if batch > 0 {
				run.addBatch(batch, now)
			}
			if errors.Is(err, bufio.ErrBufferFull) {
				err = fmt.Errorf("line longer than %d bytes", benchReadBuffer)
			}
			if c.lastError != "" {
				err = fmt.Errorf("%w (server said ERROR :%s)", err, c.lastError)
			}
			run.fail(fmt.Errorf("client %s: read: %w", c.nick, err))
			return
		}
		now = run.now()
		if d, ok := parseDelivery(line); ok {
			c.deliver(run, d, now)
			batch++
			continue
		}
		c.otherLine(line)
	}
}

// deliver checks one delivery: from a sender of this client's channel,
// in that sender's order.
func (c *benchClient) deliver(run *benchRun, d delivery, now int64) {
	cfg := &run.cfg
	c.got++
	if d.sender >= cfg.Senders || d.sender == c.idx || d.sender%cfg.Channels != c.idx%cfg.Channels || d.seq >= cfg.Messages {
		c.unexpected++
		return
	}
	c.hist.add(now - d.sent)
	switch next := c.next[d.sender]; {
	case d.seq == next:
		c.next[d.sender]++
	case d.seq > next:
		c.outOfOrder++
		c.next[d.sender] = d.seq + 1
	default:
		c.outOfOrder++
	}
	if int(run.counts[d.sender][d.seq].Add(1)) == run.receivers[d.sender] {
		select {
		case run.notify[d.sender] <- struct{}{}:
		default:
		}
	}
}

// otherLine handles a line that is not a delivery: PING gets its PONG,
// ERROR is kept to explain the close that follows.
func (c *benchClient) otherLine(line []byte) {
	line = bytes.TrimRight(line, "\r\n")
	if len(line) > 0 && line[0] == ':' {
		line = afterSpace(line)
	}
	switch {
	case bytes.HasPrefix(line, []byte("PING ")):
		_ = c.write(append(append([]byte("PONG "), line[5:]...), '\r', '\n'))
	case bytes.HasPrefix(line, []byte("ERROR ")):
		c.lastError = strings.TrimPrefix(string(line[6:]), ":")
	}
}

// send sends this sender's messages, keeping at most Window of them not
// yet delivered to every receiver, at the configured rate if any.
func (c *benchClient) send(ctx context.Context, run *benchRun) error {
	cfg := &run.cfg
	s := c.idx
	want := int32(run.receivers[s])
	counts := run.counts[s]
	var interval int64
	if cfg.Rate > 0 {
		interval = int64(float64(time.Second) * float64(cfg.Senders) / cfg.Rate)
	}
	start := run.sendStart.Load()
	prefix := "PRIVMSG " + c.channel + " :"
	buf := make([]byte, 0, benchBatch*(len(prefix)+cfg.Size+2))
	var timer *time.Timer
	done := 0 // every seq below done has reached all receivers
	for k := 0; k < cfg.Messages; {
		n := min(benchBatch, cfg.Messages-k)
		if want > 0 {
			for {
				for done < k && counts[done].Load() >= want {
					done++
				}
				if k-done < cfg.Window {
					break
				}
				select {
				case <-run.notify[s]:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			n = min(n, cfg.Window-(k-done))
		}
		if interval > 0 {
			due := start + int64(k)*interval
			if wait := due - run.now(); wait > 0 {
				if timer == nil {
					timer = time.NewTimer(time.Duration(wait))
					defer timer.Stop()
				} else {
					timer.Reset(time.Duration(wait))
				}
				select {
				case <-timer.C:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			// Every message whose time has come goes in this write.
			n = min(n, max(1, int((run.now()-start)/interval)+1-k))
		}
		buf = buf[:0]
		sent := run.now()
		for j := range n {
			buf = append(buf, prefix...)
			buf = appendDelivery(buf, delivery{sender: s, seq: k + j, sent: sent}, cfg.Size)
			buf = append(buf, '\r', '\n')
		}
		if err := c.write(buf); err != nil {
			return fmt.Errorf("client %s: write: %w", c.nick, err)
		}
		k += n
	}
	return nil
}

// runBench connects, registers and joins every client, runs the senders
// and waits for every delivery, a failure, a stall or ctx. It returns the
// result of whatever ran, with an error if the run did not complete or
// lost or reordered any delivery.
func runBench(ctx context.Context, cfg benchConfig) (*benchResult, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	run := newBenchRun(cfg)
	res := &benchResult{Config: cfg, Expected: run.expected}
	var proc *procSampler
	if cfg.Pid > 0 {
		var err error
		if proc, err = newProcSampler(cfg.Pid); err != nil {
			return nil, err
		}
	}

	// Connect and register with at most Dialers clients at once; each
	// client's receive loop starts as soon as it has joined, so that
	// the JOIN and NAMES traffic of the others never piles up.
	clients := make([]*benchClient, cfg.Clients)
	var readers sync.WaitGroup
	defer func() {
		run.stopping.Store(true)
		for _, c := range clients {
			if c != nil {
				_ = c.conn.Close()
			}
		}
		readers.Wait()
	}()
	connectStart := time.Now()
	// The group bounds the dials in flight to Dialers and cancels the
	// others when one fails; Wait returns that first error.
	dialers, dialCtx := errgroup.WithContext(ctx)
	dialers.SetLimit(cfg.Dialers)
	for i := range cfg.Clients {
		if dialCtx.Err() != nil {
			break
		}
		dialers.Go(func() error {
			c, err := dialAndRegister(dialCtx, run, i)
			if err != nil {
				return err
			}
			clients[i] = c
			readers.Add(1)
			go func() {
				defer readers.Done()
				c.receive(run)
			}()
			return nil
		})
	}
	dialErr := dialers.Wait()
	if dialErr == nil && ctx.Err() != nil {
		dialErr = ctx.Err()
	}
	if dialErr != nil {
		return nil, fmt.Errorf("connect: %w", dialErr)
	}
	select {
	case err := <-run.failed:
		return nil, fmt.Errorf("after registration: %w", err)
	default:
	}
	res.ConnectSeconds = time.Since(connectStart).Seconds()
	if proc != nil {
		proc.idle(cfg.Clients)
	}

	// Send.
	sendCtx, sendCancel := context.WithCancel(ctx)
	defer sendCancel()
	var senders sync.WaitGroup
	run.sendStart.Store(run.now())
	for s := range cfg.Senders {
		senders.Add(1)
		go func() {
			defer senders.Done()
			if err := clients[s].send(sendCtx, run); err != nil && sendCtx.Err() == nil {
				run.fail(err)
			}
		}()
	}
	runErr := run.wait(ctx, proc)
	sendCancel()
	senders.Wait()
	if proc != nil {
		proc.end()
	}
	run.stopping.Store(true)
	quitAll(clients, &readers)
	res.collect(run, clients, proc)
	if runErr != nil {
		res.Error = runErr.Error()
		return res, runErr
	}
	if res.Lost > 0 || res.OutOfOrder > 0 || res.Unexpected > 0 {
		return res, errBenchFailed
	}
	return res, nil
}

// benchQuitTimeout bounds how long the clients wait for the server to
// close their connections after QUIT.
const benchQuitTimeout = 10 * time.Second

// quitAll sends QUIT on every connection and waits, within
// benchQuitTimeout, for the server to close them, so that the server has
// forgotten the nicks when the next run starts; then it closes what is
// left and waits for every receive loop.
func quitAll(clients []*benchClient, readers *sync.WaitGroup) {
	for _, c := range clients {
		_ = c.conn.SetWriteDeadline(time.Now().Add(time.Second))
		_ = c.write([]byte("QUIT :ircsock bench done\r\n"))
	}
	closed := make(chan struct{})
	go func() { readers.Wait(); close(closed) }()
	t := time.NewTimer(benchQuitTimeout)
	defer t.Stop()
	select {
	case <-closed:
	case <-t.C:
	}
	for _, c := range clients {
		_ = c.conn.Close()
	}
	<-closed
}

// wait blocks until every delivery has arrived, a client failed, no
// delivery arrived for Stall, or ctx is done, drawing the progress bar and
// sampling the server meanwhile.
func (r *benchRun) wait(ctx context.Context, proc *procSampler) error {
	tick := time.NewTicker(benchBucket)
	defer tick.Stop()
	bar := newProgressBar(r.cfg.Progress, r.expected)
	defer bar.finish(&r.total)
	lastTotal, lastChange := int64(-1), time.Now()
	for {
		select {
		case <-r.done:
			return nil
		case err := <-r.failed:
			return err
		case <-ctx.Done():
			return fmt.Errorf("run: %w after %d of %d deliveries", ctx.Err(), r.total.Load(), r.expected)
		case now := <-tick.C:
			if proc != nil {
				proc.sample()
			}
			total := r.total.Load()
			bar.draw(total, time.Duration(r.now()-r.sendStart.Load()))
			if total != lastTotal {
				lastTotal, lastChange = total, now
			} else if now.Sub(lastChange) >= r.cfg.Stall {
				return fmt.Errorf("run: no delivery for %v, after %d of %d deliveries", r.cfg.Stall, total, r.expected)
			}
		}
	}
}

func sourceNick(m *ircmsg.Message) string {
	nick, _, _ := ircmsg.SplitSource(m.Source)
	return nick
}

func lastParam(m *ircmsg.Message) string {
	if len(m.Params) == 0 {
		return ""
	}
	return m.Params[len(m.Params)-1]
}
