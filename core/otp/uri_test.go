package otp_test

import (
	"bytes"
	"net/url"
	"strings"
	"testing"

	"github.com/pam-totp/pam-totp/core/otp"
)

var rfcSecret = []byte("12345678901234567890")

const rfcSecretB32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

func TestKeyURI(t *testing.T) {
	tests := []struct {
		name string
		key  otp.Key
		want string
	}{
		{
			"defaults",
			otp.Key{Issuer: "Example", Account: "alice@example.com", Secret: rfcSecret,
				Params: otp.DefaultParams},
			"otpauth://totp/Example:alice@example.com?secret=" + rfcSecretB32 + "&issuer=Example",
		},
		{
			"zero params mean the defaults",
			otp.Key{Issuer: "Example", Account: "alice", Secret: rfcSecret},
			"otpauth://totp/Example:alice?secret=" + rfcSecretB32 + "&issuer=Example",
		},
		{
			"no issuer",
			otp.Key{Account: "alice", Secret: rfcSecret, Params: otp.DefaultParams},
			"otpauth://totp/alice?secret=" + rfcSecretB32,
		},
		{
			"every parameter differs",
			otp.Key{Issuer: "host", Account: "root", Secret: rfcSecret,
				Params: otp.Params{Algorithm: otp.SHA512, Digits: 8, Period: 60}},
			"otpauth://totp/host:root?secret=" + rfcSecretB32 +
				"&issuer=host&algorithm=SHA512&digits=8&period=60",
		},
		{
			"only the digits differ",
			otp.Key{Issuer: "host", Account: "root", Secret: rfcSecret,
				Params: otp.Params{Algorithm: otp.SHA1, Digits: 7, Period: 30}},
			"otpauth://totp/host:root?secret=" + rfcSecretB32 + "&issuer=host&digits=7",
		},
		{
			"only the algorithm differs",
			otp.Key{Issuer: "host", Account: "root", Secret: rfcSecret,
				Params: otp.Params{Algorithm: otp.SHA256, Digits: 6, Period: 30}},
			"otpauth://totp/host:root?secret=" + rfcSecretB32 + "&issuer=host&algorithm=SHA256",
		},
		{
			"only the period differs",
			otp.Key{Issuer: "host", Account: "root", Secret: rfcSecret,
				Params: otp.Params{Algorithm: otp.SHA1, Digits: 6, Period: 15}},
			"otpauth://totp/host:root?secret=" + rfcSecretB32 + "&issuer=host&period=15",
		},
		{
			// The example of Google's Key URI Format, spaces as %20 in the
			// label and in the issuer parameter alike.
			"spaces",
			otp.Key{Issuer: "ACME Co", Account: "john.doe@email.com", Secret: rfcSecret,
				Params: otp.DefaultParams},
			"otpauth://totp/ACME%20Co:john.doe@email.com?secret=" + rfcSecretB32 + "&issuer=ACME%20Co",
		},
	}
	for _, tt := range tests {
		if got := tt.key.URI(); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
	}
}

// TestKeyURIEscaping checks names with characters that mean something in a
// URI. Apps read the label and the issuer parameter as RFC 3986 escapes
// them, where "+" is a plus sign and not a space, so that is how the test
// reads them too.
func TestKeyURIEscaping(t *testing.T) {
	names := []string{
		"ACME Co", "a&b", "a=b", "a+b", "a/b", "a?b", "a#b", "a%b", "a;b",
		"a,b", "a@b", "a'b\"c", "a\\b", "Zürich", "日本", "tab\there", "a  b",
	}
	for _, name := range names {
		k := otp.Key{Issuer: name, Account: name + " user", Secret: rfcSecret, Params: otp.DefaultParams}
		s := k.URI()
		if strings.ContainsAny(s, " \t#") {
			t.Errorf("%q: URI %q has an unescaped space, tab or #", name, s)
		}
		u, err := url.Parse(s)
		if err != nil {
			t.Errorf("%q: URI %q does not parse: %v", name, s, err)
			continue
		}
		if got, want := u.Path, "/"+name+":"+name+" user"; got != want {
			t.Errorf("%q: URI %q has label %q, want %q", name, s, got, want)
		}
		if got := rawParam(t, u.RawQuery, "issuer"); got != name {
			t.Errorf("%q: URI %q has issuer parameter %q, want %q", name, s, got, name)
		}
		if got := rawParam(t, u.RawQuery, "secret"); got != rfcSecretB32 {
			t.Errorf("%q: URI %q has secret %q, want %q", name, s, got, rfcSecretB32)
		}
	}
}

// rawParam returns the value of a query parameter decoded as RFC 3986
// percent-encoding, without reading "+" as a space.
func rawParam(t *testing.T, query, name string) string {
	t.Helper()
	for _, kv := range strings.Split(query, "&") {
		k, v, _ := strings.Cut(kv, "=")
		if k != name {
			continue
		}
		s, err := url.PathUnescape(v)
		if err != nil {
			t.Errorf("parameter %s=%s is not valid percent-encoding: %v", name, v, err)
		}
		return s
	}
	return ""
}

func TestParseURI(t *testing.T) {
	def := otp.DefaultParams
	tests := []struct {
		name string
		in   string
		want otp.Key
	}{
		{
			"Google's example",
			"otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example",
			otp.Key{Issuer: "Example", Account: "alice@google.com",
				Secret: []byte("Hello!\xde\xad\xbe\xef"), Params: def},
		},
		{
			"every parameter, defaults written out",
			"otpauth://totp/ACME%20Co:john.doe@email.com?secret=" + rfcSecretB32 +
				"&issuer=ACME%20Co&algorithm=SHA1&digits=6&period=30",
			otp.Key{Issuer: "ACME Co", Account: "john.doe@email.com", Secret: rfcSecret, Params: def},
		},
		{
			"every parameter, not the defaults",
			"otpauth://totp/host:root?secret=" + rfcSecretB32 +
				"&issuer=host&algorithm=sha256&digits=8&period=60",
			otp.Key{Issuer: "host", Account: "root", Secret: rfcSecret,
				Params: otp.Params{Algorithm: otp.SHA256, Digits: 8, Period: 60}},
		},
		{
			"issuer only in the label",
			"otpauth://totp/host:root?secret=" + rfcSecretB32,
			otp.Key{Issuer: "host", Account: "root", Secret: rfcSecret, Params: def},
		},
		{
			"issuer only as a parameter",
			"otpauth://totp/root?secret=" + rfcSecretB32 + "&issuer=host",
			otp.Key{Issuer: "host", Account: "root", Secret: rfcSecret, Params: def},
		},
		{
			"no issuer",
			"otpauth://totp/root?secret=" + rfcSecretB32,
			otp.Key{Account: "root", Secret: rfcSecret, Params: def},
		},
		{
			"escaped colon and spaces in the label",
			"otpauth://totp/ACME%20Co%3A%20%20john?secret=" + rfcSecretB32 + "&issuer=ACME+Co",
			otp.Key{Issuer: "ACME Co", Account: "john", Secret: rfcSecret, Params: def},
		},
		{
			"white space around the issuer parameter",
			"otpauth://totp/host:root?secret=" + rfcSecretB32 + "&issuer=%20host+",
			otp.Key{Issuer: "host", Account: "root", Secret: rfcSecret, Params: def},
		},
		{
			"upper-case type, secret as typed, white space around",
			"  otpauth://TOTP/host:root?secret=gezd+gnbv+gy3t+qojq+gezd+gnbv+gy3t+qojq&issuer=host\n",
			otp.Key{Issuer: "host", Account: "root", Secret: rfcSecret, Params: def},
		},
		{
			"padding",
			"otpauth://totp/x?secret=MZXW6%3D%3D%3D",
			otp.Key{Account: "x", Secret: []byte("foo"), Params: def},
		},
		{
			"unknown parameters are ignored",
			"otpauth://totp/x?secret=" + rfcSecretB32 + "&image=https%3A%2F%2Fexample.com%2Fa.png",
			otp.Key{Account: "x", Secret: rfcSecret, Params: def},
		},
	}
	for _, tt := range tests {
		got, err := otp.ParseURI(tt.in)
		if err != nil {
			t.Errorf("%s: ParseURI(%q): %v", tt.name, tt.in, err)
			continue
		}
		if !keysEqual(got, tt.want) {
			t.Errorf("%s: ParseURI(%q)\n got %+v\nwant %+v", tt.name, tt.in, got, tt.want)
		}
	}
}

func keysEqual(a, b otp.Key) bool {
	return a.Issuer == b.Issuer && a.Account == b.Account &&
		bytes.Equal(a.Secret, b.Secret) && a.Params == b.Params
}

func TestParseURIErrors(t *testing.T) {
	s := "secret=" + rfcSecretB32
	tests := []struct{ in, want string }{
		{"otpauth://hotp/host:root?" + s + "&counter=0", "HOTP (counter-based) keys are not supported"},
		{"otpauth://HOTP/root?" + s, "HOTP"},
		{"otpauth://motp/root?" + s, `URI type is "motp", want totp`},
		{"otpauth:///root?" + s, `URI type is "", want totp`},
		{"https://totp/root?" + s, `URI scheme is "https", want otpauth`},
		{"totp/root?" + s, `URI scheme is "", want otpauth`},
		{"", "scheme"},
		{"otpauth://totp/%zz?" + s, "invalid URI"},
		{"otpauth://totp/host:root", "URI has no secret"},
		{"otpauth://totp/host:root?secret=&issuer=host", "URI has no secret"},
		{"otpauth://totp/host:root?secret=ABC1", "'1' is not a base32 character"},
		{"otpauth://totp/host:root?secret=A", "not a valid base32 length"},
		{"otpauth://totp/host:root?secret=%3D%3D", "secret is empty"},
		{"otpauth://totp/Alpha:root?" + s + "&issuer=Beta", `URI names two issuers, "Alpha" and "Beta"`},
		{"otpauth://totp/alpha:root?" + s + "&issuer=Alpha", "two issuers"},
		{"otpauth://totp/root?" + s + "&issuer=a%3Ab", `issuer "a:b" or account "root" contains a colon`},
		{"otpauth://totp/a%3Ab:root?" + s + "&issuer=a", "contains a colon"},
		{"otpauth://totp/:b:c?" + s, `account "b:c" contains a colon`},
		{"otpauth://totp/a:b:c?" + s, "contains a colon"},
		{"otpauth://totp/root?" + s + "&algorithm=MD5", `unknown algorithm "MD5"`},
		{"otpauth://totp/root?" + s + "&digits=5", "5 digits: want 6 to 8"},
		{"otpauth://totp/root?" + s + "&digits=9", "9 digits: want 6 to 8"},
		{"otpauth://totp/root?" + s + "&digits=six", `digits="six" is not a number`},
		{"otpauth://totp/root?" + s + "&digits=6.0", `digits="6.0" is not a number`},
		{"otpauth://totp/root?" + s + "&period=10", "time step of 10 seconds: want 15 to 120"},
		{"otpauth://totp/root?" + s + "&period=121", "time step of 121 seconds"},
		{"otpauth://totp/root?" + s + "&period=-30", "time step of -30 seconds"},
		{"otpauth://totp/root?" + s + "&period=0", "time step of 0 seconds"},
		{"otpauth://totp/root?" + s + "&period=30s", `period="30s" is not a number`},
		{"otpauth://totp/root?" + s + "&period=99999999999999999999", "is not a number"},
	}
	for _, tt := range tests {
		k, err := otp.ParseURI(tt.in)
		if err == nil {
			t.Errorf("ParseURI(%q) = %+v, want an error containing %q", tt.in, k, tt.want)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseURI(%q) error = %q, want it to contain %q", tt.in, err, tt.want)
		}
		if !strings.HasPrefix(err.Error(), "otp: ") {
			t.Errorf("ParseURI(%q) error = %q, want the prefix \"otp: \"", tt.in, err)
		}
	}
}

func TestURIRoundTrip(t *testing.T) {
	keys := []otp.Key{
		{Issuer: "Example", Account: "alice@example.com", Secret: rfcSecret, Params: otp.DefaultParams},
		{Account: "root", Secret: []byte{0}, Params: otp.DefaultParams},
		{Issuer: "ACME Co & Sons", Account: "j. doe+test@x.org", Secret: bytes.Repeat([]byte{0xff}, 64),
			Params: otp.Params{Algorithm: otp.SHA512, Digits: 8, Period: 120}},
		{Issuer: "Zürich 50%", Account: "a/b?c#d", Secret: rfcSecret[:17],
			Params: otp.Params{Algorithm: otp.SHA256, Digits: 7, Period: 15}},
	}
	for _, k := range keys {
		s := k.URI()
		got, err := otp.ParseURI(s)
		if err != nil {
			t.Errorf("ParseURI(%q): %v", s, err)
			continue
		}
		if !keysEqual(got, k) {
			t.Errorf("ParseURI(%q)\n got %+v\nwant %+v", s, got, k)
		}
	}
}
