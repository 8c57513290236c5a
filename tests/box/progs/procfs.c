/* procfs — what /proc gives away: the environment of every other process
 * (environ_PID=ERRNO, or environ_PID=readable and environ_data=...), its
 * own environment (env=NAME=VALUE each), writes to /proc/sysrq-trigger and
 * /proc/sys (each writes back the value it reads, so a success changes
 * nothing), and /proc/kcore. */
#include "prog.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>

extern char **environ;

static void read_environs(void)
{
    DIR *d = opendir("/proc");
    if (!d) {
        report("proc", -1);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!isdigit((unsigned char)e->d_name[0]) || atoi(e->d_name) == getpid())
            continue;
        char path[300], key[300], data[2048];
        snprintf(path, sizeof(path), "/proc/%s/environ", e->d_name);
        snprintf(key, sizeof(key), "environ_%s", e->d_name);
        int fd = open(path, O_RDONLY);
        ssize_t n = fd < 0 ? -1 : read(fd, data, sizeof(data) - 1);
        if (n < 0) {
            report(key, -1);
        } else {
            for (ssize_t i = 0; i < n; i++)
                if (data[i] == '\0' || data[i] == '\n')
                    data[i] = ' ';
            data[n] = '\0';
            sayf(key, "readable");
            sayf("environ_data", "%s", data);
        }
        if (fd >= 0)
            close(fd);
    }
    closedir(d);
}

/* Writes back what PATH holds; prints KEY=0 or KEY=ERRNO. */
static void write_back(const char *key, const char *path)
{
    char buf[512] = "x";
    int rfd = open(path, O_RDONLY);
    ssize_t n = rfd < 0 ? 0 : read(rfd, buf, sizeof(buf));
    if (rfd >= 0)
        close(rfd);
    int fd = open(path, O_WRONLY);
    if (fd < 0) {
        report(key, -1);
        return;
    }
    report(key, write(fd, buf, n > 0 ? (size_t)n : 1));
    close(fd);
}

int main(void)
{
    read_environs();
    for (char **e = environ; *e; e++)
        sayf("env", "%s", *e);
    /* 'h' asks sysrq for its help text: harmless even if it got through. */
    int fd = open("/proc/sysrq-trigger", O_WRONLY);
    report("sysrq", fd < 0 ? -1 : write(fd, "h", 1));
    write_back("sys_core_pattern", "/proc/sys/kernel/core_pattern");
    write_back("sys_hostname", "/proc/sys/kernel/hostname");
    write_back("sys_overcommit", "/proc/sys/vm/overcommit_memory");
    write_back("sys_ip_forward", "/proc/sys/net/ipv4/ip_forward");
    report("kcore", open("/proc/kcore", O_RDONLY));
    report("kmsg", open("/proc/kmsg", O_RDONLY));
    return 0;
}
