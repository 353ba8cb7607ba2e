package packaging

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// shellScripts are every shell script of the packaging, the container
// suite and the examples.
var shellScripts = []string{
	"debian/postinst", "debian/prerm", "debian/postrm",
	"debversion.sh", "mkdeb.sh", "testdata/lifecycle.sh",
	"dockertest/base-image.sh", "dockertest/image-setup.sh",
	"dockertest/entrypoint.sh", "dockertest/demo-user.sh",
	"../contrib/enroll-users.sh",
}

// A new script must not escape the checks below by not being listed.
func TestShellScriptsListed(t *testing.T) {
	listed := map[string]bool{}
	for _, s := range shellScripts {
		listed[s] = true
	}
	for _, pattern := range []string{"*.sh", "testdata/*.sh", "dockertest/*.sh", "../contrib/*.sh"} {
		found, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range found {
			if !listed[f] {
				t.Errorf("%s is not in shellScripts", f)
			}
		}
	}
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

// enrollment is the part of 'totpctl enroll --json' that the hand-over
// needs.
type enrollment struct {
	User        string   `json:"user"`
	URI         string   `json:"uri"`
	Secret      string   `json:"secret"`
	BackupCodes []string `json:"backup_codes"`
}

// enroll-users.sh, run with the real totpctl against a configuration of
// its own, must enroll the listed users, refuse a name that would escape
// the hand-over directory, leave files only root can read, and hand over
// secrets that really work.
func TestEnrollUsersScript(t *testing.T) {
	bin := builtTotpctl(t)
	if os.Geteuid() != 0 {
		t.Skip("totpctl runs as root only")
	}
	binDir, err := filepath.Abs(filepath.Dir(bin))
	if err != nil {
		t.Fatal(err)
	}
	script, err := filepath.Abs("../contrib/enroll-users.sh")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	conf := "state_dir: " + dir + "/state\nkey_file: " + dir + "/keys/host.key\nissuer: Test\n"
	if err := os.Mkdir(filepath.Join(dir, "keys"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "PATH="+binDir+":"+os.Getenv("PATH"))
	totpctl := func(args ...string) ([]byte, error) {
		cmd := exec.Command(bin, append([]string{"--config", cfg}, args...)...)
		return cmd.CombinedOutput()
	}
	if out, err := totpctl("init"); err != nil {
		t.Fatalf("totpctl init: %v\n%s", err, out)
	}

	users := filepath.Join(dir, "users.txt")
	list := "alice\n# a comment\n\n  bob  \n../evil\n"
	if err := os.WriteFile(users, []byte(list), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "handover")
	cmd := exec.Command("sh", script, "-c", cfg, "-o", out, users)
	cmd.Env = env
	log, err := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 1 {
		t.Fatalf("enroll-users.sh with an invalid name exited %d (%v), want 1\n%s", code, err, log)
	}
	if !strings.Contains(string(log), "../evil: not a valid user name") {
		t.Errorf("enroll-users.sh did not refuse the name ../evil itself:\n%s", log)
	}
	if _, err := os.Stat(filepath.Join(dir, "evil")); err == nil {
		t.Error("the name ../evil made a directory outside the hand-over directory")
	}

	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("%s has mode %v, want 0700", out, fi.Mode().Perm())
	}
	for _, user := range []string{"alice", "bob"} {
		checkHandover(t, filepath.Join(out, user), user, totpctl)
	}

	// Run again: enrolled users are skipped, not replaced.
	if err := os.WriteFile(users, []byte("alice\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd = exec.Command("sh", script, "-c", cfg, "-o", out+"2", users)
	cmd.Env = env
	if log, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(log), "already enrolled") {
		t.Errorf("second run: %v, want success and alice skipped\n%s", err, log)
	}
	if _, err := os.Stat(filepath.Join(out+"2", "alice")); err == nil {
		t.Error("second run made hand-over files for alice, who was enrolled")
	}
}

func checkHandover(t *testing.T, dir, user string, totpctl func(...string) ([]byte, error)) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "enrollment.json"))
	if err != nil {
		t.Fatal(err)
	}
	var e enrollment
	if err := json.Unmarshal(data, &e); err != nil {
		t.Fatalf("%s/enrollment.json: %v\n%s", dir, err, data)
	}
	if e.User != user || !strings.HasPrefix(e.URI, "otpauth://totp/") || e.Secret == "" ||
		len(e.BackupCodes) != 10 {
		t.Errorf("%s/enrollment.json = %+v, want user %s, a URI, a secret and 10 backup codes",
			dir, e, user)
	}

	png := filepath.Join(dir, "qr.png")
	fi, err := os.Stat(png)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("%s has mode %v: group or others may read it", png, fi.Mode().Perm())
	}
	if _, err := exec.LookPath("zbarimg"); err == nil {
		got, err := exec.Command("zbarimg", "-q", "--raw", png).Output()
		if err != nil {
			t.Errorf("zbarimg %s: %v", png, err)
		} else if strings.TrimSpace(string(got)) != e.URI {
			t.Errorf("%s decodes to %q, want the URI %q", png, got, e.URI)
		}
	}

	// The handed-over secret must give codes that pam-totp accepts; the
	// code comes from oathtool, an independent implementation.
	if _, err := exec.LookPath("oathtool"); err != nil {
		t.Log("oathtool is not installed: the secret's codes are not checked")
		return
	}
	code, err := exec.Command("oathtool", "--totp", "-b", e.Secret).Output()
	if err != nil {
		t.Fatalf("oathtool: %v", err)
	}
	if out, err := totpctl("verify", user, strings.TrimSpace(string(code))); err != nil {
		t.Errorf("totpctl verify %s with oathtool's code: %v\n%s", user, err, out)
	}
}

// The Ansible playbook must be valid YAML: a list of plays, each with hosts
// and tasks, each task with a name.
func TestAnsiblePlaybookParses(t *testing.T) {
	var plays []struct {
		Hosts string           `yaml:"hosts"`
		Tasks []map[string]any `yaml:"tasks"`
	}
	if err := yaml.Unmarshal([]byte(readFile(t, "../contrib/ansible/pam-totp.yml")), &plays); err != nil {
		t.Fatal(err)
	}
	if len(plays) == 0 {
		t.Fatal("no plays")
	}
	for i, p := range plays {
		if p.Hosts == "" || len(p.Tasks) == 0 {
			t.Errorf("play %d has no hosts or no tasks", i)
		}
		for j, task := range p.Tasks {
			if task["name"] == nil || len(task) < 2 {
				t.Errorf("play %d, task %d has no name or no action", i, j)
			}
		}
	}
}
