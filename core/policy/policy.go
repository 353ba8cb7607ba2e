package policy

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/pam-totp/pam-totp/core/backup"
	"github.com/pam-totp/pam-totp/core/config"
	"github.com/pam-totp/pam-totp/core/otp"
	"github.com/pam-totp/pam-totp/core/store"
)

// Outcomes of Verify that callers branch on. Errors of the store (a missing
// key, a corrupt or unsafe file, a busy lock) are passed through as they
// are, and mean the code could not be checked.
var (
	// ErrWrongCode means the input was not a valid code or backup code.
	ErrWrongCode = errors.New("wrong code")
	// ErrReplayed means the code was right but was already used.
	ErrReplayed = errors.New("code already used")
	// ErrLocked is matched by every *LockedError.
	ErrLocked = errors.New("locked out")
	// ErrNotEnrolled means the user has no enrollment.
	ErrNotEnrolled = store.ErrNotEnrolled
	// ErrAlreadyEnrolled means an enrollment would replace another.
	ErrAlreadyEnrolled = errors.New("user is already enrolled")
)

// LockedError means the user is locked out until Until, or, if
// UntilUnlock is true, until an administrator unlocks the user: the user
// made FailureLimit consecutive failures, and Until is zero. Started is
// true when the attempt that returned it was a wrong code that started the
// lockout; the code was then checked, and the error matches ErrWrongCode
// too.
type LockedError struct {
	Until       time.Time
	UntilUnlock bool
	Started     bool
}

// Error says until when the user is locked out, and whether this attempt
// started the lockout.
func (e *LockedError) Error() string {
	until := e.Until.UTC().Format(time.RFC3339)
	if e.UntilUnlock {
		until = "an administrator unlocks the user ('totpctl unlock')"
	}
	if e.Started {
		return "wrong code; too many failures, locked out until " + until
	}
	return "locked out until " + until
}

// Is makes errors.Is(err, ErrLocked) true, and errors.Is(err, ErrWrongCode)
// true when the error started the lockout.
func (e *LockedError) Is(target error) bool {
	return target == ErrLocked || e.Started && target == ErrWrongCode
}

// Method says how a user proved the second factor.
type Method int

// The methods.
const (
	TOTP Method = iota + 1
	BackupCode
)

// String returns the method's name, as logs and totpctl show it.
func (m Method) String() string {
	switch m {
	case TOTP:
		return "totp"
	case BackupCode:
		return "backup code"
	}
	return "none"
}

// Result describes an accepted code.
type Result struct {
	Method Method
	// Skew is the accepted code's time step minus the current one.
	Skew int
	// BackupLeft is the number of unused backup codes.
	BackupLeft int
}

// Verifier applies the policy of a configuration to a store.
type Verifier struct {
	Config *config.Config
	Store  *store.Store
	// Now returns the current time. Nil means time.Now.
	Now func() time.Time
	// Rand is the source of secrets and salts. Nil means crypto/rand.
	Rand io.Reader
}

// New opens the store that cfg names.
func New(cfg *config.Config) (*Verifier, error) {
	s, err := store.Open(cfg.StateDir, cfg.KeyFile)
	if err != nil {
		return nil, err
	}
	s.LockTimeout = time.Duration(cfg.LockTimeout)
	return &Verifier{Config: cfg, Store: s}, nil
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) rand() io.Reader {
	if v.Rand != nil {
		return v.Rand
	}
	return rand.Reader
}

// Enrolled reports whether user is enrolled, without creating anything in
// the state directory.
func (v *Verifier) Enrolled(user string) (bool, error) {
	return v.Store.Enrolled(user)
}

// Verify checks what user typed, a TOTP code or a backup code, and records
// the outcome in the user's state. The Result is zero whenever the error is
// not nil: a right code whose use could not be saved is refused.
func (v *Verifier) Verify(user, input string) (Result, error) {
	tx, err := v.Store.BeginEnrolled(user)
	if err != nil {
		return Result{}, err
	}
	defer tx.Close()
	st, err := tx.Load()
	if err != nil {
		return Result{}, err
	}

	// In UTC, as Enroll and Confirm store their times: a time in the local
	// zone would make every login read the zone file to write the state.
	now := v.now().UTC()
	if locked := v.Lockout(st, now); locked != nil {
		return Result{}, locked
	}

	if strings.TrimSpace(input) == "" {
		// An empty answer guesses nothing, so it is not counted.
		return Result{}, fmt.Errorf("%w: no code was entered", ErrWrongCode)
	}
	if code, err := otp.NormalizeCode(input, st.Digits); err == nil {
		res, err := v.checkTOTP(st, code, now)
		if err == nil {
			return v.succeed(tx, st, now, res)
		}
		if errors.Is(err, ErrReplayed) {
			return Result{}, err
		}
	} else if code, ok := backupInput(input, st.Digits); ok {
		if i := backup.Match(st.Backup, code); i >= 0 {
			st.Backup = append(st.Backup[:i], st.Backup[i+1:]...)
			res := Result{Method: BackupCode, BackupLeft: len(st.Backup)}
			return v.succeed(tx, st, now, res)
		}
	}
	return Result{}, v.fail(tx, st, now)
}

// backupInput returns the normalized form of a backup code: one of ours, or
// an 8-digit scratch code taken over from google-authenticator, which
// cannot be confused with a TOTP code of fewer digits.
func backupInput(input string, digits int) (string, bool) {
	if code, err := backup.Normalize(input); err == nil {
		return code, true
	}
	if digits != 8 {
		if code, err := otp.NormalizeCode(input, 8); err == nil {
			return code, true
		}
	}
	return "", false
}

// checkTOTP looks for code in the window around now. It computes every
// step of the window, whatever matches, so its time does not tell which
// step matched.
func (v *Verifier) checkTOTP(st *store.State, code string, now time.Time) (Result, error) {
	cur := otp.TimeStep(now, st.Period)
	w := v.Config.Window
	found, skew := false, 0
	var step uint64
	for d := -w; d <= w; d++ {
		if d < 0 && uint64(-d) > cur {
			continue
		}
		s := uint64(int64(cur) + int64(d))
		if otp.Equal(otp.HOTP(st.Secret, s, st.Algorithm, st.Digits), code) && !found {
			found, step, skew = true, s, d
		}
	}
	if !found {
		return Result{}, ErrWrongCode
	}
	if step <= st.LastStep {
		return Result{}, ErrReplayed
	}
	st.LastStep = step
	return Result{Method: TOTP, Skew: skew}, nil
}

// succeed records a success and returns res once it is saved. A code whose
// use could not be recorded is not accepted: it could be used again.
func (v *Verifier) succeed(tx *store.Tx, st *store.State, now time.Time, res Result) (Result, error) {
	st.LastUsed = now
	clearFailures(st)
	if st.Confirmed.IsZero() {
		st.Confirmed = now
	}
	if err := tx.Save(st); err != nil {
		return Result{}, err
	}
	return res, nil
}

// Lockout returns the lockout that st is under at now, or nil if there is
// none. A user with FailureLimit consecutive failures is locked out until an
// administrator unlocks them, whatever LockedUntil says.
func (v *Verifier) Lockout(st *store.State, now time.Time) *LockedError {
	if st.ConsecutiveFailures >= v.Config.FailureLimit {
		return &LockedError{UntilUnlock: true}
	}
	if now.Before(st.LockedUntil) {
		return &LockedError{Until: st.LockedUntil}
	}
	return nil
}

// clearFailures forgets the failures and lockouts of st, as a success or
// an unlock does.
func clearFailures(st *store.State) {
	st.Failures, st.Lockouts, st.LockedUntil = 0, 0, time.Time{}
	st.ConsecutiveFailures = 0
}

// fail counts a failure, locks the user out after MaxFailures, or until an
// administrator unlocks them after FailureLimit, and returns the error to
// report: ErrWrongCode, a *LockedError that started the lockout, or the
// store's error if the count could not be saved.
func (v *Verifier) fail(tx *store.Tx, st *store.State, now time.Time) error {
	st.Failures++
	st.ConsecutiveFailures++
	var locked *LockedError
	if st.Failures >= v.Config.MaxFailures {
		st.Lockouts++
		st.LockedUntil = now.Add(v.lockoutDelay(st.Lockouts))
		st.Failures = 0
		locked = &LockedError{Until: st.LockedUntil, Started: true}
	}
	if st.ConsecutiveFailures >= v.Config.FailureLimit {
		locked = &LockedError{UntilUnlock: true, Started: true}
	}
	if err := tx.Save(st); err != nil {
		return err
	}
	if locked != nil {
		return locked
	}
	return ErrWrongCode
}

// lockoutDelay returns the length of the n-th consecutive lockout.
func (v *Verifier) lockoutDelay(n int) time.Duration {
	d, max := time.Duration(v.Config.LockoutDelay), time.Duration(v.Config.LockoutMax)
	for i := 1; i < n && d < max; i++ {
		if d > max/2 {
			return max // doubling could overflow into a negative delay
		}
		d *= 2
	}
	return min(d, max)
}
