/* podman.c — the Podman backend (see podman.h).
 *
 * Theory of operation. A step is one container:
 *   create (the limits, labels, mounts)  ->  attach (a streaming POST, open
 *   before start so no byte is missed)  ->  start  ->  read the attach
 *   stream until Podman closes it, killing the container at the wall or
 *   output limit or on cancel  ->  wait  ->  inspect (exit code, OOM flag)
 *   ->  remove.
 * The attach stream carries Docker's multiplexed frames: an 8-byte header
 * (byte 0: 1 stdout, 2 stderr; bytes 4-7: payload length, big-endian) and
 * the payload; chunks from curl split frames anywhere, so a small state
 * machine reassembles them. Attach keeps stdout and stderr in write order
 * (the /logs endpoint does not).
 *
 * Measured on this VM (reference/etcd-podman.md D.6): /wait polls every
 * 250 ms unless asked for interval=10ms, and a bridge network costs ~250 ms
 * more than "nsmode: none"; both are set below.
 *
 * OOM: on a cgroup-v1 host State.OOMKilled stays false after the kernel's
 * OOM killer ran (verified, D.4), so an exit of 137 that xxx did not cause
 * counts as the memory limit too. */
#include "podman/podman.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/bytebuf.h"
#include "common/cleanup.h"
#include "common/json_cleanup.h"

#define API "/v4.0.0/libpod"
#define LABEL "xxx.instance"
#define CALL_TIMEOUT_MS 30000    /* one ordinary API call */
#define PULL_TIMEOUT_MS 300000   /* an image pull */
#define ATTACH_WAIT_MS 30000     /* attach to answer before start */
#define KILL_WAIT_MS 15000       /* a killed container's stream to end */
#define POLL_MS 20               /* how often a running step looks at cancel */
#define HOME_BYTES (16ull << 20) /* the home tmpfs; /tmp and the workdir get tmpfs_bytes */
/* Until the container has stopped, polled every 10 ms (the default is 250 ms). */
#define WAIT_PATH API "/containers/%s/wait?condition=stopped&condition=exited&interval=10ms"

typedef struct slot {
    podman *p;
    unsigned index;
    uid_t uid;
    char ws[4096]; /* host path of the workspace mount */
    bool mounted;
    bool busy;
    char image[256]; /* the local reference steps run */
    CURL *curl;      /* plain calls; keeps the connection alive between them */
    atomic_bool cancel;
    pthread_mutex_t run_mu; /* guards running */
    char running[80];       /* the id of the container a step has started, or "" */
} slot;

struct podman {
    char *url_base; /* "http://d" for a socket, else the http:// address */
    char *socket;   /* unix socket path or NULL */
    char *registry;
    char *instance;
    char *state_dir;
    char *dir; /* <state_dir>/podman */
    char version[32];
    box_limits max;
    unsigned nslots;
    slot *slots;
    pthread_mutex_t mu; /* busy flags, known images */
    pthread_cond_t freed;
    char **images; /* references known to exist locally */
    size_t nimages;
};

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- HTTP ---- */

static size_t collect(char *data, size_t size, size_t n, void *ctx)
{
    bytebuf *b = ctx;
    /* Podman's answers to plain calls are small; a runaway one is cut. */
    if (b->len + size * n > (16u << 20) || bytebuf_append(b, data, size * n) < 0)
        return 0;
    return size * n;
}

/* Points h at path (under the API base) with the connection options. */
static void setup(podman *p, CURL *h, const char *path, long timeout_ms)
{
    char url[2048];
    snprintf(url, sizeof url, "%s%s", p->url_base, path);
    curl_easy_setopt(h, CURLOPT_URL, url);
    if (p->socket)
        curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, p->socket);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
}

/* Copies Podman's {"message": ...} (or the raw body) into err. */
static void api_message(const bytebuf *body, long status, char *err, size_t errlen)
{
    _cleanup_json_ json_t *j = body->data ? json_loadb(body->data, body->len, 0, NULL) : NULL;
    const char *m = json_string_value(json_object_get(j, "message"));
    snprintf(err, errlen, "podman answered %ld: %.200s", status,
             m ? m : (body->data ? body->data : ""));
}

/* One API call on h: method path [JSON body]. Returns the HTTP status with
 * the answer in *out, or -1 with err when no answer came. */
static long call(podman *p, CURL *h, const char *method, const char *path, const char *json,
                 long timeout_ms, bytebuf *out, char *err, size_t errlen)
{
    curl_easy_reset(h);
    setup(p, h, path, timeout_ms);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    struct curl_slist *hdr = NULL;
    if (json) {
        /* Without the content type Podman decodes an empty body (D.1). */
        hdr = curl_slist_append(hdr, "Content-Type: application/json");
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, json);
    } else if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
    }
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
    CURLcode rc = curl_easy_perform(h);
    curl_slist_free_all(hdr);
    if (rc != CURLE_OK)
        return fail(err, errlen, "podman at %s: %s", p->socket ? p->socket : p->url_base,
                    curl_easy_strerror(rc));
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    return status;
}

/* A call whose answer must be one of two statuses (ok2 0: only ok). */
static int call_ok(podman *p, CURL *h, const char *method, const char *path, const char *json,
                   long ok, long ok2, json_t **answer, char *err, size_t errlen)
{
    bytebuf body = {0};
    long st = call(p, h, method, path, json, CALL_TIMEOUT_MS, &body, err, errlen);
    if (st >= 0 && st != ok && st != ok2) {
        api_message(&body, st, err, errlen);
        st = -1;
    }
    if (st >= 0 && answer)
        *answer = body.data ? json_loadb(body.data, body.len, 0, NULL) : NULL;
    bytebuf_free(&body);
    return st < 0 ? -1 : 0;
}

/* Writes s URL-escaped into buf. */
static void escape(CURL *h, const char *s, char *buf, size_t len)
{
    char *e = curl_easy_escape(h, s, 0);
    snprintf(buf, len, "%s", e ? e : "");
    curl_free(e);
}

/* Force-removes container id (a running one is killed first). */
static void remove_container(podman *p, CURL *h, const char *id)
{
    char path[256], err[256];
    snprintf(path, sizeof path, API "/containers/%s?force=true&timeout=0", id);
    if (call_ok(p, h, "DELETE", path, NULL, 200, 404, NULL, err, sizeof err) < 0)
        fprintf(stderr, "podman: removing container %.12s: %s\n", id, err);
}

int podman_remove_labelled(podman *p, char *err, size_t errlen)
{
    CURL *h = curl_easy_init();
    if (!h)
        return fail(err, errlen, "out of memory");
    char filter[512], esc[1024], path[1200];
    snprintf(filter, sizeof filter, "{\"label\":[\"" LABEL "=%s\"]}", p->instance);
    escape(h, filter, esc, sizeof esc);
    snprintf(path, sizeof path, API "/containers/json?all=true&filters=%s", esc);
    _cleanup_json_ json_t *list = NULL;
    int n = -1;
    if (call_ok(p, h, "GET", path, NULL, 200, 0, &list, err, errlen) == 0) {
        size_t i;
        json_t *c;
        n = 0;
        json_array_foreach(list, i, c)
        {
            const char *id = json_string_value(json_object_get(c, "Id"));
            if (id) {
                remove_container(p, h, id);
                n++;
            }
        }
    }
    curl_easy_cleanup(h);
    return n;
}

/* ---- images ---- */

static bool image_known(podman *p, const char *ref)
{
    pthread_mutex_lock(&p->mu);
    bool known = false;
    for (size_t i = 0; i < p->nimages && !known; i++)
        known = strcmp(p->images[i], ref) == 0;
    pthread_mutex_unlock(&p->mu);
    return known;
}

static void image_remember(podman *p, const char *ref)
{
    pthread_mutex_lock(&p->mu);
    char **v = realloc(p->images, (p->nimages + 1) * sizeof *v);
    if (v) {
        p->images = v;
        if ((v[p->nimages] = strdup(ref)))
            p->nimages++;
    }
    pthread_mutex_unlock(&p->mu);
}

/* Pulls registry/<ref without "localhost/"> and tags it as ref. */
static int pull(podman *p, CURL *h, const char *ref, char *err, size_t errlen)
{
    if (!p->registry)
        return fail(err, errlen,
                    "image %s is not in Podman's storage and no image registry is set "
                    "(--image-registry); build it with scripts/build-images.sh",
                    ref);
    const char *name = strncmp(ref, "localhost/", 10) == 0 ? ref + 10 : ref;
    char remote[512], esc[1024], path[2400];
    snprintf(remote, sizeof remote, "%s/%s", p->registry, name);
    escape(h, remote, esc, sizeof esc);
    snprintf(path, sizeof path, API "/images/pull?reference=%s&tlsVerify=false&quiet=true", esc);
    bytebuf body = {0};
    long st = call(p, h, "POST", path, NULL, PULL_TIMEOUT_MS, &body, err, errlen);
    int rc = 0;
    if (st < 0) {
        rc = -1;
    } else if (st != 200) {
        api_message(&body, st, err, errlen);
        rc = -1;
    } else {
        /* A stream of JSON objects; a failed pull still answers 200 with {"error": ...}. */
        const char *m = body.data ? strstr(body.data, "\"error\"") : NULL;
        if (m || !body.data || !strstr(body.data, "\"id\"")) {
            rc = fail(err, errlen, "pulling %s: %.200s", remote, body.data ? body.data : "");
        }
    }
    bytebuf_free(&body);
    if (rc < 0)
        return -1;
    /* Tag it under the name runtimes use: repo is what comes before the tag. */
    char repo[256], tag[128] = "latest";
    snprintf(repo, sizeof repo, "%s", ref);
    char *colon = strrchr(repo, ':');
    if (colon && !strchr(colon, '/')) {
        snprintf(tag, sizeof tag, "%s", colon + 1);
        *colon = '\0';
    }
    char erepo[512], etag[256];
    escape(h, remote, esc, sizeof esc);
    escape(h, repo, erepo, sizeof erepo);
    escape(h, tag, etag, sizeof etag);
    snprintf(path, sizeof path, API "/images/%s/tag?repo=%s&tag=%s", esc, erepo, etag);
    if (call_ok(p, h, "POST", path, NULL, 201, 200, NULL, err, errlen) < 0)
        return -1;
    return 0;
}

/* Makes sure ref is in Podman's storage, pulling it when missing. */
static int ensure_image(podman *p, CURL *h, const char *ref, char *err, size_t errlen)
{
    if (image_known(p, ref))
        return 0;
    char esc[1024], path[1200];
    escape(h, ref, esc, sizeof esc);
    snprintf(path, sizeof path, API "/images/%s/exists", esc);
    bytebuf body = {0};
    long st = call(p, h, "GET", path, NULL, CALL_TIMEOUT_MS, &body, err, errlen);
    bytebuf_free(&body);
    if (st < 0)
        return -1;
    if (st != 204 && pull(p, h, ref, err, errlen) < 0)
        return -1;
    image_remember(p, ref);
    return 0;
}

/* ---- workspace ---- */

static void ws_unmount(slot *s)
{
    if (s->mounted && umount2(s->ws, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
        fprintf(stderr, "podman: unmounting %s: %s\n", s->ws, strerror(errno));
    s->mounted = false;
}

static int ws_mount(slot *s, uint64_t bytes, char *err, size_t errlen)
{
    char opts[128];
    snprintf(opts, sizeof opts, "size=%llu,mode=0700,uid=%u,gid=%u", (unsigned long long)bytes,
             (unsigned)s->uid, (unsigned)s->uid);
    if (mount("tmpfs", s->ws, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
        return fail(err, errlen, "mounting the workspace %s: %s", s->ws, strerror(errno));
    s->mounted = true;
    return 0;
}

/* Opens the directory that holds path's last component, under the
 * workspace, every component without following links; make: create missing
 * parents owned by the slot's uid. Returns the fd and points *name at the
 * last component (inside buf), or -1 with err. */
static int ws_parent(slot *s, const char *path, bool make, char *buf, size_t buflen,
                     const char **name, char *err, size_t errlen)
{
    if (!path[0] || path[0] == '/' || strlen(path) >= buflen)
        return fail(err, errlen, "bad path");
    snprintf(buf, buflen, "%s", path);
    int dir = open(s->ws, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dir < 0)
        return fail(err, errlen, "opening the workspace: %s", strerror(errno));
    char *n = buf;
    for (char *slash; (slash = strchr(n, '/')); n = slash + 1) {
        *slash = '\0';
        int rc = 0;
        if (!n[0] || strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
            rc = fail(err, errlen, "bad path");
        else if (make && mkdirat(dir, n, 0755) == 0)
            rc = fchownat(dir, n, s->uid, s->uid, AT_SYMLINK_NOFOLLOW) < 0
                     ? fail(err, errlen, "chown %s: %s", n, strerror(errno))
                     : 0;
        else if (make && errno != EEXIST)
            rc = fail(err, errlen, "mkdir %s: %s", n, strerror(errno));
        int next = rc < 0 ? -1 : openat(dir, n, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (rc == 0 && next < 0)
            fail(err, errlen, "opening %s: %s", n, strerror(errno));
        close(dir);
        if (next < 0)
            return -1;
        dir = next;
    }
    if (!n[0] || strcmp(n, ".") == 0 || strcmp(n, "..") == 0) {
        close(dir);
        return fail(err, errlen, "bad path");
    }
    *name = n;
    return dir;
}

/* Writes a file under the workspace, owned by the slot's uid. */
static int ws_put(slot *s, const char *path, const void *data, size_t len, mode_t mode, char *err,
                  size_t errlen)
{
    char buf[1025];
    const char *name;
    _cleanup_close_ int dir = ws_parent(s, path, true, buf, sizeof buf, &name, err, errlen);
    if (dir < 0)
        return -1;
    _cleanup_close_ int fd =
        openat(dir, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode & 0777);
    if (fd < 0)
        return fail(err, errlen, "creating %s: %s", path, strerror(errno));
    if (fchown(fd, s->uid, s->uid) < 0 || fchmod(fd, mode & 0777) < 0)
        return fail(err, errlen, "chown %s: %s", path, strerror(errno));
    const char *d = data;
    while (len) {
        ssize_t n = write(fd, d, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return fail(err, errlen, "writing %s: %s", path,
                        errno == ENOSPC ? "the workspace is full" : strerror(errno));
        d += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads a regular file from the workspace, at most max bytes; never a link,
 * FIFO or device (O_NONBLOCK, then fstat before any read). */
static int ws_get(slot *s, const char *path, size_t max, char **data, size_t *len, char *err,
                  size_t errlen)
{
    char buf[1025];
    const char *name;
    _cleanup_close_ int dir = ws_parent(s, path, false, buf, sizeof buf, &name, err, errlen);
    if (dir < 0)
        return -1;
    _cleanup_close_ int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    if (fd < 0)
        return fail(err, errlen, "opening %s: %s", path, strerror(errno));
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
        return fail(err, errlen, "%s is not a regular file", path);
    bytebuf b = {0};
    char chunk[65536];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            bytebuf_free(&b);
            return fail(err, errlen, "reading %s: %s", path, strerror(errno));
        }
        if (n == 0)
            break;
        if (b.len + (size_t)n > max) {
            bytebuf_free(&b);
            return fail(err, errlen, "%s is larger than %zu bytes", path, max);
        }
        if (bytebuf_append(&b, chunk, (size_t)n) < 0) {
            bytebuf_free(&b);
            return fail(err, errlen, "out of memory");
        }
    }
    *data = bytebuf_steal(&b, len);
    return 0;
}

/* ---- a step ---- */

/* The attach stream's reader: frame reassembly and the output cap. */
typedef struct reader {
    const box_spec *spec;
    box_result *res;
    bytebuf out, err;
    podman_demux demux;
    uint64_t total;
    bool over; /* the output limit was passed */
    bool headers_done;
    CURL *attach;      /* the attach request, which also carries stdin */
    bool stdin_closed; /* its write side was shut: the program's stdin is at EOF */
    curl_socket_t fd;  /* the attach connection */
    /* Live stdin (spec->stdin_fd): the body is read as it comes, first
     * spec->stdin_data, then the fd, until its EOF. */
    size_t pre_sent;  /* bytes of stdin_data handed to curl */
    bool live_paused; /* the upload is paused until the fd has something */
    bool live_eof;    /* the fd ended: every byte before it was sent */
    bool live_end;    /* the container exited: the upload ends */
} reader;

/* Once the attach request's body (the program's stdin) is all sent, shuts
 * the connection's write side: Podman copies the hijacked connection into
 * the container's stdin until EOF, then closes it (verified on 4.3.1), and
 * libcurl has no half-close of its own. With live stdin, "all sent" is its
 * EOF; until then a paused upload is resumed when the fd has bytes. */
static void close_stdin_when_sent(reader *r)
{
    if (r->stdin_closed || r->fd == CURL_SOCKET_BAD)
        return;
    if (r->spec->stdin_fd >= 0) {
        struct pollfd pf = {r->spec->stdin_fd, POLLIN, 0};
        if (r->live_eof) {
            shutdown(r->fd, SHUT_WR);
            r->stdin_closed = true;
        } else if (r->live_paused && poll(&pf, 1, 0) > 0) {
            r->live_paused = false;
            curl_easy_pause(r->attach, CURLPAUSE_CONT);
        }
        return;
    }
    if (!r->spec->stdin_len)
        return;
    curl_off_t sent = 0;
    curl_easy_getinfo(r->attach, CURLINFO_SIZE_UPLOAD_T, &sent);
    if ((size_t)sent < r->spec->stdin_len)
        return;
    shutdown(r->fd, SHUT_WR);
    r->stdin_closed = true;
}

/* CURLOPT_READFUNCTION of a live attach: stdin_data, then what the fd has
 * now; pauses when it has nothing yet, and at its EOF until the container
 * has exited (curl has then sent every byte before the EOF: it asks for
 * more only once its buffer is out, and close_stdin_when_sent shuts the
 * write side); once it has (live_end), 0 ends the upload, short of its
 * Content-Length, which libcurl accepts. */
static size_t on_live_stdin(char *buf, size_t size, size_t n, void *ctx)
{
    reader *r = ctx;
    size_t room = size * n;
    const box_spec *spec = r->spec;
    if (r->live_end)
        return 0;
    if (r->pre_sent < spec->stdin_len) {
        size_t k = spec->stdin_len - r->pre_sent < room ? spec->stdin_len - r->pre_sent : room;
        memcpy(buf, spec->stdin_data + r->pre_sent, k);
        r->pre_sent += k;
        return k;
    }
    if (!r->live_eof) {
        struct pollfd pf = {spec->stdin_fd, POLLIN, 0};
        if (poll(&pf, 1, 0) > 0) {
            ssize_t k = read(spec->stdin_fd, buf, room);
            if (k > 0)
                return (size_t)k;
            if (k == 0 || (errno != EAGAIN && errno != EINTR))
                r->live_eof = true;
        }
    }
    r->live_paused = true;
    return CURL_READFUNC_PAUSE;
}

/* Extra fds for curl_multi_poll: the live stdin fd while the upload waits on it. */
static unsigned live_wait_fd(const reader *r, struct curl_waitfd *w)
{
    if (r->spec->stdin_fd < 0 || !r->live_paused || r->live_eof)
        return 0;
    *w = (struct curl_waitfd){.fd = r->spec->stdin_fd, .events = CURL_WAIT_POLLIN};
    return 1;
}

/* CURLOPT_SOCKOPTFUNCTION: notes the attach connection's socket (a fresh
 * one: the attach handle never reuses a connection). */
static int on_attach_socket(void *ctx, curl_socket_t fd, curlsocktype purpose)
{
    (void)purpose;
    ((reader *)ctx)->fd = fd;
    return CURL_SOCKOPT_OK;
}

static void deliver(reader *r, int stream, const char *data, size_t len)
{
    if (stream != BOX_STDOUT && stream != BOX_STDERR)
        return;
    uint64_t cap = r->spec->limits.output_bytes;
    if (!(r->spec->flags & BOX_SPEC_STREAM_ONLY) && cap) {
        size_t room = r->total < cap ? (size_t)(cap - r->total) : 0;
        if (len > room) {
            len = room;
            r->over = true;
        }
    }
    r->total += len;
    if (!len)
        return;
    if (!(r->spec->flags & BOX_SPEC_STREAM_ONLY))
        bytebuf_append(stream == BOX_STDOUT ? &r->out : &r->err, data, len);
    if (r->spec->on_output)
        r->spec->on_output(r->spec->ctx, (box_stream)stream, data, len);
}

void podman_demux_feed(podman_demux *d, const char *data, size_t len,
                       void (*out)(void *ctx, int stream, const char *data, size_t len), void *ctx)
{
    size_t i = 0;
    while (i < len) {
        if (d->left == 0) {
            size_t take = 8 - d->hdr_got < len - i ? 8 - d->hdr_got : len - i;
            memcpy(d->hdr + d->hdr_got, data + i, take);
            d->hdr_got += take;
            i += take;
            if (d->hdr_got == 8) {
                d->stream = d->hdr[0];
                d->left = (size_t)d->hdr[4] << 24 | (size_t)d->hdr[5] << 16 |
                          (size_t)d->hdr[6] << 8 | d->hdr[7];
                d->hdr_got = 0;
            }
            continue;
        }
        size_t take = d->left < len - i ? d->left : len - i;
        out(ctx, d->stream, data + i, take);
        d->left -= take;
        i += take;
    }
}

static void on_payload(void *ctx, int stream, const char *data, size_t len)
{
    deliver(ctx, stream, data, len);
}

static size_t on_attach(char *data, size_t size, size_t n, void *ctx)
{
    reader *r = ctx;
    podman_demux_feed(&r->demux, data, size * n, on_payload, r);
    return size * n;
}

static size_t on_attach_header(char *data, size_t size, size_t n, void *ctx)
{
    reader *r = ctx;
    if (size * n <= 2 && (data[0] == '\r' || data[0] == '\n'))
        r->headers_done = true;
    return size * n;
}

/* Builds the libpod create body for one step. */
static json_t *create_body(slot *s, const box_spec *spec, uint64_t tmpfs_bytes)
{
    const box_limits *l = &spec->limits;
    json_t *env = json_object();
    for (size_t i = 0; spec->envp && spec->envp[i]; i++) {
        const char *eq = strchr(spec->envp[i], '=');
        if (eq)
            json_object_setn_new_nocheck(env, spec->envp[i], (size_t)(eq - spec->envp[i]),
                                         json_string(eq + 1));
    }
    json_t *cmd = json_array();
    for (size_t i = 0; spec->argv[i]; i++)
        json_array_append_new(cmd, json_string(spec->argv[i]));
    char user[32], tmp_size[48], home_size[48];
    snprintf(user, sizeof user, "%u:%u", (unsigned)s->uid, (unsigned)s->uid);
    snprintf(tmp_size, sizeof tmp_size, "size=%llu", (unsigned long long)tmpfs_bytes);
    snprintf(home_size, sizeof home_size, "size=%llu", HOME_BYTES);
    json_t *rlimits = json_array();
    /* Podman's default nofile (1048576) is above this host's hard limit (D.1): always set. */
    json_int_t nofile = l->open_files ? (json_int_t)l->open_files : 1024;
    json_array_append_new(
        rlimits, json_pack("{s:s, s:I, s:I}", "type", "nofile", "soft", nofile, "hard", nofile));
    json_int_t nproc = l->processes ? (json_int_t)l->processes : 1024;
    json_array_append_new(
        rlimits, json_pack("{s:s, s:I, s:I}", "type", "nproc", "soft", nproc, "hard", nproc));
    if (l->file_bytes)
        json_array_append_new(rlimits, json_pack("{s:s, s:I, s:I}", "type", "fsize", "soft",
                                                 (json_int_t)l->file_bytes, "hard",
                                                 (json_int_t)l->file_bytes));
    if (l->cpu_ms) {
        /* RLIMIT_CPU is per process and in seconds: the nearest Podman has
         * to the native box's cgroup-wide CPU budget. */
        json_int_t sec = (json_int_t)((l->cpu_ms + 999) / 1000);
        json_array_append_new(
            rlimits, json_pack("{s:s, s:I, s:I}", "type", "cpu", "soft", sec, "hard", sec + 1));
    }
    json_t *res = json_object();
    if (l->memory_bytes)
        json_object_set_new(res, "memory",
                            json_pack("{s:I, s:I}", "limit", (json_int_t)l->memory_bytes, "swap",
                                      (json_int_t)l->memory_bytes));
    if (l->processes)
        json_object_set_new(res, "pids", json_pack("{s:I}", "limit", (json_int_t)l->processes));
    /* One CPU's worth of time per period, as the native box's single core share. */
    json_object_set_new(res, "cpu", json_pack("{s:I, s:I}", "quota", 100000, "period", 100000));
    return json_pack(
        "{s:s, s:o, s:o, s:s, s:s, s:{s:s}, s:o, s:o, s:{s:s}, s:b, s:[s], s:b, s:b, s:b, "
        "s:[{s:s, s:s, s:s, s:[s, s, s, s]}, {s:s, s:s, s:s, s:[s, s, s, s, s]}, "
        "{s:s, s:s, s:s, s:[s, s, s, s, s]}]}",
        "image", s->image, "command", cmd, "env", env, "work_dir",
        spec->cwd ? spec->cwd : BOX_WORKDIR, "user", user, "labels", LABEL, s->p->instance,
        "r_limits", rlimits, "resource_limits", res, "netns", "nsmode", "none",
        "read_only_filesystem", 1, "cap_drop", "ALL", "no_new_privileges", 1, "terminal", 0,
        "stdin", spec->stdin_len > 0 || spec->stdin_fd >= 0, "mounts", "destination", BOX_WORKDIR,
        "type", "bind", "source", s->ws, "options", "rw", "nosuid", "nodev", "rbind", "destination",
        "/tmp", "type", "tmpfs", "source", "tmpfs", "options", "rw", tmp_size, "nosuid", "nodev",
        "mode=1777", "destination", BOX_HOME, "type", "tmpfs", "source", "tmpfs", "options", "rw",
        home_size, "nosuid", "nodev", "mode=1777");
}

static void internal(box_result *res, const char *what, const char *err)
{
    res->status = BOX_INTERNAL_ERROR;
    snprintf(res->message, sizeof res->message, "%s: %.200s", what, err);
}

/* Streams the attached container until Podman closes the stream; kills it
 * at the deadline, on cancel or past the output cap. The kill request runs
 * on the same multi handle as the attach stream: Podman's kill waits until
 * conmon has seen the exit, and conmon may be blocked writing output that
 * only this loop reads. Returns why it was killed (BOX_OK: it was not), or
 * BOX_INTERNAL_ERROR with err. */
static box_status stream(slot *s, CURLM *m, CURL *a, reader *rd, const char *id, uint64_t deadline,
                         char *err, size_t errlen)
{
    box_status why = BOX_OK;
    CURL *k = NULL, *waiter = NULL;
    bytebuf kill_answer = {0}, wait_answer = {0};
    CURLcode attach_rc = CURLE_OK;
    uint64_t killed_at = 0;
    /* With live stdin libcurl's upload never ends on its own, and a
     * transfer whose upload is paused does not end when the answer does:
     * a wait on the same multi handle says when the container has exited,
     * and then the upload ends (the write side shut, on_live_stdin's 0),
     * so the transfer ends with the stream, once Podman has passed on all
     * the output. */
    if (rd->spec->stdin_fd >= 0 && (waiter = curl_easy_init())) {
        char path[256];
        snprintf(path, sizeof path, WAIT_PATH, id);
        setup(s->p, waiter, path, 0);
        curl_easy_setopt(waiter, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(waiter, CURLOPT_WRITEFUNCTION, collect);
        curl_easy_setopt(waiter, CURLOPT_WRITEDATA, &wait_answer);
        curl_multi_add_handle(m, waiter);
    }
    for (;;) {
        int running = 0;
        CURLMcode mc = curl_multi_perform(m, &running);
        if (mc != CURLM_OK) {
            fail(err, errlen, "reading the output: %s", curl_multi_strerror(mc));
            why = BOX_INTERNAL_ERROR;
            break;
        }
        close_stdin_when_sent(rd);
        int left;
        for (CURLMsg *msg; (msg = curl_multi_info_read(m, &left));) {
            if (msg->msg == CURLMSG_DONE && msg->easy_handle == a)
                attach_rc = msg->data.result;
            if (msg->msg == CURLMSG_DONE && msg->easy_handle == waiter) {
                long wst = 0;
                curl_easy_getinfo(waiter, CURLINFO_RESPONSE_CODE, &wst);
                if (msg->data.result != CURLE_OK || wst != 200) {
                    /* Not known to have exited: the stream then ends
                     * when the run is killed at its limits. */
                    fprintf(stderr, "podman: waiting for %.12s: %s (HTTP %ld)\n", id,
                            curl_easy_strerror(msg->data.result), wst);
                    continue;
                }
                if (!rd->stdin_closed && rd->fd != CURL_SOCKET_BAD)
                    shutdown(rd->fd, SHUT_WR);
                rd->stdin_closed = rd->live_eof = rd->live_end = true;
                curl_easy_pause(a, CURLPAUSE_CONT); /* to end the upload: see on_live_stdin */
            }
        }
        if (why == BOX_OK) {
            if (atomic_load(&s->cancel))
                why = BOX_CANCELLED;
            else if (rd->over)
                why = BOX_OUTPUT_LIMIT;
            else if (deadline && now_ms() >= deadline)
                why = BOX_TIMEOUT;
            if (why != BOX_OK && (k = curl_easy_init())) {
                char path[256];
                snprintf(path, sizeof path, API "/containers/%s/kill?signal=SIGKILL", id);
                setup(s->p, k, path, CALL_TIMEOUT_MS);
                curl_easy_setopt(k, CURLOPT_POSTFIELDS, "");
                curl_easy_setopt(k, CURLOPT_WRITEFUNCTION, collect);
                curl_easy_setopt(k, CURLOPT_WRITEDATA, &kill_answer);
                curl_multi_add_handle(m, k);
                killed_at = now_ms();
                continue;
            }
        }
        if (!running)
            break;
        if (k && now_ms() > killed_at + KILL_WAIT_MS) {
            /* The kill did not end the stream: the forced remove will. */
            fprintf(stderr, "podman: %.12s still streaming %d ms after the kill\n", id,
                    KILL_WAIT_MS);
            break;
        }
        struct curl_waitfd w;
        curl_multi_poll(m, &w, live_wait_fd(rd, &w), POLL_MS, NULL);
    }
    if (k) {
        long st = 0;
        curl_easy_getinfo(k, CURLINFO_RESPONSE_CODE, &st);
        /* Not 204: it had ended on its own ("can only kill running containers"). */
        if (st != 204 && st != 409 && st != 500) {
            char kerr[256];
            api_message(&kill_answer, st, kerr, sizeof kerr);
            fprintf(stderr, "podman: killing %.12s: %s\n", id, kerr);
        }
        curl_multi_remove_handle(m, k);
        curl_easy_cleanup(k);
    }
    if (waiter) {
        curl_multi_remove_handle(m, waiter);
        curl_easy_cleanup(waiter);
    }
    bytebuf_free(&kill_answer);
    bytebuf_free(&wait_answer);
    if (why == BOX_OK && attach_rc != CURLE_OK) {
        fail(err, errlen, "reading the output: %s", curl_easy_strerror(attach_rc));
        return BOX_INTERNAL_ERROR;
    }
    return why;
}

/* Runs one step as a container; see the top of this file. */
static int step(slot *s, const box_spec *spec, box_result *res)
{
    podman *p = s->p;
    char err[256], path[512];
    memset(res, 0, sizeof *res);
    res->exit_code = -1;
    if (spec->flags & BOX_SPEC_CTL) {
        internal(res, "podman backend", "the control socket (sessions) is not supported");
        return -1;
    }
    if (atomic_load(&s->cancel)) {
        res->status = BOX_CANCELLED;
        return 0;
    }
    uint64_t tmpfs_bytes = spec->limits.tmpfs_bytes ? spec->limits.tmpfs_bytes : p->max.tmpfs_bytes;
    _cleanup_json_ json_t *body = create_body(s, spec, tmpfs_bytes);
    _cleanup_free_ char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    _cleanup_json_ json_t *created = NULL;
    if (!text) {
        internal(res, "creating the container", "out of memory");
        return -1;
    }
    if (call_ok(p, s->curl, "POST", API "/containers/create", text, 201, 0, &created, err,
                sizeof err) < 0) {
        internal(res, "creating the container", err);
        return -1;
    }
    char id[80];
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(created, "Id")) ?: "");
    if (!id[0] || strspn(id, "0123456789abcdef") != strlen(id)) {
        internal(res, "creating the container", "no container id in the answer");
        return -1;
    }

    reader rd = {.spec = spec, .res = res, .fd = CURL_SOCKET_BAD};
    CURLM *m = curl_multi_init();
    CURL *a = curl_easy_init();
    int rc = -1;
    box_status killed = BOX_OK;
    uint64_t t0 = 0;
    _cleanup_json_ json_t *info = NULL;
    struct curl_slist *no_expect = NULL;
    if (!m || !a) {
        internal(res, "attaching", "out of memory");
        goto out;
    }
    bool live = spec->stdin_fd >= 0;
    snprintf(path, sizeof path,
             API "/containers/%s/attach?stream=true&stdout=true&stderr=true&stdin=%s", id,
             spec->stdin_len || live ? "true" : "false");
    setup(p, a, path, 0);
    rd.attach = a;
    curl_easy_setopt(a, CURLOPT_SOCKOPTFUNCTION, on_attach_socket);
    curl_easy_setopt(a, CURLOPT_SOCKOPTDATA, &rd);
    /* The body is the program's stdin, raw: Podman hijacks the connection.
     * Live stdin has no length: a Content-Length no stream reaches (not
     * chunked, whose framing Podman would pass on as stdin). */
    if (live) {
        curl_easy_setopt(a, CURLOPT_POST, 1L);
        curl_easy_setopt(a, CURLOPT_READFUNCTION, on_live_stdin);
        curl_easy_setopt(a, CURLOPT_READDATA, &rd);
        curl_easy_setopt(a, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)1 << 62);
    } else {
        curl_easy_setopt(a, CURLOPT_POSTFIELDS, spec->stdin_len ? spec->stdin_data : "");
        curl_easy_setopt(a, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)spec->stdin_len);
    }
    /* Not curl's default form type: Podman would parse the body as a form. */
    no_expect = curl_slist_append(NULL, "Expect:");
    no_expect = curl_slist_append(no_expect, "Content-Type: application/octet-stream");
    curl_easy_setopt(a, CURLOPT_HTTPHEADER, no_expect);
    curl_easy_setopt(a, CURLOPT_WRITEFUNCTION, on_attach);
    curl_easy_setopt(a, CURLOPT_WRITEDATA, &rd);
    curl_easy_setopt(a, CURLOPT_HEADERFUNCTION, on_attach_header);
    curl_easy_setopt(a, CURLOPT_HEADERDATA, &rd);
    curl_multi_add_handle(m, a);
    /* Podman answers the attach once it is hooked up (the container is
     * initialised then); start only after that, or early output is lost. */
    uint64_t attach_deadline = now_ms() + ATTACH_WAIT_MS;
    int running = 1;
    while (!rd.headers_done && running && now_ms() < attach_deadline && !atomic_load(&s->cancel)) {
        curl_multi_perform(m, &running);
        close_stdin_when_sent(&rd);
        struct curl_waitfd w;
        if (!rd.headers_done && running)
            curl_multi_poll(m, &w, live_wait_fd(&rd, &w), POLL_MS, NULL);
    }
    if (atomic_load(&s->cancel)) {
        res->status = BOX_CANCELLED;
        rc = 0;
        goto out;
    }
    long ast = 0;
    curl_easy_getinfo(a, CURLINFO_RESPONSE_CODE, &ast);
    if (!rd.headers_done || (ast != 200 && ast != 101)) {
        snprintf(err, sizeof err, "attach answered %ld", ast);
        internal(res, "attaching", rd.headers_done ? err : "no answer in time");
        goto out;
    }
    snprintf(path, sizeof path, API "/containers/%s/start", id);
    t0 = now_ms();
    if (call_ok(p, s->curl, "POST", path, NULL, 204, 304, NULL, err, sizeof err) < 0) {
        internal(res, "starting the container", err);
        goto out;
    }
    pthread_mutex_lock(&s->run_mu);
    snprintf(s->running, sizeof s->running, "%s", id);
    pthread_mutex_unlock(&s->run_mu);
    uint64_t deadline =
        (spec->flags & BOX_SPEC_NO_WALL) || !spec->limits.wall_ms ? 0 : t0 + spec->limits.wall_ms;
    killed = stream(s, m, a, &rd, id, deadline, err, sizeof err);
    res->wall_ms = now_ms() - t0;
    if (killed == BOX_INTERNAL_ERROR) {
        internal(res, "podman", err);
        goto out;
    }
    /* The stream ends when the container does; wait for Podman to record it. */
    snprintf(path, sizeof path, WAIT_PATH, id);
    if (call_ok(p, s->curl, "POST", path, NULL, 200, 0, NULL, err, sizeof err) < 0) {
        internal(res, "waiting for the container", err);
        goto out;
    }
    snprintf(path, sizeof path, API "/containers/%s/json", id);
    if (call_ok(p, s->curl, "GET", path, NULL, 200, 0, &info, err, sizeof err) < 0) {
        internal(res, "inspecting the container", err);
        goto out;
    }
    json_t *state = json_object_get(info, "State");
    int code = (int)json_integer_value(json_object_get(state, "ExitCode"));
    bool oom = json_is_true(json_object_get(state, "OOMKilled"));
    rc = 0;
    if (killed != BOX_OK) {
        res->status = killed;
        if (killed == BOX_TIMEOUT)
            res->limit = BOX_LIMIT_WALL;
        res->signal = 9;
    } else if (oom || (code == 137 && spec->limits.memory_bytes)) {
        res->status = BOX_MEMORY_LIMIT;
        res->signal = 9;
    } else if (code == 128 + 24 && spec->limits.cpu_ms) { /* SIGXCPU: RLIMIT_CPU */
        res->status = BOX_TIMEOUT;
        res->limit = BOX_LIMIT_CPU;
        res->signal = 24;
    } else if (code > 128 && code < 128 + 65) {
        res->status = BOX_SIGNALED;
        res->signal = code - 128;
    } else {
        res->status = code == 0 ? BOX_OK : BOX_RUNTIME_ERROR;
        res->exit_code = code;
    }
out:
    pthread_mutex_lock(&s->run_mu);
    s->running[0] = '\0';
    pthread_mutex_unlock(&s->run_mu);
    if (m && a)
        curl_multi_remove_handle(m, a);
    if (a)
        curl_easy_cleanup(a);
    if (m)
        curl_multi_cleanup(m);
    curl_slist_free_all(no_expect);
    remove_container(p, s->curl, id);
    res->out.truncated = res->err.truncated = rd.over;
    res->out.data = bytebuf_steal(&rd.out, &res->out.len);
    res->err.data = bytebuf_steal(&rd.err, &res->err.len);
    return rc;
}

/* ---- the backend table ---- */

static backend_lease *pm_acquire(void *self, const char *image, uint64_t tmpfs_bytes,
                                 int timeout_ms, char *err, size_t errlen)
{
    podman *p = self;
    if (!image) {
        fail(err, errlen, "this language names no image (\"image\" in its runtime file)");
        return NULL;
    }
    if (strlen(image) >= sizeof p->slots[0].image) {
        fail(err, errlen, "image reference too long");
        return NULL;
    }
    uint64_t deadline = timeout_ms < 0 ? 0 : now_ms() + (uint64_t)timeout_ms;
    slot *s = NULL;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        for (unsigned i = 0; i < p->nslots && !s; i++)
            if (!p->slots[i].busy)
                s = &p->slots[i];
        if (s || (timeout_ms >= 0 && now_ms() >= deadline))
            break;
        if (timeout_ms < 0) {
            pthread_cond_wait(&p->freed, &p->mu);
        } else {
            struct timespec ts = {.tv_sec = (time_t)(deadline / 1000),
                                  .tv_nsec = (long)(deadline % 1000) * 1000000L};
            pthread_cond_timedwait(&p->freed, &p->mu, &ts);
        }
    }
    if (s)
        s->busy = true;
    pthread_mutex_unlock(&p->mu);
    if (!s) {
        fail(err, errlen, "every slot stayed busy");
        return NULL;
    }
    atomic_store(&s->cancel, false);
    snprintf(s->image, sizeof s->image, "%s", image);
    if (ensure_image(p, s->curl, image, err, errlen) < 0 ||
        ws_mount(s, tmpfs_bytes ? tmpfs_bytes : p->max.tmpfs_bytes, err, errlen) < 0) {
        pthread_mutex_lock(&p->mu);
        s->busy = false;
        pthread_cond_signal(&p->freed);
        pthread_mutex_unlock(&p->mu);
        return NULL;
    }
    return (backend_lease *)s;
}

static int pm_put_file(backend_lease *l, const char *path, const void *data, size_t len,
                       mode_t mode, char *err, size_t errlen)
{
    return ws_put((slot *)l, path, data, len, mode, err, errlen);
}

static int pm_get_file(backend_lease *l, const char *path, size_t max, char **data, size_t *len,
                       char *err, size_t errlen)
{
    return ws_get((slot *)l, path, max, data, len, err, errlen);
}

static int pm_exec(backend_lease *l, const box_spec *spec, box_result *res)
{
    return step((slot *)l, spec, res);
}

static void pm_cancel(backend_lease *l)
{
    atomic_store(&((slot *)l)->cancel, true);
}

/* SIGINT to the running container's program (its pid 1), on a handle of
 * its own: the step's thread may be using the slot's. The lock keeps the
 * id from being cleared, and the container removed, until Podman answered. */
static int pm_interrupt(backend_lease *l)
{
    slot *s = (slot *)l;
    int rc = -1;
    pthread_mutex_lock(&s->run_mu);
    CURL *h = s->running[0] ? curl_easy_init() : NULL;
    if (h) {
        char path[256], err[256];
        snprintf(path, sizeof path, API "/containers/%s/kill?signal=SIGINT", s->running);
        rc = call_ok(s->p, h, "POST", path, NULL, 204, 0, NULL, err, sizeof err);
        curl_easy_cleanup(h);
    }
    pthread_mutex_unlock(&s->run_mu);
    return rc;
}

static void pm_release(backend_lease *l)
{
    slot *s = (slot *)l;
    ws_unmount(s);
    podman *p = s->p;
    pthread_mutex_lock(&p->mu);
    s->busy = false;
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->mu);
}

static const box_limits *pm_max(const void *self)
{
    return &((const podman *)self)->max;
}

static unsigned pm_slots(const void *self)
{
    return ((const podman *)self)->nslots;
}

static unsigned pm_index(const backend_lease *l)
{
    return ((const slot *)l)->index;
}

void podman_backend(backend *b, podman *p)
{
    *b = (backend){
        .name = "podman",
        .self = p,
        .acquire = pm_acquire,
        .put_file = pm_put_file,
        .get_file = pm_get_file,
        .exec = pm_exec,
        .cancel = pm_cancel,
        .interrupt = pm_interrupt,
        .release = pm_release,
        .max = pm_max,
        .slots = pm_slots,
        .index = pm_index,
    };
}

const char *podman_version(const podman *p)
{
    return p->version;
}

/* ---- open and close ---- */

static int parse_url(podman *p, const char *url, char *err, size_t errlen)
{
    if (!url || !*url)
        return fail(err, errlen, "no Podman address (--podman-url or PODMAN_URL)");
    if (strncmp(url, "unix://", 7) == 0 || url[0] == '/') {
        p->socket = strdup(url[0] == '/' ? url : url + 7);
        p->url_base = strdup("http://d");
    } else if (strncmp(url, "http://", 7) == 0) {
        size_t n = strlen(url);
        while (n > 7 && url[n - 1] == '/')
            n--;
        p->url_base = strndup(url, n);
    } else {
        return fail(err, errlen,
                    "Podman address \"%s\": expected http://host:port, unix:///path or /path", url);
    }
    if (!p->url_base || (url[0] == '/' && !p->socket))
        return fail(err, errlen, "out of memory");
    return 0;
}

/* Asks for Podman's version: proves it answers before anything else. */
static int read_version(podman *p, char *err, size_t errlen)
{
    CURL *h = curl_easy_init();
    if (!h)
        return fail(err, errlen, "out of memory");
    _cleanup_json_ json_t *ver = NULL;
    int rc = call_ok(p, h, "GET", API "/version", NULL, 200, 0, &ver, err, errlen);
    curl_easy_cleanup(h);
    if (rc == 0)
        snprintf(p->version, sizeof p->version, "%s",
                 json_string_value(json_object_get(ver, "Version")) ?: "?");
    return rc;
}

int podman_open(const podman_config *cfg, podman **out, char *err, size_t errlen)
{
    podman *p = calloc(1, sizeof *p);
    if (!p)
        return fail(err, errlen, "out of memory");
    pthread_mutex_init(&p->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->freed, &ca);
    pthread_condattr_destroy(&ca);
    *out = NULL;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (parse_url(p, cfg->url, err, errlen) < 0)
        goto error;
    p->instance = strdup(cfg->instance ? cfg->instance : "xxx");
    p->registry = cfg->registry && *cfg->registry ? strdup(cfg->registry) : NULL;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/podman", cfg->state_dir ? cfg->state_dir : "/run/xxx");
    p->dir = strdup(dir);
    p->state_dir = strdup(cfg->state_dir ? cfg->state_dir : "/run/xxx");
    if (!p->instance || !p->dir || !p->state_dir ||
        (cfg->registry && *cfg->registry && !p->registry)) {
        fail(err, errlen, "out of memory");
        goto error;
    }
    if (strspn(p->instance, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
        strlen(p->instance)) {
        fail(err, errlen, "instance name \"%s\": use [A-Za-z0-9._-]", p->instance);
        goto error;
    }
    box_limits def = box_limits_default();
    p->max = cfg->max;
    box_limits_clamp(&p->max, &def);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    p->nslots = cfg->slots ? cfg->slots : (cores > 2 ? (unsigned)cores : 2);
    p->slots = calloc(p->nslots, sizeof *p->slots);
    if (!p->slots) {
        fail(err, errlen, "out of memory");
        goto error;
    }
    if (read_version(p, err, errlen) < 0)
        goto error;
    if (mkdir(cfg->state_dir ? cfg->state_dir : "/run/xxx", 0755) < 0 && errno != EEXIST) {
        fail(err, errlen, "mkdir %s: %s", cfg->state_dir ? cfg->state_dir : "/run/xxx",
             strerror(errno));
        goto error;
    }
    if (mkdir(p->dir, 0700) < 0 && errno != EEXIST) {
        fail(err, errlen, "mkdir %s: %s", p->dir, strerror(errno));
        goto error;
    }
    uid_t first = cfg->first_uid ? cfg->first_uid : 60000;
    for (unsigned i = 0; i < p->nslots; i++) {
        slot *s = &p->slots[i];
        s->p = p;
        s->index = i;
        s->uid = first + i;
        pthread_mutex_init(&s->run_mu, NULL);
        snprintf(s->ws, sizeof s->ws, "%s/%u", p->dir, i);
        if (mkdir(s->ws, 0700) < 0 && errno != EEXIST) {
            fail(err, errlen, "mkdir %s: %s", s->ws, strerror(errno));
            goto error;
        }
        /* A crashed xxxd may have left its workspace mounted. */
        s->mounted = true;
        ws_unmount(s);
        if (!(s->curl = curl_easy_init())) {
            fail(err, errlen, "out of memory");
            goto error;
        }
    }
    int gone = podman_remove_labelled(p, err, errlen);
    if (gone < 0)
        goto error;
    if (gone > 0)
        fprintf(stderr, "podman: removed %d containers left by an earlier run\n", gone);
    *out = p;
    return 0;
error:
    podman_close(p);
    return -1;
}

void podman_close(podman *p)
{
    if (!p)
        return;
    char err[256];
    if (p->url_base && p->instance && podman_remove_labelled(p, err, sizeof err) < 0)
        fprintf(stderr, "podman: cleaning up: %s\n", err);
    for (unsigned i = 0; p->slots && i < p->nslots; i++) {
        ws_unmount(&p->slots[i]);
        if (p->slots[i].ws[0])
            rmdir(p->slots[i].ws);
        if (p->slots[i].curl)
            curl_easy_cleanup(p->slots[i].curl);
    }
    if (p->dir)
        rmdir(p->dir);
    if (p->state_dir)
        rmdir(p->state_dir); /* when empty: made by podman_open, or shared */
    for (size_t i = 0; i < p->nimages; i++)
        free(p->images[i]);
    free(p->images);
    free(p->slots);
    free(p->url_base);
    free(p->socket);
    free(p->registry);
    free(p->instance);
    free(p->dir);
    free(p->state_dir);
    pthread_cond_destroy(&p->freed);
    pthread_mutex_destroy(&p->mu);
    free(p);
}
