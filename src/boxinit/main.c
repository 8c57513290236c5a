/* xxx-init — every box's first process, from execve to the program's end
 * (the contract with the supervisor is boxinit.h).
 *
 * It starts in the box's fresh namespaces, as a copy of nothing: the
 * supervisor's clone shared its memory only until the execve of this
 * program. Every error is fatal (a half-built box must never run user
 * code) and is reported as a boxinit_msg on BOXINIT_STATUS_FD.
 *
 * As a slot's template (BOXINIT_TEMPLATE, once per slot): wait for the
 * parent (id maps, then the conf), private propagation, build the root on a
 * tmpfs, pivot_root and detach the old root, say so and wait to be let go.
 * The supervisor keeps the mount namespace; every box of the slot starts in
 * a copy of it (launch.c), so no box builds a root.
 *
 * As a box (BOXINIT_RUN): wait for the parent (cgroup, id maps, then the
 * conf); park until a step's spec comes with the program's fds. This
 * process stays the box's init (pid 1), with what it may do in the box's
 * user namespace, and starts the program as its child: pid 1 ignores
 * signals it has no handler for, which would change the program's
 * behaviour (kill -9 $$ would do nothing). The init empties the bounding
 * set and installs the seccomp filter on itself once, before it parks;
 * each child inherits both, drops groups and uids, clears every capability
 * set, sets no_new_privs, limits, setsid, and execs. When the program ends
 * the init kills whatever it left in the pid namespace, reaps it all,
 * reports the program's status and parks for the slot's next step: one
 * box serves many. The program runs as another host uid than the init's
 * and without capabilities, so it can neither signal nor trace the init,
 * nor read its memory. When the init exits (let go, or killed by the
 * supervisor), the kernel kills everything left in the pid namespace.
 *
 * Built static from libc alone, without sanitizers (it runs where no
 * sanitizer runtime could), and kept small: plain system calls, no malloc. */
#include "boxinit/boxinit.h"

#include "box/box.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int status_fd = BOXINIT_STATUS_FD;

/* ---- what the supervisor sends ------------------------------------------ */

static spec_hdr spec;
static char spec_strings[SPEC_MAX];
static char *spec_argv[SPEC_MAX_STRINGS + 1], *spec_envp[SPEC_MAX_STRINGS + 1];
static const char *spec_cwd;

typedef struct conf_op {
    plan_kind kind;
    bool is_dir;
    unsigned long locked;
    const char *dst, *src;
} conf_op;

static boxinit_conf conf;
static char conf_data[BOXINIT_CONF_MAX] __attribute__((aligned(8)));
static conf_op conf_ops[BOXINIT_MAX_OPS];
static struct sock_fprog filter;
static const char *conf_root;

static bool read_all(int fd, void *buf, size_t len)
{
    for (size_t got = 0; got < len;) {
        ssize_t n = read(fd, (char *)buf + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        got += (size_t)n;
    }
    return true;
}

/* The program's fds, received with its spec (-1: none). */
static int step_fds[BOXINIT_STEP_FDS];

/* Takes the fds a spec's header carried: stdin, stdout, stderr, and the
 * control socket when the spec asks for one; false on anything else. */
static bool step_fds_take(struct msghdr *mh)
{
    for (int i = 0; i < BOXINIT_STEP_FDS; i++)
        step_fds[i] = -1;
    struct cmsghdr *c = CMSG_FIRSTHDR(mh);
    int want = spec.flags & BOX_SPEC_CTL ? 4 : 3, got = 0;
    if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
        got = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        got = got > BOXINIT_STEP_FDS ? BOXINIT_STEP_FDS : got;
        memcpy(step_fds, CMSG_DATA(c), (size_t)got * sizeof(int));
    }
    if (got == want && !(mh->msg_flags & MSG_CTRUNC))
        return true;
    for (int i = 0; i < got; i++)
        close(step_fds[i]);
    return false;
}

/* Reads and checks a spec and its fds; false when the supervisor closed the
 * socket or sent something else. */
static bool spec_receive(int fd)
{
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(BOXINIT_STEP_FDS * sizeof(int))];
    } control;
    struct iovec iov = {&spec, sizeof spec};
    struct msghdr mh = {.msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = control.buf,
                        .msg_controllen = sizeof control.buf};
    ssize_t n;
    do
        n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n <= 0 || !read_all(fd, (char *)&spec + n, sizeof spec - (size_t)n) || !step_fds_take(&mh))
        return false;
    if (spec.len == 0 || spec.len > SPEC_MAX || spec.argc == 0 ||
        spec.argc + spec.envc > SPEC_MAX_STRINGS || !read_all(fd, spec_strings, spec.len) ||
        spec_strings[spec.len - 1] != 0)
        return false;
    char *p = spec_strings, *end = spec_strings + spec.len;
    for (uint32_t i = 0; i < spec.argc + spec.envc + 1; i++) {
        if (p >= end)
            return false;
        if (i < spec.argc)
            spec_argv[i] = p;
        else if (i < spec.argc + spec.envc)
            spec_envp[i - spec.argc] = p;
        else
            spec_cwd = *p ? p : BOX_WORKDIR;
        p += strlen(p) + 1;
    }
    spec_argv[spec.argc] = NULL;
    spec_envp[spec.envc] = NULL;
    return true;
}

/* The next NUL-terminated string of the conf at *p, or NULL past its end. */
static const char *conf_string(char **p, char *end)
{
    char *s = *p, *nul = s < end ? memchr(s, 0, (size_t)(end - s)) : NULL;
    if (!nul)
        return NULL;
    *p = nul + 1;
    return s;
}

/* Reads and checks the conf; false when the supervisor closed the pipe or
 * sent something else. */
static bool conf_receive(int fd)
{
    if (!read_all(fd, &conf, sizeof conf))
        return false;
    if (conf.magic != BOXINIT_MAGIC || conf.len > BOXINIT_CONF_MAX || conf.nops > BOXINIT_MAX_OPS ||
        conf.nfilter == 0 || conf.nfilter > BOXINIT_MAX_FILTER ||
        !read_all(fd, conf_data, conf.len))
        return false;
    char *p = conf_data, *end = conf_data + conf.len;
    size_t flen = conf.nfilter * sizeof(struct sock_filter);
    if (flen > conf.len)
        return false;
    filter.len = (unsigned short)conf.nfilter;
    filter.filter = (struct sock_filter *)p;
    p += flen;
    for (uint32_t i = 0; i < conf.nops; i++) {
        boxinit_op op;
        if ((size_t)(end - p) < sizeof op)
            return false;
        memcpy(&op, p, sizeof op);
        p += sizeof op;
        conf_ops[i] = (conf_op){.kind = (plan_kind)op.kind,
                                .is_dir = op.is_dir != 0,
                                .locked = (unsigned long)op.locked};
        if (op.kind > PLAN_FILE || !(conf_ops[i].dst = conf_string(&p, end)) ||
            !(conf_ops[i].src = conf_string(&p, end)))
            return false;
    }
    return conf.mode <= BOXINIT_TEMPLATE && (conf_root = conf_string(&p, end)) && p == end;
}

__attribute__((noreturn)) static void die(const char *what)
{
    boxinit_msg m = {.kind = 'E', .value = errno};
    snprintf(m.what, sizeof m.what, "%s", what);
    if (write(status_fd, &m, sizeof m) < 0) {
        /* nothing left to tell anyone */
    }
    _exit(126);
}

/* Joins root and a relative path into buf (no allocation). */
static const char *at(char *buf, size_t len, const char *root, const char *rel)
{
    snprintf(buf, len, "%s/%s", root, rel);
    return buf;
}

static void mkdir_or_die(const char *path, mode_t mode)
{
    if (mkdir(path, mode) < 0 && errno != EEXIST)
        die(path);
}

static void touch_or_die(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0444);
    if (fd < 0)
        die(path);
    close(fd);
}

/* Bind src onto dst, then remount with flags (plus what the kernel locked). */
static void bind_or_die(const char *src, const char *dst, unsigned long flags, unsigned long locked)
{
    if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) < 0)
        die(dst);
    if (mount(NULL, dst, NULL, MS_BIND | MS_REMOUNT | flags | locked, NULL) < 0)
        die(dst);
}

static void write_or_die(const char *path, const char *content)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    size_t n = strlen(content);
    if (fd < 0 || write(fd, content, n) != (ssize_t)n)
        die(path);
    close(fd);
}

static void build_root(void)
{
    char p[PATH_MAX + 300], q[PATH_MAX + 300];

    if (mount("xxx-root", conf_root, "tmpfs", MS_NOSUID | MS_NODEV,
              "size=1m,nr_inodes=4096,mode=0755") < 0)
        die("mount root tmpfs");
    /* From inside the new root, every path below is a short walk. */
    if (chdir(conf_root) < 0)
        die("chdir new root");
    const char *root = ".";

    for (uint32_t i = 0; i < conf.nops; i++) {
        const conf_op *op = &conf_ops[i];
        at(p, sizeof p, root, op->dst);
        switch (op->kind) {
        case PLAN_DIR:
            mkdir_or_die(p, 0755);
            break;
        case PLAN_SYMLINK:
            if (symlink(op->src, p) < 0)
                die(p);
            break;
        case PLAN_FILE:
            write_or_die(p, op->src);
            break;
        case PLAN_BIND_RO:
            if (op->is_dir)
                mkdir_or_die(p, 0755);
            else
                touch_or_die(p);
            bind_or_die(op->src, p, MS_RDONLY | MS_NOSUID | MS_NODEV, op->locked);
            break;
        }
    }

    /* Where each box gets the writable places (binds of its slot's
     * workspace) and its /proc: empty directories here (launch.c). */
    static const char *const points[] = {"box", "tmp", "home", "home/box"};
    for (size_t i = 0; i < sizeof points / sizeof points[0]; i++)
        mkdir_or_die(at(p, sizeof p, root, points[i]), 0755);
    mkdir_or_die(at(p, sizeof p, root, "proc"), 0555);

    /* A minimal /dev: the five harmless devices bound from the host (a user
     * namespace cannot mknod), a private /dev/shm, the usual links. */
    at(p, sizeof p, root, "dev");
    mkdir_or_die(p, 0755);
    if (mount("xxx-dev", p, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
              "size=64k,nr_inodes=64,mode=0755") < 0)
        die("mount /dev");
    static const char *const devs[] = {"null", "zero", "full", "random", "urandom"};
    for (size_t i = 0; i < sizeof devs / sizeof devs[0]; i++) {
        char src[32];
        snprintf(src, sizeof src, "/dev/%s", devs[i]);
        snprintf(q, sizeof q, "%s/dev/%s", root, devs[i]);
        touch_or_die(q);
        bind_or_die(src, q, MS_NOSUID | MS_NOEXEC, 0);
    }
    static const char *const links[][2] = {{"/proc/self/fd", "dev/fd"},
                                           {"/proc/self/fd/0", "dev/stdin"},
                                           {"/proc/self/fd/1", "dev/stdout"},
                                           {"/proc/self/fd/2", "dev/stderr"}};
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++)
        if (symlink(links[i][0], at(p, sizeof p, root, links[i][1])) < 0)
            die(p);
    mkdir_or_die(at(p, sizeof p, root, "dev/shm"), 0755);
    at(p, sizeof p, root, "dev");
    if (mount(NULL, p, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
        die("remount /dev read-only");

    if (mount(NULL, root, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
        die("remount / read-only");

    /* pivot_root(".", ".") stacks the old root under the new one; detaching
     * it leaves nothing of the host reachable (minijail, bubblewrap). */
    if (syscall(SYS_pivot_root, ".", ".") < 0)
        die("pivot_root");
    if (umount2(".", MNT_DETACH) < 0)
        die("detach old root");
    if (chdir("/") < 0)
        die("chdir /");
}

/* Empties the bounding set (needs CAP_SETPCAP): no execve in the box can
 * gain a capability. The init's own sets stay; it never execs. */
static void drop_bounding(void)
{
    for (int c = 0; c <= conf.cap_last; c++)
        if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
            die("drop bounding capabilities");
}

/* The program's process: no groups, the box's uid, no capability in any
 * set, no_new_privs. */
static void drop_privileges(void)
{
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        die("clear ambient capabilities");
    /* The supervisor's supplementary groups (root's) must not come along. */
    if (syscall(SYS_setgroups, 0, NULL) < 0)
        die("setgroups");
    if (syscall(SYS_setresgid, BOX_INSIDE_UID, BOX_INSIDE_UID, BOX_INSIDE_UID) < 0)
        die("setresgid");
    if (syscall(SYS_setresuid, BOX_INSIDE_UID, BOX_INSIDE_UID, BOX_INSIDE_UID) < 0)
        die("setresuid");
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
    struct __user_cap_data_struct data[2] = {{0}};
    if (syscall(SYS_capset, &hdr, data) < 0)
        die("clear capabilities");
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        die("no_new_privs");
}

static void set_limits(const spec_hdr *l)
{
    struct {
        int res;
        rlim_t val;
    } lims[] = {
        {RLIMIT_FSIZE, l->file_bytes},
        {RLIMIT_NOFILE, l->open_files},
        {RLIMIT_CORE, 0},
        /* Per process, so only a backstop: the cgroup sums CPU over the box. */
        {RLIMIT_CPU, l->cpu_ms / 1000 + 2},
        {RLIMIT_MEMLOCK, 0},
        {RLIMIT_MSGQUEUE, 0},
    };
    for (size_t i = 0; i < sizeof lims / sizeof lims[0]; i++) {
        struct rlimit r = {lims[i].val, lims[i].val};
        if (setrlimit(lims[i].res, &r) < 0)
            die("setrlimit");
    }
}

/* The signals ignored now (SigIgn in /proc/self/status, a box's own
 * /proc); every signal when that cannot be read. */
static unsigned long long ignored_signals(void)
{
    char buf[2048];
    int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
    if (fd >= 0)
        close(fd);
    buf[n > 0 ? n : 0] = 0;
    char *p = strstr(buf, "\nSigIgn:\t"), *end;
    unsigned long long mask = p ? strtoull(p + 9, &end, 16) : 0;
    return p && end != p + 9 ? mask : ~0ULL;
}

static void reset_signals(void)
{
    /* The server ignores SIGPIPE and may block signals; ignored dispositions
     * and the mask survive execve (handlers do not), so the program would
     * inherit them. */
    unsigned long long ignored = ignored_signals();
    for (int sig = 1; sig < NSIG && sig <= 64; sig++)
        if (sig != SIGKILL && sig != SIGSTOP && (ignored & (1ULL << (sig - 1))))
            signal(sig, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

/* The init dies with the thread that cloned it (the warmer or box_exec's),
 * and the pid namespace with the init, so a crashed server leaves no box
 * running. Every credential change clears the setting: call again after. */
static void die_with_parent(void)
{
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
        die("pdeathsig");
}

/* SIGINT to the init (box_interrupt) goes on to the program. The handler
 * is the init's only: execve resets the program's. The target is written
 * by the program's process before its execve (program_main) and cleared
 * by the init once the program is reaped. */
static volatile pid_t interrupt_target;

static void forward_interrupt(int sig)
{
    (void)sig;
    if (interrupt_target > 0)
        kill(interrupt_target, SIGINT);
}

/* The text of an errno, without allocating (we share the init's memory
 * here): glibc's strerror may format an unknown number into a buffer it
 * allocates, musl's only looks it up. */
static const char *error_text(int e)
{
#ifdef __GLIBC__
    const char *t = strerrordesc_np(e);
    return t ? t : "unknown error";
#else
    return strerror(e);
#endif
}

__attribute__((noreturn)) static void run_program(void)
{
    close(BOXINIT_STATUS_FD);
    extern char **environ;
    environ = spec_envp;
    execvp(spec_argv[0], spec_argv);
    /* As a shell would: the reason on stderr, 127 for "not found". */
    int e = errno;
    char msg[300];
    int n = snprintf(msg, sizeof msg, "xxx: cannot run %s: %s\n", spec_argv[0], error_text(e));
    if (write(2, msg, n > 0 ? (size_t)n : 0) < 0) {
        /* stderr gone: the exit status still says it */
    }
    _exit(e == ENOENT ? 127 : 126);
}

/* The program's stack from clone to execve. */
static char program_stack[64 * 1024] __attribute__((aligned(16)));

/* In the program's process, before its execve (it shares the init's
 * memory until then, and has its seccomp filter): its fds in place, then
 * everything the init may and the program may not, dropped. A failure
 * here is said on the status pipe ('E') and ends this process with 126. */
static int program_main(void *arg)
{
    (void)arg;
    /* Lift the step's fds above the numbers they go to, then place them:
     * a dup2 must never land on a source not yet placed. */
    int lifted[BOXINIT_STEP_FDS];
    for (int i = 0; i < BOXINIT_STEP_FDS; i++) {
        lifted[i] = step_fds[i] < 0 ? -1 : fcntl(step_fds[i], F_DUPFD, BOXINIT_STATUS_FD + 1);
        if (lifted[i] < 0 && step_fds[i] >= 0)
            die("dup");
    }
    /* The sync socket is fd 3 (BOX_CTL_FD): replaced or closed. */
    if (dup2(lifted[0], 0) < 0 || dup2(lifted[1], 1) < 0 || dup2(lifted[2], 2) < 0 ||
        (lifted[3] >= 0 ? dup2(lifted[3], BOX_CTL_FD) < 0 : close(BOX_CTL_FD) < 0) ||
        syscall(SYS_close_range, BOXINIT_STATUS_FD + 1, ~0U, 0) < 0)
        die("place the program's fds");

    drop_privileges();
    set_limits(&spec);
    if (setsid() < 0)
        die("setsid");
    if (chdir(spec_cwd) < 0)
        die("chdir to the working directory");
    /* The init's own copy (we share its memory): set before the execve, so
     * a SIGINT that anything the program says provokes finds its target.
     * The init, woken only by the execve, might set it too late. */
    interrupt_target = (pid_t)syscall(SYS_getpid);
    run_program();
}

/* Waits for the program, then kills what it left in the pid namespace
 * (orphans are ours to reap) until nothing is left; returns the
 * program's wait status. */
static int step_wait(pid_t program)
{
    int status = 0;
    bool ended = false;
    for (;;) {
        /* Once the program has ended: what has exited is reaped without
         * waiting; while anything is alive, everything is killed again
         * (what a process started before its SIGKILL landed too) and one
         * death waited for. No child left means an empty pid namespace
         * (orphans are reparented to us), and no kill(-1): it walks every
         * process of the host. */
        int st;
        pid_t pid = waitpid(-1, &st, ended ? WNOHANG : 0);
        if (pid == 0) {
            kill(-1, SIGKILL);
            pid = waitpid(-1, &st, 0);
        }
        if (pid < 0 && errno == EINTR)
            continue;
        if (pid < 0) {
            if (errno != ECHILD || !ended)
                die("wait for the program");
            return status;
        }
        if (pid == program) {
            status = st;
            ended = true;
            interrupt_target = 0;
        }
    }
}

int main(void)
{
    status_fd = BOXINIT_STATUS_FD;
    die_with_parent();
    reset_signals();
    /* Before anyone can signal us: a SIGINT with no handler would kill the
     * init from the host's side of the pid namespace. */
    struct sigaction sa = {.sa_handler = forward_interrupt, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGINT, &sa, NULL) < 0)
        die("sigaction");

    if (!conf_receive(BOXINIT_SYNC_FD))
        _exit(125); /* the supervisor gave up on us, or spoke nonsense */

    /* Become inside root (a host uid of the slot's): files we create while
     * building the root need a mapped owner. Capabilities in the new user
     * namespace stay. */
    if (syscall(SYS_setresgid, 0, 0, 0) < 0 || syscall(SYS_setresuid, 0, 0, 0) < 0)
        die("become inside root");
    die_with_parent(); /* a credential change cleared it */

    if (conf.mode == BOXINIT_TEMPLATE) {
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
            die("private propagation");
        build_root();
        boxinit_msg m = {.kind = 'R'};
        if (write(BOXINIT_STATUS_FD, &m, sizeof m) != (ssize_t)sizeof m)
            _exit(1);
        /* The supervisor holds the mount namespace now; EOF lets us go. */
        for (;;) {
            char c;
            ssize_t n = read(BOXINIT_SYNC_FD, &c, 1);
            if (n == 0 || (n < 0 && errno != EINTR))
                _exit(0);
        }
    }

    /* The cgroup namespace is rooted where the parent just put us. */
    if (unshare(CLONE_NEWCGROUP) < 0)
        die("cgroup namespace");
    /* The init keeps no stdio (the server's) and no program's fds: when a
     * program ends, nothing of ours holds its pipes open. */
    close(0);
    close(1);
    close(2);
    /* Made once for all the box's programs: the bounding set emptied, and
     * the seccomp filter, which every process the init starts inherits
     * (set without no_new_privs: the init holds CAP_SYS_ADMIN in the box's
     * user namespace; each program sets no_new_privs itself). From here
     * on not even the init can mount, unshare, ptrace... */
    drop_bounding();
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &filter) < 0)
        die("seccomp");

    /* Parked here until a step comes: everything above is off its path. */
    while (spec_receive(BOXINIT_SYNC_FD)) {
        /* As posix_spawn does: the program shares our memory, on its own
         * stack, until its execve (we wait meanwhile), so no copy of the
         * address space is made only to be thrown away. Not glibc's
         * fork(): it would take malloc locks that a thread of the server
         * may have held when we were cloned. */
        pid_t pid = clone(program_main, program_stack + sizeof program_stack,
                          CLONE_VM | CLONE_VFORK | SIGCHLD, NULL);
        for (int i = 0; i < BOXINIT_STEP_FDS; i++)
            if (step_fds[i] >= 0)
                close(step_fds[i]);
        if (pid < 0)
            die("start the program");
        boxinit_msg m = {.kind = 'S', .value = step_wait(pid)};
        if (write(BOXINIT_STATUS_FD, &m, sizeof m) != (ssize_t)sizeof m)
            _exit(1);
    }
    _exit(125); /* the supervisor let the box go, or spoke nonsense */
}
