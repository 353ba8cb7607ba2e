package packaging

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// pamBench is a configuration of its own, the built module and totpctl,
// for running the PAM lines of contrib/ through the real libpam with
// pamtester.
type pamBench struct {
	t       *testing.T
	module  string // absolute path of the built pam_totp.so
	totpctl string
	config  string
}

func newPAMBench(t *testing.T) *pamBench {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the PAM stacks need root: service files live in /etc/pam.d")
	}
	for _, tool := range []string{"pamtester", "oathtool"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (Debian package %s)", tool, tool)
		}
	}
	bin := builtTotpctl(t)
	dir, err := filepath.Abs(filepath.Dir(bin))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"pam_totp.so", "pam_totp_go.so"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Skipf("no %s in %s: run 'make' first", f, dir)
		}
	}
	tmp := t.TempDir()
	if err := os.Mkdir(filepath.Join(tmp, "keys"), 0o700); err != nil {
		t.Fatal(err)
	}
	b := &pamBench{t: t, module: filepath.Join(dir, "pam_totp.so"), totpctl: filepath.Join(dir, "totpctl"),
		config: filepath.Join(tmp, "config.yaml")}
	conf := fmt.Sprintf("state_dir: %s/state\nkey_file: %s/keys/host.key\n", tmp, tmp)
	if err := os.WriteFile(b.config, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	b.ctl("init")
	return b
}

func (b *pamBench) ctl(args ...string) []byte {
	b.t.Helper()
	out, err := exec.Command(b.totpctl, append([]string{"--config", b.config}, args...)...).Output()
	if err != nil {
		b.t.Fatalf("totpctl %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// enroll enrolls user and returns the secret.
func (b *pamBench) enroll(user string) string {
	b.t.Helper()
	var e enrollment
	if err := json.Unmarshal(b.ctl("enroll", "--json", user), &e); err != nil {
		b.t.Fatal(err)
	}
	return e.Secret
}

// service installs the auth lines as a PAM service of its own, with the
// module's name replaced by the built module and its configuration.
func (b *pamBench) service(lines []string) string {
	b.t.Helper()
	name := fmt.Sprintf("pam-totp-contrib-test-%d", os.Getpid())
	var text strings.Builder
	for _, l := range lines {
		l = strings.Replace(l, "pam_totp.so", b.module+" config="+b.config, 1)
		text.WriteString(l + "\n")
	}
	path := filepath.Join("/etc/pam.d", name)
	if err := os.WriteFile(path, []byte(text.String()), 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Cleanup(func() { os.Remove(path) })
	return name
}

// login runs pam_authenticate for user with input on the terminal side and
// reports whether it succeeded.
func (b *pamBench) login(service, user, input string) bool {
	b.t.Helper()
	cmd := exec.Command("pamtester", service, user, "authenticate")
	cmd.Stdin = strings.NewReader(input)
	out, err := cmd.CombinedOutput()
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			b.t.Fatalf("pamtester: %v\n%s", err, out)
		}
		return false
	}
	return true
}

func (b *pamBench) code(secret string) string {
	b.t.Helper()
	out, err := exec.Command("oathtool", "--totp", "-b", secret).Output()
	if err != nil {
		b.t.Fatalf("oathtool: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// authLines returns the uncommented auth lines of a contrib file, or, with
// commented, those of its commented-out lines that follow the marker.
func authLines(t *testing.T, file, marker string) []string {
	t.Helper()
	text := readFile(t, file)
	if marker != "" {
		i := strings.Index(text, marker)
		if i < 0 {
			t.Fatalf("%s: no %q", file, marker)
		}
		text = text[i+len(marker):]
	}
	re := regexp.MustCompile(`(?m)^auth\s.*$`)
	if marker != "" {
		re = regexp.MustCompile(`(?m)^#(auth\s.*)$`)
	}
	var lines []string
	for _, m := range re.FindAllStringSubmatch(text, -1) {
		lines = append(lines, m[len(m)-1])
		if marker != "" {
			break
		}
	}
	if len(lines) == 0 {
		t.Fatalf("%s: no auth lines", file)
	}
	return lines
}

// The rollout stack of contrib/sshd/pam.d-sshd (nullok and pam_permit):
// users who are not enrolled pass without a code, enrolled users need a
// right one. Then the enforcing line: no one passes without a code.
func TestContribSshdStacks(t *testing.T) {
	b := newPAMBench(t)
	const enrolled, other = "daemon", "bin" // users every Debian system has
	secret := b.enroll(enrolled)

	rollout := authLines(t, "../contrib/sshd/pam.d-sshd", "")
	svc := b.service(rollout)
	if !b.login(svc, other, "") {
		t.Errorf("rollout stack %q: a user who is not enrolled was refused", rollout)
	}
	right := b.code(secret)
	if b.login(svc, enrolled, wrongCode(right)+"\n") {
		t.Errorf("rollout stack %q: an enrolled user passed with a wrong code", rollout)
	}
	if !b.login(svc, enrolled, right+"\n") {
		t.Errorf("rollout stack %q: an enrolled user was refused with a right code", rollout)
	}

	enforce := authLines(t, "../contrib/sshd/pam.d-sshd", "2b.")
	svc = b.service(enforce)
	if b.login(svc, other, "123456\n") {
		t.Errorf("enforcing stack %q: a user who is not enrolled passed", enforce)
	}
}

// wrongCode returns a code that differs from code in every digit.
func wrongCode(code string) string {
	w := []byte(code)
	for i, c := range w {
		w[i] = '0' + (c-'0'+5)%10
	}
	return string(w)
}

// commentedBlock returns the commented-out auth lines that follow marker.
func commentedBlock(t *testing.T, file, marker string) []string {
	t.Helper()
	text := readFile(t, file)
	i := strings.Index(text, marker)
	if i < 0 {
		t.Fatalf("%s: no %q", file, marker)
	}
	var lines []string
	for _, l := range strings.Split(text[i:], "\n")[1:] {
		if strings.HasPrefix(l, "#auth") {
			lines = append(lines, l[1:])
		} else if len(lines) > 0 {
			break
		}
	}
	if len(lines) == 0 {
		t.Fatalf("%s: no commented-out auth lines after %q", file, marker)
	}
	return lines
}

// The group variants of contrib/sudo/pam.d-sudo, with the groups "totp"
// and "totp-exempt" replaced by "daemon", the primary group of the user
// daemon: the members of the group are asked for a code, the others not
// (B); everyone but the members is asked (C). pam_permit stands for
// common-auth, which ends with it once the password is right: a jump over
// pam_totp records no success, so the lines rely on one before them.
func TestContribSudoGroupStacks(t *testing.T) {
	b := newPAMBench(t)
	const member, nonMember = "daemon", "bin"
	secrets := map[string]string{member: b.enroll(member), nonMember: b.enroll(nonMember)}

	tests := []struct {
		marker string
		group  string
		asked  map[string]bool
	}{
		{"# B.", "totp", map[string]bool{member: true, nonMember: false}},
		{"# C.", "totp-exempt", map[string]bool{member: false, nonMember: true}},
	}
	for _, tt := range tests {
		lines := commentedBlock(t, "../contrib/sudo/pam.d-sudo", tt.marker)
		for i, l := range lines {
			lines[i] = strings.Replace(l, "ingroup "+tt.group, "ingroup daemon", 1)
		}
		svc := b.service(append([]string{"auth required pam_permit.so"}, lines...))
		for user, asked := range tt.asked {
			// Without a code: only users who are not asked pass.
			if got := b.login(svc, user, ""); got == asked {
				t.Errorf("variant %s %q: %s passed without a code: %t, want %t",
					tt.marker, lines, user, got, !asked)
			}
			if asked && !b.login(svc, user, b.code(secrets[user])+"\n") {
				t.Errorf("variant %s %q: %s was refused with a right code", tt.marker, lines, user)
			}
		}
	}
}
