/* test_static.c — the playground's static files: what is served, with which
 * type, and every way a path could try to leave the directory (.., symlinks
 * to files and to directories, dotfiles, FIFOs, doubled slashes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http/http.h"

static char root[256]; /* a temporary directory holding web/ and secret.txt */
static char web[512];
static http_static *st;

static void put(const char *rel, const char *text)
{
    char p[PATH_MAX * 2];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    snprintf(root, sizeof root, "/tmp/xxx-static.XXXXXX");
    if (!mkdtemp(root))
        return -1;
    snprintf(web, sizeof web, "%s/web", root);
    char p[PATH_MAX * 2];
    mkdir(web, 0755);
    snprintf(p, sizeof p, "%s/chunks", web);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/outside", root);
    mkdir(p, 0755);
    put("secret.txt", "secret\n");
    put("outside/x.js", "outside\n");
    put("web/index.html", "<!doctype html>\n");
    put("web/app.js", "console.log(1)\n");
    put("web/style.css", "body{}\n");
    put("web/chunks/lua-1.js", "lua\n");
    put("web/.env", "TOKEN=1\n");
    /* Links a build step or an attacker could plant: none may be followed. */
    snprintf(p, sizeof p, "%s/link.txt", web);
    if (symlink("../secret.txt", p) < 0)
        return -1;
    snprintf(p, sizeof p, "%s/abs.txt", web);
    if (symlink("/etc/passwd", p) < 0)
        return -1;
    snprintf(p, sizeof p, "%s/dirlink", web);
    if (symlink("../outside", p) < 0)
        return -1;
    snprintf(p, sizeof p, "%s/fifo.js", web);
    if (mkfifo(p, 0644) < 0)
        return -1;
    char err[256];
    return http_static_open(web, &st, err, sizeof err);
}

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    (void)state;
    http_static_close(st);
    return nftw(root, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Looks path up; returns the file's text (static buffer) or NULL with *e. */
static const char *fetch(const char *path, api_error *e, const char **type)
{
    static char buf[256];
    http_static_file f;
    memset(e, 0, sizeof *e);
    if (http_static_lookup(st, path, &f, e) < 0) {
        assert_int_equal(f.fd, -1);
        return NULL;
    }
    ssize_t n = read(f.fd, buf, sizeof buf - 1);
    close(f.fd);
    assert_true(n >= 0);
    assert_int_equal((uint64_t)n, f.size);
    buf[n] = '\0';
    if (type)
        *type = f.content_type;
    return buf;
}

static void refused(const char *path, unsigned status, const char *code)
{
    api_error e;
    const char *text = fetch(path, &e, NULL);
    if (text)
        fail_msg("%s was served: %s", path, text);
    assert_int_equal(e.status, status);
    assert_string_equal(e.code, code);
    assert_true(e.message[0] != '\0');
}

static void test_root_is_index_html(void **state)
{
    (void)state;
    api_error e;
    const char *type;
    assert_string_equal(fetch("/", &e, &type), "<!doctype html>\n");
    assert_string_equal(type, "text/html; charset=utf-8");
    assert_string_equal(fetch("/index.html", &e, &type), "<!doctype html>\n");
}

static void test_assets_with_their_types(void **state)
{
    (void)state;
    api_error e;
    const char *type;
    assert_string_equal(fetch("/app.js", &e, &type), "console.log(1)\n");
    assert_string_equal(type, "text/javascript; charset=utf-8");
    assert_string_equal(fetch("/style.css", &e, &type), "body{}\n");
    assert_string_equal(type, "text/css; charset=utf-8");
    assert_string_equal(fetch("/chunks/lua-1.js", &e, &type), "lua\n");
    assert_string_equal(type, "text/javascript; charset=utf-8");
    assert_string_equal(http_static_content_type("a.svg"), "image/svg+xml");
    assert_string_equal(http_static_content_type("a.WOFF2"), "font/woff2");
    assert_string_equal(http_static_content_type("a.exe"), "application/octet-stream");
    assert_string_equal(http_static_content_type("dir.js/noext"), "application/octet-stream");
}

static void test_dotdot_is_refused(void **state)
{
    (void)state;
    refused("/../secret.txt", 400, "invalid_path");
    refused("/chunks/../../secret.txt", 400, "invalid_path");
    refused("/chunks/..", 400, "invalid_path");
    refused("/..\\secret.txt", 400, "invalid_path");
}

static void test_symlinks_are_never_followed(void **state)
{
    (void)state;
    refused("/link.txt", 404, "not_found");     /* to a file outside */
    refused("/abs.txt", 404, "not_found");      /* absolute */
    refused("/dirlink/x.js", 404, "not_found"); /* through a linked directory */
}

static void test_odd_paths_are_not_found(void **state)
{
    (void)state;
    refused("/.env", 404, "not_found");
    refused("/./index.html", 404, "not_found");
    refused("//etc/passwd", 404, "not_found");
    refused("/chunks//lua-1.js", 404, "not_found");
    refused("/chunks", 404, "not_found");  /* a directory */
    refused("/chunks/", 404, "not_found"); /* a directory without index.html */
    refused("/fifo.js", 404, "not_found"); /* not a regular file; must not block */
    refused("/missing.js", 404, "not_found");
    refused("index.html", 404, "not_found"); /* not absolute */
    char longp[1100];
    memset(longp, 'a', sizeof longp - 1);
    longp[0] = '/';
    longp[sizeof longp - 1] = '\0';
    refused(longp, 404, "not_found");
}

static void test_response_headers(void **state)
{
    (void)state;
    unsigned status = 0;
    api_error e;
    struct MHD_Response *r = http_static_response(st, "/", &status, &e);
    assert_non_null(r);
    assert_int_equal(status, 200);
    assert_null(e.code);
    assert_string_equal(MHD_get_response_header(r, "Content-Type"), "text/html; charset=utf-8");
    assert_string_equal(MHD_get_response_header(r, "X-Content-Type-Options"), "nosniff");
    const char *csp = MHD_get_response_header(r, "Content-Security-Policy");
    assert_non_null(csp);
    assert_non_null(strstr(csp, "default-src 'self'"));
    assert_non_null(strstr(csp, "connect-src 'self'"));
    MHD_destroy_response(r);

    r = http_static_response(st, "/app.js", &status, &e);
    assert_non_null(r);
    assert_null(MHD_get_response_header(r, "Content-Security-Policy"));
    MHD_destroy_response(r);

    r = http_static_response(st, "/../secret.txt", &status, &e);
    assert_non_null(r);
    assert_int_equal(status, 400);
    assert_string_equal(e.code, "invalid_path");
    assert_string_equal(MHD_get_response_header(r, "Content-Type"), "application/json");
    MHD_destroy_response(r);
}

static void test_open_needs_a_directory(void **state)
{
    (void)state;
    char p[PATH_MAX * 2], err[256];
    http_static *s2 = NULL;
    assert_int_equal(http_static_open("/nonexistent/web", &s2, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot open the web directory /nonexistent/web"));
    snprintf(p, sizeof p, "%s/app.js", web);
    assert_int_equal(http_static_open(p, &s2, err, sizeof err), -1);
    assert_null(s2);
}

/* make while xxxd runs: web/build.mjs renames a fresh directory into place. */
static void test_a_rebuilt_directory_is_served_at_once(void **state)
{
    (void)state;
    char fresh[600], old[600];
    snprintf(fresh, sizeof fresh, "%s/web.tmp", root);
    snprintf(old, sizeof old, "%s/web.old", root);
    assert_int_equal(mkdir(fresh, 0755), 0);
    put("web.tmp/index.html", "rebuilt\n");
    assert_int_equal(rename(web, old), 0);
    assert_int_equal(rename(fresh, web), 0);
    api_error e;
    const char *text = fetch("/", &e, NULL);
    assert_non_null(text);
    assert_string_equal(text, "rebuilt\n");
    assert_null(fetch("/app.js", &e, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_root_is_index_html),
        cmocka_unit_test(test_assets_with_their_types),
        cmocka_unit_test(test_dotdot_is_refused),
        cmocka_unit_test(test_symlinks_are_never_followed),
        cmocka_unit_test(test_odd_paths_are_not_found),
        cmocka_unit_test(test_response_headers),
        cmocka_unit_test(test_open_needs_a_directory),
        cmocka_unit_test(test_a_rebuilt_directory_is_served_at_once), /* last: it swaps web/ */
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
