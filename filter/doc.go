// Package filter turns bytes into records and records into bytes, with no
// I/O and no goroutines: the filters of POE (Line, IRCv3, Zlib::Stream,
// Stackable) as push-in, pull-out transformations that any chunking of the
// input decodes the same way.
//
// The package example (Example) stacks Line over Zlib over a net.Conn;
// index 0 of a Stack is nearest the wire:
//
//	w := filter.NewWriter(conn, filter.NewStack(&filter.Zlib{}, &filter.Line{}))
//	w.WriteRecord([]byte("PING :hello")) // framed, then compressed
//	w.Close()                            // flushes and ends the zlib stream
//
//	r := filter.NewReader(conn, filter.NewStack(&filter.Zlib{}, &filter.Line{}))
//	rec, err := r.Next() // "PING :hello"; io.EOF after the last record
//
// The building blocks:
//
//   - [Decoder], [Encoder] and [Filter]: the contract. Feed chunks in, pull
//     records out one at a time with Next, take back unconsumed bytes with
//     Pending; Put and Flush append encoded output to a caller's buffer.
//   - [RecordError] and [IsRecordError]: a per-record error spoils one
//     record and the stream goes on; any other error is fatal and sticky.
//   - [Line]: CR LF framing (input \r?\n, output \r\n) with a length limit,
//     [Line.Max], whose overflow is the per-record [ErrLineTooLong].
//   - [Zlib]: zlib compression of a link, one stream per direction,
//     sync-flushed at each Flush, with an inflate limit.
//   - [Stack]: ordered layers, index 0 nearest the wire, changeable
//     between records with [Stack.Push], [Stack.Pop], [Stack.Unshift] and
//     [Stack.Shift] without losing, repeating or misrouting a byte. A layer
//     that is a [Syncer] (Zlib) is shifted out at its next sync point.
//   - [IRCv3]: the codec between lines and *ircmsg.Message.
//   - [Reader] and [Writer]: a Stack over an io.Reader or io.Writer,
//     keeping io's contracts: *Reader is an io.Reader over the decoded
//     stream (records followed by LF when a Line is on top) and *Writer an
//     io.WriteCloser that frames what it is given at line ends, whatever
//     the split, and whose Close ends every layer (a [Finisher], such as
//     Zlib, writes its final block and checksum). Next and WriteRecord go
//     one record per call. [MessageReader] and [MessageWriter] add the
//     IRCv3 codec on top; [MessageReader.ReadInto] reads into a reused
//     Message with no allocation per line, its strings valid until the
//     next call.
//
// # Why IRCv3 is a codec, not a layer
//
// The design draws the read path as Stack[Zlib? -> Line -> IRCv3]. In Go
// the byte layers keep records as []byte that alias their buffers, so
// framing and decompression allocate nothing per line; a typed
// *ircmsg.Message exists only where the application wants one, at the top.
// Making IRCv3 a Filter would force messages through []byte records (or an
// interface{} record type that allocates per record) and gain nothing: no
// layer above IRCv3 ever needs bytes again. So the Go form of that stack is
// NewStack(zlib, &Line{}) for bytes, with [IRCv3] applied to each record by
// a [MessageReader] (or by the caller): the same layers, typed at the end.
//
// # Exact switches
//
// A link that turns on compression sends the line announcing it and the
// first compressed bytes in the same TCP segment. Because a [Stack] pulls
// one record at a time, the line framer has split off only the lines up to
// the one the caller reacts to; calling Unshift with a [Zlib] at that moment
// moves every byte after that line into the decompressor. See [Stack] for
// the rule and ExampleStack_Unshift for the whole exchange.
package filter
