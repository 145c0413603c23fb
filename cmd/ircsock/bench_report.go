package main

import (
	"fmt"
	"io"
	"math/bits"
	"strings"
	"sync/atomic"
	"time"
)

// latencySub is how many buckets each power of two of a latencyHistogram
// has: a recorded value is off by less than 1/latencySub of itself.
const (
	latencySubBits = 5
	latencySub     = 1 << latencySubBits
	// latencyMaxExp caps the histogram at 2^40 ns (about 18 minutes).
	latencyMaxExp  = 40
	latencyBuckets = latencySub + (latencyMaxExp-latencySubBits+1)*latencySub
)

// A latencyHistogram counts nanosecond latencies in log-linear buckets.
// Its zero value is empty; it allocates on the first add.
type latencyHistogram struct {
	counts []uint32
	max    int64
	n      int64
}

func latencyBucket(v int64) int {
	if v < latencySub {
		return int(max(v, 0))
	}
	e := bits.Len64(uint64(v)) - 1 // v's leading bit
	if e > latencyMaxExp {
		return latencyBuckets - 1
	}
	sub := int(v>>(e-latencySubBits)) & (latencySub - 1)
	return latencySub + (e-latencySubBits)*latencySub + sub
}

// latencyBucketLow is the smallest value that falls in bucket i.
func latencyBucketLow(i int) int64 {
	if i < latencySub {
		return int64(i)
	}
	e := (i-latencySub)/latencySub + latencySubBits
	sub := int64((i - latencySub) % latencySub)
	return (latencySub + sub) << (e - latencySubBits)
}

func (h *latencyHistogram) add(v int64) {
	if h.counts == nil {
		h.counts = make([]uint32, latencyBuckets)
	}
	h.counts[latencyBucket(v)]++
	h.max = max(h.max, v)
	h.n++
}

func (h *latencyHistogram) merge(o *latencyHistogram) {
	if o.counts == nil {
		return
	}
	if h.counts == nil {
		h.counts = make([]uint32, latencyBuckets)
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.max = max(h.max, o.max)
	h.n += o.n
}

// quantile is the upper end of the bucket holding the q-quantile, capped
// at the largest value seen.
func (h *latencyHistogram) quantile(q float64) int64 {
	if h.n == 0 {
		return 0
	}
	rank := int64(q*float64(h.n) + 0.5)
	rank = min(max(rank, 1), h.n)
	var seen int64
	for i, c := range h.counts {
		seen += int64(c)
		if seen >= rank {
			if i+1 < latencyBuckets {
				return min(latencyBucketLow(i+1)-1, h.max)
			}
			return h.max
		}
	}
	return h.max
}

// benchResult is what a run measured; it is written as the JSON output.
type benchResult struct {
	Config   benchConfig `json:"config"`
	Expected int64       `json:"expected_deliveries"`
	// Delivered counts every delivery read, Lost those expected but
	// never read.
	Delivered  int64 `json:"deliveries"`
	Lost       int64 `json:"lost"`
	OutOfOrder int64 `json:"out_of_order"`
	// Unexpected counts deliveries from a sender not in the receiver's
	// channel, of a seq never sent, or echoed back to their sender.
	Unexpected     int64   `json:"unexpected"`
	ConnectSeconds float64 `json:"connect_seconds"`
	// Seconds runs from the senders' start to the last delivery.
	Seconds   float64       `json:"seconds"`
	PerSecond float64       `json:"deliveries_per_second"`
	Latency   latencyStats  `json:"latency_ns"`
	Histogram []histBucket  `json:"latency_histogram"`
	Bucket    float64       `json:"throughput_bucket_seconds"`
	Rates     []float64     `json:"throughput_per_second"`
	Server    *serverReport `json:"server,omitempty"`
	Error     string        `json:"error,omitempty"`
}

type latencyStats struct {
	P50 int64 `json:"p50"`
	P90 int64 `json:"p90"`
	P99 int64 `json:"p99"`
	Max int64 `json:"max"`
}

// histBucket is one non-empty latency bucket: Count latencies in
// [Low, High] nanoseconds.
type histBucket struct {
	Low   int64 `json:"low"`
	High  int64 `json:"high"`
	Count int64 `json:"count"`
}

func (res *benchResult) collect(run *benchRun, clients []*benchClient, proc *procSampler) {
	var h latencyHistogram
	for _, c := range clients {
		h.merge(&c.hist)
		res.Delivered += c.got
		res.OutOfOrder += c.outOfOrder
		res.Unexpected += c.unexpected
	}
	// A delivery read twice would hide one lost: count what each
	// (sender, seq) pair got against what it should have.
	for s, counts := range run.counts {
		for i := range counts {
			if got := int64(counts[i].Load()); got < int64(run.receivers[s]) {
				res.Lost += int64(run.receivers[s]) - got
			}
		}
	}
	start := run.sendStart.Load()
	if last := run.last.Load(); last > start {
		res.Seconds = float64(last-start) / 1e9
		res.PerSecond = float64(res.Delivered) / res.Seconds
	}
	res.Latency = latencyStats{P50: h.quantile(0.50), P90: h.quantile(0.90), P99: h.quantile(0.99), Max: h.max}
	for i, c := range h.counts {
		if c > 0 {
			high := h.max
			if i+1 < latencyBuckets {
				high = min(latencyBucketLow(i+1)-1, h.max)
			}
			res.Histogram = append(res.Histogram, histBucket{Low: latencyBucketLow(i), High: high, Count: int64(c)})
		}
	}
	res.Bucket = benchBucket.Seconds()
	n := int((run.last.Load()-start)/int64(benchBucket)) + 1
	for i := 0; i < n && i < len(run.buckets); i++ {
		res.Rates = append(res.Rates, float64(run.buckets[i].Load())/res.Bucket)
	}
	if proc != nil {
		res.Server = proc.report(res.Delivered)
	}
}

// writeSummary prints the run as a Markdown table.
func (res *benchResult) writeSummary(w io.Writer) {
	c := res.Config
	rate := "as fast as the window allows"
	if c.Rate > 0 {
		rate = fmt.Sprintf("%s messages/s", si(c.Rate))
	}
	fmt.Fprintf(w, "ircsock bench: %s, %d clients, %d senders x %d messages, %d channel(s), %s\n\n",
		c.Addr, c.Clients, c.Senders, c.Messages, c.Channels, rate)
	fmt.Fprintf(w, "| metric | value |\n|---|---|\n")
	row := func(k, v string) { fmt.Fprintf(w, "| %s | %s |\n", k, v) }
	row("deliveries", fmt.Sprintf("%d of %d", res.Delivered, res.Expected))
	row("lost", fmt.Sprint(res.Lost))
	row("out of order", fmt.Sprint(res.OutOfOrder))
	if res.Unexpected > 0 {
		row("unexpected", fmt.Sprint(res.Unexpected))
	}
	row("deliveries/s", si(res.PerSecond))
	l := res.Latency
	row("latency p50 / p90 / p99 / max", fmt.Sprintf("%s / %s / %s / %s ms", ms(l.P50), ms(l.P90), ms(l.P99), ms(l.Max)))
	if s := res.Server; s != nil {
		row("server CPU s per 1M deliveries", fmt.Sprintf("%.3f", s.CPUPerMillion))
		if s.IOError != "" {
			row("write() calls per 1,000 deliveries", "unavailable: "+s.IOError)
		} else {
			row("write() calls per 1,000 deliveries", fmt.Sprintf("%.1f", s.WritesPerThousand))
		}
		row("server RSS per idle client", fmt.Sprintf("%.1f KB", s.RSSPerClient/1000))
		row("server RSS peak", fmt.Sprintf("%.1f MB", float64(s.RSSPeak)/1e6))
		if s.Error != "" {
			row("server sampling failed", s.Error)
		}
	}
	if res.Error != "" {
		row("error", strings.ReplaceAll(res.Error, "|", "/"))
	}
}

// si writes v with a k or M suffix.
func si(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2f M", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1f k", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

func ms(ns int64) string { return fmt.Sprintf("%.2f", float64(ns)/1e6) }

// A progressBar redraws one line on a terminal; with a nil writer it
// draws nothing.
type progressBar struct {
	w     io.Writer
	total int64
}

func newProgressBar(w io.Writer, total int64) *progressBar { return &progressBar{w: w, total: total} }

func (p *progressBar) draw(n int64, elapsed time.Duration) {
	if p.w == nil || p.total == 0 {
		return
	}
	const width = 30
	filled := int(min(n, p.total) * width / p.total)
	rate := 0.0
	if elapsed > 0 {
		rate = float64(n) / elapsed.Seconds()
	}
	fmt.Fprintf(p.w, "\r[%s%s] %3d%% %d/%d deliveries, %s/s ",
		strings.Repeat("#", filled), strings.Repeat(" ", width-filled),
		n*100/p.total, n, p.total, si(rate))
}

func (p *progressBar) finish(n *atomic.Int64) {
	if p.w == nil {
		return
	}
	p.draw(n.Load(), 0)
	fmt.Fprintln(p.w)
}
