package sock

import "sync"

// A rawOp carries one read or write of a wheel's descriptor into
// RawConn.Read or Write and its results out: the buffer read into or
// written from, the byte count, the error. They are pooled with their
// callbacks built once, so that a read or write allocates nothing and a
// wheel keeps no callback or result fields of its own (fields every
// connection would carry, though most of them wait for input).
type rawOp struct {
	w     *Wheel
	buf   *[]byte
	n     int
	err   error
	read  func(fd uintptr) bool // o.readFD
	write func(fd uintptr) bool // o.writeFD
}

var rawOps = sync.Pool{New: func() any {
	o := new(rawOp)
	o.read, o.write = o.readFD, o.writeFD
	return o
}}

func getRawOp(w *Wheel) *rawOp {
	o := rawOps.Get().(*rawOp)
	o.w = w
	return o
}

func putRawOp(o *rawOp) {
	o.w, o.buf, o.n, o.err = nil, nil, 0, nil
	rawOps.Put(o)
}
