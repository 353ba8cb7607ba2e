package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/pam-totp/pam-totp/core/otp"
)

// maxGAFile bounds a google-authenticator file; the module that reads them
// refuses files over 64 KiB too.
const maxGAFile = 64 << 10

// gaFile is what a google-authenticator-libpam secret file says. Its
// format: the base32 secret on the first line; then option lines that
// start with a double quote and a space (" TOTP_AUTH, " STEP_SIZE 30,
// " WINDOW_SIZE 17, " DISALLOW_REUSE [steps...], " RATE_LIMIT 3 30
// [times...], " HOTP_COUNTER n, " TIME_SKEW n); then the scratch codes,
// 8 digits each, one per line.
type gaFile struct {
	Secret []byte

	TOTP        bool // " TOTP_AUTH
	HOTP        bool // " HOTP_COUNTER
	StepSize    int  // 0: not given, which means 30
	WindowSize  int  // 0: not given
	NoReuse     bool // " DISALLOW_REUSE
	RateLimit   bool
	RateLogins  int
	RateSeconds int
	TimeSkew    bool

	// Other lists option names that are not understood.
	Other        []string
	ScratchCodes []string
}

// parseGoogleAuthenticator reads a google-authenticator file. It refuses
// anything it does not understand in full, except unknown options, which
// it lists in Other.
func parseGoogleAuthenticator(data []byte) (*gaFile, error) {
	if len(data) > maxGAFile {
		return nil, fmt.Errorf("file is larger than %d bytes", maxGAFile)
	}
	text := string(data)
	if strings.ContainsRune(text, 0) {
		return nil, errors.New("file holds a NUL byte: not a google-authenticator file")
	}
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	if strings.TrimSpace(lines[0]) == "" {
		return nil, errors.New("line 1: no secret (the first line of a google-authenticator file is the base32 secret)")
	}
	secret, err := otp.DecodeSecret(strings.TrimSpace(lines[0]))
	if err != nil {
		return nil, fmt.Errorf("line 1: %v", err)
	}
	f := &gaFile{Secret: secret}
	for i, line := range lines[1:] {
		n := i + 2
		line = strings.TrimSpace(line)
		switch {
		case line == "":
		case strings.HasPrefix(line, `"`):
			if err := f.option(strings.Fields(line[1:])); err != nil {
				return nil, fmt.Errorf("line %d: %v", n, err)
			}
		case isScratchCode(line):
			if len(f.ScratchCodes) >= 100 {
				return nil, fmt.Errorf("line %d: more than 100 scratch codes", n)
			}
			f.ScratchCodes = append(f.ScratchCodes, line)
		default:
			return nil, fmt.Errorf("line %d: neither an option (\" NAME ...) nor an 8-digit scratch code", n)
		}
	}
	return f, nil
}

func isScratchCode(s string) bool {
	if len(s) != 8 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// option records one option line, given as its words.
func (f *gaFile) option(words []string) error {
	if len(words) == 0 {
		return errors.New("empty option")
	}
	name, args := words[0], words[1:]
	var err error
	switch name {
	case "TOTP_AUTH":
		f.TOTP = true
	case "HOTP_COUNTER":
		f.HOTP = true
	case "STEP_SIZE":
		f.StepSize, err = intArg(name, args, 1, 3600)
	case "WINDOW_SIZE":
		f.WindowSize, err = intArg(name, args, 1, 100)
	case "DISALLOW_REUSE":
		f.NoReuse = true
	case "RATE_LIMIT":
		if len(args) < 2 {
			return errors.New("RATE_LIMIT needs a number of logins and a number of seconds")
		}
		f.RateLimit = true
		if f.RateLogins, err = intArg(name, args[:1], 1, 100); err == nil {
			f.RateSeconds, err = intArg(name, args[1:2], 1, 3600)
		}
	case "TIME_SKEW":
		f.TimeSkew = true
	default:
		f.Other = append(f.Other, name)
	}
	return err
}

func intArg(name string, args []string, lo, hi int) (int, error) {
	if len(args) != 1 {
		return 0, fmt.Errorf("%s needs one number", name)
	}
	n, err := strconv.Atoi(args[0])
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%s %q: want a number from %d to %d", name, args[0], lo, hi)
	}
	return n, nil
}
