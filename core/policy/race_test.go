package policy_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pam-totp/pam-totp/core/config"
	"github.com/pam-totp/pam-totp/core/policy"
)

// The race between processes runs the test binary again, once per login.
// helperEnv selects what it does, and the other variables say with what.
const (
	helperEnv = "PAMTOTP_POLICY_HELPER"
	dirEnv    = "PAMTOTP_POLICY_DIR"
	keyEnv    = "PAMTOTP_POLICY_KEY"
	codeEnv   = "PAMTOTP_POLICY_CODE"
	timeEnv   = "PAMTOTP_POLICY_TIME" // Unix seconds
)

// Exit codes of the helper.
const (
	exitAccepted = 0
	exitReplayed = 10
	exitOther    = 11
)

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "verify" {
		os.Exit(verifyOnSignal())
	}
	os.Exit(m.Run())
}

// verifyOnSignal opens the store, says it is ready, waits until its
// standard input is closed, and verifies alice's code once.
func verifyOnSignal() int {
	cfg := config.Default()
	cfg.StateDir, cfg.KeyFile = os.Getenv(dirEnv), os.Getenv(keyEnv)
	cfg.LockTimeout = config.Duration(time.Minute)
	sec, err := strconv.ParseInt(os.Getenv(timeEnv), 10, 64)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return exitOther
	}
	v, err := policy.New(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return exitOther
	}
	v.Now = func() time.Time { return time.Unix(sec, 0) }

	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	_, err = v.Verify("alice", os.Getenv(codeEnv))
	switch {
	case err == nil:
		return exitAccepted
	case errors.Is(err, policy.ErrReplayed):
		return exitReplayed
	}
	fmt.Fprintln(os.Stderr, err)
	return exitOther
}

// TestRaceGoroutines verifies the same right code in 50 goroutines at once:
// exactly one may succeed, the others see a replay.
func TestRaceGoroutines(t *testing.T) {
	f := newFixture(t, func(c *config.Config) { c.LockTimeout = config.Duration(time.Minute) })
	f.enroll(t, "alice", policy.EnrollOptions{})
	code := f.code(t, "alice", 0)

	const n = 50
	start := make(chan struct{})
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			<-start
			_, err := f.v.Verify("alice", code)
			errs <- err
		})
	}
	close(start)
	wg.Wait()
	close(errs)

	accepted, replayed := 0, 0
	for err := range errs {
		switch {
		case err == nil:
			accepted++
		case errors.Is(err, policy.ErrReplayed):
			replayed++
		default:
			t.Errorf("Verify: %v", err)
		}
	}
	if accepted != 1 || replayed != n-1 {
		t.Errorf("%d accepted and %d replayed, want 1 and %d", accepted, replayed, n-1)
	}
}

// TestRaceProcesses verifies the same right code in 20 processes at once,
// as 20 logins would: exactly one may succeed.
func TestRaceProcesses(t *testing.T) {
	f := newFixture(t, nil)
	f.enroll(t, "alice", policy.EnrollOptions{})
	code := f.code(t, "alice", 0)

	const n = 20
	cmds := make([]*exec.Cmd, n)
	stdins := make([]io.WriteCloser, n)
	for i := range cmds {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), helperEnv+"=verify",
			dirEnv+"="+f.dir, keyEnv+"="+f.v.Config.KeyFile, codeEnv+"="+code,
			timeEnv+"="+strconv.FormatInt(f.clk.t.Unix(), 10))
		cmd.Stderr = os.Stderr
		var err error
		if stdins[i], err = cmd.StdinPipe(); err != nil {
			t.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		if line, err := bufio.NewReader(stdout).ReadString('\n'); line != "ready\n" {
			t.Fatalf("helper %d said %q, %v", i, line, err)
		}
		cmds[i] = cmd
	}
	for _, w := range stdins {
		w.Close()
	}

	counts := map[int]int{}
	for _, cmd := range cmds {
		cmd.Wait()
		counts[cmd.ProcessState.ExitCode()]++
	}
	if counts[exitAccepted] != 1 || counts[exitReplayed] != n-1 {
		t.Errorf("exit codes %v, want one %d (accepted) and %d %d (replayed)",
			counts, exitAccepted, n-1, exitReplayed)
	}
}
