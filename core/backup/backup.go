// Package backup makes and checks backup codes: single-use look-up secrets
// that let a user in when the authenticator app is lost.
//
// A backup code is 12 characters from a 31-letter alphabet without the
// look-alikes 0, 1, i, l and o (about 59 bits), shown in groups of four as
// "k7mq-29xd-hpe4". It can never be mistaken for a TOTP code, which is 6 to
// 8 digits. Only a salted Argon2id hash of each code is kept (NIST SP
// 800-63B, section 5.1.2.2), and a code is removed from the set once used.
package backup

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/crypto/argon2"
)

const (
	alphabet = "23456789abcdefghjkmnpqrstuvwxyz"
	// Length is the number of characters in a backup code.
	Length = 12
	group  = 4
)

// Argon2id parameters for new hashes. Each hash records its own, so they
// can change without invalidating codes already issued.
const (
	argonTime    = 1
	argonMemory  = 4 * 1024 // KiB
	argonThreads = 1
	saltSize     = 16
	sumSize      = 32
)

// Hash is the stored form of one backup code.
type Hash struct {
	Time    uint32 // Argon2id passes
	Memory  uint32 // in KiB
	Threads uint8
	Salt    []byte
	Sum     []byte
}

// Generate returns n new codes, formatted for display, and their hashes.
func Generate(rand io.Reader, n int) (codes []string, hashes []Hash, err error) {
	for range n {
		code, err := newCode(rand)
		if err != nil {
			return nil, nil, err
		}
		h, err := hash(rand, code)
		if err != nil {
			return nil, nil, err
		}
		codes = append(codes, Format(code))
		hashes = append(hashes, h)
	}
	return codes, hashes, nil
}

func newCode(rand io.Reader) (string, error) {
	// Rejection sampling keeps every character equally likely.
	const limit = 256 - 256%len(alphabet)
	out := make([]byte, 0, Length)
	buf := make([]byte, 2*Length)
	for len(out) < Length {
		if _, err := io.ReadFull(rand, buf); err != nil {
			return "", fmt.Errorf("backup: reading random bytes: %w", err)
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < Length {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out), nil
}

func hash(rand io.Reader, code string) (Hash, error) {
	h := Hash{Time: argonTime, Memory: argonMemory, Threads: argonThreads}
	h.Salt = make([]byte, saltSize)
	if _, err := io.ReadFull(rand, h.Salt); err != nil {
		return Hash{}, fmt.Errorf("backup: reading random bytes: %w", err)
	}
	h.Sum = h.derive(code)
	return h, nil
}

func (h Hash) derive(code string) []byte {
	return argon2.IDKey([]byte(code), h.Salt, h.Time, h.Memory, h.Threads, sumSize)
}

// Format groups a normalized code for display.
func Format(code string) string {
	var parts []string
	for i := 0; i < len(code); i += group {
		parts = append(parts, code[i:min(i+group, len(code))])
	}
	return strings.Join(parts, "-")
}

// ErrNotABackupCode is returned by [Normalize] for input that is not shaped
// like a backup code.
var ErrNotABackupCode = errors.New("backup: not a backup code")

// Normalize returns the canonical form of what a user typed: lower case,
// without spaces or hyphens. It returns ErrNotABackupCode unless exactly
// Length characters of the alphabet remain.
func Normalize(input string) (string, error) {
	s := strings.TrimSpace(input)
	if len(s) > 2*Length {
		return "", ErrNotABackupCode
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' || c == '-' {
			continue
		}
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if strings.IndexByte(alphabet, c) < 0 {
			return "", ErrNotABackupCode
		}
		b.WriteByte(c)
	}
	if b.Len() != Length {
		return "", ErrNotABackupCode
	}
	return b.String(), nil
}

// Bounds on the parameters a stored hash may ask for, so that no state
// file, however it was made, can make a login spend unbounded memory or time.
const (
	maxTime   = 16
	maxMemory = 256 * 1024 // KiB
)

func (h Hash) sane() bool {
	return h.Time > 0 && h.Time <= maxTime && h.Memory >= 8*uint32(max(h.Threads, 1)) &&
		h.Memory <= maxMemory && h.Threads > 0 && len(h.Salt) > 0
}

// Match returns the index in hashes of the hash of code, a normalized code,
// or -1. Hashes whose parameters are out of bounds never match. It derives
// the code's hash under every salt, so it takes the same time whether or
// not and wherever a code matches.
func Match(hashes []Hash, code string) int {
	found := -1
	for i, h := range hashes {
		if !h.sane() {
			continue
		}
		if subtle.ConstantTimeCompare(h.derive(code), h.Sum) == 1 {
			found = i
		}
	}
	return found
}

// HashCode returns the stored form of one normalized code. It is used to
// take over codes issued by another tool.
func HashCode(rand io.Reader, code string) (Hash, error) {
	return hash(rand, code)
}
