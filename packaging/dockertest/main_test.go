//go:build dockertest

package dockertest

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// The test binary doubles as OpenSSH's askpass program: ssh runs it with
// the prompt as its argument and these variables set, and it prints the
// answer. See opensshLogin.
const (
	askpassEnv         = "PAM_TOTP_TEST_ASKPASS"
	askpassPasswordEnv = "PAM_TOTP_TEST_ASKPASS_PASSWORD"
	askpassCodeEnv     = "PAM_TOTP_TEST_ASKPASS_CODE"
	askpassLogEnv      = "PAM_TOTP_TEST_ASKPASS_LOG"
)

func TestMain(m *testing.M) {
	if os.Getenv(askpassEnv) == "1" {
		os.Exit(askpass(os.Args[1:]))
	}
	if os.Getenv(imageEnv) == "" {
		fmt.Fprintf(os.Stderr, "%s is not set: run the suite with 'make docker-test', which builds the test image and sets it\n", imageEnv)
		os.Exit(2)
	}
	code := m.Run()
	removeAllContainers()
	os.Exit(code)
}

// askpass answers one prompt of ssh: the password to a password prompt, the
// code to a code prompt, and nothing to anything else, so an unexpected
// prompt fails the login instead of being answered. Every prompt is
// appended to the log file, for the test to check the order.
func askpass(args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "askpass: want one prompt argument")
		return 2
	}
	prompt := args[0]
	if f, err := os.OpenFile(os.Getenv(askpassLogEnv), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600); err == nil {
		fmt.Fprintf(f, "%q\n", prompt)
		f.Close()
	}
	switch {
	case isPasswordPrompt(prompt):
		fmt.Println(os.Getenv(askpassPasswordEnv))
	case isCodePrompt(prompt) && os.Getenv(askpassCodeEnv) != "":
		fmt.Println(os.Getenv(askpassCodeEnv))
	default:
		fmt.Fprintf(os.Stderr, "askpass: unexpected prompt %q\n", prompt)
		return 1
	}
	return 0
}

// isPasswordPrompt and isCodePrompt match prompts by substring: OpenSSH
// before 10.3 glues PAM's messages onto the next prompt.
func isPasswordPrompt(p string) bool { return strings.Contains(p, "assword") }

func isCodePrompt(p string) bool { return strings.Contains(p, "erification code") }
