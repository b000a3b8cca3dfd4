//go:build !rampart_testroutes

package main

import "net/http"

// testRoutes is nil in release builds: no test-only route exists.
var testRoutes func(*http.ServeMux)
