/* exec.c — the supervisor of one step: clone the box, feed stdin, read
 * output, watch the limits, kill, reap, account.
 *
 * Errors here are values: a step that cannot be built or watched ends as
 * BOX_INTERNAL_ERROR with a message, and the server keeps serving. */
#include "box/internal.h"

#include "common/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int write_proc(pid_t pid, const char *file, const char *val)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t n = strlen(val);
    return write(fd, val, n) == (ssize_t)n ? 0 : -1;
}

static int buf_append(box_buf *b, const char *data, size_t n)
{
    char *p = realloc(b->data, b->len + n + 1);
    if (!p)
        return -1;
    memcpy(p + b->len, data, n);
    b->data = p;
    b->len += n;
    p[b->len] = 0;
    return 0;
}

/* The state of one step while it runs. */
typedef struct step {
    box_slot *slot;
    const box_spec *spec;
    box_limits lim;
    box_result *res;
    cg_run cg;
    pid_t pid;
    int pidfd, status_r; /* the box's: not the step's to close */
    int in_w, out_r, err_r, live_in, ctl;
    bool ctl_eof_told;
    const char *stdin_pos;
    size_t stdin_left;
    char live_buf[16384];
    size_t live_len, live_off;
    uint64_t output; /* bytes delivered so far */
    bool killed, exited, output_over;
    bool init_gone;   /* the init exited (killed, or failed) */
    bool drain_cut;   /* the pipes were given up on after the step ended */
    bool status_done; /* no more status to read: 'S' came, or the pipe closed */
    box_limit_kind timeout;
    boxinit_msg msg; /* 'S' once it came, else the init's last word */
    size_t msg_len;
    boxinit_msg failed; /* the program's set-up failure ('E'), if any */
} step;

static void kill_box(step *st)
{
    if (st->killed)
        return;
    st->killed = true;
    /* SIGKILL to the init ends the whole pid namespace, stopped tasks too. */
    if (st->pidfd >= 0)
        syscall(SYS_pidfd_send_signal, st->pidfd, SIGKILL, NULL, 0);
}

static void close_fd(int *fd)
{
    cleanup_closep(fd);
    *fd = -1;
}

/* Reads one chunk from a stream; delivers at most what the output cap
 * allows. Returns true when bytes came (there may be more). */
static bool read_stream(step *st, int *fd, box_stream which)
{
    char buf[65536];
    ssize_t n = read(*fd, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return false;
    if (n <= 0) {
        close_fd(fd);
        return false;
    }
    if (st->spec->flags & BOX_SPEC_STREAM_ONLY) {
        if (st->spec->on_output)
            st->spec->on_output(st->spec->ctx, which, buf, (size_t)n);
        return true;
    }
    box_buf *b = which == BOX_STDOUT ? &st->res->out : &st->res->err;
    uint64_t room = st->lim.output_bytes - st->output;
    size_t give = (uint64_t)n < room ? (size_t)n : (size_t)room;
    if (give < (size_t)n) {
        b->truncated = true;
        if (!st->output_over && !st->killed)
            st->output_over = true;
        kill_box(st);
    }
    if (give == 0)
        return false;
    st->output += give;
    if (buf_append(b, buf, give) < 0) {
        snprintf(st->res->message, sizeof st->res->message, "out of memory for output");
        kill_box(st);
        return false;
    }
    if (st->spec->on_output)
        st->spec->on_output(st->spec->ctx, which, buf, give);
    return true;
}

/* Control bytes come after the output written before them: empty both
 * output pipes first, then read one chunk of control bytes. */
static void read_ctl(step *st)
{
    while (st->out_r >= 0 && read_stream(st, &st->out_r, BOX_STDOUT))
        ;
    while (st->err_r >= 0 && read_stream(st, &st->err_r, BOX_STDERR))
        ;
    char buf[65536];
    ssize_t n = read(st->ctl, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        close_fd(&st->ctl);
        if (!st->ctl_eof_told && st->spec->on_ctl)
            st->spec->on_ctl(st->spec->ctx, buf, 0);
        st->ctl_eof_told = true;
        return;
    }
    if (st->spec->on_ctl)
        st->spec->on_ctl(st->spec->ctx, buf, (size_t)n);
}

static void feed_stdin(step *st)
{
    if (st->stdin_left) {
        ssize_t n = write(st->in_w, st->stdin_pos, st->stdin_left);
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            close_fd(&st->in_w); /* EPIPE: the program stopped reading */
            return;
        }
        st->stdin_pos += n;
        st->stdin_left -= (size_t)n;
    }
    if (!st->stdin_left && st->live_in < 0)
        close_fd(&st->in_w);
}

static void forward_live(step *st, short revents_in, short revents_out)
{
    if (st->live_in >= 0 && st->live_len == st->live_off && (revents_in & (POLLIN | POLLHUP))) {
        ssize_t n = read(st->live_in, st->live_buf, sizeof st->live_buf);
        if (n <= 0 && !(n < 0 && (errno == EAGAIN || errno == EINTR))) {
            st->live_in = -1; /* not ours to close */
            if (st->in_w >= 0 && st->live_len == st->live_off)
                close_fd(&st->in_w);
            return;
        }
        if (n > 0) {
            st->live_len = (size_t)n;
            st->live_off = 0;
        }
    }
    if (st->in_w >= 0 && st->live_off < st->live_len && (revents_out & POLLOUT)) {
        ssize_t n = write(st->in_w, st->live_buf + st->live_off, st->live_len - st->live_off);
        if (n < 0 && errno != EAGAIN) {
            close_fd(&st->in_w);
            return;
        }
        if (n > 0)
            st->live_off += (size_t)n;
        if (st->live_in < 0 && st->live_off == st->live_len)
            close_fd(&st->in_w);
    }
}

/* Reads the init's messages, one at most per call: 'E' when the
 * program's set-up failed, then 'S' when the program and all it left are
 * gone (the step has ended); or the init's own 'E' before it exits. */
static void read_status(step *st)
{
    ssize_t n = read(st->status_r, (char *)&st->msg + st->msg_len, sizeof st->msg - st->msg_len);
    if (n <= 0) {
        if (!(n < 0 && (errno == EINTR || errno == EAGAIN)))
            st->status_done = true;
        return;
    }
    st->msg_len += (size_t)n;
    if (st->msg_len < sizeof st->msg)
        return;
    if (st->msg.kind == 'S') {
        st->status_done = st->exited = true;
    } else if (st->msg.kind == 'E' && !st->failed.kind) {
        st->failed = st->msg;
        st->msg_len = 0;
    }
}

static void reap(int pidfd)
{
    siginfo_t si;
    syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
    waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si, WEXITED);
}

void slot_cg_keep(box_slot *s, cg_run *cg)
{
    if (!s->cg_kept && cg_run_recycle(cg) == 0) {
        s->cg = *cg;
        s->cg_kept = true;
        cg->host = NULL;
        return;
    }
    cg_run_destroy(cg);
}

void warm_discard(box_slot *s, warm_box *w)
{
    if (w->pidfd >= 0)
        reap(w->pidfd);
    close_fd(&w->pidfd);
    close_fd(&w->sync_w);
    close_fd(&w->status_r);
    slot_cg_keep(s, &w->cg);
}

/* Inside root maps to a second host uid of the slot's own: the kernel
 * refuses to create files (EOVERFLOW) for an unmapped fsuid, and the
 * template builds the root as inside root. */
static int write_id_maps(const box_slot *s, pid_t pid, int status_r, char *err, size_t errlen)
{
    const box_pool *p = s->pool;
    char map[96];
    snprintf(map, sizeof map, "0 %u 1\n%d %u 1\n", (unsigned)(p->first_uid + p->nslots + s->index),
             BOX_INSIDE_UID, (unsigned)s->uid);
    if (write_proc(pid, "uid_map", map) < 0 || write_proc(pid, "gid_map", map) < 0) {
        char why[200];
        box_fail(why, sizeof why, "cannot write the box's id maps:");
        return init_failure(status_r, err, errlen, why);
    }
    return 0;
}

int slot_template_build(box_slot *s, char *err, size_t errlen)
{
    box_pool *p = s->pool;
    int sync[2] = {-1, -1}, status[2] = {-1, -1}, pidfd = -1, rc = -1;
    if (pipe2(sync, O_CLOEXEC) < 0 || pipe2(status, O_CLOEXEC) < 0) {
        box_fail(err, errlen, "pipe:");
        goto out;
    }
    int fds[BOXINIT_NFDS] = {sync[0], status[1]};
    bool in_cgroup;
    pid_t pid = init_clone(p, fds, CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID, -1, &in_cgroup,
                           &pidfd, -1, -1);
    if (pid < 0) {
        box_fail(err, errlen, "clone:");
        goto out;
    }
    close_fd(&sync[0]);
    close_fd(&status[1]);
    if (write_id_maps(s, pid, status[0], err, errlen) < 0)
        goto out;
    if (init_conf_send(s, sync[1], BOXINIT_TEMPLATE) < 0) {
        init_failure(status[0], err, errlen, "cannot start the slot's template");
        goto out;
    }
    /* 'R' once the root stands, or why not. */
    if (init_message(status[0], 30000, 'R', err, errlen,
                     "the slot's template did not build its root") < 0)
        goto out;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/mnt", (int)pid);
    s->tmpl_fd = open(path, O_RDONLY | O_CLOEXEC);
    if (s->tmpl_fd < 0) {
        box_fail(err, errlen, "cannot open %s:", path);
        goto out;
    }
    rc = 0;
out:
    /* EOF lets the template's process go; its mount namespace stays ours. */
    close_fd(&sync[0]);
    close_fd(&sync[1]);
    close_fd(&status[0]);
    close_fd(&status[1]);
    if (pidfd >= 0) {
        if (rc < 0)
            syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
        siginfo_t si;
        waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si, WEXITED);
        close(pidfd);
    }
    return rc;
}

/* Clones the box's init into the slot's network namespace and a fresh run
 * cgroup, writes its id maps, and leaves it waiting for a spec. */
int warm_spawn(box_slot *s, warm_box *w, char *err, size_t errlen)
{
    box_pool *p = s->pool;
    *w = (warm_box){.pidfd = -1, .sync_w = -1, .status_r = -1};
    if (s->cg_kept) {
        w->cg = s->cg;
        s->cg_kept = false;
    } else if (cg_run_create(&p->cg, s->index, &w->cg, err, errlen) < 0) {
        cg_run_destroy(&w->cg);
        return -1;
    }
    int sync[2] = {-1, -1}, status[2] = {-1, -1};
    int rc = -1;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sync) < 0 ||
        pipe2(status, O_CLOEXEC) < 0) {
        box_fail(err, errlen, "pipe:");
        goto out;
    }
    int fds[BOXINIT_NFDS] = {sync[0], status[1]};
    /* The child joins the slot's network and IPC namespaces by being
     * cloned from a thread that stands in them for the moment: once in its
     * own user namespace it could no longer join ones owned by the host.
     * The IPC namespace is emptied first: the slot's last box is dead, and
     * what it left must not reach this one. Its mount and user namespaces
     * the child makes itself (init_clone). */
    if (setns(s->netns_fd, CLONE_NEWNET) < 0) {
        box_fail(err, errlen, "cannot enter the slot's network namespace:");
        goto out;
    }
    bool in_cgroup;
    pid_t pid = -1;
    bool in_ipcns = setns(s->ipcns_fd, CLONE_NEWIPC) == 0;
    int clone_errno = errno; /* setns's, if it failed */
    if (in_ipcns) {
        ipcns_empty();
        pid =
            init_clone(p, fds, CLONE_NEWPID | CLONE_NEWUTS, p->cg.version == 2 ? w->cg.dfd[0] : -1,
                       &in_cgroup, &w->pidfd, s->tmpl_fd, s->work_fd);
        clone_errno = errno;
        ns_return(p->host_ipcns_fd, CLONE_NEWIPC, "IPC");
    }
    ns_return(p->host_netns_fd, CLONE_NEWNET, "network");
    if (pid < 0) {
        errno = clone_errno;
        if (in_ipcns)
            box_fail(err, errlen, "clone:");
        else
            box_fail(err, errlen, "cannot enter the slot's IPC namespace:");
        goto out;
    }
    w->pid = pid;

    if (!in_cgroup && cg_run_attach(&w->cg, pid, err, errlen) < 0)
        goto out;
    if (write_id_maps(s, pid, status[0], err, errlen) < 0)
        goto out;
    if (init_conf_send(s, sync[1], BOXINIT_RUN) < 0) {
        init_failure(status[0], err, errlen, "cannot start the box's init");
        goto out;
    }
    w->sync_w = steal_fd(&sync[1]);
    w->status_r = steal_fd(&status[0]);
    fcntl(w->status_r, F_SETFL, O_NONBLOCK);
    rc = 0;
out:
    for (int i = 0; i < 2; i++) {
        close_fd(&sync[i]);
        close_fd(&status[i]);
    }
    if (rc < 0)
        warm_discard(s, w);
    return rc;
}

/* Writes len bytes of blob to the init's sync socket, the first of them
 * with the program's fds attached; -1 on error. */
static int spec_send(int sync_w, const char *blob, size_t len, const int *fds, int nfds)
{
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(BOXINIT_STEP_FDS * sizeof(int))];
    } control;
    memset(&control, 0, sizeof control);
    struct iovec iov = {(void *)blob, len};
    struct msghdr mh = {.msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = control.buf,
                        .msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int))};
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
    memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
    for (size_t off = 0; off < len;) {
        ssize_t n = off ? send(sync_w, blob + off, len - off, MSG_NOSIGNAL)
                        : sendmsg(sync_w, &mh, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        off += (size_t)n;
    }
    return 0;
}

/* Hands the step to a parked init: limits into its cgroup, the spec and
 * the program's fds (fresh pipes: EOF on them is the end of its output)
 * down the sync socket. The step borrows the box; box_exec keeps or
 * discards it. */
static int launch(step *st, warm_box *w, char *err, size_t errlen)
{
    st->cg = w->cg;
    st->pid = w->pid;
    st->pidfd = w->pidfd;
    st->status_r = w->status_r;
    int in[2] = {-1, -1}, out[2] = {-1, -1}, errp[2] = {-1, -1}, ctl[2] = {-1, -1};
    bool want_ctl = st->spec->flags & BOX_SPEC_CTL;
    _cleanup_free_ char *blob = NULL;
    size_t len;
    int rc = -1;
    if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 ||
        (want_ctl && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctl) < 0)) {
        box_fail(err, errlen, "pipe:");
        goto out;
    }
    if (cg_run_set_limits(&st->cg, &st->lim, err, errlen) < 0 ||
        box_spec_encode(st->spec, &st->lim, &blob, &len, err, errlen) < 0)
        goto out;
    cg_run_start(&st->cg);
    int fds[BOXINIT_STEP_FDS] = {in[0], out[1], errp[1], ctl[1]};
    if (spec_send(w->sync_w, blob, len, fds, want_ctl ? 4 : 3) < 0) {
        /* The init died while parked: its status pipe says why. */
        init_failure(st->status_r, err, errlen, "cannot start the box: its init is gone");
        goto out;
    }
    st->in_w = steal_fd(&in[1]);
    st->out_r = steal_fd(&out[0]);
    st->err_r = steal_fd(&errp[0]);
    st->ctl = steal_fd(&ctl[0]);
    fcntl(st->in_w, F_SETFL, O_NONBLOCK);
    fcntl(st->out_r, F_SETFL, O_NONBLOCK);
    fcntl(st->err_r, F_SETFL, O_NONBLOCK);
    if (st->ctl >= 0)
        fcntl(st->ctl, F_SETFL, O_NONBLOCK);
    rc = 0;
out:
    for (int i = 0; i < 2; i++) {
        close_fd(&in[i]);
        close_fd(&out[i]);
        close_fd(&errp[i]);
        close_fd(&ctl[i]);
    }
    return rc;
}

/* The poll loop: until the init is reaped and both output pipes are closed. */
static void supervise(step *st, uint64_t start)
{
    box_slot *s = st->slot;
    long ncpus = s->pool->ncpus > 0 ? s->pool->ncpus : 1;
    uint64_t deadline = (st->spec->flags & BOX_SPEC_NO_WALL) ? UINT64_MAX : start + st->lim.wall_ms;
    uint64_t cpu_limit_ns = st->lim.cpu_ms * 1000000ULL;
    if (st->stdin_left == 0 && st->live_in < 0)
        close_fd(&st->in_w);

    uint64_t drain_until = 0, cpu_read = cg_run_cpu_ns(&st->cg), cpu_read_at = now_ms();
    while (!st->exited || st->out_r >= 0 || st->err_r >= 0 || !st->status_done || st->ctl >= 0) {
        if (atomic_load(&s->cancelled))
            kill_box(st);
        uint64_t now = now_ms();
        /* Once the step has ended (or the init is gone) the program's
         * pipes close; should a write end have leaked anywhere, do not
         * wait for it forever. */
        if (st->exited && !drain_until)
            drain_until = now + 2000;
        if (drain_until && now >= drain_until) {
            close_fd(&st->out_r);
            close_fd(&st->err_r);
            close_fd(&st->ctl);
            st->status_done = st->drain_cut = true;
            break;
        }
        if (!st->killed && now >= deadline) {
            st->timeout = BOX_LIMIT_WALL;
            kill_box(st);
        }
        /* The counter is read only when the box could have reached the
         * limit since the last reading: no more than every core's worth of
         * the wall time between. */
        uint64_t cpu = cpu_read + (now - cpu_read_at + 1) * 1000000ULL * (uint64_t)ncpus;
        if (cpu >= cpu_limit_ns) {
            cpu = cpu_read = cg_run_cpu_ns(&st->cg);
            cpu_read_at = now;
        }
        if (!st->killed && cpu >= cpu_limit_ns) {
            st->timeout = BOX_LIMIT_CPU;
            kill_box(st);
        }
        /* Sleep no longer than the box could take to burn its remaining CPU
         * on every core, nor past the wall deadline. */
        uint64_t wait = st->killed ? 50 : deadline - now; /* UINT64_MAX - now: capped below */
        if (!st->killed) {
            uint64_t cpu_left_ms =
                cpu < cpu_limit_ns ? (cpu_limit_ns - cpu) / 1000000ULL / (uint64_t)ncpus : 0;
            if (cpu_left_ms < wait)
                wait = cpu_left_ms;
        }
        if (wait < 1)
            wait = 1;
        if (wait > 1000)
            wait = 1000;

        struct pollfd pfd[8];
        int n = 0, i_out = -1, i_err = -1, i_in = -1, i_live = -1, i_pid = -1, i_st = -1,
            i_can = -1, i_ctl = -1;
        if (st->out_r >= 0)
            pfd[i_out = n++] = (struct pollfd){st->out_r, POLLIN, 0};
        if (st->err_r >= 0)
            pfd[i_err = n++] = (struct pollfd){st->err_r, POLLIN, 0};
        if (st->in_w >= 0 && (st->stdin_left || st->live_off < st->live_len))
            pfd[i_in = n++] = (struct pollfd){st->in_w, POLLOUT, 0};
        if (st->live_in >= 0 && st->live_off == st->live_len && st->in_w >= 0)
            pfd[i_live = n++] = (struct pollfd){st->live_in, POLLIN, 0};
        if (!st->init_gone)
            pfd[i_pid = n++] = (struct pollfd){st->pidfd, POLLIN, 0};
        if (!st->status_done)
            pfd[i_st = n++] = (struct pollfd){st->status_r, POLLIN, 0};
        if (st->ctl >= 0)
            pfd[i_ctl = n++] = (struct pollfd){st->ctl, POLLIN, 0};
        pfd[i_can = n++] = (struct pollfd){s->cancel_fd, POLLIN, 0};

        int r = poll(pfd, (nfds_t)n, (int)wait);
        if (r < 0 && errno != EINTR)
            break;
        if (r <= 0)
            continue;
        if (i_out >= 0 && pfd[i_out].revents)
            read_stream(st, &st->out_r, BOX_STDOUT);
        if (i_err >= 0 && pfd[i_err].revents)
            read_stream(st, &st->err_r, BOX_STDERR);
        if (i_in >= 0 && pfd[i_in].revents) {
            if (st->stdin_left)
                feed_stdin(st);
            else
                forward_live(st, 0, pfd[i_in].revents);
        }
        if (i_live >= 0 && pfd[i_live].revents)
            forward_live(st, pfd[i_live].revents, POLLOUT);
        if (i_st >= 0 && pfd[i_st].revents)
            read_status(st);
        if (i_ctl >= 0 && pfd[i_ctl].revents)
            read_ctl(st);
        if (pfd[i_can].revents) {
            uint64_t v;
            if (read(s->cancel_fd, &v, sizeof v) < 0) {
                /* already drained */
            }
        }
        if (i_pid >= 0 && pfd[i_pid].revents) {
            siginfo_t si = {0};
            if (waitid((idtype_t)P_PIDFD, (id_t)st->pidfd, &si, WEXITED | WNOHANG) == 0 &&
                si.si_pid != 0) {
                st->exited = st->init_gone = true;
                /* Everything in the pid namespace died with its init; what
                 * is left in the pipes is all the output there will be,
                 * and in the status pipe all the init said. */
            }
        }
    }
}

static void classify(step *st, uint64_t oom_kills)
{
    box_result *res = st->res;
    bool have_status = st->msg_len == sizeof st->msg && st->msg.kind == 'S';
    if (have_status) {
        int ws = st->msg.value;
        if (WIFEXITED(ws))
            res->exit_code = WEXITSTATUS(ws);
        else if (WIFSIGNALED(ws))
            res->signal = WTERMSIG(ws);
    } else if (st->killed)
        res->signal = SIGKILL; /* ours: the init died before it could report */
    if (!st->timeout && res->cpu_ms > st->lim.cpu_ms)
        st->timeout = BOX_LIMIT_CPU;

    if (atomic_load(&st->slot->cancelled))
        res->status = BOX_CANCELLED;
    else if (st->output_over)
        res->status = BOX_OUTPUT_LIMIT;
    else if (st->timeout) {
        res->status = BOX_TIMEOUT;
        res->limit = st->timeout;
    } else if (oom_kills > 0)
        res->status = BOX_MEMORY_LIMIT;
    else if (st->failed.kind == 'E') {
        res->status = BOX_INTERNAL_ERROR;
        snprintf(res->message, sizeof res->message, "box setup failed at %.120s: %s",
                 st->failed.what, strerrordesc_np(st->failed.value));
    } else if (res->message[0])
        res->status = BOX_INTERNAL_ERROR;
    else if (!have_status) {
        res->status = BOX_INTERNAL_ERROR;
        snprintf(res->message, sizeof res->message, "the box's init ended without a status");
    } else if (res->signal)
        res->status = BOX_SIGNALED;
    else
        res->status = res->exit_code == 0 ? BOX_OK : BOX_RUNTIME_ERROR;
}

/* Placement. Once every CPU has a step to run (pin_from), a step that
 * starts is pinned to the CPU with the fewest pinned steps: two programs
 * left to the scheduler often share a CPU for a while after they start
 * (one that just ran is "cache hot" and not pulled over) while the other
 * CPU idles. Before that, steps float, so a lone one may use every CPU.
 * Not a limit: the program may widen its own affinity (CPU time is the
 * cgroup's to limit). Returns the index into p->cpus, or -1 for none. */
static int cpu_place(box_pool *p, warm_box *w)
{
    pthread_mutex_lock(&p->mu);
    int best = -1;
    if (++p->running >= p->pin_from && p->ncpu_allowed > 1)
        for (unsigned i = 0; i < p->ncpu_allowed; i++)
            if (best < 0 || p->cpu_load[i] < p->cpu_load[best])
                best = (int)i;
    if (best >= 0)
        p->cpu_load[best]++;
    pthread_mutex_unlock(&p->mu);
    if (best >= 0 || w->pinned) {
        /* One CPU, or (a reused box pinned for its last step) all again. */
        cpu_set_t set;
        CPU_ZERO(&set);
        for (unsigned i = 0; i < p->ncpu_allowed; i++)
            if (best < 0 || (int)i == best)
                CPU_SET(p->cpus[i], &set);
        if (sched_setaffinity(w->pid, sizeof set, &set) == 0)
            w->pinned = best >= 0;
        /* else it floats, or stays: placement is an optimisation */
    }
    return best;
}

static void cpu_leave(box_pool *p, int placed)
{
    pthread_mutex_lock(&p->mu);
    p->running--;
    if (placed >= 0)
        p->cpu_load[placed]--;
    pthread_mutex_unlock(&p->mu);
}

/* Removes what the slot's last step left in its IPC namespace, from this
 * thread (which enters it for the moment); -1 when it cannot enter it. */
static int slot_ipc_empty(box_slot *s)
{
    if (setns(s->ipcns_fd, CLONE_NEWIPC) < 0)
        return -1;
    ipcns_empty();
    ns_return(s->pool->host_ipcns_fd, CLONE_NEWIPC, "IPC");
    return 0;
}

int box_exec(box_slot *s, const box_spec *spec, box_result *res)
{
    memset(res, 0, sizeof *res);
    res->exit_code = -1;
    step st = {
        .slot = s,
        .spec = spec,
        .res = res,
        .pidfd = -1,
        .in_w = -1,
        .out_r = -1,
        .err_r = -1,
        .status_r = -1,
        .ctl = -1,
        .live_in = spec->stdin_fd,
        .stdin_pos = spec->stdin_data,
        .stdin_left = spec->stdin_data ? spec->stdin_len : 0,
    };
    st.lim = spec->limits;
    box_limits_clamp(&st.lim, &s->pool->max);
    if (!spec->argv || !spec->argv[0] || !spec->envp) {
        res->status = BOX_INTERNAL_ERROR;
        snprintf(res->message, sizeof res->message, "box_exec: argv and envp are required");
        return -1;
    }
    if (!s->busy) {
        res->status = BOX_INTERNAL_ERROR;
        snprintf(res->message, sizeof res->message, "box_exec: slot is not acquired");
        return -1;
    }

    /* A parked init if the warmer made one for this lease, else one now. */
    warm_box w;
    box_pool *p = s->pool;
    pthread_mutex_lock(&p->mu);
    while (s->warming)
        pthread_cond_wait(&p->cv, &p->mu);
    bool warm = s->warm_ready;
    if (warm)
        w = s->warm;
    s->warm_ready = false;
    pthread_mutex_unlock(&p->mu);
    if (!warm && warm_spawn(s, &w, res->message, sizeof res->message) < 0) {
        res->status = BOX_INTERNAL_ERROR;
        return -1;
    }
    /* Sessions' long steps mostly wait: they neither count nor get pinned. */
    bool placed = !(spec->flags & BOX_SPEC_NO_WALL);
    int cpu = placed ? cpu_place(p, &w) : -1;
    uint64_t start = now_ms();
    if (launch(&st, &w, res->message, sizeof res->message) < 0) {
        res->status = BOX_INTERNAL_ERROR;
    } else {
        pthread_mutex_lock(&s->step_mu);
        s->step_pidfd = st.pidfd;
        s->step_ctl = st.ctl;
        pthread_mutex_unlock(&s->step_mu);
        supervise(&st, start);
        pthread_mutex_lock(&s->step_mu);
        s->step_pidfd = s->step_ctl = -1;
        pthread_mutex_unlock(&s->step_mu);
        res->wall_ms = now_ms() - start;
        if (!st.exited) /* poll failed: do not leave the box behind */
            kill_box(&st);
        res->cpu_ms = cg_run_cpu_ns(&st.cg) / 1000000ULL;
        uint64_t oom = 0;
        cg_run_memory(&st.cg, &res->memory_bytes, &oom);
        classify(&st, oom);
    }
    if (placed)
        cpu_leave(p, cpu);
    w.cg = st.cg;
    close_fd(&st.in_w);
    close_fd(&st.out_r);
    close_fd(&st.err_r);
    close_fd(&st.ctl);
    /* The box serves the slot's next step when this one ended cleanly: its
     * init reported the program's end with everything it left reaped, and
     * nothing of ours killed it; and when its cgroup's counters can be
     * reset (not so the peak on cgroup v2 before Linux 6.12: then every
     * step gets a new box and cgroup). Its IPC namespace is emptied here
     * (as a new box's is before its clone); the workspace stays for the
     * lease's next step and is replaced at release (pool.c). */
    bool keep = p->keep_boxes && w.by_warmer && st.cg.reusable && st.exited && !st.init_gone &&
                !st.killed && !st.drain_cut && !st.failed.kind && st.msg.kind == 'S' &&
                !atomic_load(&s->cancelled) && slot_ipc_empty(s) == 0;
    if (keep) {
        pthread_mutex_lock(&p->mu);
        s->warm = w;
        s->warm_ready = true;
        pthread_mutex_unlock(&p->mu);
    } else {
        warm_discard(s, &w);
    }
    if (st.spec->on_ctl && (spec->flags & BOX_SPEC_CTL) && !st.ctl_eof_told)
        spec->on_ctl(spec->ctx, "", 0);
    if (!res->out.data)
        buf_append(&res->out, "", 0);
    if (!res->err.data)
        buf_append(&res->err, "", 0);
    return res->status == BOX_INTERNAL_ERROR ? -1 : 0;
}

void box_cancel(box_slot *s)
{
    atomic_store(&s->cancelled, true);
    uint64_t one = 1;
    if (write(s->cancel_fd, &one, sizeof one) < 0) {
        /* the counter is full: a wake-up is pending anyway */
    }
}

int box_interrupt(box_slot *s)
{
    pthread_mutex_lock(&s->step_mu);
    int rc = s->step_pidfd >= 0
                 ? (int)syscall(SYS_pidfd_send_signal, s->step_pidfd, SIGINT, NULL, 0)
                 : -1;
    pthread_mutex_unlock(&s->step_mu);
    return rc < 0 ? -1 : 0;
}

int box_ctl_send(box_slot *s, const void *data, size_t len, int timeout_ms, char *err,
                 size_t errlen)
{
    pthread_mutex_lock(&s->step_mu);
    int fd = s->step_ctl >= 0 ? fcntl(s->step_ctl, F_DUPFD_CLOEXEC, 0) : -1;
    pthread_mutex_unlock(&s->step_mu);
    if (fd < 0)
        return box_fail(err, errlen, "no step with a control socket is running");
    pthread_mutex_lock(&s->ctl_write_mu);
    uint64_t deadline = now_ms() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms);
    int rc = 0;
    for (size_t off = 0; off < len;) {
        ssize_t n = send(fd, (const char *)data + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        uint64_t now = now_ms();
        if (n < 0 && errno == EAGAIN && now < deadline) {
            struct pollfd p = {fd, POLLOUT, 0};
            poll(&p, 1, (int)(deadline - now));
            continue;
        }
        rc = n < 0 && errno == EAGAIN
                 ? box_fail(err, errlen, "the box did not read its control socket")
                 : box_fail(err, errlen, "control socket:");
        break;
    }
    pthread_mutex_unlock(&s->ctl_write_mu);
    close(fd);
    return rc;
}

void box_result_free(box_result *res)
{
    free(res->out.data);
    free(res->err.data);
    res->out.data = res->err.data = NULL;
    res->out.len = res->err.len = 0;
}

const char *box_status_name(box_status st)
{
    static const char *const names[] = {"ok",        "runtime_error", "signaled",
                                        "timeout",   "memory_limit",  "output_limit",
                                        "cancelled", "internal_error"};
    return (unsigned)st < sizeof names / sizeof names[0] ? names[st] : "internal_error";
}

const char *box_signal_name(int sig)
{
    if (sig == 0)
        return "";
    const char *abbrev = sigabbrev_np(sig);
    static __thread char buf[16];
    snprintf(buf, sizeof buf, "SIG%s", abbrev ? abbrev : "UNKNOWN");
    return buf;
}
