package store_test

import (
	"bufio"
	"io"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestCrashWhileSaving runs a process that saves alice's state in a loop,
// kills it with SIGKILL at a random point, and checks after every kill that
// the state file opens and holds either the last state the process reported
// saved or the one after it, and that no temporary file is taken for a
// user.
func TestCrashWhileSaving(t *testing.T) {
	kills, budget := 200, 2*time.Minute
	if testing.Short() {
		kills = 20
	}
	e := newEnv(t)
	e.save(t, newState("alice"))
	seed := uint64(time.Now().UnixNano())
	t.Logf("random seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))

	start, done, ahead := time.Now(), 0, 0
	for ; done < kills && time.Since(start) < budget; done++ {
		saved, out := killWriter(t, e, time.Duration(rng.IntN(4000))*time.Microsecond)
		st, err := e.s.Load("alice")
		if err != nil {
			t.Fatalf("kill %d: the state does not open: %v\n%s", done, err, out)
		}
		if st.LastStep != saved && st.LastStep != saved+1 {
			t.Fatalf("kill %d: LastStep = %d, want %d or %d", done, st.LastStep, saved, saved+1)
		}
		if st.LastStep == saved+1 {
			ahead++ // killed after the rename, before it said so
		}
		users, err := e.s.Users()
		if err != nil || !reflect.DeepEqual(users, []string{"alice"}) {
			t.Fatalf("kill %d: Users() = %q, %v, want [alice]", done, users, err)
		}
	}
	if done < kills {
		t.Logf("stopped after %d kills, out of time", done)
	}
	temps := countTemps(t, e)
	t.Logf("%d kills: %d after a rename not yet reported, %d temporary files left",
		done, ahead, temps)

	// The next save clears what a killed writer left behind.
	tx, err := e.s.Begin("alice")
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	st, err := tx.Load()
	if err == nil {
		err = tx.Save(st)
	}
	if err != nil {
		t.Fatalf("saving after the kills: %v", err)
	}
	if n := countTemps(t, e); n != 0 {
		t.Errorf("%d temporary files left after a save, want none: each save clears the last", n)
	}
}

// countTemps returns the number of temporary files of alice's state.
func countTemps(t *testing.T, e *env) int {
	t.Helper()
	n := 0
	for _, name := range listDir(t, e.dir) {
		if strings.HasPrefix(name, ".alice.totp.tmp") {
			n++
		}
	}
	return n
}

// killWriter starts the writer, waits for its first save, lets it run for
// d, kills it, and returns the last LastStep it reported saved and its
// output.
func killWriter(t *testing.T, e *env, d time.Duration) (uint64, string) {
	t.Helper()
	cmd := helperCommand(t, e, "writer")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(stdout)
	first, err := r.ReadString('\n')
	if err != nil {
		cmd.Wait()
		t.Fatalf("writer made no save: %v\n%s", err, stderr.String())
	}
	time.Sleep(d)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(r)
	cmd.Wait()

	out := first + string(rest)
	lines := strings.Split(out, "\n")
	last := lines[len(lines)-2] // the last complete line
	n, err := strconv.ParseUint(last, 10, 64)
	if err != nil {
		t.Fatalf("writer printed %q: %v\n%s", last, err, stderr.String())
	}
	return n, stderr.String()
}
