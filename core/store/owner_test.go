package store

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestOwnerProblem checks that a file of the wrong owner is refused with a
// fix that hands it to root, whoever the process runs as: a process of an
// ordinary user must not be told to chown root's files to itself.
func TestOwnerProblem(t *testing.T) {
	path := filepath.Join(t.TempDir(), "host.key")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		if err := os.Chown(path, 65534, -1); err != nil {
			t.Fatal(err)
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	owner := int(fi.Sys().(*syscall.Stat_t).Uid)

	tests := []struct {
		uid  int
		want string
	}{
		{0, "owned by uid " + strconv.Itoa(owner) + ", not root; fix with: chown root " + path},
		{owner + 1, "owned by uid " + strconv.Itoa(owner) + ", and this process runs as uid " + strconv.Itoa(owner+1) +
			", not root: the module and totpctl must run as root, with the file owned by root " +
			"(chown root " + path + ")"},
	}
	for _, tt := range tests {
		err := checkOwner(path, fi, tt.uid, 0o077, "open to group or others")
		var ue *UnsafeError
		if !errors.As(err, &ue) || ue.Path != path || ue.Problem != tt.want {
			t.Errorf("checkOwner as uid %d = %v, want %q", tt.uid, err, tt.want)
		}
		if strings.Contains(err.Error(), "chown "+strconv.Itoa(tt.uid)) {
			t.Errorf("checkOwner as uid %d = %v, which hands the file to that uid", tt.uid, err)
		}
	}
	if err := checkOwner(path, fi, owner, 0o077, "open to group or others"); err != nil {
		t.Errorf("checkOwner as the owner, uid %d = %v, want nil", owner, err)
	}
}
