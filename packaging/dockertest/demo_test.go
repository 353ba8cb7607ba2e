//go:build dockertest

package dockertest

import (
	"strings"
	"testing"
	"time"

	"github.com/pam-totp/pam-totp/core/otp"
)

// demoTimeout bounds demo-user.sh, which deletes the image's 116 test
// users one by one while the other tests keep the machine busy.
const demoTimeout = 5 * time.Minute

// TestDemo runs what 'make demo' runs in its container: afterwards no test
// user, key, sudo rule or sshd setting of the image is left, and the demo
// user logs in with the password and a code from the QR code's URI.
func TestDemo(t *testing.T) {
	t.Parallel()
	c := startContainer(t, "demo", profilePasswordCode)
	start := time.Now()
	out := c.execWithin(t, demoTimeout, "/usr/local/lib/pam-totp-test/demo-user.sh demo")
	t.Logf("demo-user.sh took %v", time.Since(start).Round(time.Millisecond))

	left := c.exec(t, `getent passwd | cut -d: -f1 | grep -E '^[kps][0-9]{2}$' || true
getent group totp-kbd totp-pk totp-sudo || true
ls -d /etc/sudoers.d/pam-totp-test /etc/ssh/test_client_key* \
	/etc/ssh/sshd_config.d/90-pam-totp-test.conf 2>/dev/null || true
grep -n '^Match Group' /etc/ssh/sshd_config || true`)
	if left != "" {
		t.Errorf("the demo keeps what only the tests need:\n%s", left)
	}
	c.exec(t, "totpctl status demo")

	var pw, uri string
	for _, line := range strings.Split(out, "\n") {
		if p, ok := strings.CutPrefix(line, "Password of demo: "); ok {
			pw = p
		}
		if strings.HasPrefix(line, "otpauth://") {
			uri = line
		}
	}
	key, err := otp.ParseURI(uri)
	if pw == "" || err != nil {
		t.Fatalf("demo-user.sh printed no password or no valid URI (%v):\n%s", err, out)
	}
	a := &account{user: "demo", password: pw, key: key}
	r := c.login("demo", creds{password: pw, code: a.codeSteps(0)})
	want(t, "demo user, password and code", r, loggedIn)
	methods[0].wantPrompts(t, r)
}
