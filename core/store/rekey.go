package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Enrolled reports whether user has a state file, without taking the
// user's lock or creating anything, so that probing unknown names leaves
// no trace in the state directory.
func (s *Store) Enrolled(user string) (bool, error) {
	if err := ValidUser(user); err != nil {
		return false, err
	}
	_, err := os.Lstat(s.statePath(user))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: %w", err)
	}
	return true, nil
}

// Rekey rotates the host key. It creates a new key beside the key file
// (with NewKeySuffix appended) unless one is there from an interrupted
// rotation, re-seals every state file under it, and then renames it over
// the key file. While the new key exists every transaction writes with it
// and opens files sealed with either key, so a crash at any point leaves
// every user able to log in, and running Rekey again finishes the job.
//
// report, which may be nil, is called once for each user's file when it is
// sealed with the new key: resealed is true if Rekey re-sealed it, false if
// it already was, written by a login during the rotation or re-sealed by an
// interrupted one. A file removed meanwhile is not reported.
func (s *Store) Rekey(report func(user string, resealed bool)) error {
	next := s.keyFile + NewKeySuffix
	if err := s.createNextKey(next); err != nil {
		return err
	}

	users, err := s.Users()
	if err != nil {
		return err
	}
	for _, u := range users {
		r, err := s.reseal(u)
		if err != nil {
			return fmt.Errorf("re-sealing %q (the rotation can be resumed by running it again): %w", u, err)
		}
		if report != nil && r != removedMeanwhile {
			report(u, r == sealedAnew)
		}
	}

	if err := os.Rename(next, s.keyFile); err != nil {
		return fmt.Errorf("store: installing the new host key: %w", err)
	}
	return syncDir(filepath.Dir(s.keyFile))
}

// createNextKey creates the new key unless an interrupted rotation left one.
// It holds the rotation lock exclusively meanwhile, so that every
// transaction that read the keys before the new one existed has ended: any
// later write is sealed with the new key, and the pass over the users that
// follows misses no file.
func (s *Store) createNextKey(next string) error {
	rotation, err := s.lockFile(rotationLock, syscall.LOCK_EX, s.lockDeadline())
	if err != nil {
		return err
	}
	defer unlock(rotation)
	if _, err := s.readKey(next); !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return CreateKey(next, s.rand())
}

// resealOutcome is what reseal found or did.
type resealOutcome int

const (
	sealedAnew       resealOutcome = iota
	alreadyCurrent                 // already sealed with the new key
	removedMeanwhile               // the user was removed meanwhile
)

func (s *Store) reseal(user string) (resealOutcome, error) {
	tx, err := s.Begin(user)
	if err != nil {
		return 0, err
	}
	defer tx.Close()
	st, err := tx.Load()
	if errors.Is(err, ErrNotEnrolled) {
		return removedMeanwhile, nil
	}
	if err != nil {
		return 0, err
	}
	if tx.KeyID() == tx.ring[0].id {
		return alreadyCurrent, nil
	}
	return sealedAnew, tx.Save(st)
}
