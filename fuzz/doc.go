// Package fuzz holds the fuzz targets that cross packages; each package's
// own decoders keep theirs beside them (ircmsg.FuzzParse, filter.FuzzZlib,
// ...). It has no API: everything is in its _test.go files.
//
//   - FuzzStackZlibShift: a link that goes from plaintext to zlib and back,
//     read through filter.Stack with Unshift and Shift at random records,
//     against the lines a compress/zlib writer was given.
//   - FuzzWriterSplits: filter.Writer fed the same bytes in one Write and
//     in random pieces gives the same output, and the output a model of
//     line framing predicts (read back with compress/zlib for a Zlib
//     stack).
//   - FuzzReadPath: arbitrary bytes, cut into arbitrary chunks, through
//     the read path of a connection (filter.Stack holding a filter.Line,
//     then the filter.IRCv3 codec): every chunking decodes the same, and
//     every message formats back to a line that parses to it.
//   - FuzzBackendWire: random bytes into a Backend connection on loopback,
//     plain, through TLS and through zlib: no panic, bounded memory, and
//     every line the peer sent whole arrives as an Input or an InputError,
//     in order.
//
// `.ci/run` runs every target for 15 s; the README says how to run them
// longer.
package fuzz
