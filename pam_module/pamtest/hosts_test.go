package pamtest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pam-totp/pam-totp/core/policy"
	"github.com/pam-totp/pam-totp/pam_module/internal/pamrun"
)

// inNamespace runs args in a private mount namespace in which each file of
// binds (source to target) is mounted over its target, so that sudo, su
// and login read our PAM service file and leave the system's untouched.
// It returns the combined output and the exit error.
func inNamespace(t *testing.T, binds [][2]string, stdin string, args ...string) (string, error) {
	t.Helper()
	script := "set -e\n"
	for _, b := range binds {
		script += fmt.Sprintf("mount --bind %q %q\n", b[0], b[1])
	}
	// sudo's time stamps and the login records stay in the namespace.
	script += "[ -d /run/sudo ] && mount -t tmpfs -o mode=0711 tmpfs /run/sudo\n"
	script += isolateRecords(filepath.Dir(binds[0][0])) + "set +e\nexec \"$@\"\n"
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	unshare := []string{"--mount", "--propagation", "private", "sh", "-c", script, "sh"}
	cmd := exec.CommandContext(ctx, "unshare", append(unshare, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("%s did not finish: %v\n%s", strings.Join(args, " "), ctx.Err(), out)
	}
	return string(out), err
}

// loginRecords are where sshd, login and su record logins (wtmp, utmp,
// lastlog) and failed logins (btmp). None of them creates a record file
// that does not exist.
var loginRecords = []string{"/var/log/wtmp", "/var/log/btmp", "/var/log/lastlog", "/run/utmp"}

// isolateRecords returns shell commands that, run in a private mount
// namespace, mount over each login record that exists an empty copy in
// dir with the same owner and mode, so that the records of the programs
// run there stay in dir and the system's are left alone.
func isolateRecords(dir string) string {
	var b strings.Builder
	for _, f := range loginRecords {
		c := filepath.Join(dir, filepath.Base(f))
		fmt.Fprintf(&b, "if [ -e %[1]s ]; then : > %[2]q; chown --reference=%[1]s %[2]q; "+
			"chmod --reference=%[1]s %[2]q; mount --bind %[2]q %[1]s; fi\n", f, c)
	}
	return b.String()
}

// notRecorded fails if one of the system's login records holds user, a
// name made for the test and so in no record of the system before it.
func notRecorded(t *testing.T, user string) {
	t.Helper()
	for _, f := range []string{"/var/log/wtmp", "/var/log/btmp", "/run/utmp"} {
		data, err := os.ReadFile(f)
		if err == nil && bytes.Contains(data, []byte(user)) {
			t.Errorf("%s records user %s: the test wrote to the system's login records", f, user)
		}
	}
}

// The module in sudo, su and login, each reading a PAM service file that
// holds only pam_totp for auth.
func TestSudoSuLogin(t *testing.T) {
	requireRoot(t, "runs sudo, su and login in a private mount namespace and creates a system user")
	requireTools(t, "unshare", "setpriv", "sudo", "su", "login", "expect", "useradd", "userdel")
	module := artifact(t, "pam_totp.so")
	artifact(t, "pam_totp_go.so")
	dir := tempDir(t)
	env, err := pamrun.NewEnv(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	u := testUser(t)
	service := filepath.Join(dir, "service")
	lines := fmt.Sprintf("auth required %s config=%s\n", module, env.ConfigFile) +
		"account required pam_permit.so\nsession required pam_permit.so\n" +
		"password required pam_deny.so\n"
	write(t, service, []byte(lines), 0o644)
	sudoers := filepath.Join(dir, "sudoers")
	rules := "Defaults !lecture\nroot ALL=(ALL:ALL) ALL\n" + u + " ALL=(ALL:ALL) ALL\n"
	write(t, sudoers, []byte(rules), 0o440)
	enroll := func(t *testing.T, user string) *policy.Enrollment {
		t.Helper()
		en, err := env.Enroll(user, policy.EnrollOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return en
	}
	asUser := []string{"setpriv", "--reuid=" + u, "--regid=nogroup", "--clear-groups"}

	t.Run("sudo", func(t *testing.T) {
		en := enroll(t, u)
		binds := [][2]string{{service, "/etc/pam.d/sudo"}, {sudoers, "/etc/sudoers"}}
		sudo := append(asUser, "sudo", "-S", "-k", "id", "-un")
		c := oathtool(t, en)
		out, err := inNamespace(t, binds, c+"\n", sudo...)
		if err != nil || !strings.Contains(out, prompt) || !strings.HasSuffix(out, "root\n") {
			t.Fatalf("sudo with the right code: %v\n%s", err, out)
		}
		out, err = inNamespace(t, binds, c+"\n", sudo...)
		if err == nil || strings.Contains(out, "root\n") {
			t.Errorf("sudo with a replayed code: %v, want refused\n%s", err, out)
		}
		out, err = inNamespace(t, binds, code(en, 4)+"\n", sudo...)
		if err == nil || strings.Contains(out, "root\n") {
			t.Errorf("sudo with a wrong code: %v, want refused\n%s", err, out)
		}
	})

	t.Run("su", func(t *testing.T) {
		// su asks for the code of the user it switches to.
		rootEn := enroll(t, "root")
		binds := [][2]string{{service, "/etc/pam.d/su"}}
		su := append(asUser, "su", "-c", "id -un", "root")
		out, err := inNamespace(t, binds, oathtool(t, rootEn)+"\n", su...)
		if err != nil || !strings.Contains(out, prompt) || !strings.HasSuffix(out, "root\n") {
			t.Fatalf("su with the right code: %v\n%s", err, out)
		}
		out, err = inNamespace(t, binds, code(rootEn, -5)+"\n", su...)
		if err == nil || strings.HasSuffix(out, "root\n") {
			t.Errorf("su with a wrong code: %v, want refused\n%s", err, out)
		}
	})

	t.Run("login", func(t *testing.T) {
		en := enroll(t, u)
		script := filepath.Join(dir, "login.exp")
		write(t, script, []byte(loginScript), 0o644)
		binds := [][2]string{{service, "/etc/pam.d/login"}}
		start := time.Now()
		out, err := inNamespace(t, binds, "", "expect", script, u, code(en, 0))
		if err != nil || !strings.Contains(out, "logged in as "+u) {
			t.Fatalf("login with the right code: %v\n%s", err, out)
		}
		t.Logf("login on a terminal took %v", time.Since(start).Round(time.Millisecond))
		out, err = inNamespace(t, binds, "", "expect", script, u, code(en, 3))
		refused := strings.Contains(out, "Login incorrect")
		if err == nil || strings.Contains(out, "logged in as") || !refused {
			t.Errorf("login with a wrong code: %v, want refused\n%s", err, out)
		}
	})

	notRecorded(t, u)
}

// loginScript drives login(1) on a terminal: user name, then the code; it
// exits 0 once the user's shell answers.
const loginScript = `set timeout 20
set user [lindex $argv 0]
set code [lindex $argv 1]
spawn login
expect {
  "login: " { send "$user\r" }
  timeout { puts "no login prompt"; exit 2 }
}
expect {
  "Verification code: " { send "$code\r" }
  timeout { puts "no code prompt"; exit 2 }
}
expect {
  -re {\$ $} { send "echo logged in as \$(id -un)\r" }
  "Login incorrect" { exit 1 }
  timeout { puts "no shell"; exit 3 }
}
expect {
  -re "logged in as \[a-z]" { send "exit\r" }
  timeout { exit 3 }
}
expect eof
exit 0
`
