// Package pamtest tests pam_totp as the programs that use it run it: the
// real libpam loading the built module (tests of the module's arguments and
// outcomes, through a C driver), and a real sshd with a real ssh client.
package pamtest

import (
	"context"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pam-totp/pam-totp/core/otp"
	"github.com/pam-totp/pam-totp/core/policy"
	"github.com/pam-totp/pam-totp/pam_module/internal/pamrun"
)

// tools are compiled once for all tests.
var tools struct {
	dir     string
	driver  string // with syslog capture
	testmod string
	err     error
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "pamtest-tools-")
	if err == nil {
		tools.dir = dir
		tools.driver, err = pamrun.CompileDriver(dir, true)
	}
	if err == nil {
		tools.testmod, err = pamrun.CompileTestModule(dir)
	}
	tools.err = err
	code := m.Run()
	if dir != "" {
		os.RemoveAll(dir)
	}
	pamrun.RemoveTempBuild()
	os.Exit(code)
}

// runTimeout bounds one run of the driver. A run takes milliseconds; the
// bound only turns a hang into a failure.
const runTimeout = 60 * time.Second

// fixture is a private installation of pam-totp and the module to test.
type fixture struct {
	t      *testing.T
	env    *pamrun.Env
	module string // the loader, pam_totp.so
}

// newFixture makes a fixture with the built module. extra is YAML added to
// the configuration.
func newFixture(t *testing.T, extra string) *fixture {
	t.Helper()
	t.Parallel()
	if tools.err != nil {
		t.Fatalf("compiling the test driver: %v", tools.err)
	}
	module, err := pamrun.Artifact("pam_totp.so")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pamrun.Artifact("pam_totp_go.so"); err != nil {
		t.Fatal(err)
	}
	env, err := pamrun.NewEnv(tempDir(t), extra)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, env: env, module: module}
}

// tempDir returns a new directory, removed when the test ends. Unlike
// t.TempDir, its name never holds the '#' of a repeated subtest name:
// libpam ends a line of a service file at '#', even inside [...].
func tempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pamtest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// service writes a service file whose lines may use {module}, {config}
// and {testmod}.
func (f *fixture) service(name string, lines ...string) {
	f.t.Helper()
	r := strings.NewReplacer("{module}", f.module, "{config}", "config="+f.env.ConfigFile,
		"{testmod}", tools.testmod)
	for i := range lines {
		lines[i] = r.Replace(lines[i])
	}
	if err := f.env.Service(name, lines...); err != nil {
		f.t.Fatal(err)
	}
}

// totp writes the usual one-line service "svc": pam_totp with args.
func (f *fixture) totp(args string) string {
	f.service("svc", "auth required {module} {config} "+args)
	return "svc"
}

// nextModuleSays is what the module after pam_totp in totpThen shows.
const nextModuleSays = "the next module ran"

// totpThen writes the service "then": pam_totp with args, then a module
// that succeeds and says nextModuleSays, so that PAM_IGNORE from pam_totp
// shows as PAM_SUCCESS of the stack (a stack of modules that all ignore
// fails).
func (f *fixture) totpThen(args string) string {
	f.service("then", "auth required {module} {config} "+args,
		"auth required {testmod} [say="+nextModuleSays+"]")
	return "then"
}

// afterToken writes the service "tok": the stand-in password module
// setting PAM_AUTHTOK to tok, then pam_totp with args.
func (f *fixture) afterToken(tok, args string) string {
	f.service("tok", "auth required {testmod} [set_authtok="+tok+"]",
		"auth required {module} {config} "+args)
	return "tok"
}

// run runs the driver: pamdrv -d CONFDIR -s service -u user, then args.
func (f *fixture) run(service, user string, args ...string) *pamrun.Transcript {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	all := append([]string{"-d", f.env.ConfDir, "-s", service, "-u", user}, args...)
	tr, err := pamrun.Run(ctx, tools.driver, all...)
	if err != nil {
		f.t.Fatalf("pamdrv %s: %v", strings.Join(all, " "), err)
	}
	return tr
}

// ask runs the driver on service for user, answering its prompts with
// answers in order.
func (f *fixture) ask(service, user string, answers ...string) *pamrun.Transcript {
	f.t.Helper()
	var args []string
	for _, a := range answers {
		args = append(args, "-a", a)
	}
	return f.run(service, user, args...)
}

// enroll enrolls user with the configured parameters, or with p.
func (f *fixture) enroll(user string, p ...otp.Params) *policy.Enrollment {
	f.t.Helper()
	var opts policy.EnrollOptions
	if len(p) > 0 {
		opts.Params = p[0]
	}
	en, err := f.env.Enroll(user, opts)
	if err != nil {
		f.t.Fatalf("enrolling %s: %v", user, err)
	}
	return en
}

// code returns the code of en for the current time step plus offset.
func code(en *policy.Enrollment, offset int) string {
	st := en.State
	step := otp.TimeStep(time.Now(), st.Period)
	return otp.HOTP(st.Secret, uint64(int64(step)+int64(offset)), st.Algorithm, st.Digits)
}

// oathtool returns the current code of en computed by oathtool, an
// implementation independent of ours.
func oathtool(t *testing.T, en *policy.Enrollment) string {
	t.Helper()
	st := en.State
	secret := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(st.Secret)
	args := []string{"--totp=" + strings.ToLower(st.Algorithm.String()), "--base32",
		fmt.Sprintf("--digits=%d", st.Digits),
		fmt.Sprintf("--time-step-size=%ds", st.Period), secret}
	out, err := exec.Command("oathtool", args...).Output()
	if err != nil {
		t.Fatalf("oathtool %s: %v", strings.Join(args[:len(args)-1], " "), err)
	}
	return strings.TrimSpace(string(out))
}

// sysUser returns the name of an account that exists on every Debian
// system; the tests enroll it only in their private state directories.
func sysUser(t *testing.T, name string) string {
	t.Helper()
	if _, err := user.Lookup(name); err != nil {
		t.Skipf("the test needs the system account %q: %v", name, err)
	}
	return name
}

// outcome returns the one line that pam_totp logged about the outcome,
// failing unless there is exactly one, and checks that every line of the
// module goes to authpriv.
func outcome(t *testing.T, tr *pamrun.Transcript) string {
	t.Helper()
	var lines []string
	for _, l := range tr.Logs("pam_totp(") {
		if l.Facility != 10<<3 {
			t.Errorf("log line %q has facility %d, want authpriv (%d)", l.Text, l.Facility, 10<<3)
		}
		// libpam's pam_prompt logs "conversation failed" itself.
		if l.Priority != 7 && !strings.HasSuffix(l.Text, "): conversation failed") {
			lines = append(lines, l.Text)
		}
	}
	if len(lines) != 1 {
		t.Fatalf("pam_totp logged %d outcome lines, want 1:\n%s", len(lines), tr)
	}
	return lines[0]
}

// expect checks the result, the outcome line, the prompts and the
// messages of a run. Fields left empty are not checked, except that
// messages are checked whenever prompts are.
type expect struct {
	result  string
	log     string   // a substring of the outcome line
	prompts []string // nil: not checked; []string{}: no prompt
	errors  []string // substrings, in order
	infos   []string
}

func (e expect) check(t *testing.T, tr *pamrun.Transcript) {
	t.Helper()
	if got := tr.Result(); got != e.result {
		t.Errorf("result = %s, want %s\n%s", got, e.result, tr)
	}
	if e.log != "" {
		if line := outcome(t, tr); !strings.Contains(line, e.log) {
			t.Errorf("outcome line %q does not contain %q", line, e.log)
		}
	}
	if e.prompts != nil {
		if got := tr.Prompts(); strings.Join(got, "|") != strings.Join(e.prompts, "|") {
			t.Errorf("prompts = %q, want %q\n%s", got, e.prompts, tr)
		}
		matchAll(t, "error messages", tr.All("error"), e.errors)
		matchAll(t, "info messages", tr.All("info"), e.infos)
	}
}

func matchAll(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s = %q, want %d matching %q", what, got, len(want), want)
		return
	}
	for i := range want {
		if !strings.Contains(got[i], want[i]) {
			t.Errorf("%s[%d] = %q, want it to contain %q", what, i, got[i], want[i])
		}
	}
}

// noneOf fails if any log line holds one of secrets, as it is or in a
// form that a careless log line might give it: base32, as in a key URI or
// totpctl's output (either case, with or without padding), or hex.
func noneOf(t *testing.T, tr *pamrun.Transcript, secrets ...string) {
	t.Helper()
	for _, l := range tr.All("log") {
		for _, s := range secrets {
			for _, form := range secretForms(s) {
				if strings.Contains(l, form) {
					t.Errorf("log line %q contains the secret %q (as %q)", l, s, form)
				}
			}
		}
	}
}

// secretForms returns s and the encodings of it that noneOf looks for.
func secretForms(s string) []string {
	if s == "" {
		return nil
	}
	b32 := base32.StdEncoding.EncodeToString([]byte(s))
	bare := strings.TrimRight(b32, "=")
	return []string{s, b32, bare, strings.ToLower(b32), strings.ToLower(bare),
		hex.EncodeToString([]byte(s)), strings.ToUpper(hex.EncodeToString([]byte(s)))}
}

// entries lists the state directory.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range des {
		names = append(names, d.Name())
	}
	return names
}

// copyFile copies src to dst with mode.
func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dst, mode); err != nil {
		t.Fatal(err)
	}
}

// artifact returns a built file, failing the test if it cannot be made.
func artifact(t *testing.T, name string) string {
	t.Helper()
	p, err := pamrun.Artifact(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// dirOf returns a new directory holding copies of the given build files,
// under their base names.
func dirOf(t *testing.T, files map[string]os.FileMode) string {
	t.Helper()
	dir := tempDir(t)
	for src, mode := range files {
		copyFile(t, src, filepath.Join(dir, filepath.Base(src)), mode)
	}
	return dir
}

// mustVerifier returns a verifier on the fixture's state, as totpctl
// would use it.
func mustVerifier(t *testing.T, f *fixture) *policy.Verifier {
	t.Helper()
	v, err := f.env.Verifier()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func flipLastByte(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)-1] ^= 1
	write(t, path, data, 0o600)
}

func write(t *testing.T, path string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
}

func remove(t *testing.T, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}

func chmod(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// runOut runs a command and returns its trimmed standard output.
func runOut(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).Output()
	return strings.TrimSpace(string(out)), err
}
