package client

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ircsock/ircsock/ircmsg"
)

// FuzzParseCaps: any CAP LS/NEW/ACK list parses; names never hold a
// space or '=', and writing the map back and parsing again gives it back.
func FuzzParseCaps(f *testing.F) {
	f.Add("account-notify away-notify sasl=PLAIN,EXTERNAL server-time")
	f.Add("draft/x=1,2 =v a== b=c=d  ")
	f.Add("")
	f.Fuzz(func(t *testing.T, list string) {
		caps := parseCaps(list)
		var b strings.Builder
		for name, v := range caps {
			if strings.ContainsAny(name, " =") && name != "" {
				t.Fatalf("name %q from %q", name, list)
			}
			if strings.ContainsAny(name, " \t\n\r\v\f") || strings.ContainsAny(v, " \t\n\r\v\f") {
				t.Fatalf("white space in %q=%q from %q", name, v, list)
			}
			b.WriteString(name)
			if v != "" {
				b.WriteString("=" + v)
			}
			b.WriteByte(' ')
		}
		again := parseCaps(b.String())
		if len(again) != len(caps) {
			t.Fatalf("%q: %v, then %v", list, caps, again)
		}
		for k, v := range caps {
			if again[k] != v {
				t.Fatalf("%q: %v, then %v", list, caps, again)
			}
		}
	})
}

// FuzzAuthenticate: any payload survives chunking and reassembly; any
// parameter sequence from a server never panics the reassembly.
func FuzzAuthenticate(f *testing.F) {
	f.Add([]byte("\x00user\x00pass"), "+")
	f.Add(bytes.Repeat([]byte{'x'}, 300), strings.Repeat("A", 400))
	f.Add([]byte{}, "!!")
	f.Fuzz(func(t *testing.T, raw []byte, param string) {
		a := authBuffer{max: DefaultMaxSASLResponse}
		lines := authenticateLines(raw)
		for i, l := range lines {
			if len(l) > saslChunk {
				t.Fatalf("chunk of %d bytes", len(l))
			}
			back, done, err := a.feed(l)
			if err != nil {
				t.Fatal(err)
			}
			if done != (i == len(lines)-1) {
				t.Fatalf("chunk %d of %d: done %v", i, len(lines), done)
			}
			if done && !bytes.Equal(back, raw) {
				t.Fatalf("got %q back, want %q", back, raw)
			}
		}
		b := authBuffer{max: 1000}
		for range 4 {
			_, _, _ = b.feed(param)
		}
	})
}

// FuzzSCRAM: any server message at any step is answered or refused,
// never a panic, and a refusal is ErrSCRAM; an accepted server-first
// extends the client nonce.
func FuzzSCRAM(f *testing.F) {
	for _, v := range scramVectors {
		f.Add(v.serverFirst, v.serverFinal)
	}
	f.Add("r=fyko+d2lbbFgONRv9qkxdawLx,s=,i=1", "v=")
	f.Add("e=other-error", "e=x")
	f.Fuzz(func(t *testing.T, first, final string) {
		m := newSCRAM("SCRAM-SHA-1", "user", "pencil", []byte("fyko+d2lbbFgONRv9qkxdawL"))
		_, _ = m.start()
		if strings.Contains(first, "i=") {
			// Keep the work of a fuzz run small: a huge count is
			// refused anyway, and PBKDF2 is not under test.
			first = strings.ReplaceAll(first, "i=4096", "i=2")
		}
		out, err := m.next([]byte(first))
		if err != nil {
			return
		}
		if !strings.Contains(string(out), "r=fyko+d2lbbFgONRv9qkxdawL") {
			t.Fatalf("accepted %q and answered %q", first, out)
		}
		_, _ = m.next([]byte(final))
	})
}

// FuzzTrack: any message a server sends updates the state without a
// panic, and the state's snapshots stay readable.
func FuzzTrack(f *testing.F) {
	seeds := []string{
		":irc.test 005 me CASEMAPPING=ascii PREFIX=(qaohv)~&@%+ CHANMODES=beI,k,l,imnpst :are supported",
		":me!u@h JOIN #chan",
		":other!u@h JOIN #chan acct :Real Name",
		":irc.test 353 me = #chan :@+me ~&other!u@h +x",
		":op!u@h MODE #chan +ovbk-o other other *!*@x key other",
		":other!u@h NICK :Other2",
		":other2!u@h AWAY :gone",
		":other2!u@h CHGHOST user new.host",
		":other2!u@h SETNAME :New",
		":other2!u@h ACCOUNT *",
		":op!u@h KICK #chan Other2 :bye",
		":me!u@h PART #chan",
		":x QUIT :bye",
		":irc.test 332 me #chan :topic",
		":irc.test 333 me #chan setter 1700000000",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		c, err := New(Config{Addr: "h:1", Nick: "me"})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{seeds[1], seeds[2], seeds[3], line, line} {
			m, err := ircmsg.ParseString(s)
			if err != nil {
				continue
			}
			c.track(m)
		}
		for _, name := range c.Channels() {
			ch, ok := c.Channel(name)
			if !ok {
				t.Fatalf("Channels() lists %q but Channel() does not find it", name)
			}
			for _, mb := range ch.Members {
				if _, ok := c.User(mb.Nick); !ok {
					t.Fatalf("member %q of %q is not a known user", mb.Nick, name)
				}
			}
		}
	})
}
