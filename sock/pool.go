package sock

import (
	"math/bits"
	"sync"
)

const (
	// bufSize is the capacity of pooled read buffers: a read takes up to
	// this much at once.
	bufSize = 16 << 10
	// maxKeep is the largest buffer given back to a pool; a buffer grown
	// beyond it by one long line or a burst is left to the collector.
	maxKeep = 64 << 10
)

// bufPool holds *[]byte so that getting and putting allocate nothing.
var bufPool = sync.Pool{New: func() any {
	b := make([]byte, 0, bufSize)
	return &b
}}

// getBuf returns an empty pooled read buffer.
func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

// putBuf gives a read buffer back, unless it has grown past maxKeep; a
// small read's copy (see shrinkRead) goes back to its size class.
func putBuf(bp *[]byte) {
	if cap(*bp) < bufSize {
		putSized(bp)
		return
	}
	if cap(*bp) > maxKeep {
		return
	}
	*bp = (*bp)[:0]
	bufPool.Put(bp)
}

// smallRead is the most bytes a read may bring for shrinkRead to copy
// them out of the 16 KiB read buffer.
const smallRead = sizedMin

// shrinkRead returns a buffer holding the n bytes read into bp: bp itself,
// or for a small read a copy in a buffer of the smallest size class, bp
// going back to the pool at once. A reader can be held up for a long time
// with its bytes, when its handler waits (the Backend's, for room in a full
// events channel): a server whose clients all send QUIT at once then held
// one 16 KiB buffer per client for a few bytes each.
func shrinkRead(bp *[]byte, n int) *[]byte {
	if n <= 0 || n > smallRead || cap(*bp) < bufSize {
		return bp
	}
	sb := getSized(n)
	*sb = append((*sb)[:0], (*bp)[:n]...)
	putBuf(bp)
	return sb
}

// A send queue starts in the smallest buffer its first record needs
// and moves to the next size up when it fills. Most queues never hold
// more than a few lines between two writes (a fan-out is one line to each
// of many wheels), and every wheel with something queued holds its buffer
// until a writer takes it: with one size for all, a burst to a thousand
// wheels held a thousand 16 KiB buffers, and after it the pool and the
// heap the collector had grown for them stayed in the process's RSS.
const (
	sizedMin     = 1 << 10 // the smallest class
	sizedClasses = 4       // 1, 4, 16 and 64 KiB: each class four times the last
)

var sizedPools [sizedClasses]sync.Pool

// sizedClass is the smallest class that holds n bytes, or sizedClasses when
// none does.
func sizedClass(n int) int {
	if n <= sizedMin {
		return 0
	}
	// Each class is two bits of length above the last.
	c := (bits.Len(uint(n-1)) - bits.Len(uint(sizedMin-1)) + 1) / 2
	return c
}

// getSized returns an empty buffer with room for at least n bytes, from
// the size classes: pooled up to maxKeep, allocated to size beyond.
func getSized(n int) *[]byte {
	c := sizedClass(n)
	if c >= sizedClasses {
		b := make([]byte, 0, n)
		return &b
	}
	if bp, ok := sizedPools[c].Get().(*[]byte); ok {
		return bp
	}
	b := make([]byte, 0, sizedMin<<(2*c))
	return &b
}

// putSized gives a buffer back to the class its capacity fills,
// unless it has grown past maxKeep (or is smaller than any class, as a
// buffer that append regrew may be).
func putSized(bp *[]byte) {
	n := cap(*bp)
	if n < sizedMin || n > maxKeep {
		return
	}
	c := sizedClass(n)
	if sizedMin<<(2*c) > n {
		c-- // between two classes: it counts as the smaller
	}
	*bp = (*bp)[:0]
	sizedPools[c].Put(bp)
}
