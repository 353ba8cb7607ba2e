/* The loader's check that the library was loaded in this process. */
#include <pthread.h>
#include <unistd.h>

static pid_t loaded_pid;
static volatile int forked;

static void note_fork(void) { forked = 1; }

__attribute__((constructor)) static void record_load(void)
{
	loaded_pid = getpid();
	pthread_atfork(NULL, NULL, note_fork);
}

pid_t pam_totp_go_loaded_pid(int *f)
{
	*f = forked;
	return loaded_pid;
}
