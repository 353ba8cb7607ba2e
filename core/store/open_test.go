package store

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/pam-totp/pam-totp/core/backup"
	"github.com/pam-totp/pam-totp/core/otp"
)

// testRing returns a ring of two fixed keys, as during a rotation.
func testRing() keyRing {
	var ring keyRing
	for _, b := range []byte{1, 2} {
		key := bytes.Repeat([]byte{b}, KeySize)
		ring = append(ring, hostKey{id: keyID(key), key: key})
	}
	return ring
}

// sealPlain seals plain as the content of user's state file, whatever it
// holds, so that tests reach the checks behind the authentication.
func sealPlain(plain []byte, user string, key hostKey) []byte {
	aead, err := chacha20poly1305.NewX(key.key)
	if err != nil {
		panic(err)
	}
	out := make([]byte, headerSize+nonceSize)
	copy(out, magic)
	out[len(magic)] = version
	copy(out[len(magic)+1:], key.id[:])
	return aead.Seal(out, out[headerSize:], plain, additionalData(out[:headerSize], user))
}

// aliceState returns a valid state of alice, changed by edit, which may
// make it invalid.
func aliceState(edit func(st *State)) *State {
	st := &State{
		User:    "alice",
		Secret:  []byte("12345678901234567890"),
		Params:  otp.DefaultParams,
		Created: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
	}
	if edit != nil {
		edit(st)
	}
	return st
}

// plainOf returns the plain text of a state file holding st.
func plainOf(t testing.TB, st *State) []byte {
	t.Helper()
	b, err := marshalState(st)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// createdAt is the offset of the created time in the plain text of st.
func createdAt(st *State) int {
	return 2 + len(st.User) + 2 + len(st.Secret) + 3 + 2 + len(st.Issuer)
}

// patch returns a copy of b with b[i] set to v.
func patch(b []byte, i int, v byte) []byte {
	b = bytes.Clone(b)
	b[i] = v
	return b
}

// TestOpenContent seals plain texts that only the host key's holder could
// write, and checks that open still refuses those that are not a valid state
// of the user.
func TestOpenContent(t *testing.T) {
	ring := testRing()
	valid := plainOf(t, aliceState(nil))
	at := createdAt(aliceState(nil))
	edited := func(edit func(st *State)) []byte { return plainOf(t, aliceState(edit)) }
	tests := []struct {
		name  string
		plain []byte
		want  string // part of the reason; "" if it must open
	}{
		{"valid", valid, ""},
		{"sealed with the older key", nil, ""},
		{"another user inside", edited(func(st *State) { st.User = "bob" }), `belongs to "bob"`},
		{"no user", edited(func(st *State) { st.User = "" }), `belongs to ""`},
		{"a byte after the end", append(bytes.Clone(valid), 0), "1 bytes after the end"},
		{"empty", []byte{}, "undecodable state: truncated at byte 0"},
		{"last byte cut", valid[:len(valid)-1], "truncated"},
		{"user longer than the rest", patch(valid, 1, 0xff), "truncated"},
		{"algorithm 3", edited(func(st *State) { st.Algorithm = 3 }), "invalid algorithm 3"},
		{"5 digits", edited(func(st *State) { st.Digits = 5 }), "5 digits"},
		{"9 digits", edited(func(st *State) { st.Digits = 9 }), "9 digits"},
		{"period 0", edited(func(st *State) { st.Period = 0 }), "time step of 0 seconds"},
		{"period 121", edited(func(st *State) { st.Period = 121 }), "time step of 121 seconds"},
		{"secret of 9 bytes", edited(func(st *State) { st.Secret = st.Secret[:9] }), "secret of 9 bytes"},
		{"secret of 65 bytes", edited(func(st *State) { st.Secret = make([]byte, 65) }), "secret of 65 bytes"},
		{"no secret", edited(func(st *State) { st.Secret = nil }), "secret of 0 bytes"},
		{"time flag 2", patch(valid, at, 2), "invalid time at byte"},
		{"nanoseconds out of range", patch(valid, at+1+8, 0x40), "invalid time"},
		{"zero time written as a time", append(binary.BigEndian.AppendUint64(
			bytes.Clone(valid[:at+1]), uint64(time.Time{}.Unix())), valid[at+9:]...), "invalid time"},
	}
	for _, tt := range tests {
		key := ring[0]
		if tt.plain == nil {
			tt.plain, key = valid, ring[1]
		}
		st, id, reason := open(sealPlain(tt.plain, "alice", key), "alice", ring)
		switch {
		case tt.want == "" && (st == nil || reason != "" || id != key.id):
			t.Errorf("%s: open = %v, %v, %q; want a state sealed with %v", tt.name, st, id, reason, key.id)
		case tt.want != "" && (st != nil || !strings.Contains(reason, tt.want)):
			t.Errorf("%s: open = %v, %q; want a refusal saying %q", tt.name, st, reason, tt.want)
		}
	}
}

// checkOpen opens data as alice's state file and checks what open promises,
// whatever data holds.
func checkOpen(t *testing.T, data []byte, ring keyRing) {
	t.Helper()
	st, id, reason := open(data, "alice", ring)
	if (st == nil) == (reason == "") {
		t.Fatalf("open returned state %v and reason %q: want exactly one", st, reason)
	}
	if st == nil {
		return
	}
	if ring.find(id) == nil {
		t.Fatalf("open succeeded with key %v, which is not in the ring", id)
	}
	if err := st.validate("alice"); err != nil {
		t.Fatalf("open returned an invalid state: %v", err)
	}
	if _, _, r := open(data, "bob", ring); r == "" {
		t.Fatal("a file that opens as alice's also opens as bob's")
	}

	// What opens seals again and opens to the same state.
	again, err := seal(st, "alice", ring[0], rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	st2, _, reason := open(again, "alice", ring)
	if st2 == nil {
		t.Fatalf("a state that opened does not open once sealed again: %s", reason)
	}
	a, err := marshalState(st)
	if err != nil {
		t.Fatalf("a state that opened does not encode: %v", err)
	}
	if b, _ := marshalState(st2); !bytes.Equal(a, b) || !bytes.Equal(a, plainOfFile(t, data, ring)) {
		t.Fatalf("sealed again, the state changed, or it was read from another encoding of it:\n%x", a)
	}
}

// plainOfFile returns the decrypted plain text of a state file of alice
// that opens.
func plainOfFile(t *testing.T, data []byte, ring keyRing) []byte {
	t.Helper()
	var id KeyID
	copy(id[:], data[len(magic)+1:headerSize])
	aead, err := chacha20poly1305.NewX(ring.find(id).key)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := aead.Open(nil, data[headerSize:headerSize+nonceSize],
		data[headerSize+nonceSize:], additionalData(data[:headerSize], "alice"))
	if err != nil {
		t.Fatal(err)
	}
	return plain
}

// FuzzOpenState feeds arbitrary bytes to the parser of state files, both as
// a whole file and as the plain text of a file sealed with the right key.
func FuzzOpenState(f *testing.F) {
	ring := testRing()
	plain := plainOf(f, aliceState(nil))
	valid := sealPlain(plain, "alice", ring[0])
	f.Add(valid)
	f.Add(sealPlain(plain, "alice", ring[1]))
	f.Add(sealPlain(plain, "bob", ring[0]))
	f.Add(plain)
	f.Add(plainOf(f, aliceState(func(st *State) {
		st.Backup = []backup.Hash{{Time: 1, Memory: 8, Threads: 1, Salt: []byte{0}, Sum: []byte{0}}}
	})))
	f.Add(plainOf(f, aliceState(func(st *State) {
		st.Issuer = "example.org"
		st.Confirmed = st.Created.Add(time.Minute)
		st.LastStep, st.LastUsed = 58008, st.Created.Add(time.Hour)
		st.Failures, st.Lockouts, st.LockedUntil = 3, 1, st.Created.Add(2*time.Hour+time.Nanosecond)
	})))
	f.Add([]byte{})
	f.Add([]byte(magic))
	f.Add(valid[:headerSize])
	f.Add(valid[:overhead])
	f.Add(valid[:len(valid)-1])
	for _, i := range []int{0, len(magic), headerSize - 1, headerSize, overhead, len(valid) - 1} {
		b := bytes.Clone(valid)
		b[i] ^= 0x80
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkOpen(t, data, ring)
		checkOpen(t, sealPlain(data, "alice", ring[1]), ring)
	})
}
