// SPDX-License-Identifier: MIT
// The peer of bench_sdk_latency: the same message and three fields through
// spdlog's asynchronous logger, timed the same way (bench_hist.h: every call,
// lfence-bracketed rdtsc, empty-region cost subtracted, same warm-up, barrier
// and pacing), so the two can be compared in one run on a noisy machine.
// The logger is what spdlog's documentation sets up for async use: a thread
// pool with the default queue of 8192 slots and one worker thread
// (spdlog::init_thread_pool), the default overflow policy `block` (a full
// queue makes the caller wait; nothing is dropped), a basic_file_sink_mt
// writing to DIR/spdlog.log with spdlog's default pattern. The message is
// formatted by fmt on the calling thread, as spdlog always does. After the
// run, spdlog::shutdown() drains the queue and joins the worker; the lines in
// the file are then counted ("delivered") and the pool's overrun counter is
// printed as "dropped" (0 under `block`).
// Usage: bench_spdlog DIR THREADS CALLS RATE   (CALLS and RATE per thread)
#include <spdlog/async.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>

#include <pthread.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "bench_hist.h"

namespace {

constexpr unsigned kMaxThreads = 64;
constexpr size_t kQueueSlots = 8192;      // spdlog::details::default_async_q_size

// The same small table of user ids as bench_sdk_latency.c.
const char *const kUsers[8] = {"u-1001", "u-20417", "alice", "bob.smith",
                               "carol@example.com", "u-7", "dave-42", "erin"};

// One calling thread's inputs and results.
struct Worker {
    pthread_t thread;
    uint64_t calls, rate;
    const bench_clock_t *clk;
    bench_barrier_t *start;
    spdlog::logger *logger;
    bench_hist_t *hist; // owned; allocated before the thread starts
    uint64_t loop_ns;
};

// Always inlined into the timed loop, like the plume harness's call.
__attribute__((always_inline)) inline void call_log(spdlog::logger *lg, uint64_t i)
{
    lg->info("payment processed user={} cents={} ms={}", kUsers[i & 7u],
             static_cast<int64_t>(i), static_cast<double>(i & 1023u) * 0.125);
}

// Warm-up, barrier, then the timed loop (mirrors RUN_LOOPS in
// bench_sdk_latency.c).
void *worker_main(void *arg)
{
    Worker *w = static_cast<Worker *>(arg);
    bench_pace_t pace;
    bench_pace_start(&pace, w->clk, w->rate ? w->rate : BENCH_WARMUP_RATE);
    for (uint64_t i = 0; i < BENCH_WARMUP_CALLS; i++) {
        bench_pace_wait(&pace);
        call_log(w->logger, i);
    }
    bench_barrier_wait(w->start);
    uint64_t t_start = bench_mono_ns();
    bench_pace_start(&pace, w->clk, w->rate);
    for (uint64_t i = 0; i < w->calls; i++) {
        bench_pace_wait(&pace);
        uint64_t t0 = bench_ticks_begin();
        call_log(w->logger, i);
        uint64_t t1 = bench_ticks_end();
        bench_hist_record(w->hist, w->clk, t1 - t0);
    }
    w->loop_ns = bench_mono_ns() - t_start;
    return nullptr;
}

int usage(const char *argv0)
{
    std::fprintf(stderr,
                 "usage: %s DIR THREADS CALLS RATE\n"
                 "  THREADS 1..%u; CALLS and RATE per thread (RATE 0 = unpaced)\n",
                 argv0, kMaxThreads);
    return 2;
}

// Counts the lines of the file at `path`; -1 when it cannot be read.
long long count_lines(const std::string &path)
{
    std::FILE *f = std::fopen(path.c_str(), "rb");
    if (!f)
        return -1;
    long long n = 0;
    char buf[1 << 16];
    size_t got;
    while ((got = std::fread(buf, 1, sizeof(buf), f)) > 0)
        for (size_t i = 0; i < got; i++)
            n += buf[i] == '\n';
    std::fclose(f);
    return n;
}

} // namespace

int main(int argc, char **argv)
{
    if (argc != 5)
        return usage(argv[0]);
    uint64_t nthreads, calls, rate;
    if (bench_parse_u64(argv[2], kMaxThreads, &nthreads) != 0 || nthreads == 0 ||
        bench_parse_u64(argv[3], 1000000000000ull, &calls) != 0 ||
        bench_parse_u64(argv[4], 1000000000ull, &rate) != 0)
        return usage(argv[0]);
    std::string path = std::string(argv[1]) + "/spdlog.log";

    bench_clock_t clk;
    bench_clock_init(&clk, 200);
    bench_clock_print("spdlog", &clk);

    std::shared_ptr<spdlog::logger> logger;
    std::shared_ptr<spdlog::details::thread_pool> pool;
    try {
        spdlog::init_thread_pool(kQueueSlots, 1);
        pool = spdlog::thread_pool();
        logger = spdlog::basic_logger_mt<spdlog::async_factory>("bench", path, true);
    } catch (const std::exception &e) {
        std::fprintf(stderr, "bench_spdlog: cannot set up the logger: %s\n", e.what());
        return 1;
    }

    Worker w[kMaxThreads];
    std::memset(static_cast<void *>(w), 0, sizeof(w));
    bench_barrier_t start = {static_cast<unsigned>(nthreads), 0};
    for (uint64_t t = 0; t < nthreads; t++) {
        w[t].calls = calls;
        w[t].rate = rate;
        w[t].clk = &clk;
        w[t].start = &start;
        w[t].logger = logger.get();
        w[t].hist = bench_hist_new();
        if (!w[t].hist) {
            std::fprintf(stderr, "bench_spdlog: out of memory\n");
            return 1;
        }
    }
    for (uint64_t t = 0; t < nthreads; t++)
        if (pthread_create(&w[t].thread, nullptr, worker_main, &w[t]) != 0) {
            std::fprintf(stderr, "bench_spdlog: cannot start thread %llu\n",
                         static_cast<unsigned long long>(t));
            return 1;
        }
    bench_hist_t *all = bench_hist_new();
    if (!all) {
        std::fprintf(stderr, "bench_spdlog: out of memory\n");
        return 1;
    }
    double throughput = 0;
    for (uint64_t t = 0; t < nthreads; t++) {
        pthread_join(w[t].thread, nullptr);
        bench_hist_merge(all, w[t].hist);
        if (w[t].loop_ns)
            throughput += static_cast<double>(w[t].calls) * 1e9 / static_cast<double>(w[t].loop_ns);
        std::free(w[t].hist);
    }

    // Drain: shutdown() drops the registry's loggers and the pool, whose
    // destructor lets the worker finish the queue and joins it. Our own
    // references go first so that the pool is really destroyed here.
    uint64_t f0 = bench_mono_ns();
    size_t overruns = pool->overrun_counter();
    logger.reset();
    pool.reset();
    spdlog::shutdown();
    uint64_t flush_ms = (bench_mono_ns() - f0) / 1000000u;
    long long lines = count_lines(path);

    std::printf("%-16s threads=%llu calls=%llu rate=%llu/s/thread ", "spdlog log",
                static_cast<unsigned long long>(nthreads),
                static_cast<unsigned long long>(calls * nthreads),
                static_cast<unsigned long long>(rate));
    bench_hist_print(all, throughput);
    std::printf(" dropped=%llu delivered=%lld warmup=%llu queue=%zu policy=block flush_ms=%llu\n",
                static_cast<unsigned long long>(overruns), lines,
                static_cast<unsigned long long>(BENCH_WARMUP_CALLS * nthreads), kQueueSlots,
                static_cast<unsigned long long>(flush_ms));
    std::fflush(stdout);
    std::free(all);
    return 0;
}
