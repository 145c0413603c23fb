package ircd

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"
)

// logRecord is what the tests need of one log record.
type logRecord struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

// chanHandler sends every record, at every level, to a channel.
type chanHandler struct{ recs chan logRecord }

func (h chanHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h chanHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h chanHandler) WithGroup(string) slog.Handler            { return h }
func (h chanHandler) Handle(_ context.Context, r slog.Record) error {
	rec := logRecord{level: r.Level, msg: r.Message, attrs: map[string]string{}}
	r.Attrs(func(a slog.Attr) bool {
		rec.attrs[a.Key] = a.Value.String()
		return true
	})
	select {
	case h.recs <- rec:
	default: // a test reads what it needs; the rest may be dropped
	}
	return nil
}

// TestServeRefusalLog checks that refusals reach the log at Warn level,
// summed up at most once per RefusalLogInterval with the listener's
// counts, besides one Debug line each.
func TestServeRefusalLog(t *testing.T) {
	for _, tc := range []struct {
		name     string
		interval time.Duration
		warns    int
	}{
		{"once an hour", time.Hour, 1},
		{"every time", time.Nanosecond, 3},
		{"never", -1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := chanHandler{recs: make(chan logRecord, 1000)}
			srv := startServer(t, Config{MaxConns: 1, RefusalLogInterval: tc.interval, Logger: slog.New(h)})
			c := dialPlain(t, srv, "in")
			c.register("in")
			for i := range 3 {
				r := dialPlain(t, srv, "refused")
				if m, _ := r.waitFor("ERROR"); !strings.Contains(m.Params[0], "MaxConns=1") {
					t.Fatalf("refused client %d got ERROR %q, want it to name MaxConns=1", i, m.Params[0])
				}
			}
			var warns []int
			debugs := 0
			timeout := time.After(testTimeout)
			for done := false; !done; {
				select {
				case rec := <-h.recs:
					switch {
					case rec.msg == "listener failure" && rec.attrs["op"] == "limit":
						if rec.level != slog.LevelDebug {
							t.Errorf("listener failure at %v, want Debug", rec.level)
						}
						debugs++
						if debugs == 3 {
							// Whatever the server logs for the last
							// refusal it logs before it handles input
							// sent from now on.
							c.send("SYNCMARK")
						}
					case rec.msg == "refusing connections":
						n, err := strconv.Atoi(rec.attrs["refused"])
						if rec.level != slog.LevelWarn || err != nil || rec.attrs["max_conns"] != rec.attrs["refused"] ||
							rec.attrs["addr"] != srv.Addr().String() || !strings.Contains(rec.attrs["err"], "MaxConns=1") {
							t.Errorf("refusing connections at %v with %v, want Warn naming the listener, MaxConns=1 and the counts", rec.level, rec.attrs)
						}
						warns = append(warns, n)
					case rec.msg == "unknown command" && rec.attrs["command"] == "SYNCMARK":
						done = true
					}
				case <-timeout:
					t.Fatalf("%d of 3 refusals logged, and no SYNCMARK, within %v", debugs, testTimeout)
				}
			}
			if debugs != 3 || len(warns) != tc.warns {
				t.Fatalf("%d Debug lines and Warn lines with refused=%v, want 3 and %d Warn lines", debugs, warns, tc.warns)
			}
			// The counts are the listener's when the line is written:
			// at least the refusals logged so far, and all 3 at the end.
			for i, n := range warns {
				if n < i+1 || n > 3 || (i > 0 && n < warns[i-1]) {
					t.Errorf("Warn line %d says refused=%d, want %d to 3, not below the line before", i+1, n, i+1)
				}
			}
			if tc.warns == 3 && warns[2] != 3 {
				t.Errorf("last Warn line says refused=%d, want 3", warns[2])
			}
		})
	}
}
