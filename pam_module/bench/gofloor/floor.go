// Command gofloor is a reference for the benchmark only: a Go library with
// the interface of pam_totp_go.so that accepts at once. Loaded by the same
// loader, it shows what the Go runtime costs by itself, the floor under
// any module written in Go. It is never installed.
package main

// #include <security/pam_appl.h>
import "C"

// pam_totp_go_authenticate accepts without asking.
//
//export pam_totp_go_authenticate
func pam_totp_go_authenticate(pamh *C.pam_handle_t, flags, argc C.int, argv **C.char) C.int {
	return C.PAM_SUCCESS
}

func main() {}
