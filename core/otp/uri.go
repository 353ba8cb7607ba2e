package otp

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Key is everything an authenticator app needs: the secret, its parameters
// and the names it shows.
type Key struct {
	Issuer  string
	Account string
	Secret  []byte
	Params
}

// URI returns the key as an otpauth:// URI in Google's Key URI Format:
// otpauth://totp/Issuer:account?secret=...&issuer=Issuer, with algorithm,
// digits and period written out only where they differ from the defaults,
// since some apps refuse a key that names them at all.
func (k Key) URI() string {
	label := url.PathEscape(k.Account)
	if k.Issuer != "" {
		label = url.PathEscape(k.Issuer) + ":" + label
	}
	q := []string{"secret=" + EncodeSecret(k.Secret)}
	if k.Issuer != "" {
		// RFC 3986 escaping, as the format asks: apps show a "+" from
		// url.QueryEscape as a plus sign, not a space.
		q = append(q, "issuer="+strings.ReplaceAll(url.QueryEscape(k.Issuer), "+", "%20"))
	}
	if k.Algorithm != SHA1 {
		q = append(q, "algorithm="+k.Algorithm.String())
	}
	if k.Digits != 0 && k.Digits != DefaultParams.Digits {
		q = append(q, "digits="+strconv.Itoa(k.Digits))
	}
	if k.Period != 0 && k.Period != DefaultParams.Period {
		q = append(q, "period="+strconv.Itoa(k.Period))
	}
	return "otpauth://totp/" + label + "?" + strings.Join(q, "&")
}

// ParseURI reads an otpauth://totp/ URI. The issuer comes from the issuer
// parameter, or else from the label's prefix; if both are there they must
// agree. Missing parameters take the defaults. HOTP URIs are refused: only
// time-based codes are supported.
func ParseURI(s string) (Key, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return Key{}, fmt.Errorf("otp: invalid URI: %w", err)
	}
	if u.Scheme != "otpauth" {
		return Key{}, fmt.Errorf("otp: URI scheme is %q, want otpauth", u.Scheme)
	}
	switch strings.ToLower(u.Host) {
	case "totp":
	case "hotp":
		return Key{}, errors.New("otp: HOTP (counter-based) keys are not supported, only TOTP")
	default:
		return Key{}, fmt.Errorf("otp: URI type is %q, want totp", u.Host)
	}

	k := Key{Params: DefaultParams}
	label := strings.TrimPrefix(u.Path, "/")
	if i := strings.IndexByte(label, ':'); i >= 0 {
		k.Issuer = strings.TrimSpace(label[:i])
		label = label[i+1:]
	}
	k.Account = strings.TrimSpace(label)

	q := u.Query()
	if iss := strings.TrimSpace(q.Get("issuer")); iss != "" {
		if k.Issuer != "" && k.Issuer != iss {
			return Key{}, fmt.Errorf("otp: URI names two issuers, %q and %q", k.Issuer, iss)
		}
		k.Issuer = iss
	}
	// The label splits at the first colon, so a name with a colon would
	// read back differently; the Key URI Format forbids it.
	if strings.Contains(k.Issuer, ":") || strings.Contains(k.Account, ":") {
		return Key{}, fmt.Errorf("otp: URI issuer %q or account %q contains a colon, which the format forbids",
			k.Issuer, k.Account)
	}
	if q.Get("secret") == "" {
		return Key{}, errors.New("otp: URI has no secret")
	}
	if k.Secret, err = DecodeSecret(q.Get("secret")); err != nil {
		return Key{}, err
	}
	if a := q.Get("algorithm"); a != "" {
		if k.Algorithm, err = ParseAlgorithm(a); err != nil {
			return Key{}, err
		}
	}
	if k.Digits, err = intParam(q, "digits", k.Digits); err != nil {
		return Key{}, err
	}
	if k.Period, err = intParam(q, "period", k.Period); err != nil {
		return Key{}, err
	}
	if err := k.Params.Validate(); err != nil {
		return Key{}, err
	}
	return k, nil
}

func intParam(q url.Values, name string, def int) (int, error) {
	v := q.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("otp: URI parameter %s=%q is not a number", name, v)
	}
	return n, nil
}

// MaxIssuerLen bounds an issuer, so that its URI stays a QR code a phone
// reads easily.
const MaxIssuerLen = 100

// CheckIssuer reports whether s can be the issuer of a Key URI: at most
// MaxIssuerLen bytes, with no colon, which separates the issuer from the
// account in the label, and no control character.
func CheckIssuer(s string) error {
	if len(s) > MaxIssuerLen {
		return fmt.Errorf("otp: issuer is %d bytes long: want at most %d", len(s), MaxIssuerLen)
	}
	if strings.Contains(s, ":") {
		return fmt.Errorf("otp: issuer %q may not contain a colon: "+
			"it separates issuer and account in otpauth:// URIs", s)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("otp: issuer %q contains a control character", s)
		}
	}
	return nil
}
