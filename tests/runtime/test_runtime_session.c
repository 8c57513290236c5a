/* test_runtime_session.c — the "session" key of a language definition:
 * what it may say, files read from beside the definitions (never from
 * outside them), and that the shipped python, node, ruby and php name a driver
 * that is loaded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/runtime.h"

#define BASE                                                                                       \
    "{\"name\": \"toy\", \"source\": \"main.t\", \"run\": [\"/usr/bin/toy\", \"{source}\"],"       \
    " \"version\": {\"command\": [\"/usr/bin/toy\", \"-v\"]},"                                     \
    " \"test\": {\"code\": \"x\", \"stdout\": \"42\\n\"}"

static int parse(const char *text, runtime **rt, char *err, size_t errlen)
{
    return runtime_parse(text, strlen(text), "toy.json", rt, err, errlen);
}

static void a_session_names_argv_and_files(void **state)
{
    (void)state;
    runtime *rt = NULL;
    char err[256] = "";
    const char *text = BASE ", \"session\": {\"run\": [\"/usr/bin/toy\", \"{workdir}/.xxx/d.t\"],"
                            " \"files\": [{\"name\": \".xxx/d.t\", \"from\": \"drivers/toy.t\"},"
                            " {\"name\": \"inline.t\", \"content\": \"abc\"}]}}";
    assert_int_equal(parse(text, &rt, err, sizeof err), 0);
    assert_non_null(rt->session);
    assert_string_equal(rt->session->run[1], "{workdir}/.xxx/d.t");
    assert_int_equal(rt->session->nfiles, 2);
    assert_string_equal(rt->session->files[0].from, "drivers/toy.t");
    assert_null(rt->session->files[0].content); /* read by runtime_load_session_files */
    assert_string_equal(rt->session->files[1].content, "abc");
    assert_false(rt->session->live_stdin);
    runtime_free(rt);

    assert_int_equal(parse(BASE "}", &rt, err, sizeof err), 0);
    assert_null(rt->session);
    runtime_free(rt);
}

static void bad_sessions_are_refused(void **state)
{
    (void)state;
    static const struct {
        const char *session, *why;
    } bad[] = {
        {"[]", "must be an object"},
        {"{}", "session.run"},
        {"{\"run\": []}", "must not be empty"},
        {"{\"run\": [\"/x\", \"{nope}\"]}", "unknown placeholder"},
        {"{\"run\": [\"/x\"], \"extra\": 1}", "session.extra"},
        {"{\"run\": [\"/x\"], \"live_stdin\": 1}", "true or false"},
        {"{\"run\": [\"/x\"], \"files\": {}}", "must be an array"},
        {"{\"run\": [\"/x\"], \"files\": [{\"name\": \"../d\", \"content\": \"\"}]}", "relative"},
        {"{\"run\": [\"/x\"], \"files\": [{\"name\": \"d\", \"from\": \"/etc/shadow\"}]}",
         "relative"},
        {"{\"run\": [\"/x\"], \"files\": [{\"name\": \"d\", \"from\": \"../../etc/shadow\"}]}",
         "relative"},
        {"{\"run\": [\"/x\"], \"files\": [{\"name\": \"d\"}]}", "either"},
        {"{\"run\": [\"/x\"], \"files\": [{\"name\": \"d\", \"from\": \"a\", \"content\": \"b\"}]}",
         "either"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[1024];
        snprintf(text, sizeof text, BASE ", \"session\": %s}", bad[i].session);
        runtime *rt = NULL;
        char err[256] = "";
        assert_int_equal(parse(text, &rt, err, sizeof err), -1);
        if (!strstr(err, bad[i].why))
            fprintf(stderr, "%s: \"%s\" lacks \"%s\"\n", bad[i].session, err, bad[i].why);
        assert_non_null(strstr(err, bad[i].why));
    }
}

static void files_come_from_beside_the_definitions(void **state)
{
    (void)state;
    char dir[] = "/tmp/xxx-rt-session.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/toy.json", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(BASE ", \"session\": {\"run\": [\"/x\"], \"files\": [{\"name\": \"d.t\", \"from\": "
               "\"drivers/toy.t\"}]}}",
          f);
    fclose(f);
    runtime_set *s = NULL;
    char err[512] = "";
    assert_int_equal(runtime_set_load(dir, NULL, &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "drivers/toy.t"));

    snprintf(path, sizeof path, "%s/drivers", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/drivers/toy.t", dir);
    f = fopen(path, "w");
    fputs("driver text", f);
    fclose(f);
    assert_int_equal(runtime_set_load(dir, NULL, &s, err, sizeof err), 0);
    const runtime *rt = runtime_find(s, "toy");
    assert_int_equal(rt->session->files[0].len, strlen("driver text"));
    assert_string_equal(rt->session->files[0].content, "driver text");
    runtime_set_free(s);

    /* A symlink as the driver is refused (the definitions' own tree only). */
    unlink(path);
    assert_int_equal(symlink("/etc/hostname", path), 0);
    assert_int_equal(runtime_set_load(dir, NULL, &s, err, sizeof err), -1);
    unlink(path);
    snprintf(path, sizeof path, "%s/drivers", dir);
    rmdir(path);
    snprintf(path, sizeof path, "%s/toy.json", dir);
    unlink(path);
    rmdir(dir);
}

static void shipped_session_languages_load_their_drivers(void **state)
{
    (void)state;
    runtime_set *s = NULL;
    char err[512] = "";
    assert_int_equal(runtime_set_load("runtimes", NULL, &s, err, sizeof err), 0);
    static const char *const with[] = {"python", "node", "ruby", "php"};
    for (size_t i = 0; i < 4; i++) {
        const runtime *rt = runtime_find(s, with[i]);
        assert_non_null(rt);
        assert_non_null(rt->session);
        assert_true(rt->session->nfiles >= 1);
        assert_non_null(rt->session->files[0].content);
        assert_true(rt->session->files[0].len > 100);
        /* The driver speaks on fd 3, named in its text. */
        assert_non_null(strstr(rt->session->files[0].content, "3"));
        /* Live stdin for session cells: the threaded drivers only. */
        assert_int_equal(rt->session->live_stdin, i == 0 || i == 2);
    }
    assert_null(runtime_find(s, "bash")->session);
    runtime_set_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_session_names_argv_and_files),
        cmocka_unit_test(bad_sessions_are_refused),
        cmocka_unit_test(files_come_from_beside_the_definitions),
        cmocka_unit_test(shipped_session_languages_load_their_drivers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
