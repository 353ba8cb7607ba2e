package main

import (
	"errors"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/pam-totp/pam-totp/core/policy"
	"github.com/pam-totp/pam-totp/core/store"
)

var statusSpec = &spec{
	name:    "status",
	args:    "USER",
	summary: "show a user's enrollment, never its secret",
	help: `Show the facts of USER's enrollment: the issuer, the code parameters, when it
was made, confirmed and last used, the count of consecutive failures, the
end of a lockout and how many backup codes are left. The secret is never
shown. Exit status 1 if USER is not enrolled.`,
	examples: []string{
		progName + " status alice",
		progName + " status --json alice",
	},
	minArgs: 1, maxArgs: 1, user: true,
	new: func() runner { return new(statusCmd) },
}

var listSpec = &spec{
	name:    "list",
	summary: "show every enrolled user",
	help: `Show every enrolled user, one per line, with the facts that status shows.
A state file that cannot be opened is listed with the reason, and makes
the exit status 1.`,
	examples: []string{
		progName + " list",
		progName + " list --json",
	},
	new: func() runner { return new(listCmd) },
}

// userStatus is the part of a user's state that may be shown.
type userStatus struct {
	User        string     `json:"user"`
	Issuer      string     `json:"issuer"`
	Algorithm   string     `json:"algorithm"`
	Digits      int        `json:"digits"`
	Period      int        `json:"period"`
	Created     time.Time  `json:"created"`
	Confirmed   *time.Time `json:"confirmed"`
	LastUsed    *time.Time `json:"last_used"`
	Failures    int        `json:"failures"`
	LockedUntil *time.Time `json:"locked_until"`
	UntilUnlock bool       `json:"locked_until_unlock"` // only unlock ends it; LockedUntil is null
	BackupCodes int        `json:"backup_codes_left"`
	SecretBits  int        `json:"secret_bits"`
	Error       string     `json:"error,omitempty"`
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// newUserStatus returns what may be shown of st, locked out as lock says,
// or not at all if lock is nil.
func newUserStatus(st *store.State, lock *policy.LockedError) userStatus {
	u := userStatus{
		User:        st.User,
		Issuer:      st.Issuer,
		Algorithm:   st.Algorithm.String(),
		Digits:      st.Digits,
		Period:      st.Period,
		Created:     st.Created,
		Confirmed:   timeOrNil(st.Confirmed),
		LastUsed:    timeOrNil(st.LastUsed),
		Failures:    st.ConsecutiveFailures,
		BackupCodes: len(st.Backup),
		SecretBits:  8 * len(st.Secret),
	}
	if lock != nil {
		u.LockedUntil = timeOrNil(lock.Until)
		u.UntilUnlock = lock.UntilUnlock
	}
	return u
}

// showLockout returns the end of u's lockout, as status and list show it:
// a time, unlock for a lockout that only an administrator can end, or none.
func showLockout(u userStatus, unlock, none string) string {
	if u.UntilUnlock {
		return unlock
	}
	return showTime(u.LockedUntil, none)
}

// now is the time status and list compare lockouts with.
func (a *app) now() time.Time { return time.Now() }

func showTime(t *time.Time, none string) string {
	if t == nil {
		return none
	}
	return t.Local().Format(time.RFC3339)
}

type statusCmd struct{ json bool }

func (c *statusCmd) define(fs *flag.FlagSet) {
	fs.BoolVar(&c.json, "json", false, "print one JSON object")
}

func (c *statusCmd) run(a *app, args []string) error {
	v, err := a.enrolledVerifier(args[0])
	if err != nil {
		return err
	}
	st, err := v.Status(args[0])
	if err != nil {
		return notEnrolledHint(args[0], err)
	}
	u := newUserStatus(st, v.Lockout(st, a.now()))
	if c.json {
		return a.printJSON(u)
	}
	w := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "user:\t%s\n", u.User)
	fmt.Fprintf(w, "issuer:\t%s\n", u.Issuer)
	fmt.Fprintf(w, "algorithm:\t%s\n", u.Algorithm)
	fmt.Fprintf(w, "digits:\t%d\n", u.Digits)
	fmt.Fprintf(w, "period:\t%d seconds\n", u.Period)
	fmt.Fprintf(w, "secret:\t%d bits\n", u.SecretBits)
	fmt.Fprintf(w, "created:\t%s\n", showTime(&u.Created, ""))
	fmt.Fprintf(w, "confirmed:\t%s\n", showTime(u.Confirmed, "no"))
	fmt.Fprintf(w, "last used:\t%s\n", showTime(u.LastUsed, "never"))
	fmt.Fprintf(w, "failures:\t%d\n", u.Failures)
	unlock := fmt.Sprintf("an administrator unlocks the user ('%s unlock %s')", progName, u.User)
	fmt.Fprintf(w, "locked until:\t%s\n", showLockout(u, unlock, "not locked"))
	fmt.Fprintf(w, "backup codes left:\t%d\n", u.BackupCodes)
	return w.Flush()
}

// enrolledVerifier opens the store and checks that name is enrolled. The
// check comes first because the store's transactions create the user's
// lock file, which would otherwise be left behind for any name asked about.
func (a *app) enrolledVerifier(name string) (*policy.Verifier, error) {
	v, err := a.verifier()
	if err != nil {
		return nil, err
	}
	ok, err := v.Enrolled(name)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notEnrolledHint(name, policy.ErrNotEnrolled)
	}
	return v, nil
}

// notEnrolledHint adds what to do to a not-enrolled error.
func notEnrolledHint(name string, err error) error {
	if errors.Is(err, policy.ErrNotEnrolled) {
		return fmt.Errorf("%s is not enrolled (enroll with '%s enroll %s')", name, progName, name)
	}
	return err
}

type listCmd struct{ json bool }

func (c *listCmd) define(fs *flag.FlagSet) {
	fs.BoolVar(&c.json, "json", false, "print a JSON array of objects, one per user")
}

func (c *listCmd) run(a *app, _ []string) error {
	v, err := a.verifier()
	if err != nil {
		return err
	}
	users, err := v.Store.Users()
	if err != nil {
		return err
	}
	now := a.now()
	list := []userStatus{}
	failed := 0
	for _, name := range users {
		st, err := v.Status(name)
		if errors.Is(err, policy.ErrNotEnrolled) {
			continue // removed meanwhile
		}
		if err != nil {
			list = append(list, userStatus{User: name, Error: err.Error()})
			failed++
			continue
		}
		list = append(list, newUserStatus(st, v.Lockout(st, now)))
	}
	if c.json {
		err = a.printJSON(list)
	} else {
		err = a.printList(list)
	}
	if err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d state files could not be opened ('%s doctor' checks the whole setup)",
			failed, len(users), progName)
	}
	return nil
}

func (a *app) printList(list []userStatus) error {
	w := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "USER\tALGORITHM\tDIGITS\tPERIOD\tCREATED\tCONFIRMED\tLAST USED\tFAILURES\tLOCKED UNTIL\tBACKUP CODES\n")
	for _, u := range list {
		if u.Error != "" {
			fmt.Fprintf(w, "%s\terror: %s\n", u.User, u.Error)
			continue
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%ds\t%s\t%s\t%s\t%d\t%s\t%d\n", u.User, u.Algorithm, u.Digits, u.Period,
			showTime(timeOrNil(u.Created), "-"), showTime(u.Confirmed, "no"),
			showTime(u.LastUsed, "never"), u.Failures,
			showLockout(u, "unlock", "-"), u.BackupCodes)
	}
	return w.Flush()
}
