package otp_test

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pam-totp/pam-totp/core/otp"
)

// mustPanic fails the test unless f panics.
func mustPanic(t *testing.T, name string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s did not panic", name)
		}
	}()
	f()
}

func TestTimeStep(t *testing.T) {
	tests := []struct {
		name   string
		at     time.Time
		period int
		want   uint64
	}{
		{"epoch", time.Unix(0, 0), 30, 0},
		{"end of the first step", time.Unix(29, 999999999), 30, 0},
		{"start of the second step", time.Unix(30, 0), 30, 1},
		{"last second before 2038", time.Unix(1<<31-1, 0), 30, 71582788},
		{"first second after 2038", time.Unix(1<<31, 0), 30, 71582788},
		{"2^32 seconds", time.Unix(1<<32, 0), 30, 143165576},
		{"step count past 32 bits", time.Unix(1<<32, 0), 1, 1 << 32},
		{"2^40 seconds", time.Unix(1<<40, 0), 15, 73300775185},
		{"2^62 seconds", time.Unix(1<<62, 0), 120, 38430716820228232},
		{"time zone does not matter", time.Unix(1<<31, 0).In(time.FixedZone("X", -11*3600)),
			30, 71582788},
		{"one second before the epoch", time.Unix(-1, 0), 30, 0},
		{"zero time", time.Time{}, 30, 0},
	}
	for _, tt := range tests {
		if got := otp.TimeStep(tt.at, tt.period); got != tt.want {
			t.Errorf("%s: TimeStep(%d s, %d) = %d, want %d", tt.name, tt.at.Unix(), tt.period, got, tt.want)
		}
	}
}

func TestTimeStepBadPeriod(t *testing.T) {
	for _, period := range []int{0, -30} {
		mustPanic(t, "TimeStep with a period of "+strconv.Itoa(period), func() {
			otp.TimeStep(time.Unix(59, 0), period)
		})
	}
}

func TestHOTPBadDigits(t *testing.T) {
	secret := []byte("12345678901234567890")
	for _, digits := range []int{-1, 0, 9, 10} {
		mustPanic(t, "HOTP with "+strconv.Itoa(digits)+" digits", func() {
			otp.HOTP(secret, 0, otp.SHA1, digits)
		})
	}
}

// TestTOTPLeadingZeros checks that a code keeps its leading zeros: RFC 6238
// has one at 1111111109 s.
func TestTOTPLeadingZeros(t *testing.T) {
	secret := []byte("12345678901234567890")
	at := time.Unix(1111111109, 0)
	for _, tt := range []struct {
		digits int
		want   string
	}{{8, "07081804"}, {7, "7081804"}, {6, "081804"}} {
		p := otp.Params{Algorithm: otp.SHA1, Digits: tt.digits, Period: 30}
		if got := otp.TOTP(secret, at, p); got != tt.want {
			t.Errorf("TOTP(%d digits) = %q, want %q", tt.digits, got, tt.want)
		}
	}
}

func TestParamsValidate(t *testing.T) {
	tests := []struct {
		p       otp.Params
		wantErr string // empty if valid
	}{
		{otp.DefaultParams, ""},
		{otp.Params{Algorithm: otp.SHA256, Digits: 7, Period: 60}, ""},
		{otp.Params{Algorithm: otp.SHA512, Digits: 8, Period: 120}, ""},
		{otp.Params{Algorithm: otp.SHA1, Digits: 6, Period: 15}, ""},
		{otp.Params{}, "0 digits: want 6 to 8"},
		{otp.Params{Digits: 5, Period: 30}, "5 digits: want 6 to 8"},
		{otp.Params{Digits: 9, Period: 30}, "9 digits: want 6 to 8"},
		{otp.Params{Digits: 6, Period: 14}, "time step of 14 seconds: want 15 to 120"},
		{otp.Params{Digits: 6, Period: 121}, "time step of 121 seconds: want 15 to 120"},
		{otp.Params{Digits: 6, Period: 0}, "time step of 0 seconds"},
		{otp.Params{Digits: 6, Period: -30}, "time step of -30 seconds"},
		{otp.Params{Algorithm: 3, Digits: 6, Period: 30}, "invalid algorithm 3"},
		{otp.Params{Algorithm: -1, Digits: 6, Period: 30}, "invalid algorithm -1"},
	}
	for _, tt := range tests {
		err := tt.p.Validate()
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%+v: Validate() = %v, want nil", tt.p, err)
		case tt.wantErr != "" && err == nil:
			t.Errorf("%+v: Validate() = nil, want an error containing %q", tt.p, tt.wantErr)
		case err != nil && !strings.Contains(err.Error(), tt.wantErr):
			t.Errorf("%+v: Validate() = %q, want it to contain %q", tt.p, err, tt.wantErr)
		}
	}
}

func TestParseAlgorithm(t *testing.T) {
	tests := []struct {
		in   string
		want otp.Algorithm
		ok   bool
	}{
		{"SHA1", otp.SHA1, true},
		{"sha1", otp.SHA1, true},
		{"SHA-1", otp.SHA1, true},
		{"SHA256", otp.SHA256, true},
		{"sha-256", otp.SHA256, true},
		{"Sha256", otp.SHA256, true},
		{"SHA512", otp.SHA512, true},
		{"sha-512", otp.SHA512, true},
		{"", 0, false},
		{"MD5", 0, false},
		{"SHA384", 0, false},
		{"SHA 256", 0, false},
		{"SHA256 ", 0, false},
		{"1", 0, false},
	}
	for _, tt := range tests {
		got, err := otp.ParseAlgorithm(tt.in)
		if !tt.ok {
			if err == nil {
				t.Errorf("ParseAlgorithm(%q) = %v, want an error", tt.in, got)
			} else if msg := err.Error(); !strings.Contains(msg, "SHA1, SHA256 or SHA512") ||
				!strings.Contains(msg, `"`+tt.in+`"`) {
				t.Errorf("ParseAlgorithm(%q) error %q should quote the input and list the choices", tt.in, msg)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseAlgorithm(%q) = %v, %v, want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestAlgorithmText(t *testing.T) {
	for _, a := range []otp.Algorithm{otp.SHA1, otp.SHA256, otp.SHA512} {
		text, err := a.MarshalText()
		if err != nil || string(text) != a.String() {
			t.Errorf("%v.MarshalText() = %q, %v, want %q", a, text, err, a.String())
		}
		var back otp.Algorithm = -1
		if err := back.UnmarshalText(text); err != nil || back != a {
			t.Errorf("UnmarshalText(%q) = %v, %v, want %v", text, back, err, a)
		}
	}
	if got, want := otp.Algorithm(7).String(), "Algorithm(7)"; got != want {
		t.Errorf("Algorithm(7).String() = %q, want %q", got, want)
	}
	if _, err := otp.Algorithm(7).MarshalText(); err == nil {
		t.Error("Algorithm(7).MarshalText() succeeded, want an error")
	}
	a := otp.SHA512
	if err := a.UnmarshalText([]byte("MD5")); err == nil || a != otp.SHA512 {
		t.Errorf("UnmarshalText(MD5) = %v and left %v, want an error and SHA512 unchanged", err, a)
	}
}

// TestParamsJSON checks the form that state files keep.
func TestParamsJSON(t *testing.T) {
	p := otp.Params{Algorithm: otp.SHA256, Digits: 8, Period: 60}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"algorithm":"SHA256","digits":8,"period":60}`; got != want {
		t.Errorf("json.Marshal = %s, want %s", got, want)
	}
	var back otp.Params
	if err := json.Unmarshal(b, &back); err != nil || back != p {
		t.Errorf("json.Unmarshal = %+v, %v, want %+v", back, err, p)
	}
	if err := json.Unmarshal([]byte(`{"algorithm":"MD5"}`), &back); err == nil {
		t.Error("json.Unmarshal accepted algorithm MD5")
	}
}

func TestEqual(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"123456", "123456", true},
		{"123456", "123457", false},
		{"123456", "923456", false},
		{"123456", "1234567", false},
		{"12345678", "123456", false},
		{"123456", "", false},
		{"", "", true},
	}
	for _, tt := range tests {
		if got := otp.Equal(tt.a, tt.b); got != tt.want {
			t.Errorf("Equal(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestNormalizeCode(t *testing.T) {
	tests := []struct {
		in     string
		digits int
		want   string // empty: ErrNotACode
	}{
		{"123456", 6, "123456"},
		{"012345", 6, "012345"},
		{" 123456\n", 6, "123456"},
		{"\t123456 \r\n", 6, "123456"},
		{"123 456", 6, "123456"},
		{"123-456", 6, "123456"},
		{"12 34 56", 6, "123456"},
		{"1234567", 7, "1234567"},
		{"1234 5678", 8, "12345678"},
		{"0000-0000", 8, "00000000"},
		{"", 6, ""},
		{"   ", 6, ""},
		{"-", 6, ""},
		{"12345", 6, ""},
		{"1234567", 6, ""},
		{"123456", 8, ""},
		{"12345a", 6, ""},
		{"abcdef", 6, ""},
		{"123.456", 6, ""},
		{"123_456", 6, ""},
		{"+123456", 6, ""},
		{"123\t456", 6, ""},
		{"１２３４５６", 6, ""},
		{"123456\x00", 6, ""},
		{"k7mq-29xd-hpe4", 6, ""},
		{"1 2 3 4 5 6 7 8 9 0", 6, ""},
		{"123456" + strings.Repeat(" ", 20) + "x", 6, ""},
		{"123" + strings.Repeat("-", 20) + "456", 6, ""},
		{strings.Repeat("1", 1000), 6, ""},
	}
	for _, tt := range tests {
		got, err := otp.NormalizeCode(tt.in, tt.digits)
		if tt.want == "" {
			if !errors.Is(err, otp.ErrNotACode) {
				t.Errorf("NormalizeCode(%q, %d) = %q, %v, want ErrNotACode", tt.in, tt.digits, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizeCode(%q, %d) = %q, %v, want %q", tt.in, tt.digits, got, err, tt.want)
		}
	}
}
