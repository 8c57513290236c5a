/* static.c — the playground's files, served from one directory (see http.h).
 *
 * The URL path is never handed to a libc call as a path: it is split into
 * components, each checked, and opened one at a time with openat(...,
 * O_NOFOLLOW) from the directory's descriptor, so neither ".." nor a
 * symlink (planted in the build output, or pointing out of it) can lead
 * anywhere but a regular file inside the directory. O_NONBLOCK on the last
 * open keeps a FIFO from hanging the polling thread before fstat refuses it. */
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/json_cleanup.h"
#include "http/http.h"

#define STATIC_MAX_PATH 1024

struct http_static {
    char *dir;
};

static int open_root(const char *dir)
{
    return open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

int http_static_open(const char *dir, http_static **out, char *err, size_t errlen)
{
    _cleanup_close_ int fd = open_root(dir);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open the web directory %s: %s", dir, strerror(errno));
        return -1;
    }
    http_static *st = calloc(1, sizeof *st);
    if (!st || !(st->dir = strdup(dir))) {
        free(st);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    *out = st;
    return 0;
}

void http_static_close(http_static *st)
{
    if (!st)
        return;
    free(st->dir);
    free(st);
}

const char *http_static_content_type(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".map", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".woff2", "font/woff2"},
        {".txt", "text/plain; charset=utf-8"},
    };
    const char *dot = strrchr(name, '.');
    const char *slash = strrchr(name, '/');
    if (dot && (!slash || dot > slash))
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strcasecmp(dot, types[i].ext) == 0)
                return types[i].type;
    return "application/octet-stream";
}

static int refuse(api_error *e, unsigned status, const char *code, const char *msg)
{
    e->status = status;
    e->code = code;
    snprintf(e->message, sizeof e->message, "%s", msg);
    return -1;
}

int http_static_lookup(const http_static *st, const char *path, http_static_file *f, api_error *e)
{
    static const char not_found[] = "no such file in the playground";
    f->fd = -1;
    size_t len = strlen(path);
    if (path[0] != '/' || len > STATIC_MAX_PATH)
        return refuse(e, 404, "not_found", not_found);
    char rel[STATIC_MAX_PATH + sizeof "index.html"];
    snprintf(rel, sizeof rel, "%s%s", path + 1, path[len - 1] == '/' ? "index.html" : "");
    if (strchr(rel, '\\'))
        return refuse(e, 400, "invalid_path", "backslashes are not allowed in a path");

    /* strtok_r folds "//": refuse empty components before splitting. */
    if (strstr(path, "//"))
        return refuse(e, 404, "not_found", not_found);
    /* The root is opened per request: a rebuild swaps the directory in
     * whole (web/build.mjs renames it), and the next request sees the new one. */
    _cleanup_close_ int rootfd = open_root(st->dir);
    if (rootfd < 0)
        return refuse(e, 404, "not_found", "the playground's directory is gone; rebuild it (make)");
    _cleanup_close_ int dir = -1; /* the directory we are in, when not rootfd */
    char *save = NULL;
    char *comp = strtok_r(rel, "/", &save);
    while (comp) {
        if (strcmp(comp, "..") == 0)
            return refuse(e, 400, "invalid_path", "\"..\" is not allowed in a path");
        if (comp[0] == '.')
            return refuse(e, 404, "not_found", not_found);
        char *next = strtok_r(NULL, "/", &save);
        int at = dir >= 0 ? dir : rootfd;
        if (next) {
            int sub = openat(at, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub < 0)
                return refuse(e, 404, "not_found", not_found);
            if (dir >= 0)
                close(dir);
            dir = sub;
        } else {
            _cleanup_close_ int fd =
                openat(at, comp, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
            struct stat sb;
            if (fd < 0 || fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode))
                return refuse(e, 404, "not_found", not_found);
            f->fd = steal_fd(&fd);
            f->size = (uint64_t)sb.st_size;
            f->content_type = http_static_content_type(comp);
            return 0;
        }
        comp = next;
    }
    return refuse(e, 404, "not_found", not_found);
}

/* The page talks to this server only: no script, style, font or request may
 * go elsewhere (the playground must work without internet access). Inline
 * styles are allowed because CodeMirror injects its theme as <style>. */
static const char csp[] = "default-src 'self'; script-src 'self'; style-src 'self' "
                          "'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src "
                          "'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

struct MHD_Response *http_static_response(const http_static *st, const char *path, unsigned *status,
                                          api_error *e)
{
    http_static_file f;
    struct MHD_Response *resp;
    memset(e, 0, sizeof *e);
    if (http_static_lookup(st, path, &f, e) < 0) {
        _cleanup_json_ json_t *body = api_error_json(e);
        _cleanup_free_ char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
        if (!text)
            return NULL;
        resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_COPY);
        if (resp)
            MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
        *status = e->status;
        return resp;
    }
    resp = MHD_create_response_from_fd64(f.size, f.fd); /* owns the fd now */
    if (!resp) {
        close(f.fd);
        return NULL;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, f.content_type);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    if (strncmp(f.content_type, "text/html", 9) == 0)
        MHD_add_response_header(resp, "Content-Security-Policy", csp);
    *status = 200;
    return resp;
}
