package store

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

const (
	stateSuffix = ".totp"
	lockSuffix  = ".lock"
	// NewKeySuffix is appended to the key file's name for the key that a
	// rotation in progress writes with.
	NewKeySuffix = ".new"

	maxStateSize = 64 << 10
	maxUserLen   = 64
)

// Errors that callers branch on.
var (
	// ErrNotEnrolled means the user has no state file.
	ErrNotEnrolled = errors.New("store: user is not enrolled")
	// ErrInvalidUser means a user name that can never be enrolled.
	ErrInvalidUser = errors.New("store: invalid user name")
	// ErrBusy means another process held a lock, the user's or the key
	// rotation's, for longer than the lock timeout.
	ErrBusy = errors.New("store: timed out waiting for a lock")
	// ErrNoKey means the host key file does not exist.
	ErrNoKey = errors.New("store: host key does not exist (restore it from a backup; " +
		"on a new installation, run 'totpctl init')")
)

// UnsafeError reports a file or directory that is refused because of its
// type, owner or mode.
type UnsafeError struct {
	Path    string
	Problem string
}

// Error names the path and what is wrong with it.
func (e *UnsafeError) Error() string {
	return fmt.Sprintf("store: refusing %s: %s", e.Path, e.Problem)
}

// CorruptError reports a state file or host key that cannot be opened:
// truncated, tampered with, sealed with an unknown key, or belonging to
// another user.
type CorruptError struct {
	Path   string
	Reason string
	// Fix says what an administrator can do about it, or is empty.
	Fix string
}

// Error names the file, why it does not open, and what to do.
func (e *CorruptError) Error() string {
	if e.Fix == "" {
		return fmt.Sprintf("store: %s: %s", e.Path, e.Reason)
	}
	return fmt.Sprintf("store: %s: %s; %s", e.Path, e.Reason, e.Fix)
}

// stateFix is what to do about a user's state file that cannot be used.
func stateFix(user string) string {
	return "restore the file from a backup, or enroll anew: totpctl enroll --force " + user
}

// keyFix is what to do about a host key file that cannot be used.
const keyFix = "restore the host key from a backup: without it, no state file opens"

// replaceFix says how to replace a file of the store that is refused for
// its type: the host key, a lock file or a user's state file.
func (s *Store) replaceFix(path string) string {
	switch {
	case path == s.keyFile || path == s.keyFile+NewKeySuffix:
		return "replace it with the host key file itself, owned by root, mode 0400; " +
			"if need be, " + keyFix
	case strings.HasSuffix(path, lockSuffix):
		return "remove it: the next login creates the lock file again"
	}
	user := strings.TrimSuffix(filepath.Base(path), stateSuffix)
	return "remove it, then " + stateFix(user)
}

// ValidUser returns an error wrapping ErrInvalidUser unless name is safe to
// use as a file name: 1 to 64 bytes of letters, digits, '.', '_', '-', '@'
// and '$', not starting with '.' or '-' and without "..". It never touches
// the file system.
func ValidUser(name string) error {
	if name == "" || len(name) > maxUserLen {
		return fmt.Errorf("%w: must be 1 to %d bytes long", ErrInvalidUser, maxUserLen)
	}
	if name[0] == '.' || name[0] == '-' {
		return fmt.Errorf("%w: %q starts with %q", ErrInvalidUser, name, name[0])
	}
	if strings.Contains(name, "..") {
		return fmt.Errorf("%w: %q contains \"..\"", ErrInvalidUser, name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '.' || c == '_' || c == '-' || c == '@' || c == '$'
		if !ok {
			return fmt.Errorf("%w: %q contains the byte 0x%02x (allowed: letters, digits, "+
				"'.', '_', '-', '@' and '$')", ErrInvalidUser, name, c)
		}
	}
	return nil
}

// Store is a state directory and the host key that seals its files.
type Store struct {
	dir     string
	keyFile string
	uid     int

	// LockTimeout bounds the wait for a user's lock. Zero means 5 seconds.
	LockTimeout time.Duration
	// Rand is the source of nonces and new keys. Nil means crypto/rand.
	Rand io.Reader
}

// Open returns the store in dir, sealed with the key in keyFile. It checks
// the directory now and the key at each transaction, so that a key rotation
// by another process is seen.
func Open(dir, keyFile string) (*Store, error) {
	s := &Store{dir: filepath.Clean(dir), keyFile: filepath.Clean(keyFile), uid: os.Geteuid()}
	if err := s.checkDir(); err != nil {
		return nil, err
	}
	return s, nil
}

// Dir returns the state directory.
func (s *Store) Dir() string { return s.dir }

// KeyFile returns the path of the host key.
func (s *Store) KeyFile() string { return s.keyFile }

func (s *Store) rand() io.Reader {
	if s.Rand != nil {
		return s.Rand
	}
	return rand.Reader
}

func (s *Store) checkDir() error {
	fi, err := os.Lstat(s.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("store: state directory %s does not exist (run 'totpctl init')", s.dir)
	}
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if !fi.IsDir() {
		return &UnsafeError{s.dir, "not a directory (a state directory must be a real directory, " +
			"not a symbolic link); make it one, owned by root, mode 0700, as 'totpctl init' does"}
	}
	return checkOwner(s.dir, fi, s.uid, 0o022, "writable by group or others")
}

func checkOwner(path string, fi fs.FileInfo, uid int, badBits fs.FileMode, what string) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return &UnsafeError{path, "cannot read its owner"}
	}
	if int(st.Uid) != uid {
		return &UnsafeError{path, ownerProblem(path, st.Uid, uid)}
	}
	if fi.Mode().Perm()&badBits != 0 {
		return &UnsafeError{path, fmt.Sprintf("mode %04o is %s; fix with: chmod go-rwx %s", fi.Mode().Perm(), what, path)}
	}
	return nil
}

// ownerProblem says that path is owned by owner, not by uid, the user the
// process runs as, and how to fix it. The fix names root whatever uid is:
// the module and totpctl must run as root, and telling a process of another
// user to chown root's files to itself would hand them over.
func ownerProblem(path string, owner uint32, uid int) string {
	if uid == 0 {
		return fmt.Sprintf("owned by uid %d, not root; fix with: chown root %s", owner, path)
	}
	return fmt.Sprintf("owned by uid %d, and this process runs as uid %d, not root: "+
		"the module and totpctl must run as root, with the file owned by root (chown root %s)",
		owner, uid, path)
}

// openFile opens path for reading without following a symbolic link, and
// checks on the descriptor that it is a regular file owned by the store's
// user and private to it.
func (s *Store) openFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0)
	if errors.Is(err, syscall.ELOOP) {
		return nil, s.symlinkError(path)
	}
	if errors.Is(err, fs.ErrPermission) {
		return nil, fmt.Errorf("store: %w (the module and totpctl must run as root)", err)
	}
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	if err := s.checkFile(f); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func (s *Store) checkFile(f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return &UnsafeError{f.Name(), "not a regular file; " + s.replaceFix(f.Name())}
	}
	return checkOwner(f.Name(), fi, s.uid, 0o077, "open to group or others")
}

// symlinkError refuses a symbolic link where a file of the store belongs.
func (s *Store) symlinkError(path string) error {
	return &UnsafeError{path, "is a symbolic link, which is never followed; " + s.replaceFix(path)}
}

func (s *Store) statePath(user string) string { return filepath.Join(s.dir, user+stateSuffix) }

// Users returns the names of the enrolled users, sorted.
func (s *Store) Users() ([]string, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	var users []string
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), stateSuffix)
		if ok && ValidUser(name) == nil {
			users = append(users, name)
		}
	}
	sort.Strings(users)
	return users, nil
}

// Load reads the state of user under the user's lock.
func (s *Store) Load(user string) (*State, error) {
	tx, err := s.BeginEnrolled(user)
	if err != nil {
		return nil, err
	}
	defer tx.Close()
	return tx.Load()
}
