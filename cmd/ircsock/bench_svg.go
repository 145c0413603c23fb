package main

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"math"
)

// Layout of the SVG chart: two panels, one above the other.
const (
	svgWidth   = 800
	svgPanelH  = 260
	svgMarginL = 70
	svgMarginR = 20
	svgTop     = 40
	svgGap     = 70
	svgHeight  = svgTop + 2*svgPanelH + svgGap + 50
)

// writeSVG draws the latency distribution (share of deliveries per
// bucket, log time axis) above the throughput over time.
func writeSVG(w io.Writer, res *benchResult) error {
	bw := bufio.NewWriter(w)
	c := res.Config
	fmt.Fprintf(bw, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		svgWidth, svgHeight, svgWidth, svgHeight)
	fmt.Fprintf(bw, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	title := fmt.Sprintf("ircsock bench %s: %d clients, %d senders x %d, %d channel(s); %d deliveries, %d lost",
		c.Addr, c.Clients, c.Senders, c.Messages, c.Channels, res.Delivered, res.Lost)
	fmt.Fprintf(bw, `<text x="%d" y="20" font-size="14">%s</text>`+"\n", svgMarginL, html.EscapeString(title))

	plotW := float64(svgWidth - svgMarginL - svgMarginR)
	// Latency panel.
	y0 := float64(svgTop)
	l := res.Latency
	panelTitle(bw, y0, fmt.Sprintf("latency: p50 %s ms, p90 %s ms, p99 %s ms, max %s ms", ms(l.P50), ms(l.P90), ms(l.P99), ms(l.Max)))
	frame(bw, y0)
	if len(res.Histogram) > 0 {
		lo := math.Floor(math.Log10(float64(max(res.Histogram[0].Low, 1000))))
		hi := math.Ceil(math.Log10(float64(max(res.Histogram[len(res.Histogram)-1].High, 1)) + 1e-9))
		if hi <= lo {
			hi = lo + 1
		}
		x := func(ns int64) float64 {
			v := math.Log10(float64(max(ns, 1)))
			return svgMarginL + plotW*(min(max(v, lo), hi)-lo)/(hi-lo)
		}
		var total, top int64
		for _, b := range res.Histogram {
			total += b.Count
			top = max(top, b.Count)
		}
		for _, b := range res.Histogram {
			x1, x2 := x(b.Low), x(b.High+1)
			h := float64(svgPanelH) * float64(b.Count) / float64(top)
			fmt.Fprintf(bw, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="steelblue"><title>%s-%s ms: %d</title></rect>`+"\n",
				x1, y0+svgPanelH-h, max(x2-x1, 0.5), h, ms(b.Low), ms(b.High), b.Count)
		}
		for e := lo; e <= hi; e++ {
			ns := int64(math.Pow(10, e))
			xt := x(ns)
			fmt.Fprintf(bw, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black"/>`+"\n", xt, y0+svgPanelH, xt, y0+svgPanelH+5)
			fmt.Fprintf(bw, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", xt, y0+svgPanelH+18, durLabel(ns))
		}
		fmt.Fprintf(bw, `<text x="%d" y="%.1f" text-anchor="end">%.1f%%</text>`+"\n", svgMarginL-5, y0+10, 100*float64(top)/float64(total))
		fmt.Fprintf(bw, `<text x="%d" y="%.1f" text-anchor="end">0</text>`+"\n", svgMarginL-5, y0+svgPanelH)
	}
	fmt.Fprintf(bw, `<text x="%.1f" y="%.1f" text-anchor="middle">latency (log scale); bar height: share of deliveries</text>`+"\n", svgMarginL+plotW/2, y0+svgPanelH+34)

	// Throughput panel.
	y0 = svgTop + svgPanelH + svgGap
	panelTitle(bw, y0, fmt.Sprintf("throughput: %s deliveries/s over %.2f s", si(res.PerSecond), res.Seconds))
	frame(bw, y0)
	if len(res.Rates) > 0 {
		top := 1.0
		for _, r := range res.Rates {
			top = max(top, r)
		}
		n := float64(len(res.Rates))
		fmt.Fprintf(bw, `<polyline fill="none" stroke="darkorange" stroke-width="2" points="`)
		for i, r := range res.Rates {
			fmt.Fprintf(bw, "%.1f,%.1f ", svgMarginL+plotW*(float64(i)+0.5)/n, y0+svgPanelH-float64(svgPanelH)*r/top)
		}
		fmt.Fprintf(bw, "\"/>\n")
		fmt.Fprintf(bw, `<text x="%d" y="%.1f" text-anchor="end">%s/s</text>`+"\n", svgMarginL-5, y0+10, si(top))
		fmt.Fprintf(bw, `<text x="%d" y="%.1f" text-anchor="end">0</text>`+"\n", svgMarginL-5, y0+svgPanelH)
		secs := n * res.Bucket
		fmt.Fprintf(bw, `<text x="%d" y="%.1f" text-anchor="start">0 s</text>`+"\n", svgMarginL, y0+svgPanelH+18)
		fmt.Fprintf(bw, `<text x="%d" y="%.1f" text-anchor="end">%.1f s</text>`+"\n", svgWidth-svgMarginR, y0+svgPanelH+18, secs)
	}
	fmt.Fprintf(bw, `<text x="%.1f" y="%.1f" text-anchor="middle">time since the senders started; deliveries per second in %.0f ms steps</text>`+"\n",
		svgMarginL+plotW/2, y0+svgPanelH+34, res.Bucket*1000)
	fmt.Fprintln(bw, "</svg>")
	return bw.Flush()
}

func panelTitle(w io.Writer, y0 float64, s string) {
	fmt.Fprintf(w, `<text x="%d" y="%.1f">%s</text>`+"\n", svgMarginL, y0-6, html.EscapeString(s))
}

func frame(w io.Writer, y0 float64) {
	fmt.Fprintf(w, `<rect x="%d" y="%.1f" width="%d" height="%d" fill="none" stroke="black"/>`+"\n",
		svgMarginL, y0, svgWidth-svgMarginL-svgMarginR, svgPanelH)
}

// durLabel names a power of ten of nanoseconds.
func durLabel(ns int64) string {
	switch {
	case ns >= 1e9:
		return fmt.Sprintf("%d s", ns/1e9)
	case ns >= 1e6:
		return fmt.Sprintf("%d ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%d µs", ns/1e3)
	}
	return fmt.Sprintf("%d ns", ns)
}
