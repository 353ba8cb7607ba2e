package pamtest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pam-totp/pam-totp/pam_module/internal/pamrun"
)

// The password that the stand-in password module sets or expects.
const password = "correct horse"

func TestTryFirstPass(t *testing.T) {
	u := sysUser(t, "daemon")
	t.Run("right code from the earlier module", func(t *testing.T) {
		f := newFixture(t, "")
		en := f.enroll(u)
		expect{
			result: "PAM_SUCCESS", log: "accepted: TOTP code", prompts: none,
		}.check(t, f.ask(f.afterToken(code(en, 0), "try_first_pass"), u))
	})
	t.Run("a password is not tried", func(t *testing.T) {
		f := newFixture(t, "")
		en := f.enroll(u)
		tr := f.ask(f.afterToken(password, "try_first_pass"), u, code(en, 0))
		expect{
			result: "PAM_SUCCESS", log: "accepted: TOTP code", prompts: []string{prompt},
		}.check(t, tr)
		if st, err := mustVerifier(t, f).Status(u); err != nil || st.Failures != 0 {
			t.Errorf("failures = %v (%v), want 0: a password must not count as a wrong code",
				st.Failures, err)
		}
		noneOf(t, tr, password)
	})
	t.Run("wrong code from the earlier module, then asked", func(t *testing.T) {
		f := newFixture(t, "")
		en := f.enroll(u)
		expect{
			result: "PAM_SUCCESS", log: "accepted: TOTP code", prompts: []string{prompt},
		}.check(t, f.ask(f.afterToken(code(en, 6), "try_first_pass"), u, code(en, 0)))
	})
	t.Run("no earlier module", func(t *testing.T) {
		f := newFixture(t, "")
		en := f.enroll(u)
		expect{
			result: "PAM_SUCCESS", prompts: []string{prompt},
		}.check(t, f.ask(f.totp("try_first_pass"), u, code(en, 0)))
	})
	t.Run("wrong both times", func(t *testing.T) {
		f := newFixture(t, "")
		en := f.enroll(u)
		expect{
			result: "PAM_AUTH_ERR", log: "refused: wrong code", prompts: []string{prompt},
		}.check(t, f.ask(f.afterToken(code(en, 6), "try_first_pass"), u, code(en, 5)))
	})
	// A wrong code that starts a lockout ends the attempt: a prompt would
	// only collect a code that is refused whatever it is.
	for _, tc := range []struct{ config, shown string }{
		{"max_failures: 1\nlockout_delay: 10m", "Too many wrong codes. Try again in "},
		{"max_failures: 1\nfailure_limit: 1", "Too many wrong codes. This account is locked until"},
	} {
		t.Run("wrong code from the earlier module starts a lockout: "+tc.config, func(t *testing.T) {
			f := newFixture(t, tc.config)
			en := f.enroll(u)
			expect{
				result: "PAM_AUTH_ERR", log: "refused: wrong code; too many failures, locked out until",
				prompts: none, errors: []string{tc.shown},
			}.check(t, f.ask(f.afterToken(code(en, 6), "try_first_pass"), u, code(en, 0)))
		})
	}
	t.Run("not enrolled is asked too", func(t *testing.T) {
		f := newFixture(t, "")
		expect{
			result: "PAM_AUTH_ERR", log: "refused: not enrolled", prompts: []string{prompt},
		}.check(t, f.ask(f.afterToken("123456", "try_first_pass"), u, "123456"))
	})
}

func TestUseFirstPass(t *testing.T) {
	u := sysUser(t, "daemon")
	t.Run("right code", func(t *testing.T) {
		f := newFixture(t, "")
		en := f.enroll(u)
		expect{
			result: "PAM_SUCCESS", log: "accepted: TOTP code", prompts: none,
		}.check(t, f.ask(f.afterToken(code(en, 0), "use_first_pass"), u))
	})
	t.Run("wrong code, never asks", func(t *testing.T) {
		f := newFixture(t, "")
		en := f.enroll(u)
		expect{
			result: "PAM_AUTH_ERR", log: "refused: wrong code", prompts: none,
		}.check(t, f.ask(f.afterToken(code(en, 5), "use_first_pass"), u, code(en, 0)))
	})
	t.Run("no token", func(t *testing.T) {
		f := newFixture(t, "")
		en := f.enroll(u)
		expect{
			result:  "PAM_AUTH_ERR",
			log:     "refused: use_first_pass is set but no earlier module set PAM_AUTHTOK",
			prompts: none,
		}.check(t, f.ask(f.totp("use_first_pass"), u, code(en, 0)))
	})
	t.Run("backup code", func(t *testing.T) {
		f := newFixture(t, "")
		en := f.enroll(u)
		expect{
			result: "PAM_SUCCESS", log: "accepted: backup code, 9 left", prompts: none,
			infos: []string{"Backup code accepted. 9 backup codes left."},
		}.check(t, f.ask(f.afterToken(en.BackupCodes[0], "use_first_pass"), u))
	})
}

func TestForwardPass(t *testing.T) {
	u := sysUser(t, "daemon")
	stack := func(f *fixture, args string) string {
		f.service("fwd", "auth required {module} {config} forward_pass "+args,
			"auth required {testmod} [expect_authtok="+password+"]")
		return "fwd"
	}
	both := []string{"Password & verification code: "}
	right := []string{"testmod: authtok is right"}
	t.Run("right code", func(t *testing.T) {
		f := newFixture(t, "")
		en := f.enroll(u)
		c := oathtool(t, en)
		tr := f.ask(stack(f, ""), u, password+c)
		expect{
			result: "PAM_SUCCESS", log: "accepted: TOTP code", prompts: both, infos: right,
		}.check(t, tr)
		noneOf(t, tr, password, c)
	})
	t.Run("wrong code, the password still passed on", func(t *testing.T) {
		f := newFixture(t, "")
		en := f.enroll(u)
		expect{
			result: "PAM_AUTH_ERR", log: "refused: wrong code", prompts: both, infos: right,
		}.check(t, f.ask(stack(f, ""), u, password+code(en, 4)))
	})
	t.Run("wrong password", func(t *testing.T) {
		f := newFixture(t, "")
		en := f.enroll(u)
		expect{
			result: "PAM_AUTH_ERR", log: "accepted: TOTP code", prompts: both,
			infos: []string{"testmod: authtok is wrong"},
		}.check(t, f.ask(stack(f, ""), u, "hunter2"+code(en, 0)))
	})
	t.Run("eight digits", func(t *testing.T) {
		f := newFixture(t, "digits: 8")
		en := f.enroll(u)
		expect{
			result: "PAM_SUCCESS", prompts: both, infos: right,
		}.check(t, f.ask(stack(f, ""), u, password+code(en, 0)))
	})
	t.Run("backup code", func(t *testing.T) {
		f := newFixture(t, "")
		en := f.enroll(u)
		expect{
			result: "PAM_SUCCESS", log: "accepted: backup code", prompts: both,
			infos: []string{"Backup code accepted. 9 backup codes left.", right[0]},
		}.check(t, f.ask(stack(f, ""), u, password+en.BackupCodes[3]))
	})
	t.Run("own prompt", func(t *testing.T) {
		f := newFixture(t, "")
		en := f.enroll(u)
		expect{
			result: "PAM_SUCCESS", prompts: []string{"Password, then code: "}, infos: right,
		}.check(t, f.ask(stack(f, "[prompt=Password, then code: ]"), u, password+code(en, 0)))
	})
	t.Run("not enrolled: asked alike, password passed on", func(t *testing.T) {
		f := newFixture(t, "")
		expect{
			result: "PAM_AUTH_ERR", log: "refused: not enrolled", prompts: both, infos: right,
		}.check(t, f.ask(stack(f, ""), u, password+"123456"))
	})
	t.Run("unknown user: asked alike, password passed on", func(t *testing.T) {
		f := newFixture(t, "")
		expect{
			result: "PAM_AUTH_ERR", log: "refused: unknown user", prompts: both, infos: right,
		}.check(t, f.ask(stack(f, ""), "pamtotp-no-such-user", password+"123456"))
	})
	t.Run("not enrolled with nullok: the next module asks", func(t *testing.T) {
		f := newFixture(t, "")
		expect{
			result: "PAM_AUTH_ERR", log: "ignored: not enrolled", prompts: none,
			infos: []string{"testmod: no authtok"},
		}.check(t, f.ask(stack(f, "nullok"), u))
	})
}

// The stacking in pam_totp(8): a user who is not enrolled falls through to
// the next module; an enrolled one passes or fails here.
func TestNullokStacking(t *testing.T) {
	u := sysUser(t, "daemon")
	stack := func(f *fixture) string {
		f.service("stack", "auth [success=done ignore=ignore default=die] {module} {config} nullok",
			"auth required {testmod} [say="+nextModuleSays+"]")
		return "stack"
	}
	t.Run("not enrolled", func(t *testing.T) {
		f := newFixture(t, "")
		expect{
			result: "PAM_SUCCESS", log: "ignored: not enrolled", prompts: none,
			infos: []string{nextModuleSays},
		}.check(t, f.ask(stack(f), u))
	})
	t.Run("enrolled, right code", func(t *testing.T) {
		f := newFixture(t, "")
		en := f.enroll(u)
		expect{
			result: "PAM_SUCCESS", log: "accepted", prompts: []string{prompt},
		}.check(t, f.ask(stack(f), u, code(en, 0)))
	})
	t.Run("enrolled, wrong code", func(t *testing.T) {
		f := newFixture(t, "")
		en := f.enroll(u)
		expect{
			result: "PAM_AUTH_ERR", log: "refused: wrong code", prompts: []string{prompt},
		}.check(t, f.ask(stack(f), u, code(en, 3)))
	})
	t.Run("enrolled, broken store", func(t *testing.T) {
		f := newFixture(t, "")
		en := f.enroll(u)
		remove(t, f.env.KeyFile)
		expect{
			result: "PAM_AUTHINFO_UNAVAIL", log: "error: cannot check the code",
			prompts: []string{prompt}, errors: []string{"could not be checked"},
		}.check(t, f.ask(stack(f), u, code(en, 0)))
	})
}

func TestPanicDoesNotCrossIntoC(t *testing.T) {
	f := newFixture(t, "")
	u := sysUser(t, "daemon")
	en := f.enroll(u)
	// The test build, which accepts test_panic.
	f.module = artifact(t, "test/hooks/pam_totp.so")
	artifact(t, "test/hooks/pam_totp_go.so")
	f.service("svc", "auth required {module} {config} test_panic")
	f.service("fine", "auth required {module} {config}")
	// Two panics in one process, then a normal login: the process lives
	// on and the library still works.
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	tr, err := pamrun.Run(ctx, tools.driver, "-d", f.env.ConfDir, "-s", "svc", "-u", u, "-n", "2")
	if err != nil {
		t.Fatal(err)
	}
	if got := tr.Results(); strings.Join(got, " ") != "PAM_SYSTEM_ERR PAM_SYSTEM_ERR" {
		t.Errorf("results = %q, want PAM_SYSTEM_ERR twice\n%s", got, tr)
	}
	want := "error: internal error, authentication refused: " +
		"assignment to entry in nil map; at main.runHooks ("
	logs := tr.Logs("pam_totp(")
	if len(logs) != 2 {
		t.Errorf("pam_totp logged %d lines, want one for each panic\n%s", len(logs), tr)
	}
	for _, l := range logs {
		if !strings.Contains(l.Text, want) || l.Priority != 3 {
			t.Errorf("log line %q (priority %d) does not report the panic and where it "+
				"happened at LOG_ERR", l.Text, l.Priority)
		}
	}
	expect{result: "PAM_SUCCESS"}.check(t, f.ask("fine", u, code(en, 0)))
}

// A process forked after the Go library was started must not call into
// it, however the child reaches the library: through the same path, or
// through another loader beside a link to the same file, which the
// dynamic linker resolves to the mapping the parent made. glibc finds
// that mapping by the file's identity even with RTLD_NOLOAD; the last
// case takes that away (pamdrv -N), so that only the check after the
// full dlopen stands between the child and a hang.
func TestForkAfterLoadIsRefused(t *testing.T) {
	u := sysUser(t, "daemon")
	loader, golib := artifact(t, "pam_totp.so"), artifact(t, "pam_totp_go.so")
	symlink := func(t *testing.T, target, name string) {
		if err := os.Symlink(target, name); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name   string
		link   func(t *testing.T, target, name string) // nil: the same path
		noload bool                                    // pamdrv -N
	}{
		{"same path", nil, false},
		{"symbolic link in another directory", symlink, false},
		{"hard link in another directory", func(t *testing.T, target, name string) {
			if err := os.Link(target, name); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"same path, RTLD_NOLOAD finds nothing", nil, true},
		{"symbolic link, RTLD_NOLOAD finds nothing", symlink, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, "")
			en := f.enroll(u)
			first := dirOf(t, map[string]os.FileMode{loader: 0o755, golib: 0o644})
			f.module = filepath.Join(first, "pam_totp.so")
			parent, child := f.totp(""), "svc"
			childLib := filepath.Join(first, "pam_totp_go.so")
			if tt.link != nil {
				second := dirOf(t, map[string]os.FileMode{loader: 0o755})
				tt.link(t, childLib, filepath.Join(second, "pam_totp_go.so"))
				childLib = filepath.Join(second, "pam_totp_go.so")
				f.service("second", "auth required "+filepath.Join(second, "pam_totp.so")+
					" config="+f.env.ConfigFile)
				child = "second"
			}
			// The parent authenticates, which starts the Go runtime in
			// it; its child then tries again.
			args := []string{"-a", code(en, 0), "-a", code(en, 1), "-F", "-S", child}
			if tt.noload {
				args = append(args, "-N")
			}
			tr := f.run(parent, u, args...)
			checkForkRefused(t, tr, childLib)
		})
	}
}

// checkForkRefused checks that the parent of a -F run logged in and its
// child was refused, with one line naming the library at lib.
func checkForkRefused(t *testing.T, tr *pamrun.Transcript, lib string) {
	t.Helper()
	if got := tr.Result(); got != "PAM_SUCCESS" {
		t.Errorf("the parent's result = %s, want PAM_SUCCESS\n%s", got, tr)
	}
	child := tr.All("child-result")
	if len(child) != 1 || child[0] != "PAM_SYSTEM_ERR" {
		t.Fatalf("the child's result = %q, want PAM_SYSTEM_ERR\n%s", child, tr)
	}
	var refused int
	for _, l := range tr.Logs("pam_totp(") {
		if strings.Contains(l.Text, "error: authentication refused: "+lib+
			" was started in process ") &&
			strings.Contains(l.Text, "was forked from it afterwards; "+
				"the Go runtime does not survive fork") {
			refused++
			if l.Priority != 3 {
				t.Errorf("refusal logged at priority %d, want LOG_ERR", l.Priority)
			}
		}
	}
	if refused != 1 {
		t.Errorf("%d refusal lines naming %s, want 1\n%s", refused, lib, tr)
	}
	if len(tr.Prompts()) != 1 {
		t.Errorf("prompts = %q, want only the parent's", tr.Prompts())
	}
}

func TestLoaderErrors(t *testing.T) {
	u := sysUser(t, "daemon")
	loader, golib := artifact(t, "pam_totp.so"), artifact(t, "pam_totp_go.so")
	t.Run("library missing", func(t *testing.T) {
		f := newFixture(t, "nullok: true")
		dir := dirOf(t, map[string]os.FileMode{loader: 0o755})
		f.module = filepath.Join(dir, "pam_totp.so")
		expect{
			result: "PAM_SYSTEM_ERR",
			log: "error: cannot use " + filepath.Join(dir, "pam_totp_go.so") +
				": No such file or directory; reinstall pam-totp",
			prompts: none,
		}.check(t, f.ask(f.totp(""), u))
	})
	t.Run("library writable by others", func(t *testing.T) {
		f := newFixture(t, "nullok: true")
		dir := dirOf(t, map[string]os.FileMode{loader: 0o755, golib: 0o666})
		f.module = filepath.Join(dir, "pam_totp.so")
		expect{
			result:  "PAM_SYSTEM_ERR",
			log:     "mode 0666; it must belong to root and be writable by no one else",
			prompts: none,
		}.check(t, f.ask(f.totp(""), u))
	})
	t.Run("directory writable by others", func(t *testing.T) {
		f := newFixture(t, "nullok: true")
		dir := dirOf(t, map[string]os.FileMode{loader: 0o755, golib: 0o644})
		chmod(t, dir, 0o777)
		f.module = filepath.Join(dir, "pam_totp.so")
		expect{
			result: "PAM_SYSTEM_ERR", log: "refusing " + dir + ": owned by uid", prompts: none,
		}.check(t, f.ask(f.totp(""), u))
	})
	t.Run("packaged loader looks in its library directory", func(t *testing.T) {
		f := newFixture(t, "nullok: true")
		f.module = artifact(t, "pkg/pam_totp.so")
		libdir := "/usr/lib/" + multiarch(t) + "/pam-totp"
		if _, err := os.Stat(libdir); err == nil {
			t.Skipf("pam-totp is installed in %s; this test needs it absent", libdir)
		}
		expect{
			result: "PAM_SYSTEM_ERR", log: "cannot use " + libdir + "/pam_totp_go.so",
		}.check(t, f.ask(f.totp(""), u))
	})
}

// The entry points other than authentication are answered by the loader
// alone: with no Go library beside it, they still answer and log nothing.
// Called directly, each returns the loader's own code; in a stack, none
// of them spoils the stack's result.
func TestOtherEntryPointsStayInC(t *testing.T) {
	f := newFixture(t, "")
	u := sysUser(t, "daemon")
	dir := dirOf(t, map[string]os.FileMode{artifact(t, "pam_totp.so"): 0o755})
	f.module = filepath.Join(dir, "pam_totp.so")
	var lines []string
	for _, typ := range []string{"auth", "account", "session", "password"} {
		lines = append(lines, typ+" required {module}", typ+" required pam_permit.so")
	}
	f.service("svc", lines...)
	tr := f.run("svc", u, "-n", "0", "-C", "-M", f.module)

	want := []string{
		"pam_sm_setcred PAM_SUCCESS", // so that pam_totp alone can be the auth stack
		"pam_sm_acct_mgmt PAM_IGNORE",
		"pam_sm_open_session PAM_IGNORE",
		"pam_sm_close_session PAM_IGNORE",
		"pam_sm_chauthtok PAM_IGNORE", // the preliminary check
		"pam_sm_chauthtok PAM_IGNORE", // the update
	}
	if got := tr.All("module-result"); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("the loader's own results = %q, want %q\n%s", got, want, tr)
	}
	for _, kind := range []string{"setcred-result", "acct-result", "open-session-result",
		"close-session-result", "chauthtok-result"} {
		if got := tr.All(kind); len(got) != 1 || got[0] != "PAM_SUCCESS" {
			t.Errorf("%s = %q, want PAM_SUCCESS\n%s", kind, got, tr)
		}
	}
	if logs := tr.Logs("pam_totp("); len(logs) != 0 {
		t.Errorf("pam_totp logged %+v; the other entry points must not load the Go library", logs)
	}
}

func multiarch(t *testing.T) string {
	t.Helper()
	cc := os.Getenv("CC")
	if cc == "" {
		cc = "cc"
	}
	out, err := runOut(cc, "-print-multiarch")
	if err != nil || out == "" {
		t.Skipf("cannot learn the multiarch triplet from %s: %v", cc, err)
	}
	return out
}
