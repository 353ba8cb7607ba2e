package store_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io/fs"
	"os"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pam-totp/pam-totp/core/otp"
	"github.com/pam-totp/pam-totp/core/store"
)

var rekeyUsers = []string{"alice", "bob", "carol"}

// newRekeyEnv returns a store with rekeyUsers enrolled, each with a state
// of its own.
func newRekeyEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t)
	for i, u := range rekeyUsers {
		st := newState(u)
		st.Failures = i
		e.save(t, st)
	}
	return e
}

// fileKeyID returns the key id in the header of user's state file.
func (e *env) fileKeyID(t *testing.T, user string) store.KeyID {
	t.Helper()
	var id store.KeyID
	copy(id[:], readFile(t, e.statePath(user))[keyIDAt:nonceAt])
	return id
}

func (e *env) keyIDs(t *testing.T) []store.KeyID {
	t.Helper()
	ids, err := e.s.KeyIDs()
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// states loads the state of every user in rekeyUsers.
func (e *env) states(t *testing.T) map[string]*store.State {
	t.Helper()
	m := map[string]*store.State{}
	for _, u := range rekeyUsers {
		m[u] = e.load(t, u)
	}
	return m
}

// checkRekeyed checks that the rotation is over: only the key in the key
// file, which is newKey if not nil, and every state file sealed with it and
// holding the state in want.
func (e *env) checkRekeyed(t *testing.T, oldID store.KeyID, newKey []byte, want map[string]*store.State) {
	t.Helper()
	ids := e.keyIDs(t)
	if len(ids) != 1 || ids[0] == oldID {
		t.Fatalf("KeyIDs() = %v after the rotation, want one new id", ids)
	}
	if _, err := os.Lstat(e.key + store.NewKeySuffix); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the new key file is still there: %v", err)
	}
	fi, err := os.Lstat(e.key)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode() != 0o400 {
		t.Errorf("key file mode %v, want -r--------", fi.Mode())
	}
	if newKey != nil && !bytes.Equal(readFile(t, e.key), newKey) {
		t.Error("the key file does not hold the new key")
	}
	for _, u := range rekeyUsers {
		if got := e.fileKeyID(t, u); got != ids[0] {
			t.Errorf("%s is sealed with key %v, want %v", u, got, ids[0])
		}
	}
	if got := e.states(t); !reflect.DeepEqual(got, want) {
		t.Errorf("states after the rotation = %+v, want %+v", got, want)
	}
}

func TestRekey(t *testing.T) {
	e := newRekeyEnv(t)
	oldID, oldKey := e.keyIDs(t)[0], readFile(t, e.key)
	oldAlice := readFile(t, e.statePath("alice"))
	want := e.states(t)

	var done []string
	err := e.s.Rekey(func(u string, resealed bool) {
		if resealed {
			done = append(done, u)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(done, rekeyUsers) {
		t.Errorf("Rekey reported %q, want %q", done, rekeyUsers)
	}
	e.checkRekeyed(t, oldID, nil, want)
	if bytes.Equal(readFile(t, e.key), oldKey) {
		t.Error("the key file still holds the old key")
	}
	if got := listDir(t, e.root); !reflect.DeepEqual(got, []string{"host.key", "state"}) {
		t.Errorf("key directory holds %q, want [host.key state]", got)
	}

	// A file sealed with the old key no longer opens.
	writeFile(t, e.statePath("alice"), oldAlice, 0o600)
	var ce *store.CorruptError
	if _, err := e.s.Load("alice"); !errors.As(err, &ce) {
		t.Errorf("Load of a file sealed with the old key = %v, want a *CorruptError", err)
	}
}

// TestRekeyInterrupted leaves a rotation half done, as a crash would: the
// new key made and some files re-sealed with it. Every user must still log
// in, and Rekey must finish the job.
func TestRekeyInterrupted(t *testing.T) {
	e := newRekeyEnv(t)
	oldID := e.keyIDs(t)[0]
	if err := store.CreateKey(e.key+store.NewKeySuffix, rand.Reader); err != nil {
		t.Fatal(err)
	}
	newKey := readFile(t, e.key+store.NewKeySuffix)
	ids := e.keyIDs(t)
	if len(ids) != 2 || ids[1] != oldID {
		t.Fatalf("KeyIDs() during the rotation = %v, want [new %v]", ids, oldID)
	}
	newID := ids[0]

	tx, err := e.s.Begin("alice")
	if err != nil {
		t.Fatal(err)
	}
	st, err := tx.Load()
	if err == nil {
		err = tx.Save(st)
	}
	tx.Close()
	if err != nil {
		t.Fatal(err)
	}
	for u, want := range map[string]store.KeyID{"alice": newID, "bob": oldID, "carol": oldID} {
		if got := e.fileKeyID(t, u); got != want {
			t.Errorf("%s is sealed with %v, want %v", u, got, want)
		}
		e.load(t, u)
	}

	// A login of a user still sealed with the old key works, and re-seals
	// the file with the new key.
	code := otp.TOTP(testSecret, testNow, otp.DefaultParams)
	if _, err := verifier(e).Verify("bob", code); err != nil {
		t.Fatalf("Verify(bob) during the rotation: %v", err)
	}
	if got := e.fileKeyID(t, "bob"); got != newID {
		t.Errorf("after a login bob is sealed with %v, want the new key %v", got, newID)
	}
	if _, err := verifier(e).Verify("carol", code); err != nil {
		t.Fatalf("Verify(carol) during the rotation: %v", err)
	}
	want := e.states(t)

	if err := e.s.Rekey(nil); err != nil {
		t.Fatal(err)
	}
	e.checkRekeyed(t, oldID, newKey, want)
}

// TestRekeyResumes makes a rotation fail on one user's file, then repairs
// it and runs the rotation again.
func TestRekeyResumes(t *testing.T) {
	e := newRekeyEnv(t)
	oldID, oldKey := e.keyIDs(t)[0], readFile(t, e.key)
	want := e.states(t)
	good := readFile(t, e.statePath("bob"))
	writeFile(t, e.statePath("bob"), []byte("PAMTOTP"), 0o600)

	err := e.s.Rekey(nil)
	if err == nil || !strings.Contains(err.Error(), `"bob"`) || !strings.Contains(err.Error(), "again") {
		t.Fatalf("Rekey with a corrupt file = %v, want an error naming bob and saying to run it again", err)
	}
	if !bytes.Equal(readFile(t, e.key), oldKey) {
		t.Error("a failed rotation replaced the key file")
	}
	if ids := e.keyIDs(t); len(ids) != 2 {
		t.Errorf("KeyIDs() after a failed rotation = %v, want the new and the old key", ids)
	}
	for _, u := range []string{"alice", "carol"} {
		e.load(t, u)
	}

	writeFile(t, e.statePath("bob"), good, 0o600)
	if err := e.s.Rekey(nil); err != nil {
		t.Fatal(err)
	}
	e.checkRekeyed(t, oldID, nil, want)
}

// TestRekeyKilledWritingKey kills a rotation while it writes the new key,
// as a crash or a power cut would. Every user must still log in afterwards,
// and Rekey must finish the job.
func TestRekeyKilledWritingKey(t *testing.T) {
	e := newRekeyEnv(t)
	oldID := e.keyIDs(t)[0]
	cmd := helperCommand(t, e, "rekey-killed")
	out, err := cmd.CombinedOutput()
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ok && ws.Exited() && ws.ExitStatus() == 4 {
		t.Skipf("seccomp filters are not available here: %s", out)
	}
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGSYS {
		t.Fatalf("helper ended with %v, want to be killed by SIGSYS\n%s", err, out)
	}

	for _, u := range rekeyUsers {
		e.load(t, u)
	}
	code := otp.TOTP(testSecret, testNow, otp.DefaultParams)
	if _, err := verifier(e).Verify("alice", code); err != nil {
		t.Errorf("Verify after the killed rotation: %v", err)
	}
	want := e.states(t)
	if err := e.s.Rekey(nil); err != nil {
		t.Fatalf("Rekey after the killed rotation: %v", err)
	}
	e.checkRekeyed(t, oldID, nil, want)
}

// TestRekeyWaitsForOpenTransactions checks that a rotation does not start
// while a transaction that read only the old key is open: that transaction
// would write with the old key after the rotation's pass, and the user's
// file would be lost with the old key.
func TestRekeyWaitsForOpenTransactions(t *testing.T) {
	e := newEnv(t)
	e.save(t, newState("alice"))
	e.s.LockTimeout = 50 * time.Millisecond

	tx, err := e.s.Begin("bob")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.s.Rekey(nil); !errors.Is(err, store.ErrBusy) {
		t.Fatalf("Rekey with a transaction open: %v, want store.ErrBusy", err)
	}
	if _, err := os.Lstat(e.key + store.NewKeySuffix); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Rekey made %s while a transaction was open (%v)", e.key+store.NewKeySuffix, err)
	}
	if err := tx.Save(newState("bob")); err != nil {
		t.Fatal(err)
	}
	tx.Close()

	oldID := e.keyIDs(t)[0]
	if err := e.s.Rekey(nil); err != nil {
		t.Fatalf("Rekey after the transaction ended: %v", err)
	}
	for _, u := range []string{"alice", "bob"} {
		if id := e.fileKeyID(t, u); id == oldID {
			t.Errorf("%s is still sealed with the old key %s", u, id)
		}
		e.load(t, u)
	}
}
