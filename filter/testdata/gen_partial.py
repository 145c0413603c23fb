#!/usr/bin/env python3
# Generates the zlib streams that filter/zlib_test.go decodes, with the real
# zlib (Python's zlib module links it), because Go's compressors cannot emit
# Z_PARTIAL_FLUSH: that flush ends the data with an empty fixed-Huffman block
# that stops in the middle of a byte, which the decoder must resume from.
#
# Run from this directory: python3 gen_partial.py
# It rewrites zlib_lines.txt (the plaintext), one zlib_<mode>.zz per flush
# mode, and zlib_<mode>.offsets: the stream length after each flush, one
# per line, so a test can check that each flushed line decodes as soon as
# its flush has arrived. The output is deterministic for a given zlib version; the
# files were generated with zlib 1.2.13.
import zlib

LINES = []
for i in range(40):
    if i % 5 == 0:
        LINES.append(b"PING :irc.example.net\r\n")
    else:
        LINES.append(b":nick%d!~user@host-%d.example.org PRIVMSG #channel :line %d of the burst\r\n" % (i % 7, i % 3, i))

# One flush after each line, or after every third line for "batched".
MODES = {
    "partial": (zlib.Z_PARTIAL_FLUSH, 1, False),
    "partial_end": (zlib.Z_PARTIAL_FLUSH, 1, True),  # then Z_FINISH
    "full": (zlib.Z_FULL_FLUSH, 1, False),
    "sync_batched": (zlib.Z_SYNC_FLUSH, 3, False),
    "noflush_end": (None, 1, True),  # no flush at all, then Z_FINISH
}

with open("zlib_lines.txt", "wb") as f:
    f.write(b"".join(LINES))

for name, (mode, every, finish) in MODES.items():
    c = zlib.compressobj(6, zlib.DEFLATED, 15, 9)
    out = []
    offsets = []
    for i, line in enumerate(LINES):
        out.append(c.compress(line))
        if mode is not None and (i + 1) % every == 0:
            out.append(c.flush(mode))
            offsets.append(sum(len(o) for o in out))
    if finish:
        out.append(c.flush(zlib.Z_FINISH))
    elif mode is not None and len(LINES) % every != 0:
        out.append(c.flush(mode))
    with open("zlib_%s.zz" % name, "wb") as f:
        f.write(b"".join(out))
    if offsets:
        with open("zlib_%s.offsets" % name, "w") as f:
            f.write("".join("%d\n" % o for o in offsets))
