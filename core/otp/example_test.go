package otp_test

import (
	"fmt"
	"time"

	"github.com/pam-totp/pam-totp/core/otp"
)

func ExampleTOTP() {
	// The SHA1 seed and a time of RFC 6238, Appendix B.
	secret := []byte("12345678901234567890")
	at := time.Unix(1111111109, 0)

	fmt.Println(otp.TOTP(secret, at, otp.Params{Algorithm: otp.SHA1, Digits: 8, Period: 30}))
	fmt.Println(otp.TOTP(secret, at, otp.DefaultParams))
	// Output:
	// 07081804
	// 081804
}

func ExampleKey_URI() {
	k := otp.Key{
		Issuer:  "ACME Co",
		Account: "alice",
		Secret:  []byte("12345678901234567890"),
		Params:  otp.Params{Algorithm: otp.SHA256, Digits: 8, Period: 30},
	}
	fmt.Println(k.URI())
	// Output:
	// otpauth://totp/ACME%20Co:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=ACME%20Co&algorithm=SHA256&digits=8
}

func ExampleParseURI() {
	uri := "otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example"
	k, err := otp.ParseURI(uri)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(k.Issuer, k.Account, k.Algorithm, k.Digits, k.Period)
	fmt.Println(otp.TOTP(k.Secret, time.Unix(1700000000, 0), k.Params))

	_, err = otp.ParseURI("otpauth://hotp/Example:alice?secret=JBSWY3DPEHPK3PXP&counter=0")
	fmt.Println(err)
	// Output:
	// Example alice@google.com SHA1 6 30
	// 324550
	// otp: HOTP (counter-based) keys are not supported, only TOTP
}
