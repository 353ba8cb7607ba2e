#include <errno.h>
#include <pthread.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "pamc.h"

static pid_t loaded_pid;
static volatile int forked_since_load;

static void note_fork(void) { forked_since_load = 1; }

/* Runs when the library is mapped, before any Go code, in the process
 * that loads it. The fork handler marks every child forked afterwards,
 * even one whose pid happens to equal the recorded one. */
__attribute__((constructor)) static void record_load(void)
{
	loaded_pid = getpid();
	pthread_atfork(NULL, NULL, note_fork);
}

pid_t pam_totp_go_loaded_pid(int *forked)
{
	if (forked != NULL)
		*forked = forked_since_load;
	return loaded_pid;
}

int pamtotp_conv(pam_handle_t *pamh, int style, const char *text, char **resp)
{
	if (resp != NULL)
		*resp = NULL;
	return pam_prompt(pamh, style, resp, "%s", text);
}

void pamtotp_syslog(pam_handle_t *pamh, int priority, const char *line)
{
	pam_syslog(pamh, priority, "%s", line);
}

const char *pamtotp_get_string_item(pam_handle_t *pamh, int item, int *rc)
{
	const void *v = NULL;
	*rc = pam_get_item(pamh, item, &v);
	if (*rc != PAM_SUCCESS)
		return NULL;
	return v;
}

int pamtotp_user_exists(const char *name)
{
	long max = sysconf(_SC_GETPW_R_SIZE_MAX);
	size_t size = max > 0 ? (size_t)max : 1024;
	for (;;) {
		struct passwd pw, *found = NULL;
		char *buf = malloc(size);
		if (buf == NULL) {
			errno = ENOMEM;
			return -1;
		}
		int err = getpwnam_r(name, &pw, buf, size, &found);
		free(buf);
		if (err == ERANGE && size < (1 << 20)) {
			size *= 2;
			continue;
		}
		if (err == 0)
			return found != NULL;
		/* Any error, even one that some systems use for "not found",
		 * is reported: an unreachable directory service must not make
		 * a user look unknown, which nullok would let through. */
		errno = err;
		return -1;
	}
}

void pamtotp_wipe_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}
