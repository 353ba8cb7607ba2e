/*
 * pamdrv: runs the real libpam on a PAM service from a chosen directory
 * (pam_start_confdir), answers prompts from a script, and prints what it
 * was shown. Used by the tests and the benchmark of pam_module; neither
 * root nor a change to /etc/pam.d is needed.
 *
 *   pamdrv -d CONFDIR -s SERVICE [-u USER] [-r RHOST] [-a ANSWER]...
 *          [-q] [-n COUNT] [-W] [-F [-S SERVICE]] [-N] [-C] [-M MODULE]
 *          [-B FILE]
 *
 *   -a ANSWER  answer the next prompt with ANSWER (in order; a prompt with
 *              no answer left makes the conversation fail)
 *   -q         pass PAM_SILENT
 *   -n COUNT   authenticate COUNT times with the same handle
 *   -W         with -n, wait for a line on standard input before each
 *              authentication after the first
 *   -F         authenticate once, fork, and authenticate again in the child
 *   -S SERVICE with -F, the child authenticates through SERVICE instead
 *              (libpam reads that service's file anew)
 *   -N         dlopen with RTLD_NOLOAD finds nothing, as if the library
 *              asked for were mapped under none of the names it is asked
 *              by; a full dlopen still returns the existing mapping
 *              (builds with -DPAMDRV_CAPTURE_SYSLOG)
 *   -C         then call pam_setcred, pam_acct_mgmt, pam_open_session,
 *              pam_close_session and pam_chauthtok, printing each result
 *   -M MODULE  then load MODULE and call its pam_sm_setcred,
 *              pam_sm_acct_mgmt, pam_sm_open_session, pam_sm_close_session
 *              and pam_sm_chauthtok (preliminary check, then update)
 *              directly with the handle, printing what each returns
 *   -B FILE    benchmark: for each line "USER ANSWER" of FILE, set the user
 *              and authenticate with the same handle, timing each call
 *
 * Output, one event a line, text escaped (\\, \n, \t, \xHH):
 *   prompt-echo-off TEXT | prompt-echo-on TEXT | info TEXT | error TEXT
 *   result NAME          the return of pam_authenticate
 *   child-result NAME    the same, in the child of -F
 *   setcred-result NAME, acct-result NAME, ... (with -C)
 *   module-result FUNCTION NAME (with -M)
 *   log PRIORITY TEXT    a syslog line (builds with -DPAMDRV_CAPTURE_SYSLOG)
 *   bench NANOSECONDS NAME (with -B)
 *   peak-rss KILOBYTES   at the end: the process's peak resident set size
 *                        (VmHWM; unlike getrusage's maxrss it does not count
 *                        the memory of the parent that forked it)
 * Every line is written with one write(2), so a parent's and a child's
 * lines do not mix. The exit status is 0 if the driver itself worked.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>
#include <security/pam_modules.h> /* PAM_PRELIM_CHECK, for -M */

#define MAX_ANSWERS 64

static const char *answers[MAX_ANSWERS];
static int n_answers, next_answer;

static void emit(const char *kind, const char *text)
{
	char line[8192];
	size_t n = (size_t)snprintf(line, sizeof line, "%s", kind);

	if (text != NULL && n < sizeof line - 1)
		line[n++] = ' ';
	for (const unsigned char *p = (const unsigned char *)text;
	     p != NULL && *p != 0 && n < sizeof line - 8; p++) {
		if (*p == '\\')
			n += (size_t)snprintf(line + n, sizeof line - n, "\\\\");
		else if (*p == '\n')
			n += (size_t)snprintf(line + n, sizeof line - n, "\\n");
		else if (*p == '\t')
			n += (size_t)snprintf(line + n, sizeof line - n, "\\t");
		else if (*p < 0x20 || *p == 0x7f)
			n += (size_t)snprintf(line + n, sizeof line - n, "\\x%02x", *p);
		else
			line[n++] = (char)*p;
	}
	line[n++] = '\n';
	for (size_t off = 0; off < n;) {
		ssize_t w = write(1, line + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			_exit(3);
		off += (size_t)w;
	}
}

static const char *code_name(int rc)
{
	switch (rc) {
	case PAM_SUCCESS: return "PAM_SUCCESS";
	case PAM_AUTH_ERR: return "PAM_AUTH_ERR";
	case PAM_AUTHINFO_UNAVAIL: return "PAM_AUTHINFO_UNAVAIL";
	case PAM_MAXTRIES: return "PAM_MAXTRIES";
	case PAM_IGNORE: return "PAM_IGNORE";
	case PAM_SERVICE_ERR: return "PAM_SERVICE_ERR";
	case PAM_SYSTEM_ERR: return "PAM_SYSTEM_ERR";
	case PAM_CONV_ERR: return "PAM_CONV_ERR";
	case PAM_USER_UNKNOWN: return "PAM_USER_UNKNOWN";
	case PAM_CRED_INSUFFICIENT: return "PAM_CRED_INSUFFICIENT";
	case PAM_PERM_DENIED: return "PAM_PERM_DENIED";
	case PAM_ABORT: return "PAM_ABORT";
	case PAM_BUF_ERR: return "PAM_BUF_ERR";
	}
	static char other[32];
	snprintf(other, sizeof other, "PAM_%d", rc);
	return other;
}

static int converse(int n, const struct pam_message **msg,
		    struct pam_response **resp, void *data)
{
	struct pam_response *r = calloc((size_t)n, sizeof *r);

	(void)data;
	if (r == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		const char *text = msg[i]->msg;
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
		case PAM_PROMPT_ECHO_ON:
			emit(msg[i]->msg_style == PAM_PROMPT_ECHO_OFF ?
			     "prompt-echo-off" : "prompt-echo-on", text);
			if (next_answer >= n_answers) {
				emit("unanswered", NULL);
				for (int j = 0; j < i; j++)
					free(r[j].resp);
				free(r);
				return PAM_CONV_ERR;
			}
			r[i].resp = strdup(answers[next_answer++]);
			break;
		case PAM_ERROR_MSG:
			emit("error", text);
			break;
		case PAM_TEXT_INFO:
			emit("info", text);
			break;
		default:
			emit("unknown-style", text);
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

#ifdef PAMDRV_CAPTURE_SYSLOG
/* These replace libc's syslog for libpam and the modules, which find the
 * executable's definitions first, so the tests read the log lines without
 * a syslog daemon. */
void vsyslog(int pri, const char *fmt, va_list ap)
{
	char msg[4096], kind[32];
	vsnprintf(msg, sizeof msg, fmt, ap);
	snprintf(kind, sizeof kind, "log %d", pri);
	emit(kind, msg);
}

void __vsyslog_chk(int pri, int flag, const char *fmt, va_list ap)
{
	(void)flag;
	vsyslog(pri, fmt, ap);
}

void syslog(int pri, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsyslog(pri, fmt, ap);
	va_end(ap);
}

void __syslog_chk(int pri, int flag, const char *fmt, ...)
{
	va_list ap;
	(void)flag;
	va_start(ap, fmt);
	vsyslog(pri, fmt, ap);
	va_end(ap);
}
#endif

static int noload_misses;

#ifdef PAMDRV_CAPTURE_SYSLOG
/* This replaces dlopen for libpam and the modules, for -N. */
void *dlopen(const char *file, int mode)
{
	static void *(*real)(const char *, int);

	if (noload_misses && (mode & RTLD_NOLOAD) != 0)
		return NULL;
	if (real == NULL)
		real = (void *(*)(const char *, int))dlsym(RTLD_NEXT, "dlopen");
	return real(file, mode);
}
#endif

/* peak_rss_kb returns VmHWM from /proc/self/status, or -1. */
static long peak_rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* call_module calls the entry points of the module at path other than
 * pam_sm_authenticate, with pamh and no arguments. */
static int call_module(pam_handle_t *pamh, int flags, const char *path)
{
	typedef int (*sm_fn)(pam_handle_t *, int, int, const char **);
	static const struct {
		const char *name;
		int flags;
	} calls[] = {
		{"pam_sm_setcred", PAM_ESTABLISH_CRED},
		{"pam_sm_acct_mgmt", 0},
		{"pam_sm_open_session", 0},
		{"pam_sm_close_session", 0},
		{"pam_sm_chauthtok", PAM_PRELIM_CHECK},
		{"pam_sm_chauthtok", PAM_UPDATE_AUTHTOK},
	};
	void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);

	if (lib == NULL) {
		fprintf(stderr, "pamdrv: %s\n", dlerror());
		return 2;
	}
	for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
		sm_fn fn = (sm_fn)dlsym(lib, calls[i].name);
		char out[128];
		snprintf(out, sizeof out, "%s %s", calls[i].name,
			 fn == NULL ? "missing" :
			 code_name(fn(pamh, calls[i].flags | flags, 0, NULL)));
		emit("module-result", out);
	}
	dlclose(lib);
	return 0;
}

static int bench(pam_handle_t *pamh, int flags, const char *file)
{
	FILE *f = fopen(file, "r");
	char line[1024];

	if (f == NULL) {
		fprintf(stderr, "pamdrv: %s: %s\n", file, strerror(errno));
		return 2;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		char *user = strtok(line, " \n"), *answer = strtok(NULL, " \n");
		char out[128];
		if (user == NULL)
			continue;
		answers[0] = answer != NULL ? answer : "";
		n_answers = 1;
		next_answer = 0;
		if (pam_set_item(pamh, PAM_USER, user) != PAM_SUCCESS) {
			fprintf(stderr, "pamdrv: cannot set the user\n");
			return 2;
		}
		long long t0 = now_ns();
		int rc = pam_authenticate(pamh, flags);
		long long t1 = now_ns();
		snprintf(out, sizeof out, "%lld %s", t1 - t0, code_name(rc));
		emit("bench", out);
	}
	fclose(f);
	return 0;
}

int main(int argc, char **argv)
{
	const char *confdir = NULL, *service = NULL, *user = NULL;
	const char *rhost = NULL, *bench_file = NULL, *child_service = NULL;
	const char *module = NULL;
	int flags = 0, count = 1, fork_mode = 0, others = 0, wait_line = 0, opt;

	while ((opt = getopt(argc, argv, "d:s:u:r:a:qn:WFS:NCM:B:")) != -1) {
		switch (opt) {
		case 'd': confdir = optarg; break;
		case 's': service = optarg; break;
		case 'u': user = optarg; break;
		case 'r': rhost = optarg; break;
		case 'a':
			if (n_answers == MAX_ANSWERS) {
				fprintf(stderr, "pamdrv: too many answers\n");
				return 2;
			}
			answers[n_answers++] = optarg;
			break;
		case 'q': flags |= PAM_SILENT; break;
		case 'n': count = atoi(optarg); break;
		case 'F': fork_mode = 1; break;
		case 'S': child_service = optarg; break;
		case 'N':
#ifndef PAMDRV_CAPTURE_SYSLOG
			/* Without the dlopen below, -N would change nothing and
			 * a test relying on it would pass for the wrong reason. */
			fprintf(stderr, "pamdrv: -N needs a build with "
				"-DPAMDRV_CAPTURE_SYSLOG\n");
			return 2;
#endif
			noload_misses = 1;
			break;
		case 'C': others = 1; break;
		case 'M': module = optarg; break;
		case 'W': wait_line = 1; break;
		case 'B': bench_file = optarg; break;
		default:
			fprintf(stderr, "usage: pamdrv -d CONFDIR -s SERVICE [-u USER] "
				"[-r RHOST] [-a ANSWER]... [-q] [-n COUNT] [-W] [-F [-S SERVICE]] "
				"[-N] [-C] [-M MODULE] [-B FILE]\n");
			return 2;
		}
	}
	if (confdir == NULL || service == NULL) {
		fprintf(stderr, "pamdrv: -d and -s are required\n");
		return 2;
	}

	struct pam_conv conv = {converse, NULL};
	pam_handle_t *pamh = NULL;
	int rc = pam_start_confdir(service, user, &conv, confdir, &pamh);
	if (rc != PAM_SUCCESS) {
		fprintf(stderr, "pamdrv: pam_start_confdir: %s\n", code_name(rc));
		return 2;
	}
	if (rhost != NULL)
		pam_set_item(pamh, PAM_RHOST, rhost);

	int status = 0;
	if (bench_file != NULL) {
		status = bench(pamh, flags, bench_file);
	} else {
		for (int i = 0; i < count; i++) {
			char line[64];
			if (i > 0 && wait_line && fgets(line, sizeof line, stdin) == NULL)
				break;
			rc = pam_authenticate(pamh, flags);
			emit("result", code_name(rc));
		}
	}
	if (others) {
		emit("setcred-result", code_name(pam_setcred(pamh, PAM_ESTABLISH_CRED | flags)));
		emit("acct-result", code_name(pam_acct_mgmt(pamh, flags)));
		emit("open-session-result", code_name(pam_open_session(pamh, flags)));
		emit("close-session-result", code_name(pam_close_session(pamh, flags)));
		emit("chauthtok-result", code_name(pam_chauthtok(pamh, flags)));
	}
	if (module != NULL && status == 0)
		status = call_module(pamh, flags, module);
	if (fork_mode) {
		pid_t pid = fork();
		if (pid < 0) {
			fprintf(stderr, "pamdrv: fork: %s\n", strerror(errno));
			return 2;
		}
		if (pid == 0) {
			if (child_service != NULL &&
			    pam_set_item(pamh, PAM_SERVICE, child_service) != PAM_SUCCESS) {
				fprintf(stderr, "pamdrv: cannot set the service\n");
				_exit(2);
			}
			rc = pam_authenticate(pamh, flags);
			emit("child-result", code_name(rc));
			_exit(0);
		}
		int ws;
		while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
			status = 2;
	}
	pam_end(pamh, rc);
	char kb[32];
	snprintf(kb, sizeof kb, "%ld", peak_rss_kb());
	emit("peak-rss", kb);
	return status;
}
