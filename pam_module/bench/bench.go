package main

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pam-totp/pam-totp/core/otp"
	"github.com/pam-totp/pam-totp/core/policy"
	"github.com/pam-totp/pam-totp/pam_module/internal/pamrun"
)

// warmup is the number of users authenticated first in every warm run and
// not counted: the first call of a process loads what later calls reuse.
const warmup = 3

type options struct {
	build, out, stateFS string
	users, rounds, cold int
}

// module is one PAM module under test.
type module struct {
	name    string
	service string
	// reset restores user's state as it was after enrollment; nil for
	// a module without state.
	reset func(user string) error
	// replays is whether the module refuses a code used before.
	replays bool

	warmAccept, warmReplay, cold []time.Duration
	coldRSS, warmRSS             []int64 // KiB
	rounds                       []roundStats
}

// roundStats are the medians of one round, for the per-round ratios.
type roundStats struct {
	warmAccept, warmReplay, cold time.Duration
}

type bench struct {
	opts options

	mu       sync.Mutex
	cleanups []func()

	dir     string
	env     *pamrun.Env
	driver  string
	users   []string
	secrets map[string][]byte
	mods    []*module // pam_totp, pam_google_authenticator, pam_permit

	syslog      string // how syslog was provided
	syslogLines atomic.Int64
	started     time.Time
	loadStart   string
}

func (b *bench) atExit(f func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cleanups = append(b.cleanups, f)
}

// cleanup undoes the setup, last step first. It runs once.
func (b *bench) cleanup() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := len(b.cleanups) - 1; i >= 0; i-- {
		b.cleanups[i]()
	}
	b.cleanups = nil
}

func (b *bench) run() error {
	b.started, b.loadStart = time.Now(), loadavg()
	if err := b.setup(); err != nil {
		return err
	}
	for r := 0; r < b.opts.rounds; r++ {
		fmt.Fprintf(os.Stderr, "bench: round %d of %d\n", r+1, b.opts.rounds)
		if err := b.round(r); err != nil {
			return fmt.Errorf("round %d: %w", r+1, err)
		}
	}
	return b.report()
}

func (b *bench) setup() error {
	parent := b.opts.stateFS
	if parent == "" {
		parent = os.TempDir()
	}
	dir, err := os.MkdirTemp(parent, "pam-totp-bench-")
	if err != nil {
		return err
	}
	b.dir = dir
	b.atExit(func() { os.RemoveAll(dir) })

	if err := b.provideSyslog(); err != nil {
		return err
	}
	if b.driver, err = pamrun.CompileDriver(dir, false); err != nil {
		return err
	}
	loader, err := filepath.Abs(filepath.Join(b.opts.build, "pam_totp.so"))
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(b.opts.build, "pam_totp_go.so")); err != nil {
		return fmt.Errorf("%v (run make first)", err)
	}
	gaModule := "pam_google_authenticator.so"
	if _, err := os.Stat("/lib/" + multiarch() + "/security/" + gaModule); err != nil {
		return fmt.Errorf("%v: install the Debian package libpam-google-authenticator", err)
	}

	if err := os.Mkdir(filepath.Join(dir, "totp"), 0o700); err != nil {
		return err
	}
	if b.env, err = pamrun.NewEnv(filepath.Join(dir, "totp"), ""); err != nil {
		return err
	}
	if err := b.createUsers(warmup + b.opts.users); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "bench: enrolling %d users in both modules\n", len(b.users))
	totp, err := b.enrollTOTP(loader)
	if err != nil {
		return err
	}
	ga, err := b.enrollGA(gaModule)
	if err != nil {
		return err
	}
	permit := &module{name: "pam_permit", service: "bench-permit"}
	if err := b.env.Service(permit.service, "auth required pam_permit.so"); err != nil {
		return err
	}
	floor, err := b.goFloor(loader)
	if err != nil {
		return err
	}
	b.mods = []*module{totp, ga, permit, floor}
	return nil
}

// goFloor builds gofloor, a Go library that accepts at once, beside a copy
// of the loader: what the Go runtime costs by itself.
func (b *bench) goFloor(loader string) (*module, error) {
	dir := filepath.Join(b.dir, "gofloor")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(loader)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "pam_totp.so"), data, 0o755); err != nil {
		return nil, err
	}
	root, err := pamrun.Root()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("go", "build", "-trimpath", "-buildmode=c-shared",
		"-o", filepath.Join(dir, "pam_totp_go.so"), "./pam_module/bench/gofloor")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building gofloor: %v\n%s", err, out)
	}
	m := &module{name: "Go runtime alone", service: "bench-gofloor"}
	return m, b.env.Service(m.service, "auth required "+filepath.Join(dir, "pam_totp.so"))
}

// provideSyslog makes sure there is a socket at /dev/log. Without one,
// libpam modules write their log to /dev/console, which costs more than
// the rest of an authentication and would not be a fair comparison.
func (b *bench) provideSyslog() error {
	const path = "/dev/log"
	if _, err := os.Stat(path); err == nil {
		b.syslog = "the system's syslog socket, /dev/log"
		return nil
	}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("no /dev/log, and creating a listener there failed: %w", err)
	}
	if err := os.Chmod(path, 0o666); err != nil {
		conn.Close()
		os.Remove(path)
		return err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	b.syslog = "a throw-away listener at /dev/log that reads and drops every line " +
		"(the machine has no syslog daemon)"
	go func() {
		buf := make([]byte, 8192)
		for {
			if _, _, err := conn.ReadFrom(buf); err != nil {
				return
			}
			b.syslogLines.Add(1)
		}
	}()
	b.atExit(func() {
		conn.Close()
		// Remove the socket only if it is still ours.
		if now, err := os.Stat(path); err == nil && os.SameFile(fi, now) {
			os.Remove(path)
		}
	})
	return nil
}

// createUsers creates n system users without homes, which both modules
// need to exist, and removes them at the end.
func (b *bench) createUsers(n int) error {
	tag := make([]byte, 3)
	rand.Read(tag)
	prefix := "ptbench" + hex.EncodeToString(tag)
	fmt.Fprintf(os.Stderr, "bench: creating %d throw-away users %s-*\n", n, prefix)
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("%s-%03d", prefix, i)
		out, err := exec.Command("useradd", "--system", "--no-create-home", "--no-user-group",
			"--gid", "nogroup", "--shell", "/usr/sbin/nologin", name).CombinedOutput()
		if err != nil {
			return fmt.Errorf("useradd %s: %v: %s", name, err, out)
		}
		b.users = append(b.users, name)
		b.atExit(func() {
			if out, err := exec.Command("userdel", name).CombinedOutput(); err != nil {
				fmt.Fprintf(os.Stderr, "bench: userdel %s: %v: %s", name, err, out)
			}
		})
	}
	return nil
}

func (b *bench) enrollTOTP(loader string) (*module, error) {
	m := &module{name: "pam_totp", service: "bench-totp", replays: true}
	snapshot := map[string][]byte{}
	b.secrets = map[string][]byte{}
	for _, u := range b.users {
		en, err := b.env.Enroll(u, policy.EnrollOptions{})
		if err != nil {
			return nil, fmt.Errorf("enrolling %s: %w", u, err)
		}
		b.secrets[u] = en.State.Secret
		if snapshot[u], err = os.ReadFile(b.env.StatePath(u)); err != nil {
			return nil, err
		}
	}
	m.reset = func(u string) error { return writePrivate(b.env.StatePath(u), snapshot[u]) }
	err := b.env.Service(m.service, "auth required "+loader+" config="+b.env.ConfigFile)
	return m, err
}

// gaOptions are the options of google-authenticator's state files: replay
// protection, at most 3 logins in 30 s, and a window of 3 time steps.
const gaOptions = "\" RATE_LIMIT 3 30\n\" WINDOW_SIZE 3\n\" DISALLOW_REUSE\n\" TOTP_AUTH\n"

// enrollGA writes google-authenticator's state files with the same
// secrets, and replay protection and rate limiting on, as its own
// google-authenticator command would with -d -r 3 -R 30 -w 3 -t.
func (b *bench) enrollGA(gaModule string) (*module, error) {
	m := &module{name: "pam_google_authenticator", service: "bench-ga", replays: true}
	dir := filepath.Join(b.dir, "ga")
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, err
	}
	contents := map[string][]byte{}
	for _, u := range b.users {
		secret := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b.secrets[u])
		contents[u] = []byte(secret + "\n" + gaOptions)
	}
	m.reset = func(u string) error { return writePrivate(filepath.Join(dir, u), contents[u]) }
	for _, u := range b.users {
		if err := m.reset(u); err != nil {
			return nil, err
		}
	}
	err := b.env.Service(m.service, "auth required "+gaModule+" secret="+dir+"/${USER} user=root")
	return m, err
}

// writePrivate replaces path with data, mode 0600.
func writePrivate(path string, data []byte) error {
	tmp := path + ".bench-tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// code returns user's code for t: SHA1, 6 digits, 30 s, as both use.
func (b *bench) code(user string, t time.Time) string {
	return otp.TOTP(b.secrets[user], t, otp.Params{Algorithm: otp.SHA1, Digits: 6, Period: 30})
}

func (b *bench) round(r int) error {
	n := len(b.mods)
	order := make([]*module, n)
	for i := range order {
		order[i] = b.mods[(r+i)%n]
	}
	for _, m := range order {
		if err := b.warm(m); err != nil {
			return fmt.Errorf("%s, warm: %w", m.name, err)
		}
	}
	cold := make([][]time.Duration, n)
	for i := 0; i < b.opts.cold; i++ {
		for j, m := range order {
			d, err := b.coldOnce(m, b.users[warmup+i%b.opts.users])
			if err != nil {
				return fmt.Errorf("%s, cold: %w", m.name, err)
			}
			cold[j] = append(cold[j], d)
		}
	}
	for j, m := range order {
		m.rounds[len(m.rounds)-1].cold = median(cold[j])
	}
	return nil
}

// warm authenticates every user with a right code and then again with the
// same code, in one process.
func (b *bench) warm(m *module) error {
	if m.reset != nil {
		for _, u := range b.users {
			if err := m.reset(u); err != nil {
				return err
			}
		}
	}
	var lines strings.Builder
	now := time.Now()
	for pass := 0; pass < 2; pass++ {
		for _, u := range b.users {
			fmt.Fprintf(&lines, "%s %s\n", u, b.code(u, now))
		}
	}
	file := filepath.Join(b.dir, "warm-"+m.service)
	if err := os.WriteFile(file, []byte(lines.String()), 0o600); err != nil {
		return err
	}
	out, err := exec.Command(b.driver, "-d", b.env.ConfDir, "-s", m.service, "-B", file).Output()
	if err != nil {
		return fmt.Errorf("pamdrv: %v: %s", err, exitText(err))
	}
	tr := pamrun.Parse(string(out))
	samples := tr.All("bench")
	if len(samples) != 2*len(b.users) {
		return fmt.Errorf("pamdrv printed %d timings, want %d:\n%s",
			len(samples), 2*len(b.users), out)
	}
	var accept, replay []time.Duration
	for i, s := range samples {
		f := strings.Fields(s)
		ns, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || len(f) != 2 {
			return fmt.Errorf("bad timing line %q", s)
		}
		first := i < len(b.users)
		want := "PAM_SUCCESS"
		if !first && m.replays {
			want = "PAM_AUTH_ERR"
		}
		if f[1] != want {
			return fmt.Errorf("authentication %d of %s returned %s, want %s",
				i, b.users[i%len(b.users)], f[1], want)
		}
		if i%len(b.users) < warmup {
			continue
		}
		if first {
			accept = append(accept, time.Duration(ns))
		} else {
			replay = append(replay, time.Duration(ns))
		}
	}
	m.warmAccept = append(m.warmAccept, accept...)
	m.warmReplay = append(m.warmReplay, replay...)
	m.rounds = append(m.rounds, roundStats{warmAccept: median(accept), warmReplay: median(replay)})
	kb, err := peakRSS(tr)
	if err != nil {
		return err
	}
	m.warmRSS = append(m.warmRSS, kb)
	return nil
}

// coldOnce runs one authentication in a new process.
func (b *bench) coldOnce(m *module, user string) (time.Duration, error) {
	if m.reset != nil {
		if err := m.reset(user); err != nil {
			return 0, err
		}
	}
	cmd := exec.Command(b.driver, "-d", b.env.ConfDir, "-s", m.service, "-u", user,
		"-a", b.code(user, time.Now()))
	var out strings.Builder
	cmd.Stdout = &out
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("pamdrv: %v: %s", err, exitText(err))
	}
	tr := pamrun.Parse(out.String())
	if got := tr.Result(); got != "PAM_SUCCESS" {
		return 0, fmt.Errorf("user %s: %s, want PAM_SUCCESS:\n%s", user, got, out.String())
	}
	kb, err := peakRSS(tr)
	if err != nil {
		return 0, err
	}
	m.coldRSS = append(m.coldRSS, kb)
	m.cold = append(m.cold, d)
	return d, nil
}

// peakRSS returns the peak resident set size the driver reported, in KiB.
func peakRSS(tr *pamrun.Transcript) (int64, error) {
	v := tr.All("peak-rss")
	if len(v) != 1 {
		return 0, fmt.Errorf("pamdrv reported no peak-rss")
	}
	kb, err := strconv.ParseInt(v[0], 10, 64)
	if err != nil || kb <= 0 {
		return 0, fmt.Errorf("pamdrv reported peak-rss %q", v[0])
	}
	return kb, nil
}

func exitText(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(ee.Stderr)
	}
	return ""
}

func multiarch() string {
	out, err := exec.Command("cc", "-print-multiarch").Output()
	if err != nil {
		return "x86_64-linux-gnu"
	}
	return strings.TrimSpace(string(out))
}
