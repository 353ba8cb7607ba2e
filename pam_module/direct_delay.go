//go:build pamtotp_direct

package main

import "time"

// This file is only in the pamtotp_direct test build: the Go library
// loaded directly as the PAM module, the design that hangs sshd. The
// negative control of the sshd test logs in through it to show that the
// test catches the hang; it is never installed.
//
// Why it sleeps: the control must hang on every run, or it would fail the
// test now and then for no fault of the module. Without the sleep it does
// not hang every time. sshd loads the library at pam_start, in its
// monitor; the library's runtime starts on threads of its own and runs the
// package init functions there, and sshd forks the child that
// authenticates a few milliseconds later. If the fork comes before init
// has finished, the child's first call into Go waits for init to finish,
// which can never happen there: the threads doing it were not copied into
// the child. If the fork comes after, the child hangs only when it needs
// one of the runtime's threads, which here happened in a third to half of
// the logins. Sleeping a second in init makes every fork come first.
//
// The sleep makes the control certain; it is not what makes the hang. A
// return to a directly loaded library, without any sleep, also fails the
// other subtests, which log in through the real library: each checks,
// during the session, that neither sshd's monitor nor any other of its
// processes maps pam_totp_go.so.
func init() { time.Sleep(time.Second) }
