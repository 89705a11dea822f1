# SPDX-License-Identifier: MIT
# Turns a text file (IN) into a C source (OUT) defining
# `const char plume_default_config[]` and its length.
file(READ ${IN} content HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${content}")
file(WRITE ${OUT} "/* Generated from agent.toml; do not edit. */\n#include <stddef.h>\n"
     "const char plume_default_config[] = {${bytes} 0x00};\n"
     "const size_t plume_default_config_len = sizeof(plume_default_config) - 1;\n")
