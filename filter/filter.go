package filter

import "errors"

// A Decoder turns chunks of input into records, one record at a time.
//
// Feed hands the decoder a chunk. The decoder may keep a reference to p
// (instead of copying it) until Next next returns ok == false with a nil
// error, or until Pending is called; the caller must not modify p before
// then. Feed never fails: errors are reported by Next. Feed may be called
// again before Next has drained the decoder (a [Stack] does so when it
// moves bytes between layers); the new chunk then follows the old one, at
// the cost of a copy. A caller that wants bounded memory drains the
// decoder with Next after each Feed, as [Stack] and [Reader] do.
//
// Next returns the next complete record:
//   - rec, true, nil: a record. rec aliases the decoder's buffers and is
//     valid until the next call to Feed, Next or Pending.
//   - nil, false, nil: no complete record; Feed more input.
//   - nil, false, err: an error. A per-record error (wrapped in
//     [*RecordError], such as [ErrLineTooLong]) spoils one record and the
//     stream continues with the next call. Any other error is fatal and
//     sticky: every later call returns it again.
//
// Pending hands back every byte given to Feed that no record has consumed,
// in order, and forgets them: the decoder is empty afterwards. A [Stack]
// uses it to move buffered input into a layer added or exposed by a change,
// which is what makes a mid-stream switch exact. The result is valid until
// the next call to Feed.
type Decoder interface {
	Feed(p []byte)
	Next() (rec []byte, ok bool, err error)
	Pending() []byte
}

// An Encoder turns records into output, appending to a caller's buffer.
//
// Put appends the encoded form of rec to dst and returns the extended
// buffer. An encoder may hold back output until Flush (Zlib does).
//
// Flush appends whatever output the encoder holds back, so that the peer can
// decode every record put so far. Writers call it once per batch of Puts.
type Encoder interface {
	Put(dst, rec []byte) ([]byte, error)
	Flush(dst []byte) ([]byte, error)
}

// A Filter is one layer of a [Stack]: a decoder for the read direction and
// an encoder for the write direction. Filters are pure transformations: they
// start no goroutines and do no I/O, and one Filter value is used from one
// goroutine at a time.
type Filter interface {
	Decoder
	Encoder
}

// A RecordError is a per-record error: one record was bad and has been
// skipped, and the stream goes on. Decoders wrap per-record errors in it so
// that a caller can tell them from fatal ones with [IsRecordError].
type RecordError struct {
	Err error
}

func (e *RecordError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error, such as [ErrLineTooLong].
func (e *RecordError) Unwrap() error { return e.Err }

// IsRecordError reports whether err spoils only one record (the stream
// continues) rather than the whole stream.
func IsRecordError(err error) bool {
	var re *RecordError
	return errors.As(err, &re)
}
