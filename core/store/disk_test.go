package store_test

import (
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/pam-totp/pam-totp/core/backup"
	"github.com/pam-totp/pam-totp/core/otp"
	"github.com/pam-totp/pam-totp/core/policy"
	"github.com/pam-totp/pam-totp/core/store"
)

// newTmpfsEnv makes a store on a tmpfs of 64 KiB, so that a test can fill
// it.
func newTmpfsEnv(t *testing.T) *env {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root; TestSaveFileSizeLimit covers failing writes without it")
	}
	mnt := filepath.Join(t.TempDir(), "mnt")
	if err := os.Mkdir(mnt, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=64k,mode=0700"); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v); TestSaveFileSizeLimit covers failing writes", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(mnt, 0); err != nil {
			t.Errorf("unmounting %s: %v", mnt, err)
		}
	})
	e := &env{root: mnt, dir: filepath.Join(mnt, "state"), key: filepath.Join(mnt, "host.key")}
	if err := os.Mkdir(e.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := store.CreateKey(e.key, rand.Reader); err != nil {
		t.Fatal(err)
	}
	e.s = e.open(t)
	return e
}

// fill writes a file in dir until the file system is full.
func fill(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling the disk: %v", err)
			}
			return path
		}
	}
}

// TestSaveFullDisk fills the file system of the state directory and checks
// that a Save fails and leaves the old state, and that a login with a right
// code is refused, not let through, and does not use the code up.
func TestSaveFullDisk(t *testing.T) {
	e := newTmpfsEnv(t)
	old := newState("alice")
	_, old.Backup, _ = backup.Generate(rand.Reader, 10)
	e.save(t, old)
	filler := fill(t, e.root)
	before := snapshot(t, e.root)

	tx, err := e.s.Begin("alice")
	if err != nil {
		t.Fatal(err)
	}
	st, err := tx.Load()
	if err != nil {
		t.Fatal(err)
	}
	st.Failures++
	err = tx.Save(st)
	tx.Close()
	if !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("Save on a full disk = %v, want ENOSPC", err)
	}

	v := verifier(e)
	code := otp.TOTP(testSecret, testNow, otp.DefaultParams)
	for _, input := range []string{code, "000000"} {
		res, err := v.Verify("alice", input)
		if !errors.Is(err, syscall.ENOSPC) || res != (policy.Result{}) {
			t.Errorf("Verify(%q) on a full disk = %+v, %v; want a zero Result and ENOSPC", input, res, err)
		}
	}
	checkUnchanged(t, e.root, before)
	if got := e.load(t, "alice"); !reflect.DeepEqual(got, old) {
		t.Errorf("state after failed saves = %+v, want %+v", got, old)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify("alice", code); err != nil {
		t.Errorf("Verify once there is space again: %v", err)
	}
}

// TestSaveFileSizeLimit makes the write of a Save fail in another process,
// whose file size limit is smaller than a state file.
func TestSaveFileSizeLimit(t *testing.T) {
	e := newEnv(t)
	e.save(t, newState("alice"))
	before := snapshot(t, e.root)

	out, err := helperCommand(t, e, "fsize").CombinedOutput()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "file too large") {
		t.Errorf("Save over the file size limit failed with %q, want EFBIG", out)
	}
	checkUnchanged(t, e.root, before)
	if got := e.load(t, "alice"); !reflect.DeepEqual(got, newState("alice")) {
		t.Errorf("state after a failed save = %+v, want it unchanged", got)
	}
}
