// Command bench measures pam_totp against pam_google_authenticator and, for
// reference, pam_permit, each run by the same C driver through the real
// libpam, and writes the results to docs/bench.md. `make bench` runs it as
// root: it creates throw-away system users, and a syslog socket at /dev/log
// if there is none, and removes both when it ends.
//
// The method, which docs/bench.md repeats:
//
//   - warm: one process authenticates every user in turn with the same PAM
//     handle; each pam_authenticate is timed by the driver. Each user gets
//     a right code, then, after all users, the same code again (the
//     refused-replay path). Replay protection means a code is accepted
//     once, so each accepted authentication needs a user of its own; the
//     state files are restored from a copy before every round.
//   - cold: one new process per authentication (exec, libpam, module load
//     and, for pam_totp, the Go runtime's start-up), timed from the parent
//     from start to exit; the peak memory is the child's peak resident set
//     size (VmHWM), which the driver reads from /proc/self/status as it
//     ends.
//   - Modules are run in rotating order within each round and cold runs
//     alternate between modules one by one, so that noise falls on all.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	var o options
	flag.StringVar(&o.build, "build", "build", "`folder` with the built pam_totp.so and pam_totp_go.so")
	flag.StringVar(&o.out, "out", "docs/bench.md", "Markdown file to write the results to")
	flag.IntVar(&o.users, "users", 100, "accepted authentications per module per round, one user each")
	flag.IntVar(&o.rounds, "rounds", 5, "rounds")
	flag.IntVar(&o.cold, "cold", 20, "cold authentications per module per round")
	flag.StringVar(&o.stateFS, "dir", "", "`folder` for the state of both modules (default: $TMPDIR)")
	flag.Parse()
	if flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr,
			"usage: bench [-build DIR] [-out FILE] [-users N] [-rounds N] [-cold N] [-dir DIR]")
		os.Exit(2)
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "bench: must run as root, for it creates throw-away system users; "+
			"run make bench as root")
		os.Exit(1)
	}

	b := &bench{opts: o}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		s := <-sig
		fmt.Fprintf(os.Stderr, "bench: %v: cleaning up\n", s)
		b.cleanup()
		os.Exit(1)
	}()
	err := b.run()
	b.cleanup()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}
