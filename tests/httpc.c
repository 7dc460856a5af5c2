/*
 * httpc.c: see httpc.h. A forked real server and a blocking HTTP/1.1
 * client small enough to read in one sitting: it sends bytes, reads until
 * the answer is complete by Content-Length or chunked framing (or the
 * server closes), and parses the status line and headers. Every wait has
 * a deadline.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "httpc.h"

#define HTTPC_START_MS 10000
#define HTTPC_STOP_MS  5000
#define HTTPC_RUN_MS   30000

static long long
httpc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
httpc_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

const char *
httpc_gridkeepd(void)
{
	static char buf[4096];
	const char *top = getenv("top_builddir");

	snprintf(buf, sizeof buf, "%s/gridkeepd", top && *top ? top : ".");
	return buf;
}

int
httpc_tmpdir(char *buf, size_t size)
{
	const char *t = getenv("TMPDIR");

	if ((size_t)snprintf(buf, size, "%s/gk-test.XXXXXX",
	                     t && *t ? t : "/tmp") >= size)
		return -1;
	if (mkdtemp(buf) == NULL) {
		fprintf(stderr, "httpc: mkdtemp %s: %s\n", buf,
		        strerror(errno));
		return -1;
	}
	return 0;
}

static int
httpc_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void
httpc_rmdir(const char *dir)
{
	if (dir != NULL && dir[0] != '\0')
		nftw(dir, httpc_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Read a whole file, NUL-terminated; caller frees. */
static char *
httpc_slurp(const char *path)
{
	FILE *f;
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	for (;;) {
		if (cap - len < 4097) {
			char *nb = realloc(buf, cap = cap * 2 + 8192);
			if (nb == NULL) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		if ((n = fread(buf + len, 1, cap - len - 1, f)) == 0)
			break;
		len += n;
	}
	buf[len] = '\0';
	fclose(f);
	return buf;
}

/*
 * Fork and exec gridkeepd with argv (argv[0] is replaced by the binary),
 * stdin from /dev/null, stdout and stderr to out_path. The child's pid, or
 * -1.
 */
static pid_t
httpc_spawn(const char *const *argv, const char *out_path)
{
	pid_t pid, parent = getpid();
	int fd;

	if ((pid = fork()) < 0) {
		fprintf(stderr, "httpc: fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		/* A test that fails half-way leaves no server behind. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		if ((fd = open("/dev/null", O_RDONLY)) >= 0) {
			dup2(fd, 0);
			close(fd);
		}
		fd = open(out_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		signal(SIGPIPE, SIG_DFL);
		execv(httpc_gridkeepd(), (char *const *)argv);
		fprintf(stderr, "httpc: exec %s: %s\n", httpc_gridkeepd(),
		        strerror(errno));
		_exit(127);
	}
	return pid;
}

/* Wait at most ms for pid; its status as httpc_stop returns it, or -2 if
 * it is still running. */
static int
httpc_wait(pid_t pid, int ms)
{
	long long end = httpc_now_ms() + ms;
	int st;
	pid_t r;

	for (;;) {
		r = waitpid(pid, &st, WNOHANG);
		if (r == pid) {
			if (WIFEXITED(st))
				return WEXITSTATUS(st);
			if (WIFSIGNALED(st))
				return 128 + WTERMSIG(st);
			return -1;
		}
		if (r < 0 && errno != EINTR)
			return -1;
		if (httpc_now_ms() >= end)
			return -2;
		httpc_sleep_ms(5);
	}
}

int
httpc_run(const char *db, const char *const *args, char *out, size_t size)
{
	const char *argv[64];
	char dir[256], path[512];
	char *text;
	size_t n = 0;
	pid_t pid;
	int st;

	argv[n++] = "gridkeepd";
	argv[n++] = "-d";
	argv[n++] = db;
	for (size_t i = 0; args != NULL && args[i] != NULL && n < 63; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	if (httpc_tmpdir(dir, sizeof dir) != 0)
		return -1;
	snprintf(path, sizeof path, "%s/out", dir);
	if ((pid = httpc_spawn(argv, path)) < 0) {
		httpc_rmdir(dir);
		return -1;
	}
	if ((st = httpc_wait(pid, HTTPC_RUN_MS)) == -2) {
		kill(pid, SIGKILL);
		httpc_wait(pid, HTTPC_STOP_MS);
		st = -1;
	}
	if (out != NULL && size > 0) {
		out[0] = '\0';
		if ((text = httpc_slurp(path)) != NULL) {
			snprintf(out, size, "%s", text);
			free(text);
		}
	}
	httpc_rmdir(dir);
	return st;
}

int
httpc_make_db(const char *dir, const char *how, char *path, size_t size)
{
	const char *args[] = {how, NULL};
	char out[4096];
	int st;

	if ((size_t)snprintf(path, size, "%s/gridkeep.db", dir) >= size)
		return -1;
	if ((st = httpc_run(path, args, out, sizeof out)) != 0) {
		fprintf(stderr, "httpc: gridkeepd %s exited %d:\n%s\n", how, st,
		        out);
		return -1;
	}
	return 0;
}

char *
httpc_log(const struct httpc_server *s)
{
	return httpc_slurp(s->log_path);
}

/* The port of the first "listening on HOST:PORT" line of text, or 0. */
static int
httpc_port_of(const char *text)
{
	const char *p = strstr(text, "listening on ");
	const char *eol, *colon = NULL;
	long port;

	if (p == NULL || (eol = strchr(p, '\n')) == NULL)
		return 0;
	for (const char *q = p; q < eol; q++)
		if (*q == ':')
			colon = q;
	if (colon == NULL)
		return 0;
	port = strtol(colon + 1, NULL, 10);
	return port > 0 && port < 65536 ? (int)port : 0;
}

int
httpc_start(struct httpc_server *s, const char *db_path,
            const char *const *extra_args)
{
	const char *args[64];
	size_t n = 0;

	args[n++] = "-l";
	args[n++] = "127.0.0.1:0";
	for (size_t i = 0;
	     extra_args != NULL && extra_args[i] != NULL && n < 63; i++)
		args[n++] = extra_args[i];
	args[n] = NULL;
	return httpc_start_ex(s, db_path, args, NULL);
}

int
httpc_start_ex(struct httpc_server *s, const char *db_path,
               const char *const *serve_args, const char *log_file)
{
	const char *argv[64];
	long long end;
	char *text;
	size_t n = 0;
	int st;

	memset(s, 0, sizeof s[0]);
	snprintf(s->db_path, sizeof s->db_path, "%s", db_path);
	if (httpc_tmpdir(s->dir, sizeof s->dir) != 0)
		return -1;
	snprintf(s->log_path, sizeof s->log_path, "%s/gridkeepd.log", s->dir);
	argv[n++] = "gridkeepd";
	argv[n++] = "-d";
	argv[n++] = s->db_path;
	argv[n++] = "serve";
	for (size_t i = 0;
	     serve_args != NULL && serve_args[i] != NULL && n < 63; i++)
		argv[n++] = serve_args[i];
	argv[n] = NULL;
	if (log_file == NULL)
		log_file = s->log_path;
	if ((s->pid = httpc_spawn(argv, s->log_path)) < 0) {
		s->pid = 0;
		return -1;
	}
	end = httpc_now_ms() + HTTPC_START_MS;
	while (httpc_now_ms() < end) {
		if ((text = httpc_slurp(log_file)) != NULL) {
			s->port = httpc_port_of(text);
			free(text);
			if (s->port != 0)
				return 0;
		}
		if ((st = httpc_wait(s->pid, 0)) != -2) {
			s->pid = 0;
			text = httpc_slurp(s->log_path);
			fprintf(stderr, "httpc: gridkeepd exited %d:\n%s\n", st,
			        text != NULL ? text : "");
			free(text);
			return -1;
		}
		httpc_sleep_ms(10);
	}
	text = httpc_slurp(s->log_path);
	fprintf(stderr, "httpc: gridkeepd did not listen in %d ms:\n%s\n",
	        HTTPC_START_MS, text != NULL ? text : "");
	free(text);
	httpc_kill9(s);
	return -1;
}

/*
 * A sanitizer report in the server's log makes its exit a failure, even
 * when UBSan was told to go on: -1 and the log on stderr, else st.
 */
static int
httpc_check_log(const struct httpc_server *s, int st)
{
	char *text = httpc_slurp(s->log_path);

	if (text != NULL && (strstr(text, "runtime error:") != NULL ||
	                     strstr(text, "Sanitizer") != NULL)) {
		fprintf(stderr, "httpc: a sanitizer report in the log:\n%s\n",
		        text);
		st = -1;
	}
	free(text);
	return st;
}

int
httpc_stop(struct httpc_server *s)
{
	int st;

	if (s->pid <= 0)
		return -1;
	kill(s->pid, SIGTERM);
	if ((st = httpc_wait(s->pid, HTTPC_STOP_MS)) == -2) {
		fprintf(stderr, "httpc: gridkeepd ignored SIGTERM; killing\n");
		kill(s->pid, SIGKILL);
		st = httpc_wait(s->pid, HTTPC_STOP_MS);
		if (st == -2)
			st = -1;
	}
	s->pid = 0;
	return httpc_check_log(s, st);
}

int
httpc_wait_exit(struct httpc_server *s, int ms)
{
	int st;

	if (s->pid <= 0)
		return -1;
	if ((st = httpc_wait(s->pid, ms)) == -2)
		return st;
	s->pid = 0;
	return httpc_check_log(s, st);
}

void
httpc_kill9(struct httpc_server *s)
{
	if (s->pid <= 0)
		return;
	kill(s->pid, SIGKILL);
	httpc_wait(s->pid, HTTPC_STOP_MS);
	s->pid = 0;
}

int
httpc_signal(struct httpc_server *s, int sig)
{
	if (s->pid <= 0)
		return -1;
	return kill(s->pid, sig);
}

int
httpc_alive(struct httpc_server *s)
{
	if (s->pid <= 0)
		return 0;
	if (httpc_wait(s->pid, 0) != -2) {
		s->pid = 0;
		return 0;
	}
	return 1;
}

void
httpc_free(struct httpc_server *s)
{
	if (s->pid > 0)
		httpc_stop(s);
	httpc_rmdir(s->dir);
	s->dir[0] = '\0';
}

/* ---- the client ------------------------------------------------------ */

int
httpc_connect(int port)
{
	struct sockaddr_in sin;
	struct timeval tv = {HTTPC_TIMEOUT_MS / 1000, 0};
	int fd, one = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, (struct sockaddr *)&sin, sizeof sin) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

void
httpc_response_free(struct httpc_response *r)
{
	for (int i = 0; i < r->nheaders; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	free(r->body);
	memset(r, 0, sizeof r[0]);
}

const char *
httpc_header(const struct httpc_response *r, const char *name)
{
	for (int i = 0; i < r->nheaders; i++)
		if (strcasecmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	return NULL;
}

json_t *
httpc_json(const struct httpc_response *r)
{
	if (r->body == NULL)
		return NULL;
	return json_loadb(r->body, r->body_len, 0, NULL);
}

const char *
httpc_error_code(const struct httpc_response *r)
{
	static char buf[64];
	json_t *j = httpc_json(r);
	const char *c;

	buf[0] = '\0';
	c = json_string_value(
	    json_object_get(json_object_get(j, "error"), "code"));
	if (c != NULL)
		snprintf(buf, sizeof buf, "%s", c);
	json_decref(j);
	return buf;
}

/* Where the head ends ("\r\n\r\n" + 4) in buf[0..len), or 0. */
static size_t
httpc_head_end(const char *buf, size_t len)
{
	for (size_t i = 0; i + 3 < len; i++)
		if (memcmp(buf + i, "\r\n\r\n", 4) == 0)
			return i + 4;
	return 0;
}

/*
 * Decode a chunked body in place: 1 if it is complete (*len updated),
 * 0 if more is needed, -1 if malformed.
 */
static int
httpc_dechunk(char *buf, size_t *len)
{
	size_t in = 0, out = 0;
	unsigned long n;
	char *end;

	for (;;) {
		char *crlf = memmem(buf + in, *len - in, "\r\n", 2);
		if (crlf == NULL)
			return 0;
		errno = 0;
		n = strtoul(buf + in, &end, 16);
		if (end == buf + in || errno != 0)
			return -1;
		in = (size_t)(crlf - buf) + 2;
		if (n == 0) {
			*len = out;
			return 1;
		}
		if (*len - in < n + 2)
			return 0;
		memmove(buf + out, buf + in, n);
		out += n;
		in += n + 2;
	}
}

/* Parse the head of buf into r; -1 if it is not an HTTP answer. */
static int
httpc_parse_head(struct httpc_response *r, const char *buf, size_t head)
{
	const char *p = buf, *end = buf + head - 2, *eol, *colon;

	if (head < 12 || strncmp(buf, "HTTP/1.", 7) != 0)
		return -1;
	r->status = atoi(buf + 9);
	if ((eol = memmem(p, (size_t)(end - p), "\r\n", 2)) == NULL)
		return -1;
	for (p = eol + 2; p < end && r->nheaders < HTTPC_MAX_HEADERS;
	     p = eol + 2) {
		if ((eol = memmem(p, (size_t)(end - p) + 2, "\r\n", 2)) == NULL)
			break;
		if ((colon = memchr(p, ':', (size_t)(eol - p))) == NULL)
			continue;
		const char *v = colon + 1;
		while (v < eol && (*v == ' ' || *v == '\t'))
			v++;
		r->headers[r->nheaders].name = strndup(p, (size_t)(colon - p));
		r->headers[r->nheaders].value = strndup(v, (size_t)(eol - v));
		r->nheaders++;
	}
	return 0;
}

/*
 * Read one answer from fd into r. The answer is complete at its
 * Content-Length, at the end of its chunks, or when the server closes.
 */
static int
httpc_read_answer(int fd, struct httpc_response *r)
{
	char *buf = NULL;
	size_t len = 0, cap = 0, head = 0;
	long long end = httpc_now_ms() + HTTPC_TIMEOUT_MS;
	const char *cl, *te;
	ssize_t n;
	int rc = -1, done = 0;

	while (!done && httpc_now_ms() < end) {
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap = cap * 2 + 16384);
			if (nb == NULL)
				goto out;
			buf = nb;
		}
		n = recv(fd, buf + len, cap - len - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (head == 0) {
				r->closed = 1;
				goto out;
			}
			done = 1; /* closed: whatever came is the body */
			break;
		}
		len += (size_t)n;
		if (head == 0 && (head = httpc_head_end(buf, len)) != 0) {
			if (httpc_parse_head(r, buf, head) != 0)
				goto out;
		}
		if (head == 0)
			continue;
		if ((r->status >= 100 && r->status < 200) || r->status == 204 ||
		    r->status == 304) {
			done = r->status >= 200;
			if (!done) { /* 1xx: drop it, read the next head */
				memmove(buf, buf + head, len - head);
				len -= head;
				head = 0;
				httpc_response_free(r);
			}
			continue;
		}
		if ((cl = httpc_header(r, "Content-Length")) != NULL) {
			if (len - head >= (size_t)strtoull(cl, NULL, 10)) {
				len = head + (size_t)strtoull(cl, NULL, 10);
				done = 1;
			}
		} else if ((te = httpc_header(r, "Transfer-Encoding")) !=
		               NULL &&
		           strcasecmp(te, "chunked") == 0) {
			char *copy = malloc(len - head + 1);
			size_t clen = len - head;
			int d;
			if (copy == NULL)
				goto out;
			memcpy(copy, buf + head, clen);
			d = httpc_dechunk(copy, &clen);
			if (d != 0) {
				memcpy(buf + head, copy, clen);
				len = head + clen;
				done = 1;
			}
			free(copy);
			if (d < 0)
				goto out;
		}
	}
	if (!done)
		goto out;
	if ((r->body = malloc(len - head + 1)) == NULL)
		goto out;
	memcpy(r->body, buf + head, len - head);
	r->body[len - head] = '\0';
	r->body_len = len - head;
	rc = r->status;
out:
	free(buf);
	return rc;
}

int
httpc_raw(int port, const char *bytes, size_t len, struct httpc_response *out)
{
	size_t sent = 0;
	ssize_t n;
	int fd, rc;

	memset(out, 0, sizeof out[0]);
	if ((fd = httpc_connect(port)) < 0) {
		fprintf(stderr, "httpc: connect to port %d: %s\n", port,
		        strerror(errno));
		return -1;
	}
	while (sent < len) {
		n = send(fd, bytes + sent, len - sent, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* the server may answer and close early */
		sent += (size_t)n;
	}
	rc = httpc_read_answer(fd, out);
	close(fd);
	if (rc < 0) {
		for (int i = 0; i < out->nheaders; i++) {
			free(out->headers[i].name);
			free(out->headers[i].value);
		}
		out->nheaders = 0;
		out->status = 0;
	}
	return rc;
}

int
httpc_request_h(struct httpc_server *s, const char *method, const char *path,
                const char *token, const char *headers, const char *body,
                size_t body_len, struct httpc_response *out)
{
	char *req = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	memset(out, 0, sizeof out[0]);
	if ((f = open_memstream(&req, &len)) == NULL)
		return -1;
	fprintf(f, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n", method, path,
	        s->port);
	fprintf(f, "Connection: close\r\n");
	if (token != NULL)
		fprintf(f, "Authorization: Bearer %s\r\n", token);
	if (headers != NULL)
		fputs(headers, f);
	if (body != NULL) {
		if (headers == NULL ||
		    strcasestr(headers, "Content-Type:") == NULL)
			fprintf(f, "Content-Type: application/json\r\n");
		fprintf(f, "Content-Length: %zu\r\n", body_len);
	}
	fputs("\r\n", f);
	if (body != NULL)
		fwrite(body, 1, body_len, f);
	if (fclose(f) != 0) {
		free(req);
		return -1;
	}
	rc = httpc_raw(s->port, req, len, out);
	free(req);
	return rc;
}

int
httpc_request(struct httpc_server *s, const char *method, const char *path,
              const char *token, const char *body, struct httpc_response *out)
{
	return httpc_request_h(s, method, path, token, NULL, body,
	                       body != NULL ? strlen(body) : 0, out);
}
