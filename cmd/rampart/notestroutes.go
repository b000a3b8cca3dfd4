//go:build !rampart_testroutes

package main

import (
	"net/http"

	"github.com/rampart-social/rampart/internal/store"
)

// testRoutes and testStoreRoutes are nil in release builds: no test-only
// route exists.
var (
	testRoutes      func(*http.ServeMux)
	testStoreRoutes func(*http.ServeMux, *store.Store)
)
