package store

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// KeySize is the size of a host key in bytes.
const KeySize = 32

// KeyID identifies a host key without revealing it.
type KeyID [8]byte

// String returns the id in hexadecimal, as logs and totpctl show it.
func (id KeyID) String() string { return fmt.Sprintf("%x", id[:]) }

type hostKey struct {
	id  KeyID
	key []byte
}

func keyID(key []byte) KeyID {
	sum := sha256.Sum256(append([]byte("pam-totp host key\x00"), key...))
	var id KeyID
	copy(id[:], sum[:])
	return id
}

// keyRing is the set of host keys a transaction may open files with. Files
// are written with the first one.
type keyRing []hostKey

func (r keyRing) find(id KeyID) *hostKey {
	for i := range r {
		if r[i].id == id {
			return &r[i]
		}
	}
	return nil
}

// loadKeys reads the host key and, while a rotation is in progress, the new
// key, which then comes first.
func (s *Store) loadKeys() (keyRing, error) {
	var ring keyRing
	next, err := s.readKey(s.keyFile + NewKeySuffix)
	switch {
	case err == nil:
		ring = append(ring, next)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	cur, err := s.readKey(s.keyFile)
	switch {
	case err == nil:
		ring = append(ring, cur)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	case len(ring) == 0:
		return nil, fmt.Errorf("%w: %s", ErrNoKey, s.keyFile)
	}
	return ring, nil
}

func (s *Store) readKey(path string) (hostKey, error) {
	f, err := s.openFile(path)
	if err != nil {
		return hostKey{}, err
	}
	defer f.Close()
	buf, err := io.ReadAll(io.LimitReader(f, KeySize+1))
	if err != nil {
		return hostKey{}, fmt.Errorf("store: reading host key %s: %w", path, err)
	}
	if len(buf) != KeySize {
		reason := fmt.Sprintf("a host key must be exactly %d bytes", KeySize)
		return hostKey{}, &CorruptError{path, reason, keyFix}
	}
	key := buf[:KeySize]
	return hostKey{id: keyID(key), key: key}, nil
}

// KeyIDs returns the ids of the host key and, during a rotation, of the new
// key, new first.
func (s *Store) KeyIDs() ([]KeyID, error) {
	ring, err := s.loadKeys()
	if err != nil {
		return nil, err
	}
	ids := make([]KeyID, len(ring))
	for i, k := range ring {
		ids[i] = k.id
	}
	return ids, nil
}

// CreateKey writes a new random host key to path with mode 0400, failing if
// the file exists. The key is synced to disk before CreateKey returns.
//
// The key is written to a temporary file and then linked to path, so that
// path never holds part of a key, even after a crash: every transaction
// reads the keys, and a short one would refuse every login.
func CreateKey(path string, rand io.Reader) error {
	key := make([]byte, KeySize)
	if _, err := io.ReadFull(rand, key); err != nil {
		return fmt.Errorf("store: reading random bytes: %w", err)
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("store: creating host key: %w", err)
	}
	defer os.Remove(f.Name())
	err = f.Chmod(0o400)
	if err == nil {
		_, err = f.Write(key)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("store: writing host key %s: %w", path, err)
	}
	// Unlike a rename, a link fails if path exists.
	if err := os.Link(f.Name(), path); err != nil {
		return fmt.Errorf("store: creating host key: %w", err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("store: syncing %s: %w", dir, err)
	}
	return nil
}
