/* namespaces — tries to make new namespaces: unshare() with each CLONE_NEW*
 * flag (and the user+mount pair that container escapes start with), clone()
 * and clone3() with CLONE_NEWUSER. Prints NAME=0 or NAME=ERRNO for each,
 * and userns_changed=0|1 from /proc/self/ns/user before and after. */
#include "prog.h"

#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const struct {
    const char *name;
    int flags;
} kinds[] = {
    {"unshare_user_mount", CLONE_NEWUSER | CLONE_NEWNS},
    {"unshare_user", CLONE_NEWUSER},
    {"unshare_mount", CLONE_NEWNS},
    {"unshare_pid", CLONE_NEWPID},
    {"unshare_net", CLONE_NEWNET},
    {"unshare_ipc", CLONE_NEWIPC},
    {"unshare_uts", CLONE_NEWUTS},
    {"unshare_cgroup", CLONE_NEWCGROUP},
    {"unshare_time", CLONE_NEWTIME},
};

/* Reports a clone-like call that may have made a child: reaps it. */
static void report_child(const char *key, long rc)
{
    if (rc == 0)
        _exit(0);
    report(key, rc);
    if (rc > 0)
        waitpid((pid_t)rc, NULL, 0);
}

static void user_ns(char *buf, size_t len)
{
    ssize_t n = readlink("/proc/self/ns/user", buf, len - 1);
    buf[n < 0 ? 0 : n] = '\0';
}

int main(void)
{
    char before[64], after[64];
    user_ns(before, sizeof(before));
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        report(kinds[i].name, unshare(kinds[i].flags));

    long rc = syscall(SYS_clone, (unsigned long)(CLONE_NEWUSER | SIGCHLD), 0, 0, 0, 0);
    report_child("clone_newuser", rc);

    struct clone_args args = {.flags = CLONE_NEWUSER | CLONE_NEWNS, .exit_signal = SIGCHLD};
    rc = syscall(SYS_clone3, &args, sizeof(args));
    report_child("clone3_newuser", rc);

    user_ns(after, sizeof(after));
    sayf("userns_changed", "%d", strcmp(before, after) != 0);
    return 0;
}
