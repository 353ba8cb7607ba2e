package pamtest

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/pam-totp/pam-totp/core/otp"
	"github.com/pam-totp/pam-totp/pam_module/internal/pamrun"
)

const prompt = "Verification code: "

// none is an empty list of prompts or messages, which expect checks.
var none = []string{}

func TestRightCodeFromOathtool(t *testing.T) {
	f := newFixture(t, "")
	u := sysUser(t, "daemon")
	en := f.enroll(u)
	c := oathtool(t, en)
	tr := f.run(f.totp(""), u, "-a", c, "-r", "192.0.2.7")
	expect{
		result:  "PAM_SUCCESS",
		log:     "accepted: TOTP code, skew +0; user=daemon service=svc rhost=192.0.2.7",
		prompts: []string{prompt},
	}.check(t, tr)
	if off := tr.All("prompt-echo-off"); len(off) != 1 {
		t.Errorf("prompts with echo off: %q, want the one prompt", off)
	}
	noneOf(t, tr, c, string(en.State.Secret))
}

func TestSHA256EightDigitsFromOathtool(t *testing.T) {
	f := newFixture(t, "")
	u := sysUser(t, "daemon")
	en := f.enroll(u, otp.Params{Algorithm: otp.SHA256, Digits: 8, Period: 60})
	c := oathtool(t, en)
	if len(c) != 8 {
		t.Fatalf("oathtool gave %q, want 8 digits", c)
	}
	expect{result: "PAM_SUCCESS", log: "accepted: TOTP code"}.check(t, f.ask(f.totp(""), u, c))
}

func TestWrongCode(t *testing.T) {
	f := newFixture(t, "")
	u := sysUser(t, "daemon")
	en := f.enroll(u)
	wrong := code(en, 5) // right for another time, outside the window
	tr := f.ask(f.totp(""), u, wrong)
	expect{
		result: "PAM_AUTH_ERR", log: "refused: wrong code; user=daemon", prompts: []string{prompt},
	}.check(t, tr)
	noneOf(t, tr, wrong)
	if st, err := mustVerifier(t, f).Status(u); err != nil || st.Failures != 1 {
		t.Errorf("after a wrong code: failures = %v (%v), want 1", st.Failures, err)
	}
}

func TestReplayedCode(t *testing.T) {
	f := newFixture(t, "")
	u := sysUser(t, "daemon")
	en := f.enroll(u)
	c := code(en, 0)
	svc := f.totp("")
	expect{result: "PAM_SUCCESS"}.check(t, f.ask(svc, u, c))
	expect{
		result: "PAM_AUTH_ERR", log: "refused: code already used (replay)",
		prompts: []string{prompt}, errors: []string{"This code was already used. Wait for the next code"},
	}.check(t, f.ask(svc, u, c))
	// The next time step's code is still accepted.
	expect{result: "PAM_SUCCESS"}.check(t, f.ask(svc, u, code(en, 1)))
}

func TestWhiteSpaceIsTrimmed(t *testing.T) {
	f := newFixture(t, "")
	u := sysUser(t, "daemon")
	c := code(f.enroll(u), 0)
	expect{result: "PAM_SUCCESS"}.check(t, f.ask(f.totp(""), u, " \t"+c[:3]+" "+c[3:]+"  "))
}

func TestEmptyAnswer(t *testing.T) {
	f := newFixture(t, "")
	u := sysUser(t, "daemon")
	f.enroll(u)
	tr := f.ask(f.totp(""), u, "  ")
	expect{result: "PAM_AUTH_ERR", log: "refused: empty answer"}.check(t, tr)
	if st, err := mustVerifier(t, f).Status(u); err != nil || st.Failures != 0 {
		t.Errorf("after an empty answer: failures = %v (%v), want 0", st.Failures, err)
	}
}

func TestNoAnswer(t *testing.T) {
	f := newFixture(t, "")
	u := sysUser(t, "daemon")
	f.enroll(u)
	tr := f.ask(f.totp(""), u)
	expect{result: "PAM_CONV_ERR", log: "refused: no answer to the prompt"}.check(t, tr)
}

func TestBackupCode(t *testing.T) {
	f := newFixture(t, "backup_codes: 3")
	u := sysUser(t, "daemon")
	en := f.enroll(u)
	svc := f.totp("")
	bc := en.BackupCodes[1]
	tr := f.ask(svc, u, strings.ToUpper(bc))
	expect{
		result: "PAM_SUCCESS", log: "accepted: backup code, 2 left", prompts: []string{prompt},
		infos: []string{"Backup code accepted. 2 backup codes left: " +
			"ask your administrator for new ones soon."},
	}.check(t, tr)
	noneOf(t, tr, bc, strings.ReplaceAll(bc, "-", ""))

	// A backup code is accepted once.
	expect{result: "PAM_AUTH_ERR", log: "refused: wrong code"}.check(t, f.ask(svc, u, bc))

	// PAM_SILENT: no message, the prompt still.
	tr = f.run(svc, u, "-a", en.BackupCodes[0], "-q")
	expect{
		result: "PAM_SUCCESS", log: "accepted: backup code, 1 left", prompts: []string{prompt},
	}.check(t, tr)

	expect{
		result: "PAM_SUCCESS", prompts: []string{prompt},
		infos: []string{"That was your last backup code: ask your administrator for new ones."},
	}.check(t, f.ask(svc, u, en.BackupCodes[2]))
}

// TestLockout checks that max_failures consecutive wrong codes lock the
// user out for a while, that failure_limit of them stop all guessing until
// an administrator unlocks the user, and that an unlock ends either.
func TestLockout(t *testing.T) {
	for _, tc := range []struct {
		name, config         string
		startLog, startErr   string // the wrong code that starts the lockout
		lockedLog, lockedErr string // the right code while locked out
	}{{
		name:      "timed",
		config:    "max_failures: 2\nlockout_delay: 10m\nlockout_max: 1h",
		startLog:  "refused: wrong code; too many failures, locked out until",
		startErr:  "Too many wrong codes. Try again in 10m0s, after ",
		lockedLog: "refused: locked out until",
		lockedErr: "Too many wrong codes. Try again in ",
	}, {
		name:   "until an unlock",
		config: "max_failures: 2\nfailure_limit: 2",
		startLog: "refused: wrong code; too many failures, " +
			"locked out until an administrator unlocks the user",
		startErr: "Too many wrong codes. This account is locked until an administrator unlocks it.",
		lockedLog: "refused: locked out until an administrator unlocks the user " +
			"('totpctl unlock')",
		lockedErr: "This account is locked until an administrator unlocks it.",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.config)
			u := sysUser(t, "daemon")
			en := f.enroll(u)
			svc := f.totp("")
			wrong := code(en, 7)
			expect{result: "PAM_AUTH_ERR", prompts: []string{prompt}}.check(t, f.ask(svc, u, wrong))
			// The failure that starts the lockout says so.
			expect{
				result: "PAM_AUTH_ERR", log: tc.startLog, prompts: []string{prompt},
				errors: []string{tc.startErr},
			}.check(t, f.ask(svc, u, wrong))
			// While locked out, even the right code is refused, with
			// PAM_MAXTRIES.
			expect{
				result: "PAM_MAXTRIES", log: tc.lockedLog, prompts: []string{prompt},
				errors: []string{tc.lockedErr},
			}.check(t, f.ask(svc, u, code(en, 0)))

			if err := mustVerifier(t, f).Unlock(u); err != nil {
				t.Fatal(err)
			}
			expect{result: "PAM_SUCCESS"}.check(t, f.ask(svc, u, code(en, 0)))
		})
	}
}

func TestNotEnrolled(t *testing.T) {
	u := sysUser(t, "daemon")
	t.Run("nullok argument", func(t *testing.T) {
		f := newFixture(t, "")
		expect{
			result:  "PAM_SUCCESS",
			log:     "ignored: not enrolled, and nullok is set; user=daemon",
			prompts: none, infos: []string{nextModuleSays},
		}.check(t, f.ask(f.totpThen("nullok"), u))
	})
	t.Run("nullok in the configuration", func(t *testing.T) {
		f := newFixture(t, "nullok: true")
		expect{
			result: "PAM_SUCCESS", log: "ignored: not enrolled", prompts: none,
			infos: []string{nextModuleSays},
		}.check(t, f.ask(f.totpThen(""), u))
	})
	t.Run("without nullok", func(t *testing.T) {
		f := newFixture(t, "")
		// Asked like an enrolled user, so the prompt does not tell.
		expect{
			result: "PAM_AUTH_ERR", log: "refused: not enrolled; user=daemon",
			prompts: []string{prompt},
		}.check(t, f.ask(f.totp(""), u, "123456"))
		if got := entries(t, f.env.StateDir); len(got) != 0 {
			t.Errorf("the state directory holds %q after a user not enrolled, want nothing", got)
		}
	})
	t.Run("another user is", func(t *testing.T) {
		f := newFixture(t, "")
		f.enroll(sysUser(t, "bin"))
		tr := f.ask(f.totpThen("nullok"), u)
		expect{result: "PAM_SUCCESS", log: "ignored: not enrolled"}.check(t, tr)
	})
}

func TestUnknownUser(t *testing.T) {
	for _, u := range []string{"pamtotp-no-such-user", "../../etc/passwd", "root\nx",
		strings.Repeat("a", 65)} {
		t.Run("nullok", func(t *testing.T) {
			f := newFixture(t, "")
			expect{
				result: "PAM_SUCCESS", log: "ignored: unknown user, and nullok is set",
				prompts: none, infos: []string{nextModuleSays},
			}.check(t, f.ask(f.totpThen("nullok"), u))
			if got := entries(t, f.env.StateDir); len(got) != 0 {
				t.Errorf("the state directory holds %q after user %q, want nothing", got, u)
			}
		})
		t.Run("without nullok", func(t *testing.T) {
			f := newFixture(t, "")
			tr := f.ask(f.totp(""), u, "123456")
			expect{
				result: "PAM_AUTH_ERR", log: "refused: unknown user", prompts: []string{prompt},
			}.check(t, tr)
			if line := outcome(t, tr); strings.Contains(line, "\n") {
				t.Errorf("the outcome line %q holds a raw newline from the user name", line)
			}
			if got := entries(t, f.env.StateDir); len(got) != 0 {
				t.Errorf("the state directory holds %q after user %q, want nothing", got, u)
			}
		})
	}
}

func TestStoreErrors(t *testing.T) {
	u := sysUser(t, "daemon")
	tests := []struct {
		name   string
		args   string
		break_ func(t *testing.T, f *fixture)
		log    string
	}{
		{"corrupt state file", "", func(t *testing.T, f *fixture) {
			flipLastByte(t, f.env.StatePath(u))
		}, "error: cannot check the code: store: "},
		{"corrupt state file says what to do", "", func(t *testing.T, f *fixture) {
			flipLastByte(t, f.env.StatePath(u))
		}, "the file was modified, truncated, or belongs to another user; " +
			"restore the file from a backup, or enroll anew: totpctl enroll --force " + u},
		{"empty state file", "", func(t *testing.T, f *fixture) {
			write(t, f.env.StatePath(u), nil, 0o600)
		}, "error: cannot check the code: store: "},
		{"missing host key", "", func(t *testing.T, f *fixture) {
			remove(t, f.env.KeyFile)
		}, "host key does not exist (restore it from a backup; on a new installation, run 'totpctl init')"},
		{"short host key", "", func(t *testing.T, f *fixture) {
			remove(t, f.env.KeyFile)
			write(t, f.env.KeyFile, []byte("short"), 0o400)
		}, "a host key must be exactly 32 bytes"},
		{"host key readable by others", "", func(t *testing.T, f *fixture) {
			chmod(t, f.env.KeyFile, 0o444)
		}, "open to group or others; fix with: chmod go-rwx"},
		{"state file readable by others", "", func(t *testing.T, f *fixture) {
			chmod(t, f.env.StatePath(u), 0o644)
		}, "open to group or others"},
		{"state directory writable by others", "", func(t *testing.T, f *fixture) {
			chmod(t, f.env.StateDir, 0o777)
		}, "writable by group or others"},
		{"state file is a symbolic link", "", func(t *testing.T, f *fixture) {
			p := f.env.StatePath(u)
			if err := os.Rename(p, p+".real"); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(p+".real", p); err != nil {
				t.Fatal(err)
			}
		}, "is a symbolic link, which is never followed; remove it, then restore the file from a backup"},
		{"missing state directory, even with nullok", "nullok", func(t *testing.T, f *fixture) {
			if err := os.RemoveAll(f.env.StateDir); err != nil {
				t.Fatal(err)
			}
		}, "does not exist (run 'totpctl init')"},
		{"missing host key with try_first_pass", "try_first_pass", func(t *testing.T, f *fixture) {
			remove(t, f.env.KeyFile)
		}, "host key does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, "")
			en := f.enroll(u)
			tt.break_(t, f)
			tr := f.ask(f.totp(tt.args), u, code(en, 0))
			want := expect{result: "PAM_AUTHINFO_UNAVAIL", log: tt.log,
				errors: []string{"The code could not be checked because of a problem"}}
			want.check(t, tr)
			matchAll(t, "error messages", tr.All("error"), want.errors)
		})
	}
}

func TestLockBusy(t *testing.T) {
	f := newFixture(t, "lock_timeout: 300ms")
	u := sysUser(t, "daemon")
	en := f.enroll(u)
	lock, err := os.OpenFile(filepath.Join(f.env.StateDir, u+".lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	expect{
		result: "PAM_AUTHINFO_UNAVAIL",
		log: "store: timed out waiting for a lock: another login or totpctl command of user " +
			strconv.Quote(u) + " held " + filepath.Join(f.env.StateDir, u+".lock"),
	}.check(t, f.ask(f.totp(""), u, code(en, 0)))
}

func TestConfigErrors(t *testing.T) {
	u := sysUser(t, "daemon")
	t.Run("unknown key", func(t *testing.T) {
		f := newFixture(t, "windwo: 2")
		expect{
			result: "PAM_SYSTEM_ERR",
			log: "cannot use the configuration, authentication refused: " + f.env.ConfigFile +
				`: config: line 3: unknown key "windwo"`,
			prompts: none,
		}.check(t, f.ask(f.totp("nullok"), u, "123456"))
	})
	t.Run("not a file", func(t *testing.T) {
		f := newFixture(t, "")
		f.service("svc", "auth required {module} nullok config="+f.env.StateDir)
		tr := f.ask("svc", u)
		expect{result: "PAM_SYSTEM_ERR", log: "cannot use the configuration"}.check(t, tr)
	})
	// A file that others can write could turn nullok on: it is refused,
	// and nobody passes on its word.
	t.Run("writable by others", func(t *testing.T) {
		f := newFixture(t, "nullok: true")
		chmod(t, f.env.ConfigFile, 0o666)
		expect{
			result: "PAM_SYSTEM_ERR",
			log: "cannot use the configuration, authentication refused: config: " + f.env.ConfigFile +
				" is mode 0666, writable by group or others",
			prompts: none,
		}.check(t, f.ask(f.totp(""), u, "123456"))
	})
	t.Run("symbolic link", func(t *testing.T) {
		f := newFixture(t, "nullok: true")
		link := filepath.Join(filepath.Dir(f.env.ConfigFile), "link.yaml")
		if err := os.Symlink(f.env.ConfigFile, link); err != nil {
			t.Fatal(err)
		}
		f.service("svc", "auth required {module} config="+link)
		expect{
			result: "PAM_SYSTEM_ERR", log: "config: " + link + " is a symbolic link", prompts: none,
		}.check(t, f.ask("svc", u, "123456"))
	})
}

func TestBadArguments(t *testing.T) {
	u := sysUser(t, "daemon")
	for _, args := range []string{"nulok", "nullok=1", "config=relative.yaml", "config", "prompt=",
		"try_first_pass use_first_pass", "debug debug", "secret=/etc/x"} {
		t.Run(args, func(t *testing.T) {
			f := newFixture(t, "")
			tr := f.ask(f.totp("nullok "+args), u, "123456")
			expect{
				result: "PAM_SERVICE_ERR", log: "error: bad module argument: ", prompts: none,
			}.check(t, tr)
			fix := "fix the pam_totp line of /etc/pam.d/svc (see pam_totp(8))"
			if line := outcome(t, tr); !strings.Contains(line, fix) {
				t.Errorf("the outcome line %q does not say what to fix", line)
			}
		})
	}
}

func TestPromptArgument(t *testing.T) {
	f := newFixture(t, `prompt: "Code from the app: "`)
	u := sysUser(t, "daemon")
	en := f.enroll(u)
	f.service("svc", "auth required {module} {config} [prompt=Your code, please: ]")
	expect{
		result: "PAM_SUCCESS", prompts: []string{"Your code, please: "},
	}.check(t, f.ask("svc", u, code(en, 0)))
	// Without the argument, the configuration's prompt.
	expect{
		result: "PAM_SUCCESS", prompts: []string{"Code from the app: "},
	}.check(t, f.ask(f.totp(""), u, code(en, 1)))
}

func TestDebug(t *testing.T) {
	f := newFixture(t, "")
	u := sysUser(t, "daemon")
	en := f.enroll(u)
	c := code(en, 0)
	tr := f.ask(f.totp("debug"), u, c)
	var debug int
	for _, l := range tr.Logs("pam_totp(") {
		if l.Priority == 7 {
			debug++
			if !strings.Contains(l.Text, "debug: ") {
				t.Errorf("debug line %q does not say debug", l.Text)
			}
		}
	}
	if debug == 0 {
		t.Errorf("no debug line with debug:\n%s", tr)
	}
	noneOf(t, tr, c)
	tr = f.ask(f.totp(""), u, code(en, 1))
	for _, l := range tr.Logs("pam_totp(") {
		if l.Priority == 7 {
			t.Errorf("debug line %q without debug", l.Text)
		}
	}
}

// A process that authenticates many times reads the configuration once,
// but sees every change to it.
func TestConfigChangeSeenInOneProcess(t *testing.T) {
	f := newFixture(t, `prompt: "First: "`)
	u := sysUser(t, "daemon")
	svc := f.totp("")
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, tools.driver, "-d", f.env.ConfDir, "-s", svc, "-u", u,
		"-n", "3", "-W", "-a", "1", "-a", "2", "-a", "3")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	sc := bufio.NewScanner(stdout)
	next := []string{`prompt: "Second: "`, "prompt: [not, a, string]"}
	for sc.Scan() {
		out.WriteString(sc.Text() + "\n")
		if strings.HasPrefix(sc.Text(), "result ") && len(next) > 0 {
			if err := f.env.WriteConfig(next[0]); err != nil {
				t.Fatal(err)
			}
			next = next[1:]
			io.WriteString(stdin, "\n")
		}
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("pamdrv: %v\n%s", err, out.String())
	}
	tr := pamrun.Parse(out.String())
	if got := strings.Join(tr.Prompts(), "|"); got != "First: |Second: " {
		t.Errorf("prompts = %q, want First: then Second: ", got)
	}
	if got := strings.Join(tr.Results(), " "); got != "PAM_AUTH_ERR PAM_AUTH_ERR PAM_SYSTEM_ERR" {
		t.Errorf("results = %q, want the third refused for the broken configuration\n%s", got, tr)
	}
}
