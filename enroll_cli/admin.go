package main

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"

	"github.com/pam-totp/pam-totp/core/store"
)

var removeSpec = &spec{
	name:    "remove",
	args:    "USER",
	summary: "delete a user's enrollment",
	help: `Delete USER's enrollment: the secret, the backup codes and the failure
count. Whether USER can then log in without a code depends on the nullok
setting. Exit status 1 if USER is not enrolled.`,
	examples: []string{progName + " remove alice"},
	minArgs:  1, maxArgs: 1, user: true,
	new: func() runner { return removeCmd{} },
}

type removeCmd struct{}

func (removeCmd) define(*flag.FlagSet) {}

func (removeCmd) run(a *app, args []string) error {
	v, err := a.enrolledVerifier(args[0])
	if err != nil {
		return err
	}
	if err := v.Remove(args[0]); err != nil {
		return notEnrolledHint(args[0], err)
	}
	a.printf("removed the enrollment of %s", args[0])
	return nil
}

var unlockSpec = &spec{
	name:    "unlock",
	args:    "USER",
	summary: "end a user's lockout and clear the failure count",
	help: `End USER's lockout, if any, and set the count of consecutive failures and
lockouts back to zero, so the next lockout is again the shortest.`,
	examples: []string{progName + " unlock alice"},
	minArgs:  1, maxArgs: 1, user: true,
	new: func() runner { return unlockCmd{} },
}

type unlockCmd struct{}

func (unlockCmd) define(*flag.FlagSet) {}

func (unlockCmd) run(a *app, args []string) error {
	v, err := a.enrolledVerifier(args[0])
	if err != nil {
		return err
	}
	if err := v.Unlock(args[0]); err != nil {
		return notEnrolledHint(args[0], err)
	}
	a.printf("%s is unlocked; the failure count is cleared", args[0])
	return nil
}

var backupCodesSpec = &spec{
	name:    "backup-codes",
	args:    "USER",
	summary: "replace a user's backup codes with a new set",
	help: `Make a new set of backup codes for USER, as many as the configuration's
backup_codes, and print them once. The old codes stop working.`,
	examples: []string{
		progName + " backup-codes alice",
		progName + " backup-codes --json alice",
	},
	minArgs: 1, maxArgs: 1, user: true,
	new: func() runner { return new(backupCodesCmd) },
}

type backupCodesCmd struct{ json bool }

func (c *backupCodesCmd) define(fs *flag.FlagSet) {
	fs.BoolVar(&c.json, "json", false, `print one JSON object, {"user": ..., "backup_codes": [...]}`)
}

func (c *backupCodesCmd) run(a *app, args []string) error {
	v, err := a.enrolledVerifier(args[0])
	if err != nil {
		return err
	}
	codes, err := v.NewBackupCodes(args[0])
	if err != nil {
		return notEnrolledHint(args[0], err)
	}
	if c.json {
		return a.printJSON(struct {
			User        string   `json:"user"`
			BackupCodes []string `json:"backup_codes"`
		}{args[0], append([]string{}, codes...)})
	}
	if len(codes) == 0 {
		a.printf("the configuration asks for no backup codes (backup_codes: 0): %s's old codes are removed", args[0])
		return nil
	}
	return a.printBackupCodes(codes)
}

var rekeySpec = &spec{
	name:    "rekey",
	summary: "make a new host key and re-encrypt every state file with it",
	help: `Make a new host key and re-encrypt every user's state file with it. The new
key is first written beside the old one (the key file's name with ".new"
appended); while it is there, logins open state files sealed with either
key and every write uses the new one. Once every file is re-encrypted the
new key replaces the old. rekey reports how many files it re-encrypted and
how many were already encrypted with the new key, written by logins or by
an interrupted rekey.

A crash or an interruption at any point leaves every user able to log in,
and running rekey again finishes the rotation.`,
	examples: []string{progName + " rekey"},
	new:      func() runner { return rekeyCmd{} },
}

type rekeyCmd struct{}

func (rekeyCmd) define(*flag.FlagSet) {}

func (rekeyCmd) run(a *app, _ []string) error {
	v, err := a.verifier()
	if err != nil {
		return err
	}
	s := v.Store
	old, err := s.KeyIDs()
	if err != nil {
		return err
	}
	if len(old) > 1 {
		a.printf("resuming an interrupted rotation to host key %s", old[0])
	}
	sealed, current := 0, 0
	err = s.Rekey(func(_ string, resealed bool) {
		if resealed {
			sealed++
		} else {
			current++
		}
	})
	if err != nil {
		return fmt.Errorf("%w; every user can still log in: run '%s rekey' again to finish", err, progName)
	}
	ids, err := s.KeyIDs()
	if err != nil {
		return err
	}
	if _, err := os.Lstat(s.KeyFile() + store.NewKeySuffix); !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s is still there after the rotation: run '%s rekey' again", s.KeyFile()+store.NewKeySuffix, progName)
	}
	a.printf("%d state files re-encrypted, %d already encrypted with the new key; the host key is now %s (id %s, was %s)",
		sealed, current, s.KeyFile(), ids[0], old[len(old)-1])
	return nil
}
