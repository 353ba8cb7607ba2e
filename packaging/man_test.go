package packaging

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var manPages = []string{"man/pam_totp.8", "man/totpctl.8", "man/pam-totp.yaml.5"}

// Every man page must render without a single groff warning.
func TestManPagesRender(t *testing.T) {
	if _, err := exec.LookPath("groff"); err != nil {
		t.Skip("groff is not installed (Debian package groff-base)")
	}
	for _, page := range manPages {
		cmd := exec.Command("groff", "-man", "-Tutf8", "-ww", "-z", page)
		cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
		out, err := cmd.CombinedOutput()
		if err != nil || len(out) > 0 {
			t.Errorf("groff -man -ww %s: %v\n%s", page, err, out)
		}
	}
}

// builtTotpctl returns the path of the totpctl that make built, or skips.
func builtTotpctl(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("PAM_TOTP_BUILD")
	if dir == "" {
		dir = filepath.Join("..", "build")
	}
	p := filepath.Join(dir, "totpctl")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("no totpctl in %s: run 'make' first", dir)
	}
	return p
}

// section returns the text of a man page's section, roff escapes for
// hyphens resolved.
func section(t *testing.T, text, name string) string {
	t.Helper()
	text = strings.ReplaceAll(text, `\-`, "-")
	start := strings.Index(text, "\n.SH "+name+"\n")
	if start < 0 {
		t.Fatalf("no section %s", name)
	}
	text = text[start+len(name)+5:]
	if end := strings.Index(text, "\n.SH "); end >= 0 {
		text = text[:end]
	}
	return text
}

// Every command that totpctl --help lists must have an entry in section
// COMMANDS of totpctl(8), and every option that 'totpctl help COMMAND'
// lists must be in the page.
func TestTotpctlManPageCoversCLI(t *testing.T) {
	bin := builtTotpctl(t)
	page := readFile(t, "man/totpctl.8")
	commands := section(t, page, "COMMANDS")
	all := strings.ReplaceAll(page, `\-`, "-")

	out, err := exec.Command(bin, "--help").Output()
	if err != nil {
		t.Fatalf("totpctl --help: %v", err)
	}
	_, list, ok := strings.Cut(string(out), "\nCommands:\n")
	if !ok {
		t.Fatalf("totpctl --help lists no commands:\n%s", out)
	}
	list, _, _ = strings.Cut(list, "\n\n")
	names := regexp.MustCompile(`(?m)^  ([a-z-]+)  `).FindAllStringSubmatch(list, -1)
	if len(names) < 5 {
		t.Fatalf("found only %d commands in totpctl --help:\n%s", len(names), list)
	}
	option := regexp.MustCompile(`(?m)^  (?:-[a-z], )?(--[a-z-]+)`)
	for _, n := range names {
		name := n[1]
		entry := regexp.MustCompile(`(?m)^\.(?:B|BI|BR) "?` + regexp.QuoteMeta(name) + `\b`)
		if !entry.MatchString(commands) {
			t.Errorf("totpctl.8: command %s has no entry in COMMANDS", name)
		}
		if name == "help" {
			continue
		}
		help, err := exec.Command(bin, "help", name).Output()
		if err != nil {
			t.Errorf("totpctl help %s: %v", name, err)
			continue
		}
		for _, o := range option.FindAllStringSubmatch(string(help), -1) {
			if !strings.Contains(all, o[1]) {
				t.Errorf("totpctl.8: option %s of command %s is not documented", o[1], name)
			}
		}
	}
}

// Every module argument that pam_module accepts must have an entry in
// section OPTIONS of pam_totp(8). The list is knownArgs, the one the module
// gives in its error for an unknown argument.
func TestModuleManPageCoversArguments(t *testing.T) {
	src, err := os.ReadFile("../pam_module/args.go")
	if err != nil {
		t.Skipf("the module's source is not there: %v", err)
	}
	m := regexp.MustCompile(`knownArgs = "([^"]*)"`).FindSubmatch(src)
	if m == nil {
		t.Fatal("pam_module/args.go no longer lists the known arguments in knownArgs: update this test")
	}
	options := section(t, readFile(t, "man/pam_totp.8"), "OPTIONS")
	for _, arg := range strings.Split(string(m[1]), ", ") {
		name, _, hasValue := strings.Cut(arg, "=")
		entry := `(?m)^\.B ` + regexp.QuoteMeta(name) + `$`
		if hasValue {
			entry = `(?m)^\.BI ` + regexp.QuoteMeta(name) + `= `
		}
		if !regexp.MustCompile(entry).MatchString(options) {
			t.Errorf("pam_totp.8: argument %s has no entry in OPTIONS", arg)
		}
	}
}
