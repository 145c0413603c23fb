// Command ircsock is the ircsock toolkit's program. Its first subcommand,
// serve, runs a small IRC server built only on the ircsock Backend:
//
//	go run ./cmd/ircsock serve
//
// listens on 127.0.0.1:6667 with no configuration. Run "ircsock serve -h"
// for its flags. Each listener is logged on stderr as a line with
// msg=listening, its bound address (addr=HOST:PORT) and tls=true|false, so
// that a script that passed port 0 can find the port.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/ircsock/ircsock"
	"github.com/ircsock/ircsock/internal/ircd"
	"github.com/ircsock/ircsock/sock"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage: ircsock <command> [flags]

commands:
  serve     run a small IRC server (default 127.0.0.1:6667)
  bench     load an IRC server with clients and check every delivery
  version   print the version

Run "ircsock <command> -h" for a command's flags.
`

// run is main without the process: it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stderr)
	case "bench":
		return bench(args[1:], stdout, stderr)
	case "version":
		fs := flag.NewFlagSet("version", flag.ContinueOnError)
		fs.SetOutput(stderr)
		fs.Usage = func() {
			fmt.Fprintln(stderr, "usage: ircsock version\n\nPrints the module version of ircsock and the VCS revision it was built from.")
		}
		if err := fs.Parse(args[1:]); err != nil {
			return exitForParse(err)
		}
		fmt.Fprintln(stdout, "ircsock", version())
		return 0
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "ircsock: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}

func exitForParse(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 2
}

// version describes the build: the module version and, when the binary
// was built from a git checkout (go build stamps it by default; -buildvcs=false
// turns it off), the VCS revision, its commit time and whether the work tree
// had uncommitted changes.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown) no build information in the binary"
	}
	return describeBuild(bi)
}

// describeBuild formats what version prints from a build's information,
// for example
//
//	v1.2.0 revision 3624ba6e5f0c (2026-12-02T16:21:00Z)
//	(devel) revision 3624ba6e5f0c (2026-12-02T16:21:00Z, modified)
//	(devel) no VCS revision (built with -buildvcs=false or outside a checkout)
func describeBuild(bi *debug.BuildInfo) string {
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, when string
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" {
		return v + " no VCS revision (built with -buildvcs=false or outside a checkout)"
	}
	var notes []string
	if when != "" {
		notes = append(notes, when)
	}
	if modified {
		notes = append(notes, "modified")
	}
	out := v + " revision " + rev
	if len(notes) > 0 {
		out += " (" + strings.Join(notes, ", ") + ")"
	}
	return out
}

// shortVersion is the version the server announces (RPL_MYINFO): the module
// version, with the first 12 digits of the revision when there is one.
func shortVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && s.Value != "" {
			return v + "-" + s.Value[:min(12, len(s.Value))]
		}
	}
	return v
}

// parsePrefix takes a network (CIDR) or a single address, which stands
// for itself alone.
func parsePrefix(s string) (netip.Prefix, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("not a network or address: %q", s)
	}
	return p.Masked(), nil
}

func defaultDataDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "ircsock")
	}
	return filepath.Join(dir, "ircsock")
}

func serve(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		cfg      ircd.Config
		certFile = fs.String("tls-cert", "", "TLS certificate `file` (PEM); with neither it nor -tls-key, a self-signed certificate is generated in -data")
		keyFile  = fs.String("tls-key", "", "TLS private key `file` (PEM)")
		dataDir  = fs.String("data", defaultDataDir(), "`directory` for the generated certificate")
		motdFile = fs.String("motd", "", "message of the day `file` (default: a built-in greeting)")
		logLevel = fs.String("log-level", "info", "log `level`: debug, info, warn or error")
	)
	fs.StringVar(&cfg.Listen, "listen", ircd.DefaultListen, "plain-text listener `host:port` (port 0: any free port; \"none\": no plain listener)")
	fs.StringVar(&cfg.TLSListen, "tls-listen", "", "TLS listener `host:port`, e.g. 127.0.0.1:6697 (default: none)")
	fs.StringVar(&cfg.WebSocketListen, "ws-listen", "", "IRC over WebSocket (ws://, for browsers) listener `host:port`, e.g. 127.0.0.1:8067 (default: none)")
	fs.StringVar(&cfg.WebSocketTLSListen, "wss-listen", "", "IRC over secure WebSocket (wss://) listener `host:port`, with the TLS certificate (default: none)")
	fs.StringVar(&cfg.WebSocketPath, "ws-path", "/", "request `path` of WebSocket upgrades")
	fs.Func("ws-origins", "comma-separated web `origins` whose pages may connect over WebSocket, e.g. https://chat.example.org or *.example.org or * (default: the listener's own host only)", func(v string) error {
		for _, o := range strings.Split(v, ",") {
			if o = strings.TrimSpace(o); o != "" {
				cfg.WebSocketOrigins = append(cfg.WebSocketOrigins, o)
			}
		}
		return nil
	})
	fs.Func("proxy-from", "comma-separated `networks` of trusted PROXY protocol proxies (e.g. 127.0.0.1/32,::1/128); their connections must send a v1 or v2 header naming the client (default: none)", func(v string) error {
		for _, f := range strings.Split(v, ",") {
			p, err := parsePrefix(strings.TrimSpace(f))
			if err != nil {
				return err
			}
			cfg.ProxyFrom = append(cfg.ProxyFrom, p)
		}
		return nil
	})
	fs.BoolVar(&cfg.ProxyOptional, "proxy-optional", false, "let a -proxy-from address connect without a PROXY header, keeping its own address (default: such a connection is refused)")
	fs.StringVar(&cfg.ServerName, "name", ircd.DefaultServerName, "server `name`")
	fs.StringVar(&cfg.Network, "network", ircd.DefaultNetwork, "network `name` (NETWORK in 005)")
	fs.StringVar(&cfg.Password, "password", "", "connection `password` clients must send with PASS (default: none)")
	fs.DurationVar(&cfg.PingInterval, "ping", ircd.DefaultPingInterval, "idle `time` before a PING; no reply within as long again closes the client")
	fs.DurationVar(&cfg.RegisterTimeout, "register-timeout", ircd.DefaultRegisterTimeout, "`time` a connection has to register (NICK, USER, CAP END)")
	fs.IntVar(&cfg.MaxConns, "max-conns", ircd.DefaultMaxConns, "most `connections` open at once per listener, or in all with -share-limits (negative: no limit)")
	fs.IntVar(&cfg.MaxConnsPerIP, "max-conns-per-ip", ircd.DefaultMaxConnsPerIP, "most `connections` open at once from one address per listener, or in all with -share-limits (negative: no limit)")
	fs.BoolVar(&cfg.ShareLimits, "share-limits", false, "count -max-conns, -max-conns-per-ip and -throttle across all listeners together, so a client is counted once whichever port it uses (default: each listener counts on its own)")
	fs.IntVar(&cfg.IPv6Prefix, "ipv6-prefix", 64, "leading `bits` of an IPv6 address that count as one client for the per-address limits")
	fs.IntVar(&cfg.Throttle.Conns, "throttle", 0, "most `connections` one address may open per -throttle-window; past it, refused for -throttle-ban (0: off)")
	fs.DurationVar(&cfg.Throttle.Window, "throttle-window", sock.DefaultThrottleWindow, "`period` -throttle counts over")
	fs.DurationVar(&cfg.Throttle.Ban, "throttle-ban", sock.DefaultThrottleBan, "how long an address over -throttle is refused")
	fs.IntVar(&cfg.Throttle.MaxAddrs, "throttle-max-addrs", sock.DefaultThrottleMaxAddrs, "most `addresses` -throttle follows at once per listener; while that many are within their window or ban, new addresses are refused")
	fs.DurationVar(&cfg.RefuseLinger, "refuse-linger", sock.DefaultRefuseLinger, "how long a refused connection is kept after its ERROR line, its input dropped, so a reset cannot destroy the line (negative: none)")
	fs.IntVar(&cfg.MaxRefusing, "max-refusing", sock.DefaultMaxRefusing, "most refused `connections` lingering at once per listener; past it they are closed at once (negative: none lingers)")
	fs.DurationVar(&cfg.RefusalLogInterval, "refusal-log-interval", ircd.DefaultRefusalLogInterval, "how often, at most, a listener refusing connections is logged at warn level with its refusal counts; every refusal is logged at debug level (negative: debug only)")
	fs.Func("exempt", "`CIDR` exempt from the per-address limits and flood control (repeatable)", func(v string) error {
		p, err := netip.ParsePrefix(v)
		if err != nil {
			return err
		}
		cfg.Exempt = append(cfg.Exempt, p)
		return nil
	})
	fs.IntVar(&cfg.Flood.Burst, "flood-burst", 0, "`commands` a client may send at once before flood control delays the rest (0: no flood control)")
	fs.DurationVar(&cfg.Flood.Interval, "flood-interval", ircsock.DefaultFloodInterval, "after the burst, one command per `interval`")
	fs.IntVar(&cfg.Flood.MaxQueued, "flood-queue", ircsock.DefaultFloodQueue, "most delayed `commands` before the client is closed with Excess Flood")
	fs.DurationVar(&cfg.STSDuration, "sts-duration", ircd.DefaultSTSDuration, "IRCv3 STS policy `duration` advertised with a TLS listener (negative: no STS)")
	fs.IntVar(&cfg.STSPort, "sts-port", 0, "`port` the plain listener's STS policy names (0: the TLS listener's)")
	fs.IntVar(&cfg.MaxSendQ, "max-sendq", 1<<20, "most `bytes` queued for one client before it is dropped")
	fs.IntVar(&cfg.MaxLine, "max-line", ircsock.DefaultMaxLine, "longest input line in `bytes`, CR LF excluded")
	fs.IntVar(&cfg.MaxChannels, "max-channels", ircd.DefaultMaxChannels, "most `channels` one client may be in")
	fs.IntVar(&cfg.MaxListEntries, "max-list", ircd.DefaultMaxListEntries, "most `masks` on each channel ban, exception and invite-exception list")
	fs.IntVar(&cfg.MaxMonitor, "max-monitor", ircd.DefaultMaxMonitor, "most `nicks` one client may MONITOR")
	fs.IntVar(&cfg.WhowasHistory, "whowas", ircd.DefaultWhowasHistory, "how many departed `nicks` WHOWAS remembers (negative: none)")
	fs.StringVar(&cfg.AdminLocation, "admin-location", "", "`text` for the ADMIN reply's location")
	fs.StringVar(&cfg.AdminEmail, "admin-email", "", "contact `address` for the ADMIN reply")
	fs.Func("oper", "operator `name:password` for OPER (repeatable)", func(v string) error {
		name, pass, ok := strings.Cut(v, ":")
		if !ok || name == "" || pass == "" {
			return errors.New("want name:password")
		}
		if cfg.Opers == nil {
			cfg.Opers = map[string]string{}
		}
		cfg.Opers[name] = pass
		return nil
	})
	fs.DurationVar(&cfg.DrainTimeout, "drain-timeout", ircd.DefaultDrainTimeout, "`time` a closed client's connection waits for the client to close its side")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", ircd.DefaultShutdownTimeout, "`time` to flush output on SIGINT/SIGTERM before closing at once")
	gcFlag := fs.Int("gc-percent", defaultServeGCPercent, "heap growth in `percent` the garbage collector allows between collections (debug.SetGCPercent); 0: the runtime's own, 100 unless GOGC says otherwise, which also applies when GOGC is set and this flag is not")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "usage: ircsock serve [flags]\n\n"+
			"Runs a small IRC server on the ircsock Backend. With no flags it listens\n"+
			"on 127.0.0.1:6667. Each listener is logged on stderr as\n"+
			"  level=INFO msg=listening addr=HOST:PORT tls=BOOL\n"+
			"SIGINT or SIGTERM sends clients ERROR :Server shutting down and exits 0.\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitForParse(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ircsock serve: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "ircsock serve: -log-level: %v\n", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	cfg.Logger = log
	cfg.Version = "ircsock-" + shortVersion()

	cfg.MOTD = []string{
		"Welcome to " + cfg.ServerName + ", an ircsock server.",
		"ircsock is a Go toolkit for IRC over sockets; this server is built on its Backend.",
	}
	if *motdFile != "" {
		b, err := os.ReadFile(*motdFile)
		if err != nil {
			log.Error("motd", "err", err)
			return 1
		}
		cfg.MOTD = strings.Split(strings.TrimRight(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n"), "\n")
	}

	if cfg.TLSListen != "" || cfg.WebSocketTLSListen != "" {
		tc, err := tlsConfig(*certFile, *keyFile, *dataDir, cfg.ServerName, log)
		if err != nil {
			log.Error("tls", "err", err)
			return 1
		}
		cfg.TLS = tc
	} else if *certFile != "" || *keyFile != "" {
		fmt.Fprintln(stderr, "ircsock serve: -tls-cert and -tls-key need -tls-listen or -wss-listen")
		return 2
	}

	gcSet := false
	fs.Visit(func(f *flag.Flag) { gcSet = gcSet || f.Name == "gc-percent" })
	if pct, ok := serveGCPercent(*gcFlag, gcSet, os.Getenv("GOGC")); ok {
		defer debug.SetGCPercent(debug.SetGCPercent(pct))
	}

	srv, err := ircd.New(cfg)
	if err != nil {
		log.Error("start", "err", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := srv.Run(ctx); err != nil {
		log.Error("stopped", "err", err)
		return 1
	}
	log.Info("stopped")
	return 0
}

// tlsConfig loads certFile and keyFile, or with neither, the self-signed
// certificate in dataDir (made on first use), logging its fingerprint.
func tlsConfig(certFile, keyFile, dataDir, serverName string, log *slog.Logger) (*tls.Config, error) {
	var cert tls.Certificate
	switch {
	case certFile != "" && keyFile != "":
		var err error
		cert, err = tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, err
		}
		log.Info("tls certificate", "file", certFile, "sha256", ircd.Fingerprint(cert.Certificate[0]))
	case certFile != "" || keyFile != "":
		return nil, errors.New("-tls-cert and -tls-key go together")
	default:
		var fp string
		var err error
		cert, fp, err = ircd.LoadOrCreateCert(dataDir, serverName)
		if err != nil {
			return nil, err
		}
		log.Info("tls certificate", "file", filepath.Join(dataDir, ircd.CertFileName), "sha256", fp, "self_signed", true)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// defaultServeGCPercent is serve's garbage collector target, half the
// runtime's default. A server of mostly idle clients has a small live heap
// and little garbage, so collecting twice as often costs little CPU, and
// the heap, which the process's RSS follows, peaks at 1.5 times the live
// data instead of twice it: the memory an idle client costs comes closer
// to the state it really keeps. BENCHMARKS.md has the measurements.
const defaultServeGCPercent = 50

// serveGCPercent returns the GC percent serve sets, and false when it
// leaves the runtime's own: for -gc-percent 0 or less, and when GOGC is
// set in the environment and -gc-percent was not given.
func serveGCPercent(flagValue int, flagSet bool, gogc string) (int, bool) {
	if flagValue <= 0 || (!flagSet && gogc != "") {
		return 0, false
	}
	return flagValue, true
}
