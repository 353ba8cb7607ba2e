package policy_test

import (
	"crypto/rand"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/pam-totp/pam-totp/core/config"
	"github.com/pam-totp/pam-totp/core/otp"
	"github.com/pam-totp/pam-totp/core/policy"
	"github.com/pam-totp/pam-totp/core/store"
)

// exampleVerifier returns a verifier on a new store in a temporary
// directory, as 'totpctl init' makes one, and a function that removes it.
func exampleVerifier() (*policy.Verifier, func()) {
	dir, err := os.MkdirTemp("", "pam-totp-example-")
	if err != nil {
		log.Fatal(err)
	}
	cfg := config.Default()
	cfg.StateDir = filepath.Join(dir, "state")
	cfg.KeyFile = filepath.Join(dir, "host.key")
	cfg.Issuer = "example.org"
	if err := os.Mkdir(cfg.StateDir, 0o700); err != nil {
		log.Fatal(err)
	}
	if err := store.CreateKey(cfg.KeyFile, rand.Reader); err != nil {
		log.Fatal(err)
	}
	v, err := policy.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	return v, func() { os.RemoveAll(dir) }
}

func ExampleVerifier_Verify() {
	v, cleanup := exampleVerifier()
	defer cleanup()
	// A fixed clock, so that the codes below do not depend on the time.
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	v.Now = func() time.Time { return now }

	secret := []byte("12345678901234567890")
	e, err := v.NewEnrollment("alice", policy.EnrollOptions{Secret: secret})
	if err != nil {
		log.Fatal(err)
	}
	if err := v.Save(e, false); err != nil {
		log.Fatal(err)
	}

	// The code the user's app shows 30 seconds from now is accepted too.
	code := otp.TOTP(secret, now.Add(30*time.Second), otp.DefaultParams)
	res, err := v.Verify("alice", code)
	fmt.Println(res.Method, res.Skew, err)
	_, err = v.Verify("alice", code)
	fmt.Println(err)
	_, err = v.Verify("alice", "123456")
	fmt.Println(err)
	_, err = v.Verify("bob", code)
	fmt.Println(err)
	// Output:
	// totp 1 <nil>
	// code already used
	// wrong code
	// store: user is not enrolled
}

func ExampleVerifier_NewEnrollment() {
	v, cleanup := exampleVerifier()
	defer cleanup()
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	v.Now = func() time.Time { return now }

	e, err := v.NewEnrollment("alice", policy.EnrollOptions{Secret: []byte("12345678901234567890")})
	if err != nil {
		log.Fatal(err)
	}
	// The URI goes into a QR code for the user's app, and the backup codes
	// are shown once; nothing is written yet.
	fmt.Println(e.Key().URI())
	fmt.Println(len(e.BackupCodes), "backup codes")

	// The user types the code the app shows, which confirms the enrollment,
	// and it is saved.
	fmt.Println(v.Confirm(e, "000000"))
	fmt.Println(v.Confirm(e, otp.TOTP(e.State.Secret, now, e.State.Params)))
	if err := v.Save(e, false); err != nil {
		log.Fatal(err)
	}
	fmt.Println(v.Enrolled("alice"))

	// A backup code lets the user in once.
	res, err := v.Verify("alice", e.BackupCodes[0])
	fmt.Println(res.Method, res.BackupLeft, err)
	// Output:
	// otpauth://totp/example.org:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=example.org
	// 10 backup codes
	// false
	// true
	// true <nil>
	// backup code 9 <nil>
}

func ExampleVerifier_Unlock() {
	v, cleanup := exampleVerifier()
	defer cleanup()
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	v.Now = func() time.Time { return now }
	v.Config.MaxFailures = 2

	secret := []byte("12345678901234567890")
	e, err := v.NewEnrollment("alice", policy.EnrollOptions{Secret: secret})
	if err != nil {
		log.Fatal(err)
	}
	if err := v.Save(e, false); err != nil {
		log.Fatal(err)
	}
	for range 2 {
		_, err := v.Verify("alice", "123456")
		fmt.Println(err)
	}
	code := otp.TOTP(secret, now, otp.DefaultParams)
	_, err = v.Verify("alice", code)
	fmt.Println(err)

	if err := v.Unlock("alice"); err != nil {
		log.Fatal(err)
	}
	_, err = v.Verify("alice", code)
	fmt.Println(err)
	// Output:
	// wrong code
	// wrong code; too many failures, locked out until 2025-06-01T12:01:00Z
	// locked out until 2025-06-01T12:01:00Z
	// <nil>
}
