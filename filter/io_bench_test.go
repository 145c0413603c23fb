package filter

import (
	"bytes"
	"io"
	"testing"
)

// BenchmarkReaderNext reads the benchmark stream record by record through
// a Reader over Stack[Line]; one op is the whole stream, opened anew.
func BenchmarkReaderNext(b *testing.B) {
	_, wire := benchWire()
	b.ReportAllocs()
	b.SetBytes(int64(len(wire)))
	for b.Loop() {
		r := NewReader(bytes.NewReader(wire), NewStack(&Line{}))
		n := 0
		for {
			_, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != benchLines {
			b.Fatalf("read %d records", n)
		}
	}
	reportLines(b, benchLines)
}

// BenchmarkWriterRecord writes the benchmark lines one record per call
// through a reused Writer over Stack[Line], flushing every 64 lines.
func BenchmarkWriterRecord(b *testing.B) {
	lines, wire := benchWire()
	b.ReportAllocs()
	b.SetBytes(int64(len(wire)))
	w := NewWriter(io.Discard, NewStack(&Line{}))
	for b.Loop() {
		for i, l := range lines {
			if _, err := w.Write(l); err != nil {
				b.Fatal(err)
			}
			if i%64 == 63 {
				if err := w.Flush(); err != nil {
					b.Fatal(err)
				}
			}
		}
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
	}
	reportLines(b, benchLines)
}
