package main

import (
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/pam-totp/pam-totp/core/store"
)

var initSpec = &spec{
	name:    "init",
	summary: "create the host key and the state directory",
	help: `Create the host key (32 random bytes, mode 0400, owned by root) and the
state directory (mode 0700, owned by root), each only where it is missing,
at the paths the configuration names (key_file and state_dir).

An existing host key is never replaced, so init can be run again at any
time: it then only checks that the key and the directory are safe to use.
It refuses to make a key when the state directory already holds state
files, since they were sealed with a key that is gone: restore that key
from a backup instead.`,
	examples: []string{
		progName + " init",
		progName + " --config /etc/pam-totp/config.yaml init",
	},
	new: func() runner { return initCmd{} },
}

type initCmd struct{}

func (initCmd) define(*flag.FlagSet) {}

func (initCmd) run(a *app, _ []string) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	if err := a.makeStateDir(cfg.StateDir); err != nil {
		return err
	}
	s, err := store.Open(cfg.StateDir, cfg.KeyFile)
	if err != nil {
		return err
	}
	if err := a.makeKey(s); err != nil {
		return err
	}
	ids, err := s.KeyIDs()
	if err != nil {
		return fmt.Errorf("%w (fix it, then run '%s init' again)", err, progName)
	}
	if len(ids) > 1 {
		a.warnf("a host key rotation was interrupted (%s exists): finish it with '%s rekey'",
			s.KeyFile()+store.NewKeySuffix, progName)
	}
	a.printf("ready: host key %s (id %s), state directory %s", s.KeyFile(), ids[len(ids)-1], s.Dir())
	return nil
}

func (a *app) makeStateDir(dir string) error {
	_, err := os.Lstat(dir)
	if err == nil {
		return nil // store.Open checks it
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("creating the state directory: %w", err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		return fmt.Errorf("creating the state directory: %w", err)
	}
	// The umask may have taken bits away; it cannot have added any, but
	// make the mode exact anyway.
	if err := os.Chmod(dir, 0o700); err != nil {
		return err
	}
	a.printf("created state directory %s (mode 0700)", dir)
	return nil
}

func (a *app) makeKey(s *store.Store) error {
	path := s.KeyFile()
	_, err := os.Lstat(path)
	if err == nil {
		a.printf("host key %s already exists: left as it is", path)
		return nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if _, err := os.Lstat(path + store.NewKeySuffix); err == nil {
		return fmt.Errorf("%s is missing but %s exists: a key rotation was interrupted and the key file removed; restore %s from a backup, then run '%s rekey'",
			path, path+store.NewKeySuffix, path, progName)
	}
	users, err := s.Users()
	if err != nil {
		return err
	}
	if len(users) > 0 {
		return fmt.Errorf("%s is missing but %s holds %d state files sealed with it: restore the host key from a backup (a new key cannot open them), or remove the state files and enroll the users again",
			path, s.Dir(), len(users))
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("creating the host key's directory: %w", err)
	}
	if err := store.CreateKey(path, rand.Reader); err != nil {
		return err
	}
	a.printf("created host key %s (mode 0400)", path)
	return nil
}
