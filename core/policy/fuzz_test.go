package policy_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pam-totp/pam-totp/core/backup"
	"github.com/pam-totp/pam-totp/core/config"
	"github.com/pam-totp/pam-totp/core/otp"
	"github.com/pam-totp/pam-totp/core/policy"
)

// FuzzVerifyInput verifies arbitrary input against one saved state, put
// back before each input: alice, who used the code of the previous time
// step and has two backup codes. Verify must never panic, must accept only
// the codes of the current and the next time step and the backup codes, and
// must refuse the code of the previous step as a replay.
func FuzzVerifyInput(f *testing.F) {
	fx := newFixture(f, func(c *config.Config) {
		c.MaxFailures = 100
		c.BackupCodes = 2
	})
	e := fx.enroll(f, "alice", policy.EnrollOptions{})
	fx.accept(f, "alice", fx.code(f, "alice", -1), policy.Result{Method: policy.TOTP, Skew: -1})
	path := filepath.Join(fx.dir, "alice.totp")
	saved, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	used, now, next := fx.code(f, "alice", -1), fx.code(f, "alice", 0), fx.code(f, "alice", 1)
	if used == now || now == next || used == next {
		f.Fatal("two codes of the window are the same: pick another start time")
	}
	var backups []string
	for _, c := range e.BackupCodes {
		n, err := backup.Normalize(c)
		if err != nil {
			f.Fatal(err)
		}
		backups = append(backups, n)
	}

	for _, s := range []string{
		now, next, used, now[:3] + " " + now[3:], " " + next + "\n", now + "0",
		e.BackupCodes[0], strings.ToUpper(e.BackupCodes[1]),
		strings.ReplaceAll(e.BackupCodes[0], "-", " "),
		"", "000000", "12345678", "2345-6789-abcd", "\x00", strings.Repeat("9", 100), "１２３４５６",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, input string) {
		if err := os.WriteFile(path, saved, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := fx.v.Verify("alice", input)
		want, wantErr := expect(input, used, now, next, backups)
		if got != want || !errors.Is(err, wantErr) || (wantErr == nil) != (err == nil) {
			t.Fatalf("Verify(%q) = %+v, %v; want %+v, %v", input, got, err, want, wantErr)
		}
	})
}

// expect returns what Verify must say to input in FuzzVerifyInput.
func expect(input, used, now, next string, backups []string) (policy.Result, error) {
	if code, err := otp.NormalizeCode(input, 6); err == nil {
		switch code {
		case now:
			return policy.Result{Method: policy.TOTP}, nil
		case next:
			return policy.Result{Method: policy.TOTP, Skew: 1}, nil
		case used:
			return policy.Result{}, policy.ErrReplayed
		}
		return policy.Result{}, policy.ErrWrongCode
	}
	if code, err := backup.Normalize(input); err == nil && slices.Contains(backups, code) {
		return policy.Result{Method: policy.BackupCode, BackupLeft: len(backups) - 1}, nil
	}
	return policy.Result{}, policy.ErrWrongCode
}
