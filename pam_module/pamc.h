/*
 * C helpers of the Go library: the few libpam and libc calls that cgo
 * cannot make directly (variadic functions, reentrant look-ups) and the
 * record of where the library was loaded, which the loader reads without
 * entering the Go runtime.
 */
#ifndef PAM_TOTP_PAMC_H
#define PAM_TOTP_PAMC_H

#include <sys/types.h>
#include <security/pam_appl.h>
#include <security/pam_modules.h>
#include <security/pam_ext.h>

/* pam_totp_go_loaded_pid returns the pid of the process that loaded the
 * library and sets *forked to 1 if that process or one of its descendants
 * has forked since, 0 otherwise. Plain C: it never enters the Go runtime. */
pid_t pam_totp_go_loaded_pid(int *forked);

/* pamtotp_conv asks one question or shows one message through the PAM
 * conversation. For a prompt, *resp receives a malloc'ed answer that the
 * caller wipes and frees. */
int pamtotp_conv(pam_handle_t *pamh, int style, const char *text, char **resp);

/* pamtotp_syslog writes one line through pam_syslog (authpriv). */
void pamtotp_syslog(pam_handle_t *pamh, int priority, const char *line);

/* pamtotp_get_string_item returns a string item, or NULL with *rc set. */
const char *pamtotp_get_string_item(pam_handle_t *pamh, int item, int *rc);

/* pamtotp_user_exists returns 1 if the system knows name, 0 if it does
 * not, and -1 with errno set if the look-up failed. */
int pamtotp_user_exists(const char *name);

/* pamtotp_wipe_free overwrites a string and frees it. */
void pamtotp_wipe_free(char *s);

#endif
