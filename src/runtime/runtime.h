/* runtime.h — languages as data: one JSON file per language under runtimes/.
 *
 * A definition says how to run a program in a box: the source file name,
 * an optional compile step, the run step, the environment, per-step limit
 * overrides, extra /etc entries the interpreter needs, how to read its
 * version, and a tiny self-test. Argv templates are expanded element by
 * element, never through a shell: "{args}" as a whole element becomes the
 * user's arguments (zero or more elements), "{source}" and "{workdir}"
 * inside an element become the source file name and the box workdir.
 * The format is documented in runtimes/README.md. This module knows
 * nothing of boxes being run; src/run probes the definitions. */
#ifndef XXX_RUNTIME_H
#define XXX_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "box/box.h"

/* How to pick the version out of the version command's output, regex-free:
 * the first non-empty line of stdout (of stderr when stdout is empty), then
 * the field-th whitespace-separated word (field < 0: the whole line), then
 * prefix removed when present, then trim's characters removed at both ends. */
typedef struct runtime_version_rule {
    char **command; /* argv run in a box */
    int field;
    char *prefix;
    char *trim;
} runtime_version_rule;

typedef struct runtime_file {
    char *name; /* relative path under the workdir */
    char *content;
    size_t len;
    char *from; /* session files: path under the runtimes directory it is read from */
} runtime_file;

/* A language's REPL sessions: a driver program that speaks JSON lines with
 * the server on fd BOX_CTL_FD (protocol in runtimes/README.md, "Sessions"). */
typedef struct runtime_session {
    char **run;          /* argv template of the driver */
    runtime_file *files; /* written into the workdir before it starts */
    size_t nfiles;
    bool live_stdin; /* the driver takes stdin frames while a cell runs ("live_stdin": true) */
} runtime_session;

typedef struct runtime {
    char *name;     /* "python" */
    char **aliases; /* NULL-terminated: "py", "python3", image names */
    char *source;   /* "main.py": where the request's code is written */
    char *image;    /* OCI image for the podman backend ("localhost/xxx-python:1"), or NULL */
    char **compile; /* argv template, NULL for interpreted languages */
    char **run;     /* argv template */
    char **env;     /* "KEY=value", NULL-terminated, sorted */
    char **etc;     /* extra /etc entries bound into every box */
    runtime_file *support; /* files written before compiling (e.g. a prelude) */
    size_t nsupport;
    box_limits compile_limits; /* 0 fields: the run layer's defaults */
    box_limits run_limits;
    runtime_version_rule version_rule;
    runtime_session *session; /* NULL: no sessions in this language */
    char *test_code;          /* self-test program */
    char *test_stdout;        /* its exact expected stdout */
    char *version;            /* filled by the probe; NULL until then (runtime_version) */
    char *path;               /* the file it came from */
    bool hidden;              /* not served now (runtime_show) */
} runtime;

typedef struct runtime_set {
    runtime **items; /* sorted by name */
    size_t n;
} runtime_set;

/* Reads a JSON limits object (positive integers; _ms, _mb, counts, bytes)
 * into the fields it names. A request may set wall_ms, cpu_ms, memory_mb,
 * processes and output_bytes; a runtime file (all_keys) also file_mb,
 * tmpfs_mb and open_files. -1 with the reason in why. */
int runtime_limits_parse(json_t *j, bool all_keys, box_limits *l, char *why, size_t whylen);

/* Parses one definition from JSON text; origin names it in messages.
 * Returns 0, or -1 with a reason in err. */
int runtime_parse(const char *text, size_t len, const char *origin, runtime **out, char *err,
                  size_t errlen);

/* Reads the content of rt's session files that name a "from" path, relative
 * to the directory dirfd (runtime_set_load does it). Returns 0, or -1 with err. */
int runtime_load_session_files(runtime *rt, int dirfd, char *err, size_t errlen);

/* Loads every *.json in dir (names and aliases must be unique across files).
 * only, when non-NULL, is a comma-separated list of names to keep.
 * Returns 0, or -1 with a reason in err. */
int runtime_set_load(const char *dir, const char *only, runtime_set **out, char *err,
                     size_t errlen);

/* Adds rt to the set (taking ownership) keeping it sorted; -1 when its name
 * or an alias is taken (err says which) or on ENOMEM. */
int runtime_set_add(runtime_set *s, runtime *rt, char *err, size_t errlen);

/* Removes and frees every runtime for which keep(rt) is false. */
void runtime_set_filter(runtime_set *s, bool (*keep)(const runtime *rt));

/* Whether rt is served now: a repl-api hides the languages no executor
 * reports; hidden ones are left out of runtime_set_names and the API's
 * listings, and a request naming one is told it is unknown. Any thread. */
bool runtime_served(const runtime *rt);

/* Serves or hides rt (runtime_served); any thread. */
void runtime_show(runtime *rt, bool served);

/* rt's version, or NULL while it is unknown; any thread. */
const char *runtime_version(const runtime *rt);

/* Records version as rt's when it has none yet (a copy, kept until rt is
 * freed: a version once seen never changes, so readers need no lock); the
 * first writer wins. 0, or -1 on ENOMEM. */
int runtime_note_version(runtime *rt, const char *version);

/* How many runtimes of s are served now. */
size_t runtime_set_served(const runtime_set *s);

/* Returns the runtime named name or having it as alias (ASCII case-insensitive), or NULL. */
const runtime *runtime_find(const runtime_set *s, const char *name);

/* Returns the runtime an image reference names ("python:3.11-slim",
 * "docker.io/library/node:20", "golang@sha256:..."), by name, alias or its
 * exact "image", or NULL. */
const runtime *runtime_find_image(const runtime_set *s, const char *image);

/* Writes "bash, c, cpp, ..." (the served ones' names, comma-separated) into buf. */
void runtime_set_names(const runtime_set *s, char *buf, size_t len);

/* Returns a NULL-terminated array: every entry of base followed by each
 * runtime's etc entries not already present. The strings are borrowed from
 * base and the runtimes; free only the array. NULL on ENOMEM. */
const char **runtime_set_etc(const runtime_set *s, const char *const *base);

/* Expands an argv template (see the top of this file). Returns a new
 * NULL-terminated array, or NULL on ENOMEM. */
char **runtime_expand(const char *const *tmpl, const char *source, const char *const *args);

/* Picks the version out of a version command's output by rt's rule into
 * buf. Returns 0, or -1 when nothing is left to call a version. */
int runtime_pick_version(const runtime *rt, const char *out, size_t outlen, const char *err,
                         size_t errlen, char *buf, size_t buflen);

/* Returns true when version (as asked in a request) matches rt's version:
 * equal, or a prefix of it ending at a '.', '-' or '+' boundary ("3.11" matches "3.11.2"). */
bool runtime_version_matches(const runtime *rt, const char *version);

/* Frees one definition (NULL is fine). */
void runtime_free(runtime *rt);

/* Frees a set and every runtime in it (NULL is fine). */
void runtime_set_free(runtime_set *s);

#endif
