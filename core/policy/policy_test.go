package policy_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pam-totp/pam-totp/core/config"
	"github.com/pam-totp/pam-totp/core/otp"
	"github.com/pam-totp/pam-totp/core/policy"
	"github.com/pam-totp/pam-totp/core/store"
)

// testStart is where the injected clock starts: the first instant of a time
// step for periods of 15, 30 and 60 seconds.
var testStart = time.Unix(1_750_000_020, 0).UTC()

// testSecret is the secret of RFC 4226, Appendix D.
var testSecret = []byte("12345678901234567890")

// clock is the injected clock of a test.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time      { return c.t }
func (c *clock) Add(d time.Duration) { c.t = c.t.Add(d) }

// fixture is a verifier on a store of its own, with an injected clock and a
// deterministic source of randomness.
type fixture struct {
	root string // holds the state directory and the host key
	dir  string
	v    *policy.Verifier
	clk  *clock
}

// newFixture returns a fixture with the default configuration, changed by
// edit, and no backup codes unless edit asks for them.
func newFixture(t testing.TB, edit func(*config.Config)) *fixture {
	t.Helper()
	root := t.TempDir()
	cfg := config.Default()
	cfg.StateDir = filepath.Join(root, "state")
	cfg.KeyFile = filepath.Join(root, "host.key")
	cfg.Issuer = "example.org"
	cfg.BackupCodes = 0
	if edit != nil {
		edit(cfg)
	}
	if err := os.Mkdir(cfg.StateDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := store.CreateKey(cfg.KeyFile, rand.NewChaCha8([32]byte{1})); err != nil {
		t.Fatal(err)
	}
	v, err := policy.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{root: root, dir: cfg.StateDir, v: v, clk: &clock{testStart}}
	v.Now = f.clk.Now
	v.Rand = rand.NewChaCha8([32]byte{2})
	return f
}

// enroll saves a new enrollment of user with testSecret unless opts names
// another secret.
func (f *fixture) enroll(t testing.TB, user string, opts policy.EnrollOptions) *policy.Enrollment {
	t.Helper()
	if opts.Secret == nil {
		opts.Secret = testSecret
	}
	e, err := f.v.NewEnrollment(user, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.v.Save(e, false); err != nil {
		t.Fatal(err)
	}
	return e
}

// code returns user's code for the time step d steps from now.
func (f *fixture) code(t testing.TB, user string, d int) string {
	t.Helper()
	st := f.status(t, user)
	step := int64(otp.TimeStep(f.clk.t, st.Period)) + int64(d)
	return otp.HOTP(st.Secret, uint64(step), st.Algorithm, st.Digits)
}

func (f *fixture) status(t testing.TB, user string) *store.State {
	t.Helper()
	st, err := f.v.Status(user)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func (f *fixture) stateFile(t testing.TB, user string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(f.dir, user+".totp"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// accept verifies input and fails the test unless it gives want.
func (f *fixture) accept(t testing.TB, user, input string, want policy.Result) {
	t.Helper()
	got, err := f.v.Verify(user, input)
	if err != nil || got != want {
		t.Fatalf("Verify(%q, %q) = %+v, %v; want %+v", user, input, got, err, want)
	}
}

// refuse verifies input and fails the test unless it gives an error
// matching want and a zero Result.
func (f *fixture) refuse(t testing.TB, user, input string, want error) error {
	t.Helper()
	got, err := f.v.Verify(user, input)
	if !errors.Is(err, want) || got != (policy.Result{}) {
		t.Fatalf("Verify(%q, %q) = %+v, %v; want %v", user, input, got, err, want)
	}
	return err
}

// TestDrift checks the window at both ends of a time step: the codes of W
// steps either side are accepted with their skew, those of W+1 are refused
// and count as a failure.
func TestDrift(t *testing.T) {
	ends := []struct {
		name string
		off  time.Duration
	}{
		{"first instant", 0},
		{"last instant", 30*time.Second - time.Nanosecond},
	}
	for w := 0; w <= 2; w++ {
		f := newFixture(t, func(c *config.Config) { c.Window = w })
		for _, end := range ends {
			f.clk.t = testStart.Add(end.off)
			for d := -w - 1; d <= w+1; d++ {
				name := fmt.Sprintf("W=%d/%s/skew %+d", w, end.name, d)
				user := fmt.Sprintf("u%d%c%d", w, end.name[0], d+w+1)
				t.Run(name, func(t *testing.T) {
					f.enroll(t, user, policy.EnrollOptions{})
					cur := otp.TimeStep(f.clk.t, 30)
					code := f.code(t, user, d)
					st := f.status(t, user)
					if d < -w || d > w {
						f.refuse(t, user, code, policy.ErrWrongCode)
						if st := f.status(t, user); st.Failures != 1 || st.LastStep != 0 {
							t.Errorf("after a code outside the window: Failures = %d, LastStep = %d; want 1, 0",
								st.Failures, st.LastStep)
						}
						return
					}
					f.accept(t, user, code, policy.Result{Method: policy.TOTP, Skew: d})
					st = f.status(t, user)
					if want := uint64(int64(cur) + int64(d)); st.LastStep != want {
						t.Errorf("LastStep = %d, want %d", st.LastStep, want)
					}
				})
			}
		}
	}
}

func TestReplay(t *testing.T) {
	f := newFixture(t, func(c *config.Config) { c.MaxFailures = 3 })
	f.enroll(t, "alice", policy.EnrollOptions{})
	now := f.code(t, "alice", 0)
	f.accept(t, "alice", now, policy.Result{Method: policy.TOTP})
	for range 5 { // more than MaxFailures: a replay is not a failure
		f.refuse(t, "alice", now, policy.ErrReplayed)
	}
	f.refuse(t, "alice", f.code(t, "alice", -1), policy.ErrReplayed)
	if st := f.status(t, "alice"); st.Failures != 0 || !st.LockedUntil.IsZero() {
		t.Errorf("after replays: Failures = %d, LockedUntil = %v; want none", st.Failures, st.LockedUntil)
	}

	// A code ahead of the clock is accepted; then the current code, older,
	// is a replay.
	f.accept(t, "alice", f.code(t, "alice", 1), policy.Result{Method: policy.TOTP, Skew: 1})
	f.refuse(t, "alice", now, policy.ErrReplayed)

	// One step later, that code is the current one, and still used.
	f.clk.Add(30 * time.Second)
	f.refuse(t, "alice", f.code(t, "alice", 0), policy.ErrReplayed)
	f.accept(t, "alice", f.code(t, "alice", 1), policy.Result{Method: policy.TOTP, Skew: 1})

	// Two steps later the current code is new.
	f.clk.Add(60 * time.Second)
	f.refuse(t, "alice", f.code(t, "alice", -1), policy.ErrReplayed)
	f.accept(t, "alice", f.code(t, "alice", 0), policy.Result{Method: policy.TOTP})
}

// lock makes MaxFailures wrong attempts and returns the lockout's error.
func (f *fixture) lock(t *testing.T, user string, maxFailures int) {
	t.Helper()
	for i := 1; i <= maxFailures; i++ {
		err := f.refuse(t, user, "000000", policy.ErrWrongCode)
		if locked := strings.Contains(err.Error(), "locked out until"); locked != (i == maxFailures) {
			t.Fatalf("failure %d of %d: error %q", i, maxFailures, err)
		}
	}
}

// checkLocked checks that user is locked out until until: a right code is
// refused, and refusing it changes nothing on disk.
func (f *fixture) checkLocked(t *testing.T, user string, until time.Time, inputs ...string) {
	t.Helper()
	before := f.stateFile(t, user)
	for _, input := range append(inputs, f.code(t, user, 0)) {
		_, err := f.v.Verify(user, input)
		var le *policy.LockedError
		if !errors.As(err, &le) || !errors.Is(err, policy.ErrLocked) || !le.Until.Equal(until) {
			t.Fatalf("Verify(%q) while locked = %v, want locked out until %v", input, err, until)
		}
	}
	if !bytes.Equal(f.stateFile(t, user), before) {
		t.Error("an attempt while locked out changed the state file")
	}
}

// TestLockout checks that each lockout doubles the delay up to LockoutMax,
// that a lockout refuses right codes and backup codes, and ends on time.
func TestLockout(t *testing.T) {
	f := newFixture(t, func(c *config.Config) {
		c.MaxFailures = 3
		c.LockoutDelay = config.Duration(time.Minute)
		c.LockoutMax = config.Duration(5 * time.Minute)
		c.BackupCodes = 2
	})
	e := f.enroll(t, "alice", policy.EnrollOptions{})
	for _, delay := range []time.Duration{1, 2, 4, 5, 5} {
		delay *= time.Minute
		f.lock(t, "alice", 3)
		until := f.clk.t.Add(delay)
		f.checkLocked(t, "alice", until, e.BackupCodes[0])

		f.clk.t = until.Add(-time.Nanosecond)
		f.checkLocked(t, "alice", until)
		f.clk.t = until
		if st := f.status(t, "alice"); st.Failures != 0 {
			t.Fatalf("Failures = %d after a lockout, want 0", st.Failures)
		}
	}

	// The lockout is over; a success resets the count of lockouts.
	f.accept(t, "alice", f.code(t, "alice", 0), policy.Result{Method: policy.TOTP})
	if st := f.status(t, "alice"); st.Failures != 0 || st.Lockouts != 0 || !st.LockedUntil.IsZero() {
		t.Errorf("after a success: Failures %d, Lockouts %d, LockedUntil %v; want none",
			st.Failures, st.Lockouts, st.LockedUntil)
	}
	f.lock(t, "alice", 3)
	f.checkLocked(t, "alice", f.clk.t.Add(time.Minute))

	// The backup code tried while locked out was not used up.
	f.clk.Add(time.Minute)
	f.accept(t, "alice", e.BackupCodes[0], policy.Result{Method: policy.BackupCode, BackupLeft: 1})
}

// TestLockoutDelays checks the growth of the delay over consecutive
// lockouts, up to LockoutMax, for delays up to the largest a duration holds.
func TestLockoutDelays(t *testing.T) {
	const h = time.Hour
	longest := time.Duration(math.MaxInt64)
	tests := []struct {
		delay, max time.Duration
		want       []time.Duration
	}{
		{time.Minute, time.Minute, []time.Duration{time.Minute, time.Minute, time.Minute}},
		{time.Minute, time.Hour, []time.Duration{1 * time.Minute, 2 * time.Minute, 4 * time.Minute,
			8 * time.Minute, 16 * time.Minute, 32 * time.Minute, time.Hour, time.Hour}},
		{3 * time.Second, 10 * time.Second, []time.Duration{3 * time.Second, 6 * time.Second,
			10 * time.Second, 10 * time.Second}},
		{100_000 * h, longest, []time.Duration{100_000 * h, 200_000 * h, 400_000 * h, 800_000 * h,
			1_600_000 * h, longest, longest}},
		{longest / 3, longest, []time.Duration{longest / 3, longest / 3 * 2, longest, longest}},
	}
	for _, tt := range tests {
		f := newFixture(t, func(c *config.Config) {
			c.MaxFailures = 1
			c.LockoutDelay, c.LockoutMax = config.Duration(tt.delay), config.Duration(tt.max)
		})
		f.enroll(t, "alice", policy.EnrollOptions{})
		for i, want := range tt.want {
			f.lock(t, "alice", 1)
			st := f.status(t, "alice")
			if got := st.LockedUntil.Sub(f.clk.t); got != want {
				t.Errorf("delay %v, max %v: lockout %d lasts %v, want %v", tt.delay, tt.max, i+1, got, want)
				break
			}
			f.checkLocked(t, "alice", st.LockedUntil)
			f.clk.t = st.LockedUntil
		}
	}
}

// checkLockedUntilUnlock checks that user is locked out until an
// administrator unlocks them: right codes are refused, now and a year from
// now, and refusing them changes nothing on disk.
func (f *fixture) checkLockedUntilUnlock(t *testing.T, user string, inputs ...string) {
	t.Helper()
	before := f.stateFile(t, user)
	for _, later := range []time.Duration{0, 365 * 24 * time.Hour} {
		f.clk.Add(later)
		for _, input := range append(inputs, f.code(t, user, 0)) {
			_, err := f.v.Verify(user, input)
			var le *policy.LockedError
			if !errors.As(err, &le) || !le.UntilUnlock || !le.Until.IsZero() || le.Started ||
				errors.Is(err, policy.ErrWrongCode) {
				t.Fatalf("Verify(%q) %v later = %v (%+v), want locked out until an unlock",
					input, later, err, le)
			}
			if want := "locked out until an administrator unlocks the user ('totpctl unlock')"; err.Error() != want {
				t.Fatalf("Verify(%q) = %q, want %q", input, err, want)
			}
		}
	}
	if !bytes.Equal(f.stateFile(t, user), before) {
		t.Error("an attempt while locked out changed the state file")
	}
}

// waitOutLockout moves the clock to the end of user's timed lockout, if
// there is one.
func (f *fixture) waitOutLockout(t *testing.T, user string) {
	t.Helper()
	if st := f.status(t, user); f.clk.t.Before(st.LockedUntil) {
		f.clk.t = st.LockedUntil
	}
}

// failTimes makes n wrong attempts for user, waiting out each timed
// lockout, so that every attempt is counted.
func (f *fixture) failTimes(t *testing.T, user string, n int) {
	t.Helper()
	for range n {
		f.refuse(t, user, "000000", policy.ErrWrongCode)
		f.waitOutLockout(t, user)
	}
}

// TestFailureLimit checks that FailureLimit consecutive failures, across
// timed lockouts, lock the user out until an unlock, and not one fewer.
func TestFailureLimit(t *testing.T) {
	tests := []struct{ maxFailures, limit int }{
		{10, 100}, // the defaults: the tenth lockout is the last
		{3, 10},   // the limit falls between two timed lockouts
		{4, 4},    // the first lockout is the last
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("max_failures %d, failure_limit %d", tt.maxFailures, tt.limit), func(t *testing.T) {
			f := newFixture(t, func(c *config.Config) {
				c.MaxFailures, c.FailureLimit = tt.maxFailures, tt.limit
				c.BackupCodes = 1
			})
			e := f.enroll(t, "alice", policy.EnrollOptions{})
			for i := 1; i < tt.limit; i++ {
				err := f.refuse(t, "alice", "000000", policy.ErrWrongCode)
				var le *policy.LockedError
				if errors.As(err, &le) && le.UntilUnlock {
					t.Fatalf("failure %d of %d: %v, want no lockout until an unlock yet", i, tt.limit, err)
				}
				f.waitOutLockout(t, "alice")
			}

			err := f.refuse(t, "alice", "000000", policy.ErrWrongCode)
			var le *policy.LockedError
			if !errors.As(err, &le) || !le.UntilUnlock || !le.Started || !errors.Is(err, policy.ErrLocked) {
				t.Fatalf("failure %d of %d: %v, want the lockout until an unlock to start", tt.limit, tt.limit, err)
			}
			want := "wrong code; too many failures, locked out until an administrator unlocks the user"
			if !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error %q, want it to start with %q", err, want)
			}
			f.checkLockedUntilUnlock(t, "alice", e.BackupCodes[0])

			if err := f.v.Unlock("alice"); err != nil {
				t.Fatal(err)
			}
			f.accept(t, "alice", f.code(t, "alice", 0), policy.Result{Method: policy.TOTP})
		})
	}
}

// TestFailureLimitResets checks that a success or an unlock starts the count
// of consecutive failures anew.
func TestFailureLimitResets(t *testing.T) {
	f := newFixture(t, func(c *config.Config) { c.MaxFailures, c.FailureLimit = 2, 5 })
	f.enroll(t, "alice", policy.EnrollOptions{})
	f.failTimes(t, "alice", 4)
	f.accept(t, "alice", f.code(t, "alice", 0), policy.Result{Method: policy.TOTP})
	f.failTimes(t, "alice", 4)
	if err := f.v.Unlock("alice"); err != nil {
		t.Fatal(err)
	}
	f.failTimes(t, "alice", 4)
	if _, err := f.v.Verify("alice", f.code(t, "alice", 1)); err != nil {
		t.Fatalf("after 4 failures of 5: %v, want the code accepted", err)
	}
	f.failTimes(t, "alice", 5)
	f.clk.Add(30 * time.Second)
	f.checkLockedUntilUnlock(t, "alice")
}

// TestFailureLimitLowered checks that lowering failure_limit under the
// failures a user already made locks them out at once, and that the state
// alone, read by another verifier, carries the lockout.
func TestFailureLimitLowered(t *testing.T) {
	f := newFixture(t, func(c *config.Config) { c.MaxFailures, c.FailureLimit = 3, 100 })
	f.enroll(t, "alice", policy.EnrollOptions{})
	f.failTimes(t, "alice", 7)
	f.v.Config.FailureLimit = 7
	f.checkLockedUntilUnlock(t, "alice")
	if l := f.v.Lockout(f.status(t, "alice"), f.clk.t); l == nil || !l.UntilUnlock {
		t.Errorf("Lockout = %+v, want until an unlock", l)
	}
}

// TestFailureLimitKeepsCountWhenMaxFailuresChanges changes max_failures in
// the middle of a run of failures: the count towards failure_limit is kept
// in the state, so lowering it grants no extra guesses and raising it
// locks no one out early.
func TestFailureLimitKeepsCountWhenMaxFailuresChanges(t *testing.T) {
	for _, tt := range []struct{ before, after int }{{10, 1}, {3, 30}} {
		t.Run(fmt.Sprintf("%d to %d", tt.before, tt.after), func(t *testing.T) {
			f := newFixture(t, func(c *config.Config) { c.MaxFailures, c.FailureLimit = tt.before, 40 })
			f.enroll(t, "alice", policy.EnrollOptions{})
			f.failTimes(t, "alice", 30)
			f.v.Config.MaxFailures = tt.after
			if st := f.status(t, "alice"); st.ConsecutiveFailures != 30 {
				t.Fatalf("ConsecutiveFailures = %d, want 30", st.ConsecutiveFailures)
			}
			if l := f.v.Lockout(f.status(t, "alice"), f.clk.t); l != nil {
				t.Fatalf("after 30 of 40 failures: Lockout = %+v, want none", l)
			}
			f.failTimes(t, "alice", 10)
			f.checkLockedUntilUnlock(t, "alice")
		})
	}
}

func TestSuccessResetsFailures(t *testing.T) {
	f := newFixture(t, func(c *config.Config) { c.MaxFailures = 3 })
	f.enroll(t, "alice", policy.EnrollOptions{})
	for range 3 {
		for range 2 {
			f.refuse(t, "alice", "000000", policy.ErrWrongCode)
		}
		if st := f.status(t, "alice"); st.Failures != 2 {
			t.Fatalf("Failures = %d, want 2", st.Failures)
		}
		f.accept(t, "alice", f.code(t, "alice", 0), policy.Result{Method: policy.TOTP})
		if st := f.status(t, "alice"); st.Failures != 0 {
			t.Fatalf("Failures = %d after a success, want 0", st.Failures)
		}
		f.clk.Add(30 * time.Second)
	}
}

func TestUnlock(t *testing.T) {
	f := newFixture(t, func(c *config.Config) { c.MaxFailures = 2 })
	f.enroll(t, "alice", policy.EnrollOptions{})
	f.lock(t, "alice", 2)
	f.checkLocked(t, "alice", f.clk.t.Add(time.Minute))

	if err := f.v.Unlock("alice"); err != nil {
		t.Fatal(err)
	}
	if st := f.status(t, "alice"); st.Failures != 0 || st.Lockouts != 0 || !st.LockedUntil.IsZero() {
		t.Errorf("after Unlock: Failures %d, Lockouts %d, LockedUntil %v; want none",
			st.Failures, st.Lockouts, st.LockedUntil)
	}
	f.accept(t, "alice", f.code(t, "alice", 0), policy.Result{Method: policy.TOTP})

	if err := f.v.Unlock("bob"); !errors.Is(err, policy.ErrNotEnrolled) {
		t.Errorf("Unlock(bob) = %v, want ErrNotEnrolled", err)
	}
	if err := f.v.Unlock("../alice"); !errors.Is(err, store.ErrInvalidUser) {
		t.Errorf("Unlock(../alice) = %v, want ErrInvalidUser", err)
	}
}

func TestBackupCodes(t *testing.T) {
	f := newFixture(t, func(c *config.Config) { c.BackupCodes = 4 })
	e := f.enroll(t, "alice", policy.EnrollOptions{})
	codes := e.BackupCodes
	if len(codes) != 4 {
		t.Fatalf("%d backup codes, want 4", len(codes))
	}
	backup := func(left int) policy.Result {
		return policy.Result{Method: policy.BackupCode, BackupLeft: left}
	}

	f.refuse(t, "alice", "2345-6789-abcd", policy.ErrWrongCode)
	if st := f.status(t, "alice"); st.Failures != 1 {
		t.Errorf("Failures = %d after a wrong backup code, want 1", st.Failures)
	}
	f.accept(t, "alice", codes[0], backup(3))
	f.refuse(t, "alice", codes[0], policy.ErrWrongCode)
	if st := f.status(t, "alice"); st.Failures != 1 {
		t.Errorf("Failures = %d after a used backup code, want 1", st.Failures)
	}
	f.accept(t, "alice", strings.ToUpper(strings.ReplaceAll(codes[1], "-", " ")), backup(2))
	f.accept(t, "alice", "  "+strings.ReplaceAll(codes[2], "-", "")+"\t", backup(1))
	if st := f.status(t, "alice"); st.Failures != 0 {
		t.Errorf("Failures = %d after a backup code, want 0", st.Failures)
	}
	f.accept(t, "alice", codes[3], backup(0))
	for _, c := range codes {
		f.refuse(t, "alice", c, policy.ErrWrongCode)
	}
}

// TestScratchCodes takes over 8-digit scratch codes of google-authenticator
// for a user of 6-digit codes.
func TestScratchCodes(t *testing.T) {
	f := newFixture(t, nil)
	e := f.enroll(t, "alice", policy.EnrollOptions{ScratchCodes: []string{"12345678", "8765 4321"}})
	if e.BackupCodes != nil {
		t.Errorf("BackupCodes = %q, want none: the scratch codes are the backup codes", e.BackupCodes)
	}
	scratch := func(left int) policy.Result {
		return policy.Result{Method: policy.BackupCode, BackupLeft: left}
	}
	f.refuse(t, "alice", "11111111", policy.ErrWrongCode)
	f.accept(t, "alice", "12345678", scratch(1))
	f.refuse(t, "alice", "12345678", policy.ErrWrongCode)
	f.accept(t, "alice", "8765-4321", scratch(0))
	f.accept(t, "alice", f.code(t, "alice", 0), policy.Result{Method: policy.TOTP})

	bad := []struct {
		codes  []string
		digits int
	}{
		{[]string{"1234567"}, 6},
		{[]string{"123456789"}, 6},
		{[]string{"abcdefgh"}, 6},
		{[]string{"12345678", ""}, 6},
		{[]string{"12345678"}, 8}, // would be taken for a TOTP code
	}
	for _, tt := range bad {
		p := otp.DefaultParams
		p.Digits = tt.digits
		_, err := f.v.NewEnrollment("bob", policy.EnrollOptions{Params: p, ScratchCodes: tt.codes})
		if err == nil {
			t.Errorf("NewEnrollment with scratch codes %q for %d digits succeeded", tt.codes, tt.digits)
		}
	}
}

// TestMalformedInput checks that input that is neither a code nor a backup
// code counts as a failure.
func TestMalformedInput(t *testing.T) {
	f := newFixture(t, func(c *config.Config) { c.MaxFailures = 100; c.BackupCodes = 1 })
	f.enroll(t, "alice", policy.EnrollOptions{})
	inputs := []string{
		"abc", "12345", "1234567", "123456789", "12 34 56 78 90",
		"１２３４５６", // full-width digits
		"123456\x00", "\x00", "12345\n6", "+123456", "-123456-", "1e5",
		"' OR 1=1 --", strings.Repeat("1", 10000), "2345-6789-abc", "2345-6789-abcde",
		"2345-6789-abc0", "\xff\xfe\xfd",
	}
	for i, input := range inputs {
		f.refuse(t, "alice", input, policy.ErrWrongCode)
		if st := f.status(t, "alice"); st.Failures != i+1 {
			t.Fatalf("Verify(%q): Failures = %d, want %d", input, st.Failures, i+1)
		}
	}
}

// TestEmptyInput checks that an empty answer is refused without counting
// as a failure: it guesses nothing.
func TestEmptyInput(t *testing.T) {
	f := newFixture(t, func(c *config.Config) { c.MaxFailures = 2 })
	f.enroll(t, "alice", policy.EnrollOptions{})
	for _, input := range []string{"", " ", "\t\n", "", " "} {
		f.refuse(t, "alice", input, policy.ErrWrongCode)
		if st := f.status(t, "alice"); st.Failures != 0 || !st.LockedUntil.IsZero() {
			t.Fatalf("Verify(%q): Failures = %d, LockedUntil = %v, want 0 and none",
				input, st.Failures, st.LockedUntil)
		}
	}
}

func TestUnknownUsers(t *testing.T) {
	f := newFixture(t, nil)
	f.enroll(t, "alice", policy.EnrollOptions{})
	before, err := os.ReadDir(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	code := f.code(t, "alice", 0)
	f.refuse(t, "bob", code, policy.ErrNotEnrolled)
	for _, user := range []string{"", "../alice", "alice/", ".alice", "-alice", "al ice", "älice"} {
		f.refuse(t, user, code, store.ErrInvalidUser)
		if _, err := f.v.Enrolled(user); !errors.Is(err, store.ErrInvalidUser) {
			t.Errorf("Enrolled(%q) = %v, want ErrInvalidUser", user, err)
		}
	}
	after, err := os.ReadDir(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Errorf("refusing unknown users changed the state directory: %v, then %v", before, after)
	}
	if ok, err := f.v.Enrolled("bob"); ok || err != nil {
		t.Errorf("Enrolled(bob) = %v, %v; want false, nil", ok, err)
	}
}

// TestOathtool checks codes made by oathtool, an independent
// implementation, for each algorithm, several lengths and time steps, and
// times either side of now.
func TestOathtool(t *testing.T) {
	if _, err := exec.LookPath("oathtool"); err != nil {
		t.Skip("oathtool is not installed (Debian package oathtool)")
	}
	tests := []otp.Params{
		{Algorithm: otp.SHA1, Digits: 6, Period: 30},
		{Algorithm: otp.SHA1, Digits: 7, Period: 15},
		{Algorithm: otp.SHA256, Digits: 8, Period: 30},
		{Algorithm: otp.SHA512, Digits: 8, Period: 60},
		{Algorithm: otp.SHA512, Digits: 6, Period: 120},
	}
	rnd := rand.NewChaCha8([32]byte{3})
	for _, p := range tests {
		name := fmt.Sprintf("%v-%d-%d", p.Algorithm, p.Digits, p.Period)
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, nil)
			f.clk.Add(7 * time.Second)
			secret, _ := otp.GenerateSecret(rnd, 20)
			f.enroll(t, "alice", policy.EnrollOptions{Params: p, Secret: secret})
			for _, d := range []int{-1, 0, 1} {
				at := f.clk.t.Add(time.Duration(d*p.Period) * time.Second)
				code := oathtool(t, secret, p, at)
				f.accept(t, "alice", code, policy.Result{Method: policy.TOTP, Skew: d})
			}
		})
	}
}

func oathtool(t *testing.T, secret []byte, p otp.Params, at time.Time) string {
	t.Helper()
	out, err := exec.Command("oathtool", "--totp="+p.Algorithm.String(), "-b",
		"--digits="+fmt.Sprint(p.Digits), fmt.Sprintf("--time-step-size=%ds", p.Period),
		fmt.Sprintf("--now=@%d", at.Unix()), otp.EncodeSecret(secret)).CombinedOutput()
	if err != nil {
		t.Fatalf("oathtool: %v\n%s", err, out)
	}
	return strings.TrimSpace(string(out))
}
