/* SPDX-License-Identifier: MIT */
/* A small HTTP/1.1 server for tests, running in threads of the test process on
 * 127.0.0.1 and an ephemeral port. It serves keep-alive connections (one thread
 * each), reads requests framed by Content-Length, records every request (head,
 * body, connection, arrival times on both clocks) and answers from a script:
 * request i gets answer i, requests past the script get its last answer. An
 * answer may be delayed or never sent (timeouts, aborts), and all answers can be
 * held until a number of requests have arrived (proves requests overlap). It
 * counts accepted connections and how many requests it held unanswered at once.
 * Functions report failure by their return value for the test to assert on;
 * only plume_test_http_server_record() fails the running cmocka test itself.
 * Every wait has a deadline. */
#ifndef PLUME_HTTP_TEST_SERVER_H
#define PLUME_HTTP_TEST_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define PLUME_TEST_HTTP_MAX_RECORDS 64        /* requests recorded; later ones only counted */
#define PLUME_TEST_HTTP_MAX_ANSWERS 16        /* entries in a script */
#define PLUME_TEST_HTTP_MAX_CONNS 64          /* connections served per server */
#define PLUME_TEST_HTTP_MAX_HEAD 65536        /* request line + headers */
#define PLUME_TEST_HTTP_MAX_BODY (4u << 20)   /* request body */

typedef struct plume_test_http_server plume_test_http_server_t;

/* One scripted answer. The server copies everything it points to. */
typedef struct plume_test_http_answer {
    int status;          /* 0: 200 */
    const char *headers; /* extra header lines, each ending in "\r\n"; NULL: none */
    const void *body;    /* NULL with body_len 0: empty; NULL with body_len > 0: invalid */
    size_t body_len;
    const char *text;    /* a text body, used when body is NULL and body_len 0 */
    int delay_ms;        /* wait this long before answering */
    bool hang;           /* never answer; keep reading until the client goes or stop */
} plume_test_http_answer_t;

/* One request as received. Immutable once it is counted; valid until stop. */
typedef struct plume_test_http_record {
    char *head;      /* request line + header lines, each ending "\r\n"; NUL-terminated */
    uint8_t *body;   /* body_len bytes (+ a NUL not counted) */
    size_t body_len;
    int conn;        /* index of the connection it came on, in accept order from 0 */
    uint64_t mono_ms; /* arrival, CLOCK_MONOTONIC */
    uint64_t real_ms; /* arrival, CLOCK_REALTIME */
} plume_test_http_record_t;

/* A snapshot of the counters. */
typedef struct plume_test_http_stats {
    int connections; /* TCP connections accepted */
    int requests;    /* complete requests read, also those past the record limit */
    int active;      /* requests read and not answered yet (hung ones until they close) */
    int max_active;  /* the most requests held unanswered at once */
} plume_test_http_stats_t;

/* Called between checks by the waits below, e.g. to run the client's event loop
 * once for a few ms; returns false to give up the wait. */
typedef bool (*plume_test_http_pump_fn)(void *arg);

/* `id` in ms (CLOCK_MONOTONIC or CLOCK_REALTIME), as used for arrival times. */
uint64_t plume_test_http_clock_ms(clockid_t id);

/* Starts a server on 127.0.0.1, an ephemeral port, answering 200 "{}" until a
 * script is set. Returns NULL (with a message on stderr) if it cannot. Free it
 * with plume_test_http_server_stop(). */
plume_test_http_server_t *plume_test_http_server_start(void);

/* Stops the server: ends every connection (also hung and delayed answers),
 * joins its threads and frees it with its records. NULL is a no-op. */
void plume_test_http_server_stop(plume_test_http_server_t *s);

/* The port it listens on. */
int plume_test_http_server_port(const plume_test_http_server_t *s);

/* Writes "http://127.0.0.1:<port><path>" into out (cut to cap) and returns out. */
char *plume_test_http_server_url(const plume_test_http_server_t *s, const char *path, char *out,
                                 size_t cap);

/* Replaces the script with copies of answers[0..n): the i-th request (counted
 * from the start, over all connections) gets answers[min(i, n - 1)]. False if n
 * is 0 or too large, an answer is invalid, or memory runs out (script unchanged). */
bool plume_test_http_server_script(plume_test_http_server_t *s,
                                   const plume_test_http_answer_t *answers, size_t n);

/* Holds every answer until `n` requests have arrived, or timeout_ms after the
 * request was read, or stop (0 turns it off). */
void plume_test_http_server_set_barrier(plume_test_http_server_t *s, int n, int timeout_ms);

/* The counters now. */
plume_test_http_stats_t plume_test_http_server_stats(plume_test_http_server_t *s);

/* Number of complete requests read so far. */
int plume_test_http_server_requests(plume_test_http_server_t *s);

/* Request i. The record stays valid and unchanged until stop. If it has not
 * arrived (or was past the record limit), fails the running cmocka test with a
 * message saying so; call it from the test's thread only. */
const plume_test_http_record_t *plume_test_http_server_record(plume_test_http_server_t *s, int i);

/* Waits until at least n requests have arrived or timeout_ms passes. With a
 * pump, calls it between checks (it must return within a short time); without,
 * sleeps on the server's condition. True if they arrived. */
bool plume_test_http_server_wait_requests(plume_test_http_server_t *s, int n, int timeout_ms,
                                          plume_test_http_pump_fn pump, void *arg);

/* Copies the value of header `name` (case-insensitive, leading blanks dropped)
 * of a record into out (cut to cap, NUL-terminated). False if it has none. */
bool plume_test_http_record_header(const plume_test_http_record_t *r, const char *name, char *out,
                                   size_t cap);

/* Starts a server that answers every request with `status` and body `text`,
 * and writes its base URL ("http://127.0.0.1:PORT") to url. Fails the
 * running test when it cannot. */
plume_test_http_server_t *plume_test_http_server_answering(int status, const char *text,
                                                           char *url, size_t cap);

/* Every request body so far, zstd-decompressed (as an Axiom sink sends them)
 * and concatenated, NUL-terminated (the caller frees it); *lines (may be
 * NULL) gets the number of LF bytes. Fails the running test when a body does
 * not decompress. */
char *plume_test_http_server_ndjson(plume_test_http_server_t *s, int *lines);

/* Binds a socket on 127.0.0.1 without listening: connecting to its port is
 * refused and nobody else can take the port while it is open. Returns the
 * port and stores the socket in *fd (the caller closes it), or -1. */
int plume_test_http_refusing_port(int *fd);

#endif
