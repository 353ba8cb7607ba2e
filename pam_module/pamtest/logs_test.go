package pamtest

import (
	"strings"
	"testing"
)

// Nothing the module logs, even with debug, holds a secret, a code, a
// backup code or a password, in any outcome.
func TestLogsHoldNoSecret(t *testing.T) {
	f := newFixture(t, "backup_codes: 3\nmax_failures: 3\nlockout_delay: 10m")
	u, other := sysUser(t, "daemon"), sysUser(t, "bin")
	en, otherEn := f.enroll(u), f.enroll(other)
	answers := []string{
		code(en, 0),           // accepted
		code(en, 0),           // replayed
		code(en, 5),           // wrong
		en.BackupCodes[0],     // a backup code, accepted
		code(en, 6),           // wrong
		code(en, 7),           // wrong
		code(en, -5),          // wrong, and the lockout starts
		code(en, 1),           // right, but locked out
		"not a code at all 1", // locked out
	}
	args := []string{"-n", "9"}
	for _, a := range answers {
		args = append(args, "-a", a)
	}
	tr := f.run(f.totp("debug"), u, args...)
	want := "PAM_SUCCESS PAM_AUTH_ERR PAM_AUTH_ERR PAM_SUCCESS PAM_AUTH_ERR PAM_AUTH_ERR " +
		"PAM_AUTH_ERR PAM_MAXTRIES PAM_MAXTRIES"
	if got := strings.Join(tr.Results(), " "); got != want {
		t.Errorf("results = %s, want %s\n%s", got, want, tr)
	}
	secrets := append(answers, string(en.State.Secret))
	for _, bc := range en.BackupCodes {
		secrets = append(secrets, bc, strings.ToUpper(bc), strings.ReplaceAll(bc, "-", ""))
	}
	noneOf(t, tr, secrets...)

	// forward_pass: the password and the code in one answer.
	f.service("fwd", "auth required {module} {config} forward_pass debug",
		"auth required {testmod} [expect_authtok="+password+"]")
	c := code(otherEn, 0)
	tr = f.ask("fwd", other, password+c)
	if got := tr.Result(); got != "PAM_SUCCESS" {
		t.Errorf("forward_pass: result = %s, want PAM_SUCCESS\n%s", got, tr)
	}
	noneOf(t, tr, password, c, password+c, string(otherEn.State.Secret))
	if len(tr.All("log")) == 0 {
		t.Errorf("nothing logged with debug; the check above proves nothing\n%s", tr)
	}
}
