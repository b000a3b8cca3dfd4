//go:build rampart_testroutes

package main

import (
	"net/http"
	"strconv"
	"time"

	"github.com/rampart-social/rampart/internal/store"
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

// testStoreRoutes reach the store. POST /test/scheduled_statuses/{id}/due
// moves a scheduled status's time (and its job's) to now, past the API's
// five-minute minimum, so that a test sees the real job path publish it
// without waiting; POST /test/polls/{id}/end does the same for a poll's end
// (and its poll.expire job), on whichever database the server runs.
func testStoreRoutes(mux *http.ServeMux, st *store.Store) {
	mux.HandleFunc("POST /test/polls/{id}/end", func(w http.ResponseWriter, r *http.Request) {
		id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err := st.MovePollEnd(r.Context(), id, time.Now().Add(-time.Second)); err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		w.Write([]byte("ended"))
	})
	mux.HandleFunc("POST /test/scheduled_statuses/{id}/due", func(w http.ResponseWriter, r *http.Request) {
		id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
		sc, err := st.ScheduledStatusByID(r.Context(), 0, id)
		if err == nil {
			err = st.RescheduleStatus(r.Context(), sc.AccountID, id, time.Now(), store.ScheduledLimits{})
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		w.Write([]byte("due"))
	})
}
