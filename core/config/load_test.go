package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pam-totp/pam-totp/core/config"
)

// writeConfig writes data to dir/name with exactly mode perm, whatever the
// umask, and returns the path.
func writeConfig(t *testing.T, dir, name string, data []byte, perm os.FileMode) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestLoadFileModes checks that Load takes a file that only its owner can
// write, whoever may read it.
func TestLoadFileModes(t *testing.T) {
	for _, perm := range []os.FileMode{0o644, 0o640, 0o604, 0o600, 0o444, 0o400, 0o755} {
		path := writeConfig(t, t.TempDir(), "config.yaml", []byte("window: 2\n"), perm)
		c, err := config.Load(path)
		if err != nil {
			t.Errorf("Load(mode %04o) = %v, want the file read", perm, err)
			continue
		}
		if c.Window != 2 {
			t.Errorf("Load(mode %04o) gives window %d, want 2", perm, c.Window)
		}
	}
}

// TestLoadRefusals checks that Load refuses a file that someone other than
// its owner could change, or that is not a regular file, with an
// *UnsafeError that names the path, the problem and the fix.
func TestLoadRefusals(t *testing.T) {
	const fix = "whoever can change it can turn nullok on; fix with: chown root:root "
	tests := []struct {
		name     string
		needRoot bool
		make     func(t *testing.T, dir string) string // returns the path to load
		want     []string                              // each in the message
	}{
		{name: "group writable", make: mode(0o664), want: []string{"is mode 0664, writable by group or others: " + fix}},
		{name: "others writable", make: mode(0o646), want: []string{"is mode 0646, writable by group or others", "chmod go-w "}},
		{name: "world writable", make: mode(0o666), want: []string{"is mode 0666, writable by group or others"}},
		{name: "group write only", make: mode(0o620), want: []string{"is mode 0620, writable by group or others"}},
		{name: "symbolic link", make: func(t *testing.T, dir string) string {
			target := writeConfig(t, dir, "real.yaml", []byte("nullok: true\n"), 0o644)
			return symlink(t, target, filepath.Join(dir, "config.yaml"))
		}, want: []string{"is a symbolic link", "replace the link with the file itself, owned by root, mode 0644"}},
		{name: "dangling symbolic link", make: func(t *testing.T, dir string) string {
			return symlink(t, filepath.Join(dir, "missing.yaml"), filepath.Join(dir, "config.yaml"))
		}, want: []string{"is a symbolic link"}},
		{name: "directory", make: func(t *testing.T, dir string) string {
			path := filepath.Join(dir, "config.yaml")
			if err := os.Mkdir(path, 0o755); err != nil {
				t.Fatal(err)
			}
			return path
		}, want: []string{"is not a regular file; replace it with a regular file, owned by root, mode 0644"}},
		{name: "FIFO", make: func(t *testing.T, dir string) string {
			path := filepath.Join(dir, "config.yaml")
			if err := syscall.Mkfifo(path, 0o644); err != nil {
				t.Fatal(err)
			}
			return path
		}, want: []string{"is not a regular file"}},
		{name: "wrong owner", needRoot: true, make: func(t *testing.T, dir string) string {
			path := writeConfig(t, dir, "config.yaml", []byte("nullok: true\n"), 0o644)
			if err := os.Chown(path, 65534, -1); err != nil {
				t.Fatal(err)
			}
			return path
		}, want: []string{"is owned by uid 65534, not root: " + fix}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.needRoot && os.Geteuid() != 0 {
				t.Skip("changing a file's owner needs root")
			}
			path := tt.make(t, t.TempDir())
			done := make(chan struct{})
			var c *config.Config
			var err error
			go func() {
				defer close(done)
				c, err = config.Load(path)
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatalf("Load(%s) still blocks after 10s", path)
			}

			var ue *config.UnsafeError
			if !errors.As(err, &ue) || ue.Path != path || c != nil {
				t.Fatalf("Load(%s) = %+v, %v (%T); want an *UnsafeError for the path", path, c, err, err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "config: "+path+" is ") {
				t.Errorf("error %q does not start with \"config: %s is \"", msg, path)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not say %q", msg, w)
				}
			}
		})
	}
}

// TestLoadOwner checks that the file may belong to root or to the user
// Load runs as, as the store's files may.
func TestLoadOwner(t *testing.T) {
	path := writeConfig(t, t.TempDir(), "config.yaml", []byte("digits: 8\n"), 0o644)
	c, err := config.Load(path)
	if err != nil || c.Digits != 8 {
		t.Fatalf("Load(a file of uid %d, the user running) = %+v, %v; want digits 8", os.Geteuid(), c, err)
	}
	if os.Geteuid() != 0 {
		return
	}
	for _, uid := range []int{0, 65534} {
		if err := os.Chown(path, uid, -1); err != nil {
			t.Fatal(err)
		}
		_, err := config.Load(path)
		if (err == nil) != (uid == 0) {
			t.Errorf("Load(a file of uid %d) as root = %v, want the file read only if root owns it", uid, err)
		}
	}
}

func mode(perm os.FileMode) func(t *testing.T, dir string) string {
	return func(t *testing.T, dir string) string {
		return writeConfig(t, dir, "config.yaml", []byte("nullok: true\n"), perm)
	}
}

func symlink(t *testing.T, target, path string) string {
	t.Helper()
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestLoadDirRefusals checks that Load refuses a configuration file, and a
// missing one, in a directory that someone other than its owner could
// change, since they could replace or remove the file.
func TestLoadDirRefusals(t *testing.T) {
	for _, tt := range []struct {
		name   string
		perm   os.FileMode
		owner  int // -1: the test's user
		exists bool
		want   string
	}{
		{"group writable", 0o775, -1, true, "a directory of mode 0775, writable by group or others"},
		{"world writable, file missing", 0o777, -1, false, "a directory of mode 0777"},
		{"sticky and world writable", 0o777 | os.ModeSticky, -1, true, "a directory of mode 0777"},
		{"wrong owner", 0o755, 65534, true, "a directory owned by uid 65534, not root"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.owner >= 0 && os.Geteuid() != 0 {
				t.Skip("changing a directory's owner needs root")
			}
			dir := filepath.Join(t.TempDir(), "pam-totp")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "config.yaml")
			if tt.exists {
				writeConfig(t, dir, "config.yaml", []byte("digits: 8\n"), 0o644)
			}
			if err := os.Chmod(dir, tt.perm); err != nil {
				t.Fatal(err)
			}
			if tt.owner >= 0 {
				if err := os.Chown(dir, tt.owner, -1); err != nil {
					t.Fatal(err)
				}
			}

			c, err := config.Load(path)
			var ue *config.UnsafeError
			if !errors.As(err, &ue) || ue.Path != dir || c != nil {
				t.Fatalf("Load(%s) = %+v, %v; want an *UnsafeError for %s", path, c, err, dir)
			}
			for _, w := range []string{tt.want, "chown root:root " + dir + " && chmod go-w " + dir} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}
