package config_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/pam-totp/pam-totp/core/config"
	"github.com/pam-totp/pam-totp/core/otp"
)

// readFile returns a file from testdata.
func readFile(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// parse calls Parse and fails the test on an error.
func parse(t *testing.T, data []byte) *config.Config {
	t.Helper()
	c, err := config.Parse(data)
	if err != nil {
		t.Fatalf("Parse(%q): %v", data, err)
	}
	return c
}

func TestDefault(t *testing.T) {
	want := &config.Config{
		StateDir:     "/var/lib/pam-totp",
		KeyFile:      "/etc/pam-totp/host.key",
		Algorithm:    otp.SHA1,
		Digits:       6,
		Period:       30,
		SecretBytes:  20,
		Window:       1,
		MaxFailures:  10,
		LockoutDelay: config.Duration(time.Minute),
		LockoutMax:   config.Duration(time.Hour),
		FailureLimit: 100,
		BackupCodes:  10,
		Prompt:       "Verification code: ",
		LockTimeout:  config.Duration(5 * time.Second),
	}
	got := config.Default()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Default() =\n%+v\nwant\n%+v", got, want)
	}
	if err := got.Validate(); err != nil {
		t.Errorf("Default().Validate() = %v", err)
	}
	if p := got.Params(); p != otp.DefaultParams {
		t.Errorf("Default().Params() = %+v, want otp.DefaultParams %+v", p, otp.DefaultParams)
	}
	if got == config.Default() {
		t.Error("Default() returns the same Config twice; a caller could change the defaults")
	}
}

// TestDefaultsWhenEmpty checks the inputs that mean the defaults.
func TestDefaultsWhenEmpty(t *testing.T) {
	inputs := map[string][]byte{
		"empty file":          readFile(t, "empty.yaml"),
		"only comments":       readFile(t, "comments.yaml"),
		"blank lines":         []byte("\n\n   \n"),
		"document start":      []byte("---\n"),
		"document start, end": []byte("---\n# nothing\n...\n"),
		"null":                []byte("~\n"),
		"empty mapping":       []byte("{}\n"),
	}
	for name, data := range inputs {
		got, err := config.Parse(data)
		if err != nil {
			t.Errorf("%s: Parse(%q): %v", name, data, err)
			continue
		}
		if !reflect.DeepEqual(got, config.Default()) {
			t.Errorf("%s: Parse(%q) =\n%+v\nwant the defaults", name, data, got)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "config.yaml")
	got, err := config.Load(path)
	if err != nil {
		t.Fatalf("Load(missing file): %v", err)
	}
	if !reflect.DeepEqual(got, config.Default()) {
		t.Errorf("Load(missing file) =\n%+v\nwant the defaults", got)
	}
}

func TestLoad(t *testing.T) {
	// A copy, since a checkout made under umask 002 leaves testdata
	// writable by the group, and Load refuses that.
	dir := t.TempDir()
	full := writeConfig(t, dir, "full.yaml", readFile(t, "full.yaml"), 0o644)
	got, err := config.Load(full)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, parse(t, readFile(t, "full.yaml"))) {
		t.Errorf("Load and Parse of full.yaml differ")
	}

	if _, err := config.Load(dir); err == nil || !strings.Contains(err.Error(), "config: ") {
		t.Errorf("Load(a directory) = %v, want an error", err)
	}

	bad := writeConfig(t, dir, "config.yaml", []byte("window: 1\nwindw: 2\n"), 0o600)
	_, err = config.Load(bad)
	want := bad + `: config: line 2: unknown key "windw"`
	if err == nil || err.Error() != want {
		t.Errorf("Load(%s) = %v, want %s", bad, err, want)
	}
}

// TestEveryKey sets every key of the file and checks each value read.
func TestEveryKey(t *testing.T) {
	got := parse(t, readFile(t, "full.yaml"))
	want := &config.Config{
		StateDir:     "/srv/pam-totp/state",
		KeyFile:      "/etc/pam-totp/keys/host.key",
		Issuer:       "ACME Co bastion",
		Algorithm:    otp.SHA256,
		Digits:       8,
		Period:       60,
		SecretBytes:  32,
		Window:       2,
		MaxFailures:  5,
		LockoutDelay: config.Duration(30 * time.Second),
		LockoutMax:   config.Duration(12 * time.Hour),
		FailureLimit: 50,
		BackupCodes:  8,
		Nullok:       true,
		Prompt:       "Code from your authenticator app: ",
		LockTimeout:  config.Duration(2 * time.Second),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Parse(full.yaml) =\n%+v\nwant\n%+v", got, want)
	}

	// full.yaml must set every key to something else than its default, so
	// that a key added later without a test shows up here.
	g, d := reflect.ValueOf(*got), reflect.ValueOf(*config.Default())
	for i := range g.NumField() {
		f := g.Type().Field(i)
		if reflect.DeepEqual(g.Field(i).Interface(), d.Field(i).Interface()) {
			t.Errorf("testdata/full.yaml leaves key %s (field %s) at its default", f.Tag.Get("yaml"), f.Name)
		}
	}
}

// TestMarshalRoundTrip checks that a configuration written out with yaml
// reads back the same, as an admin tool printing it would rely on.
func TestMarshalRoundTrip(t *testing.T) {
	for _, c := range []*config.Config{config.Default(), parse(t, readFile(t, "full.yaml"))} {
		out, err := yaml.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		if back := parse(t, out); !reflect.DeepEqual(back, c) {
			t.Errorf("yaml.Marshal gave\n%s\nwhich reads back as\n%+v\nwant\n%+v", out, back, c)
		}
	}
}

func TestDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"30s", 30 * time.Second},
		{"5m", 5 * time.Minute},
		{"1h", time.Hour},
		{"1h30m", 90 * time.Minute},
		{"1500ms", 1500 * time.Millisecond},
		{`"2m"`, 2 * time.Minute},
	}
	for _, tt := range tests {
		c := parse(t, []byte("lockout_max: "+tt.in+"\nlockout_delay: 1s\n"))
		if got := time.Duration(c.LockoutMax); got != tt.want {
			t.Errorf("lockout_max: %s read as %v, want %v", tt.in, got, tt.want)
		}
	}

	d := config.Duration(90 * time.Second)
	if got, want := d.String(), "1m30s"; got != want {
		t.Errorf("Duration.String() = %q, want %q", got, want)
	}
	if got, err := d.MarshalYAML(); err != nil || got != "1m30s" {
		t.Errorf("Duration.MarshalYAML() = %v, %v, want 1m30s", got, err)
	}
}

// errorCase is a file that Parse must refuse, from testdata/errors.txt.
type errorCase struct {
	name string
	in   string
	want []string // each must be in the message
}

// readErrorCases reads testdata/errors.txt; its header gives the format.
func readErrorCases(t *testing.T) []errorCase {
	t.Helper()
	var cases []errorCase
	var in []string
	reading := false
	flush := func() {
		for len(in) > 0 && strings.TrimSpace(in[len(in)-1]) == "" {
			in = in[:len(in)-1]
		}
		if n := len(cases); n > 0 {
			cases[n-1].in = strings.Join(in, "\n") + "\n"
		}
		in, reading = nil, false
	}
	for _, line := range strings.Split(string(readFile(t, "errors.txt")), "\n") {
		switch {
		case strings.HasPrefix(line, "=== "):
			flush()
			cases = append(cases, errorCase{name: strings.TrimPrefix(line, "=== ")})
		case reading:
			in = append(in, line)
		case len(cases) == 0:
			// The header.
		case strings.HasPrefix(line, "want: "):
			cases[len(cases)-1].want = append(cases[len(cases)-1].want, strings.TrimPrefix(line, "want: "))
		case line == ">>>":
			reading = true
		default:
			t.Fatalf("testdata/errors.txt: case %q: unexpected line %q", cases[len(cases)-1].name, line)
		}
	}
	flush()
	if len(cases) == 0 {
		t.Fatal("testdata/errors.txt holds no cases")
	}
	return cases
}

// TestErrors checks that each kind of mistake is refused with a message that
// names the key and the line it is on.
func TestErrors(t *testing.T) {
	for _, tt := range readErrorCases(t) {
		if len(tt.want) == 0 || !strings.HasPrefix(tt.want[0], "line ") {
			t.Errorf("testdata/errors.txt: case %q must want its line first", tt.name)
		}
		c, err := config.Parse([]byte(tt.in))
		if err == nil {
			t.Errorf("%s: Parse(%q) = %+v, want an error", tt.name, tt.in, c)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "config: ") {
			t.Errorf("%s: error %q lacks the prefix \"config: \"", tt.name, msg)
		}
		for _, w := range tt.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: Parse(%q) error\n%q\nshould contain %q", tt.name, tt.in, msg, w)
			}
		}
	}
}

// TestValidate checks ranges on a Config made in code, where there are no
// lines to name.
func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(c *config.Config)
		want   string
	}{
		{"relative path", func(c *config.Config) { c.StateDir = "state" },
			`state_dir must be an absolute path, not "state"`},
		{"algorithm", func(c *config.Config) { c.Algorithm = 9 }, "algorithm"},
		{"digits", func(c *config.Config) { c.Digits = 0 }, "digits"},
		{"period", func(c *config.Config) { c.Period = 0 }, "period"},
		{"window", func(c *config.Config) { c.Window = 100 }, "window is 100: want 0 to 10"},
		{"lockout", func(c *config.Config) { c.LockoutMax = 0 }, "lockout_max"},
		{"lockout delay", func(c *config.Config) { c.LockoutDelay = config.Duration(time.Millisecond) },
			"lockout_delay (1ms) must be at least 1s"},
		{"failure limit", func(c *config.Config) { c.FailureLimit = 101 },
			"failure_limit is 101: want max_failures (10) to 100"},
	}
	for _, tt := range tests {
		c := config.Default()
		tt.change(c)
		err := c.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), "config: ") ||
			!strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Validate() = %v, want an error containing %q", tt.name, err, tt.want)
			continue
		}
		if strings.Contains(err.Error(), "line ") {
			t.Errorf("%s: Validate() = %v, which names a line of no file", tt.name, err)
		}
	}
}

// TestLimits checks that the ends of every range are accepted.
func TestLimits(t *testing.T) {
	for _, in := range []string{
		"digits: 6\nperiod: 15\nsecret_bytes: 16\nwindow: 0\nmax_failures: 1\nbackup_codes: 0\n",
		"digits: 8\nperiod: 120\nsecret_bytes: 64\nwindow: 10\nmax_failures: 100\nbackup_codes: 100\n",
		"lockout_delay: 1s\nlockout_max: 1s\nlock_timeout: 1ns\n",
		"max_failures: 1\nfailure_limit: 1\n",
		"max_failures: 100\nfailure_limit: 100\n",
		"lockout_delay: 1h\nlockout_max: 1h\nlock_timeout: 1m\n",
		"prompt: " + strings.Repeat("x", 200) + "\n",
		"prompt: ''\nissuer: ''\nnullok: false\n",
		"state_dir: /\nkey_file: /k\n",
	} {
		if _, err := config.Parse([]byte(in)); err != nil {
			t.Errorf("Parse(%q): %v", in, err)
		}
	}
}
