package pamrun

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pam-totp/pam-totp/core/config"
	"github.com/pam-totp/pam-totp/core/policy"
	"github.com/pam-totp/pam-totp/core/store"
)

// Env is a private installation of pam-totp in one directory: a
// configuration file, a host key, a state directory, and a directory of
// PAM service files for pam_start_confdir.
type Env struct {
	Dir        string
	ConfDir    string // PAM service files
	ConfigFile string
	StateDir   string
	KeyFile    string
}

// NewEnv makes an Env in dir, which must exist and belong to the effective
// user. extra is appended to the configuration file (YAML lines).
func NewEnv(dir, extra string) (*Env, error) {
	e := &Env{
		Dir:        dir,
		ConfDir:    filepath.Join(dir, "pam.d"),
		ConfigFile: filepath.Join(dir, "config.yaml"),
		StateDir:   filepath.Join(dir, "state"),
		KeyFile:    filepath.Join(dir, "host.key"),
	}
	for _, d := range []string{e.ConfDir, e.StateDir} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return nil, err
		}
	}
	if err := store.CreateKey(e.KeyFile, rand.Reader); err != nil {
		return nil, err
	}
	if err := e.WriteConfig(extra); err != nil {
		return nil, err
	}
	// libpam complains when a service directory has no "other".
	return e, e.Service("other", "auth required pam_deny.so")
}

// WriteConfig rewrites the configuration file with the paths of the Env
// and the extra YAML lines.
func (e *Env) WriteConfig(extra string) error {
	cfg := fmt.Sprintf("state_dir: %s\nkey_file: %s\n%s\n", e.StateDir, e.KeyFile, extra)
	return os.WriteFile(e.ConfigFile, []byte(cfg), 0o600)
}

// Service writes the PAM service file name, one line per entry.
func (e *Env) Service(name string, lines ...string) error {
	text := strings.Join(lines, "\n") + "\n"
	return os.WriteFile(filepath.Join(e.ConfDir, name), []byte(text), 0o644)
}

// Verifier returns a policy.Verifier on the Env's configuration, as the
// module makes one.
func (e *Env) Verifier() (*policy.Verifier, error) {
	cfg, err := config.Load(e.ConfigFile)
	if err != nil {
		return nil, err
	}
	return policy.New(cfg)
}

// Enroll enrolls user, confirmed, and returns the enrollment with its
// secret and backup codes.
func (e *Env) Enroll(user string, opts policy.EnrollOptions) (*policy.Enrollment, error) {
	v, err := e.Verifier()
	if err != nil {
		return nil, err
	}
	en, err := v.NewEnrollment(user, opts)
	if err != nil {
		return nil, err
	}
	return en, v.Save(en, true)
}

// StatePath returns the path of user's state file.
func (e *Env) StatePath(user string) string {
	return filepath.Join(e.StateDir, user+".totp")
}
