package filter

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// A chunking is one way to cut an input into chunks for Feed.
type chunking struct {
	name   string
	chunks [][]byte
}

// splits returns the boundary matrix for input: the input whole, one byte
// at a time, split in two at every index (both halves, empty ones
// included), and a few seeded random chunkings. Every decoder must give
// the same records for each. The chunks share input's memory; decodeAll
// copies them.
func splits(input []byte) [][][]byte {
	var out [][][]byte
	for _, c := range namedSplits(input) {
		out = append(out, c.chunks)
	}
	return out
}

// namedSplits is splits with a name for each chunking, for t.Run.
func namedSplits(input []byte) []chunking {
	cs := []chunking{{name: "whole", chunks: [][]byte{input}}}
	bytewise := make([][]byte, len(input))
	for i := range input {
		bytewise[i] = input[i : i+1]
	}
	cs = append(cs, chunking{name: "bytewise", chunks: bytewise})
	for i := 0; i <= len(input); i++ {
		cs = append(cs, chunking{name: fmt.Sprintf("split%d", i), chunks: [][]byte{input[:i], input[i:]}})
	}
	for seed := uint64(1); seed <= 8; seed++ {
		cs = append(cs, chunking{name: fmt.Sprintf("random%d", seed), chunks: randomChunks(input, seed)})
	}
	return cs
}

// randomChunks cuts input into chunks of 1 to 17 bytes (occasionally
// empty) chosen by a generator seeded with seed.
func randomChunks(input []byte, seed uint64) [][]byte {
	r := rand.New(rand.NewPCG(seed, 0x1e5c))
	var chunks [][]byte
	for len(input) > 0 {
		n := r.IntN(18)
		n = min(n, len(input))
		chunks = append(chunks, input[:n])
		input = input[n:]
	}
	return chunks
}

// decoded is what a Decoder gave for a sequence of chunks.
type decoded struct {
	recs    []string
	errs    []error
	pending string
}

func (d decoded) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "recs=%q", d.recs)
	if len(d.errs) > 0 {
		fmt.Fprintf(&b, " errs=%v", d.errs)
	}
	fmt.Fprintf(&b, " pending=%q", d.pending)
	return b.String()
}

// decodeAll feeds each chunk (a private copy, scribbled over once the
// decoder is drained, which the contract allows) and collects records and
// per-record errors until Next reports no record. A fatal error stops it.
// After each record, hook (if not nil) may change the decoder, as a caller
// switching layers would.
func decodeAll(d Decoder, chunks [][]byte, hook func(n int, rec []byte)) (decoded, error) {
	var out decoded
	for _, c := range chunks {
		p := append([]byte(nil), c...)
		d.Feed(p)
		for {
			rec, ok, err := d.Next()
			if err != nil {
				if !IsRecordError(err) {
					return out, err
				}
				out.errs = append(out.errs, err)
				continue
			}
			if !ok {
				break
			}
			out.recs = append(out.recs, string(rec))
			if hook != nil {
				hook(len(out.recs), rec)
			}
		}
		for i := range p {
			p[i] = '#'
		}
	}
	out.pending = string(d.Pending())
	return out, nil
}
