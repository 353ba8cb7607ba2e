package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/pam-totp/pam-totp/core/policy"
)

var verifySpec = &spec{
	name:    "verify",
	args:    "USER [CODE]",
	summary: "check a code or backup code exactly as a login would",
	help: `Check CODE, a code from USER's app or one of USER's backup codes, exactly as
a login would: with the same window for clock drift, refusing a code that
was already used, counting failures towards a lockout, and using up a
backup code. The outcome is recorded in USER's state like a login's.

Without CODE, one line is read from standard input, without echo when it is
a terminal, which keeps the code out of the shell's history and the process
list.

Exit status 0 means the code was accepted, 1 that it was refused (the
reason is printed) or could not be checked.`,
	examples: []string{
		progName + " verify alice",
		"echo 123456 | " + progName + " verify alice",
		progName + " verify alice k7mq-29xd-hpe4",
	},
	minArgs: 1, maxArgs: 2, user: true,
	new: func() runner { return verifyCmd{} },
}

type verifyCmd struct{}

func (verifyCmd) define(*flag.FlagSet) {}

func (verifyCmd) run(a *app, args []string) error {
	name := args[0]
	v, err := a.verifier()
	if err != nil {
		return err
	}
	var code string
	if len(args) == 2 {
		code = args[1]
	} else if code, err = a.readCode(name); err != nil {
		return err
	}

	res, err := v.Verify(name, code)
	var locked *policy.LockedError
	switch {
	case err == nil:
		a.reportAccepted(name, res)
		return nil
	case errors.As(err, &locked):
		return refusedLocked(name, locked)
	case errors.Is(err, policy.ErrReplayed):
		return fmt.Errorf("refused: the code is right but was already used; wait for the next one")
	case errors.Is(err, policy.ErrWrongCode):
		return fmt.Errorf("refused: %v", err)
	case errors.Is(err, policy.ErrNotEnrolled):
		return fmt.Errorf("refused: %s is not enrolled (enroll with '%s enroll %s')", name, progName, name)
	}
	return fmt.Errorf("the code could not be checked: %w", err)
}

// refusedLocked says that name is locked out, and how to end it.
func refusedLocked(name string, locked *policy.LockedError) error {
	hint := fmt.Sprintf("(end it with '%s unlock %s')", progName, name)
	if locked.Started {
		// This wrong code started the lockout. The error says so, and
		// names the command already when only unlock ends it.
		if locked.UntilUnlock {
			return fmt.Errorf("refused: %v", locked)
		}
		return fmt.Errorf("refused: %v %s", locked, hint)
	}
	until := locked.Until.Local().Format(time.RFC3339)
	if locked.UntilUnlock {
		until = "an administrator unlocks it"
	}
	return fmt.Errorf("refused: %s is locked out until %s %s", name, until, hint)
}

// readCode reads one line from standard input: without echo from a
// terminal, as it comes from a pipe.
func (a *app) readCode(name string) (string, error) {
	var code string
	var err error
	if isTerminal(a.stdin) {
		code, err = a.readHidden(fmt.Sprintf("Code for %s: ", name))
	} else {
		code, err = readLine(bufio.NewReader(a.stdin))
	}
	if errors.Is(err, io.EOF) || err == nil && strings.TrimSpace(code) == "" {
		return "", errors.New("no code was given: nothing was checked")
	}
	if err != nil {
		return "", fmt.Errorf("reading the code: %w", err)
	}
	return code, nil
}

func (a *app) reportAccepted(name string, res policy.Result) {
	switch res.Method {
	case policy.BackupCode:
		a.printf("accepted: a backup code of %s; %d left", name, res.BackupLeft)
		if res.BackupLeft == 0 {
			a.warnf("%s has no backup codes left: make new ones with '%s backup-codes %s'", name, progName, name)
		}
	default:
		a.printf("accepted: a code of %s, %s", name, skewText(res.Skew))
	}
}

func skewText(skew int) string {
	switch {
	case skew == 0:
		return "for the current time step"
	case skew == -1:
		return "for the previous time step"
	case skew == 1:
		return "for the next time step"
	case skew < 0:
		return fmt.Sprintf("%d time steps behind (is a clock wrong?)", -skew)
	}
	return fmt.Sprintf("%d time steps ahead (is a clock wrong?)", skew)
}
