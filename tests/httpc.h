/*
 * httpc.h: the helper every HTTP test uses: start the real gridkeepd on
 * 127.0.0.1:0 against a test database, talk to it with a small blocking
 * client, and stop or kill it.
 *
 * The server is the built binary ($top_builddir/gridkeepd), run as
 * `gridkeepd -d DB serve -l 127.0.0.1:0 EXTRA...` with its stdout and
 * stderr in a log file of its own temporary directory; httpc_start reads
 * the real port from its `listening on 127.0.0.1:PORT` line. Every wait
 * is bounded: a test never hangs on a server that does.
 *
 * Ownership: an httpc_response's body and headers are malloc'ed; free
 * them with httpc_response_free (safe on a zeroed or freed response).
 * Functions return -1 on failure after printing why on stderr, never
 * abort, so they work from cmocka setup functions and from plain code.
 */
#ifndef GK_HTTPC_H
#define GK_HTTPC_H

#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#define HTTPC_TIMEOUT_MS  10000 /* receive timeout of one request */
#define HTTPC_MAX_HEADERS 64

struct httpc_server {
	pid_t pid;          /* 0 when not running */
	int port;           /* the port it listens on */
	char dir[256];      /* its temporary directory (the log is there) */
	char log_path[512]; /* its stderr and stdout */
	char db_path[512];  /* the database it serves (a copy of the arg) */
};

struct httpc_header {
	char *name; /* as sent */
	char *value;
};

struct httpc_response {
	int status; /* 0 if no status line came */
	struct httpc_header headers[HTTPC_MAX_HEADERS];
	int nheaders;
	char *body; /* NUL-terminated, chunked encoding removed; never NULL
	               after a successful request */
	size_t body_len;
	int closed; /* the server closed the connection without an answer */
};

/* The gridkeepd binary: $top_builddir/gridkeepd (static buffer). */
const char *httpc_gridkeepd(void);

/* A new temporary directory in buf ("$TMPDIR/gk-test.XXXXXX"); 0 or -1. */
int httpc_tmpdir(char *buf, size_t size);
/* Remove a directory made by httpc_tmpdir and everything in it. */
void httpc_rmdir(const char *dir);

/*
 * Make a server database dir/gridkeep.db with `gridkeepd -d DB how`, how
 * being "demo" (a demo street) or "init" (empty); its path goes to path.
 * 0 or -1 (the command's output is printed on failure).
 */
int httpc_make_db(const char *dir, const char *how, char *path, size_t size);

/*
 * Run `gridkeepd -d db ARGS...` (args NULL-terminated) to completion,
 * stdin from /dev/null; out (may be NULL) gets its stdout and stderr,
 * truncated to size. Returns its exit status, or -1 if it could not run
 * or was killed (after 30 s at most).
 */
int httpc_run(const char *db, const char *const *args, char *out, size_t size);

/*
 * Start `gridkeepd -d db_path serve -l 127.0.0.1:0 extra_args...`
 * (extra_args NULL-terminated, may be NULL; a later -l wins) and wait at
 * most 10 s for its listening line. 0 with s filled, or -1 (the server's
 * log is printed and the process is gone).
 */
int httpc_start(struct httpc_server *s, const char *db_path,
                const char *const *extra_args);
/*
 * The same with the whole of serve's arguments (no -l added), waiting for
 * the listening line in log_file (the config's log_file) instead of the
 * server's stderr when log_file is not NULL.
 */
int httpc_start_ex(struct httpc_server *s, const char *db_path,
                   const char *const *serve_args, const char *log_file);
/*
 * SIGTERM, then wait at most 5 s before SIGKILL. Returns the exit status
 * (0..255), 128 + the signal if it died of one, or -1 (also when its log
 * holds a sanitizer report, which is then printed). Keeps the temporary
 * directory (and the log) until httpc_free.
 */
int httpc_stop(struct httpc_server *s);
/*
 * Wait at most ms for the server to exit by itself (after a signal the
 * test sent); its status as httpc_stop returns it, or -2 if it is still
 * running.
 */
int httpc_wait_exit(struct httpc_server *s, int ms);
/* SIGKILL and reap it (a crash, for recovery tests). */
void httpc_kill9(struct httpc_server *s);
/* Send a signal (SIGHUP...) to the running server; 0 or -1. */
int httpc_signal(struct httpc_server *s, int sig);
/* 1 if the server process is still running. */
int httpc_alive(struct httpc_server *s);
/* Stop it if running, and remove its temporary directory. */
void httpc_free(struct httpc_server *s);
/* The server's log so far (caller frees); NULL if it cannot be read. */
char *httpc_log(const struct httpc_server *s);

/*
 * One request on a new connection (Connection: close). token (may be
 * NULL) goes into "Authorization: Bearer", body (may be NULL) is sent
 * with Content-Type: application/json. Returns the status, or -1 if no
 * answer came (out->closed is set when the server closed first).
 */
int httpc_request(struct httpc_server *s, const char *method, const char *path,
                  const char *token, const char *body,
                  struct httpc_response *out);
/* The same with extra header lines ("Name: value\r\n"..., may be NULL). */
int httpc_request_h(struct httpc_server *s, const char *method,
                    const char *path, const char *token, const char *headers,
                    const char *body, size_t body_len,
                    struct httpc_response *out);
/*
 * Send exactly len bytes to 127.0.0.1:port, then read one answer (until
 * the server closes or the answer is complete). Send errors after the
 * connection was made are ignored: the answer is what counts.
 */
int httpc_raw(int port, const char *bytes, size_t len,
              struct httpc_response *out);
/* A header's value (name compared case-insensitively), or NULL. */
const char *httpc_header(const struct httpc_response *r, const char *name);
/* The body parsed as JSON (caller decrefs), or NULL. */
json_t *httpc_json(const struct httpc_response *r);
/* The "error.code" of a JSON error body, or "" (pointer into a static). */
const char *httpc_error_code(const struct httpc_response *r);
void httpc_response_free(struct httpc_response *r);

/* A TCP connection to 127.0.0.1:port, blocking with the receive timeout;
 * the fd, or -1. For tests of idle and concurrent connections. */
int httpc_connect(int port);

#endif
