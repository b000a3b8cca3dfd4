package logging

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// gate is a destination whose writes wait until the test opens it.
type gate struct {
	entered chan struct{} // receives once per write, when it starts
	open    chan struct{}

	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
}

func newGate() *gate { return &gate{entered: make(chan struct{}, 1000), open: make(chan struct{})} }

func (g *gate) Write(p []byte) (int, error) {
	g.entered <- struct{}{}
	<-g.open
	g.mu.Lock()
	defer g.mu.Unlock()
	g.writes++
	return g.buf.Write(p)
}

func (g *gate) String() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.buf.String()
}

// syncBuffer is a destination that never waits.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestLinesWrittenDuringAWriteGoOutTogether(t *testing.T) {
	dest := newGate()
	w := newBatchWriter(dest)
	fmt.Fprintf(w, "line 0\n")
	<-dest.entered // the writer holds line 0 and waits on the destination
	for i := 1; i < 100; i++ {
		fmt.Fprintf(w, "line %d\n", i)
	}
	close(dest.open)
	w.Close()

	var want strings.Builder
	for i := range 100 {
		fmt.Fprintf(&want, "line %d\n", i)
	}
	if got := dest.String(); got != want.String() {
		t.Fatalf("the destination got:\n%s\nwant every line once, in order", got)
	}
	if dest.writes != 2 {
		t.Errorf("%d writes reached the destination; want 2 (line 0, then the 99 queued behind it)", dest.writes)
	}
}

func TestAnIdleLineIsWrittenWithoutWaitingForClose(t *testing.T) {
	dest := &syncBuffer{}
	w := newBatchWriter(dest)
	defer w.Close()
	fmt.Fprintf(w, "alone\n")
	deadline := time.Now().Add(10 * time.Second)
	for dest.String() != "alone\n" {
		if time.Now().After(deadline) {
			t.Fatalf("the line never reached the destination; got %q", dest.String())
		}
		time.Sleep(time.Millisecond)
	}
}

func TestConcurrentWritersKeepTheirLinesWholeAndInOrder(t *testing.T) {
	dest := &syncBuffer{}
	w := newBatchWriter(dest)
	const writers, lines = 8, 2000
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for n := range lines {
				fmt.Fprintf(w, "writer=%d n=%d %s\n", g, n, strings.Repeat("x", n%97+1))
			}
		})
	}
	wg.Wait()
	w.Close()

	next := make([]int, writers)
	for i, line := range strings.Split(strings.TrimSuffix(dest.String(), "\n"), "\n") {
		var g, n int
		var pad string
		if _, err := fmt.Sscanf(line, "writer=%d n=%d %s", &g, &n, &pad); err != nil || g < 0 || g >= writers {
			t.Fatalf("line %d is not whole: %q (%v)", i, line, err)
		}
		if n != next[g] || len(pad) != n%97+1 {
			t.Fatalf("line %d: %q; want writer %d's line %d next, whole", i, line, g, next[g])
		}
		next[g]++
	}
	for g, n := range next {
		if n != lines {
			t.Errorf("writer %d: %d of %d lines arrived", g, n, lines)
		}
	}
}

func TestAStalledDestinationBoundsWhatIsQueued(t *testing.T) {
	dest := newGate()
	w := newBatchWriter(dest)
	line := strings.Repeat("y", 1023) + "\n"
	const lines = 4096 // 4 MiB, far past the bound
	var accepted atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range lines {
			_, _ = w.Write([]byte(line))
			accepted.Add(int64(len(line)))
		}
	}()
	<-dest.entered
	// Wait for the producer to stop being accepted: it blocks once the
	// queue is full. Whenever this looks, the bound must hold.
	bound := int64(2*maxPendingBytes + len(line))
	last, still := int64(-1), 0
	for still < 50 {
		n := accepted.Load()
		if n > bound {
			t.Fatalf("%d bytes accepted while the destination was stalled; the bound is %d", n, bound)
		}
		if n == last {
			still++
		} else {
			last, still = n, 0
		}
		time.Sleep(2 * time.Millisecond)
	}
	if last < maxPendingBytes/2 {
		t.Fatalf("only %d bytes accepted before the writer stopped; it should queue up to %d", last, maxPendingBytes)
	}
	close(dest.open)
	<-done
	w.Close()
	if got := dest.String(); got != strings.Repeat(line, lines) {
		t.Fatalf("after the stall the destination got %d bytes; want all %d, in order", len(got), lines*len(line))
	}
}

func TestAfterCloseLinesAreWrittenThrough(t *testing.T) {
	dest := &syncBuffer{}
	w := newBatchWriter(dest)
	fmt.Fprintf(w, "before\n")
	w.Close()
	if got := dest.String(); got != "before\n" {
		t.Fatalf("Close left %q; want the pending line written", got)
	}
	fmt.Fprintf(w, "after\n")
	if got := dest.String(); got != "before\nafter\n" {
		t.Fatalf("a line after Close: destination has %q", got)
	}
	w.Close() // a second Close is harmless
}
