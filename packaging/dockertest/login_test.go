//go:build dockertest

package dockertest

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// stateDir is the package's state directory; the fault tests move it.
const stateDir = "/var/lib/pam-totp"

// method is one sshd AuthenticationMethods setting under test, the image's
// users that have it (see image-setup.sh), and the PAM profiles that go
// with it: once everyone is enrolled, and with nullok while users enroll.
type method struct {
	name      string
	prefix    string
	publicKey bool
	profile   string
	nullok    string
	password  bool // whether the PAM stack asks for the password
}

var methods = []method{
	{"keyboard-interactive", "k", false, profilePasswordCode, profilePasswordCodeNullok, true},
	{"publickey,keyboard-interactive", "p", true, profileCode, profileContrib, false},
}

// forEachMethod runs f as a parallel subtest for each authentication
// method.
func forEachMethod(t *testing.T, f func(*testing.T, method)) {
	for _, m := range methods {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			f(t, m)
		})
	}
}

func (m method) creds(a *account, code string) creds {
	return creds{password: a.password, code: code, publicKey: m.publicKey}
}

// want fails the test unless r has the wanted outcome.
func want(t *testing.T, what string, r result, o outcome) {
	t.Helper()
	if r.outcome != o {
		t.Fatalf("%s: %v; want %v", what, r, o)
	}
}

// wantPrompts fails the test unless the prompts were the password's, if
// the method asks for it, and then the code's.
func (m method) wantPrompts(t *testing.T, r result) {
	t.Helper()
	ok := len(r.prompts) == 1 && isCodePrompt(r.prompts[0])
	if m.password {
		ok = len(r.prompts) == 2 && isPasswordPrompt(r.prompts[0]) && isCodePrompt(r.prompts[1])
	}
	if !ok {
		t.Fatalf("prompts %q: want the password's (%v), then the code's", r.prompts, m.password)
	}
}

// TestLogin logs in through sshd with golang.org/x/crypto/ssh, for each
// authentication method, each subtest with its own user.
func TestLogin(t *testing.T) {
	forEachMethod(t, func(t *testing.T, m method) {
		c := sharedContainer(t, m.profile)
		for _, tc := range loginTests {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				tc.f(t, c, m)
			})
		}
	})
}

var loginTests = []struct {
	name string
	f    func(*testing.T, *container, method)
}{
	{"right code, then replay", testRightThenReplay},
	{"wrong code", testWrongCode},
	{"wrong password", testWrongPassword},
	{"previous step", testPreviousStep},
	{"three steps old", testOldCode},
	{"backup code", testBackupCode},
	{"not enrolled", testNotEnrolled},
	{"corrupted state file", testCorruptState},
	{"swapped state file", testSwappedState},
	{"empty state file", testEmptyState},
}

func testRightThenReplay(t *testing.T, c *container, m method) {
	a := c.enroll(t, c.user(t, m.prefix))[0]
	code := a.codeSteps(0)
	r := c.login(a.user, m.creds(a, code))
	want(t, "right code", r, loggedIn)
	m.wantPrompts(t, r)

	mark := c.logMark(t)
	r = c.login(a.user, m.creds(a, code))
	want(t, "same code again", r, refused)
	if !strings.Contains(r.shown, "already used") {
		t.Errorf("after a replay, the user was shown %q; want that the code was already used", r.shown)
	}
	c.waitLog(t, mark, a.user, "replay")
}

func testWrongCode(t *testing.T, c *container, m method) {
	a := c.enroll(t, c.user(t, m.prefix))[0]
	mark := c.logMark(t)
	r := c.login(a.user, m.creds(a, a.wrongCode()))
	want(t, "wrong code", r, refused)
	m.wantPrompts(t, r)
	c.waitLog(t, mark, a.user, "refused: wrong code")
}

func testWrongPassword(t *testing.T, c *container, m method) {
	if !m.password {
		t.Skip("the PAM stack of this method asks for no password")
	}
	a := c.enroll(t, c.user(t, m.prefix))[0]
	cr := m.creds(a, a.codeSteps(0))
	cr.password = "not-" + a.password
	want(t, "wrong password, right code", c.login(a.user, cr), refused)
	// The stack stopped at the password: the code is still unused.
	cr.password = a.password
	want(t, "right password, same code", c.login(a.user, cr), loggedIn)
}

func testPreviousStep(t *testing.T, c *container, m method) {
	a := c.enroll(t, c.user(t, m.prefix))[0]
	waitStepRoom(t, a.key.Period, 10*time.Second)
	want(t, "previous step's code", c.login(a.user, m.creds(a, a.codeSteps(-1))), loggedIn)
}

func testOldCode(t *testing.T, c *container, m method) {
	a := c.enroll(t, c.user(t, m.prefix))[0]
	mark := c.logMark(t)
	want(t, "code three steps old", c.login(a.user, m.creds(a, a.codeSteps(-3))), refused)
	c.waitLog(t, mark, a.user, "refused: wrong code")
}

func testBackupCode(t *testing.T, c *container, m method) {
	a := c.enroll(t, c.user(t, m.prefix))[0]
	want(t, "backup code", c.login(a.user, m.creds(a, a.backup[0])), loggedIn)
	want(t, "same backup code again", c.login(a.user, m.creds(a, a.backup[0])), refused)
	want(t, "another backup code", c.login(a.user, m.creds(a, a.backup[1])), loggedIn)
}

// testNotEnrolled: without nullok, a user who is not enrolled is asked for
// a code all the same (so the prompt does not tell who is enrolled) and
// refused.
func testNotEnrolled(t *testing.T, c *container, m method) {
	user := c.user(t, m.prefix)
	mark := c.logMark(t)
	r := c.login(user, creds{password: password(user), code: "123456", publicKey: m.publicKey})
	want(t, "user not enrolled", r, refused)
	m.wantPrompts(t, r)
	c.waitLog(t, mark, user, "refused: not enrolled")
}

// statePath is the state file of user in the package's state directory.
func statePath(user string) string { return stateDir + "/" + user + ".totp" }

// flipByte inverts one byte of a file in place, past the header.
const flipByte = `b=$(od -An -tu1 -j 45 -N 1 "$1" | tr -d ' ')
printf "\\$(printf %03o $((255 - b)))" | dd of="$1" bs=1 seek=45 conv=notrunc 2>/dev/null`

func testCorruptState(t *testing.T, c *container, m method) {
	a := c.enroll(t, c.user(t, m.prefix))[0]
	c.exec(t, flipByte, statePath(a.user))
	mark := c.logMark(t)
	want(t, "right code, state file modified", c.login(a.user, m.creds(a, a.codeSteps(0))), refused)
	c.waitLog(t, mark, a.user, statePath(a.user), "modified")
}

// testSwappedState copies one user's state file over another's: the copy
// must not open as the second user's, so neither user's code gets in.
func testSwappedState(t *testing.T, c *container, m method) {
	acc := c.enroll(t, c.user(t, m.prefix), c.user(t, m.prefix))
	a, b := acc[0], acc[1]
	c.exec(t, `cp -p "$1" "$2"`, statePath(a.user), statePath(b.user))
	mark := c.logMark(t)
	want(t, "other user's code, swapped state file", c.login(b.user, m.creds(b, a.codeSteps(0))), refused)
	want(t, "own code, swapped state file", c.login(b.user, m.creds(b, b.codeSteps(0))), refused)
	c.waitLogLines(t, mark, 2, b.user, statePath(b.user), "another user")
}

func testEmptyState(t *testing.T, c *container, m method) {
	a := c.enroll(t, c.user(t, m.prefix))[0]
	c.exec(t, `: >"$1"`, statePath(a.user))
	mark := c.logMark(t)
	want(t, "right code, empty state file", c.login(a.user, m.creds(a, a.codeSteps(0))), refused)
	c.waitLog(t, mark, a.user, statePath(a.user), "empty")
}

// TestOpenSSH logs in with OpenSSH's own client, which asks askpass for
// each prompt (or, where the code is the only prompt, sshpass), and checks
// one code against oathtool.
func TestOpenSSH(t *testing.T) {
	forEachMethod(t, func(t *testing.T, m method) {
		c := sharedContainer(t, m.profile)
		acc := c.enroll(t, c.user(t, m.prefix), c.user(t, m.prefix), c.user(t, m.prefix))
		a, b := acc[0], acc[1]

		r := c.opensshLogin(b.user, m.creds(b, b.wrongCode()))
		want(t, "wrong code", r, refused)
		m.wantPrompts(t, r)

		code := oathtoolCode(t, a)
		r = c.opensshLogin(a.user, m.creds(a, code))
		want(t, "right code from oathtool", r, loggedIn)
		m.wantPrompts(t, r)
		want(t, "same code again", c.opensshLogin(a.user, m.creds(a, code)), refused)

		if !m.password {
			d := acc[2]
			r = c.sshpassLogin(d.user, m.publicKey, "Verification code", d.codeSteps(0))
			want(t, "right code through sshpass", r, loggedIn)
		}
	})
}

// oathtoolCode returns the account's current code from oathtool, and checks
// that core/otp computes the same.
func oathtoolCode(t *testing.T, a *account) string {
	t.Helper()
	if _, err := exec.LookPath("oathtool"); err != nil {
		t.Skip("oathtool is not installed: apt-get install oathtool")
	}
	for try := 0; try < 3; try++ {
		before := a.codeSteps(0)
		out, err := exec.Command("oathtool", "--base32",
			"--totp="+strings.ToLower(a.key.Algorithm.String()),
			"--digits="+strconv.Itoa(a.key.Digits),
			"--time-step-size="+strconv.Itoa(a.key.Period)+"s",
			a.secret).Output()
		if err != nil {
			t.Fatalf("oathtool: %v", err)
		}
		after := a.codeSteps(0)
		got := strings.TrimSpace(string(out))
		if before != after {
			continue // a step ended while oathtool ran
		}
		if got != before {
			t.Fatalf("oathtool says %s, core/otp says %s", got, before)
		}
		return got
	}
	t.Fatal("three time steps ended while oathtool ran")
	return ""
}
