package media

import (
	"container/list"
	"context"
	"fmt"
	"sync"
)

// byteBudget admits work by the bytes of memory it may hold: Acquire waits
// until n more bytes fit under the size. Waiters are served in arrival order,
// so a large request is not starved by a stream of small ones. (A weighted
// semaphore, as golang.org/x/sync/semaphore has, without the dependency.)
type byteBudget struct {
	mu      sync.Mutex
	size    int64
	used    int64
	waiters list.List // of *budgetWaiter, oldest first
}

type budgetWaiter struct {
	n     int64
	ready chan struct{} // closed once the bytes are granted
}

func newByteBudget(size int64) *byteBudget { return &byteBudget{size: size} }

// Acquire waits until n bytes fit, or ctx is done. The returned release
// gives them back; calling it more than once is harmless. A request larger
// than the whole budget can never fit and fails at once.
func (b *byteBudget) Acquire(ctx context.Context, n int64) (release func(), err error) {
	if n < 0 || n > b.size {
		return nil, fmt.Errorf("%d bytes can never fit a budget of %d", n, b.size)
	}
	b.mu.Lock()
	if b.waiters.Len() == 0 && b.used+n <= b.size {
		b.used += n
		b.mu.Unlock()
		return b.releaser(n), nil
	}
	w := &budgetWaiter{n: n, ready: make(chan struct{})}
	elem := b.waiters.PushBack(w)
	b.mu.Unlock()
	select {
	case <-w.ready:
		return b.releaser(n), nil
	case <-ctx.Done():
		b.mu.Lock()
		select {
		case <-w.ready: // granted while ctx ended: give the bytes back
			b.used -= n
		default:
			b.waiters.Remove(elem)
		}
		b.grant() // the head of the queue may have changed
		b.mu.Unlock()
		return nil, ctx.Err()
	}
}

func (b *byteBudget) releaser(n int64) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			b.mu.Lock()
			b.used -= n
			b.grant()
			b.mu.Unlock()
		})
	}
}

// grant admits waiters from the front while they fit. It stops at the first
// that does not, so that one is next. b.mu is held.
func (b *byteBudget) grant() {
	for e := b.waiters.Front(); e != nil; e = b.waiters.Front() {
		w := e.Value.(*budgetWaiter)
		if b.used+w.n > b.size {
			return
		}
		b.used += w.n
		b.waiters.Remove(e)
		close(w.ready)
	}
}

// inUse reports the bytes held now (for tests and logs).
func (b *byteBudget) inUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}
