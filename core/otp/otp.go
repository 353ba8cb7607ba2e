package otp

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"strings"
	"time"
)

// Algorithm is the HMAC hash function behind a code.
type Algorithm int

// The algorithms of RFC 6238, section 1.2. SHA1 is the zero value and the
// only one that every authenticator app honours.
const (
	SHA1 Algorithm = iota
	SHA256
	SHA512
)

// String returns the name used in otpauth:// URIs and the configuration.
func (a Algorithm) String() string {
	switch a {
	case SHA1:
		return "SHA1"
	case SHA256:
		return "SHA256"
	case SHA512:
		return "SHA512"
	}
	return fmt.Sprintf("Algorithm(%d)", int(a))
}

// ParseAlgorithm reads an algorithm name, ignoring case and an optional
// hyphen ("sha-256").
func ParseAlgorithm(s string) (Algorithm, error) {
	switch strings.ToUpper(strings.ReplaceAll(s, "-", "")) {
	case "SHA1":
		return SHA1, nil
	case "SHA256":
		return SHA256, nil
	case "SHA512":
		return SHA512, nil
	}
	return 0, fmt.Errorf("otp: unknown algorithm %q: want SHA1, SHA256 or SHA512", s)
}

// MarshalText implements encoding.TextMarshaler.
func (a Algorithm) MarshalText() ([]byte, error) {
	if a < SHA1 || a > SHA512 {
		return nil, fmt.Errorf("otp: invalid algorithm %d", int(a))
	}
	return []byte(a.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (a *Algorithm) UnmarshalText(b []byte) error {
	v, err := ParseAlgorithm(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

func (a Algorithm) hash() func() hash.Hash {
	switch a {
	case SHA256:
		return sha256.New
	case SHA512:
		return sha512.New
	}
	return sha1.New
}

// Limits on the parameters of a code.
const (
	MinDigits = 6
	MaxDigits = 8
	MinPeriod = 15
	MaxPeriod = 120
)

// Params are the parameters of a TOTP code besides the secret.
type Params struct {
	Algorithm Algorithm `json:"algorithm"`
	Digits    int       `json:"digits"`
	Period    int       `json:"period"` // the time step, in seconds
}

// DefaultParams are the parameters every authenticator app understands:
// SHA1, 6 digits, 30 seconds.
var DefaultParams = Params{Algorithm: SHA1, Digits: 6, Period: 30}

// Validate reports whether p is within the supported limits.
func (p Params) Validate() error {
	if p.Algorithm < SHA1 || p.Algorithm > SHA512 {
		return fmt.Errorf("otp: invalid algorithm %d", int(p.Algorithm))
	}
	if p.Digits < MinDigits || p.Digits > MaxDigits {
		return fmt.Errorf("otp: %d digits: want %d to %d", p.Digits, MinDigits, MaxDigits)
	}
	if p.Period < MinPeriod || p.Period > MaxPeriod {
		return fmt.Errorf("otp: time step of %d seconds: want %d to %d", p.Period, MinPeriod, MaxPeriod)
	}
	return nil
}

var pow10 = [...]uint32{1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000}

// HOTP returns the code for counter, as in RFC 4226, section 5.3: the HMAC
// of the big-endian counter, dynamically truncated to 31 bits, modulo
// 10^digits, written with leading zeros. digits must be 1 to 8.
func HOTP(secret []byte, counter uint64, alg Algorithm, digits int) string {
	if digits < 1 || digits >= len(pow10) {
		panic("otp: digits out of range")
	}
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	mac := hmac.New(alg.hash(), secret)
	mac.Write(msg[:])
	sum := mac.Sum(nil)

	offset := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[offset:]) & 0x7fffffff
	code := bin % pow10[digits]

	var buf [8]byte
	for i := digits - 1; i >= 0; i-- {
		buf[i] = byte('0' + code%10)
		code /= 10
	}
	return string(buf[:digits])
}

// TimeStep returns the RFC 6238 counter for t: the number of whole periods
// since the Unix epoch, as a 64-bit count (section 4.2), so it is right long
// after 2038. Times before the epoch give step 0.
func TimeStep(t time.Time, period int) uint64 {
	if period <= 0 {
		panic("otp: non-positive period")
	}
	sec := t.Unix()
	if sec < 0 {
		return 0
	}
	return uint64(sec) / uint64(period)
}

// TOTP returns the code for time t.
func TOTP(secret []byte, t time.Time, p Params) string {
	return HOTP(secret, TimeStep(t, p.Period), p.Algorithm, p.Digits)
}

// Equal reports whether two codes are the same, in time that depends only on
// their lengths.
func Equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// ErrNotACode is returned by [NormalizeCode] for input that is not a code of
// the expected length.
var ErrNotACode = errors.New("otp: not a code")

// NormalizeCode trims white space from what a user typed and removes spaces
// and hyphens inside ("123 456"). It returns the digits if exactly digits of
// them remain, and ErrNotACode otherwise, or for input over 16 bytes.
func NormalizeCode(input string, digits int) (string, error) {
	s := strings.TrimSpace(input)
	if len(s) > 2*MaxDigits {
		return "", ErrNotACode
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			b.WriteByte(c)
		case c == ' ' || c == '-':
		default:
			return "", ErrNotACode
		}
	}
	if b.Len() != digits {
		return "", ErrNotACode
	}
	return b.String(), nil
}
