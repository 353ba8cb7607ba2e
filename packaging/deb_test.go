package packaging

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// builtDeb returns the .deb that "make deb" left in the build directory
// (PAM_TOTP_BUILD, or ../build), or skips the test if there is none.
func builtDeb(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("PAM_TOTP_BUILD")
	if dir == "" {
		dir = filepath.Join("..", "build")
	}
	debs, _ := filepath.Glob(filepath.Join(dir, "pam-totp_*.deb"))
	switch len(debs) {
	case 0:
		t.Skipf("no pam-totp_*.deb in %s: run 'make deb' first", dir)
	case 1:
	default:
		t.Fatalf("%d packages in %s, want one: %v", len(debs), dir, debs)
	}
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Skip("dpkg-deb is not installed (Debian package dpkg)")
	}
	return debs[0]
}

// skipUnlessCI skips the test with the message, or fails it where CI=true:
// there a test that cannot run must not pass unnoticed.
func skipUnlessCI(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format+" (CI=true: this test must run)", args...)
	}
	t.Skipf(format, args...)
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// field returns a field of the package's control file.
func field(t *testing.T, deb, name string) string {
	t.Helper()
	return strings.TrimSpace(run(t, "dpkg-deb", "--field", deb, name))
}

// multiarch returns the multiarch triplet of the package's architecture.
func multiarch(t *testing.T, deb string) string {
	t.Helper()
	if _, err := exec.LookPath("dpkg-architecture"); err != nil {
		t.Skip("dpkg-architecture is not installed (Debian package dpkg-dev)")
	}
	arch := field(t, deb, "Architecture")
	return strings.TrimSpace(run(t, "dpkg-architecture", "-a"+arch, "-qDEB_HOST_MULTIARCH"))
}

type entry struct{ mode, owner string }

// contents lists the package's files as dpkg-deb -c shows them, by path
// without the leading "." and without a trailing "/".
func contents(t *testing.T, deb string) map[string]entry {
	t.Helper()
	m := map[string]entry{}
	for _, line := range strings.Split(strings.TrimSpace(run(t, "dpkg-deb", "-c", deb)), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 {
			t.Fatalf("dpkg-deb -c: cannot read line %q", line)
		}
		p := strings.TrimSuffix(strings.TrimPrefix(f[5], "."), "/")
		if p == "" {
			p = "/"
		}
		m[p] = entry{mode: f[0], owner: f[1]}
	}
	return m
}

func TestDebControl(t *testing.T) {
	deb := builtDeb(t)
	if got := field(t, deb, "Package"); got != "pam-totp" {
		t.Errorf("Package is %q, want pam-totp", got)
	}
	v := field(t, deb, "Version")
	if !regexp.MustCompile(`^[0-9][A-Za-z0-9.+~]*-[0-9]+$`).MatchString(v) {
		t.Errorf("Version %q is not of the form upstream-revision", v)
	}
	if want := "pam-totp_" + v + "_" + field(t, deb, "Architecture") + ".deb"; filepath.Base(deb) != want {
		t.Errorf("file name is %s, want %s", filepath.Base(deb), want)
	}
	if arch, err := exec.Command("dpkg", "--print-architecture").Output(); err == nil {
		if got := field(t, deb, "Architecture"); got != strings.TrimSpace(string(arch)) {
			t.Errorf("Architecture is %q, want this machine's %q", got, strings.TrimSpace(string(arch)))
		}
	}
	dep := field(t, deb, "Depends")
	for _, lib := range []string{"libc6 (>=", "libpam0g (>="} {
		if !strings.Contains(dep, lib) {
			t.Errorf("Depends %q lacks %q", dep, lib)
		}
	}
}

func TestDebLayout(t *testing.T) {
	deb := builtDeb(t)
	ma := multiarch(t, deb)
	files := contents(t, deb)

	want := map[string]string{
		"/lib/" + ma + "/security/pam_totp.so":            "-rw-r--r--",
		"/usr/lib/" + ma + "/pam-totp/pam_totp_go.so":     "-rw-r--r--",
		"/usr/sbin/totpctl":                               "-rwxr-xr-x",
		"/etc/pam-totp":                                   "drwxr-xr-x",
		"/etc/pam-totp/config.yaml":                       "-rw-r--r--",
		"/usr/share/man/man8/pam_totp.8.gz":               "-rw-r--r--",
		"/usr/share/man/man8/totpctl.8.gz":                "-rw-r--r--",
		"/usr/share/man/man5/pam-totp.yaml.5.gz":          "-rw-r--r--",
		"/usr/share/doc/pam-totp/copyright":               "-rw-r--r--",
		"/usr/share/doc/pam-totp/changelog.Debian.gz":     "-rw-r--r--",
		"/usr/share/doc/pam-totp/README.md":               "-rw-r--r--",
		"/usr/share/doc/pam-totp/examples/rollout.md":     "-rw-r--r--",
		"/usr/share/doc/pam-totp/examples/sshd/README.md": "-rw-r--r--",
	}
	for p, mode := range want {
		e, ok := files[p]
		if !ok {
			t.Errorf("%s is not in the package", p)
			continue
		}
		if e.mode != mode {
			t.Errorf("%s has mode %s, want %s", p, e.mode, mode)
		}
	}

	for p, e := range files {
		if e.owner != "root/root" {
			t.Errorf("%s is owned by %s, want root/root", p, e.owner)
		}
		if strings.ContainsAny(e.mode[1:], "sStT") || e.mode[8] == 'w' {
			t.Errorf("%s has mode %s: no setuid, setgid, sticky or world-writable files", p, e.mode)
		}
		// The package never edits the PAM stacks or sshd, never ships a
		// host key, and leaves the state directory to postinst.
		for _, bad := range []string{"/etc/pam.d", "/etc/ssh", "/var/lib/pam-totp"} {
			if p == bad || strings.HasPrefix(p, bad+"/") {
				t.Errorf("the package ships %s", p)
			}
		}
		if strings.Contains(filepath.Base(p), "host.key") {
			t.Errorf("the package ships a host key: %s", p)
		}
	}
}

func TestDebFiles(t *testing.T) {
	deb := builtDeb(t)
	ma := multiarch(t, deb)
	root := t.TempDir()
	run(t, "dpkg-deb", "-x", deb, root)

	got, err := os.ReadFile(filepath.Join(root, "etc/pam-totp/config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if want := readFile(t, configFile); string(got) != want {
		t.Errorf("the packaged config.yaml differs from %s", configFile)
	}

	// The packaged module must look for its Go library where the package
	// puts it.
	loader, err := os.ReadFile(filepath.Join(root, "lib", ma, "security/pam_totp.so"))
	if err != nil {
		t.Fatal(err)
	}
	if dir := "/usr/lib/" + ma + "/pam-totp"; !bytes.Contains(loader, []byte(dir)) {
		t.Errorf("the packaged pam_totp.so does not name %s: was it built from $(BUILD)/pkg?", dir)
	}

	for _, page := range []string{"man8/pam_totp.8.gz", "man8/totpctl.8.gz", "man5/pam-totp.yaml.5.gz"} {
		gz := filepath.Join(root, "usr/share/man", page)
		text := run(t, "gzip", "-dc", gz)
		src := readFile(t, filepath.Join("man", strings.TrimSuffix(filepath.Base(page), ".gz")))
		if text != src {
			t.Errorf("%s differs from its source in man/", page)
		}
	}
}

func TestDebMaintainerScripts(t *testing.T) {
	deb := builtDeb(t)
	dir := t.TempDir()
	run(t, "dpkg-deb", "-e", deb, dir)

	conffiles, err := os.ReadFile(filepath.Join(dir, "conffiles"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(conffiles), "/etc/pam-totp/config.yaml\n"; got != want {
		t.Errorf("conffiles is %q, want %q", got, want)
	}

	for _, name := range []string{"postinst", "prerm", "postrm"} {
		p := filepath.Join(dir, name)
		fi, err := os.Stat(p)
		if err != nil {
			t.Error(err)
			continue
		}
		if fi.Mode().Perm() != 0o755 {
			t.Errorf("%s has mode %v, want 0755", name, fi.Mode().Perm())
		}
		if out, err := exec.Command("sh", "-n", p).CombinedOutput(); err != nil {
			t.Errorf("sh -n %s: %v\n%s", name, err, out)
		}
	}
	post := readFile(t, filepath.Join(dir, "postinst"))
	if !strings.Contains(post, "totpctl init") {
		t.Error("postinst does not run 'totpctl init'")
	}
	postrm := readFile(t, filepath.Join(dir, "postrm"))
	for _, s := range []string{"/etc/pam-totp/host.key", "/etc/pam-totp/host.key.new", "/var/lib/pam-totp"} {
		if !strings.Contains(postrm, s) {
			t.Errorf("postrm does not remove %s on purge", s)
		}
	}
}

// lintian must find no errors. Its warnings are listed in the test log.
func TestDebLintian(t *testing.T) {
	deb := builtDeb(t)
	if _, err := exec.LookPath("lintian"); err != nil {
		t.Skip("lintian is not installed (Debian package lintian)")
	}
	out, err := exec.Command("lintian", "--fail-on", "error", deb).CombinedOutput()
	errors := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		switch {
		case strings.HasPrefix(line, "E: "):
			t.Errorf("lintian: %s", line)
			errors++
		case line != "":
			t.Logf("lintian: %s", line)
		}
	}
	if err != nil && errors == 0 {
		t.Errorf("lintian failed: %v\n%s", err, out)
	}
}

// The maintainer scripts, run by the real dpkg in a throw-away Debian
// container: see testdata/lifecycle.sh for what each step must keep or
// delete. It needs a Docker engine and a Debian image (PAM_TOTP_DEB_IMAGE,
// by default pam-totp-base:bookworm, which 'make docker-base' makes, and
// 'make test' too where an engine answers).
func TestDebLifecycle(t *testing.T) {
	deb := builtDeb(t)
	image := os.Getenv("PAM_TOTP_DEB_IMAGE")
	if image == "" {
		image = "pam-totp-base:bookworm"
	}
	if err := exec.Command("docker", "info").Run(); err != nil {
		skipUnlessCI(t, "no Docker engine answers ('docker info' failed)")
	}
	if err := exec.Command("docker", "image", "inspect", image).Run(); err != nil {
		skipUnlessCI(t, "no image %s: run 'make docker-base', or name a Debian image in PAM_TOTP_DEB_IMAGE", image)
	}
	debAbs, err := filepath.Abs(deb)
	if err != nil {
		t.Fatal(err)
	}
	script, err := filepath.Abs("testdata/lifecycle.sh")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("docker", "run", "--rm", "--label", "pam-totp-test=packaging",
		"-v", debAbs+":/pkg.deb:ro", "-v", script+":/lifecycle.sh:ro",
		image, "sh", "/lifecycle.sh").CombinedOutput()
	if err != nil {
		t.Fatalf("lifecycle in %s: %v\n%s", image, err, out)
	}
	if !strings.Contains(string(out), "lifecycle: ok") {
		t.Fatalf("lifecycle did not finish:\n%s", out)
	}
}
