//go:build dockertest

package dockertest

import (
	"sync"
	"testing"
)

// loginAll runs the logins at once and returns their results in order.
func loginAll(c *container, users []string, cr []creds) []result {
	results := make([]result, len(users))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i] = c.login(users[i], cr[i])
		}()
	}
	close(start)
	wg.Wait()
	return results
}

// TestSameCodeAtOnce sends one valid code in 20 logins of one user at once:
// the user's lock must let exactly one of them in, refuse the others as
// replays, and none may hang.
func TestSameCodeAtOnce(t *testing.T) {
	const n = 20
	c := sharedContainer(t, profilePasswordCode)
	a := c.enroll(t, c.user(t, "k"))[0]
	code := a.codeSteps(0)
	users := make([]string, n)
	cr := make([]creds, n)
	for i := range users {
		users[i], cr[i] = a.user, creds{password: a.password, code: code}
	}

	mark := c.logMark(t)
	count := map[outcome]int{}
	for i, r := range loginAll(c, users, cr) {
		count[r.outcome]++
		if r.outcome != refused {
			t.Logf("login %d: %v", i, r)
		}
	}
	if count[loggedIn] != 1 || count[refused] != n-1 {
		t.Fatalf("%d logins with the same code: %d logged in, %d refused, %d broken; want 1, %d, 0",
			n, count[loggedIn], count[refused], count[broken], n-1)
	}
	// Each refusal must be a replay, not a timeout waiting for the lock.
	c.waitLogLines(t, mark, 1, a.user, "pam_totp", "accepted")
	c.waitLogLines(t, mark, n-1, a.user, "pam_totp", "replay")
}

// TestManyUsersAtOnce logs 50 users in at once, each with their own code:
// all must get in.
func TestManyUsersAtOnce(t *testing.T) {
	const n = 50
	c := sharedContainer(t, profilePasswordCode)
	users := make([]string, n)
	for i := range users {
		users[i] = c.user(t, "k")
	}
	accounts := c.enroll(t, users...)
	cr := make([]creds, n)
	for i, a := range accounts {
		cr[i] = creds{password: a.password, code: a.codeSteps(0)}
	}

	mark := c.logMark(t)
	bad := 0
	for i, r := range loginAll(c, users, cr) {
		if r.outcome != loggedIn || len(r.prompts) != 2 || !isCodePrompt(r.prompts[1]) {
			bad++
			t.Errorf("%s: %v; want logged in after the password and the code", users[i], r)
		}
	}
	if bad > 0 {
		t.Fatalf("%d of %d users at once did not get in with their code", bad, n)
	}
	c.waitLogEach(t, mark, users, "pam_totp", "accepted: TOTP code")
}
