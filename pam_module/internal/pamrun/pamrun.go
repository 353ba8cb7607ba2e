// Package pamrun runs the real libpam on pam_totp for the tests and the
// benchmark of pam_module: it finds or builds the artifacts, compiles the
// C driver (pam_module/testdrv/driver.c), runs it on a PAM service in a
// private directory, and reads what it printed.
package pamrun

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// Root returns the root of the repository: the nearest directory above the
// working directory that holds go.mod.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("pamrun: no go.mod above the working directory")
		}
		dir = parent
	}
}

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

// BuildDir returns the directory with the built module: $PAM_TOTP_BUILD,
// which `make test` sets, or else a temporary directory that this process
// builds the module into with make, once.
func BuildDir() (string, error) {
	if dir := os.Getenv("PAM_TOTP_BUILD"); dir != "" {
		return dir, nil
	}
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "pam-totp-build-"); buildErr != nil {
			return
		}
		buildErr = Make(buildDir, filepath.Join(buildDir, "pam_totp.so"),
			filepath.Join(buildDir, "pam_totp_go.so"))
		if buildErr != nil {
			buildErr = fmt.Errorf("PAM_TOTP_BUILD is not set, and building the module failed: %w",
				buildErr)
		}
	})
	return buildDir, buildErr
}

// RemoveTempBuild removes the directory that BuildDir built into, if it
// built one.
func RemoveTempBuild() {
	if os.Getenv("PAM_TOTP_BUILD") == "" && buildDir != "" {
		os.RemoveAll(buildDir)
	}
}

// Artifact returns the path of name in the build directory, making it
// first if it is missing (the test builds are made only on demand).
func Artifact(name string) (string, error) {
	dir, err := BuildDir()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, name)
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if err := Make(abs, filepath.Join(abs, name)); err != nil {
		return "", fmt.Errorf("%s is missing and making it failed: %w", path, err)
	}
	return path, nil
}

// Make runs make in the repository root with BUILD=buildDir.
func Make(buildDir string, targets ...string) error {
	root, err := Root()
	if err != nil {
		return err
	}
	args := append([]string{"-C", root, "BUILD=" + buildDir}, targets...)
	out, err := exec.Command("make", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("make %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// CompileDriver compiles the C driver into dir. With capture, it takes the
// syslog lines of libpam and the modules and prints them (tests); without,
// they go to the system's syslog socket (benchmark).
func CompileDriver(dir string, capture bool) (string, error) {
	root, err := Root()
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "pamdrv")
	var args []string
	if capture {
		out += "-capture"
		args = append(args, "-DPAMDRV_CAPTURE_SYSLOG")
	}
	args = append(args, "-O2", "-Wall", "-Wextra", "-Werror", "-o", out,
		filepath.Join(root, "pam_module/testdrv/driver.c"), "-lpam", "-ldl")
	return out, cc(args...)
}

// CompileTestModule compiles testdrv/testmod.c, a stand-in password module,
// into dir.
func CompileTestModule(dir string) (string, error) {
	root, err := Root()
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "testmod.so")
	return out, cc("-O2", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC", "-o", out,
		filepath.Join(root, "pam_module/testdrv/testmod.c"), "-lpam")
}

func cc(args ...string) error {
	compiler := os.Getenv("CC")
	if compiler == "" {
		compiler = "cc"
	}
	if out, err := exec.Command(compiler, args...).CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %v\n%s", compiler, strings.Join(args, " "), err, out)
	}
	return nil
}

// Event is one line of the driver's output.
type Event struct {
	Kind string // prompt-echo-off, info, error, result, child-result, log, ...
	Text string
}

// Transcript is what the driver printed.
type Transcript struct {
	Events []Event
	Stderr string
}

// Run runs the driver with args and reads its output. The context bounds
// the run, so that a hang fails a test instead of stalling it.
func Run(ctx context.Context, driver string, args ...string) (*Transcript, error) {
	cmd := exec.CommandContext(ctx, driver, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	tr := Parse(stdout.String())
	tr.Stderr = stderr.String()
	if ctx.Err() != nil {
		return tr, fmt.Errorf("pamdrv did not finish: %w; output so far:\n%s",
			ctx.Err(), stdout.String())
	}
	if err != nil {
		return tr, fmt.Errorf("pamdrv: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	return tr, nil
}

// Parse reads the driver's output.
func Parse(out string) *Transcript {
	tr := &Transcript{}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		// "log PRIORITY TEXT" keeps the priority in the text.
		kind, text, _ := strings.Cut(sc.Text(), " ")
		tr.Events = append(tr.Events, Event{Kind: kind, Text: unescape(text)})
	}
	return tr
}

func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'x':
			if i+2 < len(s) {
				if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
					b.WriteByte(byte(v))
					i += 2
					continue
				}
			}
			b.WriteString(`\x`)
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// All returns the texts of the events of kind.
func (tr *Transcript) All(kind string) []string {
	var out []string
	for _, e := range tr.Events {
		if e.Kind == kind {
			out = append(out, e.Text)
		}
	}
	return out
}

// Results returns the return codes of pam_authenticate, in order.
func (tr *Transcript) Results() []string { return tr.All("result") }

// Result returns the return code of the only or last pam_authenticate.
func (tr *Transcript) Result() string {
	r := tr.Results()
	if len(r) == 0 {
		return "(none)"
	}
	return r[len(r)-1]
}

// Prompts returns the prompts shown, with echo on or off.
func (tr *Transcript) Prompts() []string {
	var out []string
	for _, e := range tr.Events {
		if strings.HasPrefix(e.Kind, "prompt-") {
			out = append(out, e.Text)
		}
	}
	return out
}

// Logs returns the syslog lines of the module named by prefix (as in
// "pam_totp(") without their priority, and with it as LogLine values.
func (tr *Transcript) Logs(prefix string) []LogLine {
	var out []LogLine
	for _, text := range tr.All("log") {
		pri, line, _ := strings.Cut(text, " ")
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		p, _ := strconv.Atoi(pri)
		out = append(out, LogLine{Facility: p &^ 7, Priority: p & 7, Text: line})
	}
	return out
}

// LogLine is one syslog line.
type LogLine struct {
	Facility int // LOG_AUTHPRIV is 10<<3
	Priority int // LOG_ERR is 3, LOG_DEBUG 7
	Text     string
}

// String returns the whole output, for failure messages.
func (tr *Transcript) String() string {
	var b strings.Builder
	for _, e := range tr.Events {
		fmt.Fprintf(&b, "  %s %q\n", e.Kind, e.Text)
	}
	if tr.Stderr != "" {
		fmt.Fprintf(&b, "  stderr: %s", tr.Stderr)
	}
	return b.String()
}
