package packaging

import (
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/pam-totp/pam-totp/core/config"
)

const (
	configFile = "config.yaml"
	configMan  = "man/pam-totp.yaml.5"
)

// configKeys returns the yaml names of every field of config.Config.
func configKeys(t *testing.T) []string {
	t.Helper()
	var keys []string
	rt := reflect.TypeOf(config.Config{})
	for i := 0; i < rt.NumField(); i++ {
		if k := rt.Field(i).Tag.Get("yaml"); k != "" && k != "-" {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		t.Fatal("config.Config has no yaml keys")
	}
	sort.Strings(keys)
	return keys
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkDefault parses "key: value" alone and reports whether it gives the
// same configuration as config.Default().
func checkDefault(t *testing.T, where, key, value string) {
	t.Helper()
	got, err := config.Parse([]byte(key + ": " + value + "\n"))
	if err != nil {
		t.Errorf("%s: %s: documented default %s does not parse: %v", where, key, value, err)
		return
	}
	if want := config.Default(); !reflect.DeepEqual(got, want) {
		t.Errorf("%s: %s: documented default %s gives\n%+v\nwant the default\n%+v",
			where, key, value, *got, *want)
	}
}

// The shipped file, as it is, must mean the defaults: installing the package
// changes no setting.
func TestConfigFileIsDefault(t *testing.T) {
	got, err := config.Parse([]byte(readFile(t, configFile)))
	if err != nil {
		t.Fatalf("%s: %v", configFile, err)
	}
	if want := config.Default(); !reflect.DeepEqual(got, want) {
		t.Errorf("%s gives\n%+v\nwant config.Default()\n%+v", configFile, *got, *want)
	}
}

// Every key must be in the shipped file exactly once, as a commented-out
// line "#key: value" whose value is the key's true default.
func TestConfigFileDocumentsEveryKey(t *testing.T) {
	text := readFile(t, configFile)
	line := regexp.MustCompile(`(?m)^#([a-z_]+): (.*)$`)
	found := map[string][]string{}
	for _, m := range line.FindAllStringSubmatch(text, -1) {
		found[m[1]] = append(found[m[1]], m[2])
	}
	keys := configKeys(t)
	for _, k := range keys {
		values := found[k]
		if len(values) != 1 {
			t.Errorf("%s: key %s is shown %d times as \"#%s: value\", want once",
				configFile, k, len(values), k)
			continue
		}
		checkDefault(t, configFile, k, values[0])
		delete(found, k)
	}
	for k := range found {
		t.Errorf("%s: shows %q, which is not a key of config.Config", configFile, k)
	}

	// All of them uncommented together must still parse to the defaults.
	var doc strings.Builder
	for _, m := range line.FindAllStringSubmatch(text, -1) {
		doc.WriteString(m[1] + ": " + m[2] + "\n")
	}
	got, err := config.Parse([]byte(doc.String()))
	if err != nil {
		t.Fatalf("%s with every key uncommented: %v", configFile, err)
	}
	if want := config.Default(); !reflect.DeepEqual(got, want) {
		t.Errorf("%s with every key uncommented gives\n%+v\nwant\n%+v", configFile, *got, *want)
	}
}

// roffText removes the font escapes and character names that the man pages
// use, leaving the text a reader sees.
func roffText(s string) string {
	r := strings.NewReplacer(`\fB`, "", `\fI`, "", `\fR`, "", `\fP`, "",
		`\-`, "-", `\(dq`, `"`, `\e`, `\`, `\&`, "")
	return strings.TrimSpace(r.Replace(s))
}

// Every key must have its own entry in section KEYS of pam-totp.yaml(5): a
// ".TP" paragraph whose tag is ".B key" and whose body has a line
// "Default: value" with the key's true default.
func TestManPageDocumentsEveryKey(t *testing.T) {
	text := readFile(t, configMan)
	start := strings.Index(text, "\n.SH KEYS\n")
	if start < 0 {
		t.Fatalf("%s: no section KEYS", configMan)
	}
	text = text[start+len("\n.SH KEYS\n"):]
	if end := strings.Index(text, "\n.SH "); end >= 0 {
		text = text[:end]
	}
	entries := map[string]string{}
	parts := regexp.MustCompile(`(?m)^\.TP\n\.B ([a-z_]+)\n`).FindAllStringSubmatchIndex(text, -1)
	for i, p := range parts {
		end := len(text)
		if i+1 < len(parts) {
			end = parts[i+1][0]
		}
		if next := strings.Index(text[p[1]:end], "\n.SS"); next >= 0 {
			end = p[1] + next
		}
		entries[text[p[2]:p[3]]] = text[p[1]:end]
	}
	def := regexp.MustCompile(`(?m)^Default: (.*)$`)
	for _, k := range configKeys(t) {
		body, ok := entries[k]
		if !ok {
			t.Errorf("%s: no entry \".TP\" \".B %s\"", configMan, k)
			continue
		}
		m := def.FindAllStringSubmatch(body, -1)
		if len(m) != 1 {
			t.Errorf("%s: entry %s has %d \"Default:\" lines, want 1", configMan, k, len(m))
			continue
		}
		checkDefault(t, configMan, k, roffText(m[0][1]))
		delete(entries, k)
	}
	for k := range entries {
		t.Errorf("%s: entry %q is not a key of config.Config", configMan, k)
	}
}
