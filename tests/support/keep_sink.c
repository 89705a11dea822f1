/* SPDX-License-Identifier: MIT */
/* A sink that keeps every event, for tests. See keep_sink.h. */
#include "test_support.h"
#include <cmocka.h>

#include "keep_sink.h"

static void keep_submit(plume_sink_t *s, const plume_event_view_t *ev)
{
    plume_keep_sink_t *k = (plume_keep_sink_t *)s;
    assert_true(k->n < PLUME_KEEP_SINK_MAX);
    k->view[k->n] = *ev;
    plume_buf_init(&k->copy[k->n], 0);
    assert_true(plume_event_write(&k->copy[k->n], ev));
    k->n++;
}

static void keep_flush(plume_sink_t *s) { (void)s; }
static bool keep_idle(const plume_sink_t *s) { (void)s; return true; }
static bool keep_stopped(const plume_sink_t *s) { (void)s; return false; }
static uint64_t keep_pending(const plume_sink_t *s) { (void)s; return 0; }
static void keep_free(plume_sink_t *s) { plume_keep_sink_clear((plume_keep_sink_t *)s); }

static const plume_sink_ops_t keep_ops = {keep_submit,  keep_flush, keep_idle, keep_stopped,
                                          keep_pending, keep_free,  NULL};

void plume_keep_sink_init(plume_keep_sink_t *k)
{
    k->base.name = "keep";
    k->base.ops = &keep_ops;
    k->n = 0;
}

void plume_keep_sink_clear(plume_keep_sink_t *k)
{
    for (size_t i = 0; i < k->n; i++)
        plume_buf_free(&k->copy[i]);
    k->n = 0;
}

void plume_keep_sink_event(const plume_keep_sink_t *k, size_t i, plume_event_view_t *v)
{
    assert_true(i < k->n);
    assert_true(plume_event_view(k->copy[i].data, k->copy[i].len, v));
}

bool plume_test_mp_find(plume_mp_reader_t *r, const char *key)
{
    plume_mp_value_t m, k;
    if (!plume_mp_read(r, &m) || m.type != PLUME_MP_MAP)
        return false;
    for (uint32_t i = 0; i < m.count; i++) {
        if (!plume_mp_read(r, &k))
            return false;
        if (plume_mp_str_eq(&k, key))
            return true;
        if (!plume_mp_skip(r))
            return false;
    }
    return false;
}
