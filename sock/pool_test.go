package sock

import "testing"

// TestWriteBufClasses pins the write buffers' size classes: a request gets
// the smallest class that holds it, a buffer goes back to the largest class
// it fills, and nothing past maxKeep is pooled. A pooled buffer may be
// bigger than its class (append regrew it), never as big as the next.
func TestWriteBufClasses(t *testing.T) {
	for _, tc := range []struct{ n, cap int }{
		{0, 1 << 10}, {1, 1 << 10}, {1 << 10, 1 << 10},
		{1<<10 + 1, 4 << 10}, {4 << 10, 4 << 10},
		{4<<10 + 1, 16 << 10}, {16 << 10, 16 << 10},
		{16<<10 + 1, 64 << 10}, {64 << 10, 64 << 10},
		{64<<10 + 1, 64<<10 + 1}, // past the classes: allocated to size
	} {
		bp := getSized(tc.n)
		limit := tc.cap // past the classes: exactly the size asked for
		if tc.cap <= maxKeep {
			limit = 4*tc.cap - 1
		}
		if len(*bp) != 0 || cap(*bp) < tc.cap || cap(*bp) > limit {
			t.Errorf("getSized(%d): len %d cap %d, want 0 and %d to %d", tc.n, len(*bp), cap(*bp), tc.cap, limit)
		}
		putSized(bp)
	}
	// A buffer append regrew to 5000 bytes serves requests up to 4 KiB.
	b := make([]byte, 100, 5000)
	putSized(&b)
	for range 100 { // the pool may drop it; it never hands it to a bigger class
		bp := getSized(16 << 10)
		if cap(*bp) < 16<<10 {
			t.Fatalf("a %d-byte buffer came out of the 16 KiB class", cap(*bp))
		}
	}
}

// TestQueueGrowsThroughClasses checks that a queue keeps every byte and
// its order as it moves through the classes and past the largest.
func TestQueueGrowsThroughClasses(t *testing.T) {
	w := &Wheel{}
	var want []byte
	rec := make([]byte, 700)
	for i := range 300 { // 210 KB: through every class and well past maxKeep
		for j := range rec {
			rec[j] = byte(i + j)
		}
		w.reserveLocked(len(rec))
		before := cap(*w.pend)
		*w.pend = append(*w.pend, rec...)
		if cap(*w.pend) != before {
			t.Fatalf("record %d: the append regrew the queue: reserve left too little room", i)
		}
		want = append(want, rec...)
	}
	if string(*w.pend) != string(want) {
		t.Fatal("the queue lost or reordered bytes while growing")
	}
}

// TestShrinkRead: a read of at most smallRead bytes moves to a buffer of
// the smallest class with the same bytes, a bigger one stays where it was
// read, and either goes back to its own pool through putBuf.
func TestShrinkRead(t *testing.T) {
	for _, n := range []int{0, 1, 100, smallRead, smallRead + 1, bufSize} {
		bp := getBuf()
		src := (*bp)[:cap(*bp)]
		for i := range n {
			src[i] = byte(i * 7)
		}
		got := shrinkRead(bp, n)
		small := n > 0 && n <= smallRead
		if small && cap(*got) >= bufSize {
			t.Errorf("read of %d bytes: kept in a %d-byte buffer", n, cap(*got))
		}
		if !small && got != bp {
			t.Errorf("read of %d bytes: moved, want it left in the read buffer", n)
		}
		data := (*got)[:n]
		for i := range n {
			if data[i] != byte(i*7) {
				t.Fatalf("read of %d bytes: byte %d is %d, want %d", n, i, data[i], byte(i*7))
			}
		}
		putBuf(got)
	}
}
