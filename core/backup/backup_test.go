package backup_test

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"testing/iotest"

	"golang.org/x/crypto/argon2"

	"github.com/pam-totp/pam-totp/core/backup"
	"github.com/pam-totp/pam-totp/core/otp"
)

// codeShape is a formatted backup code: three groups of four characters
// from the alphabet, which has no 0, 1, i, l or o.
var codeShape = regexp.MustCompile(`^[2-9a-hjkmnp-z]{4}-[2-9a-hjkmnp-z]{4}-[2-9a-hjkmnp-z]{4}$`)

// seeded returns a deterministic source of random bytes.
func seeded(seed string) io.Reader {
	var s [32]byte
	copy(s[:], seed)
	return rand.NewChaCha8(s)
}

// generate calls Generate and fails the test on an error.
func generate(t testing.TB, seed string, n int) ([]string, []backup.Hash) {
	t.Helper()
	codes, hashes, err := backup.Generate(seeded(seed), n)
	if err != nil {
		t.Fatalf("Generate(%d): %v", n, err)
	}
	if len(codes) != n || len(hashes) != n {
		t.Fatalf("Generate(%d) = %d codes and %d hashes", n, len(codes), len(hashes))
	}
	return codes, hashes
}

// normalize calls Normalize and fails the test on an error.
func normalize(t testing.TB, s string) string {
	t.Helper()
	code, err := backup.Normalize(s)
	if err != nil {
		t.Fatalf("Normalize(%q): %v", s, err)
	}
	return code
}

func TestGenerate(t *testing.T) {
	codes, hashes := generate(t, "generate", 10)
	seen := map[string]bool{}
	for i, c := range codes {
		if !codeShape.MatchString(c) {
			t.Errorf("code %d is %q, want the shape xxxx-xxxx-xxxx from the alphabet", i, c)
		}
		if seen[c] {
			t.Errorf("code %q was given twice", c)
		}
		seen[c] = true

		norm := strings.ReplaceAll(c, "-", "")
		forms := []string{
			c, norm, strings.ToUpper(c), strings.ReplaceAll(c, "-", " "),
			"  " + strings.ToUpper(norm[:6]) + " " + norm[6:] + "\n",
		}
		for _, form := range forms {
			if got := normalize(t, form); got != norm {
				t.Errorf("Normalize(%q) = %q, want %q", form, got, norm)
			}
		}
		if got := backup.Match(hashes, norm); got != i {
			t.Errorf("Match(code %d) = %d, want %d", i, got, i)
		}
	}
}

// TestHashIsArgon2id recomputes each stored hash with x/crypto's Argon2id
// and the parameters the hash records, and checks what it keeps.
func TestHashIsArgon2id(t *testing.T) {
	codes, hashes := generate(t, "argon2id", 5)
	salts, sums := map[string]bool{}, map[string]bool{}
	for i, h := range hashes {
		norm := normalize(t, codes[i])
		if h.Time != 1 || h.Memory != 4096 || h.Threads != 1 || len(h.Salt) != 16 || len(h.Sum) != 32 {
			t.Errorf("hash %d has t=%d m=%d p=%d, %d-byte salt, %d-byte sum; "+
				"want t=1 m=4096 p=1, 16 and 32 bytes", i, h.Time, h.Memory, h.Threads, len(h.Salt), len(h.Sum))
		}
		want := argon2.IDKey([]byte(norm), h.Salt, h.Time, h.Memory, h.Threads, 32)
		if !bytes.Equal(h.Sum, want) {
			t.Errorf("hash %d: sum %x is not Argon2id of the code under its salt (%x)", i, h.Sum, want)
		}
		if salts[string(h.Salt)] || sums[string(h.Sum)] {
			t.Errorf("hash %d repeats a salt or a sum", i)
		}
		salts[string(h.Salt)], sums[string(h.Sum)] = true, true

		for _, form := range []string{norm, codes[i], strings.ToUpper(norm)} {
			if bytes.Contains(h.Sum, []byte(form)) || bytes.Contains(h.Salt, []byte(form)) {
				t.Errorf("hash %d contains its code %q", i, form)
			}
		}
	}
}

func TestGenerateUsesReader(t *testing.T) {
	a, _ := generate(t, "same", 3)
	b, _ := generate(t, "same", 3)
	c, _ := generate(t, "other", 3)
	for i := range a {
		if a[i] != b[i] {
			t.Errorf("code %d from the same seed differs: %q and %q", i, a[i], b[i])
		}
		if a[i] == c[i] {
			t.Errorf("code %d is %q from two seeds", i, a[i])
		}
	}
}

func TestGenerateReaderFails(t *testing.T) {
	broken := errors.New("entropy source unavailable")
	tests := []struct {
		name string
		r    io.Reader
		want error
	}{
		{"error", iotest.ErrReader(broken), broken},
		{"empty", bytes.NewReader(nil), io.EOF},
		// Enough bytes for the code's characters, not for its salt.
		{"short", io.LimitReader(seeded("short"), 30), io.ErrUnexpectedEOF},
		// Enough for the first code and its salt only.
		{"second code", io.LimitReader(seeded("short"), 50), io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		codes, hashes, err := backup.Generate(tt.r, 2)
		if !errors.Is(err, tt.want) || codes != nil || hashes != nil {
			t.Errorf("%s reader: Generate = %q, %d hashes, %v; want no codes and an error wrapping %v",
				tt.name, codes, len(hashes), err, tt.want)
		}
	}
}

func TestGenerateNone(t *testing.T) {
	codes, hashes, err := backup.Generate(iotest.ErrReader(io.ErrClosedPipe), 0)
	if err != nil || len(codes) != 0 || len(hashes) != 0 {
		t.Errorf("Generate(0) = %q, %d hashes, %v; want nothing", codes, len(hashes), err)
	}
}

// TestNotTOTPCodes checks that a backup code and a TOTP code can never be
// taken for each other, whatever the number of digits.
func TestNotTOTPCodes(t *testing.T) {
	codes, _ := generate(t, "totp", 10)
	for _, c := range codes {
		forms := []string{c, strings.ReplaceAll(c, "-", ""), strings.ReplaceAll(c, "-", " ")}
		for _, form := range forms {
			for digits := otp.MinDigits; digits <= otp.MaxDigits; digits++ {
				if got, err := otp.NormalizeCode(form, digits); err == nil {
					t.Errorf("backup code %q reads as the %d-digit TOTP code %q", form, digits, got)
				}
			}
		}
	}
	totps := []string{"123456", "1234567", "12345678", "234 567", "2345-6789", "98765432"}
	for _, totp := range totps {
		if got, err := backup.Normalize(totp); err == nil {
			t.Errorf("TOTP code %q reads as the backup code %q", totp, got)
		}
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"k7mq29xdhpe4", "k7mq29xdhpe4"},
		{"k7mq-29xd-hpe4", "k7mq29xdhpe4"},
		{"K7MQ-29XD-HPE4", "k7mq29xdhpe4"},
		{"K7mq 29Xd hpE4", "k7mq29xdhpe4"},
		{"  k7mq29xd-hpe4\n", "k7mq29xdhpe4"},
		{"k-7-m-q-2-9-x-d-h-p-e-4", "k7mq29xdhpe4"},
		{"23456789abcd", "23456789abcd"},
		{"efghjkmnpqrs", "efghjkmnpqrs"},
		{"tuvwxyz23456", "tuvwxyz23456"},
	}
	for _, tt := range tests {
		got, err := backup.Normalize(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("Normalize(%q) = %q, %v, want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestNormalizeRefuses(t *testing.T) {
	for _, in := range []string{
		"",
		"   ",
		"k7mq-29xd-hpe",
		"k7mq-29xd-hpe44",
		"k7mq29xdhpe",
		"k7mq29xdhpe4k",
		"07mq-29xd-hpe4", // zero
		"17mq-29xd-hpe4", // one
		"i7mq-29xd-hpe4",
		"l7mq-29xd-hpe4",
		"o7mq-29xd-hpe4",
		"O7MQ-29XD-HPE4",
		"k7mq_29xd_hpe4",
		"k7mq.29xd.hpe4",
		"k7mq\t29xd\thpe4",
		"k7mq-29xd-hpé4",
		"ｋ7mq-29xd-hpe4",
		"k7mq-29xd-hpe4\x00",
		"k" + strings.Repeat(" ", 30) + "7mq29xdhpe4",
		strings.Repeat("k7mq", 1000),
	} {
		got, err := backup.Normalize(in)
		if !errors.Is(err, backup.ErrNotABackupCode) || got != "" {
			t.Errorf("Normalize(%q) = %q, %v, want ErrNotABackupCode", in, got, err)
		}
	}
}

func TestFormat(t *testing.T) {
	tests := []struct{ in, want string }{
		{"k7mq29xdhpe4", "k7mq-29xd-hpe4"},
		{"k7mq29", "k7mq-29"},
		{"k7mq", "k7mq"},
		{"k7", "k7"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := backup.Format(tt.in); got != tt.want {
			t.Errorf("Format(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMatchWrongCode(t *testing.T) {
	codes, hashes := generate(t, "wrong", 3)
	others, _ := generate(t, "elsewhere", 3)
	for _, c := range others {
		if got := backup.Match(hashes, normalize(t, c)); got != -1 {
			t.Errorf("Match(%q, a code from another set) = %d, want -1", c, got)
		}
	}

	// One character changed, in each position.
	norm := normalize(t, codes[1])
	for i := range norm {
		wrong := []byte(norm)
		wrong[i] = map[bool]byte{true: 'a', false: 'b'}[wrong[i] != 'a']
		if got := backup.Match(hashes, string(wrong)); got != -1 {
			t.Errorf("Match(%q, off by one character from %q) = %d, want -1", wrong, norm, got)
		}
	}

	if got := backup.Match(hashes, codes[1]); got != -1 {
		t.Errorf("Match(%q, not normalized) = %d, want -1", codes[1], got)
	}
	if got := backup.Match(nil, norm); got != -1 {
		t.Errorf("Match(no hashes) = %d, want -1", got)
	}
}

// TestMatchTampered checks that changing any part of a stored hash stops
// its code from matching, and does not disturb the others.
func TestMatchTampered(t *testing.T) {
	codes, hashes := generate(t, "tamper", 3)
	tamper := map[string]func(h *backup.Hash){
		"sum bit":        func(h *backup.Hash) { h.Sum[31] ^= 1 },
		"sum cut":        func(h *backup.Hash) { h.Sum = h.Sum[:16] },
		"sum empty":      func(h *backup.Hash) { h.Sum = nil },
		"salt bit":       func(h *backup.Hash) { h.Salt[0] ^= 0x80 },
		"salt cut":       func(h *backup.Hash) { h.Salt = h.Salt[:15] },
		"salt empty":     func(h *backup.Hash) { h.Salt = nil },
		"time":           func(h *backup.Hash) { h.Time = 2 },
		"time zero":      func(h *backup.Hash) { h.Time = 0 },
		"memory":         func(h *backup.Hash) { h.Memory = 8192 },
		"threads":        func(h *backup.Hash) { h.Threads = 2 },
		"threads zero":   func(h *backup.Hash) { h.Threads = 0 },
		"all zero value": func(h *backup.Hash) { *h = backup.Hash{} },
	}
	for name, change := range tamper {
		stored := make([]backup.Hash, len(hashes))
		for i, h := range hashes {
			h.Salt = bytes.Clone(h.Salt)
			h.Sum = bytes.Clone(h.Sum)
			stored[i] = h
		}
		change(&stored[1])
		for i, c := range codes {
			want := i
			if i == 1 {
				want = -1
			}
			if got := backup.Match(stored, normalize(t, c)); got != want {
				t.Errorf("%s changed in hash 1: Match(code %d) = %d, want %d", name, i, got, want)
			}
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"k7mq-29xd-hpe4", "K7MQ 29XD HPE4", "k7mq29xdhpe4", " k7mq29xdhpe4\n", "k7mq-29xd-hpe",
		"o7mq-29xd-hpe4", "123456", "12345678", "2345-6789-2345", "", "-", "ｋ7mq-29xd-hpe4",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		for digits := otp.MinDigits; digits <= otp.MaxDigits; digits++ {
			if _, err := otp.NormalizeCode(in, digits); err == nil {
				if got, err := backup.Normalize(in); err == nil {
					t.Fatalf("%q is both a %d-digit TOTP code and the backup code %q", in, digits, got)
				}
			}
		}

		code, err := backup.Normalize(in)
		if err != nil {
			if !errors.Is(err, backup.ErrNotABackupCode) || code != "" {
				t.Fatalf("Normalize(%q) = %q, %v, want ErrNotABackupCode", in, code, err)
			}
			return
		}
		if len(code) != backup.Length || strings.Trim(code, "23456789abcdefghjkmnpqrstuvwxyz") != "" {
			t.Fatalf("Normalize(%q) = %q, not %d characters of the alphabet", in, code, backup.Length)
		}
		typed := strings.NewReplacer(" ", "", "-", "").Replace(strings.ToLower(strings.TrimSpace(in)))
		if typed != code {
			t.Fatalf("Normalize(%q) = %q, want %q", in, code, typed)
		}
		formatted := backup.Format(code)
		if !codeShape.MatchString(formatted) {
			t.Fatalf("Format(%q) = %q, not the shape of a backup code", code, formatted)
		}
		for _, again := range []string{code, formatted, strings.ToUpper(formatted)} {
			if got, err := backup.Normalize(again); err != nil || got != code {
				t.Fatalf("Normalize(%q) = %q, %v, want %q", again, got, err, code)
			}
		}
	})
}

// BenchmarkMatch measures a wrong code against a user's ten backup codes:
// every hash is derived, as for any code.
func BenchmarkMatch(b *testing.B) {
	_, hashes := generate(b, "bench", 10)
	wrong := normalize(b, "k7mq-29xd-hpe4")
	for b.Loop() {
		if backup.Match(hashes, wrong) != -1 {
			b.Fatal("a made-up code matched")
		}
	}
}
