package sock

import (
	"fmt"
	"net/netip"
	"runtime"
	"testing"
	"time"
)

// addrN is the n-th of 2^32 distinct IPv4 addresses.
func addrN(n int) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
}

// BenchmarkThrottleChurn is the throttle under a flood of new addresses
// on a synthetic clock: each attempt comes from a new address and, the
// table being full, one entry's window ends per attempt, so every op
// forgets one address and remembers one. The cost per attempt should
// not grow with the table (compare the sizes' ns/op: a sweep over the
// table would make it grow in proportion).
func BenchmarkThrottleChurn(b *testing.B) {
	for _, size := range []int{1 << 10, 1 << 16} {
		b.Run(fmt.Sprintf("addrs=%d", size), func(b *testing.B) {
			const step = time.Millisecond
			// The address of n attempts ago is always just past its
			// window; the one after it never is.
			window := time.Duration(size)*step - step/4
			a := &Admission{cfg: AdmissionConfig{Throttle: Throttle{Conns: 5, Window: window, MaxAddrs: size}}}
			t0 := time.Unix(1000, 0)
			n := 0
			for ; n < size; n++ {
				ip := addrN(n)
				if err := a.throttleLocked(ip, ip, t0.Add(time.Duration(n)*step)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				ip := addrN(n)
				// Just past the oldest entry's window: it is forgotten.
				if err := a.throttleLocked(ip, ip, t0.Add(time.Duration(n)*step+step/2)); err != nil {
					b.Fatal(err)
				}
				n++
			}
			if len(a.throttle) > size {
				b.Fatalf("table holds %d addresses, over MaxAddrs=%d", len(a.throttle), size)
			}
		})
	}
}

// BenchmarkThrottleFullRefusal is an attempt from an unknown address
// while the table is full of live entries: the refusal path a flood
// from many addresses takes.
func BenchmarkThrottleFullRefusal(b *testing.B) {
	for _, size := range []int{1 << 10, 1 << 16} {
		b.Run(fmt.Sprintf("addrs=%d", size), func(b *testing.B) {
			a := &Admission{cfg: AdmissionConfig{Throttle: Throttle{Conns: 5, Window: time.Hour, MaxAddrs: size}}}
			now := time.Unix(1000, 0)
			for n := range size {
				ip := addrN(n)
				if err := a.throttleLocked(ip, ip, now); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			n := size
			for b.Loop() {
				ip := addrN(n)
				if a.throttleLocked(ip, ip, now) == nil {
					b.Fatal("admitted a new address to a full table")
				}
				n++
			}
		})
	}
}

// BenchmarkThrottleMemory reports the heap one followed address costs
// (B/addr), filling a table of DefaultThrottleMaxAddrs addresses per op.
func BenchmarkThrottleMemory(b *testing.B) {
	var perAddr float64
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		a := &Admission{cfg: AdmissionConfig{Throttle: Throttle{Conns: 5, Window: time.Hour}}}
		now := time.Unix(1000, 0)
		for n := range DefaultThrottleMaxAddrs {
			ip := addrN(n)
			if err := a.throttleLocked(ip, ip, now); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perAddr = float64(after.HeapAlloc-before.HeapAlloc) / DefaultThrottleMaxAddrs
		runtime.KeepAlive(a)
	}
	b.ReportMetric(perAddr, "B/addr")
}
