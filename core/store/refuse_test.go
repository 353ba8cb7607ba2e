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

// A breaker breaks the store of a test.
type breaker = func(t *testing.T, e *env)

// refusal is a way to break a store that every read must refuse, without
// changing anything on disk.
type refusal struct {
	name     string
	needRoot bool
	user     string // alice if empty
	breakIt  breaker
	path     func(e *env) string // the path the error must name
	corrupt  bool                // a *CorruptError, else an *UnsafeError
	reason   string              // part of the message
}

func stateOf(user string) func(*env) string {
	return func(e *env) string { return e.statePath(user) }
}

func alicePath(e *env) string  { return e.statePath("alice") }
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

// replace removes the file at path and has fn make another.
func replace(path func(*env) string, fn func(t *testing.T, path string)) func(*testing.T, *env) {
	return func(t *testing.T, e *env) {
		p := path(e)
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
		fn(t, p)
	}
}

// create has fn make a file at path.
func create(path func(*env) string, fn func(t *testing.T, path string)) func(*testing.T, *env) {
	return func(t *testing.T, e *env) { fn(t, path(e)) }
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

// danglingSymlink makes a link to a missing file in the test's root.
func danglingSymlink(t *testing.T, path string) {
	root := filepath.Dir(filepath.Dir(path))
	if err := os.Symlink(filepath.Join(root, "missing"), path); err != nil {
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

// Constructors of refusals: corrupt content of alice's state file, a
// corrupt file at path, and an unsafe file at path.
func badState(name string, breakIt breaker, reason string) refusal {
	return refusal{name: name, breakIt: breakIt, corrupt: true, reason: reason}
}

func badFile(name string, path func(*env) string, breakIt breaker, reason string) refusal {
	return refusal{name: name, path: path, breakIt: breakIt, corrupt: true, reason: reason}
}

func unsafeFile(name string, path func(*env) string, breakIt breaker, reason string) refusal {
	return refusal{name: name, path: path, breakIt: breakIt, reason: reason}
}

// at and fromEnd give offsets in a file of n bytes.
func at(i int) func(int) int      { return func(int) int { return i } }
func fromEnd(i int) func(int) int { return func(n int) int { return n - i } }

func refusals() []refusal {
	const (
		notState   = "not a pam-totp state file"
		otherKey   = "not the current host key"
		authFailed = "authentication failed"
		truncated  = "truncated"
		keySize    = "exactly 32 bytes"
		link       = "symbolic link"
		notRegular = "not a regular file"
		owner      = "owned by uid 65534, not root; fix with: chown root "
	)
	rs := []refusal{
		badState("magic first byte", flipAt(at(0)), notState),
		badState("magic last byte", flipAt(at(versionAt-1)), notState),
		badState("version", flipAt(at(versionAt)), "format version 0 is not supported"),
		badState("key id first byte", flipAt(at(keyIDAt)), otherKey),
		badState("key id last byte", flipAt(at(nonceAt-1)), otherKey),
		badState("nonce first byte", flipAt(at(nonceAt)), authFailed),
		badState("nonce last byte", flipAt(at(bodyAt-1)), authFailed),
		badState("ciphertext first byte", flipAt(at(bodyAt)), authFailed),
		badState("ciphertext middle byte", flipAt(func(n int) int { return (bodyAt + n - tagSize) / 2 }), authFailed),
		badState("ciphertext last byte", flipAt(fromEnd(tagSize+1)), authFailed),
		badState("tag first byte", flipAt(fromEnd(tagSize)), authFailed),
		badState("tag last byte", flipAt(fromEnd(1)), authFailed),

		badState("empty", truncateTo(at(0)), "file is empty"),
		badState("truncated to 1", truncateTo(at(1)), notState),
		badState("truncated to magic", truncateTo(at(versionAt)), notState),
		badState("truncated to magic and version", truncateTo(at(keyIDAt)), truncated),
		badState("truncated to header", truncateTo(at(nonceAt)), truncated),
		badState("truncated to nonce", truncateTo(at(bodyAt)), truncated),
		badState("truncated inside the tag", truncateTo(at(bodyAt+tagSize-1)), truncated),
		badState("truncated to nonce and tag", truncateTo(at(bodyAt+tagSize)), authFailed),
		badState("truncated to half", truncateTo(func(n int) int { return n / 2 }), authFailed),
		badState("last byte cut", truncateTo(fromEnd(1)), authFailed),
		badState("byte appended", editState(func(b []byte) []byte { return append(b, 0) }), authFailed),
		badState("largest size read", padTo(maxStateSize), authFailed),
		badState("oversized", padTo(maxStateSize+1), "too large"),

		badState("wrong key", replace(keyPath, newKey), otherKey),
		badState("sealed by another host", editState(func([]byte) []byte {
			b, err := os.ReadFile("testdata/v1/alice.totp")
			if err != nil {
				panic(err)
			}
			return b
		}), otherKey),
		{name: "copied to another user", user: "bob", path: stateOf("bob"), corrupt: true, reason: authFailed,
			breakIt: func(t *testing.T, e *env) {
				writeFile(t, e.statePath("bob"), readFile(t, e.statePath("alice")), 0o600)
			}},
		{name: "renamed to another user", user: "bob", path: stateOf("bob"), corrupt: true, reason: authFailed,
			breakIt: func(t *testing.T, e *env) {
				if err := os.Rename(e.statePath("alice"), e.statePath("bob")); err != nil {
					t.Fatal(err)
				}
			}},

		badFile("key of 31 bytes", keyPath, replace(keyPath, zeros(31)), keySize),
		badFile("key of 33 bytes", keyPath, replace(keyPath, zeros(33)), keySize),
		badFile("empty key", keyPath, replace(keyPath, zeros(0)), keySize),
		badFile("empty new key", newKeyPath, create(newKeyPath, zeros(0)), keySize),

		unsafeFile("state file symlink", alicePath, symlinkToCopy(alicePath), link),
		unsafeFile("state file dangling symlink", alicePath, replace(alicePath, danglingSymlink), link),
		unsafeFile("state file FIFO", alicePath, replace(alicePath, fifo), notRegular),
		unsafeFile("state file directory", alicePath, replace(alicePath, directory), notRegular),

		unsafeFile("key symlink", keyPath, symlinkToCopy(keyPath), link),
		unsafeFile("key dangling symlink", keyPath, replace(keyPath, danglingSymlink), link),
		unsafeFile("key FIFO", keyPath, replace(keyPath, fifo), notRegular),
		unsafeFile("key directory", keyPath, replace(keyPath, directory), notRegular),
		unsafeFile("new key symlink", newKeyPath, create(newKeyPath, linkToKey), link),
		unsafeFile("new key FIFO", newKeyPath, create(newKeyPath, fifo), notRegular),

		unsafeFile("lock symlink", lockPath, symlinkToCopy(lockPath), link),
		unsafeFile("lock dangling symlink", lockPath, replace(lockPath, danglingSymlink), link),
		unsafeFile("lock FIFO", lockPath, replace(lockPath, fifo), notRegular),
	}
	files := []struct {
		name string
		path func(*env) string
	}{{"state file", alicePath}, {"key", keyPath}, {"lock", lockPath}}
	for _, f := range files {
		r := unsafeFile(f.name+" wrong owner", f.path, chown(f.path), owner)
		r.needRoot = true
		rs = append(rs, r)
		for _, mode := range []os.FileMode{0o640, 0o604, 0o660, 0o606, 0o610, 0o601} {
			rs = append(rs, unsafeFile(fmt.Sprintf("%s mode %04o", f.name, mode), f.path,
				chmod(f.path, mode), fmt.Sprintf("mode %04o is open to group or others", mode)))
		}
	}
	r := unsafeFile("new key wrong owner", newKeyPath, func(t *testing.T, e *env) {
		writeFile(t, newKeyPath(e), readFile(t, e.key), 0o400)
		chown(newKeyPath)(t, e)
	}, owner)
	r.needRoot = true
	return append(rs, r)
}

func padTo(size int) func(*testing.T, *env) {
	return editState(func(b []byte) []byte { return append(b, make([]byte, size-len(b))...) })
}

func zeros(n int) func(*testing.T, string) {
	return func(t *testing.T, path string) { writeFile(t, path, make([]byte, n), 0o400) }
}

func newKey(t *testing.T, path string) {
	if err := store.CreateKey(path, rand.Reader); err != nil {
		t.Fatal(err)
	}
}

func linkToKey(t *testing.T, path string) {
	if err := os.Symlink(strings.TrimSuffix(path, store.NewKeySuffix), path); err != nil {
		t.Fatal(err)
	}
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
	checkFix(t, op, err)
}

// fixes are the ways an error of the store may tell an administrator what
// to do; each refusal must say one.
var fixes = []string{
	"restore the file from a backup, or enroll anew: totpctl enroll --force ",
	"restore the host key from a backup",
	"replace it with the host key file itself, owned by root, mode 0400",
	"remove it: the next login creates the lock file again",
	"fix with: chown root ",
	"fix with: chmod go-rwx ",
	"make it one, owned by root, mode 0700",
}

func checkFix(t *testing.T, op string, err error) {
	t.Helper()
	for _, fix := range fixes {
		if strings.Contains(err.Error(), fix) {
			return
		}
	}
	t.Errorf("%s: error %q does not say what to do", op, err)
}

// TestRefusalFixes checks the whole message of a refusal of each kind of
// file, where the fix depends on the file.
func TestRefusalFixes(t *testing.T) {
	tests := []struct {
		name    string
		breakIt breaker
		want    func(e *env) string
	}{
		{"state file symlink", symlinkToCopy(alicePath), func(e *env) string {
			return "store: refusing " + e.statePath("alice") + ": is a symbolic link, which is never " +
				"followed; remove it, then restore the file from a backup, or enroll anew: " +
				"totpctl enroll --force alice"
		}},
		{"state file FIFO", replace(alicePath, fifo), func(e *env) string {
			return "store: refusing " + e.statePath("alice") + ": not a regular file; remove it, then " +
				"restore the file from a backup, or enroll anew: totpctl enroll --force alice"
		}},
		{"modified state file", flipAt(at(bodyAt)), func(e *env) string {
			return "store: " + e.statePath("alice") + ": authentication failed: the file was modified, " +
				"truncated, or belongs to another user; restore the file from a backup, or enroll " +
				"anew: totpctl enroll --force alice"
		}},
		{"key symlink", symlinkToCopy(keyPath), func(e *env) string {
			return "store: refusing " + e.key + ": is a symbolic link, which is never followed; " +
				"replace it with the host key file itself, owned by root, mode 0400; if need be, " +
				"restore the host key from a backup: without it, no state file opens"
		}},
		{"short key", replace(keyPath, zeros(31)), func(e *env) string {
			return "store: " + e.key + ": a host key must be exactly 32 bytes; " +
				"restore the host key from a backup: without it, no state file opens"
		}},
		{"lock symlink", symlinkToCopy(lockPath), func(e *env) string {
			return "store: refusing " + e.lockPath("alice") + ": is a symbolic link, which is never " +
				"followed; remove it: the next login creates the lock file again"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.save(t, newState("alice"))
			tt.breakIt(t, e)
			_, err := e.s.Load("alice")
			if err == nil || err.Error() != tt.want(e) {
				t.Errorf("Load = %v\nwant %s", err, tt.want(e))
			}
		})
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
		{name: "wrong owner", needRoot: true, reason: "owned by uid",
			breakIt: func(t *testing.T, e *env) string {
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
