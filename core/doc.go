// Package core is the part of pam-totp that the PAM module and totpctl
// share. It holds no code of its own; its packages are:
//
//   - otp: HOTP and TOTP codes (RFC 4226, RFC 6238), secrets, otpauth:// URIs
//   - backup: single-use backup codes and their salted hashes
//   - config: the configuration file
//   - store: the encrypted per-user state files and the host key
//   - policy: the decision on a code: window, replay, lockout, backup codes
//
// # Security model
//
// Each enrolled user's secret and state are kept in one file in the state
// directory, encrypted and authenticated with XChaCha20-Poly1305 under a
// 32-byte host key. The file is bound to the user's name and to the format
// version, so it cannot be edited, truncated, or moved to another user
// without being refused. The key and the files must belong to root and be
// private to it; anything else, a symbolic link included, is refused.
// Whoever is root can read the key and so every secret: pam-totp protects the
// secrets from users, from backups and copies of the state directory without
// the key, and from tampering, not from root.
//
// A code is accepted only for a time step after the last accepted one, so
// each code works once, even when two logins race with it: every check runs
// under the user's lock. The host's clock must be right to within the window
// (one 30-second step either way by default); keep it synchronised. After
// too many consecutive failures the user is locked out for a time that grows
// with each lockout, and the count is kept in the state file, across
// sessions. Backup codes are stored only as salted Argon2id hashes and each
// works once.
//
// Every error is returned, never logged, and an error always means the code
// was not accepted: the callers fail closed.
package core
