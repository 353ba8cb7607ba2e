// Package config reads pam-totp's configuration file, by default
// /etc/pam-totp/config.yaml. Every key has a default, so a missing or empty
// file means the defaults. Parsing is strict: an unknown key, a duplicate
// key or a value out of range is an error that names the key and its line.
// A file that anyone but root could change is refused, since it can turn
// the second factor off.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/pam-totp/pam-totp/core/otp"
)

// DefaultPath is where the module and totpctl look for the configuration.
const DefaultPath = "/etc/pam-totp/config.yaml"

// Config is the whole configuration. The yaml names are the keys of the
// file; pam-totp.yaml(5) documents each.
type Config struct {
	// StateDir holds one encrypted state file per enrolled user.
	StateDir string `yaml:"state_dir"`
	// KeyFile holds the 32-byte host key that encrypts the state files.
	KeyFile string `yaml:"key_file"`

	// Issuer is the name authenticator apps show for new enrollments.
	// Empty means the host name.
	Issuer string `yaml:"issuer"`
	// Algorithm, Digits and Period are the parameters of new enrollments.
	Algorithm otp.Algorithm `yaml:"algorithm"`
	Digits    int           `yaml:"digits"`
	Period    int           `yaml:"period"`
	// SecretBytes is the size of new secrets.
	SecretBytes int `yaml:"secret_bytes"`

	// Window is how many time steps before and after the current one are
	// also accepted, to allow for clock drift.
	Window int `yaml:"window"`

	// MaxFailures is how many consecutive failed attempts lock a user out.
	MaxFailures int `yaml:"max_failures"`
	// LockoutDelay is the length of the first lockout; each further
	// lockout without a success in between doubles it, up to LockoutMax.
	LockoutDelay Duration `yaml:"lockout_delay"`
	LockoutMax   Duration `yaml:"lockout_max"`
	// FailureLimit is how many consecutive failed attempts, counted across
	// lockouts, lock a user out until an administrator unlocks them (NIST
	// SP 800-63B, section 5.2.2, allows at most 100).
	FailureLimit int `yaml:"failure_limit"`

	// BackupCodes is how many backup codes a user is given.
	BackupCodes int `yaml:"backup_codes"`

	// Nullok lets users who are not enrolled pass without a code. The
	// module's nullok argument turns it on for one PAM service.
	Nullok bool `yaml:"nullok"`
	// Prompt is the text of the module's prompt.
	Prompt string `yaml:"prompt"`

	// LockTimeout bounds the wait for another login of the same user.
	LockTimeout Duration `yaml:"lock_timeout"`
}

// Default returns the configuration that an empty file means.
func Default() *Config {
	return &Config{
		StateDir:     "/var/lib/pam-totp",
		KeyFile:      "/etc/pam-totp/host.key",
		Algorithm:    otp.SHA1,
		Digits:       6,
		Period:       30,
		SecretBytes:  otp.DefaultSecretSize,
		Window:       1,
		MaxFailures:  10,
		LockoutDelay: Duration(time.Minute),
		LockoutMax:   Duration(time.Hour),
		FailureLimit: 100,
		BackupCodes:  10,
		Prompt:       "Verification code: ",
		LockTimeout:  Duration(5 * time.Second),
	}
}

// Params returns the code parameters for new enrollments.
func (c *Config) Params() otp.Params {
	return otp.Params{Algorithm: c.Algorithm, Digits: c.Digits, Period: c.Period}
}

// UnsafeError reports a configuration file that is refused because of its
// type, owner or mode. The file decides whether the second factor is asked
// at all (nullok) and where the secrets are, so only root may change it.
type UnsafeError struct {
	Path string
	// Problem says what is wrong and how to fix it.
	Problem string
}

// Error names the file and what is wrong with it.
func (e *UnsafeError) Error() string {
	return fmt.Sprintf("config: %s is %s", e.Path, e.Problem)
}

// Load reads the file at path. A file that does not exist means the
// defaults; any other failure to read it is an error.
//
// The file is opened without following a symbolic link and checked on the
// open descriptor: it must be a regular file, owned by root or by the user
// the process runs as (as the store's files must be, so that tests can run
// without root), and not writable by group or others; its directory must
// be owned and writable in the same way. Anything else is an *UnsafeError.
func Load(path string) (*Config, error) {
	if err := checkDir(filepath.Dir(path)); err != nil {
		return nil, err
	}
	flags := os.O_RDONLY | syscall.O_NOFOLLOW | syscall.O_CLOEXEC | syscall.O_NONBLOCK
	f, err := os.OpenFile(path, flags, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return Default(), nil
	}
	if errors.Is(err, syscall.ELOOP) {
		return nil, &UnsafeError{path, "a symbolic link: whoever can change it or its target " +
			"can turn nullok on; replace the link with the file itself, owned by root, mode 0644"}
	}
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	if err := checkFile(f, path); err != nil {
		return nil, err
	}

	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("config: reading %s: %w", path, err)
	}
	c, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// checkDir refuses a configuration file in a directory that someone other
// than root, or the user the process runs as, could change: they could
// replace the file, or remove it to bring back the defaults. A directory
// that does not exist holds no file, so the defaults apply.
func checkDir(dir string) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	fix := fmt.Sprintf("whoever can change it can replace the configuration file; "+
		"fix with: chown root:root %s && chmod go-w %s", dir, dir)
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case !fi.IsDir():
		return &UnsafeError{dir, "not a directory"}
	case !ok:
		return &UnsafeError{dir, "a directory of unknown owner: " + fix}
	case st.Uid != 0 && int(st.Uid) != os.Geteuid():
		return &UnsafeError{dir, fmt.Sprintf("a directory owned by uid %d, not root: %s", st.Uid, fix)}
	case fi.Mode().Perm()&0o022 != 0:
		return &UnsafeError{dir, fmt.Sprintf("a directory of mode %04o, writable by group or others: %s",
			fi.Mode().Perm(), fix)}
	}
	return nil
}

// checkFile refuses an open configuration file that someone other than
// root, or the user the process runs as, could change.
func checkFile(f *os.File, path string) error {
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return &UnsafeError{path, "not a regular file; replace it with a regular file, " +
			"owned by root, mode 0644"}
	}
	fix := fmt.Sprintf("whoever can change it can turn nullok on; fix with: chown root:root %s && chmod go-w %s",
		path, path)
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return &UnsafeError{path, "of unknown owner: " + fix}
	}
	if st.Uid != 0 && int(st.Uid) != os.Geteuid() {
		return &UnsafeError{path, fmt.Sprintf("owned by uid %d, not root: %s", st.Uid, fix)}
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return &UnsafeError{path, fmt.Sprintf("mode %04o, writable by group or others: %s", perm, fix)}
	}
	return nil
}

// Parse reads a configuration from YAML. Keys not in data keep their
// defaults.
func Parse(data []byte) (*Config, error) {
	c := Default()
	lines := map[string]int{}
	if err := decode(data, c, lines); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := c.Validate(); err != nil {
		return nil, atLine(err, lines)
	}
	return c, nil
}

// keyError is a value that Validate refuses, with the keys it is about.
type keyError struct {
	keys []string
	msg  string
}

func (e *keyError) Error() string { return "config: " + e.msg }

func invalid(keys []string, format string, args ...any) error {
	return &keyError{keys: keys, msg: fmt.Sprintf(format, args...)}
}

// atLine adds to an error from Validate the line of the first key it is
// about that the file sets.
func atLine(err error, lines map[string]int) error {
	var ke *keyError
	if !errors.As(err, &ke) {
		return err
	}
	for _, key := range ke.keys {
		if line, ok := lines[key]; ok {
			return fmt.Errorf("config: line %d: %s", line, ke.msg)
		}
	}
	return err
}

// decode walks the document key by key, so that every error names the key
// and its line. It records in lines the line of each key it sets.
func decode(data []byte, c *Config, lines map[string]int) error {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
		return nil
	} else if err != nil {
		return err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return fmt.Errorf("line %d: a second YAML document starts here; the file must hold one",
			extra.Line)
	} else if !errors.Is(err, io.EOF) {
		return err
	}
	if len(doc.Content) == 0 {
		return nil
	}
	top := doc.Content[0]
	if top.Kind == yaml.ScalarNode && top.Tag == "!!null" {
		return nil
	}
	if top.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: the file must be a mapping of keys to values", top.Line)
	}

	fields := fieldsByKey(c)
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		f, ok := fields[k.Value]
		if !ok {
			return fmt.Errorf("line %d: unknown key %q", k.Line, k.Value)
		}
		if line, dup := lines[k.Value]; dup {
			return fmt.Errorf("line %d: key %q is already set on line %d", k.Line, k.Value, line)
		}
		lines[k.Value] = k.Line
		if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
			return fmt.Errorf("line %d: key %q needs a single value", k.Line, k.Value)
		}
		// yaml.v3 would cut 1.5 down to 1 for an int.
		if f.Type() == reflect.TypeOf(0) && v.ShortTag() != "!!int" {
			return fmt.Errorf("line %d: key %q: %q is not a whole number", k.Line, k.Value, v.Value)
		}
		if err := v.Decode(f.Addr().Interface()); err != nil {
			return fmt.Errorf("line %d: key %q: %v", k.Line, k.Value, valueError(err, v.Value))
		}
	}
	return nil
}

func fieldsByKey(c *Config) map[string]reflect.Value {
	m := map[string]reflect.Value{}
	rv := reflect.ValueOf(c).Elem()
	for i := 0; i < rv.NumField(); i++ {
		tag := rv.Type().Field(i).Tag.Get("yaml")
		if tag != "" && tag != "-" {
			m[tag] = rv.Field(i)
		}
	}
	return m
}

// valueError turns yaml.v3's type errors into a plain sentence.
func valueError(err error, value string) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return fmt.Errorf("%q is not a valid value", value)
	}
	return err
}

// Bounds of the lockout keys. Below a second, lockout_delay would hardly
// slow guessing down. A year of lockout_max is as good as "until an
// administrator unlocks the user". NIST SP 800-63B, section 5.2.2, allows
// at most 100 consecutive failures before the verifier stops accepting.
const (
	minLockoutDelay = Duration(time.Second)
	maxLockout      = Duration(365 * 24 * time.Hour)
	maxFailureLimit = 100
)

// Validate checks every value's range and every path's form.
func (c *Config) Validate() error {
	paths := []struct{ key, path string }{{"state_dir", c.StateDir}, {"key_file", c.KeyFile}}
	for _, p := range paths {
		if !filepath.IsAbs(p.path) {
			return invalid([]string{p.key}, "%s must be an absolute path, not %q", p.key, p.path)
		}
	}
	checks := []struct {
		key       string
		v, lo, hi int
	}{
		{"digits", c.Digits, otp.MinDigits, otp.MaxDigits},
		{"period", c.Period, otp.MinPeriod, otp.MaxPeriod},
		{"secret_bytes", c.SecretBytes, otp.MinSecretSize, otp.MaxSecretSize},
		{"window", c.Window, 0, 10},
		{"max_failures", c.MaxFailures, 1, maxFailureLimit},
		{"backup_codes", c.BackupCodes, 0, 100},
	}
	for _, ch := range checks {
		if ch.v < ch.lo || ch.v > ch.hi {
			return invalid([]string{ch.key}, "%s is %d: want %d to %d", ch.key, ch.v, ch.lo, ch.hi)
		}
	}
	if err := c.Params().Validate(); err != nil {
		return invalid([]string{"algorithm"}, "algorithm: %v", err)
	}
	if c.FailureLimit < c.MaxFailures || c.FailureLimit > maxFailureLimit {
		return invalid([]string{"failure_limit", "max_failures"},
			"failure_limit is %d: want max_failures (%d) to %d",
			c.FailureLimit, c.MaxFailures, maxFailureLimit)
	}
	if c.LockoutDelay < minLockoutDelay || c.LockoutMax < c.LockoutDelay {
		return invalid([]string{"lockout_delay", "lockout_max"},
			"lockout_delay (%v) must be at least %v and at most lockout_max (%v)",
			c.LockoutDelay, minLockoutDelay, c.LockoutMax)
	}
	if c.LockoutMax > maxLockout {
		return invalid([]string{"lockout_max"},
			"lockout_max is %v: want at most %v (an administrator can always unlock sooner)",
			c.LockoutMax, maxLockout)
	}
	if c.LockTimeout <= 0 || c.LockTimeout > Duration(time.Minute) {
		return invalid([]string{"lock_timeout"},
			"lock_timeout is %v: want more than 0s and at most 1m", c.LockTimeout)
	}
	if len(c.Prompt) > 200 {
		return invalid([]string{"prompt"}, "prompt is longer than 200 bytes")
	}
	if err := otp.CheckIssuer(c.Issuer); err != nil {
		return invalid([]string{"issuer"}, "%s", strings.TrimPrefix(err.Error(), "otp: "))
	}
	return nil
}

// Duration is a time.Duration written in YAML as "30s", "5m" or "1h".
type Duration time.Duration

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil {
		return fmt.Errorf("%q is not a duration such as 30s, 5m or 1h", n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// String returns the duration as time.Duration prints it.
func (d Duration) String() string { return time.Duration(d).String() }
