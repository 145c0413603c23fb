package ircd

import (
	"github.com/ircsock/ircsock/irc"
	"slices"
	"strconv"
	"time"
)

// listEntry is one mask on a channel's ban (+b), exception (+e) or
// invite-exception (+I) list, with who set it and when (367, 348, 346).
type listEntry struct {
	mask  string
	m     *irc.Mask // mask, compiled once
	setBy string
	setAt time.Time
}

// channel is one channel's state. Members keep join order so that NAMES
// and WHO replies are deterministic.
type channel struct {
	name    string
	folded  string // fold(name): its key in core.chans
	topic   string
	topicBy string
	// created and topicAt are Unix seconds, all that 329 and 333 show:
	// 8 bytes each where a time.Time takes 24.
	created int64
	topicAt int64
	// members is the fan-out list. Whether a client is a member is
	// asked of its own channel list (see has), not of a set here: a
	// client is in few channels, and a map entry per membership cost
	// about 32 bytes of every client in every channel.
	members []*client
	// ops, voiced and invited are nil until their first entry: most
	// channels never have a voiced or invited client, and an empty
	// map costs 48 bytes.
	ops    map[*client]bool
	voiced map[*client]bool
	// invited holds the clients INVITEd since their last JOIN: an
	// invitation lets one JOIN through +i.
	invited map[*client]bool

	key        string // +k; empty when unset
	limit      int    // +l; zero when unset
	inviteOnly bool   // +i
	moderated  bool   // +m: only +o and +v may speak
	noExternal bool   // +n: only members may speak
	secret     bool   // +s: hidden from LIST, NAMES and WHO of non-members
	topicOps   bool   // +t: only +o may set the topic

	// lists is nil until a mask is set: most channels have none.
	lists *channelLists
}

// channelLists holds a channel's ban (+b), exception (+e) and
// invite-exception (+I) lists. Apart, so that a channel without any
// pays 8 bytes for them rather than 72 (with the times above, the
// channel record goes from 288 to 176 bytes).
type channelLists struct {
	bans, excepts, invex []listEntry
}

// masks returns ch's lists, making them on first use; reads that must
// not make them check ch.lists for nil.
func (ch *channel) masks() *channelLists {
	if ch.lists == nil {
		ch.lists = new(channelLists)
	}
	return ch.lists
}

func newChannel(name string, now time.Time) *channel {
	return &channel{
		name:       name,
		folded:     fold(name),
		created:    now.Unix(),
		noExternal: true, // +nt, the default of every common server
		topicOps:   true,
	}
}

// add makes c a member, an operator if op: on both sides, the
// channel's member list and c's channel list.
func (ch *channel) add(c *client, op bool) {
	ch.members = append(ch.members, c)
	c.channels = append(c.channels, ch)
	delete(ch.invited, c)
	if op {
		setFlag(&ch.ops, c, true)
	}
}

// has reports whether c is a member of ch. It scans c's channel list,
// at most Config.MaxChannels long, rather than ch's members, which can
// be thousands.
func (ch *channel) has(c *client) bool { return slices.Contains(c.channels, ch) }

// setFlag adds c to the set *m (ops, voiced or invited), making the map
// on first use, or takes it off.
func setFlag(m *map[*client]bool, c *client, on bool) {
	if !on {
		delete(*m, c)
		return
	}
	if *m == nil {
		*m = map[*client]bool{}
	}
	(*m)[c] = true
}

func (ch *channel) remove(c *client) {
	if i := slices.Index(ch.members, c); i >= 0 {
		ch.members = slices.Delete(ch.members, i, i+1)
	}
	delete(ch.ops, c)
	delete(ch.voiced, c)
}

// forget drops c from every per-client map of a channel it is not in: a
// client that quits must not stay invited.
func (ch *channel) forget(c *client) { delete(ch.invited, c) }

// prefix is c's highest membership prefix (PREFIX=(ov)@+), or "".
func (ch *channel) prefix(c *client) string {
	switch {
	case ch.ops[c]:
		return "@"
	case ch.voiced[c]:
		return "+"
	}
	return ""
}

func (ch *channel) prefixed(c *client) string { return ch.prefix(c) + c.nick }

// anyMatch reports whether c's nick!user@host matches a mask on list.
func anyMatch(list []listEntry, c *client) bool {
	src := c.source()
	for _, e := range list {
		if e.m.Match(src) {
			return true
		}
	}
	return false
}

// banned reports whether c matches a ban and no exception.
func (ch *channel) banned(c *client) bool {
	l := ch.lists
	return l != nil && anyMatch(l.bans, c) && !anyMatch(l.excepts, c)
}

// canSpeak applies +n, +m and bans to a message from c (RFC 2811 §4.2):
// ops and voiced members always may.
func (ch *channel) canSpeak(c *client) bool {
	if ch.ops[c] || ch.voiced[c] {
		return true
	}
	if ch.noExternal && !ch.has(c) {
		return false
	}
	return !ch.moderated && !ch.banned(c)
}

// visibleTo reports whether ch shows in LIST, NAMES and WHO for c.
func (ch *channel) visibleTo(c *client) bool { return !ch.secret || ch.has(c) }

// modeString is the channel's modes for 324 and LIST; the key is shown
// to members only, as ircd-hybrid and InspIRCd do.
func (ch *channel) modeString(c *client) (string, []string) {
	modes := "+"
	var args []string
	for _, f := range []struct {
		on bool
		ch byte
	}{{ch.inviteOnly, 'i'}, {ch.moderated, 'm'}, {ch.noExternal, 'n'}, {ch.secret, 's'}, {ch.topicOps, 't'}} {
		if f.on {
			modes += string(f.ch)
		}
	}
	if ch.key != "" {
		modes += "k"
		if ch.has(c) {
			args = append(args, ch.key)
		} else {
			args = append(args, "*")
		}
	}
	if ch.limit > 0 {
		modes += "l"
		args = append(args, strconv.Itoa(ch.limit))
	}
	return modes, args
}
