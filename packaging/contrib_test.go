package packaging

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// shellScripts are every shell script of the packaging and the examples.
var shellScripts = []string{
	"debian/postinst", "debian/prerm", "debian/postrm",
	"debversion.sh", "mkdeb.sh",
	"../contrib/enroll-users.sh",
}

func TestShellScriptsParse(t *testing.T) {
	for _, s := range shellScripts {
		if out, err := exec.Command("sh", "-n", s).CombinedOutput(); err != nil {
			t.Errorf("sh -n %s: %v\n%s", s, err, out)
		}
	}
}

func TestShellScriptsShellcheck(t *testing.T) {
	if _, err := exec.LookPath("shellcheck"); err != nil {
		t.Skip("shellcheck is not installed (Debian package shellcheck)")
	}
	for _, s := range shellScripts {
		out, err := exec.Command("shellcheck", "--shell=sh", s).CombinedOutput()
		if err != nil {
			t.Errorf("shellcheck %s: %v\n%s", s, err, out)
		}
	}
}

func TestDebVersion(t *testing.T) {
	tests := []struct{ in, want string }{
		{"v1.2.3", "1.2.3-1"},
		{"0.4", "0.4-1"},
		{"v1.2.3-4-gabc1234", "1.2.3+git4.abc1234-1"},
		{"v1.2.3-4-gabc1234-dirty", "1.2.3+git4.abc1234.dirty-1"},
		{"dev", "0.0~dev-1"},
		{"something/odd", "0.0~dev-1"},
	}
	for _, tt := range tests {
		out, err := exec.Command("sh", "debversion.sh", tt.in).Output()
		if err != nil {
			t.Errorf("debversion.sh %s: %v", tt.in, err)
			continue
		}
		if got := strings.TrimSpace(string(out)); got != tt.want {
			t.Errorf("debversion.sh %s = %q, want %q", tt.in, got, tt.want)
		}
	}
	// A bare commit id takes the commit's date when git knows the commit,
	// and must be a valid Debian version either way.
	out, err := exec.Command("sh", "debversion.sh", "abc1234").Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(out)); !strings.HasPrefix(got, "0.0~git") ||
		!strings.HasSuffix(got, ".abc1234-1") {
		t.Errorf("debversion.sh abc1234 = %q, want 0.0~git[DATE].abc1234-1", got)
	}
}

// The sshd drop-in, read by the real sshd after a main file that says
// otherwise, must give the settings it promises.
func TestSshdDropIn(t *testing.T) {
	sshd, err := exec.LookPath("sshd")
	if err != nil {
		if _, err = os.Stat("/usr/sbin/sshd"); err != nil {
			t.Skip("sshd is not installed (Debian package openssh-server)")
		}
		sshd = "/usr/sbin/sshd"
	}
	if os.Geteuid() != 0 {
		t.Skip("sshd -T needs root")
	}
	// sshd -T insists on its privilege separation directory, which the ssh
	// service would create at start.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Skipf("sshd needs /run/sshd: %v", err)
	}
	dir := t.TempDir()
	key := filepath.Join(dir, "host_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key).CombinedOutput(); err != nil {
		t.Skipf("ssh-keygen: %v\n%s", err, out)
	}
	dropIn, err := filepath.Abs("../contrib/sshd/10-pam-totp.conf")
	if err != nil {
		t.Fatal(err)
	}
	// As Debian's main file: the Include first, then its own settings.
	main := "Include " + dropIn + "\nKbdInteractiveAuthentication no\nUsePAM no\n" +
		"HostKey " + key + "\n"
	conf := filepath.Join(dir, "sshd_config")
	if err := os.WriteFile(conf, []byte(main), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(sshd, "-T", "-f", conf).CombinedOutput()
	if err != nil {
		t.Fatalf("sshd -T: %v\n%s", err, out)
	}
	want := []string{
		"usepam yes",
		"kbdinteractiveauthentication yes",
		"authenticationmethods publickey,keyboard-interactive",
	}
	lines := map[string]bool{}
	for _, l := range strings.Split(string(out), "\n") {
		lines[strings.TrimSpace(l)] = true
	}
	for _, w := range want {
		if !lines[w] {
			t.Errorf("sshd -T with the drop-in lacks %q", w)
		}
	}
}
