//go:build pamtotp_direct

/*
 * Only in the pamtotp_direct test build: the Go library exports the PAM
 * entry points itself, so that it can be loaded as a PAM module directly,
 * without the loader. That is the design that hangs sshd; the tests build
 * it to show that they catch the hang. Never install this build.
 */
#include "_cgo_export.h"

int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc,
			const char **argv)
{
	return pam_totp_go_authenticate(pamh, flags, argc, (char **)argv);
}

int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh, (void)flags, (void)argc, (void)argv;
	return PAM_SUCCESS;
}

int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc,
		     const char **argv)
{
	(void)pamh, (void)flags, (void)argc, (void)argv;
	return PAM_IGNORE;
}
