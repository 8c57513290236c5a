/* cluster.h — the cluster roles of xxxd (README "Running as a cluster"). */
#ifndef XXX_CLUSTER_H
#define XXX_CLUSTER_H

/* `xxxd service-registry`: the registry on port 3003, on etcd or in memory. */
int registry_role_main(int argc, char **argv);

/* `xxxd container-api`: the all-in-one server on port 3001 that registers
 * itself, reports its load in keepalives and deregisters on shutdown. */
int container_api_main(int argc, char **argv);

/* `xxxd repl-api`: the public API on port 3002, forwarding runs to executors. */
int repl_api_main(int argc, char **argv);

#endif
