package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"

	"github.com/pam-totp/pam-totp/core/config"
	"github.com/pam-totp/pam-totp/core/otp"
	"github.com/pam-totp/pam-totp/core/policy"
)

var importSpec = &spec{
	name:    "import",
	args:    "USER FILE | --uri URI USER",
	summary: "take over a google-authenticator secret file or an otpauth:// URI",
	help: `Enroll USER with a secret the user's app already has, so the user need not
scan a new QR code.

FILE is a google-authenticator-libpam secret file (often ~USER/.google_authenticator):
its secret, its time step and its scratch codes, which become backup codes,
are taken over. What pam-totp handles differently is reported: the window
and the lockout come from pam-totp's configuration, not from WINDOW_SIZE and
RATE_LIMIT, and a code is never accepted twice, whether or not the file said
DISALLOW_REUSE. A file of counter-based codes (HOTP_COUNTER) is refused:
pam-totp supports time-based codes only. FILE must be a regular file, not a
symbolic link.

With --uri, the secret and its parameters come from an otpauth://totp/ URI,
and a new set of backup codes is made and printed once, as it also is for a
file without scratch codes.

Secrets under 128 bits, as older versions of google-authenticator made,
work, but a warning says to enroll the user anew. An existing enrollment is
never replaced without --force.`,
	examples: []string{
		progName + " import alice /home/alice/.google_authenticator",
		progName + " import --force bob /root/bob.google_authenticator",
		progName + " import --uri 'otpauth://totp/ACME:carol?secret=...&issuer=ACME' carol",
	},
	minArgs: 1, maxArgs: 2, user: true,
	new: func() runner { return new(importCmd) },
}

type importCmd struct {
	uri    string
	issuer string
	force  bool
	json   bool
}

func (c *importCmd) define(fs *flag.FlagSet) {
	fs.StringVar(&c.uri, "uri", "", "take the secret from the otpauth://totp/ `URI` instead of a file")
	fs.StringVar(&c.issuer, "issuer", "", "the `NAME` recorded as the issuer (default: the URI's, or the configured one)")
	fs.BoolVar(&c.force, "force", false, "replace an existing enrollment")
	fs.BoolVar(&c.json, "json", false, "print one JSON object on standard output: the user, the parameters and any new backup codes")
}

// check refuses FILE and --uri together, and neither.
func (c *importCmd) check(args []string) error {
	if c.uri != "" && len(args) != 1 {
		return misuse("import", "import --uri takes the user name only")
	}
	if c.uri == "" && len(args) != 2 {
		return misuse("import", "import: missing FILE (or give --uri URI)")
	}
	return nil
}

func (c *importCmd) run(a *app, args []string) error {
	name := args[0]
	v, err := a.verifier()
	if err != nil {
		return err
	}
	if err := a.refuseReplace(v, name, c.force); err != nil {
		return err
	}
	var opts policy.EnrollOptions
	if c.uri != "" {
		opts, err = a.optionsFromURI(name, c.uri)
	} else {
		opts, err = a.optionsFromGAFile(v.Config, args[1])
	}
	if err != nil {
		return err
	}
	if c.issuer != "" {
		opts.Issuer = c.issuer
	}
	if err := otp.CheckStrength(opts.Secret); err != nil {
		a.warnf("the secret has only %d bits, under the 128 that RFC 4226 asks for: it works, but enroll %s anew soon ('%s enroll --force %s')",
			8*len(opts.Secret), name, progName, name)
	}
	a.warnUnknownUser(name)

	e, err := v.NewEnrollment(name, opts)
	if err != nil {
		return err
	}
	if err := a.save(v, e, c.force); err != nil {
		return err
	}
	if c.json {
		return a.printJSON(importJSON{
			User: name, Issuer: e.State.Issuer, Algorithm: e.State.Algorithm.String(),
			Digits: e.State.Digits, Period: e.State.Period,
			ScratchCodes: len(opts.ScratchCodes), BackupCodes: append([]string{}, e.BackupCodes...),
		})
	}
	a.printf("%s is enrolled with the imported secret", name)
	return a.printBackupCodes(e.BackupCodes)
}

type importJSON struct {
	User         string   `json:"user"`
	Issuer       string   `json:"issuer"`
	Algorithm    string   `json:"algorithm"`
	Digits       int      `json:"digits"`
	Period       int      `json:"period"`
	ScratchCodes int      `json:"scratch_codes_imported"`
	BackupCodes  []string `json:"backup_codes"`
}

func (a *app) optionsFromURI(name, uri string) (policy.EnrollOptions, error) {
	k, err := otp.ParseURI(uri)
	if err != nil {
		return policy.EnrollOptions{}, fmt.Errorf("--uri: %w", err)
	}
	if k.Account != "" && k.Account != name {
		a.printf("note: the URI names the account %q; it is enrolled for user %s", k.Account, name)
	}
	a.warnPortability(k.Params)
	return policy.EnrollOptions{Issuer: k.Issuer, Params: k.Params, Secret: k.Secret}, nil
}

func (a *app) optionsFromGAFile(cfg *config.Config, path string) (policy.EnrollOptions, error) {
	data, err := readRegularFile(path, maxGAFile)
	if err != nil {
		return policy.EnrollOptions{}, err
	}
	f, err := parseGoogleAuthenticator(data)
	if err != nil {
		return policy.EnrollOptions{}, fmt.Errorf("%s: %v", path, err)
	}
	if f.HOTP {
		return policy.EnrollOptions{}, fmt.Errorf("%s is set up for counter-based codes (HOTP_COUNTER): pam-totp supports time-based codes only; enroll the user anew with '%s enroll'", path, progName)
	}
	p := otp.DefaultParams
	if f.StepSize != 0 {
		p.Period = f.StepSize
	}
	if p.Period < otp.MinPeriod || p.Period > otp.MaxPeriod {
		return policy.EnrollOptions{}, fmt.Errorf("%s: STEP_SIZE %d is not supported (pam-totp allows %d to %d seconds): enroll the user anew with '%s enroll'",
			path, p.Period, otp.MinPeriod, otp.MaxPeriod, progName)
	}
	opts := policy.EnrollOptions{Params: p, Secret: f.Secret}
	if len(f.ScratchCodes) > 0 {
		opts.ScratchCodes = f.ScratchCodes
	}
	a.reportGATakeover(cfg, path, f)
	return opts, nil
}

// reportGATakeover says on stderr what is taken over from a
// google-authenticator file and what pam-totp does differently.
func (a *app) reportGATakeover(cfg *config.Config, path string, f *gaFile) {
	period := 30
	if f.StepSize != 0 {
		period = f.StepSize
	}
	scratch := "no scratch codes: a new set of backup codes is made"
	if n := len(f.ScratchCodes); n > 0 {
		scratch = fmt.Sprintf("%d scratch codes, as backup codes", n)
	}
	a.printf("taking over from %s: the %d-bit secret, time-based codes with SHA1, 6 digits and a %d-second time step; %s",
		path, 8*len(f.Secret), period, scratch)
	if !f.TOTP {
		a.printf("note: %s has no TOTP_AUTH line; its codes are taken to be time-based", path)
	}
	window := fmt.Sprintf("window: %d, so %d codes are accepted at a time", cfg.Window, 2*cfg.Window+1)
	if f.WindowSize != 0 {
		a.printf("handled differently: WINDOW_SIZE %d is not used; pam-totp's configuration sets the window (%s)", f.WindowSize, window)
	}
	if f.RateLimit {
		a.printf("handled differently: RATE_LIMIT %d %d is not used; pam-totp locks a user out after %d failures in a row (max_failures), for %v at first",
			f.RateLogins, f.RateSeconds, cfg.MaxFailures, cfg.LockoutDelay)
	}
	if f.NoReuse {
		a.printf("handled the same: DISALLOW_REUSE; pam-totp always refuses a code that was already used")
	} else {
		a.printf("handled differently: the file allowed a code to be used twice; pam-totp always refuses a code that was already used")
	}
	if f.TimeSkew {
		a.printf("handled differently: the learned TIME_SKEW is not taken over; keep the server's clock synchronised")
	}
	if len(f.Other) > 0 {
		a.printf("ignored options: %s", strings.Join(f.Other, ", "))
	}
	a.printf("once pam-totp is in place for every login, remove %s and pam_google_authenticator.so from the PAM configuration", path)
}

// readRegularFile reads at most limit bytes of path, refusing a symbolic
// link and anything but a regular file.
func readRegularFile(path string, limit int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if errors.Is(err, syscall.ELOOP) {
		return nil, fmt.Errorf("%s is a symbolic link: refused; name the file itself", path)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file: refused", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes: not a google-authenticator file", path, limit)
	}
	return data, nil
}
