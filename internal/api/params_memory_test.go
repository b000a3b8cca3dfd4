package api

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// What a request may cost while its parameters are read: allocations of at
// most paramCostFactor times its body, plus paramCostSlack for the handler
// itself. The body is capped (http.max_body_bytes) before a handler runs, so
// this bounds every request of a JSON or form route.
const (
	paramCostFactor = 6
	paramCostSlack  = 256 << 10
)

// hostileBody is a body of at most size bytes built to cost the parser far
// more memory than its size, if nothing bounds it.
type hostileBody struct {
	name, contentType string
	body              []byte
	want              string // in the error description; "" for a body params accepts
}

// costFactor is what reading a body may allocate per byte: a form is read
// once and split; JSON pays encoding/json's read buffer for its longest
// token, multipart net/http's reader (more under -race, where sync.Pool
// keeps nothing).
func (h hostileBody) costFactor() int {
	if h.contentType == "application/x-www-form-urlencoded" {
		return 2
	}
	return paramCostFactor
}

func hostileBodies(size int) []hostileBody {
	var out []hostileBody
	add := func(name, ct, want string, b []byte) {
		if len(b) > size {
			panic(fmt.Sprintf("%s: %d bytes, over %d", name, len(b), size))
		}
		out = append(out, hostileBody{name, ct, bytes.Clone(b), want})
	}

	// The review's request: one long key, nested until the body is full.
	// Flattened, every level holds all the keys above it: ~500 MB of keys.
	key := strings.Repeat("k", 1000)
	levels := min(990, (size-16)/(len(key)+6)) // 991 values: under maxValues
	var b bytes.Buffer
	for range levels {
		b.WriteString(`{"` + key + `":`)
	}
	b.WriteString("1")
	b.WriteString(strings.Repeat("}", levels))
	add("deep long key", "application/json", "nest|longer than", b.Bytes())

	// Short keys, nested 9000 deep (encoding/json stops at 10000).
	b.Reset()
	b.WriteString(strings.Repeat(`{"a":`, 9000) + "1" + strings.Repeat("}", 9000))
	add("deep short keys", "application/json", "nest", b.Bytes())

	// Arrays nest without any key at all.
	b.Reset()
	b.WriteString(`{"a":` + strings.Repeat("[", 9000) + strings.Repeat("]", 9000) + "}")
	add("deep arrays", "application/json", "nest", b.Bytes())

	// Wide: as many keys as fit.
	b.Reset()
	b.WriteString("{")
	for i := 0; b.Len() < size-32; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"k%07d":0`, i)
	}
	b.WriteString("}")
	add("wide", "application/json", "more than", b.Bytes())

	// One key as long as the body.
	add("long key", "application/json", "longer than",
		[]byte(`{"`+strings.Repeat("k", size-16)+`":1}`))

	// Names repeated by nesting: 900 values under one 100-byte name make
	// flattened names of ~95 KB that the body holds once.
	b.Reset()
	const n = 900
	val := strings.Repeat("v", (size-200)/n-12)
	b.WriteString(`{"` + strings.Repeat("k", 100) + `":{`)
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"a%03d":"%s"`, i, val)
	}
	b.WriteString("}}")
	add("names repeated", "application/json", "larger than", b.Bytes())

	// A long name over many empty objects: no value, but flattening would
	// copy the name once for each of them.
	b.Reset()
	b.WriteString(`{"` + strings.Repeat("k", 100_000) + `":{`)
	for i := range 990 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"a%03d":{}`, i)
	}
	b.WriteString("}}")
	add("long name, empty objects", "application/json", "longer than", b.Bytes())

	// One value as long as the body is within the bounds: params reads it,
	// and the handler refuses what it says.
	add("long value", "application/json", "",
		[]byte(`{"client_name":"`+strings.Repeat("v", size-32)+`"}`))

	// Many values: a list of zeros, then a form of empty values.
	add("many values", "application/json", "more than",
		[]byte(`{"a":[0`+strings.Repeat(",0", (size-16)/2)+`]}`))
	add("many form values", "application/x-www-form-urlencoded", "more than",
		[]byte(strings.Repeat("a=&", size/3)))
	add("many form keys", "application/x-www-form-urlencoded", "more than",
		[]byte(strings.Repeat("a&", size/2)))

	// A multipart form of many tiny fields.
	b.Reset()
	mw := multipart.NewWriter(&b)
	for b.Len() < size-1024 {
		mw.WriteField("a", "")
	}
	mw.Close()
	add("many multipart fields", mw.FormDataContentType(), "could not be read", b.Bytes())
	return out
}

// saysAny reports whether msg holds one of the |-separated phrases.
func saysAny(msg, phrases string) bool {
	for p := range strings.SplitSeq(phrases, "|") {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

// allocated serves one request and returns what the process allocated meanwhile.
func allocated(h http.Handler, req *http.Request) (*httptest.ResponseRecorder, uint64) {
	rec := httptest.NewRecorder()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	h.ServeHTTP(rec, req)
	runtime.ReadMemStats(&after)
	return rec, after.TotalAlloc - before.TotalAlloc
}

func hostileRequest(h hostileBody, target string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "https://"+testHost+target, bytes.NewReader(h.body))
	req.Host = testHost
	req.Header.Set("Content-Type", h.contentType)
	return req
}

// Each hostile body costs at most a small multiple of its size, is refused
// with a clear message in Mastodon's error shape, and leaves nothing behind.
func TestParamsMemoryIsBoundedByTheBody(t *testing.T) {
	e := newEnv(t)
	size := int(e.cfg.HTTP.MaxBodyBytes)
	// As in production: server.limitBody caps the body before the API.
	h := http.MaxBytesHandler(e.mux, int64(size))

	runtime.GC()
	var start runtime.MemStats
	runtime.ReadMemStats(&start)
	for _, hb := range hostileBodies(size) {
		for _, target := range []string{"/oauth/token", "/oauth/revoke", "/api/v1/apps"} {
			rec, cost := allocated(h, hostileRequest(hb, target))
			limit := uint64(hb.costFactor()*len(hb.body) + paramCostSlack)
			t.Logf("%-22s %-14s %4d KiB body: %7d KiB allocated (bound %d KiB)", hb.name, target, len(hb.body)>>10, cost>>10, limit>>10)
			if cost > limit {
				t.Errorf("%s to %s: %d bytes allocated for a %d-byte body, over %d", hb.name, target, cost, len(hb.body), limit)
			}
			if hb.want == "" {
				continue
			}
			if rec.Code != http.StatusBadRequest {
				t.Errorf("%s to %s: status %d, want 400: %s", hb.name, target, rec.Code, rec.Body)
				continue
			}
			v := wantJSON(t, rec, http.StatusBadRequest)
			msg, _ := v["error"].(string)
			if target != "/api/v1/apps" {
				if msg != "invalid_request" {
					t.Errorf("%s to %s: error %q, want invalid_request", hb.name, target, msg)
				}
				msg, _ = v["error_description"].(string)
			}
			if msg == "" || !saysAny(msg, hb.want) {
				t.Errorf("%s to %s: message %q, want one saying %q", hb.name, target, msg, hb.want)
			}
		}
	}
	runtime.GC()
	var end runtime.MemStats
	runtime.ReadMemStats(&end)
	if grown := int64(end.HeapAlloc) - int64(start.HeapAlloc); grown > 2<<20 {
		t.Errorf("the heap grew by %d KiB over the hostile requests", grown>>10)
	}
}

// Four hostile requests at once cost no more than four one after another:
// nothing is shared, and nothing waits on anything.
func TestParamsMemoryBoundedUnderConcurrency(t *testing.T) {
	e := newEnv(t)
	size := int(e.cfg.HTTP.MaxBodyBytes)
	h := http.MaxBytesHandler(e.mux, int64(size))
	hb := hostileBodies(size)[0] // the deep long key
	const parallel = 4
	reqs := make([]*http.Request, parallel)
	recs := make([]*httptest.ResponseRecorder, parallel)
	for i := range reqs {
		reqs[i], recs[i] = hostileRequest(hb, "/oauth/token"), httptest.NewRecorder()
	}

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var wg sync.WaitGroup
	for i := range parallel {
		wg.Go(func() { h.ServeHTTP(recs[i], reqs[i]) })
	}
	wg.Wait()
	runtime.ReadMemStats(&after)

	// TotalAlloc only grows, so it bounds the peak the four reached together.
	cost := after.TotalAlloc - before.TotalAlloc
	limit := uint64(parallel * (hb.costFactor()*len(hb.body) + paramCostSlack))
	t.Logf("%d concurrent %d KiB bodies: %d KiB allocated (bound %d KiB)", parallel, len(hb.body)>>10, cost>>10, limit>>10)
	if cost > limit {
		t.Errorf("%d concurrent requests allocated %d bytes, over %d", parallel, cost, limit)
	}
	for i, rec := range recs {
		if rec.Code != http.StatusBadRequest {
			t.Errorf("request %d: status %d, want 400", i, rec.Code)
		}
	}
}
