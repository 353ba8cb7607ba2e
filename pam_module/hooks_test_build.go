//go:build pamtotp_testhooks

package main

// A build with the pamtotp_testhooks tag accepts extra arguments that let
// the tests provoke what a working module never does. It is built only
// into build/test/ and never installed.

// testHooks lists the arguments this build accepts in addition.
var testHooks = map[string]bool{
	// test_panic panics inside the module, after the arguments are read.
	"test_panic": true,
}

// runHooks acts on the test hooks in o.
func runHooks(o *options) {
	if o.hooks["test_panic"] {
		var m map[string]int
		m["provoked by test_panic"]++ // assignment to a nil map panics
	}
}
