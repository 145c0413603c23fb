package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// benchConfig is what one "ircsock bench" run does. The zero value of each
// field means the default that benchFlags documents.
type benchConfig struct {
	Addr     string `json:"addr"`
	Clients  int    `json:"clients"`
	Senders  int    `json:"senders"`
	Messages int    `json:"messages_per_sender"`
	Channels int    `json:"channels"`
	// Rate is the messages per second all senders together aim for; zero
	// sends as fast as Window lets.
	Rate float64 `json:"rate"`
	// Window is how many of its messages one sender may have out that
	// have not yet reached every receiver.
	Window  int    `json:"window"`
	Size    int    `json:"size"`
	Prefix  string `json:"nick_prefix"`
	Pass    string `json:"-"`
	Oper    string `json:"-"`
	UseOper bool   `json:"oper"`
	// UserModes are set by each sender with MODE after OPER.
	UserModes string        `json:"user_modes,omitempty"`
	Pid       int           `json:"server_pid,omitempty"`
	Dialers   int           `json:"dialers"`
	Timeout   time.Duration `json:"-"`
	Stall     time.Duration `json:"-"`
	// Progress is where the progress bar goes; nil for none.
	Progress io.Writer `json:"-"`
}

// Defaults of the bench flags.
const (
	benchDefaultClients  = 200
	benchDefaultSenders  = 10
	benchDefaultMessages = 1000
	benchDefaultWindow   = 128
	benchDefaultSize     = 64
	benchDefaultDialers  = 16
	benchDefaultTimeout  = 5 * time.Minute
	benchDefaultStall    = 15 * time.Second
	// benchMaxSize keeps a delivered line within RFC 1459's 512 bytes
	// with room for a long source prefix and channel name.
	benchMaxSize = 300
)

// errBenchFailed is returned when a run completed but lost or reordered
// deliveries; the report says which.
var errBenchFailed = errors.New("bench: deliveries lost or out of order")

const benchUsage = `usage: ircsock bench [flags]

Connects -clients clients to an IRC server, spreads them over -channels
channels (client i joins #bench<i mod channels>), and has the first
-senders clients each send -messages PRIVMSGs to their channel. Every
delivery is checked: none lost, none out of order per sender. Prints a
summary table on stdout, a progress bar on stderr when it is a terminal,
and writes the raw results as JSON (-json) and a latency and throughput
chart as SVG (-svg). With -pid, the server's CPU time, RSS and write()
system calls are sampled from /proc. Exits 1 if any delivery was lost or
reordered, or the run failed.

The server must let the senders flood: with ngircd, give -oper and
-umode +F (scripts/bench-ngircd.sh starts one that way); with ircsock
serve, pass -max-conns-per-ip -1 (or at least -clients).

flags:
`

// bench runs "ircsock bench" and returns the exit status.
func bench(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg benchConfig
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:6667", "server `host:port`")
	fs.IntVar(&cfg.Clients, "clients", benchDefaultClients, "`number` of clients, senders included")
	fs.IntVar(&cfg.Senders, "senders", benchDefaultSenders, "`number` of clients that send")
	fs.IntVar(&cfg.Messages, "messages", benchDefaultMessages, "`number` of messages each sender sends")
	fs.IntVar(&cfg.Channels, "channels", 1, "`number` of channels")
	fs.Float64Var(&cfg.Rate, "rate", 0, "messages per `second` over all senders (0: as fast as -window allows)")
	fs.IntVar(&cfg.Window, "window", benchDefaultWindow, "most `messages` of one sender not yet delivered to all of its receivers")
	fs.IntVar(&cfg.Size, "size", benchDefaultSize, fmt.Sprintf("message text `bytes` (at least the header, at most %d)", benchMaxSize))
	fs.StringVar(&cfg.Prefix, "nick-prefix", "b", "nick `prefix`; client i is <prefix><i>")
	fs.StringVar(&cfg.Pass, "pass", "", "server `password` sent with PASS")
	fs.StringVar(&cfg.Oper, "oper", "", "`name:password` for OPER by each sender")
	fs.StringVar(&cfg.UserModes, "umode", "", "user `modes` each sender sets after OPER, e.g. +F")
	fs.IntVar(&cfg.Pid, "pid", 0, "server `pid` whose CPU, RSS and write() calls are sampled from /proc")
	fs.IntVar(&cfg.Dialers, "dialers", benchDefaultDialers, "`number` of clients that connect and register at once")
	fs.DurationVar(&cfg.Timeout, "timeout", benchDefaultTimeout, "bound on the whole run")
	fs.DurationVar(&cfg.Stall, "stall", benchDefaultStall, "end the run when no delivery arrives for this long")
	jsonFile := fs.String("json", "", "write the raw results as JSON to `file`")
	svgFile := fs.String("svg", "", "write the latency distribution and throughput over time as SVG to `file`")
	noProgress := fs.Bool("no-progress", false, "no progress bar even on a terminal")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), benchUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitForParse(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ircsock bench: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if err := cfg.check(); err != nil {
		fmt.Fprintf(stderr, "ircsock bench: %v\n", err)
		return 2
	}
	if !*noProgress && isTerminal(stderr) {
		cfg.Progress = stderr
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := runBench(ctx, cfg)
	if res != nil {
		res.writeSummary(stdout)
		if *jsonFile != "" {
			if werr := writeJSON(*jsonFile, res); werr != nil {
				fmt.Fprintf(stderr, "ircsock bench: %v\n", werr)
				return 1
			}
		}
		if *svgFile != "" {
			if werr := writeSVGFile(*svgFile, res); werr != nil {
				fmt.Fprintf(stderr, "ircsock bench: %v\n", werr)
				return 1
			}
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "ircsock bench: %v\n", err)
		return 1
	}
	return 0
}

// check rejects a configuration that cannot run, naming the flag.
func (c *benchConfig) check() error {
	switch {
	case c.Clients < 1:
		return errors.New("-clients must be at least 1")
	case c.Senders < 1 || c.Senders > c.Clients:
		return errors.New("-senders must be between 1 and -clients")
	case c.Messages < 1:
		return errors.New("-messages must be at least 1")
	case c.Channels < 1 || c.Channels > c.Clients:
		return errors.New("-channels must be between 1 and -clients")
	case c.Rate < 0:
		return errors.New("-rate must not be negative")
	case c.Window < 1:
		return errors.New("-window must be at least 1")
	case c.Size < deliveryHeaderMax || c.Size > benchMaxSize:
		return fmt.Errorf("-size must be between %d and %d", deliveryHeaderMax, benchMaxSize)
	case c.Dialers < 1:
		return errors.New("-dialers must be at least 1")
	case c.Timeout <= 0 || c.Stall <= 0:
		return errors.New("-timeout and -stall must be positive")
	case c.Prefix == "" || strings.ContainsAny(c.Prefix, " \r\n\x00:"):
		return errors.New("-nick-prefix must be a non-empty nick")
	case c.Oper != "" && !strings.Contains(c.Oper, ":"):
		return errors.New("-oper must be name:password")
	case c.UserModes != "" && strings.ContainsAny(c.UserModes, " \r\n\x00"):
		return errors.New("-umode must be one word such as +F")
	}
	c.UseOper = c.Oper != ""
	return nil
}

// channelOf is the channel client i joins.
func (c *benchConfig) channelOf(i int) string { return fmt.Sprintf("#bench%d", i%c.Channels) }

// receiversOf is how many clients receive sender s's messages: the other
// members of its channel.
func (c *benchConfig) receiversOf(s int) int {
	ch := s % c.Channels
	members := c.Clients / c.Channels
	if ch < c.Clients%c.Channels {
		members++
	}
	return members - 1
}

// expectedDeliveries is the number of deliveries a lossless run makes.
func (c *benchConfig) expectedDeliveries() int64 {
	var n int64
	for s := range c.Senders {
		n += int64(c.receiversOf(s)) * int64(c.Messages)
	}
	return n
}

// isTerminal reports whether w is a character device, the way a shell's
// isatty does without cgo.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func writeJSON(name string, res *benchResult) error {
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(name, append(b, '\n'), 0o644)
}

func writeSVGFile(name string, res *benchResult) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := writeSVG(f, res); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
