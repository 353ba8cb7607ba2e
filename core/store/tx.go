package store

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Tx is a locked transaction on one user's state. Every read-modify-write
// of a user's state happens inside one, so two logins racing with the same
// code cannot both succeed. Close releases the lock.
type Tx struct {
	s        *Store
	user     string
	lock     *os.File
	rotation *os.File
	ring     keyRing
	key      KeyID // the key the loaded state was sealed with
}

// rotationLock is the name, in the state directory, of the file whose flock
// keeps a key rotation from starting while a transaction that has read the
// old keys is still open. It starts with a dot, as no user name can.
const rotationLock = ".rotation.lock"

// Begin validates user, takes the user's lock, waiting at most
// LockTimeout in all, and reads the host keys.
func (s *Store) Begin(user string) (*Tx, error) {
	if err := ValidUser(user); err != nil {
		return nil, err
	}
	deadline := s.lockDeadline()
	rotation, err := s.lockFile(rotationLock, syscall.LOCK_SH, deadline)
	if err != nil {
		return nil, err
	}
	lock, err := s.lockFile(user+lockSuffix, syscall.LOCK_EX, deadline)
	if err != nil {
		unlock(rotation)
		return nil, err
	}
	ring, err := s.loadKeys()
	if err != nil {
		unlock(lock)
		unlock(rotation)
		return nil, err
	}
	return &Tx{s: s, user: user, lock: lock, rotation: rotation, ring: ring}, nil
}

// BeginEnrolled is Begin for a user who must be enrolled already: if the
// user has no state file it returns ErrNotEnrolled before creating the
// user's lock file, so asking about unknown names leaves nothing behind.
func (s *Store) BeginEnrolled(user string) (*Tx, error) {
	if ok, err := s.Enrolled(user); err != nil {
		return nil, err
	} else if !ok {
		return nil, ErrNotEnrolled
	}
	return s.Begin(user)
}

// lockTimeout returns LockTimeout or its default.
func (s *Store) lockTimeout() time.Duration {
	if s.LockTimeout <= 0 {
		return 5 * time.Second
	}
	return s.LockTimeout
}

// lockDeadline returns the time after which waiting for a lock fails.
func (s *Store) lockDeadline() time.Time { return time.Now().Add(s.lockTimeout()) }

// lockFile opens name in the state directory, creating it if needed, and
// takes an flock of the given kind on it, waiting until deadline at most.
func (s *Store) lockFile(name string, how int, deadline time.Time) (*os.File, error) {
	path := filepath.Join(s.dir, name)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0o600)
	if errors.Is(err, syscall.ELOOP) {
		return nil, s.symlinkError(path)
	}
	if err != nil {
		return nil, fmt.Errorf("store: opening lock file: %w", err)
	}
	if err := s.checkFile(f); err != nil {
		f.Close()
		return nil, err
	}

	for wait := time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if err != syscall.EWOULDBLOCK && err != syscall.EINTR {
			f.Close()
			return nil, fmt.Errorf("store: locking %s: %w", path, err)
		}
		if time.Now().After(deadline) {
			f.Close()
			timeout := s.lockTimeout()
			if name == rotationLock {
				return nil, fmt.Errorf("%w: a key rotation (totpctl rekey), a login or another "+
					"totpctl command held %s for %v; try again once it is done", ErrBusy, path, timeout)
			}
			user := strings.TrimSuffix(name, lockSuffix)
			return nil, fmt.Errorf("%w: another login or totpctl command of user %q held %s for %v; "+
				"try again in a moment", ErrBusy, user, path, timeout)
		}
		time.Sleep(wait)
	}
}

func unlock(f *os.File) {
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	f.Close()
}

// User returns the user of the transaction.
func (t *Tx) User() string { return t.user }

// Load reads and decrypts the user's state. It returns ErrNotEnrolled if
// the user has no state file.
func (t *Tx) Load() (*State, error) {
	path := t.s.statePath(t.user)
	f, err := t.s.openFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotEnrolled
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()

	data, err := io.ReadAll(io.LimitReader(f, maxStateSize+1))
	if err != nil {
		return nil, fmt.Errorf("store: reading %s: %w", path, err)
	}
	if len(data) > maxStateSize {
		return nil, &CorruptError{path, "file is too large", stateFix(t.user)}
	}
	st, id, reason := open(data, t.user, t.ring)
	if reason != "" {
		return nil, &CorruptError{path, reason, stateFix(t.user)}
	}
	t.key = id
	return st, nil
}

// KeyID returns the id of the key that the loaded state was sealed with.
func (t *Tx) KeyID() KeyID { return t.key }

// Save seals st under the newest host key and replaces the user's state
// file atomically and durably. On error the old file is left as it was.
func (t *Tx) Save(st *State) error {
	if st.User != t.user {
		return fmt.Errorf("store: saving the state of %q as %q", st.User, t.user)
	}
	data, err := seal(st, t.user, t.ring[0], t.s.rand())
	if err != nil {
		return err
	}
	return writeAtomic(t.s.dir, t.user+stateSuffix, data)
}

// Delete removes the user's state file.
func (t *Tx) Delete() error {
	err := os.Remove(t.s.statePath(t.user))
	if errors.Is(err, fs.ErrNotExist) {
		return ErrNotEnrolled
	}
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return syncDir(t.s.dir)
}

// Close releases the lock. It is safe to call more than once.
func (t *Tx) Close() {
	if t.lock != nil {
		unlock(t.lock)
		unlock(t.rotation)
		t.lock, t.rotation = nil, nil
	}
}

// writeAtomic replaces dir/name with data: a new file created with O_EXCL
// and mode 0600, written, synced, renamed over the old one, and the
// directory synced. The caller holds the lock of name, so the temporary
// file has a fixed name, and one that a writer killed half-way left behind
// is removed first.
func writeAtomic(dir, name string, data []byte) (err error) {
	tmp := filepath.Join(dir, "."+name+".tmp")
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("store: removing a leftover temporary file: %w", err)
	}
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("store: creating temporary file: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("store: writing %s: %w", tmp, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("store: syncing %s: %w", tmp, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("store: closing %s: %w", tmp, err)
	}
	if err = os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("store: replacing state file: %w", err)
	}
	return syncDir(dir)
}
