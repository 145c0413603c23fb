package client

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// The exchanges of RFC 5802 section 5 (SCRAM-SHA-1) and RFC 7677 section
// 3 (SCRAM-SHA-256): user "user", password "pencil", fixed nonces.
var scramVectors = []struct {
	mech, nonce, clientFirst, serverFirst, clientFinal, serverFinal string
}{
	{
		mech: "SCRAM-SHA-1", nonce: "fyko+d2lbbFgONRv9qkxdawL",
		clientFirst: "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
		serverFirst: "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
		clientFinal: "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
		serverFinal: "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=",
	},
	{
		mech: "SCRAM-SHA-256", nonce: "rOprNGfwEbeRWgbNEkqO",
		clientFirst: "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
		serverFirst: "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
		clientFinal: "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
		serverFinal: "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
	},
}

func TestSCRAMVectors(t *testing.T) {
	for _, v := range scramVectors {
		t.Run(v.mech, func(t *testing.T) {
			m := newSCRAM(v.mech, "user", "pencil", []byte(v.nonce))
			first, err := m.start()
			if err != nil || string(first) != v.clientFirst {
				t.Fatalf("start() = %q, %v; want %q", first, err, v.clientFirst)
			}
			final, err := m.next([]byte(v.serverFirst))
			if err != nil || string(final) != v.clientFinal {
				t.Fatalf("client-final = %q, %v; want %q", final, err, v.clientFinal)
			}
			end, err := m.next([]byte(v.serverFinal))
			if err != nil || len(end) != 0 || !m.verified() {
				t.Fatalf("after server-final: %q, %v, verified %v; want empty, nil, true", end, err, m.verified())
			}
		})
		t.Run(v.mech+" wrong server signature", func(t *testing.T) {
			m := newSCRAM(v.mech, "user", "pencil", []byte(v.nonce))
			_, _ = m.start()
			if _, err := m.next([]byte(v.serverFirst)); err != nil {
				t.Fatal(err)
			}
			bad := "v=" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32))
			_, err := m.next([]byte(bad))
			if !errors.Is(err, ErrSCRAM) || !errors.Is(err, ErrSASLFailed) || m.verified() {
				t.Errorf("wrong v=: err %v, verified %v; want ErrSCRAM (an ErrSASLFailed)", err, m.verified())
			}
		})
		t.Run(v.mech+" wrong password", func(t *testing.T) {
			m := newSCRAM(v.mech, "user", "pencil!", []byte(v.nonce))
			_, _ = m.start()
			final, err := m.next([]byte(v.serverFirst))
			if err != nil {
				t.Fatal(err)
			}
			if string(final) == v.clientFinal {
				t.Error("a wrong password gave the right proof")
			}
			if _, err := m.next([]byte(v.serverFinal)); !errors.Is(err, ErrSCRAM) {
				t.Errorf("the real server's signature for another password: %v, want ErrSCRAM", err)
			}
		})
	}
}

func TestSCRAMRejects(t *testing.T) {
	cases := []struct{ name, serverFirst string }{
		{"nonce not extended", "r=other,s=QSXCR+Q6sek8bf92,i=4096"},
		{"nonce not longer", "r=abc,s=QSXCR+Q6sek8bf92,i=4096"},
		{"bad salt", "r=abcdef,s=***,i=4096"},
		{"no iterations", "r=abcdef,s=QSXCR+Q6sek8bf92"},
		{"too many iterations", "r=abcdef,s=QSXCR+Q6sek8bf92,i=100000000"},
		{"server error", "e=invalid-proof"},
		{"mandatory extension", "m=ext,r=abcdef,s=QSXCR+Q6sek8bf92,i=4096"},
		{"malformed", "garbage"},
		{"repeated attribute", "r=abcdef,r=abcdefg,s=QSXCR+Q6sek8bf92,i=1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := newSCRAM("SCRAM-SHA-256", "user", "pencil", []byte("abc"))
			_, _ = m.start()
			if _, err := m.next([]byte(tc.serverFirst)); !errors.Is(err, ErrSCRAM) {
				t.Errorf("next(%q) = %v, want ErrSCRAM", tc.serverFirst, err)
			}
		})
	}
}

func TestSCRAMUsernameEscaped(t *testing.T) {
	m := newSCRAM("SCRAM-SHA-256", "a=b,c", "p", []byte("n"))
	first, _ := m.start()
	if want := "n,,n=a=3Db=2Cc,r=n"; string(first) != want {
		t.Errorf("start() = %q, want %q", first, want)
	}
}

func TestAuthenticateLines(t *testing.T) {
	cases := []struct {
		name string
		raw  int // bytes before base64; 300 raw bytes are exactly 400 base64
		want []int
	}{
		{"empty", 0, []int{1}},
		{"short", 10, []int{16}},
		{"exactly 400", 300, []int{400, 1}},
		{"401", 301, []int{400, 4}},
		{"exactly 800", 600, []int{400, 400, 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			raw := bytes.Repeat([]byte{'x'}, tc.raw)
			lines := authenticateLines(raw)
			var got []int
			for _, l := range lines {
				got = append(got, len(l))
			}
			if len(got) != len(tc.want) {
				t.Fatalf("chunk lengths %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("chunk lengths %v, want %v", got, tc.want)
				}
			}
			if lines[len(lines)-1] == "+" != (tc.raw == 0 || len(base64.StdEncoding.EncodeToString(raw))%400 == 0) {
				t.Errorf("last chunk %q", lines[len(lines)-1])
			}
			// The server side of the same rule gets the bytes back.
			a := authBuffer{max: DefaultMaxSASLResponse}
			for i, l := range lines {
				back, done, err := a.feed(l)
				if err != nil {
					t.Fatal(err)
				}
				if done != (i == len(lines)-1) {
					t.Fatalf("chunk %d: done = %v", i, done)
				}
				if done && !bytes.Equal(back, raw) {
					t.Errorf("reassembled %d bytes, want %d", len(back), len(raw))
				}
			}
		})
	}
}

func TestAuthBufferLimit(t *testing.T) {
	a := authBuffer{max: 800}
	chunk := strings.Repeat("A", 400)
	for range 2 {
		if _, done, err := a.feed(chunk); err != nil || done {
			t.Fatalf("feed = %v, %v", done, err)
		}
	}
	if _, _, err := a.feed(chunk); !errors.Is(err, ErrSASLTooLong) {
		t.Errorf("third 400-byte chunk past an 800-byte limit: %v, want ErrSASLTooLong", err)
	}
	if _, _, err := (&authBuffer{max: 100}).feed("!!!"); !errors.Is(err, ErrSASLFailed) {
		t.Errorf("non-base64 challenge: %v, want ErrSASLFailed", err)
	}
}
