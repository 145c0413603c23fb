package ircsock

import (
	"runtime"
	"testing"

	"github.com/ircsock/ircsock/ircmsg"
)

// sink keeps events built in the allocation test from being optimised
// away.
var sink Event

func TestInputBlockEvent(t *testing.T) {
	if !boxesInput && runtime.Compiler == "gc" {
		t.Fatalf("boxesInput = false with the gc toolchain, want true: every Input costs an extra allocation")
	}
	c := &Conn{id: 42}
	blk := &inputBlock{}
	blk.m = ircmsg.Message{Command: "PRIVMSG", Params: []string{"#chan", "hello"}}
	blk.in = Input{Conn: c, Msg: &blk.m}
	ev := blk.event()
	in, ok := ev.(Input)
	if !ok {
		t.Fatalf("event() holds %T, want ircsock.Input", ev)
	}
	if in.Conn != c || in.Msg != &blk.m {
		t.Errorf("event() = {%p %p}, want {%p %p}", in.Conn, in.Msg, c, &blk.m)
	}
	if got := in.Msg.Params[1]; got != "hello" {
		t.Errorf("event().Msg.Params[1] = %q, want %q", got, "hello")
	}
	switch ev.(type) {
	case Input:
	default:
		t.Errorf("type switch on event() missed case Input (%T)", ev)
	}
	if n := testing.AllocsPerRun(100, func() { sink = blk.event() }); boxesInput && n != 0 {
		t.Errorf("event() allocates %v times, want 0", n)
	}
}
