/* main.c — xxxd: the xxx server (default, or `serve`), its box tool (`box`)
 * and the cluster roles (`service-registry`, `container-api`, `repl-api`). */
#include "xxxd/box_cmd.h"
#include "xxxd/cluster.h"
#include "xxxd/serve.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "box") == 0)
        return box_cmd_main(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "service-registry") == 0)
        return registry_role_main(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "container-api") == 0)
        return container_api_main(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "repl-api") == 0)
        return repl_api_main(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "serve") == 0)
        return serve_main(argc - 1, argv + 1);
    return serve_main(argc, argv);
}
