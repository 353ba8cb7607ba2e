// Command totpctl administers pam-totp: it creates the host key, enrolls
// users and shows their QR codes, checks codes exactly as a login would,
// ends lockouts, rotates the host key, takes over google-authenticator
// secrets and checks the whole setup.
//
// It must run as root, since only root may open the host key and the state
// files. Every command goes through the same verification policy as the
// PAM module (core/policy), so a code checked here is checked the same way
// as at a login.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/pam-totp/pam-totp/core/config"
	"github.com/pam-totp/pam-totp/core/policy"
	"github.com/pam-totp/pam-totp/core/store"
)

const progName = "totpctl"

// Exit statuses.
const (
	exitOK     = 0
	exitFailed = 1 // refused or failed
	exitMisuse = 2 // bad command line
)

func main() {
	a := &app{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}
	os.Exit(a.main(os.Args[1:]))
}

// app holds what every command shares: the standard streams and the
// configuration file.
type app struct {
	stdin  *os.File
	stdout io.Writer
	stderr io.Writer

	configPath  string
	configGiven bool // --config was on the command line
	cfg         *config.Config
}

// usageError is a bad command line: exit status 2.
type usageError struct {
	cmd string // the command whose usage applies, or ""
	msg string
}

func (e *usageError) Error() string { return e.msg }

func misuse(cmd, format string, args ...any) error {
	return &usageError{cmd: cmd, msg: fmt.Sprintf(format, args...)}
}

// errReported means the command failed and has already said why.
var errReported = errors.New("failed")

// printf writes a message on stderr, prefixed with the program name.
func (a *app) printf(format string, args ...any) {
	fmt.Fprintf(a.stderr, progName+": "+format+"\n", args...)
}

func (a *app) warnf(format string, args ...any) {
	a.printf("warning: "+format, args...)
}

// main runs the command line args and returns the exit status.
func (a *app) main(args []string) int {
	global := flag.NewFlagSet(progName, flag.ContinueOnError)
	global.SetOutput(io.Discard)
	global.StringVar(&a.configPath, "config", config.DefaultPath, "")
	showVersion := global.Bool("version", false, "")
	if err := global.Parse(args); errors.Is(err, flag.ErrHelp) {
		a.topUsage(a.stdout)
		return exitOK
	} else if err != nil {
		return a.fail(misuse("", "%v", err))
	}
	if err := a.checkConfigFlag("", global); err != nil {
		return a.fail(err)
	}
	if *showVersion {
		fmt.Fprintf(a.stdout, "%s %s\n", progName, buildVersion())
		return exitOK
	}
	rest := global.Args()
	if len(rest) == 0 {
		a.topUsage(a.stderr)
		return exitMisuse
	}

	name, rest := rest[0], rest[1:]
	if name == "help" {
		return a.help(rest)
	}
	sp := lookup(name)
	if sp == nil {
		return a.fail(misuse("", "unknown command %q", name))
	}
	r := sp.new()
	fs := sp.flagSet(a, r)
	pos, err := parseInterspersed(fs, rest)
	if errors.Is(err, flag.ErrHelp) {
		sp.usage(a.stdout, fs)
		return exitOK
	}
	if err != nil {
		return a.fail(misuse(sp.name, "%v", err))
	}
	if err := a.checkConfigFlag(sp.name, fs); err != nil {
		return a.fail(err)
	}
	if err := sp.checkArgs(pos); err != nil {
		return a.fail(err)
	}
	if c, ok := r.(checker); ok {
		if err := c.check(pos); err != nil {
			return a.fail(err)
		}
	}
	if os.Geteuid() != 0 {
		a.printf("must be run as root: only root may read the host key and the state files; nothing was changed (try: sudo %s %s)",
			progName, strings.Join(os.Args[1:], " "))
		return exitFailed
	}
	return a.fail(r.run(a, pos))
}

// fail reports err, if any, and returns the exit status it calls for.
func (a *app) fail(err error) int {
	if err == nil {
		return exitOK
	}
	var ue *usageError
	if errors.As(err, &ue) {
		a.printf("%s", ue.msg)
		if ue.cmd != "" {
			a.printf("run '%s help %s' for usage", progName, ue.cmd)
		} else {
			a.printf("run '%s --help' for usage", progName)
		}
		return exitMisuse
	}
	if !errors.Is(err, errReported) {
		a.printf("%v", err)
	}
	return exitFailed
}

// help runs 'totpctl help [COMMAND]'.
func (a *app) help(args []string) int {
	if len(args) == 0 || len(args) == 1 && args[0] == "help" {
		a.topUsage(a.stdout)
		return exitOK
	}
	if len(args) > 1 {
		return a.fail(misuse("", "help takes at most one command name"))
	}
	sp := lookup(args[0])
	if sp == nil {
		return a.fail(misuse("", "unknown command %q", args[0]))
	}
	sp.usage(a.stdout, sp.flagSet(a, sp.new()))
	return exitOK
}

// parseInterspersed parses flags that may come before, between or after
// the positional arguments, which it returns. After "--" everything is
// positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		consumed := args[:len(args)-len(rest)]
		if len(consumed) > 0 && consumed[len(consumed)-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// checkConfigFlag notes whether fs set --config, and refuses an empty
// file name as misuse.
func (a *app) checkConfigFlag(cmd string, fs *flag.FlagSet) error {
	fs.Visit(func(f *flag.Flag) {
		a.configGiven = a.configGiven || f.Name == "config"
	})
	if a.configGiven && a.configPath == "" {
		return misuse(cmd, "--config needs a file name")
	}
	return nil
}

// missingConfig returns an error if the file named with --config does not
// exist: a typing mistake must not mean the built-in defaults, whose paths
// are those of the real host key and state directory. Without --config, a
// missing file means the defaults.
func (a *app) missingConfig() error {
	if !a.configGiven {
		return nil
	}
	_, err := os.Stat(a.configPath)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s does not exist: check the name given with --config, or leave --config out to use %s",
			a.configPath, config.DefaultPath)
	}
	return nil
}

// loadConfig reads the configuration file once.
func (a *app) loadConfig() (*config.Config, error) {
	if a.cfg != nil {
		return a.cfg, nil
	}
	if err := a.missingConfig(); err != nil {
		return nil, err
	}
	cfg, err := config.Load(a.configPath)
	if err != nil {
		return nil, fmt.Errorf("%w (fix the configuration file, or name another with --config)", err)
	}
	a.cfg = cfg
	return cfg, nil
}

// verifier opens the store that the configuration names.
func (a *app) verifier() (*policy.Verifier, error) {
	cfg, err := a.loadConfig()
	if err != nil {
		return nil, err
	}
	return policy.New(cfg)
}

// checkUser refuses a name that can never be enrolled, as misuse.
func checkUser(cmd, user string) error {
	if err := store.ValidUser(user); err != nil {
		return misuse(cmd, "%v", err)
	}
	return nil
}
