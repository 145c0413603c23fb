package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// clockTicks is the unit of the CPU times in /proc/PID/stat (USER_HZ),
// 100 on every Linux architecture Go supports.
const clockTicks = 100

// A procSample is one reading of a process from /proc.
type procSample struct {
	cpuTicks int64 // user plus system time, in clockTicks
	rss      int64 // bytes
	syscw    int64 // write-family system calls (write, writev, ...)
}

// readProc reads pid's CPU time and RSS, and its write() count unless
// /proc/PID/io cannot be read (it needs the right to ptrace the process);
// ioErr says why.
func readProc(pid int) (s procSample, ioErr, err error) {
	dir := "/proc/" + strconv.Itoa(pid)
	stat, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return s, nil, err
	}
	// The command name in parentheses may hold spaces; the fields after
	// it are space-separated, utime and stime the 12th and 13th.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return s, nil, fmt.Errorf("%s/stat: no command name", dir)
	}
	f := bytes.Fields(stat[i+1:])
	if len(f) < 13 {
		return s, nil, fmt.Errorf("%s/stat: %d fields", dir, len(f))
	}
	ut, err1 := strconv.ParseInt(string(f[11]), 10, 64)
	st, err2 := strconv.ParseInt(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return s, nil, fmt.Errorf("%s/stat: bad utime or stime", dir)
	}
	s.cpuTicks = ut + st
	statm, err := os.ReadFile(dir + "/statm")
	if err != nil {
		return s, nil, err
	}
	f = bytes.Fields(statm)
	if len(f) < 2 {
		return s, nil, fmt.Errorf("%s/statm: %d fields", dir, len(f))
	}
	pages, err := strconv.ParseInt(string(f[1]), 10, 64)
	if err != nil {
		return s, nil, fmt.Errorf("%s/statm: %w", dir, err)
	}
	s.rss = pages * int64(os.Getpagesize())
	io, err := os.ReadFile(dir + "/io")
	if err != nil {
		return s, err, nil
	}
	for line := range bytes.SplitSeq(io, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("syscw: ")); ok {
			s.syscw, err = strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64)
			if err != nil {
				return s, fmt.Errorf("%s/io: %w", dir, err), nil
			}
			return s, nil, nil
		}
	}
	return s, fmt.Errorf("%s/io: no syscw line", dir), nil
}

// A procSampler follows the server through a run: before the clients
// connect, once they have all joined (idle), during the sends (peak RSS)
// and at the end.
type procSampler struct {
	pid                 int
	before, idleS, endS procSample
	peak                int64
	clients             int
	ioErr, err          error
}

func newProcSampler(pid int) (*procSampler, error) {
	s, ioErr, err := readProc(pid)
	if err != nil {
		return nil, fmt.Errorf("-pid %d: %w", pid, err)
	}
	return &procSampler{pid: pid, before: s, peak: s.rss, ioErr: ioErr}, nil
}

func (p *procSampler) read() procSample {
	s, ioErr, err := readProc(p.pid)
	if err != nil && p.err == nil {
		p.err = err
	}
	if ioErr != nil && p.ioErr == nil {
		p.ioErr = ioErr
	}
	p.peak = max(p.peak, s.rss)
	return s
}

func (p *procSampler) idle(clients int) { p.idleS, p.clients = p.read(), clients }
func (p *procSampler) sample()          { p.read() }
func (p *procSampler) end()             { p.endS = p.read() }

// serverReport is what the sampler saw, per delivery where that makes
// sense.
type serverReport struct {
	Pid               int     `json:"pid"`
	RSSBefore         int64   `json:"rss_before_bytes"`
	RSSIdle           int64   `json:"rss_idle_bytes"`
	RSSPeak           int64   `json:"rss_peak_bytes"`
	RSSPerClient      float64 `json:"rss_per_idle_client_bytes"`
	CPUSeconds        float64 `json:"cpu_seconds"`
	CPUPerMillion     float64 `json:"cpu_seconds_per_million_deliveries"`
	WriteCalls        int64   `json:"write_calls"`
	WritesPerThousand float64 `json:"write_calls_per_thousand_deliveries"`
	IOError           string  `json:"io_error,omitempty"`
	Error             string  `json:"error,omitempty"`
}

func (p *procSampler) report(deliveries int64) *serverReport {
	r := &serverReport{
		Pid:        p.pid,
		RSSBefore:  p.before.rss,
		RSSIdle:    p.idleS.rss,
		RSSPeak:    p.peak,
		CPUSeconds: float64(p.endS.cpuTicks-p.idleS.cpuTicks) / clockTicks,
		WriteCalls: p.endS.syscw - p.idleS.syscw,
	}
	if p.clients > 0 {
		r.RSSPerClient = float64(p.idleS.rss-p.before.rss) / float64(p.clients)
	}
	if deliveries > 0 {
		r.CPUPerMillion = r.CPUSeconds / float64(deliveries) * 1e6
		r.WritesPerThousand = float64(r.WriteCalls) / float64(deliveries) * 1e3
	}
	if p.ioErr != nil {
		r.IOError = p.ioErr.Error()
		r.WriteCalls, r.WritesPerThousand = 0, 0
	}
	if p.err != nil {
		r.Error = p.err.Error()
	}
	return r
}
