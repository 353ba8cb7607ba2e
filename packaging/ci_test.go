package packaging

import (
	"os/exec"
	"strings"
	"testing"
)

// .ci/run must run the test command that README.md gives, and nothing
// after it, with CI=true unless the runner says otherwise: under CI=true
// the container suite fails where it would otherwise skip, so CI can never
// pass without it.
func TestCIRunsMakeTest(t *testing.T) {
	const script = "../.ci/run"
	if out, err := exec.Command("bash", "-n", script).CombinedOutput(); err != nil {
		t.Fatalf("bash -n %s: %v\n%s", script, err, out)
	}
	if _, err := exec.LookPath("shellcheck"); err == nil {
		if out, err := exec.Command("shellcheck", script).CombinedOutput(); err != nil {
			t.Errorf("shellcheck %s: %v\n%s", script, err, out)
		}
	}

	var commands []string
	for _, line := range strings.Split(readFile(t, script), "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			commands = append(commands, line)
		}
	}
	if n := len(commands); n == 0 || commands[n-1] != "make test" {
		t.Errorf("%s does not end with 'make test'", script)
	}
	ci := -1
	for i, c := range commands {
		if c == "export CI=${CI:-true}" {
			ci = i
		}
	}
	if ci < 0 || ci == len(commands)-1 {
		t.Errorf("%s does not export CI=${CI:-true} before 'make test'", script)
	}

	if readme := readFile(t, "../README.md"); !strings.Contains(readme, "`make test`") ||
		!strings.Contains(readme, "`.ci/run`") {
		t.Error("README.md does not give `make test` and `.ci/run` as the way to run the tests")
	}
}
