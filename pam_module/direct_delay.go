//go:build pamtotp_direct

package main

import "time"

// The pamtotp_direct build is the negative control of the sshd test: the
// Go library loaded directly as the PAM module. sshd then loads it at
// pam_start, in its monitor, and forks the child that authenticates a few
// milliseconds later. If the fork comes before the Go runtime has finished
// starting, the child waits forever for the start-up to end; if after, it
// hangs only sometimes (in about a third to half of the logins measured
// here), when it needs one of the runtime threads it did not inherit.
//
// This delay makes the start-up outlast the gap, so that the negative
// control shows the hang every time instead of by chance.
func init() { time.Sleep(time.Second) }
