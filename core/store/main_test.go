package store_test

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"unsafe"

	"github.com/pam-totp/pam-totp/core/store"
)

// Some tests run the test binary again as a second process, which needs to
// be killed or limited on its own. helperEnv selects what it does; the
// store is named by dirEnv and keyEnv.
const (
	helperEnv = "PAMTOTP_STORE_HELPER"
	dirEnv    = "PAMTOTP_STORE_DIR"
	keyEnv    = "PAMTOTP_STORE_KEY"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(runHelper(mode))
	}
	os.Exit(m.Run())
}

// helperCommand returns a command that runs the test binary in mode
// against e's store.
func helperCommand(t testing.TB, e *env, mode string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, dirEnv+"="+e.dir, keyEnv+"="+e.key)
	return cmd
}

func runHelper(mode string) int {
	s, err := store.Open(os.Getenv(dirEnv), os.Getenv(keyEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	switch mode {
	case "writer":
		return saveForever(s)
	case "fsize":
		return saveOverSizeLimit(s)
	case "rekey-killed":
		return rekeyKilledWritingKey(s)
	}
	fmt.Fprintf(os.Stderr, "unknown helper mode %q\n", mode)
	return 1
}

// saveForever increments alice's LastStep in a transaction of its own, and
// prints each value once it is saved, until it is killed.
func saveForever(s *store.Store) int {
	for {
		tx, err := s.Begin("alice")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		st, err := tx.Load()
		if err == nil {
			st.LastStep++
			err = tx.Save(st)
		}
		tx.Close()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		os.Stdout.WriteString(strconv.FormatUint(st.LastStep, 10) + "\n")
	}
}

// saveOverSizeLimit saves alice's state with a file size limit smaller than
// the state file, so that the write fails with EFBIG. It prints the error
// and exits 0 if Save failed, 2 if it succeeded.
func saveOverSizeLimit(s *store.Store) int {
	signal.Ignore(syscall.SIGXFSZ)
	lim := syscall.Rlimit{Cur: 64, Max: 64}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	tx, err := s.Begin("alice")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer tx.Close()
	st, err := tx.Load()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	st.Failures++
	if err := tx.Save(st); err != nil {
		fmt.Println(err)
		return 0
	}
	return 2
}

// rekeyKilledWritingKey runs Rekey and dies, as in a crash, when it
// writes the new host key: a seccomp filter on the goroutine's thread kills
// the process at its first write(2) of KeySize bytes.
func rekeyKilledWritingKey(s *store.Store) int {
	runtime.LockOSThread()
	if err := killAtWrite(store.KeySize); err != nil {
		fmt.Fprintln(os.Stderr, "installing a seccomp filter:", err)
		return 4
	}
	fmt.Println("Rekey returned:", s.Rekey(nil))
	return 3
}

// killAtWrite installs a seccomp filter on the calling thread that kills the
// process at a write(2) of n bytes and allows every other system call.
func killAtWrite(n uint32) error {
	const (
		ldAbs   = 0x20 // BPF_LD | BPF_W | BPF_ABS
		jeqK    = 0x15 // BPF_JMP | BPF_JEQ | BPF_K
		retK    = 0x06 // BPF_RET | BPF_K
		nrAt    = 0    // offsetof(struct seccomp_data, nr)
		countAt = 32   // low half of args[2] (little-endian)

		retKillProcess  = 0x80000000
		retAllow        = 0x7fff0000
		prSetNoNewPrivs = 38
		prSetSeccomp    = 22
		modeFilter      = 2
	)
	prog := []syscall.SockFilter{
		{Code: ldAbs, K: nrAt},
		{Code: jeqK, Jf: 3, K: syscall.SYS_WRITE},
		{Code: ldAbs, K: countAt},
		{Code: jeqK, Jf: 1, K: n},
		{Code: retK, K: retKillProcess},
		{Code: retK, K: retAllow},
	}
	fprog := syscall.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	if _, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, prSetNoNewPrivs, 1, 0); e != 0 {
		return e
	}
	_, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, prSetSeccomp, modeFilter, uintptr(unsafe.Pointer(&fprog)))
	if e != 0 {
		return e
	}
	return nil
}
