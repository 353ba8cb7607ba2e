// Package otp computes one-time codes: HOTP (RFC 4226) and TOTP (RFC 6238)
// with HMAC-SHA1, HMAC-SHA256 or HMAC-SHA512, 6 to 8 digits, and a time step
// of 15 to 120 seconds. It also makes, encodes and decodes secrets and reads
// and writes otpauth:// key URIs.
//
// The functions here are pure: they take the time and the source of
// randomness as arguments and never read the wall clock. Codes are strings
// of exactly the configured number of digits, leading zeros kept, and
// [Equal] compares them in constant time.
package otp
