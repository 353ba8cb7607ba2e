package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pam-totp/pam-totp/core/otp"
)

// These tests give totpctl a terminal on standard input, a pseudo-terminal
// that the test types into, to check what only happens on a terminal: the
// confirmation of an enrollment and reading a code without echo.

// openPTY returns the two ends of a new pseudo-terminal.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { master.Close(); slave.Close() })
	return master, slave
}

// session is totpctl running with a terminal on standard input, its
// standard output in a file and its standard error read as it comes.
type session struct {
	t      *testing.T
	cmd    *exec.Cmd
	master *os.File
	stdout string // file name
	stderr *bufio.Reader
	seen   strings.Builder // all of stderr read so far
}

func startSession(t *testing.T, config string, args ...string) *session {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("totpctl runs only as root: run the tests as root, as CI does")
	}
	master, slave := openPTY(t)
	s := &session{t: t, master: master, stdout: filepath.Join(t.TempDir(), "stdout")}
	out, err := os.Create(s.stdout)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	s.cmd = exec.Command(totpctlBinary(t), append([]string{"--config", config}, args...)...)
	s.cmd.Stdin, s.cmd.Stdout = slave, out
	// The terminal is totpctl's controlling terminal, as in a login
	// session: Ctrl-C typed on it interrupts totpctl, and closing it hangs
	// totpctl up.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	errPipe, err := s.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	s.stderr = bufio.NewReader(errPipe)
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close() // the child has it; reading the master ends when it exits
	// A guard, not a timed assertion: a totpctl that waits for input the
	// test never types is killed rather than left to hang the tests.
	guard := time.AfterFunc(2*time.Minute, func() { s.cmd.Process.Kill() })
	t.Cleanup(func() { guard.Stop() })
	return s
}

// expect reads standard error until it shows text.
func (s *session) expect(text string) {
	s.t.Helper()
	for !strings.Contains(s.seen.String(), text) {
		b, err := s.stderr.ReadByte()
		if err != nil {
			s.t.Fatalf("waiting for %q: %v; stderr so far:\n%s", text, err, s.seen.String())
		}
		s.seen.WriteByte(b)
	}
}

// typeText types on the terminal.
func (s *session) typeText(text string) {
	s.t.Helper()
	if _, err := s.master.Write([]byte(text)); err != nil {
		s.t.Fatal(err)
	}
}

// wait waits for totpctl to end and returns its exit status, the rest of
// standard error, and what the terminal showed (its echo).
func (s *session) wait() (status int, stderr, echo string) {
	s.t.Helper()
	rest, _ := io.ReadAll(s.stderr)
	s.seen.Write(rest)
	err := s.cmd.Wait()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		status = exit.ExitCode()
	} else if err != nil {
		s.t.Fatal(err)
	}
	// Once no process has the terminal open, reading it ends with EIO.
	shown, _ := io.ReadAll(s.master)
	return status, s.seen.String(), string(shown)
}

// secret returns the secret of the URI that enroll printed.
func (s *session) secret() string {
	s.t.Helper()
	out, err := os.ReadFile(s.stdout)
	if err != nil {
		s.t.Fatal(err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "otpauth://") {
			k, err := otp.ParseURI(line)
			if err != nil {
				s.t.Fatal(err)
			}
			return otp.EncodeSecret(k.Secret)
		}
	}
	s.t.Fatalf("no otpauth:// line in the output:\n%s", out)
	return ""
}

// oathtool returns the current code of a base32 secret.
func oathtool(t *testing.T, secret string) string {
	t.Helper()
	out, err := exec.Command("oathtool", "--totp", "--base32", secret).Output()
	if errors.Is(err, exec.ErrNotFound) {
		t.Skip("oathtool (Debian package oathtool) is not installed")
	}
	if err != nil {
		t.Fatalf("oathtool: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// newSetup makes a configuration, host key and state directory.
func newSetup(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := writeConfig(dir, nil); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "config.yaml")
	run(t, 0, config, "init")
	return config
}

// run runs totpctl without a terminal and checks its exit status.
func run(t *testing.T, want int, config string, args ...string) string {
	t.Helper()
	cmd := exec.Command(totpctlBinary(t), append([]string{"--config", config}, args...)...)
	out, err := cmd.CombinedOutput()
	got := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		got = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("totpctl %s: exit status %d, want %d\n%s", strings.Join(args, " "), got, want, out)
	}
	return string(out)
}

const confirmPrompt = "Type a code from the app to confirm (Ctrl-D to abort): "

func TestEnrollConfirmed(t *testing.T) {
	config := newSetup(t)
	s := startSession(t, config, "enroll", "alice")
	s.expect(confirmPrompt)
	s.typeText("12345\n") // never right: five digits
	s.expect("that code is wrong (2 tries left)")
	s.expect(confirmPrompt)
	code := oathtool(t, s.secret())
	s.typeText(code + "\n")
	status, stderr, _ := s.wait()
	if status != 0 || !strings.Contains(stderr, "alice is enrolled and confirmed") {
		t.Fatalf("exit status %d, want 0 and a confirmation; stderr:\n%s", status, stderr)
	}

	out := run(t, 0, config, "status", "alice")
	if strings.Contains(out, "confirmed:          no") {
		t.Errorf("status says not confirmed:\n%s", out)
	}
	// The code that confirmed the enrollment is used up.
	out = run(t, 1, config, "verify", "alice", code)
	if !strings.Contains(out, "already used") {
		t.Errorf("verify with the confirming code: want a replay refusal, got:\n%s", out)
	}
}

func TestEnrollAborted(t *testing.T) {
	config := newSetup(t)
	s := startSession(t, config, "enroll", "alice")
	s.expect(confirmPrompt)
	s.typeText("\x04") // Ctrl-D
	status, stderr, _ := s.wait()
	if status != 1 || !strings.Contains(stderr, "aborted: nothing was written") {
		t.Fatalf("exit status %d, want 1 and 'aborted'; stderr:\n%s", status, stderr)
	}
	run(t, 1, config, "status", "alice")
}

func TestEnrollNeverConfirmed(t *testing.T) {
	config := newSetup(t)
	png := filepath.Join(t.TempDir(), "alice.png")
	s := startSession(t, config, "enroll", "--qr-png", png, "alice")
	for range confirmTries {
		s.expect(confirmPrompt)
		s.seen.Reset()
		s.typeText("1234\n")
	}
	status, stderr, _ := s.wait()
	if status != 1 || !strings.Contains(stderr, "no right code in 3 tries: nothing was written") {
		t.Fatalf("exit status %d, want 1 and 'no right code'; stderr:\n%s", status, stderr)
	}
	run(t, 1, config, "status", "alice")
	if _, err := os.Stat(png); err == nil {
		t.Errorf("the QR code image of an enrollment never written is left behind")
	}
}

// TestEnrollInterrupted checks that Ctrl-C and a hang-up of the terminal at
// the confirmation prompt write nothing and leave no QR code image behind.
func TestEnrollInterrupted(t *testing.T) {
	for _, tc := range []struct {
		name string
		end  func(s *session)
		msg  string
	}{
		{"Ctrl-C", func(s *session) { s.typeText("\x03") }, "aborted (interrupt)"},
		{"hang-up", func(s *session) { s.master.Close() }, "aborted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			config := newSetup(t)
			png := filepath.Join(t.TempDir(), "alice.png")
			s := startSession(t, config, "enroll", "--qr-png", png, "alice")
			s.expect(confirmPrompt)
			if _, err := os.Stat(png); err != nil {
				t.Fatalf("no QR code image while enroll asks for a code: %v", err)
			}
			tc.end(s)
			status, stderr, _ := s.wait()
			if status != 1 || !strings.Contains(stderr, tc.msg) {
				t.Fatalf("exit status %d, want 1 and %q; stderr:\n%s", status, tc.msg, stderr)
			}
			// A hang-up ends either by its signal or, first, by the
			// read of the code failing: both say the same.
			if want := ": nothing was written; " + png + " is removed"; !strings.Contains(stderr, want) {
				t.Errorf("stderr does not say %q:\n%s", want, stderr)
			}
			if _, err := os.Stat(png); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("the QR code image is left behind (%v)", err)
			}
			run(t, 1, config, "status", "alice")
		})
	}
}

func TestEnrollNoConfirmOnTerminal(t *testing.T) {
	config := newSetup(t)
	s := startSession(t, config, "enroll", "--no-confirm", "alice")
	status, stderr, _ := s.wait()
	if status != 0 || strings.Contains(stderr, confirmPrompt) {
		t.Fatalf("exit status %d, want 0 without a prompt; stderr:\n%s", status, stderr)
	}
	if out := run(t, 0, config, "status", "alice"); !strings.Contains(out, "confirmed:          no") {
		t.Errorf("status after --no-confirm:\n%s", out)
	}
}

// TestVerifyNoEcho checks that a code typed on the terminal is not shown.
func TestVerifyNoEcho(t *testing.T) {
	config := newSetup(t)
	out := run(t, 0, config, "enroll", "--json", "alice")
	secret := strings.Split(strings.Split(out, `"secret": "`)[1], `"`)[0]

	s := startSession(t, config, "verify", "alice")
	s.expect("Code for alice: ")
	code := oathtool(t, secret)
	s.typeText(code + "\n")
	status, stderr, echo := s.wait()
	if status != 0 || !strings.Contains(stderr, "accepted: a code of alice") {
		t.Fatalf("exit status %d, want 0; stderr:\n%s", status, stderr)
	}
	if strings.Contains(echo, code) {
		t.Errorf("the terminal echoed the code: %q", echo)
	}

	// Ctrl-D checks nothing.
	s = startSession(t, config, "verify", "alice")
	s.expect("Code for alice: ")
	s.typeText("\x04")
	status, stderr, _ = s.wait()
	if status != 1 || !strings.Contains(stderr, "no code was given: nothing was checked") {
		t.Fatalf("exit status %d, want 1; stderr:\n%s", status, stderr)
	}
}

// TestEnrollQROnTerminal checks the QR code as a terminal receives it:
// every line set to black on white explicitly, so that it reads the same
// on a dark terminal, and decoding to the URI printed below it.
func TestEnrollQROnTerminal(t *testing.T) {
	config := newSetup(t)
	master, slave := openPTY(t)
	cmd := exec.Command(totpctlBinary(t), "--config", config, "enroll", "--no-confirm", "alice")
	cmd.Stdout = slave
	shown := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(master) // ends with EIO once no one has the terminal
		shown <- b
	}()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("enroll: %v\n%s", err, stderr.String())
	}
	slave.Close()
	text := strings.ReplaceAll(string(<-shown), "\r\n", "\n")

	qr, rest, ok := strings.Cut(text, "\n\n")
	if !ok {
		t.Fatalf("no blank line after the QR code:\n%s", text)
	}
	for i, line := range strings.Split(qr, "\n") {
		if !strings.HasPrefix(line, darkOnLight) || !strings.HasSuffix(line, resetColors) {
			t.Fatalf("QR line %d is not set to black on white: %q", i, line)
		}
	}
	uri, _, _ := strings.Cut(rest, "\n")
	if !strings.HasPrefix(uri, "otpauth://totp/") {
		t.Fatalf("no URI on the line after the QR code: %q", uri)
	}
	if got := decodeQR(t, textToImage(t, qr)); got != uri {
		t.Errorf("the terminal's QR code decodes to %q, want %q", got, uri)
	}
}
