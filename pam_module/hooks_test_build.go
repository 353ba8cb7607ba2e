//go:build pamtotp_testhooks

package main

import (
	"runtime"
	"sync/atomic"
	"time"
)

// A build with the pamtotp_testhooks tag accepts extra arguments that let
// the tests provoke what a working module never does, or see what it
// cannot show otherwise. It is built only into build/test/ and never
// installed.

// testHooks lists the arguments this build accepts in addition.
var testHooks = map[string]bool{
	// test_panic panics inside the module, after the arguments are read.
	"test_panic": true,
	// test_goroutines logs, at LOG_DEBUG, how many goroutines are left
	// when the call returns to C, the one returning included.
	"test_goroutines": true,
}

// reportGoroutines is set by test_goroutines for the call under way.
var reportGoroutines atomic.Bool

// runHooks acts on the test hooks in o.
func runHooks(o *options) {
	reportGoroutines.Store(o.hooks["test_goroutines"])
	if o.hooks["test_panic"] {
		var m map[string]int
		m["provoked by test_panic"]++ // assignment to a nil map panics
	}
}

// goroutineSettle bounds the wait for goroutines that have done their
// work and are exiting, such as Argon2's, which signal the end of their
// work just before they end.
const goroutineSettle = 200 * time.Millisecond

// callEnded runs last in every call. With test_goroutines, it waits until
// the calling goroutine is the only one left, or goroutineSettle has
// passed, and logs the count.
func callEnded(h *handle) {
	if !reportGoroutines.Swap(false) {
		return
	}
	n := runtime.NumGoroutine()
	for deadline := time.Now().Add(goroutineSettle); n > 1 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
		n = runtime.NumGoroutine()
	}
	h.log(logDebug, "debug: test_goroutines: %d goroutines as the call returns", n)
}
