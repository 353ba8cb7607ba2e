package main

import (
	"strings"
	"testing"
	"time"

	"github.com/pam-totp/pam-totp/core/policy"
)

func TestSplitForward(t *testing.T) {
	tests := []struct {
		answer         string
		digits         int
		password, code string
	}{
		{"hunter2123456", 6, "hunter2", "123456"},
		{"hunter212345678", 8, "hunter2", "12345678"},
		{"pass 123456\n", 6, "pass ", "123456"},
		{" spaced pass123456", 6, " spaced pass", "123456"},
		{"123456", 6, "", "123456"},
		{"hunter2k7mq-29xd-hpe4", 6, "hunter2", "k7mq-29xd-hpe4"},
		{"hunter2k7mq29xdhpe4", 6, "hunter2", "k7mq29xdhpe4"},
		{"k7mq29xdhpe4", 6, "", "k7mq29xdhpe4"},
		{"short", 6, "", "short"},
		{"", 6, "", ""},
	}
	for _, tt := range tests {
		p, c := splitForward(tt.answer, tt.digits)
		if p != tt.password || c != tt.code {
			t.Errorf("splitForward(%q, %d) = %q, %q; want %q, %q",
				tt.answer, tt.digits, p, c, tt.password, tt.code)
		}
	}
}

func TestCodeShaped(t *testing.T) {
	tests := []struct {
		s      string
		digits int
		want   bool
	}{
		{"123456", 6, true},
		{"123 456", 6, true},
		{"1234567", 6, false},
		{"12345678", 6, true}, // a scratch code taken over from google-authenticator
		{"12345678", 8, true},
		{"k7mq-29xd-hpe4", 6, true},
		{"correct horse", 6, false},
		{"", 6, false},
	}
	for _, tt := range tests {
		if got := codeShaped(tt.s, tt.digits); got != tt.want {
			t.Errorf("codeShaped(%q, %d) = %t, want %t", tt.s, tt.digits, got, tt.want)
		}
	}
}

func TestLogField(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "-"},
		{"alice", "alice"},
		{"EXAMPLE\\bob", `"EXAMPLE\\bob"`},
		{"x\nrefused: forged", `"x\nrefused: forged"`},
		{"192.0.2.7", "192.0.2.7"},
		{"::1", "::1"},
		{strings.Repeat("a", 70), strings.Repeat("a", 64)},
	}
	for _, tt := range tests {
		if got := logField(tt.in); got != tt.want {
			t.Errorf("logField(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestLockedMessage(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.Local)
	got := lockedMessage(now.Add(90*time.Second+400*time.Millisecond), now)
	want := "Too many wrong codes. Try again in 1m30s, after 12:01:30 " + now.Format("MST") + "."
	if got != want {
		t.Errorf("lockedMessage = %q, want %q", got, want)
	}
	got = lockedMessage(now.Add(24*time.Hour), now)
	if !strings.Contains(got, "2025-03-02 12:00:00") {
		t.Errorf("lockedMessage a day ahead = %q, want the date", got)
	}
	if got := lockedMessage(now, now); !strings.Contains(got, "Try again in 1s") {
		t.Errorf("lockedMessage at the end = %q, want at least 1s", got)
	}
}

func TestLockoutMessage(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.Local)
	until := now.Add(time.Minute)
	if got, want := lockoutMessage(&policy.LockedError{Until: until}, now), lockedMessage(until, now); got != want {
		t.Errorf("lockoutMessage(timed) = %q, want %q", got, want)
	}
	got := lockoutMessage(&policy.LockedError{UntilUnlock: true, Started: true}, now)
	want := "Too many wrong codes. This account is locked until an administrator unlocks it."
	if got != want {
		t.Errorf("lockoutMessage(until an unlock) = %q, want %q", got, want)
	}
}

func TestBackupMessage(t *testing.T) {
	for left, want := range map[int]string{
		0:  "That was your last backup code",
		1:  "1 backup code left: ask your administrator for new ones soon.",
		3:  "3 backup codes left: ask",
		9:  "9 backup codes left.",
		10: "10 backup codes left.",
	} {
		if got := backupMessage(left); !strings.Contains(got, want) {
			t.Errorf("backupMessage(%d) = %q, want it to contain %q", left, got, want)
		}
	}
}

func TestPanicSite(t *testing.T) {
	stack := strings.Join([]string{
		"goroutine 1 [running]:",
		"runtime/debug.Stack()",
		"\t/go/src/runtime/debug/stack.go:26 +0x5e",
		"main.f.func1()",
		"\t/x/main.go:40 +0x3a",
		"panic({0x4a1b20?, 0x4d6f70?})",
		"\t/go/src/runtime/panic.go:792 +0x132",
		"main.runHooks(0xc000010000)",
		"\t/x/hooks.go:21 +0x25",
	}, "\n")
	if got, want := panicSite([]byte(stack)), "at main.runHooks (/x/hooks.go:21)"; got != want {
		t.Errorf("panicSite = %q, want %q", got, want)
	}
}
