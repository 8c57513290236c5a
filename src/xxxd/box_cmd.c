/* box_cmd.c — `xxxd box run [limits] -- CMD ARGS...` prints one run's result
 * as JSON; `xxxd box check` says what the host offers. */
#include "xxxd/box_cmd.h"

#include "box/box.h"
#include "codec/codec.h"
#include "common/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
    "usage: xxxd box run [options] -- CMD [ARGS...]\n"
    "       xxxd box check\n"
    "\n"
    "run: runs CMD in a fresh box (workdir /box) and prints the result as JSON.\n"
    "  --wall-ms N        wall-clock limit (default: the maximum, 60000)\n"
    "  --cpu-ms N         CPU time over all processes (default 30000)\n"
    "  --memory-mb N      memory, swap included (default 1024)\n"
    "  --processes N      processes and threads (default 256)\n"
    "  --output-bytes N   stdout + stderr (default 16 MiB)\n"
    "  --file-mb N        largest file written (default 256)\n"
    "  --tmpfs-mb N       writable space: /box, home, /tmp, /dev/shm (default 512)\n"
    "  --open-files N     descriptors per process (default 1024)\n"
    "  --stdin TEXT       bytes for stdin (default: empty)\n"
    "  --put NAME=PATH    copy the host file PATH into the box as /box/NAME (mode kept)\n"
    "  --env K=V          environment entry (repeatable; default PATH=/usr/bin:/bin,\n"
    "                     HOME=/home/box, LANG=C.UTF-8)\n"
    "  --cwd DIR          working directory inside the box (default /box)\n"
    "  --slots N          slots to prepare (default 1)\n"
    "check: reports the cgroup layout, user namespaces, seccomp and the policy;\n"
    "  exits 0 when xxx can run boxes safely on this host.\n"
    "Both need root.\n";

/* Returns a JSON string of the bytes, ill-formed UTF-8 replaced by U+FFFD. */
static json_t *bytes_json(const char *data, size_t len)
{
    size_t n;
    bool lossy;
    _cleanup_free_ char *text = codec_utf8_repair(data, len, &n, &lossy);
    return text ? json_stringn(text, n) : NULL;
}

static int read_host_file(const char *path, char **data, size_t *len, mode_t *mode)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
        return -1;
    _cleanup_free_ char *buf = malloc((size_t)st.st_size + 1);
    if (!buf || read(fd, buf, (size_t)st.st_size) != st.st_size)
        return -1;
    *data = steal_pointer(&buf);
    *len = (size_t)st.st_size;
    *mode = st.st_mode & 0777;
    return 0;
}

static int cmd_run(int argc, char **argv)
{
    enum {
        O_WALL = 1000,
        O_CPU,
        O_MEM,
        O_PROC,
        O_OUT,
        O_FILE,
        O_TMPFS,
        O_NOFILE,
        O_STDIN,
        O_PUT,
        O_ENV,
        O_CWD,
        O_SLOTS,
        O_HELP
    };
    static const struct option opts[] = {
        {"wall-ms", 1, 0, O_WALL},   {"cpu-ms", 1, 0, O_CPU},        {"memory-mb", 1, 0, O_MEM},
        {"processes", 1, 0, O_PROC}, {"output-bytes", 1, 0, O_OUT},  {"file-mb", 1, 0, O_FILE},
        {"tmpfs-mb", 1, 0, O_TMPFS}, {"open-files", 1, 0, O_NOFILE}, {"stdin", 1, 0, O_STDIN},
        {"put", 1, 0, O_PUT},        {"env", 1, 0, O_ENV},           {"cwd", 1, 0, O_CWD},
        {"slots", 1, 0, O_SLOTS},    {"help", 0, 0, O_HELP},         {0, 0, 0, 0},
    };
    box_limits lim = {0};
    const char *stdin_text = NULL, *cwd = NULL;
    const char *env[64];
    size_t nenv = 0;
    const char *puts_[64];
    size_t nput = 0;
    unsigned slots = 1;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        char *end = NULL;
        unsigned long long v = optarg ? strtoull(optarg, &end, 10) : 0;
        bool num = optarg && end && *end == 0 && end != optarg;
        switch (c) {
        case O_WALL:
            lim.wall_ms = v;
            break;
        case O_CPU:
            lim.cpu_ms = v;
            break;
        case O_MEM:
            lim.memory_bytes = v << 20;
            break;
        case O_PROC:
            lim.processes = v;
            break;
        case O_OUT:
            lim.output_bytes = v;
            break;
        case O_FILE:
            lim.file_bytes = v << 20;
            break;
        case O_TMPFS:
            lim.tmpfs_bytes = v << 20;
            break;
        case O_NOFILE:
            lim.open_files = v;
            break;
        case O_SLOTS:
            slots = (unsigned)v;
            break;
        case O_STDIN:
            stdin_text = optarg;
            num = true;
            break;
        case O_CWD:
            cwd = optarg;
            num = true;
            break;
        case O_ENV:
            if (nenv + 1 >= sizeof env / sizeof env[0] || !strchr(optarg, '=')) {
                fprintf(stderr, "xxxd box run: --env wants K=V (at most 63)\n");
                return 2;
            }
            env[nenv++] = optarg;
            num = true;
            break;
        case O_PUT:
            if (nput + 1 >= sizeof puts_ / sizeof puts_[0] || !strchr(optarg, '=')) {
                fprintf(stderr, "xxxd box run: --put wants NAME=PATH (at most 63)\n");
                return 2;
            }
            puts_[nput++] = optarg;
            num = true;
            break;
        case O_HELP:
            fputs(usage, stdout);
            return 0;
        default:
            fputs(usage, stderr);
            return 2;
        }
        if (!num) {
            fprintf(stderr, "xxxd box run: --%s wants a number, got '%s'\n", opts[c - O_WALL].name,
                    optarg);
            return 2;
        }
    }
    if (optind >= argc) {
        fputs(usage, stderr);
        return 2;
    }
    if (nenv == 0) {
        env[nenv++] = "PATH=/usr/local/bin:/usr/bin:/bin";
        env[nenv++] = "HOME=" BOX_HOME;
        env[nenv++] = "LANG=C.UTF-8";
    }
    env[nenv] = NULL;

    char err[512];
    box_pool *pool;
    box_config cfg = {.slots = slots};
    if (box_pool_open(&cfg, &pool, err, sizeof err) < 0) {
        fprintf(stderr, "xxxd box run: %s\n", err);
        return 1;
    }
    int rc = 1;
    box_slot *s = box_acquire(pool, lim.tmpfs_bytes, -1, err, sizeof err);
    if (!s) {
        fprintf(stderr, "xxxd box run: %s\n", err);
        goto out;
    }
    for (size_t i = 0; i < nput; i++) {
        char name[1024];
        const char *eq = strchr(puts_[i], '=');
        snprintf(name, sizeof name, "%.*s", (int)(eq - puts_[i]), puts_[i]);
        _cleanup_free_ char *data = NULL;
        size_t len;
        mode_t mode;
        if (read_host_file(eq + 1, &data, &len, &mode) < 0) {
            fprintf(stderr, "xxxd box run: cannot read %s: %s\n", eq + 1, strerror(errno));
            goto release;
        }
        if (box_put_file(s, name, data, len, mode, err, sizeof err) < 0) {
            fprintf(stderr, "xxxd box run: %s\n", err);
            goto release;
        }
    }
    box_spec spec = {
        .argv = (const char *const *)&argv[optind],
        .envp = env,
        .cwd = cwd,
        .stdin_data = stdin_text,
        .stdin_len = stdin_text ? strlen(stdin_text) : 0,
        .stdin_fd = -1,
        .limits = lim,
    };
    box_result res;
    box_exec(s, &spec, &res);
    json_t *j = json_pack(
        "{s:s, s:s*, s:i, s:s?, s:I, s:I, s:I, s:o, s:o, s:b, s:b}", "status",
        box_status_name(res.status), "limit",
        res.status == BOX_TIMEOUT ? (res.limit == BOX_LIMIT_CPU ? "cpu" : "wall") : NULL,
        "exit_code", res.exit_code, "signal", res.signal ? box_signal_name(res.signal) : NULL,
        "wall_ms", (json_int_t)res.wall_ms, "cpu_ms", (json_int_t)res.cpu_ms, "memory_bytes",
        (json_int_t)res.memory_bytes, "stdout", bytes_json(res.out.data, res.out.len), "stderr",
        bytes_json(res.err.data, res.err.len), "stdout_truncated", res.out.truncated,
        "stderr_truncated", res.err.truncated);
    if (res.status == BOX_INTERNAL_ERROR)
        json_object_set_new(j, "message", json_string(res.message));
    json_dumpf(j, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII);
    putchar('\n');
    json_decref(j);
    rc = res.status == BOX_INTERNAL_ERROR ? 1 : 0;
    box_result_free(&res);
release:
    box_release(s);
out:
    box_pool_close(pool);
    return rc;
}

int box_cmd_main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "check") == 0) {
        char buf[8192];
        int rc = box_check_host(buf, sizeof buf);
        fputs(buf, stdout);
        return rc == 0 ? 0 : 1;
    }
    if (strcmp(argv[1], "run") == 0) {
        if (geteuid() != 0) {
            fprintf(stderr, "xxxd box run: needs root (namespaces, cgroups, per-slot uids)\n");
            return 1;
        }
        return cmd_run(argc - 1, argv + 1);
    }
    fprintf(stderr, "xxxd box: unknown command '%s'\n%s", argv[1], usage);
    return 2;
}
