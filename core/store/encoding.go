package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/pam-totp/pam-totp/core/backup"
	"github.com/pam-totp/pam-totp/core/otp"
)

// The plain text of a state file is the fields of State in a fixed order,
// with no names and no padding; doc.go lists them. It is written and read by
// hand rather than by reflection: a login then spends its time checking the
// code, not describing a struct to itself, and the reader accepts exactly
// one encoding of each state and nothing after it.

// errEncoding is returned for a state that the format cannot hold.
var errEncoding = errors.New("store: state does not fit the file format")

// marshalState returns the plain text of st.
func marshalState(st *State) ([]byte, error) {
	e := encoder{buf: make([]byte, 0, 160+len(st.Backup)*48)}
	e.bytes([]byte(st.User))
	e.bytes(st.Secret)
	e.u8(uint64(st.Algorithm))
	e.u8(uint64(st.Digits))
	e.u8(uint64(st.Period))
	e.bytes([]byte(st.Issuer))
	e.time(st.Created)
	e.time(st.Confirmed)
	e.u64(st.LastStep)
	e.time(st.LastUsed)
	e.u32(int64(st.Failures))
	e.u32(int64(st.Lockouts))
	e.time(st.LockedUntil)
	e.u32(int64(st.ConsecutiveFailures))
	e.u16(len(st.Backup))
	for _, h := range st.Backup {
		e.u32(int64(h.Time))
		e.u32(int64(h.Memory))
		e.u8(uint64(h.Threads))
		e.bytes(h.Salt)
		e.bytes(h.Sum)
	}
	if e.bad {
		return nil, errEncoding
	}
	return e.buf, nil
}

// unmarshalState reads the plain text of a state file. The error says what
// is wrong, for a CorruptError.
func unmarshalState(plain []byte) (*State, error) {
	d := decoder{buf: plain}
	st := &State{
		User:   string(d.bytes()),
		Secret: d.bytes(),
		Params: otp.Params{
			Algorithm: otp.Algorithm(d.u8()),
			Digits:    int(d.u8()),
			Period:    int(d.u8()),
		},
		Issuer: string(d.bytes()),
	}
	st.Created = d.time()
	st.Confirmed = d.time()
	st.LastStep = d.u64()
	st.LastUsed = d.time()
	st.Failures = int(d.u32())
	st.Lockouts = int(d.u32())
	st.LockedUntil = d.time()
	st.ConsecutiveFailures = int(d.u32())
	if n := d.u16(); n > 0 {
		st.Backup = make([]backup.Hash, 0, min(n, len(d.buf)/8))
		for i := 0; i < n && !d.bad; i++ {
			st.Backup = append(st.Backup, backup.Hash{
				Time:    uint32(d.u32()),
				Memory:  uint32(d.u32()),
				Threads: uint8(d.u8()),
				Salt:    d.bytes(),
				Sum:     d.bytes(),
			})
		}
	}
	switch {
	case d.bad:
		return nil, fmt.Errorf("%s at byte %d", d.why, len(plain)-len(d.buf))
	case len(d.buf) != 0:
		return nil, fmt.Errorf("%d bytes after the end of the state", len(d.buf))
	}
	return st, nil
}

// encoder appends fields, big-endian. A value that does not fit its field
// sets bad instead of being cut short.
type encoder struct {
	buf []byte
	bad bool
}

func (e *encoder) u8(v uint64) {
	if v > math.MaxUint8 {
		e.bad = true
	}
	e.buf = append(e.buf, byte(v))
}

func (e *encoder) u16(v int) {
	if v < 0 || v > math.MaxUint16 {
		e.bad = true
	}
	e.buf = binary.BigEndian.AppendUint16(e.buf, uint16(v))
}

func (e *encoder) u32(v int64) {
	if v < 0 || v > math.MaxUint32 {
		e.bad = true
	}
	e.buf = binary.BigEndian.AppendUint32(e.buf, uint32(v))
}

func (e *encoder) u64(v uint64) { e.buf = binary.BigEndian.AppendUint64(e.buf, v) }

// bytes writes a 2-byte length and b.
func (e *encoder) bytes(b []byte) {
	e.u16(len(b))
	e.buf = append(e.buf, b...)
}

// time writes 0 for the zero time, or 1, the seconds since 1970 (8 bytes,
// two's complement) and the nanoseconds (4 bytes).
func (e *encoder) time(t time.Time) {
	if t.IsZero() {
		e.buf = append(e.buf, 0)
		return
	}
	e.buf = append(e.buf, 1)
	e.u64(uint64(t.Unix()))
	e.u32(int64(t.Nanosecond()))
}

// decoder reads what encoder writes. After the first problem every read
// returns zero, and why says what the problem was.
type decoder struct {
	buf []byte
	bad bool
	why string
}

func (d *decoder) fail(why string) {
	if !d.bad {
		d.bad, d.why = true, why
	}
}

func (d *decoder) take(n int) []byte {
	if d.bad || len(d.buf) < n {
		d.fail("truncated")
		return nil
	}
	b := d.buf[:n:n]
	d.buf = d.buf[n:]
	return b
}

func (d *decoder) u8() uint64 {
	if b := d.take(1); b != nil {
		return uint64(b[0])
	}
	return 0
}

func (d *decoder) u16() int {
	if b := d.take(2); b != nil {
		return int(binary.BigEndian.Uint16(b))
	}
	return 0
}

func (d *decoder) u32() int64 {
	if b := d.take(4); b != nil {
		return int64(binary.BigEndian.Uint32(b))
	}
	return 0
}

func (d *decoder) u64() uint64 {
	if b := d.take(8); b != nil {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}

// bytes returns a copy, so that the state keeps nothing of the buffer.
func (d *decoder) bytes() []byte {
	b := d.take(d.u16())
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}

func (d *decoder) time() time.Time {
	switch d.u8() {
	case 0:
		return time.Time{}
	case 1:
		sec, nsec := int64(d.u64()), d.u32()
		t := time.Unix(sec, nsec).UTC()
		if nsec >= 1e9 || t.IsZero() {
			// Either would read back as another encoding of a time.
			d.fail("invalid time")
			return time.Time{}
		}
		return t
	}
	d.fail("invalid time")
	return time.Time{}
}
