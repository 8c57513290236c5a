/* test_runtime.c — language definitions: what a file may say, how argv
 * templates expand (never through a shell), how versions are picked, how
 * images map to runtimes, and that every shipped definition loads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strv.h"
#include "runtime/runtime.h"

static const char minimal[] = "{\"name\": \"toy\", \"aliases\": [\"t\"], \"source\": \"main.t\","
                              " \"run\": [\"/usr/bin/toy\", \"{source}\", \"{args}\"],"
                              " \"env\": {\"PATH\": \"/usr/bin\", \"HOME\": \"/home/box\"},"
                              " \"version\": {\"command\": [\"/usr/bin/toy\", \"-v\"]},"
                              " \"test\": {\"code\": \"x\", \"stdout\": \"42\\n\"}}";

static runtime *parse_ok(const char *text)
{
    runtime *rt = NULL;
    char err[256] = "";
    int rc = runtime_parse(text, strlen(text), "test.json", &rt, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "unexpected: %s\n", err);
    assert_int_equal(rc, 0);
    return rt;
}

/* Parses text, expects refusal, and checks the reason mentions `why`. */
static void parse_fails(const char *text, const char *why)
{
    runtime *rt = NULL;
    char err[256] = "";
    assert_int_equal(runtime_parse(text, strlen(text), "test.json", &rt, err, sizeof err), -1);
    assert_null(rt);
    if (!strstr(err, why))
        fprintf(stderr, "reason \"%s\" lacks \"%s\"\n", err, why);
    assert_non_null(strstr(err, why));
}

static void minimal_definition_parses_with_sorted_env(void **state)
{
    (void)state;
    runtime *rt = parse_ok(minimal);
    assert_string_equal(rt->name, "toy");
    assert_string_equal(rt->aliases[0], "t");
    assert_null(rt->compile);
    assert_string_equal(rt->env[0], "HOME=/home/box");
    assert_string_equal(rt->env[1], "PATH=/usr/bin");
    assert_null(rt->env[2]);
    assert_int_equal(rt->version_rule.field, -1);
    assert_string_equal(rt->test_stdout, "42\n");
    runtime_free(rt);
}

static void bad_definitions_are_refused_with_a_reason(void **state)
{
    (void)state;
    parse_fails("[1]", "JSON object");
    parse_fails("{", "test.json:");
    parse_fails("{\"name\": \"x\", \"source\": \"a\", \"bogus\": 1}", "unknown key \"bogus\"");
    parse_fails("{\"name\": \"Bad Name\", \"source\": \"a\", \"run\": [\"/x\"], \"version\": "
                "{\"command\": [\"/x\"]}, \"test\": {\"code\": \"\", \"stdout\": \"\"}}",
                "name");
    parse_fails("{\"name\": \"x\", \"source\": \"../a\", \"run\": [\"/x\"], \"version\": "
                "{\"command\": [\"/x\"]}, \"test\": {\"code\": \"\", \"stdout\": \"\"}}",
                "plain file name");
    parse_fails("{\"name\": \"x\", \"source\": \"a\", \"run\": [\"/x\", \"{sauce}\"], \"version\": "
                "{\"command\": [\"/x\"]}, \"test\": {\"code\": \"\", \"stdout\": \"\"}}",
                "unknown placeholder");
    parse_fails("{\"name\": \"x\", \"source\": \"a\", \"run\": [], \"version\": "
                "{\"command\": [\"/x\"]}, \"test\": {\"code\": \"\", \"stdout\": \"\"}}",
                "must not be empty");
    parse_fails(
        "{\"name\": \"x\", \"source\": \"a\", \"run\": [\"/x\"], \"etc\": [\"/etc/php\"],"
        " \"version\": {\"command\": [\"/x\"]}, \"test\": {\"code\": \"\", \"stdout\": \"\"}}",
        "plain name under /etc");
    parse_fails(
        "{\"name\": \"x\", \"source\": \"a\", \"run\": [\"/x\"], \"limits\": {\"run\":"
        " {\"wall_ms\": -1}}, \"version\": {\"command\": [\"/x\"]}, \"test\": {\"code\": \"\","
        " \"stdout\": \"\"}}",
        "positive integer");
    parse_fails("{\"name\": \"x\", \"source\": \"a\", \"run\": [\"/x\"], \"version\": "
                "{\"command\": [\"/x\"]}}",
                "\"test\"");
}

static void args_spread_and_placeholders_expand_per_element(void **state)
{
    (void)state;
    const char *const tmpl[] = {"/usr/bin/toy", "--in={source}", "{workdir}/out",
                                "{args}",       "end",           NULL};
    const char *const args[] = {"a b", "; rm -rf /", "$(x)", NULL};
    char **v = runtime_expand(tmpl, "main.t", args);
    assert_non_null(v);
    assert_int_equal(strv_len((const char *const *)v), 7);
    assert_string_equal(v[1], "--in=main.t");
    assert_string_equal(v[2], "/box/out");
    assert_string_equal(v[3], "a b"); /* one element each: no shell splits or expands them */
    assert_string_equal(v[4], "; rm -rf /");
    assert_string_equal(v[5], "$(x)");
    assert_string_equal(v[6], "end");
    strv_free(v);
    v = runtime_expand(tmpl, "main.t", NULL);
    assert_int_equal(strv_len((const char *const *)v), 4); /* no args: {args} vanishes */
    strv_free(v);
}

static runtime *with_rule(int field, const char *prefix, const char *trim)
{
    runtime *rt = parse_ok(minimal);
    rt->version_rule.field = field;
    rt->version_rule.prefix = prefix ? strdup(prefix) : NULL;
    rt->version_rule.trim = trim ? strdup(trim) : NULL;
    return rt;
}

static void versions_are_picked_without_regexes(void **state)
{
    (void)state;
    char v[64];
    runtime *rt = with_rule(1, NULL, NULL);
    assert_int_equal(runtime_pick_version(rt, "Python 3.11.2\n", 14, "", 0, v, sizeof v), 0);
    assert_string_equal(v, "3.11.2");
    /* Empty stdout: stderr is read instead (java -version writes there). */
    assert_int_equal(runtime_pick_version(rt, "", 0, "\n  tool 9.1 extra\n", 18, v, sizeof v), 0);
    assert_string_equal(v, "9.1");
    runtime_free(rt);

    rt = with_rule(2, "go", NULL);
    const char *go = "go version go1.19.8 linux/amd64\n";
    assert_int_equal(runtime_pick_version(rt, go, strlen(go), NULL, 0, v, sizeof v), 0);
    assert_string_equal(v, "1.19.8");
    runtime_free(rt);

    rt = with_rule(-1, "v", NULL);
    assert_int_equal(runtime_pick_version(rt, "v20.1.0\n", 8, NULL, 0, v, sizeof v), 0);
    assert_string_equal(v, "20.1.0");
    runtime_free(rt);

    rt = with_rule(2, NULL, "\"");
    const char *java = "openjdk version \"17.0.15\" 2025-04-15\n";
    assert_int_equal(runtime_pick_version(rt, "", 0, java, strlen(java), v, sizeof v), 0);
    assert_string_equal(v, "17.0.15");
    /* Nothing at that field, or no output at all: no version. */
    assert_int_equal(runtime_pick_version(rt, "one\n", 4, NULL, 0, v, sizeof v), -1);
    assert_int_equal(runtime_pick_version(rt, "", 0, "", 0, v, sizeof v), -1);
    runtime_free(rt);
}

static runtime_set *toy_set(void)
{
    runtime_set *s = calloc(1, sizeof *s);
    char err[256];
    static const char *const defs[] = {
        "{\"name\": \"python\", \"aliases\": [\"py\"], \"source\": \"main.py\", \"run\": [\"/p\"],"
        " \"etc\": [\"python3\"], \"version\": {\"command\": [\"/p\"]}, \"test\": {\"code\": \"\", "
        "\"stdout\": \"\"}}",
        "{\"name\": \"go\", \"aliases\": [\"golang\"], \"source\": \"main.go\", \"run\": [\"/g\"],"
        " \"etc\": [\"ssl\", \"goconf\"], \"version\": {\"command\": [\"/g\"]}, \"test\": "
        "{\"code\": \"\", \"stdout\": \"\"}}",
    };
    for (size_t i = 0; i < 2; i++) {
        runtime *rt = parse_ok(defs[i]);
        assert_int_equal(runtime_set_add(s, rt, err, sizeof err), 0);
    }
    return s;
}

static void images_and_aliases_name_runtimes(void **state)
{
    (void)state;
    runtime_set *s = toy_set();
    assert_string_equal(runtime_find(s, "PY")->name, "python");
    assert_string_equal(runtime_find_image(s, "python:3.11-slim")->name, "python");
    assert_string_equal(runtime_find_image(s, "docker.io/library/python:3.12")->name, "python");
    assert_string_equal(runtime_find_image(s, "golang@sha256:abcd")->name, "go");
    assert_string_equal(runtime_find_image(s, "registry:5001/golang:1.22")->name, "go");
    assert_null(runtime_find(s, "cobol"));
    assert_null(runtime_find_image(s, "cobol:latest"));
    assert_null(runtime_find_image(s, ":latest"));
    char names[64];
    runtime_set_names(s, names, sizeof names);
    assert_string_equal(names, "go, python");
    runtime_set_free(s);
}

static void a_taken_name_or_alias_is_refused(void **state)
{
    (void)state;
    runtime_set *s = toy_set();
    char err[256];
    runtime *rt = parse_ok("{\"name\": \"snake\", \"aliases\": [\"py\"], \"source\": \"a\", "
                           "\"run\": [\"/s\"], \"version\": {\"command\": [\"/s\"]}, \"test\": "
                           "{\"code\": \"\", \"stdout\": \"\"}}");
    assert_int_equal(runtime_set_add(s, rt, err, sizeof err), -1);
    assert_non_null(strstr(err, "alias \"py\" is already taken"));
    runtime_free(rt);
    runtime_set_free(s);
}

static void etc_union_keeps_base_first_without_duplicates(void **state)
{
    (void)state;
    runtime_set *s = toy_set();
    const char *const base[] = {"ld.so.cache", "ssl", NULL};
    const char **u = runtime_set_etc(s, base);
    assert_string_equal(u[0], "ld.so.cache");
    assert_string_equal(u[1], "ssl");
    assert_string_equal(u[2], "goconf");
    assert_string_equal(u[3], "python3");
    assert_null(u[4]);
    free(u);
    runtime_set_free(s);
}

static void version_match_needs_a_component_boundary(void **state)
{
    (void)state;
    runtime *rt = parse_ok(minimal);
    rt->version = strdup("3.11.2");
    assert_true(runtime_version_matches(rt, "3.11.2"));
    assert_true(runtime_version_matches(rt, "3.11"));
    assert_true(runtime_version_matches(rt, "3"));
    assert_false(runtime_version_matches(rt, "3.1"));
    assert_false(runtime_version_matches(rt, "3.12"));
    assert_false(runtime_version_matches(rt, ""));
    runtime_free(rt);
}

static void every_shipped_definition_loads(void **state)
{
    (void)state;
    runtime_set *s = NULL;
    char err[512] = "";
    int rc = runtime_set_load("runtimes", NULL, &s, err, sizeof err);
    if (rc)
        fprintf(stderr, "%s\n", err);
    assert_int_equal(rc, 0);
    static const char *const want[] = {"python", "node", "ruby", "go",  "rust", "c",
                                       "cpp",    "bash", "perl", "php", "lua",  "java"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_non_null(runtime_find(s, want[i]));
    assert_string_equal(runtime_find(s, "javascript")->name, "node");
    assert_string_equal(runtime_find(s, "js")->name, "node");
    assert_non_null(runtime_find(s, "go")->compile);
    assert_null(runtime_find(s, "python")->compile);
    runtime_set_free(s);

    /* --languages keeps only the listed ones. */
    assert_int_equal(runtime_set_load("runtimes", "python,RUBY", &s, err, sizeof err), 0);
    assert_int_equal(s->n, 2);
    runtime_set_free(s);
    assert_int_equal(runtime_set_load("runtimes", "cobol", &s, err, sizeof err), -1);
    assert_int_equal(runtime_set_load("/nonexistent", NULL, &s, err, sizeof err), -1);
}

/* "image": the OCI image of the Podman backend; a plain reference, found exactly. */
static void an_image_names_the_runtime_for_podman(void **state)
{
    (void)state;
    runtime *rt = parse_ok("{\"name\": \"toy\", \"source\": \"main.t\","
                           " \"image\": \"localhost/xxx-toy:1\", \"run\": [\"/usr/bin/toy\"],"
                           " \"version\": {\"command\": [\"/usr/bin/toy\"]},"
                           " \"test\": {\"code\": \"x\", \"stdout\": \"x\"}}");
    assert_string_equal(rt->image, "localhost/xxx-toy:1");
    runtime_set *set = calloc(1, sizeof *set);
    char err[256];
    assert_int_equal(runtime_set_add(set, rt, err, sizeof err), 0);
    assert_ptr_equal(runtime_find_image(set, "localhost/xxx-toy:1"), rt);
    assert_null(runtime_find_image(set, "localhost/xxx-other:1"));
    runtime_set_free(set);
    runtime *plain = parse_ok(minimal);
    assert_null(plain->image);
    runtime_free(plain);
    parse_fails("{\"name\": \"toy\", \"source\": \"main.t\", \"image\": \"a b\","
                " \"run\": [\"/usr/bin/toy\"], \"version\": {\"command\": [\"/usr/bin/toy\"]},"
                " \"test\": {\"code\": \"x\", \"stdout\": \"x\"}}",
                "image");
    parse_fails("{\"name\": \"toy\", \"source\": \"main.t\", \"image\": 7,"
                " \"run\": [\"/usr/bin/toy\"], \"version\": {\"command\": [\"/usr/bin/toy\"]},"
                " \"test\": {\"code\": \"x\", \"stdout\": \"x\"}}",
                "image");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(minimal_definition_parses_with_sorted_env),
        cmocka_unit_test(bad_definitions_are_refused_with_a_reason),
        cmocka_unit_test(args_spread_and_placeholders_expand_per_element),
        cmocka_unit_test(versions_are_picked_without_regexes),
        cmocka_unit_test(images_and_aliases_name_runtimes),
        cmocka_unit_test(a_taken_name_or_alias_is_refused),
        cmocka_unit_test(etc_union_keeps_base_first_without_duplicates),
        cmocka_unit_test(version_match_needs_a_component_boundary),
        cmocka_unit_test(every_shipped_definition_loads),
        cmocka_unit_test(an_image_names_the_runtime_for_podman),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
