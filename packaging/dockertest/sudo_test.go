//go:build dockertest

package dockertest

import (
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
)

// terminal is the output side of a pty session, read as it comes.
type terminal struct {
	mu   sync.Mutex
	buf  strings.Builder
	done bool
	cond *sync.Cond
}

func newTerminal(r io.Reader) *terminal {
	term := &terminal{}
	term.cond = sync.NewCond(&term.mu)
	go func() {
		b := make([]byte, 4096)
		for {
			n, err := r.Read(b)
			term.mu.Lock()
			term.buf.Write(b[:n])
			term.done = err != nil
			term.cond.Broadcast()
			term.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return term
}

// waitFor waits until the output after from matches re, and returns the
// match's end; it gives up when the output ends or at deadline (the
// session's deadline closes the connection, which ends the output).
func (term *terminal) waitFor(re *regexp.Regexp, from int) (end int, match []string, err error) {
	term.mu.Lock()
	defer term.mu.Unlock()
	for {
		s := term.buf.String()
		if loc := re.FindStringSubmatchIndex(s[from:]); loc != nil {
			return from + loc[1], re.FindStringSubmatch(s[from:]), nil
		}
		if term.done {
			return 0, nil, fmt.Errorf("no %q in the terminal output: %q", re, s)
		}
		term.cond.Wait()
	}
}

var (
	sudoPasswordPrompt = regexp.MustCompile(`\[sudo\] password for [a-z0-9]+: `)
	sudoCodePrompt     = regexp.MustCompile(`erification code[^\n]*: `)
	sudoExit           = regexp.MustCompile(`sudo-exit=(\d+)`)
)

// sudo logs user in by public key with a pty and runs 'sudo -k true',
// answering the password prompt and then the code prompt. It returns sudo's
// exit status; an error means the dialogue went otherwise.
func (c *container) sudo(user, password, code string) (int, error) {
	client, err := c.dial(user, []ssh.AuthMethod{ssh.PublicKeys(c.clientKey)})
	if err != nil {
		return 0, fmt.Errorf("ssh login by public key: %v", err)
	}
	defer client.Close()
	s, err := client.NewSession()
	if err != nil {
		return 0, err
	}
	defer s.Close()
	if err := s.RequestPty("xterm", 24, 200, ssh.TerminalModes{}); err != nil {
		return 0, err
	}
	stdin, _ := s.StdinPipe()
	stdout, _ := s.StdoutPipe()
	term := newTerminal(stdout)
	if err := s.Start("LC_ALL=C sudo -k true; echo sudo-exit=$?"); err != nil {
		return 0, err
	}
	return sudoDialogue(term, stdin, password, code)
}

func sudoDialogue(term *terminal, stdin io.Writer, password, code string) (int, error) {
	at, _, err := term.waitFor(sudoPasswordPrompt, 0)
	if err != nil {
		return 0, err
	}
	fmt.Fprintf(stdin, "%s\n", password)
	at, _, err = term.waitFor(sudoCodePrompt, at)
	if err != nil {
		return 0, fmt.Errorf("after the password: %v", err)
	}
	fmt.Fprintf(stdin, "%s\n", code)
	_, m, err := term.waitFor(sudoExit, at)
	if err != nil {
		return 0, fmt.Errorf("after the code: %v", err)
	}
	var status int
	fmt.Sscan(m[1], &status)
	return status, nil
}

// TestSudo runs sudo through pam-totp in a real terminal: the password,
// then the code; the right code is accepted, a wrong one and a replayed one
// are refused.
func TestSudo(t *testing.T) {
	t.Parallel()
	c := sharedContainer(t, profilePasswordCode)
	a := c.enroll(t, c.user(t, "s"))[0]

	mark := c.logMark(t)
	if status, err := c.sudo(a.user, a.password, a.wrongCode()); err != nil || status == 0 {
		t.Fatalf("sudo with a wrong code: exit %d, %v; want a refusal", status, err)
	}
	c.waitLog(t, mark, a.user, "pam_totp(sudo:auth)", "wrong code")

	code := a.codeSteps(0)
	mark = c.logMark(t)
	if status, err := c.sudo(a.user, a.password, code); err != nil || status != 0 {
		t.Fatalf("sudo with the right code: exit %d, %v; want 0", status, err)
	}
	c.waitLog(t, mark, a.user, "pam_totp(sudo:auth)", "accepted")
	mark = c.logMark(t)
	if status, err := c.sudo(a.user, a.password, code); err != nil || status == 0 {
		t.Fatalf("sudo with the same code again: exit %d, %v; want a refusal", status, err)
	}
	c.waitLog(t, mark, a.user, "pam_totp(sudo:auth)", "replay")
}

// wrongCode returns a code of the right length that is none of the
// account's codes from two steps before now to two steps after.
func (a *account) wrongCode() string {
	valid := map[string]bool{}
	for n := -2; n <= 2; n++ {
		valid[a.codeSteps(n)] = true
	}
	b := []byte(a.codeSteps(0))
	for i := 0; ; i++ {
		b[i%len(b)] = '0' + (b[i%len(b)]-'0'+7)%10
		if !valid[string(b)] {
			return string(b)
		}
	}
}
