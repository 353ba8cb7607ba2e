package main

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/pam-totp/pam-totp/core/store"
)

// The end-to-end tests run the built totpctl, as an administrator would,
// against a configuration, host key and state directory of their own in
// each script's $WORK. Scripts are in testdata/script. Codes are computed
// by oathtool, independently of pam-totp's own code.

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// totpctlBinary returns the path of a totpctl binary in a directory that
// every user may enter, so that it can also be run as nobody: a copy of
// $PAM_TOTP_BUILD/totpctl when that is set (make test sets it), or else one
// built now.
func totpctlBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "totpctl-test-")
		if err == nil {
			err = os.Chmod(dir, 0o755)
		}
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "totpctl")
		if build := os.Getenv("PAM_TOTP_BUILD"); build != "" {
			binErr = copyFile(filepath.Join(build, "totpctl"), binPath, 0o755)
			return
		}
		gotool, err := exec.LookPath("go")
		if err != nil {
			gotool = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		out, err := exec.Command(gotool, "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("building totpctl: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

func copyFile(from, to string, mode os.FileMode) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return fmt.Errorf("%v (run make first, or unset PAM_TOTP_BUILD)", err)
	}
	return os.WriteFile(to, data, mode)
}

func TestScripts(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("totpctl runs only as root and these tests run it for real: run them as root, as CI does")
	}
	bin := totpctlBinary(t)
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("PATH", filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"))
			env.Setenv("CONFIG", filepath.Join(env.WorkDir, "config.yaml"))
			// The work directory must be root's and closed to others,
			// like /etc, for doctor's checks.
			if err := os.Chmod(env.WorkDir, 0o755); err != nil {
				return err
			}
			return writeConfig(env.WorkDir, nil)
		},
		Cmds: map[string]func(*testscript.TestScript, bool, []string){
			"config":    cmdConfig,
			"exits":     cmdExits,
			"totp":      cmdTOTP,
			"totpat":    cmdTOTPAt,
			"sealedby":  cmdSealedBy,
			"jsonget":   cmdJSONGet,
			"uriparam":  cmdURIParam,
			"line":      cmdLine,
			"qrpng":     cmdQRPNG,
			"qrtext":    cmdQRText,
			"mode":      cmdMode,
			"halfrekey": cmdHalfRekey,
			"eq":        cmdEq,
			"readline":  cmdReadLine,
			"grepline":  cmdGrepLine,
		},
	})
}

// writeConfig writes $WORK/config.yaml: the state directory and host key
// in $WORK, and the extra lines given.
func writeConfig(work string, extra []string) error {
	text := fmt.Sprintf("state_dir: %s\nkey_file: %s\nissuer: Test Host\n",
		filepath.Join(work, "state"), filepath.Join(work, "etc", "host.key"))
	for _, kv := range extra {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return fmt.Errorf("config: %q is not KEY=VALUE", kv)
		}
		text += k + ": " + v + "\n"
	}
	return os.WriteFile(filepath.Join(work, "config.yaml"), []byte(text), 0o644)
}

// config KEY=VALUE...
// writes $CONFIG anew with the given keys besides the paths.
func cmdConfig(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! config")
	}
	ts.Check(writeConfig(ts.Getenv("WORK"), args))
}

// exits STATUS PROGRAM [ARGS...]
// runs PROGRAM like exec and checks its exit status.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits STATUS PROGRAM [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	got := 0
	err = ts.Exec(args[1], args[2:]...)
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		got = exit.ExitCode()
	case err != nil:
		ts.Fatalf("%v", err)
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
	}
}

// totp VAR SECRET [ALGORITHM DIGITS PERIOD]
// sets VAR to the current code of the base32 SECRET, computed by oathtool.
func cmdTOTP(ts *testscript.TestScript, neg bool, args []string) {
	if neg || (len(args) != 2 && len(args) != 5) {
		ts.Fatalf("usage: totp VAR SECRET [ALGORITHM DIGITS PERIOD]")
	}
	alg, digits, period := "SHA1", "6", "30"
	if len(args) == 5 {
		alg, digits, period = args[2], args[3], args[4]
	}
	out, err := exec.Command("oathtool", "--totp="+alg, "--digits="+digits,
		"--time-step-size="+period+"s", "--base32", args[1]).CombinedOutput()
	if err != nil {
		ts.Fatalf("oathtool: %v\n%s", err, out)
	}
	ts.Setenv(args[0], strings.TrimSpace(string(out)))
}

// totpat VAR SECRET STEPS
// sets VAR to the code of the base32 SECRET (SHA1, 6 digits, 30 seconds)
// for the time step STEPS away from the current one, computed by oathtool.
// When the current time step ends in less than stepMargin, it first waits
// for the next one, so that the step is still current when the next
// command checks the code.
func cmdTOTPAt(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: totpat VAR SECRET STEPS")
	}
	steps, err := strconv.Atoi(args[2])
	ts.Check(err)
	const period = 30 * time.Second
	now := time.Now()
	if left := period - time.Duration(now.UnixNano()%int64(period)); left < stepMargin {
		time.Sleep(left + 100*time.Millisecond)
		now = time.Now()
	}
	at := now.Add(time.Duration(steps) * period).Unix()
	out, err := exec.Command("oathtool", "--totp", "--base32",
		"--now=@"+strconv.FormatInt(at, 10), args[1]).CombinedOutput()
	if err != nil {
		ts.Fatalf("oathtool: %v\n%s", err, out)
	}
	ts.Setenv(args[0], strings.TrimSpace(string(out)))
}

// stepMargin is how much of the current time step totpat leaves for the
// command that checks its code.
const stepMargin = 5 * time.Second

// sealedby USER KEYFILE
// checks that USER's state file opens with the host key in KEYFILE alone.
func cmdSealedBy(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: sealedby USER KEYFILE")
	}
	// The store also reads KEYFILE.new, which is not there: it opens files
	// with the key in KEYFILE only.
	key := ts.MkAbs(args[1])
	if _, err := os.Lstat(key + store.NewKeySuffix); err == nil {
		ts.Fatalf("sealedby: %s exists, so %s is not the only key", key+store.NewKeySuffix, args[1])
	}
	s, err := store.Open(filepath.Join(ts.Getenv("WORK"), "state"), key)
	ts.Check(err)
	_, err = s.Load(args[0])
	if (err == nil) == neg {
		ts.Fatalf("%s's state file opens with %s: %v, want %v (%v)",
			args[0], args[1], err == nil, !neg, err)
	}
}

// jsonget VAR PATH [FILE]
// parses FILE (default: the last command's stdout) as JSON and sets VAR to
// the value at PATH, keys and list indexes separated by dots; "len" gives a
// list's length.
func cmdJSONGet(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: jsonget VAR PATH [FILE]")
	}
	file := "stdout"
	if len(args) == 3 {
		file = args[2]
	}
	var v any
	if err := json.Unmarshal([]byte(ts.ReadFile(file)), &v); err != nil {
		ts.Fatalf("%s is not one JSON value: %v", file, err)
	}
	for _, key := range strings.Split(args[1], ".") {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[key]; !ok {
				ts.Fatalf("JSON has no key %q at %s", key, args[1])
			}
		case []any:
			if key == "len" {
				v = float64(len(x))
				continue
			}
			i, err := strconv.Atoi(key)
			if err != nil || i < 0 || i >= len(x) {
				ts.Fatalf("JSON list of %d has no element %q", len(x), key)
			}
			v = x[i]
		default:
			ts.Fatalf("JSON value at %q is not a map or list", key)
		}
	}
	switch x := v.(type) {
	case string:
		ts.Setenv(args[0], x)
	case nil:
		ts.Setenv(args[0], "null")
	default:
		b, _ := json.Marshal(x)
		ts.Setenv(args[0], string(b))
	}
}

// uriparam VAR URI NAME
// sets VAR to the query parameter NAME of URI.
func cmdURIParam(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: uriparam VAR URI NAME")
	}
	m := regexp.MustCompile(`[?&]` + regexp.QuoteMeta(args[2]) + `=([^&]*)`).FindStringSubmatch(args[1])
	if m == nil {
		ts.Fatalf("%s has no parameter %s", args[1], args[2])
	}
	ts.Setenv(args[0], m[1])
}

// line FILE TEXT
// checks that FILE (stdout and stderr mean the last command's) has a line
// that is exactly TEXT.
func cmdLine(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: line FILE TEXT")
	}
	found := false
	for _, l := range strings.Split(ts.ReadFile(args[0]), "\n") {
		found = found || l == args[1]
	}
	if found == neg {
		ts.Fatalf("line %q in %s: found %v, want %v", args[1], args[0], found, !neg)
	}
}

// qrpng VAR FILE
// decodes the QR code in the PNG image FILE with zbarimg into VAR.
func cmdQRPNG(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: qrpng VAR FILE")
	}
	f, err := os.Open(ts.MkAbs(args[1]))
	ts.Check(err)
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		ts.Fatalf("%s is not a PNG image: %v", args[1], err)
	}
	ts.Setenv(args[0], zbarimg(ts, ts.MkAbs(args[1])))
}

func zbarimg(ts *testscript.TestScript, path string) string {
	cmd := exec.Command("zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", path)
	out, err := cmd.Output()
	if err != nil {
		ts.Fatalf("zbarimg found no QR code in %s: %v", path, err)
	}
	return strings.TrimSuffix(string(out), "\n")
}

// qrtext VAR [FILE]
// turns the terminal QR code at the top of FILE (default: the last
// command's stdout), the lines before the first empty one, back into an
// image, each character a 1x2 block of modules, and decodes it with
// zbarimg into VAR.
func cmdQRText(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: qrtext VAR [FILE]")
	}
	file := "stdout"
	if len(args) == 2 {
		file = args[1]
	}
	text, _, _ := strings.Cut(ts.ReadFile(file), "\n\n")
	img, err := halfBlocksToImage(text + "\n")
	ts.Check(err)
	path := filepath.Join(ts.Getenv("WORK"), ".qrtext.png")
	f, err := os.Create(path)
	ts.Check(err)
	ts.Check(png.Encode(f, img))
	ts.Check(f.Close())
	ts.Setenv(args[0], zbarimg(ts, path))
}

// mode FILE PERM
// checks FILE's permission bits, in octal, without following a symbolic
// link.
func cmdMode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: mode FILE PERM")
	}
	fi, err := os.Lstat(ts.MkAbs(args[0]))
	ts.Check(err)
	want, err := strconv.ParseUint(args[1], 8, 32)
	ts.Check(err)
	if got := fi.Mode().Perm(); uint64(got) != want {
		ts.Fatalf("%s has mode %04o, want %04o", args[0], got, want)
	}
}

// halfrekey N
// leaves a key rotation half done, as a crash of totpctl rekey would: it
// creates the new key beside the host key and re-seals the state files of
// the first N users (in sorted order) with it, through the store.
func cmdHalfRekey(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: halfrekey N")
	}
	n, err := strconv.Atoi(args[0])
	ts.Check(err)
	work := ts.Getenv("WORK")
	keyFile := filepath.Join(work, "etc", "host.key")
	s, err := store.Open(filepath.Join(work, "state"), keyFile)
	ts.Check(err)
	ts.Check(store.CreateKey(keyFile+store.NewKeySuffix, rand.Reader))
	users, err := s.Users()
	ts.Check(err)
	if n > len(users) {
		ts.Fatalf("halfrekey %d: only %d users", n, len(users))
	}
	for _, u := range users[:n] {
		tx, err := s.Begin(u)
		ts.Check(err)
		st, err := tx.Load()
		ts.Check(err)
		ts.Check(tx.Save(st))
		tx.Close()
	}
}

// eq A B
// checks that A and B are the same string.
func cmdEq(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: eq A B")
	}
	if (args[0] == args[1]) == neg {
		ts.Fatalf("%q and %q: equal %v, want %v", args[0], args[1], !neg, neg)
	}
}

// readline VAR FILE N
// sets VAR to line N of FILE, counting from 1, or from the end if N is
// negative.
func cmdReadLine(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: readline VAR FILE N")
	}
	n, err := strconv.Atoi(args[2])
	ts.Check(err)
	lines := strings.Split(strings.TrimSuffix(ts.ReadFile(args[1]), "\n"), "\n")
	if n < 0 {
		n += len(lines) + 1
	}
	if n < 1 || n > len(lines) {
		ts.Fatalf("%s has no line %s", args[1], args[2])
	}
	ts.Setenv(args[0], lines[n-1])
}

// grepline VAR REGEXP [FILE]
// sets VAR to the first line of FILE (default: the last command's stdout)
// that REGEXP matches.
func cmdGrepLine(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: grepline VAR REGEXP [FILE]")
	}
	file := "stdout"
	if len(args) == 3 {
		file = args[2]
	}
	re, err := regexp.Compile(args[1])
	ts.Check(err)
	for _, line := range strings.Split(ts.ReadFile(file), "\n") {
		if re.MatchString(line) {
			ts.Setenv(args[0], line)
			return
		}
	}
	ts.Fatalf("no line of %s matches %s", file, args[1])
}
