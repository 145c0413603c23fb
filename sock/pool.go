package sock

import "sync"

const (
	// bufSize is the capacity of pooled buffers: a read takes up to this
	// much at once, and a write batch starts this big.
	bufSize = 16 << 10
	// maxKeep is the largest buffer given back to the pool; a buffer grown
	// beyond it by one long line or a burst is left to the collector.
	maxKeep = 64 << 10
)

// bufPool holds *[]byte so that getting and putting allocate nothing.
var bufPool = sync.Pool{New: func() any {
	b := make([]byte, 0, bufSize)
	return &b
}}

// getBuf returns an empty pooled buffer.
func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

// putBuf gives bp back, unless it has grown past maxKeep.
func putBuf(bp *[]byte) {
	if cap(*bp) > maxKeep {
		return
	}
	*bp = (*bp)[:0]
	bufPool.Put(bp)
}
