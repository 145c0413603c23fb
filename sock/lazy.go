package sock

import "sync/atomic"

// loadOrNew returns what p points to, making it first if p is nil: for
// state that few wheels or connections need (ReadOps, blocking waits),
// kept behind a pointer made on first use rather than in every one.
// When two goroutines race to make it, one value wins and both get it.
func loadOrNew[T any](p *atomic.Pointer[T]) *T {
	if v := p.Load(); v != nil {
		return v
	}
	v := new(T)
	if p.CompareAndSwap(nil, v) {
		return v
	}
	return p.Load()
}
