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
			if err := w.WriteRecord(l); err != nil {
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

// BenchmarkWriterWrite writes the benchmark stream through a reused
// Writer over Stack[Line] with io.Writer's Write, in 4 KiB pieces that
// cut lines anywhere, flushing after each piece.
func BenchmarkWriterWrite(b *testing.B) {
	_, wire := benchWire()
	b.ReportAllocs()
	b.SetBytes(int64(len(wire)))
	w := NewWriter(io.Discard, NewStack(&Line{}))
	for b.Loop() {
		for p := wire; len(p) > 0; {
			n := min(len(p), 4096)
			if _, err := w.Write(p[:n]); err != nil {
				b.Fatal(err)
			}
			p = p[n:]
			if err := w.Flush(); err != nil {
				b.Fatal(err)
			}
		}
	}
	reportLines(b, benchLines)
}

// BenchmarkReaderRead reads the benchmark stream through a Reader over
// Stack[Line] with io.Reader's Read into a 4 KiB buffer; one op is the
// whole stream, opened anew.
func BenchmarkReaderRead(b *testing.B) {
	_, wire := benchWire()
	b.ReportAllocs()
	b.SetBytes(int64(len(wire)))
	p := make([]byte, 4096)
	for b.Loop() {
		r := NewReader(bytes.NewReader(wire), NewStack(&Line{}))
		for {
			_, err := r.Read(p)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	reportLines(b, benchLines)
}
