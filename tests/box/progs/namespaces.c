/* namespaces — tries to make new namespaces: unshare() with each CLONE_NEW*
 * flag (and the user+mount pair that container escapes start with), clone()
 * and clone3() with CLONE_NEWUSER. Prints NAME=0 or NAME=ERRNO for each,
 * and userns_changed=0|1 from /proc/self/ns/user before and after. Then
 * which user namespace owns each of its namespaces (NS_GET_USERNS):
 * owner_X=own (the box's), or the errno (EPERM: one outside the box). */
#include "prog.h"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
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

static void owner(const char *ns)
{
    char path[64], key[32];
    snprintf(path, sizeof(path), "/proc/self/ns/%s", ns);
    snprintf(key, sizeof(key), "owner_%s", ns);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int user = fd < 0 ? -1 : ioctl(fd, NS_GET_USERNS);
    struct stat a, b;
    if (user < 0)
        sayf(key, "%s", errname(errno));
    else if (fstat(user, &a) == 0 && stat("/proc/self/ns/user", &b) == 0)
        sayf(key, "%s", a.st_ino == b.st_ino ? "own" : "other");
    if (user >= 0)
        close(user);
    if (fd >= 0)
        close(fd);
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
    static const char *const owned[] = {"mnt", "pid", "ipc", "uts", "cgroup"};
    for (size_t i = 0; i < sizeof(owned) / sizeof(owned[0]); i++)
        owner(owned[i]);
    return 0;
}
