package otp_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	mrand "math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/pam-totp/pam-totp/core/otp"
)

// countingReader yields the bytes 0, 1, 2, ... so a test can tell exactly
// which bytes a function took from it.
type countingReader struct{ next byte }

func (r *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = r.next
		r.next++
	}
	return len(p), nil
}

func TestGenerateSecretUsesReader(t *testing.T) {
	r := &countingReader{}
	var start byte
	for _, size := range []int{otp.MinSecretSize, otp.DefaultSecretSize, otp.MaxSecretSize} {
		got, err := otp.GenerateSecret(r, size)
		if err != nil {
			t.Fatalf("GenerateSecret(%d): %v", size, err)
		}
		want := make([]byte, size)
		for i := range want {
			want[i] = start + byte(i)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("GenerateSecret(%d) = %x, want the reader's next bytes %x", size, got, want)
		}
		start += byte(size)
	}
}

func TestGenerateSecretSize(t *testing.T) {
	for _, size := range []int{-1, 0, 10, otp.MinSecretSize - 1, otp.MaxSecretSize + 1, 1 << 20} {
		got, err := otp.GenerateSecret(&countingReader{}, size)
		if err == nil {
			t.Errorf("GenerateSecret(%d) = %d bytes, want an error", size, len(got))
			continue
		}
		if !strings.Contains(err.Error(), "want 16 to 64") {
			t.Errorf("GenerateSecret(%d) error %q should give the limits", size, err)
		}
	}
}

func TestGenerateSecretReaderFails(t *testing.T) {
	broken := errors.New("entropy source unavailable")
	tests := []struct {
		name string
		r    io.Reader
		want error
	}{
		{"error", iotest.ErrReader(broken), broken},
		{"short", bytes.NewReader(make([]byte, 19)), io.ErrUnexpectedEOF},
		{"empty", bytes.NewReader(nil), io.EOF},
	}
	for _, tt := range tests {
		got, err := otp.GenerateSecret(tt.r, 20)
		if !errors.Is(err, tt.want) || got != nil {
			t.Errorf("%s reader: GenerateSecret = %x, %v, want nil and an error wrapping %v",
				tt.name, got, err, tt.want)
		}
	}
}

func TestGenerateSecretCryptoRand(t *testing.T) {
	a, err := otp.GenerateSecret(rand.Reader, otp.DefaultSecretSize)
	if err != nil {
		t.Fatal(err)
	}
	b, err := otp.GenerateSecret(rand.Reader, otp.DefaultSecretSize)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, b) {
		t.Errorf("two 160-bit secrets from crypto/rand are equal: %x", a)
	}
}

// TestEncodeSecret uses the base32 vectors of RFC 4648, section 10, without
// their padding.
func TestEncodeSecret(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"f", "MY"},
		{"fo", "MZXQ"},
		{"foo", "MZXW6"},
		{"foob", "MZXW6YQ"},
		{"fooba", "MZXW6YTB"},
		{"foobar", "MZXW6YTBOI"},
		{"12345678901234567890", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"},
	}
	for _, tt := range tests {
		if got := otp.EncodeSecret([]byte(tt.in)); got != tt.want {
			t.Errorf("EncodeSecret(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDecodeSecret(t *testing.T) {
	rfc := "12345678901234567890"
	tests := []struct{ in, want string }{
		{"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", rfc},
		{"gezdgnbvgy3tqojqgezdgnbvgy3tqojq", rfc},
		{"gezd gnbv gy3t qojq gezd gnbv gy3t qojq", rfc},
		{"GEZD-GNBV-GY3T-QOJQ-GEZD-GNBV-GY3T-QOJQ", rfc},
		{"  GEZDgnbvGY3T\tqojq GEZD-gnbv GY3T QOJQ\t", rfc},
		{"MY", "f"},
		{"MY======", "f"},
		{"mzxq====", "fo"},
		{"MZXW6", "foo"},
		{"MZXW6===", "foo"},
		{"mzxw6yq", "foob"},
		{"MZXW6YQ=", "foob"},
		{"MZXW6YTB", "fooba"},
		{"MZXW 6YTB OI", "foobar"},
	}
	for _, tt := range tests {
		got, err := otp.DecodeSecret(tt.in)
		if err != nil || string(got) != tt.want {
			t.Errorf("DecodeSecret(%q) = %q, %v, want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestDecodeSecretErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "secret is empty"},
		{"   ", "secret is empty"},
		{"-- --", "secret is empty"},
		{"========", "secret is empty"},
		{"GEZDGNB1", `'1' is not a base32 character`},
		{"GEZDGNB0", `'0' is not a base32 character`},
		{"GEZDGNB8", `'8' is not a base32 character`},
		{"GEZD.GNBV", `'.' is not a base32 character`},
		{"GEZD_GNBV", `'_' is not a base32 character`},
		{"GEZD\nGNBV", `'\n' is not a base32 character`},
		{"GEZDGNBÉ", `'É' is not a base32 character`},
		{"GEZDGNB\xff", `'�' is not a base32 character`},
		{"A", "1 characters is not a valid base32 length"},
		{"AAA", "3 characters is not a valid base32 length"},
		{"AAAAAA", "6 characters is not a valid base32 length"},
		{"MZXW6YTBO", "9 characters is not a valid base32 length"},
		{otp.EncodeSecret(make([]byte, otp.MaxSecretSize+1)), "longer than 64 bytes"},
		{otp.EncodeSecret(make([]byte, 1000)), "longer than 64 bytes"},
	}
	for _, tt := range tests {
		got, err := otp.DecodeSecret(tt.in)
		if err == nil {
			t.Errorf("DecodeSecret(%q) = %x, want an error containing %q", tt.in, got, tt.want)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("DecodeSecret(%q) error = %q, want it to contain %q", tt.in, err, tt.want)
		}
	}
}

// TestSecretRoundTrip checks every secret size up to the largest, as encoded
// and as a person might copy it.
func TestSecretRoundTrip(t *testing.T) {
	rng := mrand.NewChaCha8([32]byte{'s', 'e', 'c', 'r', 'e', 't'})
	for size := 1; size <= otp.MaxSecretSize; size++ {
		secret := make([]byte, size)
		rng.Read(secret)
		enc := otp.EncodeSecret(secret)
		if strings.ContainsAny(enc, "=abcdefghijklmnopqrstuvwxyz") {
			t.Errorf("EncodeSecret(%x) = %q, want upper case without padding", secret, enc)
		}
		for _, form := range []string{enc, strings.ToLower(enc), group(enc, " "), group(enc, "-")} {
			got, err := otp.DecodeSecret(form)
			if err != nil || !bytes.Equal(got, secret) {
				t.Errorf("DecodeSecret(%q) = %x, %v, want %x", form, got, err, secret)
			}
		}
	}
}

// group splits s into groups of four joined by sep, as apps display secrets.
func group(s, sep string) string {
	var parts []string
	for len(s) > 4 {
		parts = append(parts, s[:4])
		s = s[4:]
	}
	return strings.Join(append(parts, s), sep)
}

func TestCheckStrength(t *testing.T) {
	tests := []struct {
		size     int
		wantBits string // empty if strong enough
	}{
		{0, "0 bits"},
		{10, "80 bits"},
		{15, "120 bits"},
		{16, ""},
		{20, ""},
		{64, ""},
	}
	for _, tt := range tests {
		err := otp.CheckStrength(make([]byte, tt.size))
		if tt.wantBits == "" {
			if err != nil {
				t.Errorf("CheckStrength(%d bytes) = %v, want nil", tt.size, err)
			}
			continue
		}
		if !errors.Is(err, otp.ErrShortSecret) || !strings.Contains(err.Error(), tt.wantBits) {
			t.Errorf("CheckStrength(%d bytes) = %v, want ErrShortSecret saying %q",
				tt.size, err, tt.wantBits)
		}
	}
}
