/* runtime.c — loading, finding and expanding language definitions (see runtime.h). */
#include "runtime/runtime.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "common/bytebuf.h"
#include "common/cleanup.h"
#include "common/json_cleanup.h"
#include "common/strv.h"

/* Definitions are small; a bigger file is a mistake, not a language. */
#define RUNTIME_FILE_MAX (256 * 1024)

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

/* Reads a JSON array of strings into a NULL-terminated vector. */
static int parse_strv(json_t *j, const char *origin, const char *what, bool nonempty, char ***out,
                      char *err, size_t errlen)
{
    if (!json_is_array(j))
        return fail(err, errlen, "%s: \"%s\" must be an array of strings", origin, what);
    if (nonempty && json_array_size(j) == 0)
        return fail(err, errlen, "%s: \"%s\" must not be empty", origin, what);
    _cleanup_strv_ char **v = calloc(1, sizeof *v);
    if (!v)
        return fail(err, errlen, "out of memory");
    size_t i;
    json_t *e;
    json_array_foreach(j, i, e)
    {
        if (!json_is_string(e) || strlen(json_string_value(e)) != json_string_length(e))
            return fail(err, errlen, "%s: \"%s\"[%zu] must be a string without NUL", origin, what,
                        i);
        if (strv_push(&v, json_string_value(e)) < 0)
            return fail(err, errlen, "out of memory");
    }
    *out = steal_pointer(&v);
    return 0;
}

/* Checks an argv template's placeholders. */
static int check_template(char **tmpl, const char *origin, const char *what, char *err,
                          size_t errlen)
{
    for (size_t i = 0; tmpl[i]; i++) {
        if (strcmp(tmpl[i], "{args}") == 0)
            continue;
        for (const char *p = strchr(tmpl[i], '{'); p; p = strchr(p + 1, '{')) {
            if (strncmp(p, "{source}", 8) != 0 && strncmp(p, "{workdir}", 9) != 0)
                return fail(err, errlen,
                            "%s: \"%s\"[%zu] has an unknown placeholder (known: {source}, "
                            "{workdir}, and {args} as a whole element)",
                            origin, what, i);
        }
    }
    return 0;
}

static int strcmp_qsort(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads {"KEY": "value", ...} into a sorted "KEY=value" vector. */
static int parse_env(json_t *j, const char *origin, char ***out, char *err, size_t errlen)
{
    if (!json_is_object(j))
        return fail(err, errlen, "%s: \"env\" must be an object of strings", origin);
    _cleanup_strv_ char **v = calloc(1, sizeof *v);
    if (!v)
        return fail(err, errlen, "out of memory");
    const char *key;
    json_t *val;
    json_object_foreach(j, key, val)
    {
        if (!json_is_string(val) || strchr(key, '=') || !*key ||
            strlen(json_string_value(val)) != json_string_length(val))
            return fail(err, errlen, "%s: env \"%s\" must be a string without NUL", origin, key);
        bytebuf b = {0};
        if (bytebuf_printf(&b, "%s=%s", key, json_string_value(val)) < 0)
            return fail(err, errlen, "out of memory");
        _cleanup_free_ char *kv = bytebuf_steal(&b, NULL);
        if (strv_push(&v, kv) < 0)
            return fail(err, errlen, "out of memory");
    }
    qsort(v, strv_len((const char *const *)v), sizeof *v, strcmp_qsort);
    *out = steal_pointer(&v);
    return 0;
}

int runtime_limits_parse(json_t *j, bool all_keys, box_limits *l, char *why, size_t whylen)
{
    static const struct {
        const char *key;
        size_t off;
        unsigned shift;
    } keys[] = {
        /* what a request may set first, then what only a runtime file may */
        {"wall_ms", offsetof(box_limits, wall_ms), 0},
        {"cpu_ms", offsetof(box_limits, cpu_ms), 0},
        {"memory_mb", offsetof(box_limits, memory_bytes), 20},
        {"processes", offsetof(box_limits, processes), 0},
        {"output_bytes", offsetof(box_limits, output_bytes), 0},
        {"file_mb", offsetof(box_limits, file_bytes), 20},
        {"tmpfs_mb", offsetof(box_limits, tmpfs_bytes), 20},
        {"open_files", offsetof(box_limits, open_files), 0},
    };
    size_t nkeys = all_keys ? sizeof keys / sizeof keys[0] : 5;
    if (!json_is_object(j)) {
        snprintf(why, whylen, "limits must be an object");
        return -1;
    }
    const char *key;
    json_t *val;
    json_object_foreach(j, key, val)
    {
        size_t k;
        for (k = 0; k < nkeys; k++)
            if (strcmp(key, keys[k].key) == 0)
                break;
        if (k == nkeys) {
            int n = snprintf(why, whylen, "limits.%s is not a limit (known:", key);
            for (size_t i = 0; i < nkeys && n > 0 && (size_t)n < whylen; i++)
                n += snprintf(why + n, whylen - (size_t)n, "%s %s", i ? "," : "", keys[i].key);
            if (n > 0 && (size_t)n < whylen)
                snprintf(why + n, whylen - (size_t)n, ")");
            return -1;
        }
        if (!json_is_integer(val) || json_integer_value(val) <= 0) {
            snprintf(why, whylen, "limits.%s must be a positive integer", key);
            return -1;
        }
        uint64_t v = (uint64_t)json_integer_value(val);
        if (v > (UINT64_MAX >> 21)) /* far above any maximum: capped by the pool anyway */
            v = UINT64_MAX >> 21;
        *(uint64_t *)((char *)l + keys[k].off) = v << keys[k].shift;
    }
    return 0;
}

/* Reads the runtime file's compile or run limits. */
static int parse_limits(json_t *j, const char *origin, const char *what, box_limits *l, char *err,
                        size_t errlen)
{
    char why[256];
    if (runtime_limits_parse(j, true, l, why, sizeof why) < 0)
        return fail(err, errlen, "%s: %s %s", origin, what, why);
    return 0;
}

/* Returns the string member key, or NULL (with err set when required). */
static const char *get_string(json_t *obj, const char *key, bool required, const char *origin,
                              int *bad, char *err, size_t errlen)
{
    json_t *v = json_object_get(obj, key);
    if (!v) {
        if (required) {
            fail(err, errlen, "%s: \"%s\" is required", origin, key);
            *bad = 1;
        }
        return NULL;
    }
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)) {
        fail(err, errlen, "%s: \"%s\" must be a string without NUL", origin, key);
        *bad = 1;
        return NULL;
    }
    return json_string_value(v);
}

/* Returns true for a plain relative path: no "..", no empty or dot component. */
static bool relative_path_ok(const char *p)
{
    if (!*p || *p == '/' || strlen(p) > 255)
        return false;
    const char *c = p;
    while (*c) {
        const char *slash = strchr(c, '/');
        size_t n = slash ? (size_t)(slash - c) : strlen(c);
        if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
            return false;
        c += n + (slash ? 1 : 0);
        if (slash && !*c)
            return false;
    }
    return true;
}

static bool name_ok(const char *s)
{
    if (!*s || strlen(s) > 32)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || strchr("+-_.#", *s)))
            return false;
    return true;
}

static int parse_support(json_t *j, runtime *rt, const char *origin, char *err, size_t errlen)
{
    if (!json_is_array(j))
        return fail(err, errlen, "%s: \"support_files\" must be an array", origin);
    rt->support = calloc(json_array_size(j) + 1, sizeof *rt->support);
    if (!rt->support)
        return fail(err, errlen, "out of memory");
    size_t i;
    json_t *e;
    json_array_foreach(j, i, e)
    {
        int bad = 0;
        const char *name = get_string(e, "name", true, origin, &bad, err, errlen);
        json_t *content = json_object_get(e, "content");
        if (bad)
            return -1;
        if (!relative_path_ok(name))
            return fail(err, errlen, "%s: support file \"%s\" must be a relative path", origin,
                        name);
        if (!json_is_string(content))
            return fail(err, errlen, "%s: support file \"%s\" needs a string \"content\"", origin,
                        name);
        runtime_file *f = &rt->support[rt->nsupport++];
        f->name = strdup(name);
        f->len = json_string_length(content);
        f->content = malloc(f->len + 1);
        if (!f->name || !f->content)
            return fail(err, errlen, "out of memory");
        memcpy(f->content, json_string_value(content), f->len + 1);
    }
    return 0;
}

static int parse_version(json_t *j, runtime *rt, const char *origin, char *err, size_t errlen)
{
    if (!json_is_object(j))
        return fail(err, errlen, "%s: \"version\" must be an object", origin);
    if (parse_strv(json_object_get(j, "command"), origin, "version.command", true,
                   &rt->version_rule.command, err, errlen) < 0)
        return -1;
    json_t *field = json_object_get(j, "field");
    rt->version_rule.field = -1;
    if (field) {
        if (!json_is_integer(field) || json_integer_value(field) < 0 ||
            json_integer_value(field) > 64)
            return fail(err, errlen, "%s: \"version.field\" must be an integer 0..64", origin);
        rt->version_rule.field = (int)json_integer_value(field);
    }
    int bad = 0;
    const char *prefix = get_string(j, "prefix", false, origin, &bad, err, errlen);
    const char *trim = get_string(j, "trim", false, origin, &bad, err, errlen);
    if (bad)
        return -1;
    if ((prefix && !(rt->version_rule.prefix = strdup(prefix))) ||
        (trim && !(rt->version_rule.trim = strdup(trim))))
        return fail(err, errlen, "out of memory");
    return 0;
}

/* "session": {"run": [argv], "files": [{"name", "from" | "content"}], "live_stdin"?}. */
static int parse_session(json_t *j, runtime *rt, const char *origin, char *err, size_t errlen)
{
    if (!json_is_object(j))
        return fail(err, errlen, "%s: \"session\" must be an object {run, files}", origin);
    const char *key;
    json_t *val;
    json_object_foreach(j, key, val)
    {
        if (strcmp(key, "run") != 0 && strcmp(key, "files") != 0 && strcmp(key, "comment") != 0 &&
            strcmp(key, "live_stdin") != 0)
            return fail(err, errlen, "%s: unknown key \"session.%s\"", origin, key);
    }
    json_t *live = json_object_get(j, "live_stdin");
    if (live && !json_is_boolean(live))
        return fail(err, errlen, "%s: \"session.live_stdin\" must be true or false", origin);
    runtime_session *ss = rt->session = calloc(1, sizeof *ss);
    if (!ss)
        return fail(err, errlen, "out of memory");
    if (parse_strv(json_object_get(j, "run"), origin, "session.run", true, &ss->run, err, errlen) <
            0 ||
        check_template(ss->run, origin, "session.run", err, errlen) < 0)
        return -1;
    ss->live_stdin = json_is_true(live);
    json_t *files = json_object_get(j, "files");
    if (!files)
        return 0;
    if (!json_is_array(files))
        return fail(err, errlen, "%s: \"session.files\" must be an array", origin);
    ss->files = calloc(json_array_size(files) + 1, sizeof *ss->files);
    if (!ss->files)
        return fail(err, errlen, "out of memory");
    size_t i;
    json_t *e;
    json_array_foreach(files, i, e)
    {
        int bad = 0;
        const char *name = get_string(e, "name", true, origin, &bad, err, errlen);
        const char *from = bad ? NULL : get_string(e, "from", false, origin, &bad, err, errlen);
        json_t *content = json_object_get(e, "content");
        if (bad)
            return -1;
        if (!relative_path_ok(name) || (from && !relative_path_ok(from)))
            return fail(err, errlen, "%s: session file \"%s\" must be a relative path", origin,
                        name);
        if (!from == !json_is_string(content))
            return fail(err, errlen,
                        "%s: session file \"%s\" needs either \"from\" or a string \"content\"",
                        origin, name);
        runtime_file *f = &ss->files[ss->nfiles++];
        if (!(f->name = strdup(name)) || (from && !(f->from = strdup(from))))
            return fail(err, errlen, "out of memory");
        if (content) {
            f->len = json_string_length(content);
            if (!(f->content = malloc(f->len + 1)))
                return fail(err, errlen, "out of memory");
            memcpy(f->content, json_string_value(content), f->len + 1);
        }
    }
    return 0;
}

static const char *const known_keys[] = {
    "name",    "aliases", "source",        "compile", "run",         "env",   "etc",     "limits",
    "version", "test",    "support_files", "comment", "description", "image", "session", NULL,
};

/* An OCI image reference: registry/name:tag or @digest, in its plain characters. */
static bool image_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 255 || s[0] == '-' || s[0] == '/')
        return false;
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/:@") == n;
}

int runtime_parse(const char *text, size_t len, const char *origin, runtime **out, char *err,
                  size_t errlen)
{
    json_error_t jerr;
    _cleanup_json_ json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!j)
        return fail(err, errlen, "%s:%d:%d: %s", origin, jerr.line, jerr.column, jerr.text);
    if (!json_is_object(j))
        return fail(err, errlen, "%s: a runtime definition is a JSON object", origin);
    const char *key;
    json_t *val;
    json_object_foreach(j, key, val)
    {
        if (!strv_contains(known_keys, key))
            return fail(err, errlen, "%s: unknown key \"%s\"", origin, key);
    }

    runtime *rt = calloc(1, sizeof *rt);
    if (!rt)
        return fail(err, errlen, "out of memory");
    int bad = 0;
    const char *name = get_string(j, "name", true, origin, &bad, err, errlen);
    const char *source = bad ? NULL : get_string(j, "source", true, origin, &bad, err, errlen);
    const char *image = bad ? NULL : get_string(j, "image", false, origin, &bad, err, errlen);
    json_t *test = json_object_get(j, "test");
    const char *tcode = NULL, *tout = NULL;
    if (!bad && !json_is_object(test)) {
        fail(err, errlen, "%s: \"test\" must be an object {code, stdout}", origin);
        bad = 1;
    }
    if (!bad)
        tcode = get_string(test, "code", true, origin, &bad, err, errlen);
    if (!bad)
        tout = get_string(test, "stdout", true, origin, &bad, err, errlen);
    if (bad)
        goto error;
    if (!name_ok(name)) {
        fail(err, errlen, "%s: name \"%s\" must be 1-32 of [a-z0-9+-_.#]", origin, name);
        goto error;
    }
    if (!relative_path_ok(source) || strchr(source, '/')) {
        fail(err, errlen, "%s: \"source\" must be a plain file name", origin);
        goto error;
    }
    if (image && !image_ok(image)) {
        fail(err, errlen, "%s: \"image\" must be an image reference like localhost/xxx-python:1",
             origin);
        goto error;
    }
    if (image && !(rt->image = strdup(image))) {
        fail(err, errlen, "out of memory");
        goto error;
    }
    rt->name = strdup(name);
    rt->source = strdup(source);
    rt->test_code = strdup(tcode);
    rt->test_stdout = strdup(tout);
    rt->path = strdup(origin);
    if (!rt->name || !rt->source || !rt->test_code || !rt->test_stdout || !rt->path) {
        fail(err, errlen, "out of memory");
        goto error;
    }

    json_t *aliases = json_object_get(j, "aliases");
    if (aliases) {
        if (parse_strv(aliases, origin, "aliases", false, &rt->aliases, err, errlen) < 0)
            goto error;
        for (size_t i = 0; rt->aliases[i]; i++) {
            if (!name_ok(rt->aliases[i])) {
                fail(err, errlen, "%s: alias \"%s\" must be 1-32 of [a-z0-9+-_.#]", origin,
                     rt->aliases[i]);
                goto error;
            }
        }
    } else if (!(rt->aliases = calloc(1, sizeof(char *)))) {
        fail(err, errlen, "out of memory");
        goto error;
    }
    if (parse_strv(json_object_get(j, "run"), origin, "run", true, &rt->run, err, errlen) < 0 ||
        check_template(rt->run, origin, "run", err, errlen) < 0)
        goto error;
    json_t *compile = json_object_get(j, "compile");
    if (compile && !json_is_null(compile) &&
        (parse_strv(compile, origin, "compile", true, &rt->compile, err, errlen) < 0 ||
         check_template(rt->compile, origin, "compile", err, errlen) < 0))
        goto error;
    json_t *env = json_object_get(j, "env");
    if (env) {
        if (parse_env(env, origin, &rt->env, err, errlen) < 0)
            goto error;
    } else if (!(rt->env = calloc(1, sizeof(char *)))) {
        fail(err, errlen, "out of memory");
        goto error;
    }
    json_t *etc = json_object_get(j, "etc");
    if (etc) {
        if (parse_strv(etc, origin, "etc", false, &rt->etc, err, errlen) < 0)
            goto error;
        for (size_t i = 0; rt->etc[i]; i++) {
            if (!relative_path_ok(rt->etc[i]) || strchr(rt->etc[i], '/')) {
                fail(err, errlen, "%s: etc entry \"%s\" must be a plain name under /etc", origin,
                     rt->etc[i]);
                goto error;
            }
        }
    }
    json_t *limits = json_object_get(j, "limits");
    if (limits) {
        json_t *lc = json_object_get(limits, "compile"), *lr = json_object_get(limits, "run");
        if (!json_is_object(limits) ||
            json_object_size(limits) != (lc ? 1u : 0u) + (lr ? 1u : 0u)) {
            fail(err, errlen, "%s: \"limits\" must be {\"compile\": {...}, \"run\": {...}}",
                 origin);
            goto error;
        }
        if ((lc && parse_limits(lc, origin, "compile", &rt->compile_limits, err, errlen) < 0) ||
            (lr && parse_limits(lr, origin, "run", &rt->run_limits, err, errlen) < 0))
            goto error;
    }
    json_t *version = json_object_get(j, "version");
    if (!version) {
        fail(err, errlen, "%s: \"version\" is required", origin);
        goto error;
    }
    if (parse_version(version, rt, origin, err, errlen) < 0)
        goto error;
    json_t *support = json_object_get(j, "support_files");
    if (support && parse_support(support, rt, origin, err, errlen) < 0)
        goto error;
    json_t *session = json_object_get(j, "session");
    if (session && !json_is_null(session) && parse_session(session, rt, origin, err, errlen) < 0)
        goto error;
    *out = rt;
    return 0;
error:
    runtime_free(rt);
    return -1;
}

/* Reads a whole small file. */
static int read_small_file(int dirfd, const char *name, char **text, size_t *len)
{
    _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -1;
    if (!S_ISREG(st.st_mode) || st.st_size > RUNTIME_FILE_MAX) {
        errno = EFBIG;
        return -1;
    }
    bytebuf b = {0};
    char chunk[8192];
    ssize_t n;
    while ((n = read(fd, chunk, sizeof chunk)) > 0) {
        if (b.len + (size_t)n > RUNTIME_FILE_MAX || bytebuf_append(&b, chunk, (size_t)n) < 0) {
            bytebuf_free(&b);
            errno = EFBIG;
            return -1;
        }
    }
    if (n < 0) {
        bytebuf_free(&b);
        return -1;
    }
    *text = bytebuf_steal(&b, len);
    return 0;
}

int runtime_load_session_files(runtime *rt, int dirfd, char *err, size_t errlen)
{
    for (size_t i = 0; rt->session && i < rt->session->nfiles; i++) {
        runtime_file *f = &rt->session->files[i];
        if (!f->from || f->content)
            continue;
        if (read_small_file(dirfd, f->from, &f->content, &f->len) < 0)
            return fail(err, errlen, "%s: session file %s: %s", rt->path, f->from, strerror(errno));
    }
    return 0;
}

/* Returns true when name is in the comma-separated list. */
static bool in_list(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *comma = strchr(p, ',');
        size_t k = comma ? (size_t)(comma - p) : strlen(p);
        if (k == n && strncasecmp(p, name, n) == 0)
            return true;
        p += k + (comma ? 1 : 0);
    }
    return false;
}

static bool alias_taken(const runtime_set *s, const char *name)
{
    return runtime_find(s, name) != NULL;
}

int runtime_set_add(runtime_set *s, runtime *rt, char *err, size_t errlen)
{
    if (alias_taken(s, rt->name))
        return fail(err, errlen, "%s: name \"%s\" is already taken", rt->path, rt->name);
    for (size_t i = 0; rt->aliases[i]; i++) {
        if (alias_taken(s, rt->aliases[i]) || strcasecmp(rt->aliases[i], rt->name) == 0)
            return fail(err, errlen, "%s: alias \"%s\" is already taken", rt->path, rt->aliases[i]);
    }
    runtime **items = realloc(s->items, (s->n + 1) * sizeof *items);
    if (!items)
        return fail(err, errlen, "out of memory");
    s->items = items;
    size_t at = s->n;
    while (at > 0 && strcmp(items[at - 1]->name, rt->name) > 0) {
        items[at] = items[at - 1];
        at--;
    }
    items[at] = rt;
    s->n++;
    return 0;
}

int runtime_set_load(const char *dir, const char *only, runtime_set **out, char *err, size_t errlen)
{
    _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return fail(err, errlen, "runtimes directory %s: %s", dir, strerror(errno));
    DIR *d = fdopendir(dup(dfd));
    if (!d)
        return fail(err, errlen, "runtimes directory %s: %s", dir, strerror(errno));
    runtime_set *s = calloc(1, sizeof *s);
    if (!s) {
        closedir(d);
        return fail(err, errlen, "out of memory");
    }
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (n < 6 || strcmp(de->d_name + n - 5, ".json") != 0 || de->d_name[0] == '.')
            continue;
        char origin[4096];
        snprintf(origin, sizeof origin, "%s/%s", dir, de->d_name);
        _cleanup_free_ char *text = NULL;
        size_t len;
        if (read_small_file(dfd, de->d_name, &text, &len) < 0) {
            rc = fail(err, errlen, "%s: %s", origin, strerror(errno));
            break;
        }
        runtime *rt;
        if (runtime_parse(text, len, origin, &rt, err, errlen) < 0) {
            rc = -1;
            break;
        }
        if (only && !in_list(only, rt->name)) {
            runtime_free(rt);
            continue;
        }
        if (runtime_load_session_files(rt, dfd, err, errlen) < 0) {
            runtime_free(rt);
            rc = -1;
            break;
        }
        if (runtime_set_add(s, rt, err, errlen) < 0) {
            runtime_free(rt);
            rc = -1;
            break;
        }
    }
    closedir(d);
    if (rc == 0 && s->n == 0)
        rc = fail(err, errlen, "no runtime definitions%s in %s", only ? " matching the list" : "",
                  dir);
    if (rc < 0) {
        runtime_set_free(s);
        return -1;
    }
    *out = s;
    return 0;
}

void runtime_set_filter(runtime_set *s, bool (*keep)(const runtime *rt))
{
    size_t w = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (keep(s->items[i]))
            s->items[w++] = s->items[i];
        else
            runtime_free(s->items[i]);
    }
    s->n = w;
}

const runtime *runtime_find(const runtime_set *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcasecmp(s->items[i]->name, name) == 0)
            return s->items[i];
    for (size_t i = 0; i < s->n; i++)
        for (size_t k = 0; s->items[i]->aliases[k]; k++)
            if (strcasecmp(s->items[i]->aliases[k], name) == 0)
                return s->items[i];
    return NULL;
}

const runtime *runtime_find_image(const runtime_set *s, const char *image)
{
    const runtime *rt = runtime_find(s, image);
    if (rt)
        return rt;
    for (size_t i = 0; i < s->n; i++)
        if (s->items[i]->image && strcmp(s->items[i]->image, image) == 0)
            return s->items[i];
    char buf[256];
    const char *slash = strrchr(image, '/');
    snprintf(buf, sizeof buf, "%s", slash ? slash + 1 : image);
    char *cut = strchr(buf, '@'); /* digest */
    if (cut)
        *cut = '\0';
    cut = strchr(buf, ':'); /* tag: after the last '/', so not a registry port */
    if (cut)
        *cut = '\0';
    return buf[0] ? runtime_find(s, buf) : NULL;
}

bool runtime_served(const runtime *rt)
{
    return !__atomic_load_n(&rt->hidden, __ATOMIC_RELAXED);
}

void runtime_show(runtime *rt, bool served)
{
    __atomic_store_n(&rt->hidden, !served, __ATOMIC_RELAXED);
}

const char *runtime_version(const runtime *rt)
{
    return __atomic_load_n(&rt->version, __ATOMIC_ACQUIRE);
}

int runtime_note_version(runtime *rt, const char *version)
{
    if (runtime_version(rt))
        return 0;
    char *copy = strdup(version);
    if (!copy)
        return -1;
    char *none = NULL;
    if (!__atomic_compare_exchange_n(&rt->version, &none, copy, false, __ATOMIC_RELEASE,
                                     __ATOMIC_ACQUIRE))
        free(copy); /* another writer was first */
    return 0;
}

size_t runtime_set_served(const runtime_set *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++)
        n += runtime_served(s->items[i]);
    return n;
}

void runtime_set_names(const runtime_set *s, char *buf, size_t len)
{
    size_t used = 0;
    if (len)
        buf[0] = '\0';
    for (size_t i = 0; i < s->n && used < len; i++) {
        if (!runtime_served(s->items[i]))
            continue;
        int n = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", s->items[i]->name);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

const char **runtime_set_etc(const runtime_set *s, const char *const *base)
{
    size_t cap = strv_len(base) + 1;
    for (size_t i = 0; i < s->n; i++)
        cap += strv_len((const char *const *)s->items[i]->etc);
    const char **v = calloc(cap, sizeof *v);
    if (!v)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; base && base[i]; i++)
        if (!strv_contains((const char *const *)v, base[i]))
            v[n++] = base[i];
    for (size_t i = 0; i < s->n; i++)
        for (size_t k = 0; s->items[i]->etc && s->items[i]->etc[k]; k++)
            if (!strv_contains((const char *const *)v, s->items[i]->etc[k]))
                v[n++] = s->items[i]->etc[k];
    return v;
}

/* Replaces each "{source}" and "{workdir}" in s. */
static char *expand_one(const char *s, const char *source)
{
    bytebuf b = {0};
    if (bytebuf_append(&b, "", 0) < 0)
        return NULL;
    while (*s) {
        if (strncmp(s, "{source}", 8) == 0) {
            if (bytebuf_puts(&b, source) < 0)
                goto oom;
            s += 8;
        } else if (strncmp(s, "{workdir}", 9) == 0) {
            if (bytebuf_puts(&b, BOX_WORKDIR) < 0)
                goto oom;
            s += 9;
        } else {
            if (bytebuf_append(&b, s, 1) < 0)
                goto oom;
            s++;
        }
    }
    return bytebuf_steal(&b, NULL);
oom:
    bytebuf_free(&b);
    return NULL;
}

char **runtime_expand(const char *const *tmpl, const char *source, const char *const *args)
{
    size_t n = strv_len(tmpl) + strv_len(args) + 1;
    char **v = calloc(n, sizeof *v);
    if (!v)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; tmpl[i]; i++) {
        if (strcmp(tmpl[i], "{args}") == 0) {
            for (size_t a = 0; args && args[a]; a++)
                if (!(v[k++] = strdup(args[a])))
                    goto oom;
            continue;
        }
        if (!(v[k++] = expand_one(tmpl[i], source ? source : "")))
            goto oom;
    }
    return v;
oom:
    strv_free(v);
    return NULL;
}

/* Finds the first non-empty line of s[0..len), spaces trimmed: *line, *n. */
static bool first_line(const char *s, size_t len, const char **line, size_t *n)
{
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && s[j] != '\n')
            j++;
        size_t a = i, b = j;
        while (a < b && (s[a] == ' ' || s[a] == '\t' || s[a] == '\r'))
            a++;
        while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\r'))
            b--;
        if (b > a) {
            *line = s + a;
            *n = b - a;
            return true;
        }
        i = j + 1;
    }
    return false;
}

int runtime_pick_version(const runtime *rt, const char *out, size_t outlen, const char *err,
                         size_t errlen, char *buf, size_t buflen)
{
    const char *line;
    size_t n;
    if (!first_line(out ? out : "", out ? outlen : 0, &line, &n) &&
        !first_line(err ? err : "", err ? errlen : 0, &line, &n))
        return -1;
    const runtime_version_rule *r = &rt->version_rule;
    if (r->field >= 0) {
        size_t i = 0;
        int field = 0;
        const char *word = NULL;
        size_t wlen = 0;
        while (i < n) {
            while (i < n && (line[i] == ' ' || line[i] == '\t'))
                i++;
            size_t start = i;
            while (i < n && line[i] != ' ' && line[i] != '\t')
                i++;
            if (i > start && field++ == r->field) {
                word = line + start;
                wlen = i - start;
                break;
            }
        }
        if (!word)
            return -1;
        line = word;
        n = wlen;
    }
    if (r->prefix) {
        size_t p = strlen(r->prefix);
        if (n >= p && memcmp(line, r->prefix, p) == 0) {
            line += p;
            n -= p;
        }
    }
    if (r->trim) {
        while (n && strchr(r->trim, line[0])) {
            line++;
            n--;
        }
        while (n && strchr(r->trim, line[n - 1]))
            n--;
    }
    if (n == 0 || n >= buflen)
        return -1;
    for (size_t i = 0; i < n; i++) /* a version is printable ASCII, or it is garbage */
        if (line[i] < 0x21 || line[i] > 0x7e)
            return -1;
    memcpy(buf, line, n);
    buf[n] = '\0';
    return 0;
}

bool runtime_version_matches(const runtime *rt, const char *version)
{
    const char *have = runtime_version(rt);
    if (!have || !*version)
        return false;
    size_t n = strlen(version);
    if (strncmp(have, version, n) != 0)
        return false;
    char next = have[n];
    return next == '\0' || next == '.' || next == '-' || next == '+';
}

void runtime_free(runtime *rt)
{
    if (!rt)
        return;
    free(rt->name);
    strv_free(rt->aliases);
    free(rt->source);
    free(rt->image);
    strv_free(rt->compile);
    strv_free(rt->run);
    strv_free(rt->env);
    strv_free(rt->etc);
    for (size_t i = 0; i < rt->nsupport; i++) {
        free(rt->support[i].name);
        free(rt->support[i].content);
    }
    free(rt->support);
    if (rt->session) {
        strv_free(rt->session->run);
        for (size_t i = 0; i < rt->session->nfiles; i++) {
            free(rt->session->files[i].name);
            free(rt->session->files[i].content);
            free(rt->session->files[i].from);
        }
        free(rt->session->files);
        free(rt->session);
    }
    strv_free(rt->version_rule.command);
    free(rt->version_rule.prefix);
    free(rt->version_rule.trim);
    free(rt->test_code);
    free(rt->test_stdout);
    free(rt->version);
    free(rt->path);
    free(rt);
}

void runtime_set_free(runtime_set *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        runtime_free(s->items[i]);
    free(s->items);
    free(s);
}
