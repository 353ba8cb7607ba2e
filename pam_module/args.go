package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/pam-totp/pam-totp/core/config"
)

// inputMode says where the module takes the code from.
type inputMode int

const (
	// promptCode asks for the code alone.
	promptCode inputMode = iota
	// tryFirstPass tries PAM_AUTHTOK first and asks if it is not a right
	// code.
	tryFirstPass
	// useFirstPass takes the code from PAM_AUTHTOK and never asks.
	useFirstPass
	// forwardPass asks for the password and the code in one answer and
	// passes the password on as PAM_AUTHTOK.
	forwardPass
)

func (m inputMode) String() string {
	switch m {
	case tryFirstPass:
		return "try_first_pass"
	case useFirstPass:
		return "use_first_pass"
	case forwardPass:
		return "forward_pass"
	}
	return "prompt"
}

// defaultForwardPrompt is the prompt of forward_pass when no prompt=
// argument is given.
const defaultForwardPrompt = "Password & verification code: "

// knownArgs lists the module arguments, for the error about an unknown
// one; pam_totp(8) documents each.
const knownArgs = "config=FILE, nullok, debug, prompt=TEXT, try_first_pass, use_first_pass, forward_pass"

// maxPromptLen bounds prompt=, as the configuration bounds its prompt.
const maxPromptLen = 200

// options are the module arguments of one line of a PAM service file.
type options struct {
	config string
	nullok bool
	debug  bool
	prompt string // empty: the configuration's prompt
	mode   inputMode

	// hooks are arguments that only test builds accept.
	hooks map[string]bool
}

// errArgs marks an argument error, which is the service file's fault.
var errArgs = errors.New("bad module argument")

// parseArgs reads the module arguments. Every error wraps errArgs and says
// which argument is wrong and what is accepted.
func parseArgs(args []string) (*options, error) {
	o := &options{config: config.DefaultPath}
	seen := map[string]bool{}
	for _, arg := range args {
		name, value, hasValue := strings.Cut(arg, "=")
		if seen[name] {
			return nil, fmt.Errorf("%w: %q is given twice", errArgs, name)
		}
		seen[name] = true
		if err := o.set(name, value, hasValue); err != nil {
			return nil, err
		}
	}
	n := 0
	for _, m := range []string{"try_first_pass", "use_first_pass", "forward_pass"} {
		if seen[m] {
			n++
		}
	}
	if n > 1 {
		return nil, fmt.Errorf("%w: try_first_pass, use_first_pass and forward_pass "+
			"exclude each other; give at most one", errArgs)
	}
	return o, nil
}

func (o *options) set(name, value string, hasValue bool) error {
	flag := func(p *bool) error {
		if hasValue {
			return fmt.Errorf("%w: %q takes no value", errArgs, name)
		}
		*p = true
		return nil
	}
	mode := func(m inputMode) error {
		var set bool
		if err := flag(&set); err != nil {
			return err
		}
		o.mode = m
		return nil
	}
	switch name {
	case "config":
		if !hasValue || !filepath.IsAbs(value) {
			return fmt.Errorf("%w: config= needs an absolute path, as in config=%s",
				errArgs, config.DefaultPath)
		}
		o.config = filepath.Clean(value)
	case "prompt":
		if !hasValue || value == "" {
			return fmt.Errorf("%w: prompt= needs a text; for spaces, write "+
				"[prompt=Text with spaces: ] in the service file", errArgs)
		}
		if len(value) > maxPromptLen {
			return fmt.Errorf("%w: prompt= is longer than %d bytes", errArgs, maxPromptLen)
		}
		o.prompt = value
	case "nullok":
		return flag(&o.nullok)
	case "debug":
		return flag(&o.debug)
	case "try_first_pass":
		return mode(tryFirstPass)
	case "use_first_pass":
		return mode(useFirstPass)
	case "forward_pass":
		return mode(forwardPass)
	default:
		if testHooks[name] && !hasValue {
			if o.hooks == nil {
				o.hooks = map[string]bool{}
			}
			o.hooks[name] = true
			return nil
		}
		return fmt.Errorf("%w: unknown argument %q (known: %s)",
			errArgs, nameOf(name, value, hasValue), knownArgs)
	}
	return nil
}

// nameOf returns the argument as the service file has it, cut short so
// that a code or password pasted there by mistake is not logged whole.
func nameOf(name, value string, hasValue bool) string {
	s := name
	if hasValue {
		s += "=" + value
	}
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return s
}

// promptFor returns the prompt text for cfg's prompt and the options.
func (o *options) promptFor(cfgPrompt string) string {
	switch {
	case o.prompt != "":
		return o.prompt
	case o.mode == forwardPass:
		return defaultForwardPrompt
	case cfgPrompt != "":
		return cfgPrompt
	}
	return config.Default().Prompt
}
