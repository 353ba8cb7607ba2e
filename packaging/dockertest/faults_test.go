//go:build dockertest

package dockertest

import (
	"strings"
	"testing"
)

const configFile = "/etc/pam-totp/config.yaml"

// setConfig replaces the container's configuration file.
func (c *container) setConfig(t *testing.T, yaml string) {
	t.Helper()
	if _, err := c.tryInput([]byte(yaml), `cat >"$1"`, configFile); err != nil {
		t.Fatal(err)
	}
}

// TestLockout locks a user out with wrong codes, for each authentication
// method, checks that the right code is refused while locked, and that
// 'totpctl unlock' lets the user back in.
func TestLockout(t *testing.T) {
	t.Parallel()
	forEachMethod(t, testLockout)
}

func testLockout(t *testing.T, m method) {
	c := startContainer(t, "lockout-"+m.prefix, m.profile)
	c.setConfig(t, "max_failures: 3\nlockout_delay: 10m\n")
	a := c.enroll(t, c.user(t, m.prefix))[0]

	mark := c.logMark(t)
	for i := 0; i < 3; i++ {
		r := c.login(a.user, m.creds(a, a.wrongCode()))
		want(t, "wrong code", r, refused)
		m.wantPrompts(t, r)
	}
	c.waitLogLines(t, mark, 3, a.user, "refused: wrong code")
	c.waitLog(t, mark, a.user, "too many failures")

	mark = c.logMark(t)
	r := c.login(a.user, m.creds(a, a.codeSteps(0)))
	want(t, "right code while locked out", r, refused)
	if !strings.Contains(r.shown, "Too many wrong codes. Try again in") {
		t.Errorf("while locked out, the user was shown %q; want when to try again", r.shown)
	}
	c.waitLog(t, mark, a.user, "refused: locked out until")

	c.exec(t, `totpctl unlock "$1"`, a.user)
	r = c.login(a.user, m.creds(a, a.codeSteps(0)))
	want(t, "right code after totpctl unlock", r, loggedIn)
	m.wantPrompts(t, r)
}

// TestNullok runs, for each authentication method, the PAM lines for the
// time while users enroll: after a public key, contrib's lines for sshd as
// shipped (pam_totp with nullok, then pam_permit, in place of the
// password); without a key, the password and then pam_totp with nullok. A
// user who is not enrolled gets in without a code prompt, but still needs
// the right password where the stack asks for it; an enrolled user still
// needs the right code; one whose state file is damaged, or when the host
// key is missing, is refused, not let through.
func TestNullok(t *testing.T) {
	t.Parallel()
	forEachMethod(t, testNullok)
}

func testNullok(t *testing.T, m method) {
	c := startContainer(t, "nullok-"+m.prefix, m.nullok)
	acc := c.enroll(t, c.user(t, m.prefix), c.user(t, m.prefix))
	a, damaged := acc[0], acc[1]
	plain := c.user(t, m.prefix)

	cr := creds{password: password(plain), publicKey: m.publicKey}
	r := c.login(plain, cr)
	want(t, "not enrolled", r, loggedIn)
	if m.password && (len(r.prompts) != 1 || !isPasswordPrompt(r.prompts[0])) ||
		!m.password && len(r.prompts) != 0 {
		t.Errorf("not enrolled: prompts %q, want the password's (%v) and no other", r.prompts, m.password)
	}
	want(t, "not enrolled, OpenSSH", c.opensshLogin(plain, cr), loggedIn)
	if m.password {
		cr.password = "not-" + cr.password
		want(t, "not enrolled, wrong password", c.login(plain, cr), refused)
		want(t, "not enrolled, wrong password, OpenSSH", c.opensshLogin(plain, cr), refused)
	}

	r = c.login(a.user, m.creds(a, a.wrongCode()))
	want(t, "enrolled, wrong code", r, refused)
	m.wantPrompts(t, r)
	r = c.login(a.user, m.creds(a, a.codeSteps(0)))
	want(t, "enrolled, right code", r, loggedIn)
	m.wantPrompts(t, r)

	c.exec(t, `: >"$1"`, statePath(damaged.user))
	r = c.login(damaged.user, m.creds(damaged, damaged.codeSteps(0)))
	want(t, "enrolled, empty state file", r, refused)

	a = c.enroll(t, c.user(t, m.prefix))[0]
	c.exec(t, "mv /etc/pam-totp/host.key /etc/pam-totp/host.key.away")
	cr = m.creds(a, a.codeSteps(0))
	want(t, "enrolled, host key missing", c.login(a.user, cr), refused)
	c.exec(t, "mv /etc/pam-totp/host.key.away /etc/pam-totp/host.key")
	want(t, "enrolled, host key back", c.login(a.user, cr), loggedIn)
}

// TestFaults breaks the state directory and the host key under a running
// sshd: every login must fail closed with a log line that says why, and
// once the fault is fixed, logins work and no state file is lost or torn.
// The state directory is a small tmpfs that the test can remount read-only
// and fill, which needs CAP_SYS_ADMIN in the container.
func TestFaults(t *testing.T) {
	t.Parallel()
	c := startContainer(t, "faults", profilePasswordCode, "--cap-add", "SYS_ADMIN",
		"--tmpfs", "/srv/totp:rw,size=512k,mode=0755")
	c.exec(t, "mkdir -m 0700 /srv/totp/state")
	c.setConfig(t, "state_dir: /srv/totp/state\n")
	users := []string{"k01", "k02", "k03", "k04", "k05", "k06"}
	for range users {
		c.user(t, "k")
	}
	acc := c.enroll(t, users...)
	before := c.stateSums(t)

	faults := []struct {
		name, user, fault, fix string
		log                    []string
	}{
		{"read-only state directory", "k01",
			"mount -o remount,ro /srv/totp", "mount -o remount,rw /srv/totp",
			[]string{"read-only file system"}},
		{"full disk", "k02",
			"dd if=/dev/zero of=/srv/totp/fill bs=4k 2>/dev/null; df /srv/totp | grep -q ' 100%'",
			"rm /srv/totp/fill", []string{"no space left"}},
		{"host key missing", "k03",
			"mv /etc/pam-totp/host.key /etc/pam-totp/host.key.away",
			"mv /etc/pam-totp/host.key.away /etc/pam-totp/host.key",
			[]string{"host key"}},
	}
	for i, f := range faults {
		a := acc[i]
		cr := creds{password: a.password, code: a.codeSteps(0)}
		c.exec(t, f.fault)
		mark := c.logMark(t)
		want(t, f.name, c.login(a.user, cr), refused)
		c.waitLog(t, mark, a.user, f.log...)
		c.exec(t, f.fix)
		cr.code = a.codeSteps(0)
		want(t, f.name+", fixed", c.login(a.user, cr), loggedIn)
	}

	after := c.stateSums(t)
	for _, u := range users[len(faults):] {
		if before[u] == "" || after[u] != before[u] {
			t.Errorf("state file of %s, not logged in, changed: %q, then %q", u, before[u], after[u])
		}
	}
	if left := c.exec(t, "ls -A /srv/totp/state | grep -v -e '[.]totp$' -e '[.]lock$' || true"); left != "" {
		t.Errorf("files left in the state directory:\n%s", left)
	}
	for _, u := range users {
		c.exec(t, `totpctl --config /etc/pam-totp/config.yaml status "$1" >/dev/null`, u)
	}
}

// stateSums returns the SHA-256 of each user's state file, by user.
func (c *container) stateSums(t *testing.T) map[string]string {
	t.Helper()
	sums := map[string]string{}
	out := c.exec(t, "cd /srv/totp/state && sha256sum *.totp")
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 {
			sums[strings.TrimSuffix(f[1], ".totp")] = f[0]
		}
	}
	return sums
}
