/* SPDX-License-Identifier: MIT */
/* Exit summary of the agent's counters. See metrics.h. */
#include "metrics.h"

void plume_metrics_print_summary(const plume_metrics_t *m, uint64_t pending, FILE *out)
{
    fprintf(out,
            "plume-agent: summary received=%llu parsed=%llu parse_errors=%llu truncated=%llu "
            "invalid_utf8=%llu batches=%llu delivered=%llu retries=%llu requests=%llu "
            "rejected_by_sink=%llu dropped_outbox_full=%llu dropped_failed=%llu "
            "dropped_corrupt=%llu dropped_encode=%llu dropped_rate_limited=%llu pending=%llu\n",
            (unsigned long long)m->received, (unsigned long long)m->parsed,
            (unsigned long long)m->parse_errors, (unsigned long long)m->truncated,
            (unsigned long long)m->invalid_utf8, (unsigned long long)m->batches,
            (unsigned long long)m->delivered, (unsigned long long)m->retries,
            (unsigned long long)m->requests, (unsigned long long)m->rejected_by_sink,
            (unsigned long long)m->dropped_outbox_full, (unsigned long long)m->dropped_failed,
            (unsigned long long)m->dropped_corrupt, (unsigned long long)m->dropped_encode,
            (unsigned long long)m->dropped_rate_limited, (unsigned long long)pending);
    fflush(out);
}
