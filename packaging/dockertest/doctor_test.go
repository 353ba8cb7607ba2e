//go:build dockertest

package dockertest

import (
	"strings"
	"testing"
)

// TestDoctor runs totpctl doctor on the installed system: it passes as the
// package and contrib's files set it up, warns about contrib's nullok line,
// and fails, naming the file, once the host key is readable by others.
func TestDoctor(t *testing.T) {
	t.Parallel()
	c := startContainer(t, "doctor", profileContrib)

	out, err := c.try("totpctl doctor")
	if err != nil {
		t.Fatalf("totpctl doctor on the test image: %v\n%s", err, out)
	}
	if !strings.Contains(out, "nullok") {
		t.Errorf("totpctl doctor says nothing of contrib's nullok line:\n%s", out)
	}

	c.exec(t, "chmod 0444 /etc/pam-totp/host.key")
	out, err = c.try("totpctl doctor")
	if err == nil {
		t.Fatalf("totpctl doctor passed with the host key readable by all:\n%s", out)
	}
	if !strings.Contains(out, "/etc/pam-totp/host.key") {
		t.Errorf("totpctl doctor failed without naming the host key:\n%s", out)
	}
}
