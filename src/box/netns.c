/* netns.c — one network namespace and one IPC namespace per slot, made
 * once at start.
 *
 * Creating a network namespace takes tens of milliseconds on a busy host and
 * is serialised in the kernel (net_mutex; isolate issues 29 and 34), so
 * slots get theirs ahead of time and reuse it, one run at a time. Each holds
 * only a loopback interface: abstract unix sockets and loopback ports are
 * per namespace, so two boxes never meet there, and the host's ports are
 * out of reach. It keeps no TIME_WAIT sockets (tcp_max_tw_buckets 0: a
 * connection closed on loopback is gone at once), which would otherwise
 * show the slot's next lease, in /proc/net/tcp, which ports and peers the
 * last one used for a minute.
 *
 * An IPC namespace is cheaper but not free (its mqueue mount and sysctl
 * tables, made and torn down: about 65 us of CPU per box here), so a slot
 * keeps one too, and every box of the slot starts in it emptied: the SysV
 * segments, message queues and semaphore sets a step left are removed
 * before the next box is cloned (ipcns_empty), when nothing of the last
 * box is alive to make more. POSIX message queues cannot be made at all:
 * the init sets RLIMIT_MSGQUEUE to 0. */
#include "box/internal.h"

#include "common/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <unistd.h>

/* Brings up lo in the calling thread's network namespace and turns off TIME_WAIT there. */
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
    if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
        return -1;
    /* /proc/sys/net is the calling thread's network namespace's. */
    return box_write_file("/proc/sys/net/ipv4", "tcp_max_tw_buckets", "0");
}

void ns_return(int host_fd, int type, const char *what)
{
    if (setns(host_fd, type) < 0) {
        fprintf(stderr, "xxx: cannot return to the server's %s namespace: %s\n", what,
                strerror(errno));
        abort();
    }
}

/* Makes a namespace of one type for a slot and returns an fd to it; the
 * calling thread goes back to its own, or the process aborts (ns_return). */
static int slot_ns_create(int type, const char *name, char *err, size_t errlen)
{
    char self[64];
    snprintf(self, sizeof self, "/proc/thread-self/ns/%s", name);
    _cleanup_close_ int host = open(self, O_RDONLY | O_CLOEXEC);
    if (host < 0)
        return box_fail(err, errlen, "cannot open the host %s namespace:", name);
    if (unshare(type) < 0)
        return box_fail(err, errlen, "cannot create a %s namespace:", name);
    int fd = open(self, O_RDONLY | O_CLOEXEC);
    int saved = errno;
    bool up = fd >= 0 && (type != CLONE_NEWNET || loopback_up() == 0);
    ns_return(host, type, name);
    if (fd < 0) {
        errno = saved;
        return box_fail(err, errlen, "cannot open the new %s namespace:", name);
    }
    if (!up) {
        close(fd);
        return box_fail(err, errlen,
                        "cannot bring up loopback, or turn off TIME_WAIT "
                        "(/proc/sys/net/ipv4/tcp_max_tw_buckets), in a box network namespace:");
    }
    return fd;
}

int netns_create(char *err, size_t errlen)
{
    return slot_ns_create(CLONE_NEWNET, "net", err, errlen);
}

int ipcns_create(char *err, size_t errlen)
{
    return slot_ns_create(CLONE_NEWIPC, "ipc", err, errlen);
}

/* The three SysV kinds behind one signature. */
static int shm_ctl(int id, int cmd, void *buf)
{
    return shmctl(id, cmd, buf);
}

static int msg_ctl(int id, int cmd, void *buf)
{
    return msgctl(id, cmd, buf);
}

static int sem_ctl(int id, int cmd, void *buf)
{
    return semctl(id, 0, cmd, buf);
}

/* Removes every object of one kind: info says the highest index in use (0
 * when none), stat turns an index into an id. */
static int empty_kind(int (*ctl)(int, int, void *), int info, int stat)
{
    union {
        struct shmid_ds shm;
        struct shm_info shm_info;
        struct msqid_ds msg;
        struct msginfo msg_info;
        struct semid_ds sem;
        struct seminfo sem_info;
    } buf;
    int n = 0, max = ctl(0, info, &buf);
    for (int i = 0; i <= max; i++) {
        int id = ctl(i, stat, &buf);
        if (id >= 0 && ctl(id, IPC_RMID, NULL) == 0)
            n++;
    }
    return n;
}

int ipcns_empty(void)
{
    return empty_kind(shm_ctl, SHM_INFO, SHM_STAT_ANY) +
           empty_kind(msg_ctl, MSG_INFO, MSG_STAT_ANY) +
           empty_kind(sem_ctl, SEM_INFO, SEM_STAT_ANY);
}
