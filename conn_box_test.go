package ircsock

import (
	"testing"

	"github.com/ircsock/ircsock/ircmsg"
)

// sink keeps events built in the allocation test from being optimised
// away.
var sink Event

// TestInputEventNoAlloc checks that an Input, being one pointer wide, is
// delivered as an Event without an allocation of its own, and that its
// fields read through as ev.Conn and ev.Msg.
func TestInputEventNoAlloc(t *testing.T) {
	c := &Conn{id: 42}
	blk := &inputBlock{}
	blk.m = ircmsg.Message{Command: "PRIVMSG", Params: []string{"#chan", "hello"}}
	blk.conn = c
	var ev Event = Input{blk}
	in, ok := ev.(Input)
	if !ok {
		t.Fatalf("event holds %T, want ircsock.Input", ev)
	}
	if in.Conn() != c || in.Msg() != &blk.m {
		t.Errorf("Input = {%p %p}, want {%p %p}", in.Conn, in.Msg, c, &blk.m)
	}
	if got := in.Msg().Params[1]; got != "hello" {
		t.Errorf("Input.Msg.Params[1] = %q, want %q", got, "hello")
	}
	if n := testing.AllocsPerRun(100, func() { sink = Input{blk} }); n != 0 {
		t.Errorf("Input as Event allocates %v times, want 0", n)
	}
}
