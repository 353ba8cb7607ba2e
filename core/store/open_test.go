package store

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"

	"golang.org/x/crypto/chacha20poly1305"
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

// stateJSON returns the plain text of a valid state of alice, changed by
// edit.
func stateJSON(t testing.TB, edit func(m map[string]any)) []byte {
	t.Helper()
	m := map[string]any{
		"user":      "alice",
		"secret":    "MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=", // "12345678901234567890"
		"algorithm": "SHA1",
		"digits":    6,
		"period":    30,
		"created":   "2025-01-02T03:04:05Z",
	}
	if edit != nil {
		edit(m)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func set(key string, v any) func(map[string]any) {
	return func(m map[string]any) { m[key] = v }
}

// TestOpenContent seals plain texts that only the host key's holder could
// write, and checks that open still refuses those that are not a valid state
// of the user.
func TestOpenContent(t *testing.T) {
	ring := testRing()
	tests := []struct {
		name  string
		plain []byte
		want  string // part of the reason; "" if it must open
	}{
		{"valid", stateJSON(t, nil), ""},
		{"sealed with the older key", nil, ""},
		{"another user inside", stateJSON(t, set("user", "bob")), `belongs to "bob"`},
		{"no user", stateJSON(t, func(m map[string]any) { delete(m, "user") }), `belongs to ""`},
		{"unknown key", stateJSON(t, set("admin", true)), "undecodable"},
		{"empty", []byte{}, "undecodable"},
		{"null", []byte("null"), "invalid state"},
		{"not JSON", []byte("user=alice"), "undecodable"},
		{"array", []byte("[]"), "undecodable"},
		{"algorithm MD5", stateJSON(t, set("algorithm", "MD5")), "undecodable"},
		{"5 digits", stateJSON(t, set("digits", 5)), "5 digits"},
		{"9 digits", stateJSON(t, set("digits", 9)), "9 digits"},
		{"period 0", stateJSON(t, set("period", 0)), "time step of 0 seconds"},
		{"period 121", stateJSON(t, set("period", 121)), "time step of 121 seconds"},
		{"secret of 9 bytes", stateJSON(t, set("secret", "MTIzNDU2Nzg5")), "secret of 9 bytes"},
		{"secret of 65 bytes", stateJSON(t, set("secret", strings.Repeat("AAAA", 21)+"AAA=")), "secret of 65 bytes"},
		{"negative failures", stateJSON(t, set("failures", -1)), "negative counter"},
		{"negative lockouts", stateJSON(t, set("lockouts", -1)), "negative counter"},
		{"negative last step", stateJSON(t, set("last_step", -1)), "undecodable"},
		{"secret not base64", stateJSON(t, set("secret", "!!")), "undecodable"},
	}
	for _, tt := range tests {
		key := ring[0]
		if tt.plain == nil {
			tt.plain, key = stateJSON(t, nil), ring[1]
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
	a, _ := json.Marshal(st)
	b, _ := json.Marshal(st2)
	if !bytes.Equal(a, b) {
		t.Fatalf("sealed again, the state changed:\n%s\n%s", a, b)
	}
}

// FuzzOpenState feeds arbitrary bytes to the parser of state files, both as
// a whole file and as the plain text of a file sealed with the right key.
func FuzzOpenState(f *testing.F) {
	ring := testRing()
	plain := stateJSON(f, nil)
	valid := sealPlain(plain, "alice", ring[0])
	f.Add(valid)
	f.Add(sealPlain(plain, "alice", ring[1]))
	f.Add(sealPlain(plain, "bob", ring[0]))
	f.Add(plain)
	f.Add(stateJSON(f, set("backup", []map[string]any{{"t": 1, "m": 8, "p": 1, "salt": "AAAA", "sum": "AAAA"}})))
	f.Add(stateJSON(f, set("locked_until", "2025-01-02T03:04:05+02:00")))
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
