package main

import (
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/pam-totp/pam-totp/core/config"
)

// runner is one command: its options and what it does.
type runner interface {
	define(fs *flag.FlagSet)
	run(a *app, args []string) error
}

// checker is a runner that checks its options and arguments further before
// it runs, so that misuse is reported as such, with exit status 2, even by
// a user who is not root and without reading the configuration.
type checker interface {
	check(args []string) error
}

// spec describes a command for the dispatcher and its usage text.
type spec struct {
	name     string
	args     string // the synopsis after the options
	summary  string
	help     string
	examples []string
	minArgs  int
	maxArgs  int
	user     bool // the first argument is a user name
	new      func() runner
}

// commands lists every command in the order of the usage text.
var commands = []*spec{
	initSpec, enrollSpec, verifySpec, statusSpec, listSpec, removeSpec,
	unlockSpec, backupCodesSpec, rekeySpec, importSpec, doctorSpec,
}

func lookup(name string) *spec {
	for _, sp := range commands {
		if sp.name == name {
			return sp
		}
	}
	return nil
}

// flagSet returns the command's options, with the global --config.
func (sp *spec) flagSet(a *app, r runner) *flag.FlagSet {
	fs := flag.NewFlagSet(sp.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&a.configPath, "config", a.configPath,
		"read the configuration from `FILE` (default "+config.DefaultPath+")")
	r.define(fs)
	return fs
}

func (sp *spec) checkArgs(args []string) error {
	switch {
	case len(args) < sp.minArgs:
		return misuse(sp.name, "%s: missing %s", sp.name, strings.Fields(sp.args)[len(args)])
	case len(args) > sp.maxArgs:
		return misuse(sp.name, "%s: unexpected argument %q", sp.name, args[sp.maxArgs])
	case sp.user:
		return checkUser(sp.name, args[0])
	}
	return nil
}

func (sp *spec) usage(w io.Writer, fs *flag.FlagSet) {
	synopsis := progName + " " + sp.name + " [options]"
	if sp.args != "" {
		synopsis += " " + sp.args
	}
	fmt.Fprintf(w, "Usage: %s\n\n%s\n\nOptions:\n", synopsis, wrap(sp.help, 78))
	printFlags(w, fs)
	if len(sp.examples) > 0 {
		fmt.Fprintf(w, "\nExamples:\n")
		for _, ex := range sp.examples {
			fmt.Fprintf(w, "  %s\n", ex)
		}
	}
}

// printFlags writes the options in GNU style, with two hyphens.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	type row struct{ left, right string }
	var rows []row
	width := 0
	fs.VisitAll(func(f *flag.Flag) {
		name, text := flag.UnquoteUsage(f)
		left := "--" + f.Name
		if _, isBool := f.Value.(interface{ IsBoolFlag() bool }); !isBool {
			left += " " + name
		}
		if d := f.DefValue; d != "" && d != "false" && d != "0" && !strings.Contains(text, "default") {
			text += " (default " + d + ")"
		}
		rows = append(rows, row{left, text})
		width = max(width, len(left))
	})
	rows = append(rows, row{"-h, --help", "show this help"})
	sort.Slice(rows, func(i, j int) bool { return rows[i].left < rows[j].left })
	indent := strings.Repeat(" ", width+4)
	for _, r := range rows {
		text := strings.ReplaceAll(wrap(r.right, 78-len(indent)), "\n", "\n"+indent)
		fmt.Fprintf(w, "  %-*s  %s\n", width, r.left, text)
	}
}

func (a *app) topUsage(w io.Writer) {
	fmt.Fprintf(w, `Usage: %s [--config FILE] COMMAND [options] [ARGUMENTS]

%s administers pam-totp, the TOTP second factor for SSH and sudo logins.
It must be run as root. Exit status: 0 done, 1 refused or failed, 2 misuse.

Commands:
`, progName, progName)
	for _, sp := range commands {
		fmt.Fprintf(w, "  %-13s %s\n", sp.name, sp.summary)
	}
	fmt.Fprintf(w, `  %-13s show a command's options and examples

Global options:
  --config FILE  read the configuration from FILE (default %s)
  -h, --help     show this help
  --version      show the version

Examples:
`, "help", config.DefaultPath)
	for _, ex := range topExamples {
		fmt.Fprintf(w, "  %-31s  %s\n", ex[0], ex[1])
	}
	fmt.Fprintf(w, "\nRun '%s help COMMAND' for a command's options and examples.\n", progName)
}

// topExamples are the examples of the usage text: a command line and what
// it does.
var topExamples = [][2]string{
	{progName + " init", "create the host key and state directory"},
	{progName + " enroll alice", "enroll alice and show her QR code"},
	{progName + " verify alice", "check a code typed without echo"},
	{progName + " status alice", "show alice's enrollment"},
	{progName + " unlock alice", "end alice's lockout"},
	{progName + " list --json", "every enrolled user, as JSON"},
	{progName + " rekey && " + progName + " doctor", "rotate the host key, check the setup"},
}

// wrap fills each paragraph of text (separated by blank lines) to width
// columns. Lines that start with spaces are kept as they are.
func wrap(text string, width int) string {
	var out []string
	for _, para := range strings.Split(strings.TrimSpace(text), "\n\n") {
		if strings.HasPrefix(para, " ") {
			out = append(out, para)
			continue
		}
		var lines []string
		line := ""
		for _, word := range strings.Fields(para) {
			if line != "" && len(line)+1+len(word) > width {
				lines = append(lines, line)
				line = ""
			}
			if line != "" {
				line += " "
			}
			line += word
		}
		out = append(out, strings.Join(append(lines, line), "\n"))
	}
	return strings.Join(out, "\n\n")
}

// version is set at build time with -ldflags "-X main.version=...".
var version string

// buildVersion returns the version set at build time, or else the module
// version and revision recorded in the build information.
func buildVersion() string {
	info, ok := debug.ReadBuildInfo()
	v := version
	if v == "" && ok {
		v = info.Main.Version
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " " + s.Value[:12]
			}
		}
	}
	if v == "" {
		v = "(unknown)"
	}
	if ok {
		v += " (" + info.GoVersion + ")"
	}
	return v
}
