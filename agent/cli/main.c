/* SPDX-License-Identifier: MIT */
/* plume-agent: placeholder main until the program lands. */
#include <stdio.h>
int main(void)
{
    puts("plume-agent " PLUME_VERSION);
    return 0;
}
