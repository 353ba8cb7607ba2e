package store_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pam-totp/pam-totp/core/backup"
	"github.com/pam-totp/pam-totp/core/otp"
	"github.com/pam-totp/pam-totp/core/store"
)

// maxStateSize is the largest state file the store reads, as in store.go.
const maxStateSize = 64 << 10

// env is a store in a fresh directory: root holds the state directory and
// the host key, so that a snapshot of root shows every change.
type env struct {
	root string
	dir  string
	key  string
	s    *store.Store
}

func newEnv(t testing.TB) *env {
	t.Helper()
	root := t.TempDir()
	e := &env{root: root, dir: filepath.Join(root, "state"), key: filepath.Join(root, "host.key")}
	if err := os.Mkdir(e.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := store.CreateKey(e.key, rand.Reader); err != nil {
		t.Fatal(err)
	}
	e.s = e.open(t)
	return e
}

// open returns a second handle on the store, as another process has.
func (e *env) open(t testing.TB) *store.Store {
	t.Helper()
	s, err := store.Open(e.dir, e.key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (e *env) statePath(user string) string { return filepath.Join(e.dir, user+".totp") }
func (e *env) lockPath(user string) string  { return filepath.Join(e.dir, user+".lock") }

// testSecret is the secret of RFC 4226, Appendix D.
var testSecret = []byte("12345678901234567890")

func newState(user string) *store.State {
	return &store.State{
		User:    user,
		Secret:  bytes.Clone(testSecret),
		Params:  otp.DefaultParams,
		Issuer:  "example.org",
		Created: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
	}
}

// save writes st in a transaction of its own.
func (e *env) save(t testing.TB, st *store.State) {
	t.Helper()
	tx, err := e.s.Begin(st.User)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	if err := tx.Save(st); err != nil {
		t.Fatal(err)
	}
}

func (e *env) load(t testing.TB, user string) *store.State {
	t.Helper()
	st, err := e.s.Load(user)
	if err != nil {
		t.Fatalf("Load(%q): %v", user, err)
	}
	return st
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t testing.TB, path string, data []byte, perm fs.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, data, perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil {
		t.Fatal(err)
	}
}

// entry is what a snapshot keeps of one directory entry.
type entry struct {
	Mode fs.FileMode
	UID  uint32
	Ino  uint64
	Link string // target of a symbolic link
	Data string // content of a regular file
}

// snapshot records every entry under root without following links or
// opening anything but regular files.
func snapshot(t testing.TB, root string) map[string]entry {
	t.Helper()
	m := map[string]entry{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(path)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		en := entry{Mode: fi.Mode(), UID: st.Uid, Ino: st.Ino}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			en.Link, err = os.Readlink(path)
		case fi.Mode().IsRegular():
			var b []byte
			b, err = os.ReadFile(path)
			en.Data = string(b)
		}
		rel, _ := filepath.Rel(root, path)
		m[rel] = en
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// checkUnchanged reports every entry under root that differs from before.
func checkUnchanged(t testing.TB, root string, before map[string]entry) {
	t.Helper()
	after := snapshot(t, root)
	for name, b := range before {
		a, ok := after[name]
		switch {
		case !ok:
			t.Errorf("%s was removed", name)
		case a != b:
			t.Errorf("%s changed: got %+.60v, want %+.60v", name, a, b)
		}
	}
	for name := range after {
		if _, ok := before[name]; !ok {
			t.Errorf("%s was created", name)
		}
	}
}

func listDir(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

func TestRoundTrip(t *testing.T) {
	e := newEnv(t)
	h, err := backup.HashCode(rand.Reader, "23456789abcd")
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2025, 6, 7, 8, 9, 10, 11, time.UTC)
	tests := []*store.State{
		newState("alice"),
		{
			User:        "bob@example.org",
			Secret:      bytes.Repeat([]byte{0xff}, otp.MaxSecretSize),
			Params:      otp.Params{Algorithm: otp.SHA512, Digits: 8, Period: 60},
			Created:     day,
			Confirmed:   day.Add(time.Minute),
			LastStep:    1<<40 + 7,
			LastUsed:    day.Add(time.Hour),
			Failures:    3,
			Lockouts:    2,
			LockedUntil: day.Add(2 * time.Hour),
			Backup:      []backup.Hash{h, h},
		},
		{User: "c_d-e.f$", Secret: make([]byte, 10), Params: otp.Params{Algorithm: otp.SHA256, Digits: 7, Period: 15}},
	}
	for _, want := range tests {
		e.save(t, want)
		got := e.load(t, want.User)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Load(%q) = %+v, want %+v", want.User, got, want)
		}
	}
	got := e.load(t, "alice")
	if got.Key().URI() != newState("alice").Key().URI() {
		t.Errorf("Key().URI() = %q, want %q", got.Key().URI(), newState("alice").Key().URI())
	}
}

// TestFormatVersion1 opens a state file sealed by the first release, so
// that a change of format that would lock every enrolled user out fails here
// first. testdata/v1 holds the host key and the file; the key is for tests
// only.
func TestFormatVersion1(t *testing.T) {
	e := newEnv(t)
	if err := os.Remove(e.key); err != nil {
		t.Fatal(err)
	}
	writeFile(t, e.key, readFile(t, "testdata/v1/host.key"), 0o400)
	writeFile(t, e.statePath("alice"), readFile(t, "testdata/v1/alice.totp"), 0o600)

	got := e.load(t, "alice")
	want := &store.State{
		User:        "alice",
		Secret:      testSecret,
		Params:      otp.Params{Algorithm: otp.SHA256, Digits: 8, Period: 30},
		Issuer:      "example.org",
		Created:     time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		Confirmed:   time.Date(2025, 1, 2, 3, 5, 0, 0, time.UTC),
		LastStep:    58008,
		LastUsed:    time.Date(2025, 1, 3, 0, 0, 0, 0, time.UTC),
		Failures:    2,
		Lockouts:    1,
		LockedUntil: time.Date(2025, 1, 3, 0, 1, 0, 0, time.UTC),

		ConsecutiveFailures: 12,
	}
	backups := got.Backup
	got.Backup = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("state = %+v, want %+v", got, want)
	}
	if len(backups) != 2 {
		t.Fatalf("%d backup hashes, want 2", len(backups))
	}
	for i, code := range []string{"23456789abcd", "efghjkmnpqrs"} {
		if got := backup.Match(backups, code); got != i {
			t.Errorf("backup.Match(%q) = %d, want %d", code, got, i)
		}
	}
	if got, want := e.load(t, "alice").Key().URI(),
		"otpauth://totp/example.org:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=example.org&algorithm=SHA256&digits=8"; got != want {
		t.Errorf("URI = %q, want %q", got, want)
	}
}

func TestValidUser(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"alice", true},
		{"a", true},
		{"Alice_Smith-2", true},
		{"user@example.org", true},
		{"machine$", true},
		{"a..b", false},
		{"a.", true},
		{"9lives", true},
		{strings.Repeat("x", 64), true},

		{"", false},
		{strings.Repeat("x", 65), false},
		{".", false},
		{"..", false},
		{"../etc/shadow", false},
		{"x/..", false},
		{"a/b", false},
		{"/root", false},
		{".hidden", false},
		{"-rf", false},
		{"-", false},
		{"a b", false},
		{" alice", false},
		{"alice\n", false},
		{"al\x00ice", false},
		{"a\tb", false},
		{"\x7f", false},
		{"a\\b", false},
		{"a:b", false},
		{"a*", false},
		{"jürgen", false},
		{"ユーザー", false},
		{"alice\u200b", false}, // zero-width space
		{"\xff\xfe", false},
	}
	for _, tt := range tests {
		err := store.ValidUser(tt.name)
		if got := err == nil; got != tt.ok {
			t.Errorf("ValidUser(%q) = %v, want ok=%v", tt.name, err, tt.ok)
		}
		if err != nil && !errors.Is(err, store.ErrInvalidUser) {
			t.Errorf("ValidUser(%q) = %v, want an error wrapping ErrInvalidUser", tt.name, err)
		}
	}
}

// TestInvalidUserTouchesNothing checks that every entry point refuses an
// invalid name before it creates a lock file or anything else.
func TestInvalidUserTouchesNothing(t *testing.T) {
	e := newEnv(t)
	e.save(t, newState("alice"))
	before := snapshot(t, e.root)
	for _, name := range []string{"../alice", "../../etc/x", "", ".alice", "-alice", "alice/"} {
		if _, err := e.s.Begin(name); !errors.Is(err, store.ErrInvalidUser) {
			t.Errorf("Begin(%q) = %v, want ErrInvalidUser", name, err)
		}
		if _, err := e.s.Load(name); !errors.Is(err, store.ErrInvalidUser) {
			t.Errorf("Load(%q) = %v, want ErrInvalidUser", name, err)
		}
		if _, err := e.s.Enrolled(name); !errors.Is(err, store.ErrInvalidUser) {
			t.Errorf("Enrolled(%q) = %v, want ErrInvalidUser", name, err)
		}
	}
	checkUnchanged(t, e.root, before)
}

func TestEnrolledCreatesNothing(t *testing.T) {
	e := newEnv(t)
	e.save(t, newState("alice"))
	before := snapshot(t, e.root)
	tests := []struct {
		user string
		want bool
	}{
		{"alice", true},
		{"bob", false},
		{"alice.totp", false},
	}
	for _, tt := range tests {
		got, err := e.s.Enrolled(tt.user)
		if err != nil || got != tt.want {
			t.Errorf("Enrolled(%q) = %v, %v, want %v, nil", tt.user, got, err, tt.want)
		}
	}
	checkUnchanged(t, e.root, before)
}

func TestUsers(t *testing.T) {
	e := newEnv(t)
	if got, err := e.s.Users(); err != nil || len(got) != 0 {
		t.Fatalf("Users() of an empty store = %q, %v, want none", got, err)
	}
	for _, u := range []string{"carol", "alice", "bob@example.org"} {
		e.save(t, newState(u))
	}
	for _, name := range []string{
		".alice.totp.tmp", // a temporary file a crash left
		".dave.totp",
		"-eve.totp",
		".totp",
		"frank.totp.bak",
		"grace.lock",
		"README",
	} {
		writeFile(t, filepath.Join(e.dir, name), []byte("x"), 0o600)
	}
	got, err := e.s.Users()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"alice", "bob@example.org", "carol"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Users() = %q, want %q", got, want)
	}
}

// TestSaveFiles checks what a Save leaves behind: the state file, mode 0600,
// and the lock file, and no temporary file.
func TestSaveFiles(t *testing.T) {
	e := newEnv(t)
	st := newState("alice")
	for i := range 5 {
		st.Failures = i
		e.save(t, st)
	}
	if got, want := listDir(t, e.dir), []string{".rotation.lock", "alice.lock", "alice.totp"}; !reflect.DeepEqual(got, want) {
		t.Errorf("state directory holds %q, want %q", got, want)
	}
	for _, path := range []string{e.statePath("alice"), e.lockPath("alice")} {
		fi, err := os.Lstat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode(); got != 0o600 {
			t.Errorf("%s has mode %v, want -rw-------", path, got)
		}
		if uid := fi.Sys().(*syscall.Stat_t).Uid; int(uid) != os.Geteuid() {
			t.Errorf("%s is owned by uid %d, want %d", path, uid, os.Geteuid())
		}
	}
	if got := e.load(t, "alice").Failures; got != 4 {
		t.Errorf("Failures = %d after the last save, want 4", got)
	}
}

func TestSaveOtherUser(t *testing.T) {
	e := newEnv(t)
	tx, err := e.s.Begin("alice")
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	if err := tx.Save(newState("bob")); err == nil {
		t.Error("saving bob's state in alice's transaction succeeded")
	}
	if got, want := listDir(t, e.dir), []string{".rotation.lock", "alice.lock"}; !reflect.DeepEqual(got, want) {
		t.Errorf("state directory holds %q, want %q", got, want)
	}
}

func TestNotEnrolled(t *testing.T) {
	e := newEnv(t)
	if _, err := e.s.Load("alice"); !errors.Is(err, store.ErrNotEnrolled) {
		t.Errorf("Load = %v, want ErrNotEnrolled", err)
	}
	tx, err := e.s.Begin("alice")
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	if err := tx.Delete(); !errors.Is(err, store.ErrNotEnrolled) {
		t.Errorf("Delete = %v, want ErrNotEnrolled", err)
	}
}

func TestDelete(t *testing.T) {
	e := newEnv(t)
	e.save(t, newState("alice"))
	e.save(t, newState("bob"))
	tx, err := e.s.Begin("alice")
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Delete(); err != nil {
		t.Fatal(err)
	}
	tx.Close()
	tx.Close() // a second Close is harmless

	if ok, err := e.s.Enrolled("alice"); ok || err != nil {
		t.Errorf("Enrolled(alice) after Delete = %v, %v, want false, nil", ok, err)
	}
	if got, _ := e.s.Users(); !reflect.DeepEqual(got, []string{"bob"}) {
		t.Errorf("Users() = %q, want [bob]", got)
	}
	e.load(t, "bob")
}

// TestLockTimeout holds alice's lock in one transaction while another
// handle on the store, as another process would, waits for it.
func TestLockTimeout(t *testing.T) {
	e := newEnv(t)
	e.save(t, newState("alice"))
	held, err := e.s.Begin("alice")
	if err != nil {
		t.Fatal(err)
	}
	other := e.open(t)
	other.LockTimeout = 100 * time.Millisecond

	_, err = other.Begin("alice")
	if !errors.Is(err, store.ErrBusy) {
		t.Fatalf("Begin while the lock is held = %v, want ErrBusy", err)
	}
	wants := []string{`"alice"`, e.lockPath("alice"), "another login or totpctl command", "try again"}
	for _, want := range wants {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	tx, err := other.Begin("bob")
	if err != nil {
		t.Fatalf("Begin(bob) while alice is locked: %v", err)
	}
	tx.Close()

	held.Close()
	tx, err = other.Begin("alice")
	if err != nil {
		t.Fatalf("Begin after the lock was released: %v", err)
	}
	tx.Close()
}

func TestCreateKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "host.key")
	if err := store.CreateKey(path, rand.Reader); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode() != 0o400 || fi.Size() != store.KeySize {
		t.Errorf("key file: mode %v, %d bytes; want -r--------, %d bytes", fi.Mode(), fi.Size(), store.KeySize)
	}
	key := readFile(t, path)

	if err := store.CreateKey(path, rand.Reader); !errors.Is(err, fs.ErrExist) {
		t.Errorf("CreateKey over an existing key = %v, want an error wrapping fs.ErrExist", err)
	}
	if !bytes.Equal(readFile(t, path), key) {
		t.Error("CreateKey over an existing key changed it")
	}

	// A symbolic link at the path is refused, and its target not created.
	link, target := filepath.Join(dir, "link.key"), filepath.Join(dir, "target")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := store.CreateKey(link, rand.Reader); err == nil {
		t.Error("CreateKey through a symbolic link succeeded")
	}
	if _, err := os.Lstat(target); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("CreateKey created the link's target: %v", err)
	}

	// A failing source of randomness leaves nothing behind.
	if err := store.CreateKey(filepath.Join(dir, "short.key"), bytes.NewReader(make([]byte, 5))); err == nil {
		t.Error("CreateKey with 5 random bytes succeeded")
	}
	if got := listDir(t, dir); !reflect.DeepEqual(got, []string{"host.key", "link.key"}) {
		t.Errorf("directory holds %q, want [host.key link.key]", got)
	}
}

// TestSaveRemovesTemporaries checks that a save clears what a killed writer
// of the same user left behind, and only that.
func TestSaveRemovesTemporaries(t *testing.T) {
	e := newEnv(t)
	for _, name := range []string{".alice.totp.tmp", ".bob.totp.tmp"} {
		if err := os.WriteFile(filepath.Join(e.dir, name), []byte("torn"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	st := newState("alice")
	st.Failures = 3
	e.save(t, st)
	want := []string{".bob.totp.tmp", ".rotation.lock", "alice.lock", "alice.totp"}
	if got := listDir(t, e.dir); !reflect.DeepEqual(got, want) {
		t.Errorf("state directory holds %q, want %q", got, want)
	}
	if got := e.load(t, "alice").Failures; got != 3 {
		t.Errorf("Failures = %d after the save, want 3", got)
	}
}
