package otp_test

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pam-totp/pam-totp/core/otp"
)

// readVectors returns the fields of every line of a file in testdata that is
// neither blank nor a comment.
func readVectors(t *testing.T, name string) [][]string {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	var rows [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		rows = append(rows, strings.Fields(line))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatalf("testdata/%s holds no vectors", name)
	}
	return rows
}

func parseUint(t *testing.T, s string, base int) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(s, base, 64)
	if err != nil {
		t.Fatalf("bad number in test data: %v", err)
	}
	return n
}

func parseAlgorithm(t *testing.T, s string) otp.Algorithm {
	t.Helper()
	a, err := otp.ParseAlgorithm(s)
	if err != nil {
		t.Fatalf("bad algorithm in test data: %v", err)
	}
	return a
}

// TestRFC4226 checks every value of RFC 4226, Appendix D. The table gives
// the whole 31-bit truncated value, so it checks codes of every length HOTP
// allows, not only the table's six digits.
func TestRFC4226(t *testing.T) {
	secret := []byte("12345678901234567890")
	rows := readVectors(t, "rfc4226.txt")
	if len(rows) != 10 {
		t.Fatalf("rfc4226.txt has %d vectors, want the RFC's 10", len(rows))
	}
	for _, r := range rows {
		counter := parseUint(t, r[0], 10)
		hex, dec := parseUint(t, r[1], 16), parseUint(t, r[2], 10)
		if hex != dec {
			t.Fatalf("counter %d: test data disagrees with itself: %x != %d", counter, hex, dec)
		}
		if got := otp.HOTP(secret, counter, otp.SHA1, 6); got != r[3] {
			t.Errorf("HOTP(counter %d) = %s, want %s", counter, got, r[3])
		}
		mod := uint64(1)
		for digits := 1; digits <= 8; digits++ {
			mod *= 10
			want := strconv.FormatUint(dec%mod, 10)
			want = strings.Repeat("0", digits-len(want)) + want
			if got := otp.HOTP(secret, counter, otp.SHA1, digits); got != want {
				t.Errorf("HOTP(counter %d, %d digits) = %s, want %s", counter, digits, got, want)
			}
		}
	}
}

// TestRFC6238 checks every value of RFC 6238, Appendix B, each algorithm
// with its own seed.
func TestRFC6238(t *testing.T) {
	seeds := map[otp.Algorithm][]byte{}
	count := 0
	for _, r := range readVectors(t, "rfc6238.txt") {
		if r[0] == "seed" {
			seeds[parseAlgorithm(t, r[1])] = []byte(r[2])
			continue
		}
		count++
		sec := int64(parseUint(t, r[0], 10))
		at := time.Unix(sec, 0)
		if got := at.UTC().Format(time.RFC3339); got != r[1] {
			t.Fatalf("test data: %d s is %s, the table says %s", sec, got, r[1])
		}
		step, alg, want := parseUint(t, r[2], 16), parseAlgorithm(t, r[3]), r[4]
		seed, ok := seeds[alg]
		if !ok {
			t.Fatalf("test data: no seed for %v before its vectors", alg)
		}

		if got := otp.TimeStep(at, 30); got != step {
			t.Errorf("TimeStep(%d s) = %#x, want %#x", sec, got, step)
		}
		p := otp.Params{Algorithm: alg, Digits: 8, Period: 30}
		if got := otp.TOTP(seed, at, p); got != want {
			t.Errorf("TOTP(%d s, %v) = %s, want %s", sec, alg, got, want)
		}
	}
	if count != 18 {
		t.Errorf("rfc6238.txt has %d vectors, want the RFC's 18", count)
	}
	wantSize := map[otp.Algorithm]int{otp.SHA1: 20, otp.SHA256: 32, otp.SHA512: 64}
	for alg, n := range wantSize {
		if got := len(seeds[alg]); got != n {
			t.Errorf("seed for %v has %d bytes, want %d", alg, got, n)
		}
	}
}

// TestSeedTrap shows why each algorithm of RFC 6238's table needs its own
// seed: with the 20-byte SHA1 seed, SHA512 gives a different code at 59 s.
func TestSeedTrap(t *testing.T) {
	short := []byte("12345678901234567890")
	p := otp.Params{Algorithm: otp.SHA512, Digits: 8, Period: 30}
	if got, want := otp.TOTP(short, time.Unix(59, 0), p), "69342147"; got != want {
		t.Errorf("TOTP(20-byte seed, SHA512, 59 s) = %s, want %s", got, want)
	}
	long := []byte(strings.Repeat("1234567890", 7)[:64])
	if got, want := otp.TOTP(long, time.Unix(59, 0), p), "90693936"; got != want {
		t.Errorf("TOTP(64-byte seed, SHA512, 59 s) = %s, want %s", got, want)
	}
}
