package ircsock

import (
	"errors"
	"fmt"

	"github.com/ircsock/ircsock/sock"
)

// Errors returned by Backend methods.
var (
	// ErrClosed is returned by calls made after Shutdown or Close began.
	ErrClosed = errors.New("ircsock: backend closed")
	// ErrUnknownConn means the connection id is unknown or already gone.
	ErrUnknownConn = errors.New("ircsock: unknown connection")
	// ErrUnknownListener means the listener id is unknown or removed.
	ErrUnknownListener = errors.New("ircsock: unknown listener")
	// ErrDisconnecting means the connection is already disconnecting.
	ErrDisconnecting = errors.New("ircsock: connection already disconnecting")
	// ErrAlreadyCompressed means compression was asked for twice in the
	// same direction; two zlib layers are never stacked.
	ErrAlreadyCompressed = errors.New("ircsock: link already compressed")
	// ErrNotCompressed means UnsetCompressedLink found nothing to remove.
	ErrNotCompressed = errors.New("ircsock: link not compressed")
	// ErrArmedLate means CompressInputAfter came after the reader had
	// decoded input past the switch point, or more input than it can
	// check: nothing is armed. As the Err of an InputError it means an
	// arm that looked in time lost the race to the next line: the switch
	// is off.
	ErrArmedLate = errors.New("ircsock: CompressInputAfter armed too late")
	// ErrNilMatch means CompressInputAfter was given no match function.
	ErrNilMatch = errors.New("ircsock: CompressInputAfter needs a match function")
	// ErrWebSocketCompression means zlib compression was asked for on a
	// WebSocket connection: its messages carry lines, not a byte stream.
	ErrWebSocketCompression = errors.New("ircsock: no zlib compression over WebSocket")
	// ErrNoTLSConfig means a listener asked for TLS with no configuration.
	ErrNoTLSConfig = errors.New("ircsock: TLS requested without a certificate")
	// ErrDrainTimeout is the cause, inside a *DrainError, of a graceful
	// close that ran out of Config.DrainTimeout.
	ErrDrainTimeout = sock.ErrDrainTimeout
	// ErrPartialRecord is the error of an InputError for input that ended
	// without a line end: the peer's last bytes, never silently dropped.
	ErrPartialRecord = sock.ErrPartialRecord
	// ErrFinalReadCut is the error of the InputError that comes just
	// before the Disconnect of a connection closed by a write error, when
	// Config.DrainTimeout ended the reading of what the peer had sent
	// before the peer's stream did (see Disconnect).
	ErrFinalReadCut = sock.ErrFinalReadCut
	// ErrExcessFlood is the cause, in the Err of a Disconnect with
	// ReasonExcessFlood, of a connection that had more commands held back
	// than its listener's FloodControl.MaxQueued; the error names the
	// value, as in "MaxQueued=64".
	ErrExcessFlood = errors.New("ircsock: too many commands held back by flood control (FloodControl.MaxQueued)")
)

// DrainError is the Err of a Disconnect event whose graceful close was cut
// (by Config.DrainTimeout or by Shutdown's context) before the peer
// closed; Undelivered says how many bytes the peer had not acknowledged.
type DrainError = sock.DrainError

// ShutdownError reports a Shutdown that could not deliver everything: its
// context ended first, or drains were cut with bytes undelivered.
type ShutdownError struct {
	// Conns is how many connections' drains were cut (by the context, or
	// by DrainTimeout with bytes undelivered); Bytes is the sum of their
	// Disconnect.Undelivered.
	Conns int
	Bytes int64
	// Err is the context's error when it ended first, else nil.
	Err error
}

func (e *ShutdownError) Error() string {
	s := fmt.Sprintf("ircsock: shutdown cut %d connections with %d bytes undelivered", e.Conns, e.Bytes)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the context's error, so errors.Is(err,
// context.DeadlineExceeded) works.
func (e *ShutdownError) Unwrap() error { return e.Err }

// SendError reports the targets a Send could not queue to. The message
// was queued to every other target.
type SendError struct {
	IDs  []ConnID
	Errs []error // Errs[i] is why IDs[i] failed (ErrUnknownConn, ...)
}

func (e *SendError) Error() string {
	if len(e.IDs) == 1 {
		return fmt.Sprintf("ircsock: send to %d: %v", e.IDs[0], e.Errs[0])
	}
	return fmt.Sprintf("ircsock: send failed for %d connections (first %d: %v)", len(e.IDs), e.IDs[0], e.Errs[0])
}

// Unwrap returns the per-target errors, so errors.Is(err, ErrUnknownConn)
// works.
func (e *SendError) Unwrap() []error { return e.Errs }
