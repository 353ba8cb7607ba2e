//go:build dockertest

package dockertest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/pam-totp/pam-totp/core/otp"
)

// account is an enrolled user as the test knows it: from the JSON that
// totpctl enroll prints, never from inside the container's state.
type account struct {
	user     string
	password string
	secret   string // base32, as printed, for oathtool
	key      otp.Key
	backup   []string
}

// enrollment is the part of 'totpctl enroll --json' that the suite reads.
type enrollment struct {
	User        string   `json:"user"`
	URI         string   `json:"uri"`
	Secret      string   `json:"secret"`
	BackupCodes []string `json:"backup_codes"`
}

// enroll enrolls users in the container with totpctl, one docker exec for
// all of them, and returns their accounts in the same order.
func (c *container) enroll(t *testing.T, users ...string) []*account {
	t.Helper()
	out := c.exec(t, `for u; do totpctl enroll --no-confirm --json "$u" || exit 1; done`, users...)
	dec := json.NewDecoder(strings.NewReader(out))
	var accounts []*account
	for _, u := range users {
		var e enrollment
		if err := dec.Decode(&e); err != nil {
			t.Fatalf("totpctl enroll --json %s: reading its output: %v\n%s", u, err, out)
		}
		accounts = append(accounts, parseEnrollment(t, u, e))
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		t.Fatalf("totpctl enroll --json printed more than one object per user:\n%s", out)
	}
	return accounts
}

func parseEnrollment(t *testing.T, user string, e enrollment) *account {
	t.Helper()
	if e.User != user {
		t.Fatalf("totpctl enroll --json %s: user is %q", user, e.User)
	}
	key, err := otp.ParseURI(e.URI)
	if err != nil {
		t.Fatalf("totpctl enroll --json %s: uri: %v", user, err)
	}
	secret, err := otp.DecodeSecret(e.Secret)
	if err != nil {
		t.Fatalf("totpctl enroll --json %s: secret: %v", user, err)
	}
	if !bytes.Equal(secret, key.Secret) {
		t.Fatalf("totpctl enroll --json %s: secret %q differs from the URI's", user, e.Secret)
	}
	if len(e.BackupCodes) == 0 {
		t.Fatalf("totpctl enroll --json %s: no backup codes", user)
	}
	return &account{user: user, password: password(user), secret: e.Secret,
		key: key, backup: e.BackupCodes}
}

// code returns the account's code for time at.
func (a *account) code(at time.Time) string {
	return otp.TOTP(a.key.Secret, at, a.key.Params)
}

// codeSteps returns the code for the time step n steps from now: -1 is the
// previous one.
func (a *account) codeSteps(n int) string {
	period := time.Duration(a.key.Period) * time.Second
	return a.code(time.Now().Add(time.Duration(n) * period))
}

// waitStepRoom waits, if needed, for the next time step to begin, so that
// at least room is left in the current one: a test that sends the code of a
// given step must not see the step end while it logs in.
func waitStepRoom(t *testing.T, period int, room time.Duration) {
	t.Helper()
	p := time.Duration(period) * time.Second
	left := p - time.Duration(time.Now().UnixNano()%int64(p))
	if left < room {
		t.Logf("waiting %v for the next time step", left.Round(time.Millisecond))
		time.Sleep(left + 100*time.Millisecond)
	}
}

// logMark returns the current size of the container's auth.log, for
// waitLog to look only at what comes after it.
func (c *container) logMark(t *testing.T) int {
	t.Helper()
	return len(c.exec(t, "cat /var/log/auth.log"))
}

// waitLog waits until one line of auth.log after mark names user and
// contains every one of words (case-insensitively), and returns it. syslog
// writes with a delay.
func (c *container) waitLog(t *testing.T, mark int, user string, words ...string) string {
	t.Helper()
	lines := c.waitLogLines(t, mark, 1, user, words...)
	return lines[0]
}

// waitLogLines waits until n lines of auth.log after mark name user and
// contain every one of words, and returns them; more than n is an error.
func (c *container) waitLogLines(t *testing.T, mark, n int, user string, words ...string) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		log := c.exec(t, "cat /var/log/auth.log")
		if mark <= len(log) {
			log = log[mark:]
		}
		lines := findLines(log, user, words)
		if len(lines) > n {
			t.Fatalf("auth.log has %d lines naming %s with all of %q, want %d:\n%s",
				len(lines), user, words, n, strings.Join(lines, "\n"))
		}
		if len(lines) == n {
			return lines
		}
		if time.Now().After(deadline) {
			t.Fatalf("auth.log has %d lines naming %s with all of %q, want %d; new lines:\n%s",
				len(lines), user, words, n, log)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitLogEach waits until auth.log after mark has, for each of users, one
// line that names the user and contains every one of words.
func (c *container) waitLogEach(t *testing.T, mark int, users []string, words ...string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		log := c.exec(t, "cat /var/log/auth.log")
		if mark <= len(log) {
			log = log[mark:]
		}
		var wrong []string
		for _, u := range users {
			if n := len(findLines(log, u, words)); n != 1 {
				wrong = append(wrong, fmt.Sprintf("%s: %d", u, n))
			}
		}
		if len(wrong) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("auth.log lines with all of %q, per user, want 1: %s", words, strings.Join(wrong, ", "))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func findLines(log, user string, words []string) []string {
	var found []string
	for _, line := range strings.Split(log, "\n") {
		l := strings.ToLower(line)
		if !hasName(l, strings.ToLower(user)) {
			continue
		}
		all := true
		for _, w := range words {
			all = all && strings.Contains(l, strings.ToLower(w))
		}
		if all {
			found = append(found, line)
		}
	}
	return found
}

// hasName reports whether s contains name not as part of a longer name, so
// that user k01 does not match k010.
func hasName(s, name string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], name)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(name)
		if (start == 0 || !isNameByte(s[start-1])) && (end == len(s) || !isNameByte(s[end])) {
			return true
		}
		i = start + 1
	}
}

func isNameByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '_' || b == '-'
}
