package packaging

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// make install into a DESTDIR: the planned layout and modes, the state
// directory but no host key, and an existing config.yaml kept on a second
// install.
func TestMakeInstall(t *testing.T) {
	dir := os.Getenv("PAM_TOTP_BUILD")
	if dir == "" {
		dir = filepath.Join("..", "build")
	}
	build, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"pkg/pam_totp.so", "pam_totp_go.so", "totpctl"} {
		if _, err := os.Stat(filepath.Join(build, f)); err != nil {
			t.Skipf("no %s in %s: run 'make' first", f, build)
		}
	}
	ma, err := exec.Command("cc", "-print-multiarch").Output()
	if err != nil {
		t.Skipf("cc -print-multiarch: %v", err)
	}
	multiarch := strings.TrimSpace(string(ma))

	dest := t.TempDir()
	install := func() string {
		t.Helper()
		cmd := exec.Command("make", "-C", "..", "install", "BUILD="+build, "DESTDIR="+dest)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("make install: %v\n%s", err, out)
		}
		return string(out)
	}
	install()

	want := map[string]os.FileMode{
		"lib/" + multiarch + "/security/pam_totp.so":        0o644,
		"usr/lib/" + multiarch + "/pam-totp/pam_totp_go.so": 0o644,
		"usr/sbin/totpctl":                      0o755,
		"usr/share/man/man8/pam_totp.8.gz":      0o644,
		"usr/share/man/man8/totpctl.8.gz":       0o644,
		"usr/share/man/man5/pam-totp.yaml.5.gz": 0o644,
		"etc/pam-totp/config.yaml":              0o644,
		"usr/share/doc/pam-totp/LICENSE":        0o644,
		"var/lib/pam-totp":                      0o700 | os.ModeDir,
	}
	for p, mode := range want {
		fi, err := os.Stat(filepath.Join(dest, p))
		if err != nil {
			t.Error(err)
			continue
		}
		if got := fi.Mode() & (os.ModeDir | os.ModePerm); got != mode {
			t.Errorf("%s has mode %v, want %v", p, got, mode)
		}
	}
	if _, err := os.Stat(filepath.Join(dest, "etc/pam-totp/host.key")); err == nil {
		t.Error("make install made a host key")
	}

	cfg := filepath.Join(dest, "etc/pam-totp/config.yaml")
	if err := os.WriteFile(cfg, []byte("window: 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := install()
	if got, _ := os.ReadFile(cfg); string(got) != "window: 2\n" {
		t.Errorf("a second make install replaced the existing config.yaml")
	}
	if !strings.Contains(out, "keeping the existing") {
		t.Errorf("a second make install did not say it kept config.yaml:\n%s", out)
	}
}
