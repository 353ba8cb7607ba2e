/*
 * testmod.so: a PAM module for the tests of pam_module, standing in for a
 * password module around pam_totp.
 *
 *   set_authtok=VALUE     set PAM_AUTHTOK to VALUE, as a password module
 *                         that asked first would
 *   expect_authtok=VALUE  succeed only if PAM_AUTHTOK is VALUE, as a
 *                         password module with use_first_pass would
 *   say=TEXT              show TEXT (PAM_TEXT_INFO), to prove it ran
 *
 * Without expect_authtok it returns PAM_SUCCESS.
 */
#include <string.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc,
			const char **argv)
{
	int rc = PAM_SUCCESS;

	(void)flags;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (strncmp(a, "set_authtok=", 12) == 0) {
			if (pam_set_item(pamh, PAM_AUTHTOK, a + 12) != PAM_SUCCESS)
				return PAM_SYSTEM_ERR;
		} else if (strncmp(a, "expect_authtok=", 15) == 0) {
			const void *tok = NULL;
			pam_get_item(pamh, PAM_AUTHTOK, &tok);
			if (tok == NULL) {
				pam_info(pamh, "testmod: no authtok");
				rc = PAM_AUTH_ERR;
			} else if (strcmp(tok, a + 15) != 0) {
				pam_info(pamh, "testmod: authtok is wrong");
				rc = PAM_AUTH_ERR;
			} else {
				pam_info(pamh, "testmod: authtok is right");
			}
		} else if (strncmp(a, "say=", 4) == 0) {
			pam_info(pamh, "%s", a + 4);
		} else {
			pam_error(pamh, "testmod: unknown argument %s", a);
			return PAM_SERVICE_ERR;
		}
	}
	return rc;
}

int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh, (void)flags, (void)argc, (void)argv;
	return PAM_SUCCESS;
}
