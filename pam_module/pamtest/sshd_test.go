package pamtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/pam-totp/pam-totp/core/policy"
	"github.com/pam-totp/pam-totp/pam_module/internal/pamrun"
)

// loginTimeout bounds one ssh login. A login takes well under a second
// here; the bound turns a hang (the module loaded the wrong way) into a
// failure instead of a stalled CI job.
const loginTimeout = 10 * time.Second

// hangTimeout is how long the negative control waits for a login that
// must hang.
const hangTimeout = 6 * time.Second

// requireRoot skips the test unless it runs as root, or fails it when CI
// is set, where it must run.
func requireRoot(t *testing.T, why string) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	msg := "needs root: " + why
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " (CI=true: this test must run in CI)")
	}
	t.Skip(msg)
}

// requireTools skips or, under CI, fails unless every command exists.
func requireTools(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			msg := fmt.Sprintf("needs %s (Debian packages openssh-server, openssh-client, "+
				"sshpass, passwd, expect, sudo): %v", n, err)
			if os.Getenv("CI") == "true" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
}

// cleanups run when the test binary is interrupted, so that an
// interrupted sshd test leaves no user, PAM service or process behind.
var cleanups struct {
	sync.Mutex
	fns  map[int]func()
	next int
	once sync.Once
}

// onInterrupt registers fn to run on SIGINT or SIGTERM, and with
// t.Cleanup, whichever comes first; it runs once.
func onInterrupt(t *testing.T, fn func()) {
	var once sync.Once
	run := func() { once.Do(fn) }
	cleanups.Lock()
	if cleanups.fns == nil {
		cleanups.fns = map[int]func(){}
	}
	id := cleanups.next
	cleanups.next++
	cleanups.fns[id] = run
	cleanups.Unlock()
	cleanups.once.Do(func() {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
		go func() {
			sig := <-ch
			cleanups.Lock()
			for _, f := range cleanups.fns {
				f()
			}
			cleanups.Unlock()
			fmt.Fprintf(os.Stderr, "pamtest: %v: cleaned up the sshd test\n", sig)
			os.Exit(1)
		}()
	})
	t.Cleanup(func() {
		cleanups.Lock()
		delete(cleanups.fns, id)
		cleanups.Unlock()
		run()
	})
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// testUser creates a system user for the test and removes it, with its
// home, at the end.
func testUser(t *testing.T) string {
	t.Helper()
	name := "pamtotp-" + randomHex(4)
	if out, err := exec.Command("useradd", "--create-home", "--shell", "/bin/sh",
		"--comment", "pam-totp test user", name).CombinedOutput(); err != nil {
		t.Fatalf("useradd %s: %v\n%s", name, err, out)
	}
	onInterrupt(t, func() {
		if out, err := exec.Command("userdel", "--remove", name).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "pamtest: userdel %s: %v\n%s", name, err, out)
		}
	})
	return name
}

// sshServer is an sshd of our own: a copy of /usr/sbin/sshd under a name of
// its own, so that it reads its own PAM service file /etc/pam.d/<name>
// (OpenSSH up to 9.7 takes the service name from its program name). It
// runs in a private mount namespace in which copies in records stand in
// for the system's login records (see isolateRecords).
type sshServer struct {
	port    int
	bin     string
	records string
	log     *lockedBuffer
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startSSHD runs an sshd on 127.0.0.1 whose auth stack is only the PAM
// module at modulePath with the given arguments, and whose
// AuthenticationMethods are methods.
func startSSHD(t *testing.T, dir, modulePath, moduleArgs, methods string) *sshServer {
	t.Helper()
	name := "sshd-pamtotp-" + randomHex(4)
	s := &sshServer{bin: filepath.Join(dir, name), records: filepath.Join(dir, name+"-records"),
		log: &lockedBuffer{}}
	if err := os.Mkdir(s.records, 0o755); err != nil {
		t.Fatal(err)
	}
	copyFile(t, "/usr/sbin/sshd", s.bin, 0o755)
	pamFile := filepath.Join("/etc/pam.d", name)
	service := fmt.Sprintf(`# Written by pam-totp's sshd test; removed when the test ends.
auth     required %s %s
account  required pam_permit.so
session  required pam_permit.so
password required pam_deny.so
`, modulePath, moduleArgs)
	if err := os.WriteFile(pamFile, []byte(service), 0o644); err != nil {
		t.Fatal(err)
	}
	onInterrupt(t, func() { os.Remove(pamFile) })

	if _, err := os.Stat("/run/sshd"); errors.Is(err, os.ErrNotExist) {
		// sshd's privilege separation directory.
		if err := os.Mkdir("/run/sshd", 0o755); err != nil {
			t.Fatal(err)
		}
		onInterrupt(t, func() { os.Remove("/run/sshd") })
	}

	hostKey := filepath.Join(dir, name+"-host-key")
	keygen(t, hostKey)
	s.port = freePort(t)
	cfg := fmt.Sprintf(`ListenAddress 127.0.0.1:%d
HostKey %s
PidFile none
UsePAM yes
KbdInteractiveAuthentication yes
PasswordAuthentication no
PubkeyAuthentication yes
AuthenticationMethods %s
PermitRootLogin no
UseDNS no
PrintMotd no
PrintLastLog no
MaxAuthTries 4
LogLevel VERBOSE
`, s.port, hostKey, methods)
	cfgFile := filepath.Join(dir, name+"-config")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	// unshare, then sh, become sshd with exec, in the new namespace.
	script := "set -e\n" + isolateRecords(s.records) + "exec \"$@\"\n"
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c", script,
		"sh", s.bin, "-D", "-e", "-f", cfgFile)
	cmd.Stdout, cmd.Stderr = s.log, s.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	onInterrupt(t, func() {
		// The listener, and every process it forked (sessions, stuck
		// PAM children), which run our copy of the binary.
		for _, pid := range processesOf(s.bin) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		cmd.Process.Kill()
		cmd.Wait()
		os.Remove(s.bin)
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("sshd log:\n%s", s.log)
		}
	})
	s.waitReady(t)
	return s
}

// recorded checks that the copy of the login record file name (as
// "btmp") comes to hold user, if the system has that file: the records
// that sshd makes do reach the copies. sshd may write a record after the
// client has gone, so it waits a little.
func (s *sshServer) recorded(t *testing.T, name, user string) {
	t.Helper()
	if _, err := os.Stat("/var/log/" + name); err != nil {
		return
	}
	for deadline := time.Now().Add(5 * time.Second); ; {
		data, err := os.ReadFile(filepath.Join(s.records, name))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte(user)) {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("the copy of %s holds no record of %s; does sshd write elsewhere?",
				name, user)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitReady waits until sshd sends its banner.
func (s *sshServer) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.addr(), time.Second)
		if err == nil {
			c.SetDeadline(time.Now().Add(2 * time.Second))
			banner := make([]byte, 8)
			_, err = io.ReadFull(c, banner)
			c.Close()
			if err == nil && string(banner) == "SSH-2.0-" {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("sshd did not start: %v\n%s", err, s.log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *sshServer) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// processesOf returns the pids of the processes that run the executable
// at path.
func processesOf(path string) []int {
	des, _ := os.ReadDir("/proc")
	var pids []int
	for _, d := range des {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		exe, err := os.Readlink(filepath.Join("/proc", d.Name(), "exe"))
		if err == nil && exe == path {
			pids = append(pids, pid)
		}
	}
	return pids
}

// login is one run of OpenSSH's client, driven by sshpass.
type login struct {
	ok      bool // the remote command ran
	timeout bool
	elapsed time.Duration // until the command printed, or the end
	output  string
	maps    mappings // taken while the command ran, if it did
}

// refused reports a login that should have been refused.
func (l login) refused(t *testing.T, with string) {
	t.Helper()
	t.Errorf("login with %s: ok %t, timed out %t; want refused:\n%s", with, l.ok, l.timeout, l.output)
}

// keygen makes an Ed25519 key pair without a passphrase at path.
func keygen(t *testing.T, path string) {
	t.Helper()
	out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
}

// sshLogin logs in as user with OpenSSH's ssh, answering the module's
// prompt with code through sshpass, and runs a command that proves the
// login and then lasts a second, during which the mappings of the sshd's
// processes are taken. key, if not empty, is the client's private key.
func (s *sshServer) sshLogin(t *testing.T, user, code, key string, timeout time.Duration) login {
	t.Helper()
	marker := "logged-in-" + randomHex(4)
	args := []string{"-P", "Verification code", "-p", code, "ssh", "-F", "/dev/null",
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
		"-o", "GlobalKnownHostsFile=/dev/null", "-o", "NumberOfPasswordPrompts=1",
		"-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR", "-o", "BatchMode=no",
		"-p", strconv.Itoa(s.port)}
	if key != "" {
		args = append(args, "-i", key, "-o", "IdentitiesOnly=yes",
			"-o", "PreferredAuthentications=publickey,keyboard-interactive")
	} else {
		args = append(args, "-o", "PubkeyAuthentication=no",
			"-o", "PreferredAuthentications=keyboard-interactive")
	}
	args = append(args, user+"@127.0.0.1", "echo "+marker+"; sleep 1")

	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sshpass", args...)
	// sshpass and the ssh it starts get a process group of their own, so
	// that a timeout ends both.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	var l login
	stop, watched := make(chan struct{}), make(chan struct{})
	start := time.Now()
	go func() {
		defer close(watched)
		whenPrinted(&out, marker, stop, func() {
			l.elapsed = time.Since(start)
			l.maps = mappingsOf(s.bin)
		})
	}()
	err := cmd.Run()
	close(stop)
	<-watched
	if l.elapsed == 0 {
		l.elapsed = time.Since(start)
	}
	l.output, l.timeout = out.String(), ctx.Err() != nil
	l.ok = err == nil && strings.Contains(l.output, marker)
	return l
}

// whenPrinted calls fn as soon as out holds text, unless stop is closed
// first.
func whenPrinted(out *lockedBuffer, text string, stop <-chan struct{}, fn func()) {
	for !strings.Contains(out.String(), text) {
		select {
		case <-stop:
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
	fn()
}

func TestSSHD(t *testing.T) {
	requireRoot(t, "runs a real sshd and creates a system user")
	requireTools(t, "/usr/sbin/sshd", "ssh", "sshpass", "ssh-keygen", "useradd", "userdel",
		"oathtool", "unshare")
	module := artifact(t, "pam_totp.so")
	artifact(t, "pam_totp_go.so")
	dir := tempDir(t)
	env, err := pamrun.NewEnv(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	u := testUser(t)
	args := "config=" + env.ConfigFile
	enroll := func(t *testing.T) *policy.Enrollment {
		t.Helper()
		en, err := env.Enroll(u, policy.EnrollOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return en
	}
	failures := func(t *testing.T) int {
		t.Helper()
		v, err := env.Verifier()
		if err != nil {
			t.Fatal(err)
		}
		st, err := v.Status(u)
		if err != nil {
			t.Fatal(err)
		}
		return st.Failures
	}

	t.Run("keyboard-interactive", func(t *testing.T) {
		s := startSSHD(t, dir, module, args, "keyboard-interactive")
		en := enroll(t)
		right := oathtool(t, en)
		l := s.sshLogin(t, u, right, "", loginTimeout)
		if !l.ok {
			t.Fatalf("login with the right code failed (timed out: %t):\n%s", l.timeout, l.output)
		}
		t.Logf("ssh login with the right code took %v", l.elapsed.Round(time.Millisecond))
		l.maps.goLibraryOnlyWhereItAuthenticated(t, module)

		l = s.sshLogin(t, u, code(en, 5), "", loginTimeout)
		if l.ok || l.timeout {
			l.refused(t, "a wrong code")
		}
		if n := failures(t); n != 1 {
			t.Errorf("after a wrong code: failures = %d, want 1", n)
		}
		s.recorded(t, "btmp", u)

		l = s.sshLogin(t, u, right, "", loginTimeout)
		if l.ok || l.timeout {
			l.refused(t, "a replayed code")
		}
		// A replay is refused without counting as a failure, which tells
		// it apart from a wrong code.
		if n := failures(t); n != 1 {
			t.Errorf("after a replayed code: failures = %d, want still 1", n)
		}
	})

	t.Run("publickey,keyboard-interactive", func(t *testing.T) {
		s := startSSHD(t, dir, module, args, "publickey,keyboard-interactive")
		key := clientKey(t, dir, u)
		en := enroll(t)

		l := s.sshLogin(t, u, code(en, 0), "", loginTimeout)
		if l.ok || l.timeout {
			l.refused(t, "the right code but without the key")
		}
		l = s.sshLogin(t, u, code(en, 4), key, loginTimeout)
		if l.ok || l.timeout {
			l.refused(t, "the key and a wrong code")
		}
		right := oathtool(t, en)
		l = s.sshLogin(t, u, right, key, loginTimeout)
		if !l.ok {
			t.Fatalf("login with the key and the right code failed (timed out: %t):\n%s",
				l.timeout, l.output)
		}
		t.Logf("ssh login with key and code took %v", l.elapsed.Round(time.Millisecond))
		l.maps.goLibraryOnlyWhereItAuthenticated(t, module)
		l = s.sshLogin(t, u, right, key, loginTimeout)
		if l.ok || l.timeout {
			l.refused(t, "the key and a replayed code")
		}
	})

	// The design itself: sshd's monitor, which called pam_start and forks
	// for every authentication and session, has the loader mapped but
	// never the Go library; only the forked child that asked for the code
	// had it, and that child has exited by the time the command runs.
	t.Run("Go client; the Go library stays out of sshd's monitor", func(t *testing.T) {
		s := startSSHD(t, dir, module, args, "keyboard-interactive")
		en := enroll(t)
		var asked []string
		answer := func(_, _ string, questions []string, echos []bool) ([]string, error) {
			answers := make([]string, len(questions))
			for i, q := range questions {
				asked = append(asked, fmt.Sprintf("%q echo=%t", q, echos[i]))
				answers[i] = code(en, 0)
			}
			return answers, nil
		}
		var maps mappings
		var took time.Duration
		start := time.Now()
		cmd := "sleep 1; echo from-go-client"
		out, err := goLogin(s.addr(), u, answer, cmd, loginTimeout, func() {
			took = time.Since(start)
			maps = mappingsOf(s.bin)
		})
		if err != nil {
			t.Fatalf("login with the right code: %v", err)
		}
		t.Logf("login with golang.org/x/crypto/ssh took %v", took.Round(time.Millisecond))
		if strings.TrimSpace(out) != "from-go-client" {
			t.Errorf("remote command printed %q", out)
		}
		if strings.Join(asked, "; ") != `"Verification code: " echo=false` {
			t.Errorf("questions = %q, want the one prompt with echo off", asked)
		}
		maps.goLibraryOnlyWhereItAuthenticated(t, module)
	})

	// sshd ran in a namespace of its own, so its login records went to
	// copies; the system's do not know the user.
	notRecorded(t, u)

	// The negative control: the same login as above through the Go
	// library loaded directly as the PAM module, as it must never be. sshd
	// loads it at pam_start in its monitor and then forks the child that
	// authenticates; the child's first call into Go waits for runtime
	// threads it does not have. The login must time out: this shows that
	// the test catches the hang, and thus that the loader is what avoids
	// it. The test build delays its runtime's start-up so that the hang
	// is certain (see pam_module/direct_delay.go); without the delay it
	// happened in about half of the logins here.
	t.Run("negative control: Go library loaded directly hangs", func(t *testing.T) {
		direct := artifact(t, "test/direct/pam_totp_go.so")
		s := startSSHD(t, dir, direct, args, "keyboard-interactive")
		en := enroll(t)
		l := s.sshLogin(t, u, code(en, 0), "", hangTimeout)
		if l.ok || !l.timeout {
			t.Fatalf("login through the directly loaded Go library: ok %t, timed out %t; want a hang:\n%s",
				l.ok, l.timeout, l.output)
		}
		stuck := stuckInFutex(s.bin)
		if len(stuck) == 0 {
			t.Errorf("no process of the sshd is blocked in futex with a single thread; " +
				"the hang has another cause")
		}
		if maps := mappingsOf(s.bin); len(maps.golib) == 0 {
			t.Errorf("no process of the sshd maps the Go library")
		}
		t.Logf("processes of the sshd blocked in futex, one thread each: %v", stuck)
	})
}

// mappings lists the processes of an sshd that map the loader or the Go
// library, and its monitors: the process of each connection that called
// pam_start and that forks the others, whose title ends in "[priv]".
type mappings struct {
	loader, golib, monitors []int
}

// goLibraryOnlyWhereItAuthenticated checks mappings taken during a
// session: the monitor has the loader, module, mapped but not the Go
// library, and no other process of the sshd has the Go library either,
// since only the child that asked for the code, gone by then, loaded it.
// A Go library loaded directly as the PAM module, in the monitor at
// pam_start, fails this check even in a login that happens not to hang.
func (m mappings) goLibraryOnlyWhereItAuthenticated(t *testing.T, module string) {
	t.Helper()
	if len(m.monitors) == 0 {
		t.Errorf("found no monitor process of the sshd during the session; " +
			"the checks of the mappings prove nothing")
	}
	for _, pid := range m.monitors {
		if !slices.Contains(m.loader, pid) {
			t.Errorf("the monitor, process %d, does not map %s; "+
				"the checks of the mappings prove nothing", pid, module)
		}
		if slices.Contains(m.golib, pid) {
			t.Errorf("the monitor, process %d, maps pam_totp_go.so: "+
				"the Go runtime started where sshd forks from", pid)
		}
	}
	if len(m.golib) != 0 {
		t.Errorf("processes %v of the sshd map pam_totp_go.so during the session; "+
			"it must be loaded only in the child that authenticates", m.golib)
	}
}

// mappingsOf looks at every process running bin.
func mappingsOf(bin string) mappings {
	var m mappings
	for _, pid := range processesOf(bin) {
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if strings.HasSuffix(strings.TrimRight(string(cmdline), "\x00 "), "[priv]") {
			m.monitors = append(m.monitors, pid)
		}
		data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid))
		if bytes.Contains(data, []byte("/pam_totp.so\n")) {
			m.loader = append(m.loader, pid)
		}
		if bytes.Contains(data, []byte("/pam_totp_go.so\n")) {
			m.golib = append(m.golib, pid)
		}
	}
	return m
}

// stuckInFutex returns the pids of the processes running bin that have
// one thread, blocked in the futex system call: a child forked from a
// process with a Go runtime, waiting for threads it does not have.
func stuckInFutex(bin string) []int {
	var pids []int
	for _, pid := range processesOf(bin) {
		status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if strings.Contains(string(status), "\nThreads:\t1\n") && inFutex(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// inFutex reports whether the process pid is blocked in futex: by the
// number of the system call it is in, which differs between architectures
// (202 on amd64, 98 on arm64; syscall.SYS_FUTEX is this one's), or, for a
// variant with another number such as futex_time64 on 32-bit systems, by
// the kernel function it waits in (futex_wait_queue, futex_do_wait, ...).
func inFutex(pid int) bool {
	sc, _ := os.ReadFile(fmt.Sprintf("/proc/%d/syscall", pid))
	if nr, _, _ := strings.Cut(string(sc), " "); nr == strconv.Itoa(syscall.SYS_FUTEX) {
		return true
	}
	wchan, _ := os.ReadFile(fmt.Sprintf("/proc/%d/wchan", pid))
	return strings.Contains(string(wchan), "futex")
}

// clientKey makes a key pair for the client and authorizes it for user.
func clientKey(t *testing.T, dir, user string) string {
	t.Helper()
	key := filepath.Join(dir, "client-key-"+randomHex(2))
	keygen(t, key)
	pub, err := os.ReadFile(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	home, err := runOut("sh", "-c", "getent passwd "+user+" | cut -d: -f6")
	if err != nil || home == "" {
		t.Fatalf("home of %s: %v", user, err)
	}
	sshDir := filepath.Join(home, ".ssh")
	if err := os.MkdirAll(sshDir, 0o700); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(sshDir, "authorized_keys"), pub, 0o600)
	if out, err := exec.Command("chown", "-R", user+":", sshDir).CombinedOutput(); err != nil {
		t.Fatalf("chown: %v\n%s", err, out)
	}
	return key
}

// goLogin logs in with golang.org/x/crypto/ssh by keyboard-interactive and
// runs cmd, returning its output. The whole exchange must end within
// timeout. If during is not nil, it is called while cmd runs.
func goLogin(addr, user string, answer ssh.KeyboardInteractiveChallenge, cmd string,
	timeout time.Duration, during func()) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(timeout))
	cfg := &ssh.ClientConfig{
		User:            user,
		Auth:            []ssh.AuthMethod{ssh.KeyboardInteractive(answer)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), // a host key made by this test
	}
	c, chans, reqs, err := ssh.NewClientConn(conn, addr, cfg)
	if err != nil {
		return "", err
	}
	client := ssh.NewClient(c, chans, reqs)
	defer client.Close()
	sess, err := client.NewSession()
	if err != nil {
		return "", err
	}
	defer sess.Close()
	var out bytes.Buffer
	sess.Stdout = &out
	if err := sess.Start(cmd); err != nil {
		return "", err
	}
	if during != nil {
		during()
	}
	err = sess.Wait()
	return out.String(), err
}
