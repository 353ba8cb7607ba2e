package otp_test

import (
	"testing"
	"time"

	"github.com/pam-totp/pam-totp/core/otp"
)

var benchAlgorithms = []struct {
	alg  otp.Algorithm
	seed []byte
}{
	{otp.SHA1, []byte("12345678901234567890")},
	{otp.SHA256, []byte("12345678901234567890123456789012")},
	{otp.SHA512, []byte("1234567890123456789012345678901234567890123456789012345678901234")},
}

// sink keeps the compiler from dropping the work being measured.
var sink string

func BenchmarkHOTP(b *testing.B) {
	for _, ba := range benchAlgorithms {
		b.Run(ba.alg.String(), func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				sink = otp.HOTP(ba.seed, uint64(i), ba.alg, 6)
			}
		})
	}
}

func BenchmarkTOTP(b *testing.B) {
	at := time.Unix(2000000000, 0)
	for _, ba := range benchAlgorithms {
		p := otp.Params{Algorithm: ba.alg, Digits: 8, Period: 30}
		b.Run(ba.alg.String(), func(b *testing.B) {
			for b.Loop() {
				sink = otp.TOTP(ba.seed, at, p)
			}
		})
	}
}
