package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

const moduleName = "pam_totp.so"

// pamEntry is one auth line of a PAM service that names pam_totp.so.
type pamEntry struct {
	file    string
	line    int
	control string
	module  string
	args    []string
}

// checkPAM reports, for each service, whether its auth stack names
// pam_totp.so. It returns the first such line of each service that has
// one.
func (c *doctorCmd) checkPAM(r *report, services []string) map[string]*pamEntry {
	uses := map[string]*pamEntry{}
	for _, svc := range services {
		topic := "pam " + svc
		path := filepath.Join(c.pamDir, svc)
		if strings.ContainsRune(svc, '/') {
			r.fail(topic, "%q is not a PAM service name", svc)
			continue
		}
		entries, err := c.pamAuthEntries(path, 0, map[string]bool{})
		if errors.Is(err, fs.ErrNotExist) {
			r.fail(topic, "%s does not exist: is %s installed? name the services to check as arguments", path, svc)
			continue
		}
		if err != nil {
			r.fail(topic, "%v", err)
			continue
		}
		if len(entries) == 0 {
			r.fail(topic, "%s does not name %s in an auth line: %s logins ask for no code; add one as pam_totp(8) shows", path, moduleName, svc)
			continue
		}
		e := entries[0]
		uses[svc] = &e
		c.judgeEntry(r, topic, e)
	}
	return uses
}

func (c *doctorCmd) judgeEntry(r *report, topic string, e pamEntry) {
	where := fmt.Sprintf("%s line %d", e.file, e.line)
	for _, arg := range e.args {
		if arg == "nullok" {
			r.warn(topic, "%s: nullok lets users who are not enrolled log in without a code; enroll everyone, then remove it", where)
			return
		}
	}
	switch e.control {
	case "sufficient":
		r.warn(topic, "%s: 'sufficient' lets a right code alone log in and a wrong one fall through to the next module; use 'required'", where)
	case "optional":
		r.warn(topic, "%s: 'optional' does not enforce the code; use 'required'", where)
	default:
		r.ok(topic, "%s: auth %s %s", where, e.control, e.module)
	}
}

// pamAuthEntries returns the auth lines naming pam_totp.so in the PAM file
// at path and the files it includes.
func (c *doctorCmd) pamAuthEntries(path string, depth int,
	seen map[string]bool) ([]pamEntry, error) {
	if depth > 10 || seen[path] {
		return nil, fmt.Errorf("%s: includes nest too deep or in a loop", path)
	}
	seen[path] = true
	defer delete(seen, path)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}

	var out []pamEntry
	for _, line := range pamLines(data) {
		n := line.n
		fields := pamFields(line.text)
		if len(fields) == 0 {
			continue
		}
		var sub []pamEntry
		switch {
		case fields[0] == "@include" && len(fields) > 1:
			sub, err = c.pamAuthEntries(filepath.Join(c.pamDir, fields[1]), depth+1, seen)
		case len(fields) < 3:
			continue
		case strings.TrimPrefix(fields[0], "-") != "auth":
			continue
		case fields[1] == "include" || fields[1] == "substack":
			sub, err = c.pamAuthEntries(filepath.Join(c.pamDir, fields[2]), depth+1, seen)
		case filepath.Base(fields[2]) == moduleName:
			out = append(out, pamEntry{path, n, fields[1], fields[2], fields[3:]})
		}
		if err != nil {
			return nil, err
		}
		out = append(out, sub...)
	}
	return out, nil
}

// pamLine is one logical line of a PAM file and the number of its first
// physical line.
type pamLine struct {
	n    int
	text string
}

// pamLines returns the lines of a PAM file with comments removed and
// continuation lines joined.
func pamLines(data []byte) []pamLine {
	var lines []pamLine
	sc := bufio.NewScanner(bytes.NewReader(data))
	start, cur := 0, ""
	for n := 1; sc.Scan(); n++ {
		text := sc.Text()
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		if cur == "" {
			start = n
		}
		if s, ok := strings.CutSuffix(text, `\`); ok {
			cur += s + " "
			continue
		}
		cur += text
		lines = append(lines, pamLine{start, cur})
		cur = ""
	}
	if cur != "" {
		lines = append(lines, pamLine{start, cur})
	}
	return lines
}

// pamFields splits a PAM line into fields, keeping a bracketed control
// such as [success=1 default=ignore] as one.
func pamFields(line string) []string {
	var fields []string
	for {
		line = strings.TrimSpace(line)
		if line == "" {
			return fields
		}
		if line[0] == '[' {
			end := strings.IndexByte(line, ']')
			if end < 0 {
				end = len(line) - 1
			}
			fields = append(fields, line[:end+1])
			line = line[end+1:]
			continue
		}
		end := strings.IndexAny(line, " \t")
		if end < 0 {
			end = len(line)
		}
		fields = append(fields, line[:end])
		line = line[end:]
	}
}

// checkModule checks the installed module and its library. Missing files
// are failures when a PAM service uses the module.
func (c *doctorCmd) checkModule(r *report, uses map[string]*pamEntry) {
	sev := r.warn
	if len(uses) > 0 {
		sev = r.fail
	}
	paths := []string{filepath.Join(c.moduleDir, moduleName), filepath.Join(c.libDir, "pam_totp_go.so")}
	for _, e := range uses {
		if filepath.IsAbs(e.module) && !contains(paths, e.module) {
			paths = append(paths, e.module)
		}
	}
	for _, p := range paths {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			sev("module", "%s does not exist: install the pam-totp package", p)
			continue
		}
		if err != nil {
			sev("module", "%v", err)
			continue
		}
		if problem := rootOnly(fi, 0o022, "writable by group or others"); problem != "" {
			r.fail("module", "%s is %s: whoever can change it can log in as anyone; fix with: chown root:root %s && chmod 0644 %s", p, problem, p, p)
			continue
		}
		r.ok("module", "%s is installed and only root can change it", p)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// runCommand runs a command line split at spaces and returns its output.
func runCommand(cmdline string) (stdout, stderr string, err error) {
	argv := strings.Fields(cmdline)
	if len(argv) == 0 {
		return "", "", errors.New("empty command")
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	return out.String(), strings.TrimSpace(errb.String()), err
}

// checkSSHD reads sshd's effective configuration. Its problems are
// failures only if sshd's PAM service uses pam_totp.so.
func (c *doctorCmd) checkSSHD(r *report, used bool) {
	sev := r.warn
	if used {
		sev = r.fail
	}
	out, errText, err := runCommand(c.sshd)
	if notFound(err) {
		sev("sshd", "%q not found: sshd is not checked", c.sshd)
		return
	}
	if err != nil {
		if errText == "" {
			errText = err.Error()
		}
		sev("sshd", "%q failed: %s; sshd would not start either: fix its configuration", c.sshd, firstLine(errText))
		return
	}
	opts := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(line), " ")
		opts[strings.ToLower(k)] = strings.TrimSpace(v)
	}

	if opts["usepam"] == "yes" {
		r.ok("sshd", "UsePAM yes")
	} else {
		sev("sshd", "UsePAM is %q: sshd does not call PAM, so it asks for no code; set UsePAM yes in /etc/ssh/sshd_config", opts["usepam"])
	}
	kbd, ok := opts["kbdinteractiveauthentication"]
	if !ok {
		kbd = opts["challengeresponseauthentication"]
	}
	if kbd == "yes" {
		r.ok("sshd", "KbdInteractiveAuthentication yes")
	} else {
		sev("sshd", "KbdInteractiveAuthentication is %q: sshd cannot prompt for the code; set KbdInteractiveAuthentication yes (check drop-ins in /etc/ssh/sshd_config.d too)", kbd)
	}
	c.checkAuthMethods(r, sev, opts)
}

type severity func(topic, format string, args ...any)

func (c *doctorCmd) checkAuthMethods(r *report, sev severity, opts map[string]string) {
	methods := opts["authenticationmethods"]
	if methods == "" || methods == "any" {
		var bypass []string
		for _, m := range []string{"pubkeyauthentication", "hostbasedauthentication", "gssapiauthentication"} {
			if opts[m] == "yes" {
				bypass = append(bypass, m)
			}
		}
		if len(bypass) > 0 {
			sev("sshd", "AuthenticationMethods any: with %s on, logins without a code are possible; set AuthenticationMethods publickey,keyboard-interactive (or keyboard-interactive)",
				strings.Join(bypass, ", "))
			return
		}
		r.ok("sshd", "AuthenticationMethods any, and only keyboard-interactive and password are on")
		return
	}
	var with, without []string
	for _, list := range strings.Fields(methods) {
		if hasKbdInteractive(list) {
			with = append(with, list)
		} else {
			without = append(without, list)
		}
	}
	switch {
	case len(with) == 0:
		sev("sshd", "AuthenticationMethods %s: no list includes keyboard-interactive, so no login asks for a code; use publickey,keyboard-interactive", methods)
	case len(without) > 0:
		r.warn("sshd", "AuthenticationMethods: %s logs in without a code; add keyboard-interactive to it or remove it", strings.Join(without, " and "))
	default:
		r.ok("sshd", "AuthenticationMethods %s: every list includes keyboard-interactive", methods)
	}
}

func hasKbdInteractive(list string) bool {
	for _, m := range strings.Split(list, ",") {
		if m == "keyboard-interactive" || strings.HasPrefix(m, "keyboard-interactive:") {
			return true
		}
	}
	return false
}

// notFound reports whether err means the program does not exist.
func notFound(err error) bool {
	return errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// checkClock asks timedatectl whether the clock is synchronised.
func (c *doctorCmd) checkClock(r *report) {
	out, errText, err := runCommand(c.timedatectl + " show -p NTPSynchronized")
	if notFound(err) {
		r.warn("clock", "cannot tell whether the clock is synchronised (no %s): make sure NTP runs, since codes depend on the time", c.timedatectl)
		return
	}
	if err != nil {
		if errText == "" {
			errText = err.Error()
		}
		r.warn("clock", "cannot tell whether the clock is synchronised (%s: %s): make sure NTP runs, since codes depend on the time", c.timedatectl, firstLine(errText))
		return
	}
	switch strings.TrimSpace(out) {
	case "NTPSynchronized=yes":
		r.ok("clock", "the clock is synchronised (NTP)")
	case "NTPSynchronized=no":
		r.warn("clock", "the clock is not synchronised: once it drifts, right codes are refused; turn NTP on (timedatectl set-ntp true)")
	default:
		r.warn("clock", "cannot tell whether the clock is synchronised: %s printed %q", c.timedatectl, strings.TrimSpace(out))
	}
}
