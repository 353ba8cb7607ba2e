package policy_test

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/pam-totp/pam-totp/core/config"
	"github.com/pam-totp/pam-totp/core/otp"
	"github.com/pam-totp/pam-totp/core/policy"
)

// BenchmarkVerify measures a whole successful login against a state file
// on disk: lock, read, decrypt, check the window, seal, write, sync, rename
// and sync the directory. Each login needs a new time step, so the clock
// moves one period per iteration.
func BenchmarkVerify(b *testing.B) {
	f := newFixture(b, nil)
	f.enroll(b, "alice", policy.EnrollOptions{})
	b.ReportAllocs()
	for b.Loop() {
		f.clk.Add(30 * time.Second)
		code := otp.TOTP(testSecret, f.clk.t, otp.DefaultParams)
		if _, err := f.v.Verify("alice", code); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyWrongCode measures a refused code, which is saved as a
// failure just as a success is saved. MaxFailures is out of reach, so no
// lockout cuts the work short.
func BenchmarkVerifyWrongCode(b *testing.B) {
	f := newFixture(b, nil)
	f.v.Config.MaxFailures = math.MaxInt
	f.enroll(b, "alice", policy.EnrollOptions{})
	wrong := wrongCode(b, f)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.v.Verify("alice", wrong); !errors.Is(err, policy.ErrWrongCode) {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyReplay measures a replayed code, which is refused without
// writing anything.
func BenchmarkVerifyReplay(b *testing.B) {
	f := newFixture(b, nil)
	f.enroll(b, "alice", policy.EnrollOptions{})
	code := f.code(b, "alice", 0)
	f.accept(b, "alice", code, policy.Result{Method: policy.TOTP})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.v.Verify("alice", code); !errors.Is(err, policy.ErrReplayed) {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyBackupCode measures a refused backup code against a full
// set of ten, which derives an Argon2id hash for each.
func BenchmarkVerifyBackupCode(b *testing.B) {
	f := newFixture(b, func(c *config.Config) { c.BackupCodes = 10 })
	f.v.Config.MaxFailures = math.MaxInt
	f.enroll(b, "alice", policy.EnrollOptions{})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.v.Verify("alice", "2345-6789-abcd"); !errors.Is(err, policy.ErrWrongCode) {
			b.Fatal(err)
		}
	}
}

// wrongCode returns a code that is not alice's for any step of the window.
func wrongCode(b *testing.B, f *fixture) string {
	b.Helper()
	n, err := strconv.Atoi(f.code(b, "alice", 0))
	if err != nil {
		b.Fatal(err)
	}
	for {
		n = (n + 1) % 1_000_000
		c := fmt.Sprintf("%06d", n)
		if c != f.code(b, "alice", -1) && c != f.code(b, "alice", 1) {
			return c
		}
	}
}
