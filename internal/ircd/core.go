package ircd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ircsock/ircsock"
	"github.com/ircsock/ircsock/ircmsg"
)

// transport is what the IRC logic needs from the Backend: a way to queue a
// message for some connections and to close one after its queue is
// written. *ircsock.Backend implements it; unit tests use a recorder.
// Send must not keep ids after it returns: deliver reuses the slice.
type transport interface {
	Send(m *ircmsg.Message, ids ...ircsock.ConnID) error
	Disconnect(id ircsock.ConnID, reason string) error
}

// capability bits a client can enable with CAP REQ.
type capSet uint8

const (
	capMessageTags capSet = 1 << iota
	capServerTime
	capAwayNotify
	capSetname
)

// capNames lists the supported capabilities in CAP LS order.
var capNames = []struct {
	name string
	bit  capSet
}{
	{"away-notify", capAwayNotify},
	{"message-tags", capMessageTags},
	{"server-time", capServerTime},
	{"setname", capSetname},
}

func capByName(name string) (capSet, bool) {
	for _, c := range capNames {
		if c.name == name {
			return c.bit, true
		}
	}
	return 0, false
}

func (s capSet) String() string {
	var names []string
	for _, c := range capNames {
		if s&c.bit != 0 {
			names = append(names, c.name)
		}
	}
	return strings.Join(names, " ")
}

// client is one connection's IRC state. It is kept small because every
// connected client has one: the fields most clients never set live in
// extra, allocated on first use, and the flags are packed at the end
// (128 bytes in all on 64-bit, against 256 with everything inline).
type client struct {
	id   ircsock.ConnID
	host string // the peer IP, made safe as a parameter

	nick, user, real string

	// channels lists the channels the client is in, in join order: a
	// slice, not a map, because most clients are in a few channels and a
	// map costs a couple of hundred bytes for its first entry alone. It
	// is also what channel.has asks.
	channels []*channel

	// extra is nil until the client sets one of its fields.
	extra *clientExtra

	// lastInput is when the client last sent a line, as time since
	// core.created: a monotonic reading in 8 bytes, where a time.Time
	// takes 24.
	lastInput time.Duration

	capVersion uint16 // from CAP LS <version>, capped at 65535; 302 allows cap values
	// seen is core.peers' mark: equal to core.peerEpoch while c is
	// already in the list being built. It sits in what was padding.
	seen           uint32
	caps           capSet
	secure         bool
	registered     bool
	capNegotiating bool // registration waits for CAP END
	invisible      bool
	oper           bool // OPER succeeded (user mode +o)
	pingPending    bool
}

// clientExtra is the state that few clients have.
type clientExtra struct {
	passGiven string // PASS before registration; cleared by it
	away      string // the AWAY message; empty when present
	// certFP is the SHA-256 fingerprint of the client's TLS certificate
	// (lowercase hex), empty without one.
	certFP string
	// monitor is the client's MONITOR list: folded nick -> nick as given.
	monitor map[string]string
	// invitedTo lists the channels whose invited set holds the client,
	// so that a quit clears them.
	invitedTo []*channel
}

// ext returns c's extra state, allocating it on first use.
func (c *client) ext() *clientExtra {
	if c.extra == nil {
		c.extra = new(clientExtra)
	}
	return c.extra
}

// tidy lets c's extra state go once nothing in it is set.
func (c *client) tidy() {
	if e := c.extra; e != nil && e.passGiven == "" && e.away == "" && e.certFP == "" &&
		len(e.monitor) == 0 && len(e.invitedTo) == 0 {
		c.extra = nil
	}
}

// away is c's AWAY message, empty when present.
func (c *client) away() string {
	if c.extra == nil {
		return ""
	}
	return c.extra.away
}

// certFP is the fingerprint of c's TLS client certificate, or empty.
func (c *client) certFP() string {
	if c.extra == nil {
		return ""
	}
	return c.extra.certFP
}

// monitor is c's MONITOR list, nil when empty: read it, write through
// ext.
func (c *client) monitor() map[string]string {
	if c.extra == nil {
		return nil
	}
	return c.extra.monitor
}

// channel returns the channel c is in whose folded name is folded, or
// nil.
func (c *client) channel(folded string) *channel {
	for _, ch := range c.channels {
		if ch.folded == folded {
			return ch
		}
	}
	return nil
}

// dropChannel takes ch off c's list.
func (c *client) dropChannel(ch *channel) {
	if i := slices.Index(c.channels, ch); i >= 0 {
		c.channels = slices.Delete(c.channels, i, i+1)
	}
}

// source is the client's nick!user@host, the source of what it relays.
func (c *client) source() string { return c.nick + "!" + c.user + "@" + c.host }

// target is how numerics address the client: its nick, or "*" before it
// has one.
func (c *client) target() string {
	if c.nick == "" {
		return "*"
	}
	return c.nick
}

// regEntry is a registration deadline. Every connection gets the same
// timeout, so deadlines are queued in the order connections open and the
// queue is always sorted: a FIFO, not a heap.
type regEntry struct {
	id       ircsock.ConnID
	deadline time.Time
}

// core is the IRC server's state and command logic. Every method runs on
// the one goroutine that owns the event loop; nothing here is locked.
type core struct {
	cfg     Config
	out     transport
	log     *slog.Logger
	created time.Time
	// isupport holds the 005 lines' params, each ending with its text.
	isupport [][]string

	clients map[ircsock.ConnID]*client
	nicks   map[string]*client  // folded nick -> client, registered or not
	chans   map[string]*channel // folded name -> channel
	regq    []regEntry
	closing bool
	// lastHost is the host of the last connection opened, whose string
	// the next one from the same address shares.
	lastHost string
	lastPeer netip.Addr

	// stsPort and stsDuration are the IRCv3 STS policy; stsPort is zero
	// when there is none.
	stsPort     int
	stsDuration time.Duration

	// watchers is MONITOR's reverse index: folded nick -> clients
	// watching it.
	watchers map[string]map[*client]bool
	// whowas is the WHOWAS history, oldest first, at most
	// Config.WhowasHistory entries.
	whowas []whowasEntry

	// groups is deliver's scratch: recipients by capability set.
	groups [4][]ircsock.ConnID
	// to is cmdMessage's scratch: a channel's recipients. A fresh list
	// per message was most of what a fan-out to a big channel left to
	// the collector (8 bytes a recipient per line).
	to []*client
	// peerBuf is peers' scratch and peerEpoch the mark of its current
	// call (see client.seen): a QUIT, NICK, AWAY or SETNAME finds the
	// clients it goes to without a map or a list of its own, which in a
	// mass disconnect was most of the garbage left. peerLen is how much
	// of peerBuf the last call filled, for donePeers to clear.
	peerBuf   []*client
	peerEpoch uint32
	peerLen   int

	// The reply paths' scratch. Send formats a message before it
	// returns and the core runs on one goroutine, so one Message and
	// its slices serve every reply in turn; made afresh for each of the
	// twenty-odd numerics of a client's welcome burst, they were most of
	// the garbage a registration left, scattered between the records
	// that stay (BenchmarkClientLife). Each is cleared after
	// use, so that it holds no string of a released input line.
	num       ircmsg.Message // numeric's reply
	numParams []string
	out1      ircmsg.Message // deliver's copy, with its tags
	outTags   []ircmsg.Tag
	args      []string // for callers that build a numeric's params
	// welcome holds the texts of registration's burst that are the same
	// for every client (002, 003, 375 and the 372 lines).
	welcome welcomeTexts
}

type welcomeTexts struct {
	host, created, motdStart string
	motd                     []string
}

func newCore(cfg Config, out transport, now time.Time) *core {
	cfg = cfg.withDefaults()
	s := &core{
		cfg:     cfg,
		out:     out,
		log:     cfg.Logger,
		created: now,
		clients: make(map[ircsock.ConnID]*client),
		nicks:   make(map[string]*client),
		chans:   make(map[string]*channel),

		watchers: make(map[string]map[*client]bool),
	}
	tokens := []string{
		"CASEMAPPING=ascii",
		"CHANTYPES=#&",
		"AWAYLEN=" + strconv.Itoa(AwayLen),
		"CHANMODES=beI,k,l,imnst",
		"EXCEPTS=e",
		"INVEX=I",
		"MAXLIST=beI:" + strconv.Itoa(cfg.MaxListEntries),
		"MODES=" + strconv.Itoa(MaxModeParams),
		"MONITOR=" + strconv.Itoa(cfg.MaxMonitor),
		"CHANLIMIT=#&:" + strconv.Itoa(cfg.MaxChannels),
		"CHANNELLEN=" + strconv.Itoa(ChanLen),
		"NICKLEN=" + strconv.Itoa(NickLen),
		"TOPICLEN=" + strconv.Itoa(TopicLen),
		"USERLEN=" + strconv.Itoa(UserLen),
		"PREFIX=(ov)@+",
		"NETWORK=" + cfg.Network,
		"TARGMAX=PRIVMSG:" + strconv.Itoa(MaxTargets) + ",NOTICE:" + strconv.Itoa(MaxTargets) +
			",TAGMSG:" + strconv.Itoa(MaxTargets) + ",JOIN:,PART:,NAMES:1,WHOIS:1,MONITOR:",
		"MAXTARGETS=" + strconv.Itoa(MaxTargets),
		"KICKLEN=" + strconv.Itoa(ReasonLen),
	}
	// RPL_ISUPPORT: at most 13 tokens per line (Modern IRC docs).
	for len(tokens) > 0 {
		n := min(len(tokens), 13)
		line := append(tokens[:n:n], "are supported by this server")
		s.isupport = append(s.isupport, line)
		tokens = tokens[n:]
	}
	s.welcome = welcomeTexts{
		host:      "Your host is " + cfg.ServerName + ", running version " + cfg.Version,
		created:   "This server was created " + now.UTC().Format(time.RFC1123),
		motdStart: "- " + cfg.ServerName + " Message of the day - ",
	}
	for _, line := range cfg.MOTD {
		s.welcome.motd = append(s.welcome.motd, "- "+truncate(line, 400))
	}
	return s
}

// open starts the state of a new connection from peer.
func (s *core) open(id ircsock.ConnID, peer netip.Addr, secure bool, now time.Time) {
	if s.closing {
		return
	}
	// Connections from one address often come in runs (a bouncer, a web
	// gateway, a NAT): such a run shares one copy of the host.
	peer = peer.Unmap()
	host := s.lastHost
	if peer != s.lastPeer || host == "" {
		host = peer.String()
		if strings.HasPrefix(host, ":") {
			// "::1" would read as a trailing parameter in 352 and 311.
			host = "0" + host
		}
		s.lastPeer, s.lastHost = peer, host
	}
	s.clients[id] = &client{
		id:        id,
		host:      host,
		secure:    secure,
		lastInput: now.Sub(s.created),
	}
	if s.cfg.RegisterTimeout > 0 {
		s.regq = append(s.regq, regEntry{id, now.Add(s.cfg.RegisterTimeout)})
	}
	// LogAttrs: the lifecycle lines come once per connection, and Info
	// or Debug with loose arguments would box each value (an allocation)
	// whether the line is written or not.
	s.log.LogAttrs(context.Background(), slog.LevelDebug, "open", slog.Uint64("conn", uint64(id)), slog.String("peer", host), slog.Bool("tls", secure))
}

// setSTS turns on the IRCv3 STS policy: plain-text clients are told to
// reconnect to port over TLS, TLS clients to keep to TLS for d.
func (s *core) setSTS(port int, d time.Duration) {
	s.stsPort, s.stsDuration = port, d
}

// setCertFP records the SHA-256 fingerprint of the client certificate
// a TLS connection presented.
func (s *core) setCertFP(id ircsock.ConnID, fp string) {
	if c, ok := s.clients[id]; ok {
		c.ext().certFP = fp
		s.log.Debug("client certificate", "conn", id, "sha256", fp)
	}
}

// closed forgets a connection the Backend has closed. A client the server
// already dropped (QUIT, timeouts) is gone from the map by now.
func (s *core) closed(id ircsock.ConnID, reason string, now time.Time) {
	c, ok := s.clients[id]
	if !ok {
		return
	}
	s.log.LogAttrs(context.Background(), slog.LevelDebug, "closed", slog.Uint64("conn", uint64(id)), slog.String("nick", c.nick), slog.String("reason", reason))
	s.part(c, reason, now)
}

// idle handles the Backend's ConnectionIdle event: the first one sends a
// PING, the next one while that PING is unanswered closes the connection.
func (s *core) idle(id ircsock.ConnID, now time.Time) {
	c, ok := s.clients[id]
	if !ok || s.closing {
		return
	}
	if c.pingPending {
		secs := int((now.Sub(s.created) - c.lastInput).Round(time.Second) / time.Second)
		s.drop(c, fmt.Sprintf("Ping timeout: %d seconds", secs), now)
		return
	}
	c.pingPending = true
	s.sendTo(c, &ircmsg.Message{Command: "PING", Params: []string{s.cfg.ServerName}}, now)
}

// expire closes every connection whose registration deadline has passed.
func (s *core) expire(now time.Time) {
	for len(s.regq) > 0 && !s.regq[0].deadline.After(now) {
		e := s.regq[0]
		s.regq = s.regq[1:]
		if c, ok := s.clients[e.id]; ok && !c.registered {
			s.drop(c, "Registration timeout", now)
		}
	}
	s.trimRegq()
}

// trimRegq takes the entries of clients that have registered or gone off
// the head of the queue. Without it each would stay for the whole
// RegisterTimeout (32 bytes a client, 30 s by default), so a burst of
// clients that all register at once would keep the burst's queue.
func (s *core) trimRegq() {
	for len(s.regq) > 0 {
		if c, ok := s.clients[s.regq[0].id]; ok && !c.registered {
			break
		}
		s.regq = s.regq[1:]
	}
	if len(s.regq) == 0 {
		s.regq = nil // let the backing array go
	}
}

// nextDeadline is the earliest pending registration deadline.
func (s *core) nextDeadline() (time.Time, bool) {
	if len(s.regq) == 0 {
		return time.Time{}, false
	}
	return s.regq[0].deadline, true
}

// shutdown tells every client the server is going away. The caller then
// shuts the Backend down, which writes what is queued and closes.
func (s *core) shutdown(now time.Time) {
	if s.closing {
		return
	}
	s.closing = true
	ids := make([]ircsock.ConnID, 0, len(s.clients))
	for id := range s.clients {
		ids = append(ids, id)
	}
	if len(ids) > 0 {
		_ = s.out.Send(&ircmsg.Message{Command: "ERROR", Params: []string{"Server shutting down"}}, ids...)
	}
}

// inputError answers a bad input line with a notice: the line was dropped, the
// connection goes on.
func (s *core) inputError(id ircsock.ConnID, err error, now time.Time) {
	c, ok := s.clients[id]
	if !ok || s.closing {
		return
	}
	s.log.Debug("input error", "conn", id, "err", err)
	if blankLine(err) {
		return // RFC 1459 §2.3.1: empty messages are silently ignored
	}
	if isTooLong(err) {
		s.numeric(c, now, "417", "Input line was too long")
		return
	}
	// Only the innermost error is quoted: the outer ones carry the
	// client's line, which is not ours to echo.
	for errors.Unwrap(err) != nil {
		err = errors.Unwrap(err)
	}
	s.sendTo(c, &ircmsg.Message{Source: s.cfg.ServerName, Command: "NOTICE",
		Params: []string{c.target(), "Malformed line ignored (" + err.Error() + ")"}}, now)
}

// drop closes c with an ERROR line giving reason, and tells its channels.
func (s *core) drop(c *client, reason string, now time.Time) {
	s.log.LogAttrs(context.Background(), slog.LevelInfo, "drop", slog.Uint64("conn", uint64(c.id)), slog.String("nick", c.nick), slog.String("host", c.host), slog.String("reason", reason))
	m := &s.num
	*m = ircmsg.Message{Command: "ERROR", Params: append(s.numParams[:0], "Closing Link: "+c.host+" ("+reason+")")}
	_ = s.out.Send(m, c.id)
	clear(m.Params)
	s.numParams = m.Params[:0]
	*m = ircmsg.Message{}
	_ = s.out.Disconnect(c.id, reason)
	s.part(c, reason, now)
}

// part removes c from every channel, broadcasting its QUIT to the members
// it shared a channel with, and forgets it.
func (s *core) part(c *client, reason string, now time.Time) {
	if c.registered && len(c.channels) > 0 {
		peers := s.peers(c, false)
		s.deliver(&ircmsg.Message{Source: c.source(), Command: "QUIT", Params: []string{reason}}, peers, nil, now)
		s.donePeers(peers)
	}
	if c.registered {
		s.rememberWhowas(c, now)
		s.monitorOffline(c, c.nick, now)
	}
	s.monitorClear(c)
	if c.extra != nil {
		for _, ch := range c.extra.invitedTo {
			ch.forget(c)
		}
		c.extra.invitedTo = nil
	}
	for _, ch := range c.channels {
		ch.remove(c)
		if len(ch.members) == 0 {
			delete(s.chans, ch.folded)
		}
	}
	c.channels = nil
	if c.nick != "" && s.nicks[fold(c.nick)] == c {
		delete(s.nicks, fold(c.nick))
	}
	delete(s.clients, c.id)
}

// peers returns every client sharing a channel with c, once each, with c
// itself first if self is set, then in the order of c's channels and of
// their members. The list is the core's scratch: it is valid until the
// next call, and the caller hands it back with donePeers once done, so
// that it holds no departed client. The caller may filter it in place or
// append to it.
func (s *core) peers(c *client, self bool) []*client {
	s.peerEpoch++
	if s.peerEpoch == 0 {
		// Once in 2^32 calls: no client may keep a mark that a later
		// call would take for its own.
		for _, o := range s.clients {
			o.seen = 0
		}
		s.peerEpoch = 1
	}
	e := s.peerEpoch
	c.seen = e
	out := s.peerBuf[:0]
	if self {
		out = append(out, c)
	}
	for _, ch := range c.channels {
		for _, m := range ch.members {
			if m.seen != e {
				m.seen = e
				out = append(out, m)
			}
		}
	}
	s.peerLen = len(out)
	return out
}

// donePeers takes back the list peers returned, as the caller left it
// (filtered or longer), and clears it.
func (s *core) donePeers(p []*client) {
	clear(p[:max(len(p), min(s.peerLen, cap(p)))])
	s.peerBuf, s.peerLen = p[:0], 0
}

// deliver sends m to recipients, adding for each the tags its capabilities
// ask for: a time tag with server-time, the sender's client-only tags with
// message-tags. Recipients with the same capabilities share one Send. With
// only client tags and no message-tags, a recipient that cannot see tags
// still gets the message (PRIVMSG, NOTICE); TAGMSG callers filter first.
func (s *core) deliver(m *ircmsg.Message, to []*client, clientTags []ircmsg.Tag, now time.Time) {
	if len(to) == 0 {
		return
	}
	// The id lists are kept between calls: a channel message would
	// otherwise grow a fresh one, a few allocations for a big channel.
	// deliver never runs inside itself (Send does not call back).
	groups := &s.groups
	for g := range groups {
		groups[g] = groups[g][:0]
	}
	for _, c := range to {
		g := c.caps & (capMessageTags | capServerTime)
		groups[g] = append(groups[g], c.id)
	}
	stamp := "" // formatted once, and only if a recipient wants it
	mm := &s.out1
	for g, ids := range groups {
		if len(ids) == 0 {
			continue
		}
		*mm = *m
		mm.Tags = s.outTags[:0]
		if capSet(g)&capServerTime != 0 {
			if stamp == "" {
				stamp = now.UTC().Format("2006-01-02T15:04:05.000Z")
			}
			mm.Tags = append(mm.Tags, ircmsg.Tag{Key: "time", Value: stamp})
		}
		if capSet(g)&capMessageTags != 0 {
			mm.Tags = append(mm.Tags, clientTags...)
		}
		if err := s.out.Send(mm, ids...); err != nil {
			s.log.Debug("send", "command", keep(m.Command), "err", err)
		}
		s.outTags = mm.Tags[:0]
		clear(mm.Tags)
	}
	*mm = ircmsg.Message{}
}

// sendTo sends m to c alone.
func (s *core) sendTo(c *client, m *ircmsg.Message, now time.Time) {
	s.deliver(m, []*client{c}, nil, now)
}

// numeric sends c a reply from the server: code, c's nick, then params.
func (s *core) numeric(c *client, now time.Time, code string, params ...string) {
	p := append(s.numParams[:0], c.target())
	for i, v := range params {
		if i < len(params)-1 {
			v = middle(v)
		}
		p = append(p, v)
	}
	m := &s.num
	*m = ircmsg.Message{Source: s.cfg.ServerName, Command: code, Params: p}
	s.sendTo(c, m, now)
	*m = ircmsg.Message{}
	clear(p)
	s.numParams = p[:0]
}
