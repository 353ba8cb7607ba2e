// Command pam_totp_go is the logic of the PAM module pam_totp, built with
// -buildmode=c-shared into pam_totp_go.so. It is not a PAM module itself:
// the PAM module is pam_totp.so, a small C loader (loader/pam_totp.c) that
// opens this library inside pam_sm_authenticate, in the process that
// authenticates, and calls pam_totp_go_authenticate.
//
// The split exists because the Go runtime does not survive fork. libpam
// loads modules when the application calls pam_start, and sshd calls
// pam_start in one process and pam_authenticate in a child it forked
// afterwards. A Go library loaded at pam_start would start its runtime's
// threads in the parent; the child inherits none of them and hangs on the
// first call into Go. Loaded by the loader, the runtime starts in the
// process that asks for the code. If the library was nevertheless loaded
// before a fork, pam_totp_go_loaded_pid (plain C, in pamc.c) tells the
// loader, which then refuses instead of calling in.
//
// Rules for this package, so that it behaves as a guest in its host
// process: every call returns before the next one starts and leaves no
// goroutine behind; no os/signal; a panic is recovered before it reaches C
// and becomes PAM_SYSTEM_ERR; nothing is kept with pam_set_data.
package main

// #include "pamc.h"
import "C"

import (
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"unsafe"
)

func main() {}

// memoryLimit is the soft limit of the memory of this library's Go runtime,
// unless GOMEMLIMIT says otherwise. A login needs a few hundred kilobytes,
// but without a limit the collector lets the heap grow to several
// megabytes in a process that authenticates many times. Below about 5 MiB
// the runtime's own needs exceed the limit and the collector runs without
// pause; a backup code, whose Argon2 hashes take 4 MiB each, is checked
// about half as fast as without the limit.
const memoryLimit = 6 << 20

func init() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
}

// pam_totp_go_authenticate is pam_sm_authenticate, called by the loader.
//
//export pam_totp_go_authenticate
func pam_totp_go_authenticate(pamh *C.pam_handle_t, flags, argc C.int, argv **C.char) (rc C.int) {
	h := &handle{pamh: pamh, silent: flags&pamSilent != 0}
	defer callEnded(h) // test builds only: see hooks_test_build.go
	defer func() {
		if r := recover(); r != nil {
			h.log(logErr, "error: internal error, authentication refused: %v; %s",
				r, panicSite(debug.Stack()))
			rc = pamSystemErr
		}
	}()
	return C.int(authenticate(h, goArgs(argc, argv)))
}

// goArgs copies the module arguments.
func goArgs(argc C.int, argv **C.char) []string {
	if argc <= 0 || argv == nil {
		return nil
	}
	args := make([]string, 0, int(argc))
	for _, a := range unsafe.Slice(argv, int(argc)) {
		args = append(args, C.GoString(a))
	}
	return args
}

// panicSite returns the function and line that panicked, from a stack
// trace: enough to report the bug, without the values a full trace holds.
func panicSite(stack []byte) string {
	lines := strings.Split(string(stack), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "panic(") && i+3 < len(lines) {
			fn := strings.TrimSpace(lines[i+2])
			if j := strings.LastIndexByte(fn, '('); j > 0 {
				fn = fn[:j]
			}
			at := strings.TrimSpace(lines[i+3])
			if j := strings.LastIndexByte(at, ' '); j > 0 {
				at = at[:j]
			}
			return fmt.Sprintf("at %s (%s)", fn, at)
		}
	}
	return "at an unknown place"
}
