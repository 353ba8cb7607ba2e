//go:build dockertest

package dockertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// loginTimeout bounds one whole login, from dial to the end of the command
// run after it. A login that takes longer counts as hung.
const loginTimeout = 60 * time.Second

// creds is what a client answers.
type creds struct {
	password  string
	code      string // the answer to a code prompt; empty: fail if asked
	publicKey bool   // offer the image's test client key first
}

// outcome is how a login ended.
type outcome int

const (
	loggedIn outcome = iota // authenticated and ran a command as the user
	refused                 // the server said no
	broken                  // anything else: hung, dropped, bad output
)

func (o outcome) String() string {
	return [...]string{"logged in", "refused", "broken"}[o]
}

// result is the end of one login.
type result struct {
	outcome outcome
	prompts []string // every prompt the server sent, in order
	shown   string   // everything else the server showed the user
	err     error    // why it was not loggedIn
}

func (r result) String() string {
	if r.err == nil {
		return fmt.Sprintf("%v after prompts %q", r.outcome, r.prompts)
	}
	return fmt.Sprintf("%v after prompts %q: %v", r.outcome, r.prompts, r.err)
}

// promptLog collects prompts and messages from several goroutines.
type promptLog struct {
	mu      sync.Mutex
	prompts []string
	shown   strings.Builder
}

func (l *promptLog) show(text string) {
	l.mu.Lock()
	l.shown.WriteString(text + "\n")
	l.mu.Unlock()
}

func (l *promptLog) add(p string) {
	l.mu.Lock()
	l.prompts = append(l.prompts, p)
	l.mu.Unlock()
}

func (l *promptLog) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.prompts...)
}

func (l *promptLog) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.shown.String()
}

// login logs user in with golang.org/x/crypto/ssh, one keyboard-interactive
// attempt, and runs id -un to prove the session is the user's.
func (c *container) login(user string, cr creds) result {
	var log promptLog
	challenge := func(name, instruction string, questions []string, echos []bool) ([]string, error) {
		log.show(name)
		log.show(instruction)
		answers := make([]string, len(questions))
		for i, q := range questions {
			log.add(q)
			switch {
			case isPasswordPrompt(q):
				answers[i] = cr.password
			case isCodePrompt(q) && cr.code != "":
				answers[i] = cr.code
			default:
				return nil, fmt.Errorf("unexpected prompt %q", q)
			}
		}
		return answers, nil
	}
	auth := []ssh.AuthMethod{ssh.KeyboardInteractive(challenge)}
	if cr.publicKey {
		auth = append([]ssh.AuthMethod{ssh.PublicKeys(c.clientKey)}, auth...)
	}
	out, err := c.run(user, auth, "id -un")
	r := result{prompts: log.list(), shown: log.text(), err: err}
	switch {
	case err == nil && strings.TrimSpace(out) == user:
		r.outcome = loggedIn
	case err == nil:
		r.outcome, r.err = broken, fmt.Errorf("id -un printed %q", out)
	case strings.Contains(err.Error(), "unable to authenticate"):
		r.outcome = refused
	default:
		r.outcome = broken
	}
	return r
}

// run connects as user with auth and runs cmd, all within loginTimeout.
func (c *container) run(user string, auth []ssh.AuthMethod, cmd string) (string, error) {
	client, err := c.dial(user, auth)
	if err != nil {
		return "", err
	}
	defer client.Close()
	s, err := client.NewSession()
	if err != nil {
		return "", err
	}
	defer s.Close()
	out, err := s.Output(cmd)
	return string(out), err
}

// dial makes an authenticated connection. The connection's deadline covers
// the whole time the client is used.
func (c *container) dial(user string, auth []ssh.AuthMethod) (*ssh.Client, error) {
	conn, err := net.DialTimeout("tcp", c.addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	conn.SetDeadline(time.Now().Add(loginTimeout))
	cfg := &ssh.ClientConfig{
		User:            user,
		Auth:            auth,
		HostKeyCallback: ssh.FixedHostKey(c.hostKey),
		// The one host key the test knows; sshd would offer another first.
		HostKeyAlgorithms: []string{c.hostKey.Type()},
	}
	sc, chans, reqs, err := ssh.NewClientConn(conn, c.addr, cfg)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return ssh.NewClient(sc, chans, reqs), nil
}

// opensshLogin logs user in with OpenSSH's ssh, one keyboard-interactive
// attempt, answering prompts through askpass (this test binary), and runs
// id -un.
func (c *container) opensshLogin(user string, cr creds) result {
	ctx, cancel := context.WithTimeout(context.Background(), loginTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ssh", c.opensshArgs(user, cr.publicKey)...)
	promptFile := filepath.Join(c.dir, "prompts-"+user+"-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	defer os.Remove(promptFile)
	exe, err := os.Executable()
	if err != nil {
		return result{outcome: broken, err: err}
	}
	cmd.Env = append(os.Environ(),
		"SSH_ASKPASS="+exe, "SSH_ASKPASS_REQUIRE=force", "DISPLAY=:0",
		askpassEnv+"=1", askpassPasswordEnv+"="+cr.password,
		askpassCodeEnv+"="+cr.code, askpassLogEnv+"="+promptFile)
	return runOpenSSH(ctx, cmd, user, promptFile)
}

func (c *container) opensshArgs(user string, publicKey bool) []string {
	args := []string{"-F", "/dev/null", "-T", "-p", c.port(),
		"-o", "UserKnownHostsFile=" + c.knownHosts,
		"-o", "GlobalKnownHostsFile=/dev/null",
		"-o", "StrictHostKeyChecking=yes",
		"-o", "ConnectTimeout=10",
		"-o", "NumberOfPasswordPrompts=1",
		"-o", "IdentitiesOnly=yes",
		"-o", "LogLevel=ERROR"}
	if publicKey {
		args = append(args, "-i", c.keyFile,
			"-o", "PreferredAuthentications=publickey,keyboard-interactive")
	} else {
		args = append(args, "-o", "PubkeyAuthentication=no",
			"-o", "PreferredAuthentications=keyboard-interactive")
	}
	return append(args, user+"@127.0.0.1", "id", "-un")
}

// runOpenSSH runs an ssh command (directly or under sshpass) and judges
// its end the way login does.
func runOpenSSH(ctx context.Context, cmd *exec.Cmd, user, promptFile string) result {
	var stdout, stderr bytes.Buffer
	cmd.Stdin = nil
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{prompts: readPrompts(promptFile)}
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		r.outcome, r.err = broken, fmt.Errorf("ssh did not finish within %v", loginTimeout)
	case err == nil && strings.TrimSpace(stdout.String()) == user:
		r.outcome = loggedIn
	case err == nil:
		r.outcome, r.err = broken, fmt.Errorf("id -un printed %q", stdout.String())
	case errors.As(err, &exit) && strings.Contains(stderr.String(), "Permission denied"):
		r.outcome, r.err = refused, errors.New(strings.TrimSpace(stderr.String()))
	default:
		r.outcome, r.err = broken, fmt.Errorf("%v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return r
}

func readPrompts(file string) []string {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil
	}
	var prompts []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if p, err := strconv.Unquote(line); err == nil {
			prompts = append(prompts, p)
		}
	}
	return prompts
}

// sshpassLogin logs user in with OpenSSH's ssh driven by sshpass, which
// answers every prompt that contains match with answer. It suits logins
// with a single kind of prompt.
func (c *container) sshpassLogin(user string, publicKey bool, match, answer string) result {
	ctx, cancel := context.WithTimeout(context.Background(), loginTimeout)
	defer cancel()
	args := append([]string{"-P", match, "-e", "ssh"}, c.opensshArgs(user, publicKey)...)
	cmd := exec.CommandContext(ctx, "sshpass", args...)
	cmd.Env = append(os.Environ(), "SSHPASS="+answer)
	return runOpenSSH(ctx, cmd, user, "")
}
