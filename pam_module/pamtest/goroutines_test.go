package pamtest

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// No goroutine outlives a call into the module: after many calls of every
// outcome in one process, TOTP and backup codes (Argon2) accepted, wrong
// and replayed codes, a lockout, users not enrolled or unknown, the
// calling goroutine is the only one left each time a call returns. The
// test build reports the count (test_goroutines).
func TestNoGoroutineOutlivesACall(t *testing.T) {
	f := newFixture(t, "max_failures: 3\nlockout_delay: 10m")
	enrolled, locked := sysUser(t, "daemon"), sysUser(t, "bin")
	notEnrolled, unknown := sysUser(t, "sys"), "pamtotp-no-such-user"
	en, lockedEn := f.enroll(enrolled), f.enroll(locked)
	f.module = artifact(t, "test/hooks/pam_totp.so")
	artifact(t, "test/hooks/pam_totp_go.so")
	f.service("svc", "auth required {module} {config} test_goroutines")

	var lines []string
	add := func(user, answer string) { lines = append(lines, user+" "+answer) }
	for _, step := range []int{-1, -1, 0, 1} { // the second is a replay
		add(enrolled, code(en, step))
	}
	for i, bc := range en.BackupCodes {
		add(enrolled, code(en, 5+i))
		add(enrolled, bc)
	}
	add(enrolled, en.BackupCodes[0]) // used already
	for i := 0; i < 10; i++ {
		add(locked, code(lockedEn, 5+i)) // the third starts the lockout
		add(notEnrolled, "123456")
		add(unknown, "123456")
	}
	add(locked, code(lockedEn, 0)) // right, but locked out
	calls := filepath.Join(tempDir(t), "calls")
	write(t, calls, []byte(strings.Join(lines, "\n")+"\n"), 0o600)
	tr := f.run("svc", enrolled, "-B", calls)

	outcomes := map[string]int{}
	for _, b := range tr.All("bench") {
		_, result, _ := strings.Cut(b, " ")
		outcomes[result]++
	}
	want := map[string]int{"PAM_SUCCESS": 13, "PAM_AUTH_ERR": 35, "PAM_MAXTRIES": 8}
	if fmt.Sprint(outcomes) != fmt.Sprint(want) {
		t.Errorf("outcomes = %v, want %v\n%s", outcomes, want, tr)
	}
	var counts []string
	for _, l := range tr.Logs("pam_totp(") {
		if _, n, ok := strings.Cut(l.Text, "debug: test_goroutines: "); ok {
			counts = append(counts, strings.TrimSuffix(n, " goroutines as the call returns"))
		}
	}
	if len(counts) != len(lines) {
		t.Fatalf("%d goroutine counts for %d calls\n%s", len(counts), len(lines), tr)
	}
	for i, n := range counts {
		if n != "1" {
			t.Errorf("call %d (%s): %s goroutines as it returned, want 1, the caller's",
				i+1, strings.Fields(lines[i])[0], n)
		}
	}
}

// test_goroutines is refused outside the test build, like any unknown
// argument.
func TestGoroutineHookOnlyInTestBuild(t *testing.T) {
	f := newFixture(t, "")
	u := sysUser(t, "daemon")
	f.enroll(u)
	expect{
		result: "PAM_SERVICE_ERR", log: "error: bad module argument: ", prompts: none,
	}.check(t, f.ask(f.totp("test_goroutines"), u, "123456"))
}
