/* test_registry.c — the registry's memory store keeps the contract the etcd
 * store keeps (register, list, keepalive with metadata, expiry, deregister,
 * bounds), and etcd prefix ranges end where they must. The etcd store is
 * exercised against a real etcd by tests/cluster/test_cluster.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "etcd/etcd.h"
#include "registry/registry.h"

static json_t *instance(const char *name, const char *id, int port)
{
    json_t *j = json_pack("{s:s, s:s, s:i, s:{s:i}}", "name", name, "address", "10.0.0.1", "port",
                          port, "metadata", "slots", 2);
    if (id)
        json_object_set_new(j, "id", json_string(id));
    return j;
}

static void registered_instances_are_listed_by_name(void **state)
{
    (void)state;
    registry_store *s = registry_store_memory(15);
    char id[REGISTRY_MAX_ID + 1], err[256];
    int64_t l1, l2, l3;
    json_t *a = instance("container-api", "b", 3001), *b = instance("container-api", "a", 3002),
           *c = instance("other", NULL, 80);
    assert_int_equal(registry_register(s, a, id, &l1, err, sizeof err), 0);
    assert_string_equal(id, "b");
    assert_int_equal(registry_register(s, b, id, &l2, err, sizeof err), 0);
    assert_int_equal(registry_register(s, c, id, &l3, err, sizeof err), 0);
    assert_true(strncmp(id, "other-", 6) == 0); /* an id is made when none is given */
    assert_true(l1 != l2 && l2 != l3);
    json_t *list = registry_list(s, "container-api", err, sizeof err);
    assert_int_equal(json_array_size(list), 2);
    json_t *first = json_array_get(list, 0);
    assert_string_equal(json_string_value(json_object_get(first, "id")), "a"); /* key order */
    assert_string_equal(json_string_value(json_object_get(first, "url")), "http://10.0.0.1:3002");
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(first, "metadata"), "slots")), 2);
    json_decref(list);
    list = registry_list(s, NULL, err, sizeof err);
    assert_int_equal(json_array_size(list), 3);
    json_decref(list);
    json_decref(a);
    json_decref(b);
    json_decref(c);
    registry_store_free(s);
}

static void keepalive_refreshes_and_replaces_metadata(void **state)
{
    (void)state;
    registry_store *s = registry_store_memory(4);
    char id[REGISTRY_MAX_ID + 1], err[256];
    int64_t lease;
    json_t *a = instance("svc", "n1", 1);
    assert_int_equal(registry_register(s, a, id, &lease, err, sizeof err), 0);
    json_t *meta = json_pack("{s:i}", "queued", 7);
    /* TTL 4 s; every check keeps at least 1 s from an expiry either way. */
    struct timespec t = {.tv_sec = 2, .tv_nsec = 500000000};
    nanosleep(&t, NULL);
    assert_int_equal(registry_keepalive(s, lease, "svc", "n1", meta, err, sizeof err), 0);
    nanosleep(&t, NULL); /* 5 s after register, 2.5 s after the keepalive: alive */
    json_t *list = registry_list(s, "svc", err, sizeof err);
    assert_int_equal(json_array_size(list), 1);
    json_t *m = json_object_get(json_array_get(list, 0), "metadata");
    assert_int_equal(json_integer_value(json_object_get(m, "queued")), 7);
    json_decref(list);
    t.tv_sec = 3;
    t.tv_nsec = 0;
    nanosleep(&t, NULL); /* 5.5 s after the keepalive: gone */
    list = registry_list(s, "svc", err, sizeof err);
    assert_int_equal(json_array_size(list), 0);
    json_decref(list);
    assert_int_equal(registry_keepalive(s, lease, NULL, NULL, NULL, err, sizeof err),
                     REGISTRY_NOT_FOUND);
    json_decref(meta);
    json_decref(a);
    registry_store_free(s);
}

static void deregister_by_lease_or_by_name_and_id(void **state)
{
    (void)state;
    registry_store *s = registry_store_memory(15);
    char id[REGISTRY_MAX_ID + 1], err[256];
    int64_t l1, l2;
    json_t *a = instance("svc", "n1", 1), *b = instance("svc", "n2", 2);
    registry_register(s, a, id, &l1, err, sizeof err);
    registry_register(s, b, id, &l2, err, sizeof err);
    assert_int_equal(registry_deregister(s, l1, NULL, NULL, err, sizeof err), 0);
    assert_int_equal(registry_deregister(s, 0, "svc", "n2", err, sizeof err), 0);
    assert_int_equal(registry_deregister(s, l1, NULL, NULL, err, sizeof err), REGISTRY_NOT_FOUND);
    assert_int_equal(registry_deregister(s, 0, NULL, NULL, err, sizeof err), REGISTRY_INVALID);
    json_t *list = registry_list(s, NULL, err, sizeof err);
    assert_int_equal(json_array_size(list), 0);
    json_decref(list);
    json_decref(a);
    json_decref(b);
    registry_store_free(s);
}

static void bad_instances_are_refused(void **state)
{
    (void)state;
    registry_store *s = registry_store_memory(15);
    char id[REGISTRY_MAX_ID + 1], err[256];
    int64_t lease;
    static const char *const bad[] = {
        "[]",
        "{\"address\": \"a\", \"port\": 1}",
        "{\"name\": \"../etc\", \"address\": \"a\", \"port\": 1}",
        "{\"name\": \"a/b\", \"address\": \"a\", \"port\": 1}",
        "{\"name\": \"x\", \"address\": \"a/b\", \"port\": 1}",
        "{\"name\": \"x\", \"address\": \"a\", \"port\": 0}",
        "{\"name\": \"x\", \"address\": \"a\", \"port\": 65536}",
        "{\"name\": \"x\", \"address\": \"a\", \"port\": 1, \"id\": \"a b\"}",
        "{\"name\": \"x\", \"address\": \"a\", \"port\": 1, \"ttl\": 1}",
        "{\"name\": \"x\", \"address\": \"a\", \"port\": 1, \"ttl\": 3601}",
        "{\"name\": \"x\", \"address\": \"a\", \"port\": 1, \"metadata\": 3}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        json_error_t je;
        json_t *j = json_loads(bad[i], 0, &je);
        assert_int_equal(registry_register(s, j, id, &lease, err, sizeof err), REGISTRY_INVALID);
        json_decref(j);
    }
    /* An instance past the size bound. */
    json_t *big = instance("x", NULL, 1);
    char *pad = malloc(REGISTRY_MAX_INSTANCE_BYTES + 1);
    memset(pad, 'a', REGISTRY_MAX_INSTANCE_BYTES);
    pad[REGISTRY_MAX_INSTANCE_BYTES] = '\0';
    json_object_set_new(json_object_get(big, "metadata"), "pad", json_string(pad));
    assert_int_equal(registry_register(s, big, id, &lease, err, sizeof err), REGISTRY_INVALID);
    free(pad);
    json_decref(big);
    registry_store_free(s);
}

static void the_memory_store_holds_a_bounded_number_of_instances(void **state)
{
    (void)state;
    registry_store *s = registry_store_memory(60);
    char id[REGISTRY_MAX_ID + 1], err[256];
    int64_t lease;
    json_t *a = instance("svc", NULL, 1);
    for (int i = 0; i < REGISTRY_MAX_INSTANCES; i++)
        assert_int_equal(registry_register(s, a, id, &lease, err, sizeof err), 0);
    assert_int_equal(registry_register(s, a, id, &lease, err, sizeof err), REGISTRY_FULL);
    /* Re-registering an id it holds replaces it: still allowed (a refused
     * call leaves id_out alone, so id is the last one registered). */
    json_object_set_new(a, "id", json_string(id));
    assert_int_equal(registry_register(s, a, id, &lease, err, sizeof err), 0);
    json_decref(a);
    registry_store_free(s);
}

static void prefix_ranges_end_after_the_last_key_with_the_prefix(void **state)
{
    (void)state;
    char end[16];
    assert_int_equal(etcd_prefix_end("/services/", 10, end), 10);
    assert_string_equal(end, "/services0");
    assert_int_equal(etcd_prefix_end("a\xff", 2, end), 1);
    assert_string_equal(end, "b");
    assert_int_equal(etcd_prefix_end("\xff\xff", 2, end), 1);
    assert_int_equal(end[0], '\0');
}

static void an_unreachable_etcd_is_an_error_not_a_hang(void **state)
{
    (void)state;
    registry_store *s;
    char err[256], id[REGISTRY_MAX_ID + 1];
    /* Port 9 (discard) on loopback: nothing listens, connect is refused. */
    assert_int_equal(
        registry_store_etcd("127.0.0.1:9, http://127.0.0.1:9/", 15, &s, err, sizeof err), 0);
    assert_string_equal(registry_store_kind(s), "etcd");
    json_t *a = instance("x", NULL, 1);
    int64_t lease;
    assert_int_equal(registry_register(s, a, id, &lease, err, sizeof err), REGISTRY_UNAVAILABLE);
    assert_non_null(strstr(err, "127.0.0.1:9"));
    assert_null(registry_list(s, NULL, err, sizeof err));
    json_decref(a);
    registry_store_free(s);
    assert_int_equal(registry_store_etcd(" , ", 15, &s, err, sizeof err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(registered_instances_are_listed_by_name),
        cmocka_unit_test(keepalive_refreshes_and_replaces_metadata),
        cmocka_unit_test(deregister_by_lease_or_by_name_and_id),
        cmocka_unit_test(bad_instances_are_refused),
        cmocka_unit_test(the_memory_store_holds_a_bounded_number_of_instances),
        cmocka_unit_test(prefix_ranges_end_after_the_last_key_with_the_prefix),
        cmocka_unit_test(an_unreachable_etcd_is_an_error_not_a_hang),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
