package testutil

import (
	"runtime"
	"runtime/metrics"
	"sync"
	"time"
)

// heapObjects is the runtime's count of bytes in heap objects, live or not
// yet collected: what MemStats.HeapAlloc reports, read without stopping the world.
const heapObjects = "/memory/classes/heap/objects:bytes"

// HeapPeak runs fn while sampling the heap every 200µs and returns how far
// the heap rose above where it stood after a collection just before fn.
// Garbage counts until the collector frees it: the process holds that
// memory too. Buffers worth measuring live for milliseconds at least, so the
// sampling sees them. (The sampler re-arms a timer rather than looping in a
// goroutine of its own: server code starts goroutines only through
// internal/safely, and this package is not a _test.go file.)
func HeapPeak(fn func()) uint64 {
	sample := []metrics.Sample{{Name: heapObjects}}
	var mu sync.Mutex
	var high uint64
	stopped := false
	note := func() {
		mu.Lock()
		defer mu.Unlock()
		metrics.Read(sample)
		high = max(high, sample[0].Value.Uint64())
	}
	runtime.GC()
	note()
	base := high
	var timer *time.Timer
	mu.Lock() // the callback reads timer: it waits until timer is set
	timer = time.AfterFunc(200*time.Microsecond, func() {
		note()
		mu.Lock()
		if !stopped {
			timer.Reset(200 * time.Microsecond)
		}
		mu.Unlock()
	})
	mu.Unlock()
	fn()
	note()
	mu.Lock()
	stopped = true
	timer.Stop()
	peak := high - base
	mu.Unlock()
	return peak
}
