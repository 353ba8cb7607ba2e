package otp_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/pam-totp/pam-totp/core/otp"
)

func FuzzDecodeSecret(f *testing.F) {
	for _, s := range []string{
		"", "A", "MY", "MZXW6===", "mzxw 6ytb oi", "GEZD-GNBV-GY3T-QOJQ",
		"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "JBSWY3DPEHPK3PXP", "ABC1", "=", "a=b",
		"\xff", "é", strings.Repeat("A", 103), strings.Repeat("7", 104),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		secret, err := otp.DecodeSecret(s)
		if err != nil {
			if secret != nil {
				t.Errorf("DecodeSecret(%q) returned %x with the error %v", s, secret, err)
			}
			if !strings.HasPrefix(err.Error(), "otp: ") {
				t.Errorf("DecodeSecret(%q) error %q lacks the prefix \"otp: \"", s, err)
			}
			return
		}
		if len(secret) == 0 || len(secret) > otp.MaxSecretSize {
			t.Fatalf("DecodeSecret(%q) = %d bytes, want 1 to %d", s, len(secret), otp.MaxSecretSize)
		}
		if strings.Trim(strings.ToUpper(s), "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567 \t-=") != "" {
			t.Fatalf("DecodeSecret(%q) accepted a character outside base32 and separators", s)
		}
		typed := strings.NewReplacer(" ", "", "\t", "", "-", "", "=", "").Replace(s)
		if enc := otp.EncodeSecret(secret); len(enc) != len(typed) {
			t.Fatalf("DecodeSecret(%q) = %x, which is %q: characters were dropped", s, secret, enc)
		}
		again, err := otp.DecodeSecret(otp.EncodeSecret(secret))
		if err != nil || !bytes.Equal(again, secret) {
			t.Fatalf("DecodeSecret(EncodeSecret(%x)) = %x, %v", secret, again, err)
		}
	})
}

func FuzzParseURI(f *testing.F) {
	s := "secret=" + rfcSecretB32
	for _, u := range []string{
		"otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example",
		"otpauth://totp/ACME%20Co:john.doe@email.com?" + s +
			"&issuer=ACME%20Co&algorithm=SHA1&digits=6&period=30",
		"otpauth://totp/host:root?" + s + "&algorithm=sha512&digits=8&period=60",
		"otpauth://totp/root?" + s + "&issuer=a+b",
		"otpauth://totp/a%3Ab?" + s,
		"otpauth://totp/:b?" + s,
		"otpauth://TOTP/x?secret=mzxw6%3D%3D%3D",
		"otpauth://hotp/x?" + s + "&counter=1",
		"otpauth://totp/x?" + s + "&digits=9",
		"otpauth://totp/x?" + s + "&period=1",
		"otpauth://totp/A:x?" + s + "&issuer=B",
		"otpauth://totp/x",
		"otpauth://totp/%zz",
		"",
	} {
		f.Add(u)
	}
	f.Fuzz(func(t *testing.T, in string) {
		k, err := otp.ParseURI(in)
		if err != nil {
			return
		}
		if err := k.Params.Validate(); err != nil {
			t.Fatalf("ParseURI(%q) accepted invalid parameters: %v", in, err)
		}
		if len(k.Secret) == 0 {
			t.Fatalf("ParseURI(%q) accepted an empty secret", in)
		}
		out := k.URI()
		again, err := otp.ParseURI(out)
		if err != nil {
			t.Fatalf("ParseURI(%q) = %+v, whose URI %q does not parse: %v", in, k, out, err)
		}
		if !keysEqual(again, k) {
			t.Fatalf("ParseURI(%q) = %+v\nits URI %q parses to %+v", in, k, out, again)
		}
	})
}

func FuzzNormalizeCode(f *testing.F) {
	for _, s := range []string{
		"123456", " 123 456 ", "123-456", "1234 5678", "12345", "123456789",
		"12345a", "１２３４５６", "", "-", "1 2 3 4 5 6 7 8 9", "k7mq-29xd-hpe4",
	} {
		for digits := otp.MinDigits; digits <= otp.MaxDigits; digits++ {
			f.Add(s, digits)
		}
	}
	f.Fuzz(func(t *testing.T, in string, digits int) {
		code, err := otp.NormalizeCode(in, digits)
		if err != nil {
			if !errors.Is(err, otp.ErrNotACode) || code != "" {
				t.Fatalf("NormalizeCode(%q, %d) = %q, %v, want ErrNotACode", in, digits, code, err)
			}
			return
		}
		if len(code) != digits {
			t.Fatalf("NormalizeCode(%q, %d) = %q, want %d digits", in, digits, code, digits)
		}
		// The code is the input's digits in order, and nothing but digits,
		// spaces and hyphens was inside it.
		inner := strings.TrimSpace(in)
		if got := strings.NewReplacer(" ", "", "-", "").Replace(inner); got != code {
			t.Fatalf("NormalizeCode(%q, %d) = %q, want %q", in, digits, code, got)
		}
		if strings.Trim(code, "0123456789") != "" {
			t.Fatalf("NormalizeCode(%q, %d) = %q, not only digits", in, digits, code)
		}
		if again, err := otp.NormalizeCode(code, digits); err != nil || again != code {
			t.Fatalf("NormalizeCode(%q, %d) = %q, %v, want it unchanged", code, digits, again, err)
		}
	})
}
