package main

import (
	"bytes"
	"debug/buildinfo"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"
)

// notesMarker starts the hand-written part of docs/bench.md, which the
// benchmark keeps when it rewrites the file.
const notesMarker = "<!-- Hand-written notes below; make bench keeps them. -->"

const introText = `Written by ` + "`make bench`" + ` (pam_module/bench) on %s in %s, with the state files
of both modules on %s. Every number below comes from that one run, in which the modules took
turns (see Method). Two references: pam_permit, which checks nothing, shows what libpam and the
driver cost by themselves; "Go runtime alone" is a Go library that accepts at once, opened by
pam_totp's loader (pam_module/bench/gofloor): the floor under any module whose logic is in Go.

`

const methodText = `
## Method

- One C driver (pam_module/testdrv/driver.c, built without its syslog capture) runs the real
  libpam with ` + "`pam_start_confdir`" + ` on a service file per module, answers the module's prompt
  with the code, and times ` + "`pam_authenticate`" + ` with ` + "`CLOCK_MONOTONIC`" + `.
- Both modules check the same secrets (SHA1, 6 digits, 30 s), with replay protection and a
  failure limit on: pam_totp with its defaults (window 1, ` + "`max_failures`" + ` 10, state sealed
  with XChaCha20-Poly1305, each accepted code written with fsync of the file and its folder);
  pam_google_authenticator with ` + "`DISALLOW_REUSE`, `RATE_LIMIT 3 30`, `WINDOW_SIZE 3`" + ` in a
  plain-text state file per user (` + "`secret=DIR/${USER} user=root`" + `). pam_totp's state files
  carry 10 backup code hashes each, as after a real enrollment.
- A code is accepted only once, so a warm run cannot repeat one user. Each warm run
  authenticates %d throw-away system users in turn with one PAM handle in one process, each
  with its current code, then all of them again with the same codes, which both modules refuse
  as replays: the first pass measures the accepted path, the second the refused-replay path
  (which for pam_google_authenticator still rewrites the file for its rate limit, and for
  pam_totp reads only). The first %d users of each pass are not counted. All state files are
  restored from a copy before each warm run and each cold authentication.
- Cold: a new driver process per authentication, timed from the parent from start to exit, so
  it includes exec, dynamic linking, libpam reading the service file, loading the module and,
  for pam_totp, opening the Go library and starting its runtime. Peak memory is the process's
  peak resident set size as the kernel counts it (VmHWM in /proc/self/status, read by the
  driver as it ends); getrusage's maxrss would also count the pages of the process that forked
  it.
- %d rounds; in each, the four modules take their warm turns in rotating order, then their
  cold turns one authentication each in turn, %d times, so that noise on the machine falls on
  all of them.
- Syslog: %s; %d lines were received.
- Load average of the machine (1, 5, 15 min) at the start: %s; at the end: %s.
`

// Targets, as ratios or differences against pam_google_authenticator.
const (
	targetWarm   = 1.0
	targetCold   = 1.5
	targetMemMiB = 6.0
)

func median(d []time.Duration) time.Duration { return percentile(d, 50) }

func percentile(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[(len(s)-1)*p/100]
}

func medianInt(v []int64) int64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]int64(nil), v...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[(len(s)-1)/2]
}

func maxInt(v []int64) int64 {
	var m int64
	for _, x := range v {
		m = max(m, x)
	}
	return m
}

func us(d time.Duration) string {
	return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
}

func mib(kb int64) string { return fmt.Sprintf("%.1f MiB", float64(kb)/1024) }

func ratio(a, b time.Duration) float64 { return float64(a) / float64(b) }

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}

func (b *bench) report() error {
	totp, ga, permit, floor := b.mods[0], b.mods[1], b.mods[2], b.mods[3]
	var w bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&w, format, args...) }

	p("# Benchmark: pam_totp and pam_google_authenticator\n\n")
	p(introText, b.started.UTC().Format("2006-01-02 15:04 MST"), time.Since(b.started).Round(time.Second),
		fsType(b.dir))
	p("## Results\n\n")
	p("| | pam_totp | pam_google_authenticator | pam_totp / google | target | | pam_permit " +
		"| Go runtime alone |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n")
	row := func(what string, f func(*module) time.Duration, target float64) {
		r := ratio(f(totp), f(ga))
		p("| %s | %s | %s | %.2f× | ≤ %.1f× | %s | %s | %s |\n", what, us(f(totp)), us(f(ga)),
			r, target, verdict(r <= target), us(f(permit)), us(f(floor)))
	}
	row("warm: accepted code, median per authentication",
		func(m *module) time.Duration { return median(m.warmAccept) }, targetWarm)
	row("warm: replayed code refused, median per authentication",
		func(m *module) time.Duration { return median(m.warmReplay) }, targetWarm)
	row("cold: one process per authentication, median",
		func(m *module) time.Duration { return median(m.cold) }, targetCold)
	memRow := func(what string, f func(*module) int64) {
		d := float64(f(totp)-f(ga)) / 1024
		p("| %s | %s | %s | %+.1f MiB | ≤ +%.0f MiB | %s | %s | %s |\n", what, mib(f(totp)),
			mib(f(ga)), d, targetMemMiB, verdict(d <= targetMemMiB), mib(f(permit)), mib(f(floor)))
	}
	memRow("peak memory (max RSS), cold process, median",
		func(m *module) int64 { return medianInt(m.coldRSS) })
	memRow(fmt.Sprintf("peak memory (max RSS), warm process after %d authentications, highest",
		2*len(b.users)), func(m *module) int64 { return maxInt(m.warmRSS) })
	p("\nSpread (10th and 90th percentiles):\n\n")
	p("| | pam_totp | pam_google_authenticator | pam_permit | Go runtime alone |\n")
	p("| --- | --- | --- | --- | --- |\n")
	spread := func(what string, f func(*module) []time.Duration) {
		p("| %s", what)
		for _, m := range b.mods {
			p(" | %s – %s", us(percentile(f(m), 10)), us(percentile(f(m), 90)))
		}
		p(" |\n")
	}
	spread("warm, accepted", func(m *module) []time.Duration { return m.warmAccept })
	spread("warm, replay refused", func(m *module) []time.Duration { return m.warmReplay })
	spread("cold", func(m *module) []time.Duration { return m.cold })

	p("\nRatio pam_totp / pam_google_authenticator of the medians of each round:\n\n")
	p("| round | warm, accepted | warm, replay refused | cold |\n| --- | --- | --- | --- |\n")
	for i := range totp.rounds {
		t, g := totp.rounds[i], ga.rounds[i]
		p("| %d | %.2f× | %.2f× | %.2f× |\n", i+1, ratio(t.warmAccept, g.warmAccept),
			ratio(t.warmReplay, g.warmReplay), ratio(t.cold, g.cold))
	}

	p(methodText, len(b.users), warmup, b.opts.rounds, b.opts.cold, b.syslog, b.syslogLines.Load(),
		b.loadStart, loadavg())
	p("\n## Machine\n\n")
	for _, l := range b.machine() {
		p("- %s\n", l)
	}

	p("\n%s\n", notesMarker)
	notes := b.keptNotes()
	p("%s", notes)

	if err := os.MkdirAll(filepath.Dir(b.opts.out), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(b.opts.out, w.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "bench: wrote %s\n", b.opts.out)
	os.Stdout.Write(w.Bytes()[:bytes.Index(w.Bytes(), []byte("\n## Method"))])
	return nil
}

// loadavg returns the first three fields of /proc/loadavg.
func loadavg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], ", ")
}

// keptNotes returns the hand-written notes of the current file, if any.
func (b *bench) keptNotes() string {
	old, err := os.ReadFile(b.opts.out)
	if err != nil {
		return ""
	}
	_, notes, ok := bytes.Cut(old, []byte(notesMarker+"\n"))
	if !ok {
		return ""
	}
	return string(notes)
}

func (b *bench) machine() []string {
	var lines []string
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(l, "model name") {
				_, v, _ := strings.Cut(l, ":")
				cpu := fmt.Sprintf("CPU: %s, %d logical CPUs", strings.TrimSpace(v), runtime.NumCPU())
				lines = append(lines, cpu)
				break
			}
		}
	}
	var u syscall.Utsname
	if syscall.Uname(&u) == nil {
		lines = append(lines, "Linux "+utsString(u.Release[:]))
	}
	lines = append(lines, "state files on "+fsType(b.dir)+" ("+b.dir+", removed after the run)")
	for _, pkg := range []string{"libpam0g", "libpam-google-authenticator"} {
		out, err := exec.Command("dpkg-query", "-W", "-f", "${Package} ${Version}", pkg).Output()
		if err == nil {
			lines = append(lines, string(out))
		}
	}
	lib := filepath.Join(b.opts.build, "pam_totp_go.so")
	if bi, err := buildinfo.ReadFile(lib); err == nil {
		lines = append(lines, "pam_totp_go.so built with "+bi.GoVersion)
	} else {
		lines = append(lines, fmt.Sprintf("pam_totp_go.so: no Go build information (%v)", err))
	}
	return lines
}

func utsString(b []int8) string {
	var s []byte
	for _, c := range b {
		if c == 0 {
			break
		}
		s = append(s, byte(c))
	}
	return string(s)
}

func fsType(path string) string {
	var st syscall.Statfs_t
	if syscall.Statfs(path, &st) != nil {
		return "an unknown file system"
	}
	switch st.Type {
	case 0xEF53:
		return "ext4"
	case 0x01021994:
		return "tmpfs"
	case 0x58465342:
		return "xfs"
	case 0x9123683E:
		return "btrfs"
	case 0x794c7630:
		return "overlayfs"
	}
	return fmt.Sprintf("file system type %#x", st.Type)
}
