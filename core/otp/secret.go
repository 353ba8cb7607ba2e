package otp

import (
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Secret sizes, in bytes. RFC 4226 (section 4, R6) asks for at least 128
// bits and recommends 160.
const (
	MinSecretSize     = 16
	DefaultSecretSize = 20
	MaxSecretSize     = 64
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// GenerateSecret reads size random bytes from rand. size must be between
// MinSecretSize and MaxSecretSize.
func GenerateSecret(rand io.Reader, size int) ([]byte, error) {
	if size < MinSecretSize || size > MaxSecretSize {
		return nil, fmt.Errorf("otp: secret of %d bytes: want %d to %d", size, MinSecretSize, MaxSecretSize)
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(rand, b); err != nil {
		return nil, fmt.Errorf("otp: reading random bytes: %w", err)
	}
	return b, nil
}

// EncodeSecret returns secret in upper-case base32 without padding, the form
// authenticator apps and otpauth:// URIs use.
func EncodeSecret(secret []byte) string {
	return b32.EncodeToString(secret)
}

// ErrShortSecret is returned for a secret under MinSecretSize bytes.
var ErrShortSecret = errors.New("otp: secret shorter than 128 bits")

// DecodeSecret reads a base32 secret as people copy it: case, spaces,
// hyphens and padding are ignored. It refuses any other character, a length
// that is not valid base32, an empty secret and one longer than
// MaxSecretSize bytes. It accepts secrets shorter than 128 bits, which older
// tools made (google-authenticator uses 80); [CheckStrength] tells them apart.
func DecodeSecret(s string) ([]byte, error) {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == ' ' || r == '-' || r == '\t':
		case r >= 'a' && r <= 'z':
			b.WriteRune(r - 'a' + 'A')
		case r >= 'A' && r <= 'Z', r >= '2' && r <= '7':
			b.WriteRune(r)
		case r == '=':
		default:
			return nil, fmt.Errorf("otp: secret: %q is not a base32 character (A-Z, 2-7)", r)
		}
	}
	clean := b.String()
	if clean == "" {
		return nil, errors.New("otp: secret is empty")
	}
	// Unpadded base32 ends in a group of 2, 4, 5 or 7 characters, or none.
	// The decoder drops a last group of 1, 3 or 6 without an error, so a
	// typo could leave a shorter secret, or an empty one, unnoticed.
	secret, err := b32.DecodeString(clean)
	if n := len(clean) % 8; err != nil || n == 1 || n == 3 || n == 6 {
		return nil, fmt.Errorf("otp: secret: %d characters is not a valid base32 length", len(clean))
	}
	if len(secret) > MaxSecretSize {
		return nil, fmt.Errorf("otp: secret longer than %d bytes", MaxSecretSize)
	}
	return secret, nil
}

// CheckStrength returns an error wrapping ErrShortSecret if secret has fewer
// than 128 bits.
func CheckStrength(secret []byte) error {
	if len(secret) < MinSecretSize {
		return fmt.Errorf("%w: it has %d bits", ErrShortSecret, 8*len(secret))
	}
	return nil
}
