/* SPDX-License-Identifier: MIT */
/* The agent's main loop and shutdown sequence. See agent_run.h.
 *
 * States: running (reading inputs) -> draining (inputs closed, open batches
 * sealed, waiting for deliveries until the pipeline is idle, stuck on stopped
 * sinks, or the shutdown deadline) -> done. SIGTERM/SIGINT (via signalfd) move
 * from running to draining; a second one ends the drain at once, leaving what
 * is undelivered in the outbox for the next start. */
#include "agent_run.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agentlog.h"
#include "axiom_sink.h"
#include "sentry_sink.h"
#include "http.h"
#include "local_sinks.h"
#include "loop.h"
#include "metrics.h"
#include "pipeline.h"
#include "stdin_source.h"

typedef struct agent {
    const plume_config_t *cfg;
    plume_loop_t *loop;
    plume_http_t *http;
    plume_pipeline_t pipeline;
    plume_metrics_t metrics;
    plume_stdin_source_t *stdin_source;
    int signal_fd;
    int signals_seen;
    bool draining;
    bool abort_drain;
} agent_t;

static void start_drain(agent_t *a, const char *why)
{
    if (a->draining)
        return;
    a->draining = true;
    PLOG_INFO("%s: flushing and delivering (up to %.1fs)", why,
              (double)a->cfg->agent.shutdown_timeout_ms / 1000.0);
    if (a->stdin_source)
        plume_stdin_source_stop(a->stdin_source);
    plume_pipeline_flush(&a->pipeline);
}

static void on_event(void *arg, const plume_event_view_t *ev)
{
    agent_t *a = arg;
    plume_pipeline_submit_view(&a->pipeline, ev);
}

static bool may_read(void *arg)
{
    agent_t *a = arg;
    return plume_pipeline_can_accept(&a->pipeline);
}

static void on_stdin_eof(void *arg)
{
    start_drain(arg, "end of input");
}

static void on_signal(plume_loop_t *l, int fd, unsigned events, void *arg)
{
    (void)l;
    (void)events;
    agent_t *a = arg;
    struct signalfd_siginfo si;
    while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        a->signals_seen++;
        if (a->signals_seen == 1) {
            start_drain(a, strsignal((int)si.ssi_signo));
        } else {
            PLOG_WARN("second signal: exiting now; undelivered batches stay in the outbox");
            a->abort_drain = true;
        }
    }
}

static bool make_dirs(const char *path)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
        return false;
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
                return false;
            *p = '/';
        }
    }
    return mkdir(tmp, 0700) == 0 || errno == EEXIST;
}

static bool build_sinks(agent_t *a)
{
    const plume_config_t *cfg = a->cfg;
    char err[512];
    bool remote = false;
    bool axiom = plume_config_axiom_active(cfg), sentry = plume_config_sentry_active(cfg);
    if ((axiom || sentry) && !make_dirs(cfg->agent.data_dir)) {
        PLOG_ERROR("cannot create data_dir %s: %s", cfg->agent.data_dir, strerror(errno));
        return false;
    }
    a->pipeline.error_level = (plume_level_t)cfg->routing.sentry_min_level;
    /* Routing (agent.toml [routing]): without Sentry, Axiom gets everything. */
    unsigned axiom_routes = PLUME_ROUTE_LOGS;
    if (!sentry || cfg->routing.errors_to_axiom)
        axiom_routes |= PLUME_ROUTE_ERRORS;
    unsigned sentry_routes = PLUME_ROUTE_ERRORS;
    if (cfg->routing.logs_to_sentry)
        sentry_routes |= PLUME_ROUTE_LOGS;
    if (axiom) {
        plume_sink_t *s = plume_axiom_sink_new(a->loop, a->http, &cfg->axiom, cfg->agent.data_dir,
                                               cfg->agent.max_memory, &a->metrics, err, sizeof(err));
        if (!s) {
            PLOG_ERROR("%s", err);
            return false;
        }
        plume_pipeline_add_sink_routed(&a->pipeline, s, axiom_routes);
        remote = true;
        char url[2048];
        plume_axiom_ingest_url(&cfg->axiom, url, sizeof(url));
        PLOG_INFO("axiom: shipping %s to %s",
                  axiom_routes == PLUME_ROUTE_ALL ? "logs and errors" : "logs", url);
    } else if (cfg->axiom.enabled) {
        PLOG_INFO("axiom: off (no token or dataset; set AXIOM_TOKEN and AXIOM_DATASET)");
    }
    if (sentry) {
        plume_sink_t *s = plume_sentry_sink_new(a->loop, a->http, &cfg->sentry,
                                                a->pipeline.error_level, cfg->agent.data_dir,
                                                &a->metrics, err, sizeof(err));
        if (!s) {
            PLOG_ERROR("%s", err);
            return false;
        }
        plume_pipeline_add_sink_routed(&a->pipeline, s, sentry_routes);
        remote = true;
        PLOG_INFO("sentry: shipping %s", sentry_routes == PLUME_ROUTE_ALL
                                             ? "errors as events and logs as log items"
                                             : "errors as events");
    }
    if (cfg->file.enabled) {
        plume_sink_t *s = plume_file_sink_new(a->loop, cfg->file.path, cfg->file.max_size,
                                              (int)cfg->file.max_files, &a->metrics, err, sizeof(err));
        if (!s) {
            PLOG_ERROR("%s", err);
            return false;
        }
        plume_pipeline_add_sink(&a->pipeline, s);
        remote = true;
    }
    bool console = cfg->console.enabled == PLUME_TRISTATE_TRUE ||
                   (cfg->console.enabled == PLUME_TRISTATE_AUTO && !remote);
    if (console) {
        plume_sink_t *s = plume_console_sink_new(a->loop, STDOUT_FILENO, cfg->console.format,
                                                 &a->metrics, err, sizeof(err));
        if (!s) {
            PLOG_ERROR("%s", err);
            return false;
        }
        plume_pipeline_add_sink(&a->pipeline, s);
        PLOG_INFO("console: printing events on stdout");
    }
    return true;
}

static int setup_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
        return -1;
    signal(SIGPIPE, SIG_IGN);
    return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

static void run_loop(agent_t *a)
{
    uint64_t deadline = 0;
    for (;;) {
        if (a->draining) {
            uint64_t now = plume_loop_now_ms(a->loop);
            if (!deadline)
                deadline = now + a->cfg->agent.shutdown_timeout_ms;
            plume_pipeline_flush(&a->pipeline);
            if (plume_pipeline_idle(&a->pipeline) || plume_pipeline_stuck(&a->pipeline) ||
                a->abort_drain)
                return;
            if (now >= deadline) {
                PLOG_WARN("shutdown timeout reached with %llu events undelivered (kept in the outbox)",
                          (unsigned long long)plume_pipeline_pending_events(&a->pipeline));
                return;
            }
            uint64_t left = deadline - now;
            plume_loop_run_once(a->loop, left > 100 ? 100 : (int)left);
        } else {
            plume_loop_run_once(a->loop, 1000);
        }
    }
}

int plume_agent_run(const plume_config_t *cfg)
{
    agent_t a = {.cfg = cfg, .signal_fd = -1};
    int code = 1;
    plume_pipeline_init(&a.pipeline);
    a.signal_fd = setup_signals();
    a.loop = plume_loop_new();
    plume_http_options_t hopts = {.user_agent = "plume-agent/" PLUME_VERSION};
    a.http = a.loop ? plume_http_new(a.loop, &hopts) : NULL;
    if (a.signal_fd < 0 || !a.loop || !a.http) {
        PLOG_ERROR("cannot start: %s", strerror(errno));
        goto out;
    }
    plume_loop_watch(a.loop, a.signal_fd, PLUME_EV_READ, on_signal, &a);
    if (!build_sinks(&a))
        goto out;
    if (cfg->stdin_source.enabled) {
        a.stdin_source = plume_stdin_source_new(a.loop, STDIN_FILENO,
                                                (plume_line_format_t)cfg->stdin_source.format,
                                                cfg->stdin_source.max_line_bytes, &a.metrics,
                                                on_event, on_stdin_eof, &a);
        if (!a.stdin_source) {
            PLOG_ERROR("stdin: out of memory");
            goto out;
        }
        plume_stdin_source_set_gate(a.stdin_source, may_read, &a);
    } else {
        PLOG_INFO("no input enabled (use --stdin or [sources.stdin] enabled = true); "
                  "delivering what is pending, then waiting for a signal");
    }
    run_loop(&a);
    /* 0 only when every event reached its destination: nothing pending, no
     * sink stopped, nothing dropped or refused on the way. */
    const plume_metrics_t *m = &a.metrics;
    bool lost = m->rejected_by_sink || m->dropped_outbox_full || m->dropped_failed ||
                m->dropped_corrupt || m->dropped_encode || m->dropped_rate_limited;
    code = plume_pipeline_idle(&a.pipeline) && !plume_pipeline_any_stopped(&a.pipeline) && !lost
               ? 0
               : 1;
    if (code != 0)
        PLOG_WARN("not everything was delivered; see the summary below");
out:;
    uint64_t pending = plume_pipeline_pending_events(&a.pipeline);
    plume_http_free(a.http); /* aborts requests in flight: their batches stay pending */
    a.http = NULL;
    plume_stdin_source_free(a.stdin_source);
    plume_pipeline_free(&a.pipeline);
    if (a.loop)
        plume_loop_free(a.loop);
    if (a.signal_fd >= 0)
        close(a.signal_fd);
    plume_metrics_print_summary(&a.metrics, pending, stderr);
    return code;
}
