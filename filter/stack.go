package filter

import (
	"bytes"
	"errors"
	"fmt"
)

// A Stack is an ordered list of [Filter] layers; index 0 is nearest the
// wire (POE::Filter::Stackable's order). Reading, chunks go in at layer 0
// and records come out of the top layer; writing, records go in at the top
// and bytes come out of layer 0. A Stack is itself a Filter, and an empty
// Stack passes chunks through unchanged.
//
// # Reading: the pull model
//
// Next asks the top layer for a record. Only when a layer has nothing left
// does the Stack pull one record from the layer below and feed it up, so no
// layer decodes further ahead than the record being asked for needs. That
// is what lets the layers change exactly at a record boundary.
//
// # Changing layers
//
// Push, Pop, Unshift and Shift may be called between records (after Next
// returned, before the next call). Each hands the buffered bytes to the
// place they now belong, so that nothing is lost, duplicated, or decoded by
// the wrong layer:
//
//   - [Stack.Unshift] feeds the new wire layer the old layer 0's pending
//     input: wire bytes not yet decoded now go through it first.
//   - [Stack.Shift] feeds the removed layer's pending input to the new
//     layer 0: what it had not decoded continues into the layer above it
//     (the plaintext after a stopped or finished zlib stream).
//   - [Stack.Pop] returns the removed top layer's pending bytes as one
//     record from the next call to Next, before anything else.
//   - [Stack.Push] gives the new top layer the old top's later records.
//
// The exactness rule: a change at the wire end is exact when the layers
// above the change hold no bytes that were decoded past the switch point.
// The pull model guarantees it when the layer below yields its output no
// further than the record boundary: for [Line] over the wire (Unshift a
// decompressor after the line that announced compression), and for Line
// over a decompressor that stops at each flush point (Shift it after the
// last compressed line).
//
// # Writing
//
// Put runs a record down from the top layer to layer 0, each layer's output
// being the record of the layer below; an encoder that holds its output
// back (returns nothing) ends the run for that record. Flush flushes the
// layers from the top down, passing each layer's flushed output through the
// Put of the layers below before they flush. Intermediate output goes into
// per-layer scratch buffers reused across calls.
//
// # Errors
//
// An error from a layer is wrapped with the layer's index and type, as in
// "filter: layer 0 (*filter.Line): filter: line too long (Line.Max 8701)";
// [IsRecordError] and errors.Is still see through it. A per-record error
// spoils one record and the Stack goes on; a fatal error is sticky, per
// direction, until the layer that returned it is removed (so a reader can
// Shift out a [Zlib] that reported [ErrZlibStreamEnd] and read on).
//
// A Stack, like its layers, is used from one goroutine at a time.
type Stack struct {
	layers  []Filter
	live    []bool   // live[i]: layer i (i > 0) may alias layer i-1's output
	scratch [][]byte // scratch[i]: output buffer of layer i (i > 0) on write

	in     []byte // an empty Stack's unreturned input
	popped []byte // pending bytes of popped layers, returned as a record
	ret    []byte // the popped record last returned (kept valid)

	drain Filter // a shifted-out layer still reading up to its sync point
	dq    []byte // input queued for drain, given to it one byte at a time
	tail  []byte // drain's leftovers, handed to layer 0 as one record

	rerr     error  // sticky fatal read error
	rerrFrom Filter // the layer that returned rerr
	werr     error  // sticky fatal write error
}

// A finishProber is a [Syncer] whose stream may be finished right after a
// sync point by bytes that carry no data: [Zlib], whose peer may follow
// its last sync flush with an empty final block and the Adler-32.
type finishProber interface {
	// finishAhead tells, at a sync point, whether p (the bytes that
	// follow it) starts with such an ending: the length of the part to
	// decode before the layer can be at its end (its checksum comes
	// after it, and is read one byte at a time like any other input),
	// 0 if p is too short to tell, or -1 if it does not.
	finishAhead(p []byte) int
}

// mayFinish reports whether f, shifted out at a sync point with p after
// it, may still have to read the end of its stream from p or from what
// follows.
func mayFinish(f Filter, p []byte) bool {
	fp, ok := f.(finishProber)
	return ok && fp.finishAhead(p) >= 0
}

// A Syncer is a [Decoder] that can tell whether it stands at a point where
// its peer may stop sending it data, such as [Zlib] right after a flush
// marker. [Stack.Shift] uses it to remove such a layer exactly.
type Syncer interface {
	// Synced reports whether every byte the peer sent for this layer up
	// to a stopping point has been consumed, so that what follows
	// belongs to the layer above.
	Synced() bool
}

var _ Filter = (*Stack)(nil)

// scratchKeep is the largest scratch buffer kept between calls; a bigger
// one (from a huge record) is left to the garbage collector.
const scratchKeep = 64 << 10

// NewStack returns a Stack of the given layers, index 0 nearest the wire.
func NewStack(layers ...Filter) *Stack {
	s := &Stack{}
	for _, f := range layers {
		s.Push(f)
	}
	return s
}

// Len returns the number of layers.
func (s *Stack) Len() int { return len(s.layers) }

// Layer returns layer i; 0 is nearest the wire. It panics if i is out of
// range, like a slice index.
func (s *Stack) Layer(i int) Filter { return s.layers[i] }

// Layers returns a copy of the layers, index 0 nearest the wire.
func (s *Stack) Layers() []Filter { return append([]Filter(nil), s.layers...) }

// detach makes every layer above index 0 that may still alias the output
// of the layer below own its input instead, from the top down, so that a
// lower layer may be asked for its Pending bytes (which may invalidate its
// records) without pulling memory from under the layers above.
func (s *Stack) detach() {
	for i := len(s.layers) - 1; i > 0; i-- {
		if s.live[i] {
			f := s.layers[i]
			f.Feed(bytes.Clone(f.Pending()))
			s.live[i] = false
		}
	}
}

// Push adds f at the application end (the top). f receives the records
// the old top layer produces from now on.
func (s *Stack) Push(f Filter) {
	s.layers = append(s.layers, f)
	s.live = append(s.live, false)
	s.scratch = append(s.scratch, nil)
	if len(s.layers) == 1 && len(s.in) > 0 {
		f.Feed(s.in) // s.in is owned by the Stack (or the caller's chunk)
		s.in = nil
	}
}

// Pop removes the top layer and returns it, or nil if the Stack is empty.
// Its pending bytes are returned as a record by the next call to Next. A
// fatal error that layer returned goes with it.
func (s *Stack) Pop() Filter {
	n := len(s.layers)
	if n == 0 {
		return nil
	}
	f := s.layers[n-1]
	s.popped = append(s.popped, f.Pending()...)
	s.layers[n-1] = nil
	s.layers, s.live, s.scratch = s.layers[:n-1], s.live[:n-1], s.scratch[:n-1]
	if s.rerrFrom == f {
		s.rerr, s.rerrFrom = nil, nil
	}
	return f
}

// Unshift adds f at the wire end (index 0). The old layer 0's pending
// input is fed to f, so wire bytes that were not yet decoded when the
// change happened are decoded by f first.
func (s *Stack) Unshift(f Filter) {
	var p []byte
	if len(s.layers) > 0 {
		s.detach()
		p = bytes.Clone(s.layers[0].Pending())
	} else {
		p, s.in = s.in, nil
	}
	s.layers = append([]Filter{f}, s.layers...)
	s.live = append([]bool{false}, s.live...)
	if len(s.live) > 1 {
		s.live[1] = false // Pending emptied it
	}
	s.scratch = append([][]byte{nil}, s.scratch...)
	if len(p) > 0 {
		f.Feed(p)
	}
}

// Shift removes layer 0 and returns it, or nil if the Stack is empty. The
// removed layer's pending input is fed to the new layer 0 (or returned as
// records by an empty Stack).
//
// A layer that implements [Syncer] and is not at a sync point (a [Zlib]
// whose flush marker has not fully arrived when the last line before it
// came out) is not cut off there: it goes on reading, one byte at a time
// and below the new layer 0, until it reaches its sync point (or the end
// of its stream), and only the bytes after that go to the new layer 0.
// Its output meanwhile still goes to the new layer 0, where it belongs.
// Until then another Unshift puts its layer above the draining one.
//
// A Zlib at a sync point (or reaching one) is kept a little longer too:
// a peer may stop there, or finish its stream with an empty final block
// and the Adler-32 before it goes on in plaintext. The bytes after the
// sync point decide: if they begin such an ending (03 00 from zlib's
// Z_FINISH, or 01 00 00 ff ff from Go's and klauspost's Close), the Zlib
// reads it and its checksum, and only what follows goes to the new layer
// 0; another flush marker (00 00 00 ff ff) is read too; anything else
// goes to the new layer 0 whole. No IRC line begins with those bytes. A stream that ends
// without a sync point before its ending (the last records inside the
// final block) is read to its end the same way. So Shift after the last
// compressed record hands over exactly the plaintext after the stream,
// whichever way the peer ended it and however the wire bytes are split
// into reads.
func (s *Stack) Shift() Filter {
	if len(s.layers) == 0 {
		return nil
	}
	s.detach()
	f := s.layers[0]
	p := bytes.Clone(f.Pending())
	s.layers[0] = nil
	s.layers, s.live, s.scratch = s.layers[1:], s.live[1:], s.scratch[1:]
	if len(s.layers) > 0 {
		s.live[0] = false
	}
	if s.rerrFrom == f {
		s.rerr, s.rerrFrom = nil, nil
	}
	if sy, ok := f.(Syncer); ok && s.drain == nil && (!sy.Synced() || mayFinish(f, p)) {
		s.drain, s.dq = f, p
		return f
	}
	s.toLayer0(p)
	return f
}

// toLayer0 hands owned bytes to layer 0, or to an empty Stack's output.
func (s *Stack) toLayer0(p []byte) {
	if len(p) == 0 {
		return
	}
	if s.drain != nil {
		s.dq = append(s.dq, p...)
	} else if len(s.layers) > 0 {
		s.layers[0].Feed(p)
	} else {
		s.in = append(s.in, p...)
	}
}

// Feed hands a chunk to layer 0. The Stack and its layers may keep a
// reference to p until Next returns ok == false or Pending is called.
func (s *Stack) Feed(p []byte) {
	if s.drain != nil {
		s.dq = append(s.dq, p...)
		return
	}
	if len(s.layers) > 0 {
		s.layers[0].Feed(p)
		return
	}
	if len(p) == 0 {
		return
	}
	if len(s.in) == 0 {
		s.in = p
	} else {
		s.in = append(bytes.Clone(s.in), p...)
	}
}

// Next returns the next record from the top layer, pulling from the layers
// below one record at a time; rec is valid until the next call to any
// method of the Stack. See [Decoder] for the meaning of the results.
func (s *Stack) Next() (rec []byte, ok bool, err error) {
	if s.rerr != nil {
		return nil, false, s.rerr
	}
	if len(s.popped) > 0 {
		s.ret, s.popped = s.popped, s.ret[:0]
		return s.ret, true, nil
	}
	return s.pull(len(s.layers) - 1)
}

// pull returns the next record of layer i, feeding it records of the layer
// below while it has none. Layer -1 is the source of layer 0's input.
func (s *Stack) pull(i int) ([]byte, bool, error) {
	if i < 0 {
		return s.source()
	}
	f := s.layers[i]
	for {
		rec, ok, err := f.Next()
		if err != nil {
			return nil, false, s.readErr(i, f, err)
		}
		if ok {
			return rec, true, nil
		}
		if i == 0 && s.drain == nil && len(s.in) == 0 {
			return nil, false, nil // the common case: layer 0 needs input
		}
		s.live[i] = false
		rec, ok, err = s.pull(i - 1)
		if !ok {
			return nil, false, err
		}
		f.Feed(rec)
		s.live[i] = true
	}
}

// source returns input for layer 0 (or the records of an empty Stack):
// the output of a draining layer, then what follows its sync point; or
// the chunks an empty Stack was fed.
func (s *Stack) source() ([]byte, bool, error) {
	if s.drain == nil {
		if len(s.in) == 0 {
			return nil, false, nil
		}
		rec := s.in
		s.in = nil
		return rec, true, nil
	}
	d := s.drain
	sy, _ := d.(Syncer)
	for {
		rec, ok, err := d.Next()
		if ok {
			return rec, true, nil
		}
		if err != nil && !sy.Synced() {
			s.drain, s.dq = nil, nil
			err = fmt.Errorf("filter: shifted layer (%T): %w", d, err)
			if !IsRecordError(err) {
				s.rerr, s.rerrFrom = err, nil
			}
			return nil, false, err
		}
		if err == nil && sy.Synced() {
			// At a sync point the peer may stop, or finish the
			// stream with an empty final block and its checksum;
			// only the bytes after the sync point tell which.
			if fp, ok := d.(finishProber); ok {
				k := fp.finishAhead(s.dq)
				if k == 0 {
					return nil, false, nil // need more to tell
				}
				if k > 0 {
					d.Feed(s.dq[:k])
					s.dq = s.dq[k:]
					continue
				}
			}
		}
		if err != nil || sy.Synced() {
			// At its sync point (or its stream's end): the rest is
			// the new layer 0's. tail is a fresh slice, so the
			// previous one may still back layer 0's input.
			s.tail = append(bytes.Clone(d.Pending()), s.dq...)
			s.drain, s.dq = nil, nil
			if len(s.tail) == 0 {
				return nil, false, nil
			}
			return s.tail, true, nil
		}
		if len(s.dq) == 0 {
			return nil, false, nil
		}
		// One byte at a time, so that it cannot read past its sync point.
		d.Feed(s.dq[:1])
		s.dq = s.dq[1:]
	}
}

func (s *Stack) readErr(i int, f Filter, err error) error {
	err = fmt.Errorf("filter: layer %d (%T): %w", i, f, err)
	if !IsRecordError(err) {
		s.rerr, s.rerrFrom = err, f
	}
	return err
}

func (s *Stack) writeErr(i int, f Filter, err error) error {
	err = fmt.Errorf("filter: layer %d (%T): %w", i, f, err)
	if !IsRecordError(err) {
		s.werr = err
	}
	return err
}

// Pending returns every byte the Stack holds and forgets them, in stream
// order: the pending bytes of popped layers, then those of each layer from
// the top down to layer 0. It is what the application end would receive if
// every layer were shifted out one by one, so a Stack nested as a layer of
// another Stack hands its bytes on the same way a single layer does. A
// layer still draining after Shift gives its unconsumed input last, and is
// forgotten. The result is valid until the next call to Feed.
func (s *Stack) Pending() []byte {
	var p []byte
	if len(s.popped) > 0 {
		p = append(p, s.popped...)
		s.popped = s.popped[:0]
	}
	for i := len(s.layers) - 1; i >= 0; i-- {
		p = append(p, s.layers[i].Pending()...)
		s.live[i] = false
	}
	if s.drain != nil {
		p = append(p, s.drain.Pending()...)
		p = append(p, s.dq...)
		s.drain, s.dq = nil, nil
	}
	p = append(p, s.in...)
	s.in = nil
	return p
}

// bufferedAfterEnd reports whether the layer whose stream ended (the one
// that returned [ErrZlibStreamEnd]) still holds input after that end.
func (s *Stack) bufferedAfterEnd() bool {
	if z, ok := s.rerrFrom.(*Zlib); ok {
		return z.buffered() > 0
	}
	return s.rerrFrom == nil && s.rerr != nil // not a layer's: do not wait
}

// endOfInput settles what the layers hold once the input has ended and
// Next has returned every complete record: the unterminated last line of
// a [Line] on top (an owned copy, with a trailing CR dropped), or an error
// for a layer that is cut short or holds bytes past the end of its
// stream. See [Reader] for the rules.
func (s *Stack) endOfInput() ([]byte, error) {
	if s.rerr != nil && !errors.Is(s.rerr, ErrZlibStreamEnd) {
		return nil, s.rerr
	}
	if d := s.drain; d != nil {
		sy := d.(Syncer)
		if !sy.Synced() || len(s.dq) > 0 {
			return nil, errUnexpectedEOF("filter: shifted layer (%T): stream cut short inside its end", d)
		}
	}
	top := len(s.layers) - 1
	for i, f := range s.layers {
		switch f := f.(type) {
		case *Zlib:
			if err := f.endErr(); err != nil {
				return nil, fmt.Errorf("filter: layer %d (%T): %w", i, f, err)
			}
		case *Stack:
			last, err := f.endOfInput()
			if err != nil {
				return nil, fmt.Errorf("filter: layer %d (%T): %w", i, f, err)
			}
			if last != nil && i < top {
				return nil, errUnexpectedEOF("filter: layer %d (%T): %d bytes of an incomplete record", i, f, len(last))
			}
			if last != nil {
				return last, nil
			}
		default:
			p := f.Pending()
			s.live[i] = false
			if len(p) == 0 {
				continue
			}
			if l, ok := f.(*Line); ok && i == top {
				last := bytes.Clone(p)
				if k := len(last); last[k-1] == '\r' {
					last = last[:k-1]
				}
				if len(last) > l.max() {
					return nil, fmt.Errorf("filter: layer %d (%T): %w", i, f, l.tooLong())
				}
				return last, nil
			}
			return nil, errUnexpectedEOF("filter: layer %d (%T): %d bytes of an incomplete record", i, f, len(p))
		}
	}
	return nil, nil
}

// A Finisher is an [Encoder] whose output has an end that a peer checks,
// such as [Zlib]'s final block and Adler-32. [Stack.Finish] and
// [Writer.Close] use it.
type Finisher interface {
	// Finish appends whatever output the encoder holds back and the end
	// of its stream to dst. Put after Finish is an error; Flush and
	// Finish append nothing more.
	Finish(dst []byte) ([]byte, error)
}

var _ Finisher = (*Stack)(nil)

// Finish ends every layer from the top down, as Flush does, except that a
// layer that is a [Finisher] is finished instead of flushed, and appends
// layer 0's output to dst. On error dst is returned unchanged.
func (s *Stack) Finish(dst []byte) ([]byte, error) {
	return s.flush(dst, true)
}

// Put encodes rec through every layer, from the top down, and appends
// layer 0's output to dst. On error dst is returned unchanged.
func (s *Stack) Put(dst, rec []byte) ([]byte, error) {
	if s.werr != nil {
		return dst, s.werr
	}
	return s.putFrom(len(s.layers)-1, dst, rec)
}

// putFrom runs rec down from layer i to layer 0.
func (s *Stack) putFrom(i int, dst, rec []byte) ([]byte, error) {
	for ; i > 0; i-- {
		f := s.layers[i]
		out, err := f.Put(s.scratch[i][:0], rec)
		s.keepScratch(i, out)
		if err != nil {
			return dst, s.writeErr(i, f, err)
		}
		if len(out) == 0 {
			return dst, nil
		}
		rec = out
	}
	if len(s.layers) == 0 {
		return append(dst, rec...), nil
	}
	out, err := s.layers[0].Put(dst, rec)
	if err != nil {
		return dst, s.writeErr(0, s.layers[0], err)
	}
	return out, nil
}

func (s *Stack) keepScratch(i int, out []byte) {
	if cap(out) <= scratchKeep {
		s.scratch[i] = out[:0]
	} else {
		s.scratch[i] = nil
	}
}

// Flush flushes every layer from the top down, running each layer's
// flushed output through the layers below it, and appends layer 0's output
// to dst. On error dst is returned unchanged.
func (s *Stack) Flush(dst []byte) ([]byte, error) {
	return s.flush(dst, false)
}

// end flushes layer f, or finishes it if finish is set and it can be.
func end(f Filter, dst []byte, finish bool) ([]byte, error) {
	if fin, ok := f.(Finisher); ok && finish {
		return fin.Finish(dst)
	}
	return f.Flush(dst)
}

func (s *Stack) flush(dst []byte, finish bool) ([]byte, error) {
	if s.werr != nil {
		return dst, s.werr
	}
	orig := dst
	for i := len(s.layers) - 1; i > 0; i-- {
		f := s.layers[i]
		out, err := end(f, s.scratch[i][:0], finish)
		s.keepScratch(i, out)
		if err != nil {
			return orig, s.writeErr(i, f, err)
		}
		if len(out) > 0 {
			if dst, err = s.putFrom(i-1, dst, out); err != nil {
				return orig, err
			}
		}
	}
	if len(s.layers) > 0 {
		out, err := end(s.layers[0], dst, finish)
		if err != nil {
			return orig, s.writeErr(0, s.layers[0], err)
		}
		dst = out
	}
	return dst, nil
}
