package policy

import (
	"errors"
	"fmt"
	"os"

	"github.com/pam-totp/pam-totp/core/backup"
	"github.com/pam-totp/pam-totp/core/otp"
	"github.com/pam-totp/pam-totp/core/store"
)

// Enrollment is a new user state, made in memory and written only by Save,
// so that it can first be confirmed against the user's app.
type Enrollment struct {
	State *store.State
	// BackupCodes are the new backup codes in clear, to show once.
	BackupCodes []string
}

// Key returns what the user's authenticator app needs.
func (e *Enrollment) Key() otp.Key { return e.State.Key() }

// EnrollOptions override the configuration for one enrollment.
type EnrollOptions struct {
	// Issuer, if not empty, replaces the configured issuer.
	Issuer string
	// Params, if not zero, replace the configured parameters.
	Params otp.Params
	// Secret, if not nil, is used instead of a new random one.
	Secret []byte
	// ScratchCodes are taken over as backup codes instead of making new
	// ones; they must be 8 digits, as google-authenticator makes them.
	ScratchCodes []string
}

// NewEnrollment makes a secret and backup codes for user. Nothing is
// written until Save.
func (v *Verifier) NewEnrollment(user string, opts EnrollOptions) (*Enrollment, error) {
	if err := store.ValidUser(user); err != nil {
		return nil, err
	}
	cfg := v.Config
	st := &store.State{User: user, Params: cfg.Params(), Issuer: cfg.Issuer, Created: v.now().UTC()}
	if opts.Params != (otp.Params{}) {
		st.Params = opts.Params
	}
	if err := st.Params.Validate(); err != nil {
		return nil, err
	}
	if opts.Issuer != "" {
		st.Issuer = opts.Issuer
	}
	if st.Issuer == "" {
		host, err := os.Hostname()
		if err != nil {
			return nil, fmt.Errorf("policy: no issuer configured and no host name: %w", err)
		}
		st.Issuer = host
	}
	if err := otp.CheckIssuer(st.Issuer); err != nil {
		return nil, err
	}

	var err error
	st.Secret = opts.Secret
	if st.Secret == nil {
		if st.Secret, err = otp.GenerateSecret(v.rand(), cfg.SecretBytes); err != nil {
			return nil, err
		}
	} else if len(st.Secret) < 10 || len(st.Secret) > otp.MaxSecretSize {
		return nil, fmt.Errorf("secret of %d bytes: want 10 to %d", len(st.Secret), otp.MaxSecretSize)
	}

	e := &Enrollment{State: st}
	if opts.ScratchCodes != nil {
		for _, c := range opts.ScratchCodes {
			code, err := otp.NormalizeCode(c, 8)
			if err != nil || st.Digits == 8 {
				return nil, fmt.Errorf("scratch code %q: want 8 digits, with codes of fewer digits", c)
			}
			h, err := backup.HashCode(v.rand(), code)
			if err != nil {
				return nil, err
			}
			st.Backup = append(st.Backup, h)
		}
		return e, nil
	}
	e.BackupCodes, st.Backup, err = backup.Generate(v.rand(), cfg.BackupCodes)
	if err != nil {
		return nil, err
	}
	return e, nil
}

// Confirm reports whether code is a right code for the enrollment now,
// within the window, and if so marks the enrollment confirmed. It changes
// nothing on disk.
func (v *Verifier) Confirm(e *Enrollment, code string) bool {
	c, err := otp.NormalizeCode(code, e.State.Digits)
	if err != nil {
		return false
	}
	if _, err := v.checkTOTP(e.State, c, v.now()); err != nil {
		return false
	}
	e.State.Confirmed = v.now().UTC()
	return true
}

// Save writes the enrollment. It refuses to replace an existing
// enrollment unless replace is true.
func (v *Verifier) Save(e *Enrollment, replace bool) error {
	tx, err := v.Store.Begin(e.State.User)
	if err != nil {
		return err
	}
	defer tx.Close()
	if !replace {
		_, err := tx.Load()
		if err == nil {
			return fmt.Errorf("%w: %s", ErrAlreadyEnrolled, e.State.User)
		}
		if !errors.Is(err, store.ErrNotEnrolled) {
			return err
		}
	}
	return tx.Save(e.State)
}

// update runs fn on the user's state under the lock and saves the result.
func (v *Verifier) update(user string, fn func(*store.State) error) error {
	tx, err := v.Store.BeginEnrolled(user)
	if err != nil {
		return err
	}
	defer tx.Close()
	st, err := tx.Load()
	if err != nil {
		return err
	}
	if err := fn(st); err != nil {
		return err
	}
	return tx.Save(st)
}

// Unlock ends a lockout and clears the failure count.
func (v *Verifier) Unlock(user string) error {
	return v.update(user, func(st *store.State) error {
		clearFailures(st)
		return nil
	})
}

// NewBackupCodes replaces the user's backup codes with a new set and
// returns them in clear, to show once.
func (v *Verifier) NewBackupCodes(user string) ([]string, error) {
	var codes []string
	err := v.update(user, func(st *store.State) error {
		var err error
		codes, st.Backup, err = backup.Generate(v.rand(), v.Config.BackupCodes)
		return err
	})
	return codes, err
}

// Remove deletes the user's enrollment.
func (v *Verifier) Remove(user string) error {
	tx, err := v.Store.BeginEnrolled(user)
	if err != nil {
		return err
	}
	defer tx.Close()
	return tx.Delete()
}

// Status returns the user's state, read under the lock. It holds the
// secret: callers show what they need and nothing more.
func (v *Verifier) Status(user string) (*store.State, error) {
	return v.Store.Load(user)
}
