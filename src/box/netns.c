/* netns.c — one network namespace per slot, made once at start.
 *
 * Creating a network namespace takes tens of milliseconds on a busy host and
 * is serialised in the kernel (net_mutex; isolate issues 29 and 34), so
 * slots get theirs ahead of time and reuse it, one run at a time. Each holds
 * only a loopback interface: abstract unix sockets and loopback ports are
 * per namespace, so two boxes never meet there, and the host's ports are
 * out of reach. */
#include "box/internal.h"

#include "common/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int loopback_up(void)
{
    _cleanup_close_ int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -1;
    struct ifreq ifr = {0};
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
        return -1;
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    return ioctl(s, SIOCSIFFLAGS, &ifr);
}

int netns_create(char *err, size_t errlen)
{
    _cleanup_close_ int host = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (host < 0)
        return box_fail(err, errlen, "cannot open the host network namespace:");
    if (unshare(CLONE_NEWNET) < 0)
        return box_fail(err, errlen, "cannot create a network namespace:");
    int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    int saved = errno;
    bool up = fd >= 0 && loopback_up() == 0;
    if (setns(host, CLONE_NEWNET) < 0) {
        /* Staying in the new namespace would cut the server off its clients. */
        perror("xxx: cannot return to the host network namespace");
        abort();
    }
    if (fd < 0) {
        errno = saved;
        return box_fail(err, errlen, "cannot open the new network namespace:");
    }
    if (!up) {
        close(fd);
        return box_fail(err, errlen, "cannot bring up loopback in a box network namespace:");
    }
    return fd;
}
