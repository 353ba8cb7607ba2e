package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"syscall"

	"github.com/pam-totp/pam-totp/core/config"
	"github.com/pam-totp/pam-totp/core/otp"
	"github.com/pam-totp/pam-totp/core/policy"
	"github.com/pam-totp/pam-totp/core/store"
)

var doctorSpec = &spec{
	name:    "doctor",
	args:    "[SERVICE...]",
	summary: "check the whole setup and say how to fix what is wrong",
	help: `Check the whole setup and print one line per check: ok, WARN or FAIL, with
what to do about it. It checks that the configuration parses and is
writable by root only; the owners and modes of the host key, its directory
and the state directory; that every state file opens with the host key;
the PAM service files, which should each name pam_totp.so in an auth line
(sshd and sudo, or the SERVICEs given; @include and include lines are
followed); that the module and its library are installed; sshd's effective
configuration as 'sshd -T' prints it (UsePAM, KbdInteractiveAuthentication,
and AuthenticationMethods, which must ask for keyboard-interactive); and
whether the clock is synchronised, as 'timedatectl' reports it.

The sshd checks are failures only if sshd's PAM service uses pam_totp.so.
'sshd -T' does not apply Match blocks: check those by hand. Exit status 1
if any check fails.`,
	examples: []string{
		progName + " doctor",
		progName + " doctor sshd sudo su",
		progName + " doctor --sshd '/usr/sbin/sshd -T -f /etc/ssh/sshd_config.test'",
	},
	maxArgs: 64,
	new:     newDoctorCmd,
}

type doctorCmd struct {
	pamDir      string
	sshd        string
	moduleDir   string
	libDir      string
	timedatectl string
}

func newDoctorCmd() runner {
	arch := multiarch()
	return &doctorCmd{
		pamDir:      "/etc/pam.d",
		sshd:        "/usr/sbin/sshd -T",
		moduleDir:   "/lib/" + arch + "/security",
		libDir:      "/usr/lib/" + arch + "/pam-totp",
		timedatectl: "timedatectl",
	}
}

func (c *doctorCmd) define(fs *flag.FlagSet) {
	fs.StringVar(&c.pamDir, "pam-dir", c.pamDir, "read the PAM service files from `DIR`")
	fs.StringVar(&c.sshd, "sshd", c.sshd, "run `COMMAND` (split at spaces) to print sshd's effective configuration")
	fs.StringVar(&c.moduleDir, "module-dir", c.moduleDir, "look for pam_totp.so in `DIR`")
	fs.StringVar(&c.libDir, "lib-dir", c.libDir, "look for the module's library, pam_totp_go.so, in `DIR`")
	fs.StringVar(&c.timedatectl, "timedatectl", c.timedatectl, "run `COMMAND` (split at spaces) to ask whether the clock is synchronised")
}

// multiarch returns Debian's name for this machine's architecture, as in
// /lib/x86_64-linux-gnu.
func multiarch() string {
	switch runtime.GOARCH {
	case "amd64":
		return "x86_64-linux-gnu"
	case "arm64":
		return "aarch64-linux-gnu"
	case "386":
		return "i386-linux-gnu"
	case "arm":
		return "arm-linux-gnueabihf"
	case "ppc64le":
		return "powerpc64le-linux-gnu"
	case "s390x":
		return "s390x-linux-gnu"
	case "riscv64":
		return "riscv64-linux-gnu"
	}
	return runtime.GOARCH + "-linux-gnu"
}

// level is the outcome of one check.
type level int

const (
	levelOK level = iota
	levelWarn
	levelFail
)

var levelNames = [...]string{"ok  ", "WARN", "FAIL"}

// report prints the checks' lines and counts them.
type report struct {
	w      io.Writer
	counts [3]int
}

func (r *report) add(l level, topic, format string, args ...any) {
	r.counts[l]++
	fmt.Fprintf(r.w, "%s  %-10s %s\n", levelNames[l], topic, fmt.Sprintf(format, args...))
}

func (r *report) ok(topic, format string, args ...any) {
	r.add(levelOK, topic, format, args...)
}

func (r *report) warn(topic, format string, args ...any) {
	r.add(levelWarn, topic, format, args...)
}

func (r *report) fail(topic, format string, args ...any) {
	r.add(levelFail, topic, format, args...)
}

func (c *doctorCmd) run(a *app, args []string) error {
	r := &report{w: a.stdout}
	services := args
	if len(services) == 0 {
		services = []string{"sshd", "sudo"}
	}

	cfg := c.checkConfig(r, a)
	if cfg != nil {
		keyOK := c.checkKey(r, cfg.KeyFile)
		dirOK := c.checkStateDir(r, cfg.StateDir)
		if keyOK && dirOK {
			c.checkStateFiles(r, cfg)
		}
	}
	uses := c.checkPAM(r, services)
	c.checkModule(r, uses)
	c.checkSSHD(r, uses["sshd"] != nil)
	c.checkClock(r)

	fmt.Fprintf(a.stdout, "%s ok, %s, %s\n", count(r.counts[levelOK], ""),
		count(r.counts[levelWarn], "warning"), count(r.counts[levelFail], "failure"))
	if r.counts[levelFail] > 0 {
		return errReported
	}
	return nil
}

// checkConfig parses the configuration and checks who may change it.
func (c *doctorCmd) checkConfig(r *report, a *app) *config.Config {
	path := a.configPath
	if err := a.missingConfig(); err != nil {
		r.fail("config", "%v", err)
		return nil
	}
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		r.warn("config", "%s does not exist: the built-in defaults apply; write one to make them explicit (see pam-totp.yaml(5))", path)
		return config.Default()
	}
	if err != nil {
		r.fail("config", "%v", err)
		return nil
	}
	cfg, err := config.Load(path)
	var unsafe *config.UnsafeError
	if errors.As(err, &unsafe) {
		// The module and totpctl refuse the file for this reason. Read a
		// regular file all the same, to check the rest of the setup it
		// describes; never follow a link.
		r.fail("config", "%v", err)
		if !fi.Mode().IsRegular() {
			return nil
		}
		if data, err := os.ReadFile(path); err == nil {
			cfg, _ = config.Parse(data)
		}
		return cfg
	}
	if err != nil {
		r.fail("config", "%v; fix the line it names", err)
		return nil
	}
	// Load accepts a file of the user it runs as; only root's is right.
	if problem := rootOnly(fi, 0o022, "writable by group or others"); problem != "" {
		r.fail("config", "%s is %s: whoever can change it can turn nullok on; fix with: chown root:root %s && chmod go-w %s", path, problem, path, path)
	} else {
		r.ok("config", "%s parses and only root can change it", path)
	}
	return cfg
}

// rootOnly returns what is wrong with fi for a root-owned file without the
// bits bad, or "".
func rootOnly(fi fs.FileInfo, bad fs.FileMode, what string) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "of unknown owner"
	}
	if st.Uid != 0 {
		return fmt.Sprintf("owned by uid %d, not root", st.Uid)
	}
	if fi.Mode().Perm()&bad != 0 {
		return fmt.Sprintf("mode %04o, %s", fi.Mode().Perm(), what)
	}
	return ""
}

func (c *doctorCmd) checkKey(r *report, path string) bool {
	good := c.checkKeyDir(r, filepath.Dir(path))
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		r.fail("host key", "%s does not exist: every login fails; fix with: %s init", path, progName)
		return false
	case err != nil:
		r.fail("host key", "%v", err)
		return false
	case !fi.Mode().IsRegular():
		r.fail("host key", "%s is not a regular file (a symbolic link?): replace it with the key file itself", path)
		return false
	}
	if problem := rootOnly(fi, 0o077, "open to group or others"); problem != "" {
		r.fail("host key", "%s is %s: fix with: chown root:root %s && chmod 0400 %s", path, problem, path, path)
		return false
	}
	if fi.Size() != store.KeySize {
		r.fail("host key", "%s has %d bytes, not %d: it is not a host key; restore it from a backup", path, fi.Size(), store.KeySize)
		return false
	}
	if fi.Mode().Perm() != 0o400 {
		r.warn("host key", "%s has mode %04o: 0400 is safer; fix with: chmod 0400 %s", path, fi.Mode().Perm(), path)
	} else if good {
		r.ok("host key", "%s is owned by root, mode 0400", path)
	}
	if _, err := os.Lstat(path + store.NewKeySuffix); err == nil {
		r.warn("host key", "%s exists: a key rotation was interrupted; finish it with: %s rekey", path+store.NewKeySuffix, progName)
	}
	return true
}

func (c *doctorCmd) checkKeyDir(r *report, dir string) bool {
	fi, err := os.Stat(dir)
	if err != nil {
		return true // reported with the key
	}
	if problem := rootOnly(fi, 0o022, "writable by group or others"); problem != "" {
		r.fail("host key", "%s, the host key's directory, is %s: others could replace the key; fix with: chown root %s && chmod go-w %s", dir, problem, dir, dir)
		return false
	}
	return true
}

func (c *doctorCmd) checkStateDir(r *report, dir string) bool {
	fi, err := os.Lstat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		r.fail("state dir", "%s does not exist: every login fails; fix with: %s init", dir, progName)
		return false
	case err != nil:
		r.fail("state dir", "%v", err)
		return false
	case !fi.IsDir():
		r.fail("state dir", "%s is not a directory (a symbolic link?): make it a real directory, owned by root, mode 0700", dir)
		return false
	}
	if problem := rootOnly(fi, 0o022, "writable by group or others"); problem != "" {
		r.fail("state dir", "%s is %s: fix with: chown root:root %s && chmod 0700 %s", dir, problem, dir, dir)
		return false
	}
	if fi.Mode().Perm() != 0o700 {
		r.warn("state dir", "%s has mode %04o: 0700 hides who is enrolled; fix with: chmod 0700 %s", dir, fi.Mode().Perm(), dir)
		return true
	}
	r.ok("state dir", "%s is owned by root, mode 0700", dir)
	return true
}

// checkStateFiles opens every state file with the host key.
func (c *doctorCmd) checkStateFiles(r *report, cfg *config.Config) {
	v, err := policy.New(cfg)
	if err != nil {
		r.fail("users", "%v", err)
		return
	}
	users, err := v.Store.Users()
	if err != nil {
		r.fail("users", "%v", err)
		return
	}
	opened := 0
	for _, name := range users {
		st, err := v.Status(name)
		if errors.Is(err, policy.ErrNotEnrolled) {
			continue
		}
		if err != nil {
			// The store's errors say what to do.
			r.fail("users", "%v", err)
			continue
		}
		opened++
		if otp.CheckStrength(st.Secret) != nil {
			r.warn("users", "%s's secret has %d bits, under 128: enroll anew: %s enroll --force %s", name, 8*len(st.Secret), progName, name)
		}
		var unknown user.UnknownUserError
		if _, err := user.Lookup(name); errors.As(err, &unknown) {
			r.warn("users", "%s is enrolled but is no user of this system: remove with: %s remove %s", name, progName, name)
		}
	}
	if opened == len(users) {
		r.ok("users", "%d state files open with the host key", opened)
	}
}

// count writes n and a noun in the singular or plural.
func count(n int, noun string) string {
	if noun == "" {
		return fmt.Sprint(n)
	}
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
