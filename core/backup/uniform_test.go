package backup

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestAlphabet(t *testing.T) {
	if len(alphabet) != 31 {
		t.Errorf("alphabet has %d characters, want 31", len(alphabet))
	}
	for i := range len(alphabet) {
		if strings.IndexByte(alphabet, alphabet[i]) != i {
			t.Errorf("alphabet repeats %q", alphabet[i])
		}
	}
	if strings.ContainsAny(alphabet, "01ilo") {
		t.Errorf("alphabet %q has a look-alike of 0, 1, i, l or o", alphabet)
	}
	if bits := float64(Length) * math.Log2(float64(len(alphabet))); bits < 59 {
		t.Errorf("a backup code holds %.1f bits, want at least 59", bits)
	}
}

// TestUniform checks with a chi-square test that every character of the
// alphabet is equally likely, over all positions and in each. The source of
// randomness has a fixed seed, so the test cannot flake. The bound is loose:
// an even spread exceeds it with a chance of about 1 in 100000 (30 degrees of
// freedom). A plain modulo without rejection sampling, which favours eight
// characters by 1/8, gives about 370 over all positions.
func TestUniform(t *testing.T) {
	const codes = 10000
	const bound = 75.0

	rng := rand.NewChaCha8([32]byte{'u', 'n', 'i', 'f', 'o', 'r', 'm'})
	var all [256]int
	var byPosition [Length][256]int
	for range codes {
		code, err := newCode(rng)
		if err != nil {
			t.Fatal(err)
		}
		for i := range len(code) {
			all[code[i]]++
			byPosition[i][code[i]]++
		}
	}

	if chi2 := chiSquare(t, all[:], codes*Length); chi2 > bound {
		t.Errorf("characters over all positions: chi-square %.1f, want at most %.1f", chi2, bound)
	}
	for i := range byPosition {
		if chi2 := chiSquare(t, byPosition[i][:], codes); chi2 > bound {
			t.Errorf("characters at position %d: chi-square %.1f, want at most %.1f", i, chi2, bound)
		}
	}
}

// chiSquare returns Pearson's statistic for counts of the alphabet's
// characters against an even spread of n, and fails the test if a
// character outside the alphabet was counted.
func chiSquare(t *testing.T, counts []int, n int) float64 {
	t.Helper()
	expected := float64(n) / float64(len(alphabet))
	var chi2 float64
	for c, got := range counts {
		if !strings.ContainsRune(alphabet, rune(c)) {
			if got != 0 {
				t.Errorf("character %q, outside the alphabet, appeared %d times", rune(c), got)
			}
			continue
		}
		d := float64(got) - expected
		chi2 += d * d / expected
	}
	return chi2
}
