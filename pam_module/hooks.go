//go:build !pamtotp_testhooks

package main

// testHooks lists the arguments that only test builds accept: none here.
var testHooks = map[string]bool{}

// runHooks does nothing outside test builds.
func runHooks(*options) {}

// callEnded does nothing outside test builds.
func callEnded(*handle) {}
