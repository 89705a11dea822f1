/* SPDX-License-Identifier: MIT */
/* plume-agent: command-line entry point. Parses arguments, loads the config,
 * then either prints it (--check-config) or runs the agent (agent_run.c).
 * Exit codes: 0 ok, 1 undelivered data or a stopped sink, 2 usage/config error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_run.h"
#include "agentlog.h"
#include "config.h"

static void usage(FILE *out)
{
    fputs("Usage: plume-agent [--config FILE] [--stdin] [--check-config]\n"
          "\n"
          "Ships logs to Axiom (and soon errors to Sentry): batched, compressed, kept in an\n"
          "on-disk outbox until delivered.\n"
          "\n"
          "  -c, --config FILE   configuration file (default: the built-in one, identical\n"
          "                      to the agent.toml shipped with Plume)\n"
          "      --stdin         read events from standard input ([sources.stdin])\n"
          "      --check-config  validate the configuration, print the effective settings\n"
          "                      (secrets masked) and exit\n"
          "  -V, --version       print the version and exit\n"
          "  -h, --help          print this help and exit\n"
          "\n"
          "Environment: AXIOM_TOKEN, AXIOM_DATASET and AXIOM_URL override [sinks.axiom];\n"
          "${NAME} in config strings expands from the environment.\n"
          "Exit status: 0 all delivered, 1 something undelivered, 2 usage or config error.\n",
          out);
}

int main(int argc, char **argv)
{
    const char *config_path = NULL;
    bool force_stdin = false, check = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--config") == 0 || strcmp(arg, "-c") == 0) {
            if (++i == argc) {
                fprintf(stderr, "plume-agent: %s needs a file name\n", arg);
                return 2;
            }
            config_path = argv[i];
        } else if (strncmp(arg, "--config=", 9) == 0) {
            config_path = arg + 9;
        } else if (strcmp(arg, "--stdin") == 0) {
            force_stdin = true;
        } else if (strcmp(arg, "--check-config") == 0) {
            check = true;
        } else if (strcmp(arg, "--version") == 0 || strcmp(arg, "-V") == 0) {
            printf("plume-agent %s\n", PLUME_VERSION);
            return 0;
        } else if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "plume-agent: unknown argument '%s'\n", arg);
            usage(stderr);
            return 2;
        }
    }

    plume_config_t cfg;
    char err[1024];
    if (!plume_config_load(&cfg, config_path, err, sizeof(err))) {
        fprintf(stderr, "%s\n", err);
        plume_config_free(&cfg);
        return 2;
    }
    if (force_stdin)
        cfg.stdin_source.enabled = true;
    if (check) {
        plume_config_print(&cfg, stdout);
        printf("\n# configuration OK\n");
        plume_config_free(&cfg);
        return 0;
    }
    plume_agentlog_set_level(cfg.agent.log_level);
    PLOG_INFO("plume-agent %s starting (config: %s)", PLUME_VERSION, cfg.source_name);
    int code = plume_agent_run(&cfg);
    plume_config_free(&cfg);
    return code;
}
