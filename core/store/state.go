package store

import (
	"bytes"
	"fmt"
	"io"
	"time"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/pam-totp/pam-totp/core/backup"
	"github.com/pam-totp/pam-totp/core/otp"
)

// State is everything kept about one enrolled user.
type State struct {
	User   string
	Secret []byte
	otp.Params
	Issuer string

	Created   time.Time
	Confirmed time.Time // zero: never checked against the app

	// LastStep is the time step of the last accepted code; no code for it
	// or an earlier step is accepted again. Zero means none yet.
	LastStep uint64
	LastUsed time.Time

	Failures    int // since the last lockout, success or unlock
	Lockouts    int // since the last success or unlock, to grow the delay
	LockedUntil time.Time

	// ConsecutiveFailures counts the failures since the last success or
	// unlock, across lockouts, for the limit after which only an
	// administrator can unlock the user.
	ConsecutiveFailures int

	Backup []backup.Hash
}

// Key returns the otp.Key of the state, for URIs.
func (st *State) Key() otp.Key {
	return otp.Key{Issuer: st.Issuer, Account: st.User, Secret: st.Secret, Params: st.Params}
}

func (st *State) validate(user string) error {
	if st.User != user {
		return fmt.Errorf("it belongs to %q", st.User)
	}
	if err := st.Params.Validate(); err != nil {
		return err
	}
	if len(st.Secret) < 10 || len(st.Secret) > otp.MaxSecretSize {
		return fmt.Errorf("secret of %d bytes", len(st.Secret))
	}
	if st.Failures < 0 || st.Lockouts < 0 || st.ConsecutiveFailures < 0 {
		return fmt.Errorf("negative counter")
	}
	return nil
}

const (
	magic      = "PAMTOTP"
	version    = 1
	headerSize = len(magic) + 1 + len(KeyID{})
	nonceSize  = chacha20poly1305.NonceSizeX
	overhead   = headerSize + nonceSize + chacha20poly1305.Overhead
)

func additionalData(header []byte, user string) []byte {
	return append(append([]byte{}, header...), user...)
}

// seal encrypts st for user under key.
func seal(st *State, user string, key hostKey, rand io.Reader) ([]byte, error) {
	if err := st.validate(user); err != nil {
		return nil, fmt.Errorf("store: refusing to save an invalid state: %w", err)
	}
	plain, err := marshalState(st)
	if err != nil {
		return nil, err
	}
	aead, err := chacha20poly1305.NewX(key.key)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	out := make([]byte, headerSize+nonceSize, overhead+len(plain))
	copy(out, magic)
	out[len(magic)] = version
	copy(out[len(magic)+1:], key.id[:])
	if _, err := io.ReadFull(rand, out[headerSize:]); err != nil {
		return nil, fmt.Errorf("store: reading random bytes: %w", err)
	}
	return aead.Seal(out, out[headerSize:], plain, additionalData(out[:headerSize], user)), nil
}

// open decrypts a state file of user. The reason in an error is for
// CorruptError.
func open(data []byte, user string, ring keyRing) (*State, KeyID, string) {
	var id KeyID
	if len(data) < len(magic)+1 || !bytes.HasPrefix(data, []byte(magic)) {
		if len(data) == 0 {
			return nil, id, "file is empty"
		}
		return nil, id, "not a pam-totp state file"
	}
	if v := data[len(magic)]; v != version {
		return nil, id, fmt.Sprintf("format version %d is not supported (this build reads version %d)", v, version)
	}
	if len(data) < overhead {
		return nil, id, "file is truncated"
	}
	copy(id[:], data[len(magic)+1:headerSize])
	key := ring.find(id)
	if key == nil {
		return nil, id, fmt.Sprintf("sealed with host key %s, which is not the current host key "+
			"(if the key file was replaced, putting the old key back opens the file again)", id)
	}
	aead, err := chacha20poly1305.NewX(key.key)
	if err != nil {
		return nil, id, err.Error()
	}
	nonce := data[headerSize : headerSize+nonceSize]
	plain, err := aead.Open(nil, nonce, data[headerSize+nonceSize:], additionalData(data[:headerSize], user))
	if err != nil {
		return nil, id, "authentication failed: the file was modified, truncated, or belongs to another user"
	}
	st, err := unmarshalState(plain)
	if err != nil {
		return nil, id, fmt.Sprintf("undecodable state: %v", err)
	}
	if err := st.validate(user); err != nil {
		return nil, id, fmt.Sprintf("invalid state: %v", err)
	}
	return st, id, ""
}
