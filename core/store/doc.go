// Package store keeps one encrypted state file per enrolled user.
//
// A state file holds the user's secret and everything the verification
// policy remembers about the user: the code parameters, the last accepted
// time step, the failure counter and lockout, and the backup code hashes.
// It is sealed with XChaCha20-Poly1305 under a 32-byte host key. The
// associated data binds the file's header (format version and key id) and
// the user name, so a file that is modified, truncated, or copied or renamed
// to another user fails to open.
//
// # File format, version 1
//
//	offset  size  content
//	0       7     magic "PAMTOTP"
//	7       1     format version, 1
//	8       8     key id: the first 8 bytes of SHA-256("pam-totp host key\x00" || key)
//	16      24    random nonce
//	40      ...   ciphertext and 16-byte tag of the encoded State
//
// The associated data is the first 16 bytes followed by the user name.
//
// The encoded State is its fields in this order, big-endian, with no names
// and no padding. A string or byte field is a 2-byte length and the bytes; a
// time is the byte 0 for none, or the byte 1, the seconds since 1970 UTC (8
// bytes, two's complement) and the nanoseconds (4 bytes).
//
//	user          string
//	secret        bytes
//	algorithm     1 byte: 0 SHA1, 1 SHA256, 2 SHA512
//	digits        1 byte
//	period        1 byte, seconds
//	issuer        string
//	created       time
//	confirmed     time
//	last step     8 bytes
//	last used     time
//	failures      4 bytes
//	lockouts      4 bytes
//	locked until  time
//	consecutive   4 bytes: failures since the last success or unlock
//	backup codes  2-byte count, then for each: Argon2id passes (4 bytes),
//	              memory in KiB (4 bytes), threads (1 byte), salt (bytes),
//	              hash (bytes)
//
// Nothing may follow the last field, and each state has exactly one
// encoding: a file that differs from it in any way does not open.
//
// # Files and their permissions
//
// The state directory holds <user>.totp, the state file, and <user>.lock,
// an empty file whose flock serializes every read-modify-write of that user.
// The host key lives in its own file, and during a key rotation a second
// key, the key file's name with ".new" appended, is used for every write.
// Every transaction also holds a shared flock on .rotation.lock in the state
// directory, which a rotation takes exclusively while it creates the new
// key, so no transaction that read only the old key outlives its creation.
//
// Every file is opened without following symbolic links, then checked on
// the open descriptor: it must be a regular file owned by the effective user
// (root in production) with no permission bits for group or others. The
// state directory must be owned by that user and writable by no one else.
// Anything else is refused with an error naming the path, the problem and
// what to do about it.
//
// Every write goes to a new file in the state directory, created with
// O_EXCL and mode 0600, written, synced, and renamed over the old file, and
// then the directory is synced, so a crash leaves either the old or the new
// state, never a torn or empty file, and a full disk leaves the old state.
package store
