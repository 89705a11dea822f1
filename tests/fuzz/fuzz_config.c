/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for loading the agent's configuration from text:
 * plume_config_load_text on arbitrary bytes (an exactly-sized heap copy, no
 * NUL after it) must return true, or false with an error message that starts
 * with the given name; it must never crash, and the result must always be
 * freeable. An accepted config is also printed (to /dev/null), which walks
 * every option. The AXIOM_* environment overrides are removed first so that
 * runs do not depend on the environment. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define NAME "fuzz.toml"

static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    static const char *const vars[] = {"AXIOM_TOKEN", "AXIOM_DATASET", "AXIOM_URL",
                                       "AXIOM_ORG_ID", "PLUME_DATA_DIR"};
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        unsetenv(vars[i]);
    devnull = fopen("/dev/null", "w");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1);
    if (!text)
        return 0;
    if (size)
        memcpy(text, data, size);
    plume_config_t cfg;
    char err[1024];
    memset(err, 0x55, sizeof(err));
    bool ok = plume_config_load_text(&cfg, NAME, text, size, err, sizeof(err));
    if (ok) {
        if (!cfg.source_name || strcmp(cfg.source_name, NAME) != 0 || !cfg.agent.data_dir)
            abort();
        if (devnull)
            plume_config_print(&cfg, devnull);
    } else {
        if (!memchr(err, '\0', sizeof(err)) || strncmp(err, NAME, strlen(NAME)) != 0)
            abort();
    }
    plume_config_free(&cfg);
    free(text);
    return 0;
}
