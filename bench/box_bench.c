/* box_bench.c — what a warm slot adds to a command: N runs of the command
 * bare (fork + execve + wait) against N box_acquire + box_exec calls on an
 * idle pool (40 ms between runs, so the warmer has parked the next init).
 * Prints one Markdown table row per command: median and p90 of each, the
 * difference of the medians and their ratio.
 *
 * usage: box_bench N CMD [ARGS...] */
#include "box/box.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The whole machine's busy CPU time so far (/proc/stat: user, nice,
 * system, irq, softirq), in ms: the supervisor, the warmer, the box's
 * init and program (a kept box's init reaps its programs, so this
 * process's RUSAGE_CHILDREN would miss them) and kernel threads. */
static double busy_ms(void)
{
    FILE *f = fopen("/proc/stat", "re");
    unsigned long long v[8] = {0};
    if (!f || fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4],
                     &v[5], &v[6]) != 7) {
        if (f)
            fclose(f);
        return 0;
    }
    fclose(f);
    return (double)(v[0] + v[1] + v[2] + v[5] + v[6]) * 1000.0 / (double)sysconf(_SC_CLK_TCK);
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double *v, int n, double p)
{
    qsort(v, (size_t)n, sizeof *v, cmp);
    return v[(int)(p * (n - 1) + 0.5)];
}

static const char *const env[] = {"PATH=/usr/bin:/bin", "HOME=/home/box", "LANG=C.UTF-8", NULL};

static double bare(char **argv)
{
    double t = now_ms();
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        execve(argv[0], argv, (char **)env);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "bare run failed\n");
        exit(1);
    }
    return now_ms() - t;
}

/* One request on an idle server: lease a slot, run, give it back. */
static double boxed(box_pool *pool, char **argv)
{
    char err[256];
    box_spec spec = {.argv = (const char *const *)argv, .envp = env, .stdin_fd = -1};
    box_result r;
    double t = now_ms();
    box_slot *s = box_acquire(pool, 0, -1, err, sizeof err);
    if (!s) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    box_exec(s, &spec, &r);
    double d = now_ms() - t;
    box_release(s);
    if (r.status != BOX_OK) {
        fprintf(stderr, "boxed run: %s %s\n", box_status_name(r.status), r.message);
        exit(1);
    }
    box_result_free(&r);
    return d;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: box_bench N CMD [ARGS...]\n");
        return 2;
    }
    int n = atoi(argv[1]);
    char **cmd = argv + 2;
    char err[256];
    box_pool *pool;
    box_config cfg = {.slots = 1, .state_dir = "/run/xxx-bench", .cgroup_name = "xxx-bench"};
    if (box_pool_open(&cfg, &pool, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    double *b = calloc((size_t)n, sizeof *b), *x = calloc((size_t)n, sizeof *x);
    /* Warm both paths once (page cache, dentries), then interleave so that
     * drift on a noisy machine hits both alike. */
    struct timespec idle = {0, 40 * 1000000L}; /* time for the warmer to park a new init */
    bare(cmd);
    boxed(pool, cmd);
    double cpu_bare = 0, cpu_box = 0;
    for (int i = 0; i < n; i++) {
        nanosleep(&idle, NULL);
        double c0 = busy_ms();
        b[i] = bare(cmd);
        double c1 = busy_ms();
        x[i] = boxed(pool, cmd);
        /* The warmer readies the slot for the next lease after release:
         * count it too. */
        nanosleep(&idle, NULL);
        double c2 = busy_ms();
        cpu_bare += c1 - c0;
        cpu_box += c2 - c1;
    }
    double bm = pct(b, n, 0.5), b90 = pct(b, n, 0.9), xm = pct(x, n, 0.5), x90 = pct(x, n, 0.9);
    printf("| `");
    for (char **a = cmd; *a; a++)
        printf("%s%s", a == cmd ? "" : " ", *a);
    printf("` | %d | %.2f | %.2f | %.2f | %.2f | %+.2f | %.2fx | %.1f | %.1f |\n", n, bm, b90, xm,
           x90, xm - bm, xm / bm, cpu_bare / n, cpu_box / n);
    box_pool_close(pool);
    free(b);
    free(x);
    return 0;
}
