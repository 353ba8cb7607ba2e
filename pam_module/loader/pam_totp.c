/*
 * pam_totp.so, the PAM module of pam-totp.
 *
 * The module's logic is a Go library, pam_totp_go.so. This loader keeps the
 * Go runtime out of every process that does not authenticate: libpam loads
 * modules at pam_start, and sshd calls pam_start in one process and
 * pam_authenticate in a child it forks afterwards. A Go runtime started in
 * the parent is left without its threads in the child, which then hangs.
 * So the library is opened here, inside pam_sm_authenticate, in the process
 * that asks for the code; every other entry point is answered in C.
 *
 * If the library is already in this process but was loaded by an ancestor
 * (this process was forked after the load), calling into it would hang, so
 * the loader logs why and refuses instead.
 *
 * The library is found beside this file, or, when built with
 * -DPAM_TOTP_LIBDIR="dir", in that directory.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <syslog.h>
#include <unistd.h>

#define PAM_SM_AUTH
#define PAM_SM_ACCOUNT
#define PAM_SM_SESSION
#define PAM_SM_PASSWORD
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#define GO_LIBRARY "pam_totp_go.so"
#define PUBLIC __attribute__((visibility("default")))

typedef int (*authenticate_fn)(pam_handle_t *, int, int, const char **);
typedef pid_t (*loaded_pid_fn)(int *);

/* library_path writes the path of the Go library into buf. */
static int library_path(pam_handle_t *pamh, char *buf, size_t size)
{
	int n;
#ifdef PAM_TOTP_LIBDIR
	n = snprintf(buf, size, "%s/%s", PAM_TOTP_LIBDIR, GO_LIBRARY);
#else
	Dl_info info;
	const char *slash;

	if (dladdr((void *)library_path, &info) == 0 || info.dli_fname == NULL ||
	    (slash = strrchr(info.dli_fname, '/')) == NULL) {
		pam_syslog(pamh, LOG_ERR,
			   "error: cannot find the directory of pam_totp.so, where "
			   GO_LIBRARY " should be; give the module's full path in "
			   "the PAM service file");
		return -1;
	}
	n = snprintf(buf, size, "%.*s/%s", (int)(slash - info.dli_fname),
		     info.dli_fname, GO_LIBRARY);
#endif
	if (n < 0 || (size_t)n >= size) {
		pam_syslog(pamh, LOG_ERR, "error: the path of " GO_LIBRARY
			   " is too long");
		return -1;
	}
	return 0;
}

/* safe_path reports whether path is owned by root or by this process's
 * user and writable by no one else, so that no other user can put code
 * into the authenticating process. */
static int safe_path(pam_handle_t *pamh, const char *path, int want_dir)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		pam_syslog(pamh, LOG_ERR, "error: cannot use %s: %s; reinstall "
			   "pam-totp", path, strerror(errno));
		return 0;
	}
	if (want_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) {
		pam_syslog(pamh, LOG_ERR, "error: refusing %s: not a %s", path,
			   want_dir ? "directory" : "regular file");
		return 0;
	}
	if ((st.st_uid != 0 && st.st_uid != geteuid()) ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		pam_syslog(pamh, LOG_ERR, "error: refusing %s: owned by uid %u "
			   "with mode %04o; it must belong to root and be "
			   "writable by no one else (chown root %s; chmod "
			   "go-w %s)", path, (unsigned)st.st_uid,
			   (unsigned)(st.st_mode & 07777), path, path);
		return 0;
	}
	return 1;
}

/* started_here reports whether the Go library lib was loaded by this very
 * process and this process has not forked since, so that its runtime has
 * all its threads; if not, it logs why calling into it would hang. */
static int started_here(pam_handle_t *pamh, void *lib, const char *path)
{
	loaded_pid_fn loaded_pid =
		(loaded_pid_fn)dlsym(lib, "pam_totp_go_loaded_pid");
	int forked = 0;
	pid_t pid;

	if (loaded_pid == NULL) {
		pam_syslog(pamh, LOG_ERR, "error: %s has no "
			   "pam_totp_go_loaded_pid: it does not belong to "
			   "this pam_totp.so; reinstall pam-totp", path);
		return 0;
	}
	pid = loaded_pid(&forked);
	if (pid == getpid() && !forked)
		return 1;
	/* The library stays loaded: a Go library cannot be closed. */
	pam_syslog(pamh, LOG_ERR,
		   "error: authentication refused: %s was started in "
		   "process %ld and this process (%ld) was forked from "
		   "it afterwards; the Go runtime does not survive fork "
		   "and calling it here would hang. The application "
		   "must call pam_authenticate in the same process as "
		   "before, or only in the child; never load "
		   GO_LIBRARY " directly (as a PAM module or with "
		   "LD_PRELOAD)", path, (long)pid, (long)getpid());
	return 0;
}

/* open_library returns the Go library, loaded in this process, or NULL
 * after logging why it cannot be used.
 *
 * The check that the library was started in this process runs after
 * every dlopen that succeeds, not only when RTLD_NOLOAD finds it: a full
 * dlopen also hands back an existing mapping, for instance when the same
 * file was loaded under another name (a symbolic link, a hard link,
 * another directory), and then the library's constructor does not run
 * again to record this process. */
static void *open_library(pam_handle_t *pamh, const char *path)
{
	void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);

	if (lib == NULL) {
		char dir[PATH_MAX];
		const char *slash = strrchr(path, '/');

		if (slash == NULL)
			snprintf(dir, sizeof dir, ".");
		else
			snprintf(dir, sizeof dir, "%.*s",
				 slash == path ? 1 : (int)(slash - path), path);
		if (!safe_path(pamh, path, 0) || !safe_path(pamh, dir, 1))
			return NULL;
		lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		if (lib == NULL) {
			pam_syslog(pamh, LOG_ERR, "error: cannot load %s: %s; "
				   "reinstall pam-totp", path, dlerror());
			return NULL;
		}
	}
	if (!started_here(pamh, lib, path))
		return NULL;
	return lib;
}

PUBLIC int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc,
			       const char **argv)
{
	char path[PATH_MAX];
	void *lib;
	authenticate_fn authenticate;

	if (library_path(pamh, path, sizeof path) != 0)
		return PAM_SYSTEM_ERR;
	if ((lib = open_library(pamh, path)) == NULL)
		return PAM_SYSTEM_ERR;
	authenticate = (authenticate_fn)dlsym(lib, "pam_totp_go_authenticate");
	if (authenticate == NULL) {
		pam_syslog(pamh, LOG_ERR, "error: %s has no "
			   "pam_totp_go_authenticate: it does not belong to "
			   "this pam_totp.so; reinstall pam-totp", path);
		return PAM_SYSTEM_ERR;
	}
	return authenticate(pamh, flags, argc, argv);
}

/* The module only checks codes. Credentials are not its business, and
 * succeeding keeps an application's pam_setcred working when pam_totp is
 * the only auth module. */
PUBLIC int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc,
			  const char **argv)
{
	(void)pamh, (void)flags, (void)argc, (void)argv;
	return PAM_SUCCESS;
}

/* The account, session and password types have nothing to do. */
PUBLIC int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc,
			    const char **argv)
{
	(void)pamh, (void)flags, (void)argc, (void)argv;
	return PAM_IGNORE;
}

PUBLIC int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc,
			       const char **argv)
{
	(void)pamh, (void)flags, (void)argc, (void)argv;
	return PAM_IGNORE;
}

PUBLIC int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc,
				const char **argv)
{
	(void)pamh, (void)flags, (void)argc, (void)argv;
	return PAM_IGNORE;
}

PUBLIC int pam_sm_chauthtok(pam_handle_t *pamh, int flags, int argc,
			    const char **argv)
{
	(void)pamh, (void)flags, (void)argc, (void)argv;
	return PAM_IGNORE;
}
