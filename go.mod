module github.com/pam-totp/pam-totp

go 1.26.0

require (
	golang.org/x/crypto v0.59.0
	gopkg.in/yaml.v3 v3.0.1
)

require golang.org/x/sys v0.50.0 // indirect
