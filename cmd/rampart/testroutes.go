//go:build rampart_testroutes

package main

import (
	"net/http"
	"strconv"
	"time"
)

// testRoutes exist only in binaries built with -tags rampart_testroutes, which
// the end-to-end tests build; release builds cannot reach them.
func testRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /test/panic", func(http.ResponseWriter, *http.Request) { panic("test panic") })
	mux.HandleFunc("GET /test/slow", func(w http.ResponseWriter, r *http.Request) {
		ms, _ := strconv.Atoi(r.URL.Query().Get("ms"))
		time.Sleep(time.Duration(min(ms, 10000)) * time.Millisecond)
		w.Write([]byte("finished"))
	})
}
