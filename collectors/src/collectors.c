/* SPDX-License-Identifier: MIT */
/* placeholder so the library has a source */
int plume__collectors_placeholder;
