// Package policy decides whether a login's code is accepted. It is the one
// place that reads and changes a user's state during a login, and the PAM
// module and totpctl both go through it, so a code checked by either is
// checked the same way.
//
// The rules, in the order they apply:
//
//   - A user who is locked out is refused, whatever they type, until the
//     lockout ends or an administrator unlocks them.
//   - A TOTP code is accepted for the current time step and for Window steps
//     either side, to allow for clock drift (RFC 6238, section 5.2).
//   - A code for a time step at or before the last accepted one is refused
//     as a replay (RFC 6238, section 5.2; NIST SP 800-63B, 5.1.4.2), even
//     within the window. A replay does not count as a failure: whoever sent
//     it knew the code, so it tells them nothing.
//   - An empty answer is refused and not counted.
//   - Anything else that is not an unused backup code counts as a failure.
//     MaxFailures consecutive failures lock the user out for LockoutDelay,
//     doubled for each further lockout without a success between them, up
//     to LockoutMax (RFC 4226, section 7.3). The count lives in the state
//     file, so it holds across sessions, hosts' processes and reboots.
//   - FailureLimit consecutive failures, counted across lockouts, lock the
//     user out until an administrator unlocks them: guessing stops there
//     (NIST SP 800-63B, section 5.2.2, allows at most 100).
//   - A backup code is accepted once and then removed.
//   - Any success, and an administrator's unlock, resets the failure count
//     and the lockouts.
//
// The window is the only allowance for drift: the policy does not learn a
// user's clock skew. A learned skew would move the window, so that a code
// far from the server's time could become acceptable, and the skew is
// logged with each accepted code instead, for an administrator to see a
// clock going wrong.
//
// All of this happens under the user's lock, so two logins racing with the
// same code cannot both succeed. The clock and the source of randomness are
// fields of the Verifier; nothing here reads the wall clock directly.
package policy
