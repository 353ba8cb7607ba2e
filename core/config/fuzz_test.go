package config_test

import (
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/pam-totp/pam-totp/core/config"
)

func FuzzParse(f *testing.F) {
	for _, name := range []string{"full.yaml", "empty.yaml", "comments.yaml"} {
		f.Add(readFile(f, name))
	}
	for _, s := range []string{
		"window: 1\nwindw: 2\n",
		"window: 1\nwindow: 2\n",
		"window:\n",
		"window: 1.5\n",
		"digits: &d 8\nperiod: *d\n",
		"algorithm: sha-512\ndigits: 7\nperiod: 15\n",
		"lockout_delay: 2h\nlockout_max: 1h\n",
		"state_dir: relative\n",
		"window: 1\n---\nwindow: 2\n",
		"- a\n",
		"{window: 3, nullok: yes}\n",
		"prompt: \"Code:\\t\"\nissuer: 'x y'\n",
		"? [a]\n: 1\n",
		"<<: {window: 3}\n",
		"a: &a [*a]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := config.Parse(data)
		if err != nil {
			if c != nil || !strings.HasPrefix(err.Error(), "config: ") {
				t.Fatalf("Parse(%q) = %v, %v: want no config and an error starting \"config: \"", data, c, err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Parse(%q) accepted a configuration that Validate refuses: %v", data, err)
		}
		out, err := yaml.Marshal(c)
		if err != nil {
			t.Fatalf("yaml.Marshal of Parse(%q): %v", data, err)
		}
		back, err := config.Parse(out)
		if err != nil {
			t.Fatalf("Parse(%q) = %+v, written out as\n%s\ndoes not read back: %v", data, c, out, err)
		}
		if !reflect.DeepEqual(back, c) {
			t.Fatalf("Parse(%q) = %+v, written out as\n%s\nreads back as %+v", data, c, out, back)
		}
	})
}
