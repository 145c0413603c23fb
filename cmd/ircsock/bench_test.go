package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ircsock/ircsock/internal/ircd"
)

func TestParseDelivery(t *testing.T) {
	ok := []struct {
		name string
		line string
		want delivery
	}{
		{"with source", ":b1!~b1@localhost PRIVMSG #bench0 :ircsock-bench 1 17 123456789 xxxx\r\n", delivery{1, 17, 123456789}},
		{"no padding", ":b1 PRIVMSG #bench0 :ircsock-bench 0 0 5", delivery{0, 0, 5}},
		{"tags", "@time=2026-01-01T00:00:00Z :b2!u@h PRIVMSG #bench1 :ircsock-bench 2 3 4 x\n", delivery{2, 3, 4}},
		{"no source", "PRIVMSG #c :ircsock-bench 9 8 7", delivery{9, 8, 7}},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseDelivery([]byte(tc.line))
			if !ok || got != tc.want {
				t.Errorf("parseDelivery(%q) = %+v, %v; want %+v, true", tc.line, got, ok, tc.want)
			}
		})
	}
	bad := []struct{ name, line string }{
		{"ping", "PING :server"},
		{"join", ":b1!u@h JOIN #bench0"},
		{"notice", ":b1!u@h NOTICE #bench0 :ircsock-bench 1 2 3"},
		{"other text", ":b1!u@h PRIVMSG #bench0 :hello 1 2 3"},
		{"missing field", ":b1!u@h PRIVMSG #bench0 :ircsock-bench 1 2"},
		{"letters", ":b1!u@h PRIVMSG #bench0 :ircsock-bench 1 x 3"},
		{"too many digits", ":b1!u@h PRIVMSG #bench0 :ircsock-bench 12345678 1 3"},
		{"glued", ":b1!u@h PRIVMSG #bench0 :ircsock-bench 1 2 3x"},
		{"empty", ""},
		{"no target", "PRIVMSG"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if got, ok := parseDelivery([]byte(tc.line)); ok {
				t.Errorf("parseDelivery(%q) = %+v, true; want false", tc.line, got)
			}
		})
	}
}

func TestAppendDeliveryRoundTrip(t *testing.T) {
	for _, size := range []int{deliveryHeaderMax, 64, benchMaxSize} {
		d := delivery{sender: 9999999, seq: 2147483647, sent: 1<<62 + 12345}
		text := appendDelivery(nil, d, size)
		if len(text) != size {
			t.Errorf("size %d: appendDelivery wrote %d bytes: %q", size, len(text), text)
		}
		line := ":nick!user@host PRIVMSG #bench0 :" + string(text) + "\r\n"
		if got, ok := parseDelivery([]byte(line)); !ok || got != d {
			t.Errorf("size %d: parseDelivery(%q) = %+v, %v; want %+v", size, line, got, ok, d)
		}
	}
}

func FuzzParseDelivery(f *testing.F) {
	f.Add([]byte(":b1!~b1@localhost PRIVMSG #bench0 :ircsock-bench 1 17 123456789 xxxx\r\n"))
	f.Add([]byte("@a=b PRIVMSG #c :ircsock-bench 0 0 0"))
	f.Add([]byte("PING :x"))
	f.Fuzz(func(t *testing.T, line []byte) {
		d, ok := parseDelivery(line)
		if !ok {
			return
		}
		if d.sender < 0 || d.seq < 0 || d.sent < 0 {
			t.Fatalf("parseDelivery(%q) = %+v: negative field", line, d)
		}
		again := "PRIVMSG #c :" + string(appendDelivery(nil, d, deliveryHeaderMax))
		if d2, ok := parseDelivery([]byte(again)); !ok || d2 != d {
			t.Fatalf("round trip of %+v through %q = %+v, %v", d, again, d2, ok)
		}
	})
}

// TestDeliveryAccounting feeds one receiver a stream with a duplicate, a
// gap and a message from outside its channel, and checks that each is
// counted and that the missing one is reported lost.
func TestDeliveryAccounting(t *testing.T) {
	cfg := benchConfig{Clients: 4, Senders: 2, Messages: 4, Channels: 2, Window: 1, Timeout: time.Second}
	run := newBenchRun(cfg)
	// Channel 0 holds clients 0 and 2, channel 1 clients 1 and 3: sender
	// 0 reaches client 2 only, sender 1 client 3 only.
	if run.expected != 8 {
		t.Fatalf("expected deliveries = %d, want 8", run.expected)
	}
	c2 := &benchClient{idx: 2, next: make([]int, cfg.Senders)}
	c3 := &benchClient{idx: 3, next: make([]int, cfg.Senders)}
	for _, seq := range []int{0, 1, 1, 3} { // 1 twice, 2 never
		c2.deliver(run, delivery{sender: 0, seq: seq, sent: 0}, 10)
	}
	c2.deliver(run, delivery{sender: 1, seq: 0}, 10) // not c2's channel
	for seq := range 4 {
		c3.deliver(run, delivery{sender: 1, seq: seq}, 10)
	}
	c3.deliver(run, delivery{sender: 0, seq: 9}, 10) // never sent
	var res benchResult
	res.collect(run, []*benchClient{c2, c3}, nil)
	if res.Delivered != 10 || res.Lost != 1 || res.OutOfOrder != 2 || res.Unexpected != 2 {
		t.Errorf("delivered %d, lost %d, out of order %d, unexpected %d; want 10, 1, 2, 2",
			res.Delivered, res.Lost, res.OutOfOrder, res.Unexpected)
	}
}

func TestLatencyHistogram(t *testing.T) {
	for _, v := range []int64{0, 1, 31, 32, 33, 63, 64, 1000, 123456, 1 << 39, 1<<40 - 1} {
		i := latencyBucket(v)
		if lo := latencyBucketLow(i); lo > v || latencyBucketLow(i+1) <= v {
			t.Errorf("value %d in bucket %d = [%d, %d)", v, i, lo, latencyBucketLow(i+1))
		}
	}
	var h latencyHistogram
	for v := int64(1); v <= 1000; v++ {
		h.add(v * 1000) // 1 µs to 1 ms
	}
	for _, tc := range []struct {
		q    float64
		want int64
	}{{0.5, 500_000}, {0.9, 900_000}, {0.99, 990_000}} {
		got := h.quantile(tc.q)
		if got < tc.want || float64(got) > float64(tc.want)*(1+1.0/latencySub) {
			t.Errorf("quantile(%v) = %d, want %d within one bucket above", tc.q, got, tc.want)
		}
	}
	if h.max != 1_000_000 {
		t.Errorf("max = %d, want 1000000", h.max)
	}
}

func TestBenchFlags(t *testing.T) {
	cases := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"help", []string{"bench", "-h"}, "-senders"},
		{"senders above clients", []string{"bench", "-clients", "2", "-senders", "3"}, "-senders must be"},
		{"small size", []string{"bench", "-size", "10"}, "-size must be"},
		{"bad oper", []string{"bench", "-oper", "nopass"}, "-oper must be"},
		{"extra arg", []string{"bench", "x"}, `unexpected argument "x"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			run(tc.args, &out, &errOut)
			if !strings.Contains(errOut.String(), tc.stderr) {
				t.Errorf("stderr %q, want it to contain %q", errOut.String(), tc.stderr)
			}
		})
	}
}

// TestBenchServe runs the bench against ircsock serve's server started in
// this process, sampling this process through /proc, and checks that the
// JSON counts every delivery the configuration implies and that the SVG
// is well-formed.
func TestBenchServe(t *testing.T) {
	defer goleak.VerifyNone(t)
	srv, err := ircd.New(ircd.Config{Listen: "127.0.0.1:0", MaxConnsPerIP: -1, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Run(ctx) }()
	defer func() {
		cancel()
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(testTimeout):
			t.Error("server did not stop")
		}
	}()

	// 13 clients over 2 channels: #bench0 holds 0, 2, ..., 12 (7),
	// #bench1 holds 1, 3, ..., 11 (6). Senders 0 and 2 reach 6 clients
	// each, sender 1 reaches 5: 17 receivers of 40 messages.
	const want = 17 * 40
	dir := t.TempDir()
	jsonFile, svgFile := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.svg")
	args := []string{"bench", "-addr", srv.Addr().String(), "-clients", "13", "-senders", "3",
		"-messages", "40", "-channels", "2", "-window", "8", "-timeout", "60s",
		"-pid", fmt.Sprint(os.Getpid()), "-json", jsonFile, "-svg", svgFile}
	res := runBenchCommand(t, args)
	checkBenchResult(t, res, want)
	if res.Server == nil || res.Server.Pid != os.Getpid() || res.Server.RSSPeak <= 0 {
		t.Errorf("server report %+v, want one for pid %d with its RSS", res.Server, os.Getpid())
	}
	checkSVG(t, svgFile)

	t.Run("fixed rate", func(t *testing.T) {
		res := runBenchCommand(t, []string{"bench", "-addr", srv.Addr().String(), "-clients", "4",
			"-senders", "2", "-messages", "30", "-rate", "600", "-nick-prefix", "r", "-timeout", "60s",
			"-json", jsonFile})
		checkBenchResult(t, res, 2*3*30)
	})
}

// TestBenchNgircd runs the bench against Debian's ngircd as
// scripts/bench-ngircd.sh starts it, with OPER and user mode +F for the
// senders.
func TestBenchNgircd(t *testing.T) {
	if _, err := exec.LookPath("ngircd"); err != nil {
		if _, err := os.Stat("/usr/sbin/ngircd"); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatal("ngircd is not installed; .ci/run installs it")
			}
			t.Skip("ngircd is not installed (apt-get install ngircd)")
		}
	}
	script, err := filepath.Abs("../../scripts/bench-ngircd.sh")
	if err != nil {
		t.Fatal(err)
	}
	var addr string
	var pid int
	for attempt := 1; ; attempt++ {
		port := freeTCPPort(t)
		dir := filepath.Join(t.TempDir(), "ngircd")
		cmd := exec.Command(script, fmt.Sprint(port), dir)
		var out syncBuffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		stop := func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(testTimeout):
				_ = cmd.Process.Kill()
				<-exited
				t.Errorf("ngircd did not stop on SIGTERM\n%s", out.String())
			}
		}
		addr = fmt.Sprintf("127.0.0.1:%d", port)
		err := waitListening(addr, exited, 15*time.Second)
		if err == nil {
			t.Cleanup(stop)
			pid = cmd.Process.Pid
			break
		}
		stop()
		if attempt == 3 || !strings.Contains(out.String(), "Can't bind") {
			t.Fatalf("ngircd did not start: %v\n%s", err, out.String())
		}
	}
	dir := t.TempDir()
	res := runBenchCommand(t, []string{"bench", "-addr", addr, "-clients", "12", "-senders", "3",
		"-messages", "50", "-oper", "bench:bench", "-umode", "+F", "-pid", fmt.Sprint(pid),
		"-timeout", "60s", "-json", filepath.Join(dir, "r.json")})
	checkBenchResult(t, res, 3*11*50)
	if res.Server == nil || res.Server.Error != "" || res.Server.CPUSeconds < 0 {
		t.Errorf("server report %+v, want one without error", res.Server)
	}
}

// runBenchCommand runs "ircsock bench" with args, which must include
// -json, and returns the decoded result.
func runBenchCommand(t *testing.T, args []string) *benchResult {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	if code != 0 {
		t.Fatalf("bench exited %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "| deliveries/s |") {
		t.Errorf("summary has no deliveries/s row:\n%s", out.String())
	}
	var jsonFile string
	for i, a := range args {
		if a == "-json" {
			jsonFile = args[i+1]
		}
	}
	b, err := os.ReadFile(jsonFile)
	if err != nil {
		t.Fatal(err)
	}
	var res benchResult
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatalf("JSON output: %v\n%s", err, b)
	}
	return &res
}

func checkBenchResult(t *testing.T, res *benchResult, want int64) {
	t.Helper()
	if res.Expected != want || res.Delivered != want || res.Lost != 0 || res.OutOfOrder != 0 || res.Unexpected != 0 {
		t.Errorf("expected %d, delivered %d, lost %d, out of order %d, unexpected %d; want %d delivered, none lost",
			res.Expected, res.Delivered, res.Lost, res.OutOfOrder, res.Unexpected, want)
	}
	var n int64
	for _, b := range res.Histogram {
		n += b.Count
	}
	if n != want {
		t.Errorf("latency histogram holds %d deliveries, want %d", n, want)
	}
	var sum float64
	for _, r := range res.Rates {
		sum += r * res.Bucket
	}
	if int64(sum+0.5) != want {
		t.Errorf("throughput series adds up to %.0f deliveries, want %d", sum, want)
	}
	if res.Latency.Max <= 0 || res.Latency.P50 > res.Latency.P99 || res.Latency.P99 > res.Latency.Max {
		t.Errorf("latency %+v, want 0 < p50 <= p99 <= max", res.Latency)
	}
}

func checkSVG(t *testing.T, name string) {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(bytes.NewReader(b))
	var rects int
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "rect" {
			rects++
		}
	}
	if rects < 4 || !bytes.Contains(b, []byte("<polyline")) {
		t.Errorf("SVG has %d rects and polyline %v; want histogram bars and a throughput line", rects, bytes.Contains(b, []byte("<polyline")))
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitListening dials addr until it accepts, the process exits or the
// bound passes.
func waitListening(addr string, exited <-chan struct{}, bound time.Duration) error {
	deadline := time.Now().Add(bound)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		select {
		case <-exited:
			return errors.New("the server exited")
		case <-tick.C:
		}
	}
}

// syncBuffer is a bytes.Buffer a child process and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestProgressBar checks that the bar is drawn only to a terminal: a pipe
// and a buffer get none, and a bar given a writer draws its counts.
func TestProgressBar(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if isTerminal(w) || isTerminal(&bytes.Buffer{}) {
		t.Error("isTerminal is true for a pipe or a buffer")
	}
	var out bytes.Buffer
	bar := newProgressBar(&out, 200)
	bar.draw(50, time.Second)
	if got := out.String(); !strings.Contains(got, " 25% 50/200 deliveries") || !strings.HasPrefix(got, "\r[") {
		t.Errorf("bar drew %q, want a carriage return, the bar and 25%% 50/200 deliveries", got)
	}
	out.Reset()
	newProgressBar(nil, 200).draw(50, time.Second)
	if out.Len() != 0 {
		t.Errorf("a bar without a writer drew %q", out.String())
	}
}
