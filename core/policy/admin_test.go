package policy_test

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pam-totp/pam-totp/core/config"
	"github.com/pam-totp/pam-totp/core/otp"
	"github.com/pam-totp/pam-totp/core/policy"
	"github.com/pam-totp/pam-totp/core/store"
)

func listing(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestNewEnrollment(t *testing.T) {
	f := newFixture(t, func(c *config.Config) {
		c.Algorithm, c.Digits, c.Period = otp.SHA256, 7, 60
		c.SecretBytes = 32
		c.BackupCodes = 3
	})
	conf := otp.Params{Algorithm: otp.SHA256, Digits: 7, Period: 60}
	sha512 := otp.Params{Algorithm: otp.SHA512, Digits: 8, Period: 15}
	short := testSecret[:10] // 80 bits, as google-authenticator makes them
	tests := []struct {
		name   string
		opts   policy.EnrollOptions
		issuer string
		params otp.Params
		secret []byte // nil: a new one of 32 bytes
	}{
		{"configured", policy.EnrollOptions{}, "example.org", conf, nil},
		{"issuer", policy.EnrollOptions{Issuer: "Example Inc."}, "Example Inc.", conf, nil},
		{"params", policy.EnrollOptions{Params: sha512}, "example.org", sha512, nil},
		{"secret", policy.EnrollOptions{Secret: testSecret}, "example.org", conf, testSecret},
		{"80-bit secret", policy.EnrollOptions{Secret: short}, "example.org", conf, short},
	}
	for _, tt := range tests {
		before := listing(t, f.dir)
		e, err := f.v.NewEnrollment("alice", tt.opts)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		st := e.State
		if st.User != "alice" || st.Issuer != tt.issuer || st.Params != tt.params {
			t.Errorf("%s: user %q, issuer %q, params %+v; want alice, %q, %+v",
				tt.name, st.User, st.Issuer, st.Params, tt.issuer, tt.params)
		}
		switch {
		case tt.secret != nil && !bytes.Equal(st.Secret, tt.secret):
			t.Errorf("%s: secret %x, want %x", tt.name, st.Secret, tt.secret)
		case tt.secret == nil && len(st.Secret) != 32:
			t.Errorf("%s: secret of %d bytes, want the configured 32", tt.name, len(st.Secret))
		}
		if !st.Created.Equal(testStart) || !st.Confirmed.IsZero() || st.LastStep != 0 {
			t.Errorf("%s: created %v, confirmed %v, last step %d; want %v, never, 0",
				tt.name, st.Created, st.Confirmed, st.LastStep, testStart)
		}
		if len(e.BackupCodes) != 3 || len(st.Backup) != 3 {
			t.Errorf("%s: %d backup codes, %d hashes; want 3", tt.name, len(e.BackupCodes), len(st.Backup))
		}
		if k := e.Key(); k.Account != "alice" || k.Issuer != tt.issuer || !bytes.Equal(k.Secret, st.Secret) {
			t.Errorf("%s: Key() = %+v, does not match the state", tt.name, k)
		}
		if after := listing(t, f.dir); !reflect.DeepEqual(after, before) {
			t.Errorf("%s: NewEnrollment wrote to the state directory: %q", tt.name, after)
		}
	}
}

func TestNewEnrollmentSecretsDiffer(t *testing.T) {
	f := newFixture(t, func(c *config.Config) { c.BackupCodes = 10 })
	a, err := f.v.NewEnrollment("alice", policy.EnrollOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.v.NewEnrollment("alice", policy.EnrollOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a.State.Secret, b.State.Secret) {
		t.Error("two enrollments have the same secret")
	}
	seen := map[string]bool{}
	for _, c := range append(a.BackupCodes, b.BackupCodes...) {
		if seen[c] {
			t.Errorf("backup code %s issued twice", c)
		}
		seen[c] = true
	}
}

func TestIssuerDefault(t *testing.T) {
	host, err := os.Hostname()
	if err != nil {
		t.Skipf("this machine has no host name: %v", err)
	}
	f := newFixture(t, func(c *config.Config) { c.Issuer = "" })
	e, err := f.v.NewEnrollment("alice", policy.EnrollOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if e.State.Issuer != host {
		t.Errorf("issuer %q with none configured, want the host name %q", e.State.Issuer, host)
	}
}

func TestNewEnrollmentErrors(t *testing.T) {
	f := newFixture(t, nil)
	tests := []struct {
		name string
		user string
		opts policy.EnrollOptions
		want error // nil: any error
	}{
		{"invalid user", "../root", policy.EnrollOptions{}, store.ErrInvalidUser},
		{"empty user", "", policy.EnrollOptions{}, store.ErrInvalidUser},
		{"9 digits", "alice", policy.EnrollOptions{Params: otp.Params{Digits: 9, Period: 30}}, nil},
		{"5 digits", "alice", policy.EnrollOptions{Params: otp.Params{Digits: 5, Period: 30}}, nil},
		{"period 10", "alice", policy.EnrollOptions{Params: otp.Params{Digits: 6, Period: 10}}, nil},
		{"no period", "alice", policy.EnrollOptions{Params: otp.Params{Digits: 6}}, nil},
		{"unknown algorithm", "alice",
			policy.EnrollOptions{Params: otp.Params{Algorithm: 3, Digits: 6, Period: 30}}, nil},
		{"secret of 9 bytes", "alice", policy.EnrollOptions{Secret: testSecret[:9]}, nil},
		{"secret of 65 bytes", "alice", policy.EnrollOptions{Secret: make([]byte, 65)}, nil},
		{"empty secret", "alice", policy.EnrollOptions{Secret: []byte{}}, nil},
		{"issuer with a colon", "alice", policy.EnrollOptions{Issuer: "ACME:prod"}, nil},
		{"issuer with a newline", "alice", policy.EnrollOptions{Issuer: "ACME\nprod"}, nil},
		{"issuer too long", "alice", policy.EnrollOptions{Issuer: strings.Repeat("x", 101)}, nil},
	}
	for _, tt := range tests {
		e, err := f.v.NewEnrollment(tt.user, tt.opts)
		if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) || e != nil {
			t.Errorf("%s: NewEnrollment = %v, %v; want an error", tt.name, e, err)
		}
	}
	if got := listing(t, f.dir); len(got) != 0 {
		t.Errorf("refused enrollments left %q in the state directory", got)
	}
}

// TestConfirm checks an enrollment against the app's code before it is
// saved; the code that confirmed it cannot log in afterwards.
func TestConfirm(t *testing.T) {
	f := newFixture(t, nil)
	e, err := f.v.NewEnrollment("alice", policy.EnrollOptions{Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	code := otp.TOTP(testSecret, f.clk.t, otp.DefaultParams)
	early := otp.TOTP(testSecret, f.clk.t.Add(-time.Minute), otp.DefaultParams)
	for _, wrong := range []string{"", "abcdef", "12345", early} {
		if f.v.Confirm(e, wrong) {
			t.Errorf("Confirm(%q) = true, want false", wrong)
		}
	}
	if !e.State.Confirmed.IsZero() {
		t.Fatal("a refused code marked the enrollment confirmed")
	}
	f.clk.Add(5 * time.Second)
	if !f.v.Confirm(e, code[:3]+" "+code[3:]) {
		t.Fatalf("Confirm(%q) = false, want true", code)
	}
	if !e.State.Confirmed.Equal(f.clk.t) {
		t.Errorf("Confirmed = %v, want %v", e.State.Confirmed, f.clk.t)
	}
	if got := listing(t, f.dir); len(got) != 0 {
		t.Errorf("Confirm wrote %q to the state directory", got)
	}

	if err := f.v.Save(e, false); err != nil {
		t.Fatal(err)
	}
	if st := f.status(t, "alice"); !st.Confirmed.Equal(f.clk.t) {
		t.Errorf("saved Confirmed = %v, want %v", st.Confirmed, f.clk.t)
	}
	f.refuse(t, "alice", code, policy.ErrReplayed)
	f.clk.Add(30 * time.Second)
	f.accept(t, "alice", f.code(t, "alice", 0), policy.Result{Method: policy.TOTP})
}

// TestFirstLoginConfirms checks that an enrollment saved without a
// confirmation is confirmed by its first successful login.
func TestFirstLoginConfirms(t *testing.T) {
	f := newFixture(t, nil)
	f.enroll(t, "alice", policy.EnrollOptions{})
	if st := f.status(t, "alice"); !st.Confirmed.IsZero() {
		t.Fatalf("Confirmed = %v before any login", st.Confirmed)
	}
	f.refuse(t, "alice", "000000", policy.ErrWrongCode)
	if st := f.status(t, "alice"); !st.Confirmed.IsZero() {
		t.Fatalf("a wrong code confirmed the enrollment")
	}
	f.clk.Add(time.Second)
	f.accept(t, "alice", f.code(t, "alice", 0), policy.Result{Method: policy.TOTP})
	if st := f.status(t, "alice"); !st.Confirmed.Equal(f.clk.t) || !st.LastUsed.Equal(f.clk.t) {
		t.Errorf("Confirmed %v, LastUsed %v after the first login; want %v",
			st.Confirmed, st.LastUsed, f.clk.t)
	}
}

func TestSaveReplace(t *testing.T) {
	f := newFixture(t, nil)
	f.enroll(t, "alice", policy.EnrollOptions{})
	before := f.stateFile(t, "alice")

	other := bytes.Repeat([]byte{7}, 20)
	e, err := f.v.NewEnrollment("alice", policy.EnrollOptions{Secret: other})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.v.Save(e, false); !errors.Is(err, policy.ErrAlreadyEnrolled) {
		t.Fatalf("Save over an enrollment = %v, want ErrAlreadyEnrolled", err)
	}
	if !bytes.Equal(f.stateFile(t, "alice"), before) {
		t.Fatal("a refused Save changed the state file")
	}
	f.accept(t, "alice", f.code(t, "alice", 0), policy.Result{Method: policy.TOTP})

	f.clk.Add(30 * time.Second)
	if err := f.v.Save(e, true); err != nil {
		t.Fatal(err)
	}
	f.refuse(t, "alice", otp.TOTP(testSecret, f.clk.t, otp.DefaultParams), policy.ErrWrongCode)
	f.accept(t, "alice", otp.TOTP(other, f.clk.t, otp.DefaultParams), policy.Result{Method: policy.TOTP})
}

// TestSaveOverCorrupt checks that a Save without replace does not overwrite
// a state file it cannot read, and that one with replace does.
func TestSaveOverCorrupt(t *testing.T) {
	f := newFixture(t, nil)
	path := f.dir + "/alice.totp"
	if err := os.WriteFile(path, []byte("PAMTOTP"), 0o600); err != nil {
		t.Fatal(err)
	}
	e, err := f.v.NewEnrollment("alice", policy.EnrollOptions{Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	var ce *store.CorruptError
	if err := f.v.Save(e, false); !errors.As(err, &ce) {
		t.Errorf("Save over a corrupt file = %v, want a *store.CorruptError", err)
	}
	if err := f.v.Save(e, true); err != nil {
		t.Fatalf("Save with replace over a corrupt file: %v", err)
	}
	f.accept(t, "alice", f.code(t, "alice", 0), policy.Result{Method: policy.TOTP})
}

func TestRemove(t *testing.T) {
	f := newFixture(t, nil)
	f.enroll(t, "alice", policy.EnrollOptions{})
	f.enroll(t, "bob", policy.EnrollOptions{})
	if err := f.v.Remove("alice"); err != nil {
		t.Fatal(err)
	}
	if ok, err := f.v.Enrolled("alice"); ok || err != nil {
		t.Errorf("Enrolled(alice) after Remove = %v, %v; want false, nil", ok, err)
	}
	f.refuse(t, "alice", f.code(t, "bob", 0), policy.ErrNotEnrolled)
	if _, err := f.v.Status("alice"); !errors.Is(err, policy.ErrNotEnrolled) {
		t.Errorf("Status(alice) after Remove = %v, want ErrNotEnrolled", err)
	}
	if err := f.v.Remove("alice"); !errors.Is(err, policy.ErrNotEnrolled) {
		t.Errorf("second Remove = %v, want ErrNotEnrolled", err)
	}
	if users, err := f.v.Store.Users(); err != nil || !reflect.DeepEqual(users, []string{"bob"}) {
		t.Errorf("Users() = %q, %v; want [bob]", users, err)
	}
	f.accept(t, "bob", f.code(t, "bob", 0), policy.Result{Method: policy.TOTP})
	if err := f.v.Remove("../bob"); !errors.Is(err, store.ErrInvalidUser) {
		t.Errorf("Remove(../bob) = %v, want ErrInvalidUser", err)
	}
}

func TestNewBackupCodes(t *testing.T) {
	f := newFixture(t, func(c *config.Config) { c.BackupCodes = 3 })
	old := f.enroll(t, "alice", policy.EnrollOptions{}).BackupCodes
	codes, err := f.v.NewBackupCodes("alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != 3 {
		t.Fatalf("NewBackupCodes returned %d codes, want 3", len(codes))
	}
	for _, c := range old {
		f.refuse(t, "alice", c, policy.ErrWrongCode)
	}
	f.accept(t, "alice", codes[1], policy.Result{Method: policy.BackupCode, BackupLeft: 2})
	if _, err := f.v.NewBackupCodes("bob"); !errors.Is(err, policy.ErrNotEnrolled) {
		t.Errorf("NewBackupCodes(bob) = %v, want ErrNotEnrolled", err)
	}
}

// TestUnknownUserLeavesNothing checks that every operation on an enrolled
// user refuses a name that is not enrolled without creating its lock file
// or anything else.
func TestUnknownUserLeavesNothing(t *testing.T) {
	f := newFixture(t, func(c *config.Config) { c.BackupCodes = 1 })
	f.enroll(t, "alice", policy.EnrollOptions{})
	before := listing(t, f.dir)
	ops := map[string]func() error{
		"Verify": func() error { _, err := f.v.Verify("ghost", "123456"); return err },
		"Status": func() error { _, err := f.v.Status("ghost"); return err },
		"Unlock": func() error { return f.v.Unlock("ghost") },
		"Remove": func() error { return f.v.Remove("ghost") },
		"NewBackupCodes": func() error {
			_, err := f.v.NewBackupCodes("ghost")
			return err
		},
		"store.Load": func() error { _, err := f.v.Store.Load("ghost"); return err },
		"store.BeginEnrolled": func() error {
			tx, err := f.v.Store.BeginEnrolled("ghost")
			if err == nil {
				tx.Close()
			}
			return err
		},
	}
	for name, op := range ops {
		if err := op(); !errors.Is(err, policy.ErrNotEnrolled) {
			t.Errorf("%s(ghost) = %v, want ErrNotEnrolled", name, err)
		}
	}
	if after := listing(t, f.dir); !reflect.DeepEqual(after, before) {
		t.Errorf("the state directory held %q, then %q", before, after)
	}
}
