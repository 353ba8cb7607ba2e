package otp_test

import (
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/pam-totp/pam-totp/core/otp"
)

// oathtool runs OATH Toolkit's oathtool, an independent implementation of
// RFC 4226 and RFC 6238, and returns the code it prints.
func oathtool(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("oathtool", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("oathtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func needOathtool(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("oathtool"); err != nil {
		t.Skip("oathtool is not on PATH (Debian package oathtool): " +
			"it is the independent code generator these tests compare against")
	}
}

// secretArg returns the secret as oathtool takes it: hex, or base32 after
// -b. Using both checks EncodeSecret against oathtool's base32 decoder.
func secretArg(secret []byte, base32 bool) []string {
	if base32 {
		return []string{"-b", otp.EncodeSecret(secret)}
	}
	return []string{hex.EncodeToString(secret)}
}

// TestTOTPOathtool compares TOTP with oathtool for random secrets, times,
// algorithms, lengths and time steps. The random source has a fixed seed, so
// a failure can be reproduced.
func TestTOTPOathtool(t *testing.T) {
	needOathtool(t)
	rng := rand.New(rand.NewChaCha8([32]byte{'o', 'a', 't', 'h'}))
	algorithms := []otp.Algorithm{otp.SHA1, otp.SHA256, otp.SHA512}
	fixed := []int64{0, 1, 59, 1<<31 - 1, 1 << 31, 1<<32 - 1, 1 << 32, 20000000000, 99999999999}

	for i := range 240 {
		p := otp.Params{
			Algorithm: algorithms[i%3],
			Digits:    otp.MinDigits + i/3%3,
			Period:    otp.MinPeriod + rng.IntN(otp.MaxPeriod-otp.MinPeriod+1),
		}
		secret := make([]byte, 1+rng.IntN(otp.MaxSecretSize))
		for j := range secret {
			secret[j] = byte(rng.Uint32())
		}

		// A quarter each: random times, the first and the last second of a
		// time step, and times around 2038 and far beyond.
		var sec int64
		switch i / 9 % 4 {
		case 0:
			sec = rng.Int64N(100000000000)
		case 1:
			sec = rng.Int64N(100000000000/int64(p.Period)) * int64(p.Period)
		case 2:
			sec = rng.Int64N(100000000000/int64(p.Period))*int64(p.Period) + int64(p.Period) - 1
		case 3:
			sec = fixed[i%len(fixed)]
		}

		args := []string{
			"--totp=" + strings.ToLower(p.Algorithm.String()),
			fmt.Sprintf("--digits=%d", p.Digits),
			fmt.Sprintf("--time-step-size=%ds", p.Period),
			fmt.Sprintf("--now=@%d", sec),
		}
		args = append(args, secretArg(secret, i%2 == 1)...)
		want := oathtool(t, args...)
		if got := otp.TOTP(secret, time.Unix(sec, 0), p); got != want {
			t.Errorf("TOTP(%x, %d s, %+v) = %s, oathtool %s gives %s",
				secret, sec, p, got, strings.Join(args, " "), want)
		}
	}
}

// TestHOTPOathtool compares HOTP with oathtool for counters that need all 64
// bits; oathtool's HOTP is HMAC-SHA1 only.
func TestHOTPOathtool(t *testing.T) {
	needOathtool(t)
	rng := rand.New(rand.NewChaCha8([32]byte{'h', 'o', 't', 'p'}))
	counters := []uint64{0, 1, 1<<32 - 1, 1 << 32, 1<<63 - 1, 1 << 63, 1<<64 - 1}
	for range 20 {
		counters = append(counters, rng.Uint64())
	}
	for i, c := range counters {
		secret := make([]byte, otp.MinSecretSize+rng.IntN(otp.MaxSecretSize-otp.MinSecretSize+1))
		for j := range secret {
			secret[j] = byte(rng.Uint32())
		}
		digits := otp.MinDigits + i%3
		args := []string{"--hotp", fmt.Sprintf("--counter=%d", c), fmt.Sprintf("--digits=%d", digits)}
		args = append(args, secretArg(secret, i%2 == 0)...)
		want := oathtool(t, args...)
		if got := otp.HOTP(secret, c, otp.SHA1, digits); got != want {
			t.Errorf("HOTP(%x, %d, %d digits) = %s, oathtool %s gives %s",
				secret, c, digits, got, strings.Join(args, " "), want)
		}
	}
}
