package store_test

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pam-totp/pam-totp/core/config"
	"github.com/pam-totp/pam-totp/core/otp"
	"github.com/pam-totp/pam-totp/core/policy"
	"github.com/pam-totp/pam-totp/core/store"
)

// otherUID owns files in the tests of wrong owners: nobody on Debian.
const otherUID = 65534

// Offsets of the parts of a version 1 state file; see the package comment.
const (
	versionAt = 7
	keyIDAt   = 8
	nonceAt   = 16
	bodyAt    = 40
	tagSize   = 16
)

// refusal is a way to break a store that every read must refuse, without
// changing anything on disk.
type refusal struct {
	name     string
	needRoot bool
	user     string // alice if empty
	breakIt  func(t *testing.T, e *env)
	path     func(e *env) string // the path the error must name
	corrupt  bool                // a *CorruptError, else an *UnsafeError
	reason   string              // part of the message
}

func stateOf(user string) func(*env) string {
	return func(e *env) string { return e.statePath(user) }
}

func keyPath(e *env) string    { return e.key }
func newKeyPath(e *env) string { return e.key + store.NewKeySuffix }
func lockPath(e *env) string   { return e.lockPath("alice") }

// editState returns a setup that replaces alice's state file with what fn
// makes of it.
func editState(fn func([]byte) []byte) func(*testing.T, *env) {
	return func(t *testing.T, e *env) {
		path := e.statePath("alice")
		writeFile(t, path, fn(readFile(t, path)), 0o600)
	}
}

func flipAt(off func(n int) int) func(*testing.T, *env) {
	return editState(func(b []byte) []byte {
		b[off(len(b))] ^= 0x01
		return b
	})
}

func truncateTo(n func(int) int) func(*testing.T, *env) {
	return editState(func(b []byte) []byte { return b[:n(len(b))] })
}

func replace(path func(*env) string, fn func(t *testing.T, path string)) func(*testing.T, *env) {
	return func(t *testing.T, e *env) {
		p := path(e)
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
		fn(t, p)
	}
}

// symlinkToCopy moves the file aside and leaves a link to it in its place.
func symlinkToCopy(path func(*env) string) func(*testing.T, *env) {
	return func(t *testing.T, e *env) {
		p := path(e)
		aside := filepath.Join(e.root, "aside-"+filepath.Base(p))
		if err := os.Rename(p, aside); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(aside, p); err != nil {
			t.Fatal(err)
		}
	}
}

func danglingSymlink(t *testing.T, path string) {
	if err := os.Symlink(filepath.Join(filepath.Dir(filepath.Dir(path)), "missing"), path); err != nil {
		t.Fatal(err)
	}
}

func fifo(t *testing.T, path string) {
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
}

func directory(t *testing.T, path string) {
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
}

func chmod(path func(*env) string, mode os.FileMode) func(*testing.T, *env) {
	return func(t *testing.T, e *env) {
		if err := os.Chmod(path(e), mode); err != nil {
			t.Fatal(err)
		}
	}
}

func chown(path func(*env) string) func(*testing.T, *env) {
	return func(t *testing.T, e *env) {
		if err := os.Lchown(path(e), otherUID, -1); err != nil {
			t.Fatal(err)
		}
	}
}

func refusals() []refusal {
	alice := stateOf("alice")
	authFailed := "authentication failed"
	rs := []refusal{
		{name: "magic first byte", breakIt: flipAt(func(int) int { return 0 }), reason: "not a pam-totp state file"},
		{name: "magic last byte", breakIt: flipAt(func(int) int { return versionAt - 1 }), reason: "not a pam-totp state file"},
		{name: "version", breakIt: flipAt(func(int) int { return versionAt }), reason: "format version 0 is not supported"},
		{name: "key id first byte", breakIt: flipAt(func(int) int { return keyIDAt }), reason: "not the current host key"},
		{name: "key id last byte", breakIt: flipAt(func(int) int { return nonceAt - 1 }), reason: "not the current host key"},
		{name: "nonce first byte", breakIt: flipAt(func(int) int { return nonceAt }), reason: authFailed},
		{name: "nonce last byte", breakIt: flipAt(func(int) int { return bodyAt - 1 }), reason: authFailed},
		{name: "ciphertext first byte", breakIt: flipAt(func(int) int { return bodyAt }), reason: authFailed},
		{name: "ciphertext middle byte", breakIt: flipAt(func(n int) int { return (bodyAt + n - tagSize) / 2 }), reason: authFailed},
		{name: "ciphertext last byte", breakIt: flipAt(func(n int) int { return n - tagSize - 1 }), reason: authFailed},
		{name: "tag first byte", breakIt: flipAt(func(n int) int { return n - tagSize }), reason: authFailed},
		{name: "tag last byte", breakIt: flipAt(func(n int) int { return n - 1 }), reason: authFailed},

		{name: "empty", breakIt: truncateTo(func(int) int { return 0 }), reason: "file is empty"},
		{name: "truncated to 1", breakIt: truncateTo(func(int) int { return 1 }), reason: "not a pam-totp state file"},
		{name: "truncated to magic", breakIt: truncateTo(func(int) int { return versionAt }), reason: "not a pam-totp state file"},
		{name: "truncated to magic and version", breakIt: truncateTo(func(int) int { return keyIDAt }), reason: "truncated"},
		{name: "truncated to header", breakIt: truncateTo(func(int) int { return nonceAt }), reason: "truncated"},
		{name: "truncated to nonce", breakIt: truncateTo(func(int) int { return bodyAt }), reason: "truncated"},
		{name: "truncated inside the tag", breakIt: truncateTo(func(int) int { return bodyAt + tagSize - 1 }), reason: "truncated"},
		{name: "truncated to nonce and tag", breakIt: truncateTo(func(int) int { return bodyAt + tagSize }), reason: authFailed},
		{name: "truncated to half", breakIt: truncateTo(func(n int) int { return n / 2 }), reason: authFailed},
		{name: "last byte cut", breakIt: truncateTo(func(n int) int { return n - 1 }), reason: authFailed},
		{name: "byte appended", breakIt: editState(func(b []byte) []byte { return append(b, 0) }), reason: authFailed},
		{name: "largest size read", breakIt: editState(func(b []byte) []byte {
			return append(b, make([]byte, maxStateSize-len(b))...)
		}), reason: authFailed},
		{name: "oversized", breakIt: editState(func(b []byte) []byte {
			return append(b, make([]byte, maxStateSize+1-len(b))...)
		}), reason: "too large"},

		{name: "wrong key", breakIt: replace(keyPath, func(t *testing.T, path string) {
			if err := store.CreateKey(path, rand.Reader); err != nil {
				t.Fatal(err)
			}
		}), reason: "not the current host key"},
		{name: "sealed by another host", breakIt: editState(func([]byte) []byte {
			b, err := os.ReadFile("testdata/v1/alice.totp")
			if err != nil {
				panic(err)
			}
			return b
		}), reason: "not the current host key"},
		{name: "copied to another user", user: "bob", path: stateOf("bob"), reason: authFailed,
			breakIt: func(t *testing.T, e *env) {
				writeFile(t, e.statePath("bob"), readFile(t, e.statePath("alice")), 0o600)
			}},
		{name: "renamed to another user", user: "bob", path: stateOf("bob"), reason: authFailed,
			breakIt: func(t *testing.T, e *env) {
				if err := os.Rename(e.statePath("alice"), e.statePath("bob")); err != nil {
					t.Fatal(err)
				}
			}},

		{name: "key of 31 bytes", path: keyPath, reason: "exactly 32 bytes",
			breakIt: replace(keyPath, func(t *testing.T, p string) { writeFile(t, p, make([]byte, 31), 0o400) })},
		{name: "key of 33 bytes", path: keyPath, reason: "exactly 32 bytes",
			breakIt: replace(keyPath, func(t *testing.T, p string) { writeFile(t, p, make([]byte, 33), 0o400) })},
		{name: "empty key", path: keyPath, reason: "exactly 32 bytes",
			breakIt: replace(keyPath, func(t *testing.T, p string) { writeFile(t, p, nil, 0o400) })},
		{name: "empty new key", path: newKeyPath, reason: "exactly 32 bytes",
			breakIt: func(t *testing.T, e *env) { writeFile(t, newKeyPath(e), nil, 0o400) }},
	}
	for i := range rs {
		rs[i].corrupt = true
	}

	unsafe := []refusal{
		{name: "state file symlink", breakIt: symlinkToCopy(alice), reason: "symbolic link"},
		{name: "state file dangling symlink", breakIt: replace(alice, danglingSymlink), reason: "symbolic link"},
		{name: "state file FIFO", breakIt: replace(alice, fifo), reason: "not a regular file"},
		{name: "state file directory", breakIt: replace(alice, directory), reason: "not a regular file"},
		{name: "state file wrong owner", needRoot: true, breakIt: chown(alice), reason: fmt.Sprintf("owned by uid %d", otherUID)},

		{name: "key symlink", path: keyPath, breakIt: symlinkToCopy(keyPath), reason: "symbolic link"},
		{name: "key dangling symlink", path: keyPath, breakIt: replace(keyPath, danglingSymlink), reason: "symbolic link"},
		{name: "key FIFO", path: keyPath, breakIt: replace(keyPath, fifo), reason: "not a regular file"},
		{name: "key directory", path: keyPath, breakIt: replace(keyPath, directory), reason: "not a regular file"},
		{name: "key wrong owner", needRoot: true, path: keyPath, breakIt: chown(keyPath), reason: "owned by uid"},
		{name: "new key symlink", path: newKeyPath, reason: "symbolic link", breakIt: func(t *testing.T, e *env) {
			if err := os.Symlink(e.key, newKeyPath(e)); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "new key FIFO", path: newKeyPath, reason: "not a regular file",
			breakIt: func(t *testing.T, e *env) { fifo(t, newKeyPath(e)) }},
		{name: "new key wrong owner", needRoot: true, path: newKeyPath, reason: "owned by uid", breakIt: func(t *testing.T, e *env) {
			writeFile(t, newKeyPath(e), readFile(t, e.key), 0o400)
			chown(newKeyPath)(t, e)
		}},

		{name: "lock symlink", path: lockPath, breakIt: symlinkToCopy(lockPath), reason: "symbolic link"},
		{name: "lock dangling symlink", path: lockPath, breakIt: replace(lockPath, danglingSymlink), reason: "symbolic link"},
		{name: "lock FIFO", path: lockPath, breakIt: replace(lockPath, fifo), reason: "not a regular file"},
		{name: "lock wrong owner", needRoot: true, path: lockPath, breakIt: chown(lockPath), reason: "owned by uid"},
	}
	for _, mode := range []os.FileMode{0o640, 0o604, 0o660, 0o606, 0o610, 0o601} {
		unsafe = append(unsafe,
			refusal{name: fmt.Sprintf("state file mode %04o", mode), breakIt: chmod(alice, mode),
				reason: fmt.Sprintf("mode %04o is open to group or others", mode)},
			refusal{name: fmt.Sprintf("key mode %04o", mode), path: keyPath, breakIt: chmod(keyPath, mode),
				reason: "open to group or others"},
			refusal{name: fmt.Sprintf("lock mode %04o", mode), path: lockPath, breakIt: chmod(lockPath, mode),
				reason: "open to group or others"})
	}
	return append(rs, unsafe...)
}

// testNow is the time of the codes in the store's tests.
var testNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func verifier(e *env) *policy.Verifier {
	cfg := config.Default()
	cfg.StateDir, cfg.KeyFile = e.dir, e.key
	return &policy.Verifier{Config: cfg, Store: e.s, Now: func() time.Time { return testNow }}
}

// TestRefusals breaks a store in every way the store must notice and
// checks that reading the state and verifying a right code both refuse with
// an error of the right type that names the path, and that nothing on disk
// changed.
func TestRefusals(t *testing.T) {
	for _, r := range refusals() {
		t.Run(r.name, func(t *testing.T) {
			if r.needRoot && os.Geteuid() != 0 {
				t.Skip("changing a file's owner needs root")
			}
			e := newEnv(t)
			e.save(t, newState("alice"))
			e.save(t, newState("bob"))
			r.breakIt(t, e)
			user, path := r.user, e.statePath("alice")
			if user == "" {
				user = "alice"
			}
			if r.path != nil {
				path = r.path(e)
			}
			before := snapshot(t, e.root)

			_, err := e.s.Load(user)
			checkRefusal(t, "Load", err, r.corrupt, path, r.reason)
			code := otp.TOTP(testSecret, testNow, otp.DefaultParams)
			res, err := verifier(e).Verify(user, code)
			checkRefusal(t, "Verify", err, r.corrupt, path, r.reason)
			if res != (policy.Result{}) {
				t.Errorf("Verify refused with %+v, want a zero Result", res)
			}
			checkUnchanged(t, e.root, before)
		})
	}
}

func checkRefusal(t *testing.T, op string, err error, corrupt bool, path, reason string) {
	t.Helper()
	var ce *store.CorruptError
	var ue *store.UnsafeError
	switch {
	case err == nil:
		t.Errorf("%s succeeded, want a refusal", op)
		return
	case corrupt && !errors.As(err, &ce):
		t.Errorf("%s = %v (%T), want a *store.CorruptError", op, err, err)
	case corrupt && ce.Path != path:
		t.Errorf("%s: CorruptError.Path = %q, want %q", op, ce.Path, path)
	case !corrupt && !errors.As(err, &ue):
		t.Errorf("%s = %v (%T), want a *store.UnsafeError", op, err, err)
	case !corrupt && ue.Path != path:
		t.Errorf("%s: UnsafeError.Path = %q, want %q", op, ue.Path, path)
	}
	if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, reason) {
		t.Errorf("%s: error %q does not name %s and say %q", op, msg, path, reason)
	}
}

// TestUnsafeStateDir checks the state directory, which Open refuses.
func TestUnsafeStateDir(t *testing.T) {
	tests := []struct {
		name     string
		needRoot bool
		breakIt  func(t *testing.T, e *env) string // returns the path to open
		reason   string                            // "" if it must open
	}{
		{name: "mode 0700", breakIt: dirMode(0o700)},
		{name: "mode 0755", breakIt: dirMode(0o755)},
		{name: "mode 0711", breakIt: dirMode(0o711)},
		{name: "mode 0770", breakIt: dirMode(0o770), reason: "mode 0770 is writable by group or others"},
		{name: "mode 0720", breakIt: dirMode(0o720), reason: "writable by group or others"},
		{name: "mode 0702", breakIt: dirMode(0o702), reason: "writable by group or others"},
		{name: "mode 0777", breakIt: dirMode(0o777), reason: "writable by group or others"},
		{name: "mode 1777", breakIt: dirMode(0o1777), reason: "writable by group or others"},
		{name: "symbolic link", reason: "not a directory", breakIt: func(t *testing.T, e *env) string {
			link := filepath.Join(e.root, "link")
			if err := os.Symlink(e.dir, link); err != nil {
				t.Fatal(err)
			}
			return link
		}},
		{name: "regular file", reason: "not a directory", breakIt: func(t *testing.T, e *env) string {
			path := filepath.Join(e.root, "file")
			writeFile(t, path, nil, 0o600)
			return path
		}},
		{name: "wrong owner", needRoot: true, reason: "owned by uid", breakIt: func(t *testing.T, e *env) string {
			if err := os.Chown(e.dir, otherUID, -1); err != nil {
				t.Fatal(err)
			}
			return e.dir
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.needRoot && os.Geteuid() != 0 {
				t.Skip("changing a directory's owner needs root")
			}
			e := newEnv(t)
			e.save(t, newState("alice"))
			dir := tt.breakIt(t, e)
			before := snapshot(t, e.root)

			_, err := store.Open(dir, e.key)
			cfg := config.Default()
			cfg.StateDir, cfg.KeyFile = dir, e.key
			_, perr := policy.New(cfg)
			if tt.reason == "" {
				if err != nil || perr != nil {
					t.Errorf("Open = %v, policy.New = %v, want both to succeed", err, perr)
				}
				return
			}
			checkRefusal(t, "Open", err, false, dir, tt.reason)
			checkRefusal(t, "policy.New", perr, false, dir, tt.reason)
			checkUnchanged(t, e.root, before)
		})
	}
}

func dirMode(mode os.FileMode) func(t *testing.T, e *env) string {
	return func(t *testing.T, e *env) string {
		if err := os.Chmod(e.dir, mode); err != nil {
			t.Fatal(err)
		}
		return e.dir
	}
}

func TestMissing(t *testing.T) {
	e := newEnv(t)
	e.save(t, newState("alice"))
	if err := os.Remove(e.key); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, e.root)
	_, err := e.s.Load("alice")
	if !errors.Is(err, store.ErrNoKey) || !strings.Contains(err.Error(), e.key) {
		t.Errorf("Load without a key = %v, want ErrNoKey naming %s", err, e.key)
	}
	checkUnchanged(t, e.root, before)

	_, err = store.Open(filepath.Join(e.root, "nowhere"), e.key)
	if err == nil || !strings.Contains(err.Error(), "totpctl init") {
		t.Errorf("Open of a missing directory = %v, want an error that says to run totpctl init", err)
	}
}

// TestDanglingLockCreatesNothing checks that a lock file that is a link to
// a missing file does not create that file.
func TestDanglingLockCreatesNothing(t *testing.T) {
	e := newEnv(t)
	target := filepath.Join(e.root, "created-through-link")
	if err := os.Symlink(target, e.lockPath("alice")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Begin("alice"); err == nil {
		t.Fatal("Begin through a dangling lock link succeeded")
	}
	if _, err := os.Lstat(target); err == nil {
		t.Errorf("Begin created %s through the lock file's link", target)
	}
}
