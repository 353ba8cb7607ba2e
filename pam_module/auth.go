package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pam-totp/pam-totp/core/backup"
	"github.com/pam-totp/pam-totp/core/config"
	"github.com/pam-totp/pam-totp/core/otp"
	"github.com/pam-totp/pam-totp/core/policy"
	"github.com/pam-totp/pam-totp/core/store"
)

// attempt is one pam_authenticate call of the module.
type attempt struct {
	h    *handle
	opts *options
	cfg  *config.Config
	v    *policy.Verifier // nil unless the user is known to the system

	user, service, rhost string
	enrolled             bool
	digits               int // of the user's codes, or the configured ones
}

// authenticate runs the module for one pam_authenticate call and returns
// its PAM code.
func authenticate(h *handle, args []string) int {
	a := &attempt{h: h}
	a.service, _ = h.stringItem(pamService)
	a.rhost, _ = h.stringItem(pamRhost)

	opts, err := parseArgs(args)
	if err != nil {
		return a.finish(pamServiceErr, logErr,
			"error: %v; fix the pam_totp line of /etc/pam.d/%s (see pam_totp(8))", err, a.service)
	}
	a.opts = opts
	h.debug = opts.debug
	runHooks(opts)

	if a.cfg, err = loadConfig(opts.config); err != nil {
		return a.finish(pamSystemErr, logErr,
			"error: cannot use the configuration, authentication refused: %v", err)
	}
	if a.user, err = h.user(); err != nil {
		code := pamSystemErr
		var pe pamError
		if errors.As(err, &pe) && pe != pamIgnore {
			code = int(pe)
		}
		return a.finish(code, logErr, "error: cannot get the user name: %v", err)
	}
	return a.run()
}

func (a *attempt) run() int {
	nullok := a.opts.nullok || a.cfg.Nullok
	a.digits = a.cfg.Digits
	a.h.debugf("config %s, input %s, nullok %t", a.opts.config, a.opts.mode, nullok)

	known, err := a.knownUser()
	if err != nil {
		return a.unavailable(err)
	}
	if known {
		if code, done := a.openState(); done {
			return code
		}
	}
	why := "not enrolled"
	if !known {
		why = "unknown user"
	}
	if !a.enrolled && nullok {
		return a.finish(pamIgnore, logInfo, "ignored: %s, and nullok is set", why)
	}
	if !a.enrolled {
		// Ask anyway, so that the prompt does not tell who is enrolled.
		a.h.debugf("%s: asking anyway", why)
		if _, code, done := a.input(); done {
			return code
		}
		return a.finish(pamAuthErr, logNotice, "refused: %s", why)
	}

	if a.opts.mode == tryFirstPass {
		if code, done := a.tryFirstPass(); done {
			return code
		}
	}
	in, code, done := a.input()
	if done {
		return code
	}
	return a.report(a.check(in))
}

// knownUser reports whether the user name is one that may be enrolled and
// one the system knows. Nothing in the state directory is touched for a
// name that is not.
func (a *attempt) knownUser() (bool, error) {
	if store.ValidUser(a.user) != nil {
		return false, nil
	}
	return userExists(a.user)
}

// openState opens the store, learns whether the user is enrolled and, if
// the input must be split or judged before it is checked, the length of
// the user's codes. done is true if the attempt ends here.
func (a *attempt) openState() (code int, done bool) {
	v, err := policy.New(a.cfg)
	if err != nil {
		return a.unavailable(err), true
	}
	a.v = v
	if a.enrolled, err = v.Enrolled(a.user); err != nil {
		return a.unavailable(err), true
	}
	if !a.enrolled || (a.opts.mode != forwardPass && a.opts.mode != tryFirstPass) {
		return 0, false
	}
	st, err := v.Status(a.user)
	if errors.Is(err, store.ErrNotEnrolled) {
		a.enrolled = false
		return 0, false
	}
	if err != nil {
		return a.unavailable(err), true
	}
	a.digits = st.Digits
	return 0, false
}

// tryFirstPass checks PAM_AUTHTOK if an earlier module left something
// shaped like a code there. A password is not checked, so that it does not
// count as a failure. done is false if the module should ask.
func (a *attempt) tryFirstPass() (code int, done bool) {
	tok, ok, err := a.h.authtok()
	if err != nil {
		return a.finish(pamSystemErr, logErr, "error: cannot read PAM_AUTHTOK: %v", err), true
	}
	tok = strings.TrimSpace(tok)
	switch {
	case !ok:
		a.h.debugf("try_first_pass: PAM_AUTHTOK is not set; asking")
		return 0, false
	case !codeShaped(tok, a.digits):
		a.h.debugf("try_first_pass: PAM_AUTHTOK is not shaped like a code; asking")
		return 0, false
	}
	o := a.check(tok)
	if o.retry {
		a.h.debugf("try_first_pass: PAM_AUTHTOK %s; asking", o.msg)
		return 0, false
	}
	return a.report(o), true
}

// input returns what the user typed, from the prompt or from PAM_AUTHTOK
// as the options say, trimmed. With forward_pass it passes the password on
// as PAM_AUTHTOK. done is true if the attempt ends here.
func (a *attempt) input() (in string, code int, done bool) {
	if a.opts.mode == useFirstPass {
		tok, ok, err := a.h.authtok()
		if err != nil {
			code := a.finish(pamSystemErr, logErr, "error: cannot read PAM_AUTHTOK: %v", err)
			return "", code, true
		}
		if !ok || strings.TrimSpace(tok) == "" {
			code := a.finish(pamAuthErr, logNotice, "refused: use_first_pass is set but no earlier "+
				"module set PAM_AUTHTOK (put the module that asks first, or drop use_first_pass)")
			return "", code, true
		}
		return strings.TrimSpace(tok), 0, false
	}

	answer, err := a.h.ask(a.opts.promptFor(a.cfg.Prompt))
	if err != nil {
		code := pamConvErr
		var pe pamError
		if errors.As(err, &pe) && pe != pamIgnore && pe != pamSuccess {
			code = int(pe)
		}
		return "", a.finish(code, logNotice, "refused: no answer to the prompt: %v", err), true
	}
	if a.opts.mode == forwardPass {
		password, in := splitForward(answer, a.digits)
		if err := a.h.setAuthtok(password); err != nil {
			code := a.finish(pamSystemErr, logErr,
				"error: cannot pass the password on as PAM_AUTHTOK: %v", err)
			return "", code, true
		}
		answer = in
	}
	answer = strings.TrimSpace(answer)
	if answer == "" && a.enrolled {
		return "", a.finish(pamAuthErr, logNotice, "refused: empty answer"), true
	}
	return answer, 0, false
}

// outcome is the result of checking one input, for report.
type outcome struct {
	code  int
	prio  priority
	msg   string
	retry bool // a wrong or replayed code, after which try_first_pass asks, unless locked out
}

// check verifies in, tells the user what they need to know, and returns
// the outcome for report.
func (a *attempt) check(in string) outcome {
	res, err := a.v.Verify(a.user, in)
	var locked *policy.LockedError
	switch {
	case err == nil:
		return a.accepted(res)
	case errors.Is(err, policy.ErrWrongCode):
		// A wrong code that started a lockout ends the attempt: another
		// code would only be refused.
		started := errors.As(err, &locked)
		if started {
			a.h.warn(lockoutMessage(locked, time.Now()))
		}
		return outcome{pamAuthErr, logNotice, "refused: " + err.Error(), !started}
	case errors.As(err, &locked):
		a.h.warn(lockoutMessage(locked, time.Now()))
		return outcome{pamMaxtries, logWarning, "refused: " + locked.Error(), false}
	case errors.Is(err, policy.ErrReplayed):
		a.h.warn("This code was already used. Wait for the next code and try again.")
		return outcome{pamAuthErr, logNotice, "refused: code already used (replay)", true}
	case errors.Is(err, policy.ErrNotEnrolled):
		msg := "refused: not enrolled (removed during the login)"
		return outcome{pamAuthErr, logNotice, msg, false}
	}
	a.h.warn(unavailableMessage)
	msg := "error: cannot check the code: " + err.Error()
	return outcome{pamAuthinfoUnavail, logErr, msg, false}
}

// report logs the outcome and returns its code.
func (a *attempt) report(o outcome) int { return a.finish(o.code, o.prio, "%s", o.msg) }

func (a *attempt) accepted(res policy.Result) outcome {
	if res.Method != policy.BackupCode {
		msg := fmt.Sprintf("accepted: TOTP code, skew %+d", res.Skew)
		return outcome{pamSuccess, logInfo, msg, false}
	}
	a.h.tell(backupMessage(res.BackupLeft))
	msg := fmt.Sprintf("accepted: backup code, %d left", res.BackupLeft)
	return outcome{pamSuccess, logInfo, msg, false}
}

// unavailableMessage tells the user that the failure is not theirs.
const unavailableMessage = "The code could not be checked because of a problem on this system. " +
	"An administrator can find the reason in the system log."

// unavailable reports an error that kept the code from being checked.
func (a *attempt) unavailable(err error) int {
	a.h.warn(unavailableMessage)
	return a.finish(pamAuthinfoUnavail, logErr, "error: cannot check the code: %v", err)
}

// finish logs the outcome, one line, and returns code.
func (a *attempt) finish(code int, prio priority, format string, args ...any) int {
	msg := fmt.Sprintf(format, args...)
	a.h.log(prio, "%s; user=%s service=%s rhost=%s",
		msg, logField(a.user), logField(a.service), logField(a.rhost))
	return code
}

// logField returns s as it can be logged: bare if it holds only harmless
// bytes, quoted otherwise, cut short, "-" if empty.
func logField(s string) string {
	if s == "" {
		return "-"
	}
	if len(s) > 64 {
		s = s[:64]
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte("._-@$:%[]/", c) >= 0
		if !ok {
			return strconv.QuoteToASCII(s)
		}
	}
	return s
}

// codeShaped reports whether s could be a code or a backup code for codes
// of the given length, without checking it.
func codeShaped(s string, digits int) bool {
	if _, err := otp.NormalizeCode(s, digits); err == nil {
		return true
	}
	if _, err := backup.Normalize(s); err == nil {
		return true
	}
	_, err := otp.NormalizeCode(s, 8) // a scratch code taken over from google-authenticator
	return digits != 8 && err == nil
}

// splitForward splits the answer to forward_pass's prompt into the
// password and the code typed after it with nothing between them. The
// code is the last digits characters if they are all digits; otherwise a
// backup code: the last 14 characters if they have its hyphens
// (k7mq-29xd-hpe4), or else the last 12.
func splitForward(answer string, digits int) (password, code string) {
	s := strings.TrimRight(answer, " \t\r\n")
	if n := len(s) - digits; n >= 0 && allDigits(s[n:]) {
		return s[:n], s[n:]
	}
	n := len(s) - (backup.Length + 2)
	if n >= 0 && s[n+4] == '-' && s[n+9] == '-' {
		return s[:n], s[n:]
	}
	if n = len(s) - backup.Length; n >= 0 {
		return s[:n], s[n:]
	}
	return "", s
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// lockoutMessage tells a locked-out user when to try again, or that only
// an administrator can end the lockout.
func lockoutMessage(e *policy.LockedError, now time.Time) string {
	if e.UntilUnlock {
		return "Too many wrong codes. This account is locked until an administrator unlocks it."
	}
	return lockedMessage(e.Until, now)
}

// lockedMessage tells a user locked out until a given time when to try
// again.
func lockedMessage(until, now time.Time) string {
	wait := max(until.Sub(now).Round(time.Second), time.Second)
	at := until.Local()
	layout := "15:04:05 MST"
	if y, m, d := at.Date(); y != now.Local().Year() || m != now.Local().Month() ||
		d != now.Local().Day() {
		layout = "2006-01-02 15:04:05 MST"
	}
	return fmt.Sprintf("Too many wrong codes. Try again in %s, after %s.", wait, at.Format(layout))
}

// backupMessage tells the user how many backup codes are left.
func backupMessage(left int) string {
	switch {
	case left == 0:
		return "Backup code accepted. That was your last backup code: " +
			"ask your administrator for new ones."
	case left == 1:
		return "Backup code accepted. 1 backup code left: ask your administrator for new ones soon."
	case left <= 3:
		return fmt.Sprintf("Backup code accepted. %d backup codes left: "+
			"ask your administrator for new ones soon.", left)
	}
	return fmt.Sprintf("Backup code accepted. %d backup codes left.", left)
}
