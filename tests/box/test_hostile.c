/* test_hostile.c — the hostile programs xxx must survive
 * (docs: ../shared/reference/sandbox.md, "The hostile programs xxx must
 * survive", items 1-27), plus the seccomp probe. Each test runs one program
 * of tests/box/progs/ in a real box and asserts the exact safe outcome: the
 * status, the errno of each attempt, and what must not exist afterwards
 * (no process of the slot's uid, host files untouched). Needs root. */
#include "boxtest.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/keyctl.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <grp.h>

#define FIRST_UID 61000
#define SUITE "xxxtest-hostile"

/* Planted in the test's environment and session keyring before the pool
 * opens: no box may ever see them. */
#define CANARY_ENV "XXX_TEST_CANARY"
#define CANARY_VALUE "canary-env-5f3a9c"
#define CANARY_KEY "xxx-host-canary-key"
/* A host secret the service holds open without CLOEXEC: no box may get it. */
#define LEAK_FD 200

/* The errno the box's seccomp policy (src/box/seccomp.c) gives a refused
 * call. clone3 gets ENOSYS: a filter cannot read its flags (they are behind
 * a pointer), and ENOSYS makes libc fall back to clone, whose flags it can. */
static int policy_errno(const char *call)
{
    if (strncmp(call, "clone3", 6) == 0)
        return ENOSYS;
    return EPERM;
}

#define bt_assert_policy(r, call) bt_assert_errno((r), (call), policy_errno(call))

/* Returns the errno name the policy gives call. */
static const char *policy_name(const char *call)
{
    return strerrorname_np(policy_errno(call));
}

/* ---- 1. fork bomb ----------------------------------------------------- */

static void fork_bomb_stops_at_the_process_limit(void **state)
{
    bt_ctx *ctx = *state;
    box_slot *s = bt_acquire(ctx);
    bt_put_prog(ctx, s, "forkbomb");
    box_limits lim = bt_limits(3000);
    lim.processes = 16;
    box_result res;
    bt_run(s, (const char *const[]){BT_PROG("forkbomb"), NULL}, lim, &res);

    bt_assert_status(&res, BOX_TIMEOUT);
    assert_int_equal(res.limit, BOX_LIMIT_WALL);
    bt_assert_errno(&res, "fork", EAGAIN);
    char buf[32];
    assert_non_null(bt_value_n(&res, "forked", 0, buf, sizeof(buf)));
    assert_in_range(atol(buf), 1, 15);
    bt_assert_no_procs(ctx, s);
    box_result_free(&res);
    bt_release(ctx, s);
    bt_assert_pool_serves(ctx);
}

/* ---- 2. memory twice the limit --------------------------------------- */

static void memory_twice_the_limit_is_an_oom_kill_inside_the_box(void **state)
{
    bt_ctx *ctx = *state;
    box_slot *s = bt_acquire(ctx);
    bt_put_prog(ctx, s, "memhog");
    box_limits lim = bt_limits(20000);
    lim.memory_bytes = 64 * MIB;
    box_result res;
    bt_run(s, (const char *const[]){BT_PROG("memhog"), "128", NULL}, lim, &res);

    bt_assert_status(&res, BOX_MEMORY_LIMIT);
    assert_int_equal(bt_count(&res, "done"), 0);
    bt_assert_no_procs(ctx, s);
    box_result_free(&res);
    bt_release(ctx, s);
    bt_assert_pool_serves(ctx);
}

/* ---- 3. fill /tmp, /dev/shm and the inodes ---------------------------- */

static void filling_tmp_shm_workdir_and_inodes_stops_with_enospc(void **state)
{
    bt_ctx *ctx = *state;
    const uint64_t cap = 16 * MIB;
    box_slot *s = bt_acquire_tmpfs(ctx, cap);
    bt_put_prog(ctx, s, "fill");
    box_limits lim = bt_limits(60000);
    lim.memory_bytes = 256 * MIB;
    lim.file_bytes = 4 * cap;
    lim.tmpfs_bytes = cap;
    box_result res;
    bt_run(s, (const char *const[]){BT_PROG("fill"), NULL}, lim, &res);

    bt_assert_status(&res, BOX_OK);
    static const char *const places[] = {"tmp", "shm", "workdir"};
    for (size_t i = 0; i < 3; i++) {
        bt_assert_errno(&res, places[i], ENOSPC);
        char key[32], buf[32];
        snprintf(key, sizeof(key), "%s_bytes", places[i]);
        assert_non_null(bt_value_n(&res, key, 0, buf, sizeof(buf)));
        if (strtoull(buf, NULL, 10) == 0 || strtoull(buf, NULL, 10) > cap) {
            bt_dump(&res);
            fail_msg("%s: %s bytes written, the cap is %llu", places[i], buf,
                     (unsigned long long)cap);
        }
    }
    /* The data lived in the box's tmpfs: its pages count as the box's memory. */
    char buf[32];
    uint64_t tmp_bytes = strtoull(bt_value_n(&res, "tmp_bytes", 0, buf, sizeof(buf)), NULL, 10);
    if (res.memory_bytes < tmp_bytes * 9 / 10) {
        bt_dump(&res);
        fail_msg("tmpfs data (%llu bytes) not charged to the box (peak %llu)",
                 (unsigned long long)tmp_bytes, (unsigned long long)res.memory_bytes);
    }
    bt_assert_errno(&res, "inodes", ENOSPC);
    box_result_free(&res);
    bt_release(ctx, s);
}

/* ---- 4. gigabytes of output ------------------------------------------ */

static void gigabytes_of_output_are_cut_at_the_cap(void **state)
{
    bt_ctx *ctx = *state;
    box_slot *s = bt_acquire(ctx);
    bt_put_prog(ctx, s, "flood");
    box_limits lim = bt_limits(20000);
    lim.output_bytes = 1 * MIB;
    box_result res;
    bt_run(s, (const char *const[]){BT_PROG("flood"), "stdout", NULL}, lim, &res);

    bt_assert_status(&res, BOX_OUTPUT_LIMIT);
    assert_int_equal(res.out.len, 1 * MIB);
    assert_true(res.out.truncated);
    assert_int_equal(res.err.len, 0);
    bt_assert_no_procs(ctx, s);
    box_result_free(&res);
    bt_release(ctx, s);
    bt_assert_pool_serves(ctx);
}

/* ---- 5. sleep forever, block on stdin --------------------------------- */

static void sleeping_forever_ends_at_the_wall_limit(void **state)
{
    bt_ctx *ctx = *state;
    box_slot *s = bt_acquire(ctx);
    bt_put_prog(ctx, s, "sleeper");
    box_result res;
    bt_run(s, (const char *const[]){BT_PROG("sleeper"), "forever", NULL}, bt_limits(1000), &res);

    bt_assert_status(&res, BOX_TIMEOUT);
    assert_int_equal(res.limit, BOX_LIMIT_WALL);
    bt_assert_line(&res, "ready", "1");
    bt_assert_no_procs(ctx, s);
    box_result_free(&res);
    bt_release(ctx, s);
}

static void blocking_on_stdin_ends_at_the_wall_limit(void **state)
{
    bt_ctx *ctx = *state;
    box_slot *s = bt_acquire(ctx);
    bt_put_prog(ctx, s, "sleeper");
    /* A live stdin that never delivers a byte nor closes. */
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    box_spec spec =
        bt_spec((const char *const[]){BT_PROG("sleeper"), "stdin", NULL}, bt_limits(1000));
    spec.stdin_fd = p[0];
    box_result res;
    bt_run_spec(s, &spec, &res);
    close(p[1]);
    close(p[0]);

    bt_assert_status(&res, BOX_TIMEOUT);
    assert_int_equal(res.limit, BOX_LIMIT_WALL);
    assert_int_equal(bt_count(&res, "stdin"), 0);
    bt_assert_no_procs(ctx, s);
    box_result_free(&res);
    bt_release(ctx, s);
}

/* ---- 6. 64 spinning threads ------------------------------------------ */

static void sixty_four_spinning_threads_end_at_the_cpu_limit(void **state)
{
    bt_ctx *ctx = *state;
    box_slot *s = bt_acquire(ctx);
    bt_put_prog(ctx, s, "spinners");
    box_limits lim = bt_limits(30000);
    lim.cpu_ms = 1000;
    lim.processes = 128;
    box_result res;
    bt_run(s, (const char *const[]){BT_PROG("spinners"), "64", NULL}, lim, &res);

    bt_assert_status(&res, BOX_TIMEOUT);
    assert_int_equal(res.limit, BOX_LIMIT_CPU);
    bt_assert_line(&res, "threads", "64");
    assert_true(res.cpu_ms >= 1000);
    bt_assert_no_procs(ctx, s);
    box_result_free(&res);
    bt_release(ctx, s);
}

/* ---- 7. double fork, setsid, ignore SIGTERM ----------------------------- */

static void double_fork_setsid_daemon_does_not_survive_the_run(void **state)
{
    bt_ctx *ctx = *state;
    box_slot *s = bt_acquire(ctx);
    bt_put_prog(ctx, s, "daemonize");
    box_result res;
    bt_run(s, (const char *const[]){BT_PROG("daemonize"), NULL}, bt_limits(10000), &res);

    /* The run is the main process: it exited 0, and its daemon (still
     * holding stdout) is killed with it rather than waited for. */
    bt_assert_status(&res, BOX_OK);
    assert_int_equal(res.exit_code, 0);
    bt_assert_line(&res, "daemon", "started");
    bt_assert_no_procs(ctx, s);
    box_result_free(&res);
    bt_release(ctx, s);
}

/* ---- 8. SIGSTOP itself and its children --------------------------------- */

static void stopped_processes_are_still_killed_and_reaped(void **state)
{
    bt_ctx *ctx = *state;
    box_slot *s = bt_acquire(ctx);
    bt_put_prog(ctx, s, "stopper");
    box_result res;
    bt_run(s, (const char *const[]){BT_PROG("stopper"), NULL}, bt_limits(1500), &res);

    bt_assert_status(&res, BOX_TIMEOUT);
    assert_int_equal(res.limit, BOX_LIMIT_WALL);
    bt_assert_line(&res, "stopped_children", "3");
    bt_assert_line(&res, "self_stop", "1");
    bt_assert_no_procs(ctx, s);
    box_result_free(&res);
    bt_release(ctx, s);
}

/* ---- 9. unshare, clone, clone3 with namespace flags ---------------------- */

static void unshare_and_clone3_with_namespace_flags_are_refused(void **state)
{
    bt_ctx *ctx = *state;
    box_slot *s = bt_acquire(ctx);
    bt_put_prog(ctx, s, "namespaces");
    box_result res;
    bt_run(s, (const char *const[]){BT_PROG("namespaces"), NULL}, bt_limits(10000), &res);

    bt_assert_status(&res, BOX_OK);
    static const char *const calls[] = {
        "unshare_user_mount", "unshare_user",  "unshare_mount",  "unshare_pid",
        "unshare_net",        "unshare_ipc",   "unshare_uts",    "unshare_cgroup",
        "unshare_time",       "clone_newuser", "clone3_newuser",
    };
    for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
        bt_assert_policy(&res, calls[i]);
    bt_assert_line(&res, "userns_changed", "0");
    /* The box's user namespace owns only its cgroup namespace: its mounts,
     * pids, IPC and host name belong to the host's, so no capability of
     * its own could touch them. */
    bt_assert_line(&res, "owner_mnt", "EPERM");
    bt_assert_line(&res, "owner_pid", "EPERM");
    bt_assert_line(&res, "owner_ipc", "EPERM");
    bt_assert_line(&res, "owner_uts", "EPERM");
    bt_assert_line(&res, "owner_cgroup", "own");
    box_result_free(&res);
    bt_release(ctx, s);
}

/* ---- 10. setns, mount, umount2, pivot_root, chroot ----------------------- */

static void setns_mount_umount_pivot_root_chroot_are_refused(void **state)
{
    bt_ctx *ctx = *state;
    box_slot *s = bt_acquire(ctx);
    bt_put_prog(ctx, s, "mounts");
    box_result res;
    bt_run(s, (const char *const[]){BT_PROG("mounts"), NULL}, bt_limits(10000), &res);

    bt_assert_status(&res, BOX_OK);
    bt_assert_line(&res, "open_ns", "0");
    static const char *const calls[] = {"setns",        "mount_tmpfs",  "mount_proc",
                                        "umount2_root", "umount2_proc", "pivot_root",
                                        "chroot",       "fsopen",       "open_tree"};
    for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
        bt_assert_policy(&res, calls[i]);
    box_result_free(&res);
    bt_release(ctx, s);
}

/* ---- 11. TIOCSTI ------------------------------------------------------- */

static void tiocsti_even_with_high_bits_is_refused_and_there_is_no_tty(void **state)
{
    bt_ctx *ctx = *state;
    box_slot *s = bt_acquire(ctx);
    bt_put_prog(ctx, s, "tiocsti");
    box_result res;
    bt_run(s, (const char *const[]){BT_PROG("tiocsti"), NULL}, bt_limits(10000), &res);

    bt_assert_status(&res, BOX_OK);
    /* fd 0 is a pipe: had the ioctls reached the kernel they would say ENOTTY. */
    bt_assert_policy(&res, "tiocsti");
    bt_assert_policy(&res, "tiocsti_high");
    bt_assert_policy(&res, "tioclinux");
    bt_assert_policy(&res, "tioclinux_high");
    /* No /dev/tty at all, or one with no controlling terminal behind it. */
    bt_assert_line_in(&res, "dev_tty", "ENOENT", "ENXIO");
    bt_assert_line(&res, "tty_nr", "0");
    box_result_free(&res);
    bt_release(ctx, s);
}

/* ---- 12. kill(-1), pid scan, ptrace ------------------------------------- */

/* Returns the real uid of pid, or -1. */
static long uid_of(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "re");
    long uid = -1;
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "Uid: %ld", &uid) == 1)
            break;
    if (f)
        fclose(f);
    return uid;
}

/* Starts a host process running as uid (the box's own host uid, the most
 * exposed neighbour there is); returns its pid. */
static pid_t start_host_victim(uid_t uid)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        if (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0)
            _exit(1);
        /* After the uid change, which clears it; and if the test is gone already, go too. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
            _exit(1);
        for (;;)
            pause();
    }
    assert_true(pid > 0);
    for (int i = 0; i < 200 && uid_of(pid) != (long)uid; i++)
        usleep(5000);
    assert_int_equal(uid_of(pid), uid);
    return pid;
}

static void kill_all_pid_scan_and_ptrace_reach_only_the_box(void **state)
{
    bt_ctx *ctx = *state;
    box_slot *s = bt_acquire(ctx);
    bt_put_prog(ctx, s, "killall");
    pid_t victim = start_host_victim(bt_uid(ctx, s));
    box_result res;
    bt_run(s, (const char *const[]){BT_PROG("killall"), NULL}, bt_limits(20000), &res);

    int st = 0;
    pid_t waited = waitpid(victim, &st, WNOHANG);
    kill(victim, SIGKILL);
    waitpid(victim, NULL, 0);
    if (waited != 0)
        fail_msg("the host process of the box's uid was killed from inside the box");

    bt_assert_status(&res, BOX_OK);
    bt_assert_line(&res, "kill_all", "0");
    char want[16], self[32], visible[4096];
    snprintf(want, sizeof(want), "%d", SIGKILL);
    bt_assert_line(&res, "child_killed_by", want);
    assert_non_null(bt_value_n(&res, "self", 0, self, sizeof(self)));
    assert_non_null(bt_value_n(&res, "visible", 0, visible, sizeof(visible)));
    /* Only itself, and pid 1 of its own namespace, remain to be seen. */
    for (char *tok = strtok(visible, ","); tok; tok = strtok(NULL, ","))
        if (strcmp(tok, "1") != 0 && strcmp(tok, self) != 0) {
            bt_dump(&res);
            fail_msg("the box sees pid %s besides itself (%s) and 1", tok, self);
        }
    bt_assert_policy(&res, "ptrace_attach_1");
    bt_assert_policy(&res, "ptrace_traceme");
    box_result_free(&res);
    bt_release(ctx, s);
}

/* ---- 13. keys carried between runs ---------------------------------------- */

static void keys_are_refused_and_nothing_carries_to_the_next_run(void **state)
{
    bt_ctx *ctx = *state;
    box_slot *s = bt_acquire(ctx);
    bt_put_prog(ctx, s, "keys");
    box_result res;
    bt_run(s, (const char *const[]){BT_PROG("keys"), "store", NULL}, bt_limits(10000), &res);
    bt_assert_status(&res, BOX_OK);
    bt_assert_errno(&res, "add_key", policy_errno("add_key"));
    bt_assert_errno(&res, "join_session", policy_errno("keyctl"));
    bt_assert_errno(&res, "user_keyring", policy_errno("keyctl"));
    /* The service's own session keyring is not the box's. */
    assert_false(bt_output_contains(&res, CANARY_KEY));
    box_result_free(&res);
    bt_release(ctx, s);

    s = bt_acquire(ctx);
    bt_put_prog(ctx, s, "keys");
    bt_run(s, (const char *const[]){BT_PROG("keys"), "fetch", NULL}, bt_limits(10000), &res);
    bt_assert_status(&res, BOX_OK);
    bt_assert_errno(&res, "request_key", policy_errno("request_key"));
    bt_assert_errno(&res, "search", policy_errno("keyctl"));
    assert_false(bt_output_contains(&res, "xxx-test-secret"));
    assert_false(bt_output_contains(&res, CANARY_KEY));
    box_result_free(&res);
    bt_release(ctx, s);
}

/* ---- 14. userfaultfd, io_uring, perf, bpf ------------------------------------ */

static void userfaultfd_io_uring_perf_and_bpf_are_refused(void **state)
{
    bt_ctx *ctx = *state;
    box_slot *s = bt_acquire(ctx);
    bt_put_prog(ctx, s, "kernel_surface");
    box_result res;
    bt_run(s, (const char *const[]){BT_PROG("kernel_surface"), NULL}, bt_limits(10000), &res);

    bt_assert_status(&res, BOX_OK);
    bt_assert_policy(&res, "userfaultfd");
    bt_assert_policy(&res, "io_uring_setup");
    bt_assert_policy(&res, "perf_event_open");
    bt_assert_policy(&res, "bpf");
    box_result_free(&res);
    bt_release(ctx, s);
}

/* ---- 15. foreign ABIs ---------------------------------------------------- */

/* Returns the signal an i386 `int 0x80` getpid gets on this host: 0 when
 * the host runs it (IA32 emulation on), else the fault (SIGSEGV). */
static int host_int80_signal(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        long rc, nr = 20; /* i386 getpid */
        __asm__ volatile("int $0x80" : "=a"(rc) : "a"(nr) : "memory", "r8", "r9", "r10", "r11");
        _exit(rc > 0 ? 0 : 1);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFSIGNALED(st) ? WTERMSIG(st) : 0;
}

static void run_foreign_abi(bt_ctx *ctx, const char *mode, int want_signal)
{
    box_slot *s = bt_acquire(ctx);
    bt_put_prog(ctx, s, "foreign_abi");
    box_result res;
    bt_run(s, (const char *const[]){BT_PROG("foreign_abi"), mode, NULL}, bt_limits(10000), &res);

    bt_assert_line(&res, "start", mode);
    bt_assert_status(&res, BOX_SIGNALED);
    if (res.signal != want_signal) {
        bt_dump(&res);
        fail_msg("expected %s, got %s", box_signal_name(want_signal), box_signal_name(res.signal));
    }
    assert_int_equal(bt_count(&res, "executed"), 0);
    box_result_free(&res);
    bt_release(ctx, s);
}

static void x32_syscall_number_kills_the_process(void **state)
{
    run_foreign_abi(*state, "x32", SIGSYS);
}

static void int80_i386_syscall_kills_the_process(void **state)
{
    /* With IA32 emulation the filter sees AUDIT_ARCH_I386 and kills with
     * SIGSYS; without it the CPU faults first. Never executed either way. */
    int host = host_int80_signal();
    run_foreign_abi(*state, "int80", host == 0 ? SIGSYS : host);
}

/* ---- 16. vsock, packet, netlink, host ports -------------------------------- */

/* Returns a listening TCP socket on all host addresses; *port gets its port. */
static int host_tcp_listener(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY)};
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, 16), 0);
    socklen_t len = sizeof(sa);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

/* Returns a listening abstract unix socket named name in the host netns. */
static int host_abstract_listener(const char *name)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    assert_true(fd >= 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t n = strlen(name);
    memcpy(sa.sun_path + 1, name, n);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa,
                          (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n)),
                     0);
    assert_int_equal(listen(fd, 16), 0);
    return fd;
}

/* Connects to an abstract unix name from the host; returns 0 or errno. */
static int host_abstract_connect(const char *name)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t n = strlen(name);
    memcpy(sa.sun_path + 1, name, n);
    int rc = connect(fd, (struct sockaddr *)&sa,
                     (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n));
    int err = rc < 0 ? errno : 0;
    close(fd);
    return err;
}

/* Writes the host's first non-loopback IPv4 address into buf (a TEST-NET
 * address when it has none: unreachable from a box all the same). */
static void host_ipv4(char *buf, size_t len)
{
    snprintf(buf, len, "192.0.2.1");
    struct ifaddrs *ifs = NULL;
    if (getifaddrs(&ifs) < 0)
        return;
    for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
            continue;
        struct in_addr a = ((struct sockaddr_in *)i->ifa_addr)->sin_addr;
        if ((ntohl(a.s_addr) >> 24) == 127)
            continue;
        inet_ntop(AF_INET, &a, buf, (socklen_t)len);
        break;
    }
    freeifaddrs(ifs);
}

static void vsock_packet_netlink_and_host_ports_are_unreachable(void **state)
{
    bt_ctx *ctx = *state;
    int port;
    int tcp = host_tcp_listener(&port);
    char abs_name[64], ip[64], port_s[16];
    snprintf(abs_name, sizeof(abs_name), "xxx-test-host-%d", (int)getpid());
    int abs = host_abstract_listener(abs_name);
    host_ipv4(ip, sizeof(ip));
    snprintf(port_s, sizeof(port_s), "%d", port);

    /* The listener works from the host: what fails in the box is the box. */
    int probe = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(probe, (struct sockaddr *)&sa, sizeof(sa)), 0);
    close(probe);
    usleep(10000);
    int c = accept(tcp, NULL, NULL);
    assert_true(c >= 0);
    close(c);

    box_slot *s = bt_acquire(ctx);
    bt_put_prog(ctx, s, "net");
    box_result res;
    bt_run(s, (const char *const[]){BT_PROG("net"), port_s, ip, abs_name, NULL}, bt_limits(20000),
           &res);

    int tcp_accept = accept(tcp, NULL, NULL), tcp_err = errno;
    int abs_accept = accept(abs, NULL, NULL), abs_err = errno;
    close(tcp);
    close(abs);

    bt_assert_status(&res, BOX_OK);
    bt_assert_policy(&res, "socket_vsock");
    bt_assert_policy(&res, "socket_packet");
    bt_assert_policy(&res, "socket_netlink");
    bt_assert_errno(&res, "tcp_loopback", ECONNREFUSED);
    bt_assert_errno(&res, "tcp_host", ENETUNREACH);
    bt_assert_errno(&res, "unix_abstract", ECONNREFUSED);
    bt_assert_line(&res, "ifaces", "lo");
    if (tcp_accept >= 0 || tcp_err != EAGAIN)
        fail_msg("the host TCP listener got a connection from the box");
    if (abs_accept >= 0 || abs_err != EAGAIN)
        fail_msg("the host abstract socket got a connection from the box");
    box_result_free(&res);
    bt_release(ctx, s);
}

/* ---- 17. abstract unix socket between two boxes ------------------------------ */

static void abstract_socket_of_one_box_is_unreachable_from_another(void **state)
{
    bt_ctx *ctx = *state;
    char name[64];
    snprintf(name, sizeof(name), "xxx-test-abs-%d", (int)getpid());
    box_slot *a = bt_acquire(ctx), *b = bt_acquire(ctx);
    bt_put_prog(ctx, a, "abstract");
    bt_put_prog(ctx, b, "abstract");
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    static bt_async run_a;
    bt_async_start(&run_a, a, (const char *const[]){BT_PROG("abstract"), "listen", name, NULL},
                   bt_limits(30000), p[0]);
    bool listening = bt_async_wait_for(&run_a, "listening=1\n", 20000);

    box_result res_b = {0};
    int host_err = -1;
    if (listening) {
        bt_run(b, (const char *const[]){BT_PROG("abstract"), "connect", name, NULL},
               bt_limits(10000), &res_b);
        host_err = host_abstract_connect(name);
    }
    close(p[1]);
    bt_async_join(&run_a);
    close(p[0]);

    if (!listening) {
        bt_dump(&run_a.res);
        fail_msg("box A never listened");
    }
    bt_assert_status(&run_a.res, BOX_OK);
    bt_assert_line(&run_a.res, "bind", "0");
    bt_assert_errno(&run_a.res, "accepted", EAGAIN);
    bt_assert_status(&res_b, BOX_OK);
    bt_assert_errno(&res_b, "connect", ECONNREFUSED);
    if (host_err != ECONNREFUSED)
        fail_msg("host connect to box A's abstract socket: %s", strerrorname_np(host_err));
    box_result_free(&run_a.res);
    box_result_free(&res_b);
    bt_release(ctx, a);
    bt_release(ctx, b);
}

/* ---- 18. IPC and file locks between two boxes ------------------------------------ */

static void ipc_and_file_locks_are_no_channel_between_boxes(void **state)
{
    bt_ctx *ctx = *state;
    box_slot *a = bt_acquire(ctx), *b = bt_acquire(ctx);
    bt_put_prog(ctx, a, "ipc");
    bt_put_prog(ctx, b, "ipc");
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    static bt_async run_a;
    bt_async_start(&run_a, a, (const char *const[]){BT_PROG("ipc"), "hold", NULL}, bt_limits(30000),
                   p[0]);
    bool holding = bt_async_wait_for(&run_a, "holding=1\n", 20000);

    box_result res_b = {0};
    int host_shm = 0, host_flock = -1;
    if (holding) {
        bt_run(b, (const char *const[]){BT_PROG("ipc"), "probe", NULL}, bt_limits(10000), &res_b);
        host_shm = shmget(0x58585801, 0, 0) < 0 ? errno : 0;
        int fd = open("/usr/bin/env", O_RDONLY | O_CLOEXEC);
        host_flock = flock(fd, LOCK_EX | LOCK_NB) < 0 ? errno : 0;
        close(fd);
    }
    close(p[1]);
    bt_async_join(&run_a);
    close(p[0]);

    if (!holding) {
        bt_dump(&run_a.res);
        fail_msg("box A never got to hold its IPC objects");
    }
    bt_assert_status(&run_a.res, BOX_OK);
    bt_assert_line(&run_a.res, "shm_create", "0");
    bt_assert_line(&run_a.res, "msg_create", "0");
    /* EMFILE: the box may set RLIMIT_MSGQUEUE to 0, leaving no mqueue to share. */
    bt_assert_line_in(&run_a.res, "mq_create", "0", "EMFILE");
    bt_assert_status(&res_b, BOX_OK);
    bt_assert_errno(&res_b, "shm", ENOENT);
    bt_assert_errno(&res_b, "msg", ENOENT);
    bt_assert_errno(&res_b, "mq", ENOENT);
    /* A lock on a file both boxes share must be refused, or invisible. */
    char a_flock[64], a_posix[64];
    assert_non_null(bt_value_n(&run_a.res, "flock", 0, a_flock, sizeof(a_flock)));
    assert_non_null(bt_value_n(&run_a.res, "posix_lock", 0, a_posix, sizeof(a_posix)));
    if (strcmp(a_flock, "0") == 0)
        bt_assert_line(&res_b, "flock", "0");
    if (strcmp(a_posix, "0") == 0)
        bt_assert_line(&res_b, "posix_lock", "unlocked");
    if (host_shm != ENOENT)
        fail_msg("the host sees box A's SysV shm: %s", strerrorname_np(host_shm));
    if (host_flock != 0)
        fail_msg("box A's flock on /usr/bin/env blocks the host: %s", strerrorname_np(host_flock));
    box_result_free(&run_a.res);
    box_result_free(&res_b);
    bt_release(ctx, a);
    bt_release(ctx, b);
}

/* A slot's boxes share one IPC namespace, emptied before each box: what a
 * step leaves there reaches neither the slot's next step nor any later
 * lease of any slot. */
static void ipc_objects_do_not_outlive_their_step(void **state)
{
    bt_ctx *ctx = *state;
    box_slot *a = bt_acquire(ctx);
    bt_put_prog(ctx, a, "ipc");
    box_result left = {0}, next = {0};
    bt_run(a, (const char *const[]){BT_PROG("ipc"), "leave", NULL}, bt_limits(10000), &left);
    bt_assert_status(&left, BOX_OK);
    bt_assert_line(&left, "shm_create", "0");
    bt_assert_line(&left, "msg_send", "0");
    bt_assert_line(&left, "sem_create", "0");
    bt_run(a, (const char *const[]){BT_PROG("ipc"), "probe", NULL}, bt_limits(10000), &next);
    bt_assert_status(&next, BOX_OK);
    bt_assert_errno(&next, "shm", ENOENT);
    bt_assert_errno(&next, "msg", ENOENT);
    bt_assert_errno(&next, "sem", ENOENT);
    box_result_free(&left);
    box_result_free(&next);
    bt_release(ctx, a);

    box_slot *all[BT_SLOTS];
    for (int i = 0; i < BT_SLOTS; i++) {
        all[i] = bt_acquire(ctx);
        bt_put_prog(ctx, all[i], "ipc");
    }
    for (int i = 0; i < BT_SLOTS; i++) {
        box_result r = {0};
        bt_run(all[i], (const char *const[]){BT_PROG("ipc"), "probe", NULL}, bt_limits(10000), &r);
        bt_assert_status(&r, BOX_OK);
        bt_assert_errno(&r, "shm", ENOENT);
        bt_assert_errno(&r, "msg", ENOENT);
        bt_assert_errno(&r, "sem", ENOENT);
        box_result_free(&r);
    }
    for (int i = 0; i < BT_SLOTS; i++)
        bt_release(ctx, all[i]);
}

/* ---- 19. /proc ------------------------------------------------------------------ */

static void proc_hides_environments_and_refuses_sysrq_sys_and_kcore(void **state)
{
    bt_ctx *ctx = *state;
    box_slot *s = bt_acquire(ctx);
    bt_put_prog(ctx, s, "procfs");
    box_result res;
    bt_run(s, (const char *const[]){BT_PROG("procfs"), NULL}, bt_limits(10000), &res);

    bt_assert_status(&res, BOX_OK);
    if (bt_output_contains(&res, CANARY_VALUE)) {
        bt_dump(&res);
        fail_msg("the service's environment is readable in the box");
    }
    assert_int_equal(bt_count(&res, "env"), 1);
    bt_assert_line(&res, "env", "PATH=/usr/bin:/bin");
    bt_assert_refused(&res, "sysrq");
    bt_assert_refused(&res, "sys_core_pattern");
    bt_assert_refused(&res, "sys_hostname");
    bt_assert_refused(&res, "sys_overcommit");
    bt_assert_refused(&res, "sys_ip_forward");
    bt_assert_refused(&res, "kcore");
    bt_assert_refused(&res, "kmsg");
    box_result_free(&res);
    bt_release(ctx, s);
}

/* ---- 20. symlinks, FIFO and devices for the host to collect ------------------------ */

/* Asserts box_get_file refuses path. */
static void assert_get_refused(box_slot *s, const char *path)
{
    char *data = NULL, err[512] = "";
    size_t len = 0;
    int rc = box_get_file(s, path, 1 << 20, &data, &len, err, sizeof(err));
    if (rc == 0) {
        fail_msg("box_get_file(\"%s\") returned %zu bytes: %.*s", path, len,
                 (int)(len > 200 ? 200 : len), data);
    }
    free(data);
}

/* Asserts box_put_file refuses path. */
static void assert_put_refused(box_slot *s, const char *path)
{
    char err[512] = "";
    if (box_put_file(s, path, "pwned\n", 6, 0644, err, sizeof(err)) == 0)
        fail_msg("box_put_file(\"%s\") wrote through a planted link", path);
}

static void planted_links_fifo_and_devices_never_touch_host_files(void **state)
{
    bt_ctx *ctx = *state;
    char dir[128], secret[192];
    snprintf(dir, sizeof(dir), "/run/xxxtest-canary-%d", (int)getpid());
    snprintf(secret, sizeof(secret), "%s/secret.txt", dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    int fd = open(secret, O_CREAT | O_WRONLY | O_EXCL | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "canary-content\n", 15), 15);
    close(fd);
    static bt_snapshot shadow, canary, canary_dir, etc;
    bt_snap("/etc/shadow", &shadow);
    bt_snap(secret, &canary);
    bt_snap(dir, &canary_dir);
    bt_snap("/etc", &etc);
    assert_true(shadow.exists && shadow.len > 0);

    box_slot *s = bt_acquire(ctx);
    bt_put_prog(ctx, s, "plant");
    box_result res;
    bt_run(s, (const char *const[]){BT_PROG("plant"), dir, NULL}, bt_limits(10000), &res);
    bt_assert_status(&res, BOX_OK);
    bt_assert_line(&res, "out_txt", "0");
    bt_assert_line(&res, "canary_txt", "0");
    bt_assert_line(&res, "dirlink", "0");
    bt_assert_line(&res, "fifo", "0");
    bt_assert_line(&res, "dev_txt", "0");
    bt_assert_line(&res, "result_txt", "0");
    bt_assert_errno(&res, "mknod", EPERM);

    /* The plain file comes back: the refusals below are about the traps. */
    char *data = NULL, err[512] = "";
    size_t len = 0;
    if (box_get_file(s, "result.txt", 1 << 20, &data, &len, err, sizeof(err)) != 0)
        fail_msg("box_get_file(result.txt): %s", err);
    assert_int_equal(len, 13);
    assert_memory_equal(data, "collected-ok\n", 13);
    free(data);

    static const char *const traps[] = {
        "out.txt", "canary.txt", "dirlink/secret.txt",  "etc/shadow",  "fifo",    "dev.txt",
        "zero",    "node",       "../../../etc/shadow", "/etc/shadow", "dirlink", "etc",
    };
    for (size_t i = 0; i < sizeof(traps) / sizeof(traps[0]); i++)
        assert_get_refused(s, traps[i]);
    static const char *const writes[] = {
        "out.txt", "canary.txt", "dirlink/secret.txt",    "etc/xxx-pwned",
        "fifo",    "dev.txt",    "../../../tmp/xxx-pwned"};
    for (size_t i = 0; i < sizeof(writes) / sizeof(writes[0]); i++)
        assert_put_refused(s, writes[i]);
    box_result_free(&res);
    bt_release(ctx, s);

    /* Neither collecting nor the cleanup read, wrote, chowned or removed
     * anything the links point at. */
    bt_assert_unchanged("/etc/shadow", &shadow);
    bt_assert_unchanged(secret, &canary);
    bt_assert_unchanged(dir, &canary_dir);
    bt_assert_unchanged("/etc", &etc);
    assert_false(bt_exists("/etc/xxx-pwned"));
    assert_false(bt_exists("/tmp/xxx-pwned"));
    unlink(secret);
    rmdir(dir);
}

/* ---- 21. remount / read-write, write /usr ---------------------------------------- */

static void root_and_usr_cannot_be_made_writable(void **state)
{
    bt_ctx *ctx = *state;
    box_slot *s = bt_acquire(ctx);
    bt_put_prog(ctx, s, "rootfs");
    box_result res;
    bt_run(s, (const char *const[]){BT_PROG("rootfs"), NULL}, bt_limits(10000), &res);

    bt_assert_status(&res, BOX_OK);
    bt_assert_errno(&res, "remount_root", policy_errno("mount"));
    bt_assert_errno(&res, "remount_root_bind", policy_errno("mount"));
    bt_assert_errno(&res, "remount_usr", policy_errno("mount"));
    bt_assert_errno(&res, "create_usr", EROFS);
    bt_assert_errno(&res, "create_usr_bin", EROFS);
    bt_assert_errno(&res, "mkdir_usr", EROFS);
    bt_assert_line_in(&res, "create_root", "EROFS", "EACCES");
    bt_assert_line_in(&res, "write_env", "EROFS", "EACCES");
    assert_false(bt_exists("/usr/xxx-test-file"));
    assert_false(bt_exists("/usr/bin/xxx-test-file"));
    assert_false(bt_exists("/usr/xxx-test-dir"));
    box_result_free(&res);
    bt_release(ctx, s);
}

/* ---- 22. fds 3..65535 ------------------------------------------------------------- */

static void only_fds_0_1_2_are_open(void **state)
{
    bt_ctx *ctx = *state;
    /* group_setup left fd LEAK_FD open without CLOEXEC before the pool
     * started, so every init it parks inherited it; one more opened now. */
    assert_true(fcntl(LEAK_FD, F_GETFD) == 0);
    int leak = open("/etc/shadow", O_RDONLY);
    assert_true(leak >= 0);

    box_slot *s = bt_acquire(ctx);
    bt_put_prog(ctx, s, "fds");
    box_result res;
    bt_run(s, (const char *const[]){BT_PROG("fds"), NULL}, bt_limits(20000), &res);
    close(leak);

    bt_assert_status(&res, BOX_OK);
    bt_assert_line(&res, "fds", "0,1,2");
    bt_assert_line(&res, "proc_fds", "0,1,2");
    box_result_free(&res);
    bt_release(ctx, s);
}

/* The box's pid 1 is xxx-init, exec'd from its memfd: not a copy of the
 * supervisor, whose heap holds other requests' code and output. A copy
 * would have the supervisor's whole address space (its libraries, its
 * threads' stacks and arenas). */
static unsigned long vm_size_kb(const char *status)
{
    const char *v = strstr(status, "VmSize:");
    return v ? strtoul(v + 7, NULL, 10) : 0;
}

static void the_init_is_no_copy_of_the_supervisor(void **state)
{
    bt_ctx *ctx = *state;
    char self[4096];
    int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    ssize_t n = read(fd, self, sizeof self - 1);
    close(fd);
    assert_true(n > 0);
    self[n] = '\0';
    unsigned long ours = vm_size_kb(self);

    box_slot *s = bt_acquire(ctx);
    box_result res;
    bt_run(
        s,
        (const char *const[]){"/bin/sh", "-c",
                              "sed -n 's/^Name:[[:space:]]*/name=/p; "
                              "s/^VmSize:[[:space:]]*\\([0-9]*\\).*/vmsize=\\1/p' /proc/1/status",
                              NULL},
        bt_limits(10000), &res);
    bt_assert_status(&res, BOX_OK);
    bt_assert_line(&res, "name", "memfd:xxx-init");
    char v[32];
    assert_non_null(bt_value_n(&res, "vmsize", 0, v, sizeof v));
    unsigned long init = strtoul(v, NULL, 10);
    if (!(init > 0 && init * 8 < ours))
        fail_msg("the init's address space is %lu kB, the supervisor's %lu kB", init, ours);
    box_result_free(&res);
    bt_release(ctx, s);
}

/* Runs initpoke in s and checks that every way to its init was refused;
 * returns the init's start time, and the program's pid in pid (16 bytes)
 * unless it is NULL. */
static unsigned long long poke_init(bt_ctx *ctx, box_slot *s, char *pid)
{
    bt_put_prog(ctx, s, "initpoke");
    box_result res;
    bt_run(s, (const char *const[]){BT_PROG("initpoke"), NULL}, bt_limits(10000), &res);
    bt_assert_status(&res, BOX_OK);
    bt_assert_line(&res, "init_uid", "0");
    static const char *const signals[] = {"kill_term", "kill_kill", "kill_int", "kill_stop"};
    for (size_t i = 0; i < 4; i++)
        bt_assert_errno(&res, signals[i], EPERM);
    static const char *const files[] = {"mem", "environ", "fds", "root", "cwd"};
    for (size_t i = 0; i < 5; i++)
        bt_assert_errno(&res, files[i], EACCES);
    char start[32];
    assert_non_null(bt_value_n(&res, "init_start", 0, start, sizeof start));
    if (pid)
        assert_non_null(bt_value_n(&res, "pid", 0, pid, 16));
    box_result_free(&res);
    return strtoull(start, NULL, 10);
}

/* One box serves a slot's steps, and after a release its next lease's
 * (where the pool keeps boxes: box_pool_keeps_boxes): its init (pid 1,
 * inside root, another host uid) outlives each program. No program can
 * signal it, read its memory, environment or fds, or go through its root
 * or cwd; each lease's first program is pid 2; each lease still gets a new
 * workspace (test 24) and each step nothing left running (tests 1, 7, 8).
 * Where boxes are not kept, each step gets a new one. */
static void one_box_serves_the_slots_steps_and_no_step_reaches_its_init(void **state)
{
    bt_ctx *ctx = *state;
    box_slot *s = bt_acquire(ctx);
    unsigned index = box_slot_index(s);
    bool keeps = box_pool_keeps_boxes(ctx->pool);
    char pid[16];
    unsigned long long first = poke_init(ctx, s, pid);
    assert_true(first > 0);
    assert_string_equal(pid, "2");
    /* A kept box's pid counter runs on within a lease (a new box's starts
     * at 2)... */
    unsigned long long second = poke_init(ctx, s, pid);
    assert_string_equal(pid, keeps ? "3" : "2");
    if (keeps)
        assert_true(second == first);
    bt_release(ctx, s);

    s = bt_acquire_index(ctx, index);
    /* ...and starts again for the next: no count of one lease's processes
     * reaches another. */
    unsigned long long third = poke_init(ctx, s, pid);
    assert_string_equal(pid, "2");
    if (keeps)
        assert_true(third == first);
    bt_assert_no_procs(ctx, s);
    bt_release(ctx, s);
}

/* ---- 23. capabilities, no_new_privs, seccomp, setuid ------------------------------- */

static void no_capabilities_no_new_privs_seccomp_and_setuid_gains_nothing(void **state)
{
    bt_ctx *ctx = *state;
    box_slot *s = bt_acquire(ctx);
    bt_put_prog(ctx, s, "privs");
    box_result res;
    bt_run(s, (const char *const[]){BT_PROG("privs"), NULL}, bt_limits(10000), &res);

    bt_assert_status(&res, BOX_OK);
    static const char *const caps[] = {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"};
    for (size_t i = 0; i < 5; i++)
        bt_assert_line(&res, caps[i], "0000000000000000");
    bt_assert_line(&res, "NoNewPrivs", "1");
    bt_assert_line(&res, "Seccomp", "2");
    char uid[16];
    snprintf(uid, sizeof(uid), "%d", BOX_INSIDE_UID);
    bt_assert_line(&res, "uid", uid);
    bt_assert_line(&res, "euid", uid);
    bt_assert_line(&res, "user", BOX_USER);
    bt_assert_line(&res, "home", BOX_HOME);
    static const char *const flags[] = {"nosuid_usr",    "nodev_usr",  "nosuid_workdir",
                                        "nodev_workdir", "nosuid_tmp", "nodev_tmp"};
    for (size_t i = 0; i < 6; i++)
        bt_assert_line(&res, flags[i], "1");
    char bin[256];
    assert_non_null(bt_value_n(&res, "setuid_bin", 0, bin, sizeof(bin)));
    assert_string_not_equal(bin, "none");
    bt_assert_line(&res, "setuid_euid", uid);
    bt_assert_line(&res, "setuid_secure", "0");
    bt_assert_line(&res, "euid_after", uid);
    box_result_free(&res);
    bt_release(ctx, s);
}

/* ---- 24. run 1 writes, run 2 in the same slot ------------------------------------- */

/* Runs "persist MODE" in a slot, releases it, takes slots until the same
 * one comes back, and returns what "persist check" saw there. */
static void persist_then_check(bt_ctx *ctx, const char *mode, box_result *first, box_result *second)
{
    box_slot *s = bt_acquire(ctx);
    unsigned index = box_slot_index(s);
    bt_put_prog(ctx, s, "persist");
    bt_run(s, (const char *const[]){BT_PROG("persist"), mode, BOX_HOME, NULL}, bt_limits(20000),
           first);
    bt_release(ctx, s);

    s = bt_acquire_index(ctx, index);
    bt_put_prog(ctx, s, "persist");
    bt_run(s, (const char *const[]){BT_PROG("persist"), "check", BOX_HOME, NULL}, bt_limits(10000),
           second);
    bt_release(ctx, s);
}

static const char *const persist_places[] = {"tmp", "dev_shm", "home", "cache", "workdir"};

/* What the next lease of the slot must see: none of it, an empty /tmp,
 * /dev/shm and HOME, a workdir as new. */
static void assert_nothing_persisted(box_result *res)
{
    bt_assert_status(res, BOX_OK);
    for (size_t i = 0; i < 5; i++)
        bt_assert_errno(res, persist_places[i], ENOENT);
    static const char *const extras[] = {"deep", "locked", "link", "fifo", "hard"};
    for (size_t i = 0; i < 5; i++)
        bt_assert_errno(res, extras[i], ENOENT);
    bt_assert_line(res, "tmp_entries", "0");
    bt_assert_line(res, "shm_entries", "0");
    bt_assert_line(res, "home_entries", "0");
    bt_assert_line(res, "workdir_mode", "755");
    bt_assert_line_in(res, "xattr", "ENODATA", "EOPNOTSUPP");
    bt_assert_line(res, "tcp_sockets", "0"); /* no TIME_WAIT left by the last lease */
}

/* Nothing of a lease reaches the slot's next one: not files in any place a
 * run can write, nor links, fifos, a locked directory, nesting, an xattr, a
 * changed mode of the box's own directory, or a TCP socket in TIME_WAIT. */
static void second_run_in_the_same_slot_sees_nothing_of_the_first(void **state)
{
    box_result first, second;
    persist_then_check(*state, "write", &first, &second);
    bt_assert_status(&first, BOX_OK);
    for (size_t i = 0; i < 5; i++)
        bt_assert_line(&first, persist_places[i], "0");
    bt_assert_refused(&first, "var_tmp");
    bt_assert_line(&first, "nested", "0");
    bt_assert_line(&first, "locked", "0");
    bt_assert_line(&first, "link", "0");
    bt_assert_line(&first, "fifo", "0");
    bt_assert_line(&first, "hard", "0");
    bt_assert_line(&first, "workdir_chmod", "0");
    bt_assert_line(&first, "tcp_pair", "0");
    bt_assert_line(&first, "tcp_sockets_after", "0"); /* none in TIME_WAIT */
    assert_nothing_persisted(&second);
    box_result_free(&first);
    box_result_free(&second);
}

/* ---- 25. hard rlimits, mknod, sethostname --------------------------------------- */

static void raising_hard_limits_mknod_and_sethostname_are_refused(void **state)
{
    bt_ctx *ctx = *state;
    char host_name[256] = "", host_name_after[256] = "";
    gethostname(host_name, sizeof(host_name));
    box_slot *s = bt_acquire(ctx);
    bt_put_prog(ctx, s, "privileged_ops");
    box_limits lim = bt_limits(10000);
    lim.open_files = 64;
    lim.file_bytes = 1 * MIB;
    box_result res;
    bt_run(s, (const char *const[]){BT_PROG("privileged_ops"), NULL}, lim, &res);
    gethostname(host_name_after, sizeof(host_name_after));

    bt_assert_status(&res, BOX_OK);
    bt_assert_line(&res, "nofile_hard", "64");
    bt_assert_line(&res, "fsize_hard", "1048576");
    bt_assert_errno(&res, "raise_nofile", EPERM);
    bt_assert_errno(&res, "raise_fsize", EPERM);
    char nproc[32];
    assert_non_null(bt_value_n(&res, "nproc_hard", 0, nproc, sizeof(nproc)));
    if (strcmp(nproc, "unlimited") != 0)
        bt_assert_errno(&res, "raise_nproc", EPERM);
    bt_assert_errno(&res, "mknod", EPERM);
    bt_assert_errno(&res, "sethostname", EPERM);
    bt_assert_errno(&res, "setdomainname", EPERM);
    /* EINVAL: uid 0 has no mapping in the box's user namespace. */
    bt_assert_line_in(&res, "setuid0", "EPERM", "EINVAL");
    bt_assert_errno(&res, "setgroups", EPERM);
    assert_string_equal(host_name, host_name_after);
    box_result_free(&res);
    bt_release(ctx, s);
}

/* ---- 26. the compile step ends at its limits ----------------------------------- */

/* Asserts that the status is one of the listed ones. */
#define bt_assert_status_in(r, ...)                                                                \
    bt_assert_status_in_at((r), (const int[]){__VA_ARGS__, -1}, __FILE__, __LINE__)
static void bt_assert_status_in_at(const box_result *r, const int *st, const char *file, int line)
{
    for (; *st >= 0; st++)
        if ((int)r->status == *st)
            return;
    print_error("unexpected status %s\n", box_status_name(r->status));
    bt_dump(r);
    _fail(file, line);
}

static box_limits compile_limits(void)
{
    box_limits lim = bt_limits(10000);
    lim.memory_bytes = 256 * MIB;
    lim.output_bytes = 64 * 1024;
    return lim;
}

static void compiler_including_dev_random_ends_at_its_limits(void **state)
{
    bt_ctx *ctx = *state;
    box_slot *s = bt_acquire(ctx);
    /* The same compiler works on a plain file: what ends below is the bomb. */
    bt_put_text(s, "hello.c", "#include <stdio.h>\nint main(void) { puts(\"hello\"); }\n");
    box_result res;
    bt_run(s, (const char *const[]){"gcc", "-o", "hello", "hello.c", NULL}, compile_limits(), &res);
    bt_assert_status(&res, BOX_OK);
    box_result_free(&res);
    bt_run(s, (const char *const[]){BT_PROG("hello"), NULL}, bt_limits(5000), &res);
    bt_assert_status(&res, BOX_OK);
    assert_string_equal(res.out.data, "hello\n");
    box_result_free(&res);

    bt_put_text(s, "bomb.c", "#include </dev/random>\n");
    bt_run(s, (const char *const[]){"gcc", "-c", "bomb.c", "-o", "bomb.o", NULL}, compile_limits(),
           &res);
    bt_assert_status_in(&res, BOX_TIMEOUT, BOX_MEMORY_LIMIT, BOX_OUTPUT_LIMIT);
    bt_assert_no_procs(ctx, s);
    box_result_free(&res);
    bt_release(ctx, s);
}

static void compiler_macro_expansion_bomb_ends_at_its_limits(void **state)
{
    bt_ctx *ctx = *state;
    box_slot *s = bt_acquire(ctx);
    /* 10^12 array elements from a dozen lines: valid C that never ends. */
    char src[2048] = "#define A0 0,0,0,0,0,0,0,0,0,0,\n";
    for (int i = 1; i <= 12; i++) {
        size_t n = strlen(src);
        snprintf(src + n, sizeof(src) - n, "#define A%d A%d A%d A%d A%d A%d A%d A%d A%d A%d A%d\n",
                 i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
    }
    strcat(src, "int a[] = {A12 0};\n");
    bt_put_text(s, "laughs.c", src);
    box_result res;
    bt_run(s, (const char *const[]){"gcc", "-c", "laughs.c", "-o", "laughs.o", NULL},
           compile_limits(), &res);
    bt_assert_status_in(&res, BOX_TIMEOUT, BOX_MEMORY_LIMIT, BOX_OUTPUT_LIMIT);
    bt_assert_no_procs(ctx, s);
    box_result_free(&res);
    bt_release(ctx, s);
}

/* ---- 27. the service's own files and environment ------------------------------- */

static void service_files_and_environment_are_not_visible(void **state)
{
    bt_ctx *ctx = *state;
    char cwd[PATH_MAX] = "/", exe[PATH_MAX] = "/";
    if (!getcwd(cwd, sizeof(cwd)))
        fail_msg("getcwd: %s", strerror(errno));
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    exe[n > 0 ? n : 1] = '\0';
    box_slot *s = bt_acquire(ctx);
    bt_put_prog(ctx, s, "snoop");
    box_result res;
    const char *const argv[] = {BT_PROG("snoop"),
                                "/root",
                                "/run",
                                "/var",
                                "/srv",
                                "/work",
                                "/mnt",
                                "/media",
                                "/boot",
                                "/opt",
                                "/etc/shadow",
                                "/etc/gshadow",
                                "/etc/sudoers",
                                "/etc/ssh",
                                "/etc/machine-id",
                                "/var/lib",
                                "/run/xxx",
                                "/sys/fs/cgroup",
                                cwd,
                                exe,
                                ctx->progs_dir,
                                ctx->state_dir,
                                "/proc/1/root/etc/shadow",
                                NULL};
    bt_run(s, argv, bt_limits(10000), &res);

    bt_assert_status(&res, BOX_OK);
    /* Every place but the last (the host root through pid 1) must not exist. */
    for (int i = 1; argv[i + 1]; i++)
        bt_assert_errno(&res, argv[i], ENOENT);
    bt_assert_line_in(&res, "/proc/1/root/etc/shadow", "ENOENT", "EACCES");
    bt_assert_line(&res, "home_entries", "box");
    /* The box names itself; it does not learn the host's name. */
    struct utsname u;
    assert_int_equal(uname(&u), 0);
    char seen[256];
    assert_non_null(bt_value_n(&res, "nodename", 0, seen, sizeof(seen)));
    assert_string_not_equal(seen, u.nodename);
    assert_non_null(bt_value_n(&res, "etc_hostname", 0, seen, sizeof(seen)));
    assert_string_not_equal(seen, u.nodename);
    assert_false(bt_output_contains(&res, CANARY_VALUE));
    box_result_free(&res);
    bt_release(ctx, s);
}

/* ---- the seccomp probe ---------------------------------------------------------------- */

/* Each call of progs/seccomp_probe.c and the errno the kernel itself gives
 * its arguments (measured without a filter, unprivileged, Linux 6.18).
 * Where that is EPERM too (the kernel checks privilege first) only the
 * trace-layer run below can tell the filter's answer from the kernel's. */
static const struct {
    const char *name;
    int kernel;
} probe_calls[] = {
    {"unshare_newns", EINVAL},
    {"unshare_newuts", EINVAL},
    {"unshare_newipc", EINVAL},
    {"unshare_newuser", EINVAL},
    {"unshare_newpid", EINVAL},
    {"unshare_newnet", EINVAL},
    {"unshare_newcgroup", EINVAL},
    {"unshare_newtime", EINVAL},
    {"setns", EBADF},
    {"clone_newns", EINVAL},
    {"clone_newuts", EINVAL},
    {"clone_newipc", EINVAL},
    {"clone_newuser", EINVAL},
    {"clone_newpid", EINVAL},
    {"clone_newnet", EINVAL},
    {"clone_newcgroup", EINVAL},
    {"clone3", EINVAL},
    {"mount", EFAULT},
    {"umount2", EINVAL},
    {"pivot_root", EPERM},
    {"chroot", EFAULT},
    {"fsopen", EPERM},
    {"fsconfig", EINVAL},
    {"fsmount", EPERM},
    {"fspick", EPERM},
    {"move_mount", EPERM},
    {"open_tree", EINVAL},
    {"mount_setattr", EINVAL},
    {"ptrace", ESRCH},
    {"process_vm_readv", EINVAL},
    {"process_vm_writev", EINVAL},
    {"keyctl", EOPNOTSUPP},
    {"add_key", EFAULT},
    {"request_key", EFAULT},
    {"bpf", EFAULT},
    {"perf_event_open", EFAULT},
    {"userfaultfd", EINVAL},
    {"io_uring_setup", EFAULT},
    {"io_uring_enter", EBADF},
    {"io_uring_register", EBADF},
    {"kexec_load", ENOSYS},
    {"kexec_file_load", ENOSYS},
    {"init_module", ENOSYS},
    {"finit_module", ENOSYS},
    {"delete_module", ENOSYS},
    {"reboot", EPERM},
    {"swapon", EINVAL},
    {"swapoff", EPERM},
    {"acct", EPERM},
    {"quotactl", EINVAL},
    {"ioctl_tiocsti", EBADF},
    {"ioctl_tiocsti_high", EBADF},
    {"ioctl_tioclinux", EBADF},
    {"ioctl_tioclinux_high", EBADF},
    {"socket_netlink", EINVAL},
    {"socket_packet", EINVAL},
    {"socket_vsock", EINVAL},
};

static void run_probe(bt_ctx *ctx, bool trace, box_result *res)
{
    box_slot *s = bt_acquire(ctx);
    bt_put_prog(ctx, s, "seccomp_probe");
    const char *const plain[] = {BT_PROG("seccomp_probe"), NULL};
    const char *const traced[] = {BT_PROG("seccomp_probe"), "trace", NULL};
    bt_run(s, trace ? traced : plain, bt_limits(20000), res);
    bt_release(ctx, s);
    bt_assert_status(res, BOX_OK);
    bt_assert_line(res, "probe", "done");
}

/* Checks every probe line; a mismatch names what reached the kernel. */
static void check_probe(const box_result *res, bool trace)
{
    int bad = 0;
    for (size_t i = 0; i < sizeof(probe_calls) / sizeof(probe_calls[0]); i++) {
        const char *name = probe_calls[i].name;
        char got[64];
        if (!bt_value_n(res, name, 0, got, sizeof(got))) {
            print_error("%s: no line\n", name);
            bad++;
            continue;
        }
        if (strcmp(got, policy_name(name)) == 0)
            continue;
        const char *why = "unexpected";
        if (strcmp(got, strerrorname_np(probe_calls[i].kernel)) == 0)
            why = "the filter let it through: this is the kernel's own answer";
        else if (trace && strcmp(got, "ENOSYS") == 0)
            why = "the filter let it through (it met the test's trace layer)";
        print_error("%s=%s, want %s: %s\n", name, got, policy_name(name), why);
        bad++;
    }
    if (bad) {
        bt_dump(res);
        fail_msg("%d call(s) not refused by the box's filter", bad);
    }
}

static void seccomp_probe_gets_the_policy_errno_for_each_refused_call(void **state)
{
    box_result res;
    run_probe(*state, false, &res);
    check_probe(&res, false);
    box_result_free(&res);
}

static void seccomp_probe_under_a_trace_layer_shows_no_refused_call_reaches_the_kernel(void **state)
{
    box_result res;
    run_probe(*state, true, &res);
    bt_assert_line(&res, "trace_layer", "0");
    check_probe(&res, true);
    box_result_free(&res);
}

/* ---- suite ------------------------------------------------------------------------------ */

static int group_setup(void **state)
{
    setenv(CANARY_ENV, CANARY_VALUE, 1);
    /* A session keyring of our own, holding a key no box may list. */
    if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0 ||
        syscall(SYS_add_key, "user", CANARY_KEY, "host-secret", 11, KEY_SPEC_SESSION_KEYRING) < 0)
        fprintf(stderr, "test_hostile: cannot plant the canary key: %s\n", strerror(errno));
    int fd = open("/etc/shadow", O_RDONLY);
    if (fd < 0 || dup2(fd, LEAK_FD) != LEAK_FD)
        fprintf(stderr, "test_hostile: cannot open the fd to leak: %s\n", strerror(errno));
    if (fd >= 0 && fd != LEAK_FD)
        close(fd);
    return bt_group_setup(state, FIRST_UID, SUITE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        bt_test(fork_bomb_stops_at_the_process_limit),
        bt_test(memory_twice_the_limit_is_an_oom_kill_inside_the_box),
        bt_test(filling_tmp_shm_workdir_and_inodes_stops_with_enospc),
        bt_test(gigabytes_of_output_are_cut_at_the_cap),
        bt_test(sleeping_forever_ends_at_the_wall_limit),
        bt_test(blocking_on_stdin_ends_at_the_wall_limit),
        bt_test(sixty_four_spinning_threads_end_at_the_cpu_limit),
        bt_test(double_fork_setsid_daemon_does_not_survive_the_run),
        bt_test(stopped_processes_are_still_killed_and_reaped),
        bt_test(unshare_and_clone3_with_namespace_flags_are_refused),
        bt_test(setns_mount_umount_pivot_root_chroot_are_refused),
        bt_test(tiocsti_even_with_high_bits_is_refused_and_there_is_no_tty),
        bt_test(kill_all_pid_scan_and_ptrace_reach_only_the_box),
        bt_test(keys_are_refused_and_nothing_carries_to_the_next_run),
        bt_test(userfaultfd_io_uring_perf_and_bpf_are_refused),
        bt_test(x32_syscall_number_kills_the_process),
        bt_test(int80_i386_syscall_kills_the_process),
        bt_test(vsock_packet_netlink_and_host_ports_are_unreachable),
        bt_test(abstract_socket_of_one_box_is_unreachable_from_another),
        bt_test(ipc_and_file_locks_are_no_channel_between_boxes),
        bt_test(ipc_objects_do_not_outlive_their_step),
        bt_test(proc_hides_environments_and_refuses_sysrq_sys_and_kcore),
        bt_test(planted_links_fifo_and_devices_never_touch_host_files),
        bt_test(root_and_usr_cannot_be_made_writable),
        bt_test(only_fds_0_1_2_are_open),
        bt_test(the_init_is_no_copy_of_the_supervisor),
        bt_test(one_box_serves_the_slots_steps_and_no_step_reaches_its_init),
        bt_test(no_capabilities_no_new_privs_seccomp_and_setuid_gains_nothing),
        bt_test(second_run_in_the_same_slot_sees_nothing_of_the_first),
        bt_test(raising_hard_limits_mknod_and_sethostname_are_refused),
        bt_test(compiler_including_dev_random_ends_at_its_limits),
        bt_test(compiler_macro_expansion_bomb_ends_at_its_limits),
        bt_test(service_files_and_environment_are_not_visible),
        bt_test(seccomp_probe_gets_the_policy_errno_for_each_refused_call),
        bt_test(seccomp_probe_under_a_trace_layer_shows_no_refused_call_reaches_the_kernel),
    };
    return cmocka_run_group_tests(tests, group_setup, bt_group_teardown);
}
