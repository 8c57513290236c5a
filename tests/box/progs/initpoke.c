/* initpoke — a step against the init it shares its box with. Prints the
 * init's start time (the same in every step one box serves) and uid, then
 * tries every way to reach it: signals, its memory, environment, fds, root
 * and cwd. Each must be refused. */
#include "prog.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>

/* Field 22 (starttime) of /proc/1/stat; the name in field 2 holds no
 * spaces here (memfd:xxx-init). */
static void say_start(void)
{
    char buf[1024];
    int fd = open("/proc/1/stat", O_RDONLY);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
    if (n <= 0) {
        report("init_start", -1);
        return;
    }
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    for (int field = 2; p && field < 22; field++)
        p = strchr(p + 1, ' ');
    sayf("init_start", "%llu", p ? strtoull(p + 1, NULL, 10) : 0ULL);
}

static void say_uid(void)
{
    char buf[2048];
    int fd = open("/proc/1/status", O_RDONLY);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    char *p = strstr(buf, "\nUid:\t");
    sayf("init_uid", "%ld", p ? strtol(p + 6, NULL, 10) : -1L);
}

int main(void)
{
    say_start();
    say_uid();
    sayf("pid", "%d", (int)getpid());
    report("kill_term", kill(1, SIGTERM));
    report("kill_kill", kill(1, SIGKILL));
    report("kill_int", kill(1, SIGINT));
    report("kill_stop", kill(1, SIGSTOP));
    report("mem", open("/proc/1/mem", O_RDWR));
    report("environ", open("/proc/1/environ", O_RDONLY));
    report("fds", open("/proc/1/fd", O_RDONLY | O_DIRECTORY));
    report("root", open("/proc/1/root/", O_RDONLY | O_DIRECTORY));
    report("cwd", open("/proc/1/cwd/", O_RDONLY | O_DIRECTORY));
    return 0;
}
