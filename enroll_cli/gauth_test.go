package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pam-totp/pam-totp/core/otp"
)

func TestParseGoogleAuthenticator(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want gaFile
	}{{
		name: "as google-authenticator -t -d -r 3 -R 30 -w 3 writes it",
		in: "K7BWXJTL2247X7Y6JEFF3QU7CQ\n\" RATE_LIMIT 3 30\n\" WINDOW_SIZE 3\n\" DISALLOW_REUSE\n" +
			"\" TOTP_AUTH\n40412301\n53297990\n",
		want: gaFile{TOTP: true, WindowSize: 3, NoReuse: true, RateLimit: true, RateLogins: 3, RateSeconds: 30,
			ScratchCodes: []string{"40412301", "53297990"}},
	}, {
		name: "after logins: used steps and login times appended",
		in: "K7BWXJTL2247X7Y6JEFF3QU7CQ\n\" RATE_LIMIT 3 30 1700000000 1700000007\n" +
			"\" DISALLOW_REUSE 56666666 56666667\n\" TOTP_AUTH\n",
		want: gaFile{TOTP: true, NoReuse: true, RateLimit: true, RateLogins: 3, RateSeconds: 30},
	}, {
		name: "step size, time skew, no final newline, no scratch codes",
		in:   "K7BWXJTL2247X7Y6JEFF3QU7CQ\n\" STEP_SIZE 60\n\" TIME_SKEW -1\n\" TOTP_AUTH",
		want: gaFile{TOTP: true, StepSize: 60, TimeSkew: true},
	}, {
		name: "HOTP",
		in:   "K7BWXJTL2247X7Y6JEFF3QU7CQ\n\" WINDOW_SIZE 3\n\" HOTP_COUNTER 1\n57268930\n",
		want: gaFile{HOTP: true, WindowSize: 3, ScratchCodes: []string{"57268930"}},
	}, {
		name: "CRLF line endings, lower case secret, unknown option",
		in:   "k7bwxjtl2247x7y6jeff3qu7cq\r\n\" TOTP_AUTH\r\n\" SOMETHING_NEW 1\r\n12345678\r\n",
		want: gaFile{TOTP: true, Other: []string{"SOMETHING_NEW"}, ScratchCodes: []string{"12345678"}},
	}}
	secret, err := otp.DecodeSecret("K7BWXJTL2247X7Y6JEFF3QU7CQ")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseGoogleAuthenticator([]byte(tt.in))
			if err != nil {
				t.Fatalf("parseGoogleAuthenticator: %v", err)
			}
			tt.want.Secret = secret
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", *got, tt.want)
			}
		})
	}
}

func TestParseGoogleAuthenticatorRefuses(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "", "line 1: no secret"},
		{"blank first line", "\n\" TOTP_AUTH\n", "line 1: no secret"},
		{"bad secret", "K7BWXJTL!247X7Y6\n", "line 1:"},
		{"impossible base32 length", "K7BWXJTL2\n", "line 1:"},
		{"seven-digit scratch code", "K7BWXJTL2247X7Y6\n1234567\n", "line 2:"},
		{"text", "K7BWXJTL2247X7Y6\n\" TOTP_AUTH\nhello\n", "line 3:"},
		{"bad step size", "K7BWXJTL2247X7Y6\n\" STEP_SIZE x\n", "STEP_SIZE"},
		{"step size without number", "K7BWXJTL2247X7Y6\n\" STEP_SIZE\n", "STEP_SIZE"},
		{"rate limit without seconds", "K7BWXJTL2247X7Y6\n\" RATE_LIMIT 3\n", "RATE_LIMIT"},
		{"empty option", "K7BWXJTL2247X7Y6\n\"\n", "empty option"},
		{"NUL byte", "K7BWXJTL2247X7Y6\n\x00\n", "NUL"},
		{"too large", "K7BWXJTL2247X7Y6\n" + strings.Repeat("\n", maxGAFile), "larger"},
		{"too many scratch codes", "K7BWXJTL2247X7Y6\n" + strings.Repeat("12345678\n", 101), "more than 100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := parseGoogleAuthenticator([]byte(tt.in))
			if err == nil {
				t.Fatalf("parseGoogleAuthenticator(%q) = %+v, want an error", tt.in, f)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

// FuzzParseGoogleAuthenticator checks that the parser never panics, and
// that whatever it accepts is consistent: a secret of a size the core can
// take, scratch codes of 8 digits, and numbers within their limits.
func FuzzParseGoogleAuthenticator(f *testing.F) {
	seeds, err := filepath.Glob("testdata/google-authenticator/*")
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range seeds {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("JBSWY3DPEHPK3PXP\n\" TOTP_AUTH\n\" STEP_SIZE 30\n12345678\n"))
	f.Add([]byte("JBSWY3DPEHPK3PXP\n\" HOTP_COUNTER 4\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := parseGoogleAuthenticator(data)
		if err != nil {
			return
		}
		if len(g.Secret) == 0 || len(g.Secret) > otp.MaxSecretSize {
			t.Errorf("accepted a secret of %d bytes", len(g.Secret))
		}
		for _, c := range g.ScratchCodes {
			if !isScratchCode(c) {
				t.Errorf("accepted scratch code %q", c)
			}
		}
		if g.StepSize < 0 || g.StepSize > 3600 || g.WindowSize < 0 || g.WindowSize > 100 {
			t.Errorf("accepted step size %d, window size %d", g.StepSize, g.WindowSize)
		}
		if g.RateLimit && (g.RateLogins < 1 || g.RateSeconds < 1) {
			t.Errorf("accepted rate limit %d %d", g.RateLogins, g.RateSeconds)
		}
	})
}
