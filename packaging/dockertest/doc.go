// Package dockertest is pam-totp's container suite: it installs the .deb in
// a Debian container with a real sshd, sudo and syslog, and logs in through
// real SSH clients (golang.org/x/crypto/ssh and OpenSSH's ssh) with codes
// computed outside the container.
//
// The tests are behind the dockertest build tag and need a Docker engine and
// the test image; 'make docker-test' builds everything and runs them:
//
//	make docker-test
//
// By hand, with an image built from Dockerfile.test:
//
//	PAM_TOTP_TEST_IMAGE=pam-totp-test:dev go test -tags dockertest ./packaging/dockertest
//
// Every container the suite starts is labelled pam-totp-test=RUN, RUN being
// $PAM_TOTP_TEST_RUN, and removed when its test ends.
package dockertest
