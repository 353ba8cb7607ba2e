//go:build dockertest

package dockertest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

const (
	imageEnv = "PAM_TOTP_TEST_IMAGE"
	runEnv   = "PAM_TOTP_TEST_RUN"
	labelKey = "pam-totp-test"

	// dockerTimeout bounds every docker command; sshdTimeout the wait for a
	// new container's sshd to answer.
	dockerTimeout = 60 * time.Second
	sshdTimeout   = 30 * time.Second
)

var (
	runID = sync.OnceValue(func() string {
		if id := os.Getenv(runEnv); id != "" {
			return id
		}
		b := make([]byte, 4)
		rand.Read(b)
		return hex.EncodeToString(b)
	})

	containersMu sync.Mutex
	containers   = map[string]*container{}
)

// container is one running test container, its sshd published on a
// loopback port.
type container struct {
	name string
	addr string // 127.0.0.1:port of its sshd
	dir  string // host files: client key, known_hosts

	hostKey    ssh.PublicKey
	clientKey  ssh.Signer
	keyFile    string // the client key, for OpenSSH
	knownHosts string // the host key, for OpenSSH

	mu   sync.Mutex
	next map[string]int // next unused user number, per name prefix
}

// docker runs the docker CLI with stdin and returns its standard output.
func docker(stdin []byte, args ...string) (string, error) {
	return dockerWithin(dockerTimeout, stdin, args...)
}

// dockerWithin is docker with a bound of its own, for the few commands
// that may take longer than dockerTimeout.
func dockerWithin(timeout time.Duration, stdin []byte, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdin = bytes.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("no answer in %v", timeout)
		}
		return stdout.String(), fmt.Errorf("docker %s: %v: %s",
			args[0], err, strings.TrimSpace(stdout.String()+"\n"+stderr.String()))
	}
	return stdout.String(), nil
}

// The sshd PAM profiles of the test image (see image-setup.sh).
const (
	profileContrib      = "contrib"       // contrib/sshd/pam.d-sshd as shipped
	profileCode         = "code"          // pam_totp alone
	profilePasswordCode = "password-code" // common-auth, then pam_totp
	// common-auth, then pam_totp with nullok
	profilePasswordCodeNullok = "password-code-nullok"
)

// startContainer starts a container of the test image with the named sshd
// PAM profile and waits for its sshd. extra are more docker run options.
// The container is removed when the test ends; a failed test gets the end
// of its logs first.
func startContainer(t *testing.T, name, profile string, extra ...string) *container {
	t.Helper()
	c, err := newContainer(name, profile, extra...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			c.dumpLogs(t)
		}
		c.remove()
	})
	return c
}

var shared = map[string]func() (*container, error){}

func init() {
	for _, p := range []string{profileCode, profilePasswordCode} {
		shared[p] = sync.OnceValues(func() (*container, error) {
			return newContainer("shared-"+p, p)
		})
	}
}

// sharedContainer returns the container with the given profile that the
// tests share which change nothing but their own users. It is removed at
// the end of the run.
func sharedContainer(t *testing.T, profile string) *container {
	t.Helper()
	c, err := shared[profile]()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			c.dumpLogs(t)
		}
	})
	return c
}

func newContainer(name, profile string, extra ...string) (*container, error) {
	image := os.Getenv(imageEnv)
	c := &container{name: "pam-totp-test-" + runID() + "-" + name, next: map[string]int{}}
	args := []string{"run", "-d", "--name", c.name, "--label", labelKey + "=" + runID(),
		"--hostname", "totp-test", "-p", "127.0.0.1::22",
		"-e", "PAM_TOTP_TEST_PROFILE=" + profile}
	args = append(append(args, extra...), image)
	if _, err := docker(nil, args...); err != nil {
		docker(nil, "rm", "-f", c.name)
		return nil, err
	}
	containersMu.Lock()
	containers[c.name] = c
	containersMu.Unlock()
	if err := c.setUp(); err != nil {
		c.remove()
		return nil, fmt.Errorf("container %s: %v", c.name, err)
	}
	return c, nil
}

// setUp finds the published port, waits for sshd and reads the keys.
func (c *container) setUp() error {
	out, err := docker(nil, "port", c.name, "22/tcp")
	if err != nil {
		return err
	}
	c.addr = strings.TrimSpace(strings.Split(out, "\n")[0])
	if !strings.HasPrefix(c.addr, "127.0.0.1:") {
		return fmt.Errorf("sshd is published on %q, want 127.0.0.1 only", c.addr)
	}
	if err := waitSSH(c.addr); err != nil {
		logs, _ := docker(nil, "logs", c.name)
		return fmt.Errorf("%v; container log:\n%s", err, logs)
	}
	return c.readKeys()
}

// waitSSH waits until something at addr sends an SSH version banner.
func waitSSH(addr string) error {
	deadline := time.Now().Add(sshdTimeout)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.SetDeadline(time.Now().Add(2 * time.Second))
			buf := make([]byte, 8)
			_, err = conn.Read(buf)
			conn.Close()
			if err == nil && string(buf[:4]) == "SSH-" {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("sshd at %s did not answer within %v: %v", addr, sshdTimeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (c *container) readKeys() error {
	pub, err := c.try("cat /etc/ssh/ssh_host_ed25519_key.pub")
	if err != nil {
		return err
	}
	c.hostKey, _, _, _, err = ssh.ParseAuthorizedKey([]byte(pub))
	if err != nil {
		return fmt.Errorf("sshd host key: %v", err)
	}
	priv, err := c.try("cat /etc/ssh/test_client_key")
	if err != nil {
		return err
	}
	if c.clientKey, err = ssh.ParsePrivateKey([]byte(priv)); err != nil {
		return fmt.Errorf("test client key: %v", err)
	}

	if c.dir, err = os.MkdirTemp("", "pam-totp-test-"); err != nil {
		return err
	}
	c.keyFile = filepath.Join(c.dir, "id_ed25519")
	c.knownHosts = filepath.Join(c.dir, "known_hosts")
	hostLine := fmt.Sprintf("[127.0.0.1]:%s %s", c.port(), strings.TrimSpace(pub))
	if err := os.WriteFile(c.keyFile, []byte(priv), 0o600); err != nil {
		return err
	}
	return os.WriteFile(c.knownHosts, []byte(hostLine+"\n"), 0o600)
}

func (c *container) port() string {
	_, port, _ := net.SplitHostPort(c.addr)
	return port
}

// remove removes the container and its host files.
func (c *container) remove() {
	docker(nil, "rm", "-f", "-v", c.name)
	if c.dir != "" {
		os.RemoveAll(c.dir)
	}
	containersMu.Lock()
	delete(containers, c.name)
	containersMu.Unlock()
}

// removeAllContainers removes what is left at the end of the run: the
// shared container, and any that a panicking test did not.
func removeAllContainers() {
	containersMu.Lock()
	left := make([]*container, 0, len(containers))
	for _, c := range containers {
		left = append(left, c)
	}
	containersMu.Unlock()
	for _, c := range left {
		c.remove()
	}
}

// try runs a shell script in the container as root, with args as $1...,
// and returns its standard output.
func (c *container) try(script string, args ...string) (string, error) {
	return c.tryInput(nil, script, args...)
}

func (c *container) tryInput(stdin []byte, script string, args ...string) (string, error) {
	return c.tryWithin(dockerTimeout, stdin, script, args...)
}

func (c *container) tryWithin(timeout time.Duration, stdin []byte, script string,
	args ...string) (string, error) {
	a := append([]string{"exec", "-i", c.name, "sh", "-c", script, "sh"}, args...)
	return dockerWithin(timeout, stdin, a...)
}

// exec is try that fails the test on error.
func (c *container) exec(t *testing.T, script string, args ...string) string {
	t.Helper()
	return c.execWithin(t, dockerTimeout, script, args...)
}

// execWithin is exec bounded by timeout instead of dockerTimeout.
func (c *container) execWithin(t *testing.T, timeout time.Duration, script string,
	args ...string) string {
	t.Helper()
	out, err := c.tryWithin(timeout, nil, script, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// user returns a user of the image that no test has used yet in this
// container. The image makes k01..k80, p01..p30 and s01..s06.
func (c *container) user(t *testing.T, prefix string) string {
	t.Helper()
	limit := map[string]int{"k": 80, "p": 30, "s": 6}[prefix]
	c.mu.Lock()
	defer c.mu.Unlock()
	c.next[prefix]++
	n := c.next[prefix]
	if n > limit {
		t.Fatalf("no unused %s users left in the image (it has %d)", prefix, limit)
	}
	return fmt.Sprintf("%s%02d", prefix, n)
}

// password is the password the image gives user.
func password(user string) string { return "pw-" + user }

// dumpLogs writes the end of the container's auth.log and of sshd's own
// output to the test log.
func (c *container) dumpLogs(t *testing.T) {
	auth, err := c.try("tail -n 60 /var/log/auth.log")
	if err != nil {
		t.Logf("%s: reading auth.log: %v", c.name, err)
	}
	t.Logf("%s: end of /var/log/auth.log:\n%s", c.name, auth)
	// docker logs writes sshd's stderr to its own stderr.
	cmd := exec.Command("docker", "logs", "--tail", "20", c.name)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Logf("%s: docker logs: %v", c.name, err)
	}
	t.Logf("%s: end of sshd's output:\n%s", c.name, out)
}
