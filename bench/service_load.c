/* service_load.c — load generator for bench/service_bench.sh.
 *
 *   service_load http URL BODY CONCURRENCY REQUESTS
 *       POSTs BODY to URL from CONCURRENCY threads (one keep-alive libcurl
 *       handle each) until REQUESTS answers came back.
 *   service_load exec REQUESTS -- ARGV...
 *       runs ARGV REQUESTS times, one after the other (posix_spawn + wait).
 *
 * Prints one JSON line: requests, ok, errors, wall_s, rps, p50_ms, p99_ms,
 * mean_ms and (exec) cpu_ms_per_run from RUSAGE_CHILDREN. An HTTP answer
 * counts as ok when its status is 200 and the body has "status":"ok". */
#include <curl/curl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

#include "common/bytebuf.h"

extern char **environ;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double percentile(const double *sorted, size_t n, double p)
{
    if (!n)
        return 0;
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return sorted[i < n ? i : n - 1];
}

static void report(double *lat, size_t n, size_t ok, double wall, double cpu_per_run)
{
    qsort(lat, n, sizeof *lat, cmp_double);
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += lat[i];
    printf("{\"requests\": %zu, \"ok\": %zu, \"errors\": %zu, \"wall_s\": %.3f, \"rps\": %.2f, "
           "\"p50_ms\": %.2f, \"p99_ms\": %.2f, \"mean_ms\": %.2f",
           n, ok, n - ok, wall / 1e3, (double)n / (wall / 1e3), percentile(lat, n, 0.5),
           percentile(lat, n, 0.99), n ? sum / (double)n : 0);
    if (cpu_per_run >= 0)
        printf(", \"cpu_ms_per_run\": %.2f", cpu_per_run);
    printf("}\n");
}

typedef struct shared {
    const char *url, *body;
    size_t total;
    atomic_size_t next, ok;
    double *lat;
} shared;

static size_t collect(char *p, size_t size, size_t n, void *ud)
{
    return bytebuf_append(ud, p, size * n) < 0 ? 0 : size * n;
}

static void *client(void *arg)
{
    shared *s = arg;
    CURL *h = curl_easy_init();
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    hdr = curl_slist_append(hdr, "Expect:");
    bytebuf b = {0};
    curl_easy_setopt(h, CURLOPT_URL, s->url);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, s->body);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    for (;;) {
        size_t i = atomic_fetch_add(&s->next, 1);
        if (i >= s->total)
            break;
        bytebuf_consume(&b, b.len);
        double t0 = now_ms();
        CURLcode rc = curl_easy_perform(h);
        s->lat[i] = now_ms() - t0;
        long status = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        if (rc == CURLE_OK && status == 200 && b.data && strstr(b.data, "\"status\":\"ok\""))
            atomic_fetch_add(&s->ok, 1);
    }
    bytebuf_free(&b);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    return NULL;
}

static int run_http(const char *url, const char *body, int conc, size_t total)
{
    shared s = {.url = url, .body = body, .total = total};
    s.lat = calloc(total, sizeof *s.lat);
    pthread_t *t = calloc((size_t)conc, sizeof *t);
    if (!s.lat || !t)
        return 1;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    double t0 = now_ms();
    for (int i = 0; i < conc; i++)
        pthread_create(&t[i], NULL, client, &s);
    for (int i = 0; i < conc; i++)
        pthread_join(t[i], NULL);
    report(s.lat, total, atomic_load(&s.ok), now_ms() - t0, -1);
    curl_global_cleanup();
    free(t);
    free(s.lat);
    return 0;
}

static double children_cpu_ms(void)
{
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

typedef struct spawner {
    char **argv;
    size_t total;
    atomic_size_t next, ok;
    double *lat;
    posix_spawn_file_actions_t fa;
} spawner;

/* One worker: spawns the program and waits for it, one run after another,
 * until the shared count is done. */
static void *spawn_worker(void *arg)
{
    spawner *s = arg;
    for (;;) {
        size_t i = atomic_fetch_add(&s->next, 1);
        if (i >= s->total)
            break;
        double t0 = now_ms();
        pid_t pid;
        int st = -1;
        if (posix_spawn(&pid, s->argv[0], &s->fa, NULL, s->argv, environ) == 0)
            waitpid(pid, &st, 0);
        s->lat[i] = now_ms() - t0;
        if (st == 0)
            atomic_fetch_add(&s->ok, 1);
    }
    return NULL;
}

/* Runs argv total times, conc at once; the CPU per run is the children's
 * (RUSAGE_CHILDREN), so it counts the program and not this process. */
static int run_exec(size_t total, int conc, char **argv)
{
    spawner s = {.argv = argv, .total = total};
    s.lat = calloc(total, sizeof *s.lat);
    pthread_t *t = calloc((size_t)conc, sizeof *t);
    if (!s.lat || !t || conc < 1)
        return 1;
    posix_spawn_file_actions_init(&s.fa);
    posix_spawn_file_actions_addopen(&s.fa, 1, "/dev/null", 1 /* O_WRONLY */, 0);
    double cpu0 = children_cpu_ms(), t0 = now_ms();
    for (int i = 0; i < conc; i++)
        pthread_create(&t[i], NULL, spawn_worker, &s);
    for (int i = 0; i < conc; i++)
        pthread_join(t[i], NULL);
    double wall = now_ms() - t0;
    report(s.lat, total, atomic_load(&s.ok), wall, (children_cpu_ms() - cpu0) / (double)total);
    posix_spawn_file_actions_destroy(&s.fa);
    free(t);
    free(s.lat);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 6 && strcmp(argv[1], "http") == 0)
        return run_http(argv[2], argv[3], atoi(argv[4]), strtoull(argv[5], NULL, 10));
    if (argc >= 5 && strcmp(argv[1], "exec") == 0 && strcmp(argv[3], "--") == 0)
        return run_exec(strtoull(argv[2], NULL, 10), 1, argv + 4);
    if (argc >= 6 && strcmp(argv[1], "exec") == 0 && strcmp(argv[4], "--") == 0)
        return run_exec(strtoull(argv[2], NULL, 10), atoi(argv[3]), argv + 5);
    fprintf(stderr, "usage: service_load http URL BODY CONCURRENCY REQUESTS\n"
                    "       service_load exec REQUESTS [CONCURRENCY] -- ARGV...\n");
    return 2;
}
