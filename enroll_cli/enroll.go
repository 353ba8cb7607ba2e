package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"os/user"
	"strings"
	"sync"
	"syscall"

	"github.com/pam-totp/pam-totp/core/otp"
	"github.com/pam-totp/pam-totp/core/policy"
)

var enrollSpec = &spec{
	name:    "enroll",
	args:    "USER",
	summary: "make a secret and backup codes for a user and show the QR code",
	help: `Make a new secret and a set of backup codes for USER, and show them: a QR
code to scan with an authenticator app, the otpauth:// URI on a line of its
own, the secret in base32 for typing in by hand, and the backup codes, which
are shown only this once.

When standard input is a terminal, enroll then asks for a code from the app
and writes the enrollment only once a code is right, so that a secret
scanned or typed in wrong locks no one out. It allows 3 tries; Ctrl-D,
Ctrl-C or a hang-up of the terminal abort without writing anything, and
remove the --qr-png image. With --no-confirm, --json or input that is not a
terminal, the enrollment is written at once and confirmed by the first code
used to log in.

An existing enrollment is never replaced without --force. The code
parameters default to those of the configuration. Google Authenticator
ignores the algorithm, the number of digits and the time step and always
uses SHA1, 6 digits and 30 seconds, so enroll warns when others are chosen.`,
	examples: []string{
		progName + " enroll alice",
		progName + " enroll --qr-png /root/alice-totp.png alice",
		progName + " enroll --force --issuer 'ACME bastion' alice",
		progName + " enroll --json bob > bob-enrollment.json",
	},
	minArgs: 1, maxArgs: 1, user: true,
	new: func() runner { return new(enrollCmd) },
}

type enrollCmd struct {
	issuer    string
	algorithm string
	digits    int
	period    int
	force     bool
	qrPNG     string
	noConfirm bool
	json      bool
}

func (c *enrollCmd) define(fs *flag.FlagSet) {
	fs.StringVar(&c.issuer, "issuer", "", "the issuer `NAME` apps show beside the account (default: the configured issuer, or the host name)")
	fs.StringVar(&c.algorithm, "algorithm", "", "the HMAC hash `NAME`: SHA1, SHA256 or SHA512 (default: the configured one, normally SHA1)")
	fs.IntVar(&c.digits, "digits", 0, "`N` digits per code: 6, 7 or 8 (default: the configured number, normally 6)")
	fs.IntVar(&c.period, "period", 0, "the time step in `SECONDS`, 15 to 120 (default: the configured one, normally 30)")
	fs.BoolVar(&c.force, "force", false, "replace an existing enrollment; its secret and backup codes stop working")
	fs.StringVar(&c.qrPNG, "qr-png", "", "also write the QR code as a PNG image to `FILE`, a new file of mode 0600")
	fs.BoolVar(&c.noConfirm, "no-confirm", false, "write the enrollment without asking for a code from the app")
	fs.BoolVar(&c.json, "json", false, "print one JSON object on standard output and nothing else; implies --no-confirm")
}

// check refuses code parameters that are never valid.
func (c *enrollCmd) check([]string) error {
	if c.algorithm != "" {
		if _, err := otp.ParseAlgorithm(c.algorithm); err != nil {
			return misuse("enroll", "--algorithm: %q is not SHA1, SHA256 or SHA512", c.algorithm)
		}
	}
	if c.digits != 0 && (c.digits < otp.MinDigits || c.digits > otp.MaxDigits) {
		return misuse("enroll", "--digits %d: want 6, 7 or 8", c.digits)
	}
	if c.period != 0 && (c.period < otp.MinPeriod || c.period > otp.MaxPeriod) {
		return misuse("enroll", "--period %d: want %d to %d seconds",
			c.period, otp.MinPeriod, otp.MaxPeriod)
	}
	return nil
}

// params returns the configured parameters with the options applied, which
// check has accepted.
func (c *enrollCmd) params(p otp.Params) otp.Params {
	if c.algorithm != "" {
		p.Algorithm, _ = otp.ParseAlgorithm(c.algorithm)
	}
	if c.digits != 0 {
		p.Digits = c.digits
	}
	if c.period != 0 {
		p.Period = c.period
	}
	return p
}

func (c *enrollCmd) run(a *app, args []string) error {
	name := args[0]
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	p := c.params(cfg.Params())
	v, err := a.verifier()
	if err != nil {
		return err
	}
	if err := a.refuseReplace(v, name, c.force); err != nil {
		return err
	}
	a.warnPortability(p)
	a.warnUnknownUser(name)

	e, err := v.NewEnrollment(name, policy.EnrollOptions{Issuer: c.issuer, Params: p})
	if err != nil {
		return err
	}
	if c.qrPNG != "" {
		if err := writeQRPNG(c.qrPNG, e.Key().URI()); err != nil {
			return err
		}
	}
	err = c.activate(a, v, e)
	if err != nil && c.qrPNG != "" {
		return fmt.Errorf("%w%s", err, removePNG(c.qrPNG))
	}
	return err
}

// activate shows the enrollment and writes it, after a confirmation when
// there is a terminal to ask on.
func (c *enrollCmd) activate(a *app, v *policy.Verifier, e *policy.Enrollment) error {
	if c.json {
		if err := a.save(v, e, c.force); err != nil {
			return err
		}
		return a.printEnrollmentJSON(e, c.qrPNG)
	}
	if c.noConfirm || !isTerminal(a.stdin) {
		if err := a.save(v, e, c.force); err != nil {
			return err
		}
		if err := a.printEnrollment(e); err != nil {
			return err
		}
		a.printf("%s is enrolled; not confirmed yet: the first code used to log in confirms it", e.State.User)
		return nil
	}
	if err := a.printEnrollment(e); err != nil {
		return err
	}
	// On an error the signals stay caught until run has removed the image.
	stop := a.abortOnSignal(c.qrPNG)
	if err := a.confirm(v, e); err != nil {
		return err
	}
	stop()
	if err := a.save(v, e, c.force); err != nil {
		return err
	}
	a.printf("%s is enrolled and confirmed", e.State.User)
	return nil
}

// abortOnSignal makes an interrupt (Ctrl-C), a hang-up of the terminal or
// a termination signal end totpctl with exit status 1 until stop is called,
// after removing the QR code image at png, if any: the signals' default
// action would end it at once and leave the image, which holds the secret,
// behind.
func (a *app) abortOnSignal(png string) (stop func()) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGHUP, syscall.SIGTERM)
	var mu sync.Mutex // held from a signal to the exit, or by stop
	stopped := false
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-sigs:
			mu.Lock()
			if stopped {
				mu.Unlock()
				return
			}
			fmt.Fprintln(a.stderr)
			a.printf("aborted (%v): nothing was written%s", sig, removePNG(png))
			os.Exit(exitFailed)
		case <-done:
		}
	}()
	return func() {
		mu.Lock()
		stopped = true
		mu.Unlock()
		signal.Stop(sigs)
		close(done)
	}
}

// removePNG removes the QR code image at png, if any, and says how that
// went, for a message that ends with it.
func removePNG(png string) string {
	if png == "" {
		return ""
	}
	err := os.Remove(png)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Sprintf("; %v: remove it, it holds the secret", err)
	}
	return "; " + png + " is removed"
}

// confirmTries is how many codes confirm accepts before giving up.
const confirmTries = 3

// confirm asks for codes from the app until one is right.
func (a *app) confirm(v *policy.Verifier, e *policy.Enrollment) error {
	in := bufio.NewReader(a.stdin)
	for try := 1; try <= confirmTries; try++ {
		fmt.Fprintf(a.stderr, "Type a code from the app to confirm (Ctrl-D to abort): ")
		line, err := readLine(in)
		if errors.Is(err, io.EOF) {
			fmt.Fprintln(a.stderr)
			return errors.New("aborted: nothing was written")
		}
		if err != nil {
			// A hang-up of the terminal most often ends here, with EIO,
			// before its signal arrives.
			fmt.Fprintln(a.stderr)
			return fmt.Errorf("aborted: cannot read the code (%v): nothing was written", err)
		}
		if v.Confirm(e, line) {
			return nil
		}
		if try < confirmTries {
			a.printf("that code is wrong (%d tries left): check that the app shows %s for %s and that the phone's clock is right",
				confirmTries-try, e.State.Issuer, e.State.User)
		}
	}
	return fmt.Errorf("no right code in %d tries: nothing was written; check the phone's clock and run enroll again", confirmTries)
}

// save writes the enrollment, replacing an existing one only if replace.
func (a *app) save(v *policy.Verifier, e *policy.Enrollment, replace bool) error {
	err := v.Save(e, replace)
	if errors.Is(err, policy.ErrAlreadyEnrolled) {
		return fmt.Errorf("%s is already enrolled: nothing was changed (use --force to replace the enrollment)", e.State.User)
	}
	return err
}

// refuseReplace fails early, before anything is shown, if user is enrolled
// and force is not set. Save checks again under the user's lock.
func (a *app) refuseReplace(v *policy.Verifier, user string, force bool) error {
	if force {
		return nil
	}
	ok, err := v.Enrolled(user)
	if err != nil {
		return err
	}
	if ok {
		return fmt.Errorf("%s is already enrolled: nothing was changed (use --force to replace the enrollment; the old secret and backup codes then stop working)", user)
	}
	return nil
}

// warnPortability warns about parameters that Google Authenticator and
// some other apps ignore, silently showing wrong codes.
func (a *app) warnPortability(p otp.Params) {
	var odd []string
	if p.Algorithm != otp.SHA1 {
		odd = append(odd, p.Algorithm.String())
	}
	if p.Digits != 6 {
		odd = append(odd, fmt.Sprintf("%d digits", p.Digits))
	}
	if p.Period != 30 {
		odd = append(odd, fmt.Sprintf("a %d-second time step", p.Period))
	}
	if len(odd) > 0 {
		a.warnf("%s: Google Authenticator and some other apps ignore this and show wrong codes; SHA1, 6 digits and 30 seconds work with every app",
			strings.Join(odd, ", "))
	}
}

// warnUnknownUser warns when the system does not know the user, which is
// most often a typing mistake.
func (a *app) warnUnknownUser(name string) {
	var unknown user.UnknownUserError
	if _, err := user.Lookup(name); errors.As(err, &unknown) {
		a.warnf("there is no user %q on this system: check the name (the enrollment is made anyway)", name)
	}
}

func (a *app) printEnrollment(e *policy.Enrollment) error {
	k := e.Key()
	uri := k.URI()
	modules, err := qrModules(uri)
	if err != nil {
		return err
	}
	if err := renderQR(a.stdout, modules, a.stdoutIsTerminal()); err != nil {
		return err
	}
	w := a.stdout
	fmt.Fprintf(w, "\n%s\n\n", uri)
	fmt.Fprintf(w, "Secret, for typing in by hand: %s\n", groupSecret(otp.EncodeSecret(k.Secret)))
	fmt.Fprintf(w, "Account %s, issuer %s; %s, %d digits, every %d seconds.\n",
		k.Account, k.Issuer, k.Algorithm, k.Digits, k.Period)
	return a.printBackupCodes(e.BackupCodes)
}

func (a *app) printBackupCodes(codes []string) error {
	if len(codes) == 0 {
		return nil
	}
	fmt.Fprintf(a.stdout, "\nBackup codes, each good for one login; keep them somewhere safe:\n")
	for _, c := range codes {
		fmt.Fprintf(a.stdout, "  %s\n", c)
	}
	return nil
}

// groupSecret splits a base32 secret into groups of four characters.
func groupSecret(s string) string {
	var parts []string
	for i := 0; i < len(s); i += 4 {
		parts = append(parts, s[i:min(i+4, len(s))])
	}
	return strings.Join(parts, " ")
}

// enrollmentJSON is what enroll --json prints.
type enrollmentJSON struct {
	User        string   `json:"user"`
	Issuer      string   `json:"issuer"`
	Algorithm   string   `json:"algorithm"`
	Digits      int      `json:"digits"`
	Period      int      `json:"period"`
	Secret      string   `json:"secret"`
	URI         string   `json:"uri"`
	BackupCodes []string `json:"backup_codes"`
	QRPNG       string   `json:"qr_png,omitempty"`
}

func (a *app) printEnrollmentJSON(e *policy.Enrollment, png string) error {
	k := e.Key()
	out := enrollmentJSON{
		User:        k.Account,
		Issuer:      k.Issuer,
		Algorithm:   k.Algorithm.String(),
		Digits:      k.Digits,
		Period:      k.Period,
		Secret:      otp.EncodeSecret(k.Secret),
		URI:         k.URI(),
		BackupCodes: append([]string{}, e.BackupCodes...),
		QRPNG:       png,
	}
	return a.printJSON(out)
}

func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
