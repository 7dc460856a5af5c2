/*
 * hashpool.c: Argon2id off the event loop.
 *
 * One Argon2id verify takes tens of milliseconds of CPU and 19 MiB; run on
 * the loop it would stall every other request for that long, twenty
 * logins at once for a second. So login handlers hand a job to this pool
 * and return; the request stays held until the answer is ready.
 *
 * The mechanism: a few worker threads (cfg.hash_threads, 2 by default, at
 * most 4) share one mutex, one condition variable and two lists. The
 * submit list is bounded: when it holds `queue` jobs, hashpool_submit says
 * GK_E_BUSY and the handler answers 503 with Retry-After at once, rather
 * than letting waits grow without bound. A worker takes a job, unlocks,
 * verifies (and, on a match with a hash below policy, computes the new
 * hash with the salt the loop gave it), zeroes the password, puts the job
 * on the done list and wakes the loop with event_active on an event made
 * for that (libevent must have been told evthread_use_pthreads() before
 * the base was made, so that this is safe from another thread). On the
 * loop thread the event's callback takes the whole done list and runs
 * each job's done(), which is where SQLite and evhttp are touched: workers
 * never touch either, nor the env (the salt is drawn on the loop), nor
 * anything but their job.
 *
 * hashpool_free stops the workers once each has finished the job in its
 * hands, joins them, and then, on the loop thread, runs done() for every
 * job still listed: finished ones with their result, the others with
 * ran = 0 and no match. So each held request is answered.
 *
 * The pool also owns a dummy hash, made once at start from a fixed salt:
 * an unknown username is verified against it, so that a wrong user takes
 * as long as a wrong password and timing does not tell which names exist.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <argon2.h>
#include <event2/event.h>

#include "gridkeepd.h"

#define HASHPOOL_MIN_THREADS 1
#define HASHPOOL_MAX_THREADS 4

struct gk_hashpool {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct gk_hashjob *head, *tail; /* submitted, not yet taken */
	struct gk_hashjob *done_head, *done_tail;
	int queued, queue_max;
	int stopping;
	pthread_t threads[HASHPOOL_MAX_THREADS];
	int nthreads;
	struct event *ev; /* activated by workers; runs on the loop */
	char dummy[AUTH_HASH_MAX];
};

static void
hashpool_run(struct gk_hashjob *job)
{
	job->match = argon2id_verify(job->encoded, job->password,
	                             job->password_len) == ARGON2_OK;
	job->rehashed[0] = '\0';
	if (job->match && job->rehash &&
	    auth_hash_salted(job->salt, job->password, job->password_len,
	                     job->rehashed, sizeof job->rehashed) != GK_OK)
		job->rehashed[0] = '\0';
	job->ran = 1;
	explicit_bzero(job->password, sizeof job->password);
	explicit_bzero(job->salt, sizeof job->salt);
}

static void *
hashpool_worker(void *arg)
{
	struct gk_hashpool *p = arg;
	struct gk_hashjob *job;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (p->head == NULL && !p->stopping)
			pthread_cond_wait(&p->wake, &p->lock);
		if (p->stopping)
			break;
		job = p->head;
		if ((p->head = job->next) == NULL)
			p->tail = NULL;
		p->queued--;
		pthread_mutex_unlock(&p->lock);

		hashpool_run(job);

		pthread_mutex_lock(&p->lock);
		job->next = NULL;
		if (p->done_tail != NULL)
			p->done_tail->next = job;
		else
			p->done_head = job;
		p->done_tail = job;
		/* Wake the loop outside our lock: event_active takes the
		 * base's lock, and the loop never holds it while it takes
		 * ours, but keeping the two apart leaves no order to get
		 * wrong. A job put on the list after the loop took it makes
		 * a further wake-up, so none is lost. */
		pthread_mutex_unlock(&p->lock);
		event_active(p->ev, EV_READ, 0);
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* On the loop thread: answer every finished job. */
static void
hashpool_deliver(evutil_socket_t fd, short what, void *arg)
{
	struct gk_hashpool *p = arg;
	struct gk_hashjob *job, *next;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&p->lock);
	job = p->done_head;
	p->done_head = p->done_tail = NULL;
	pthread_mutex_unlock(&p->lock);
	for (; job != NULL; job = next) {
		next = job->next;
		job->next = NULL;
		job->done(job);
	}
}

struct gk_hashpool *
hashpool_new(struct event_base *base, int threads, int queue,
             struct gk_error *err)
{
	static const unsigned char salt[16] = "gridkeep-dummy-s";
	static const char pw[] = "no account has this password";
	struct gk_hashpool *p;
	int i;

	if (threads < HASHPOOL_MIN_THREADS)
		threads = HASHPOOL_MIN_THREADS;
	if (threads > HASHPOOL_MAX_THREADS)
		threads = HASHPOOL_MAX_THREADS;
	if (queue < 1)
		queue = 1;
	if ((p = calloc(1, sizeof *p)) == NULL) {
		gk_error_set(err, GK_E_NOMEM, "out of memory");
		return NULL;
	}
	p->queue_max = queue;
	if (auth_hash_salted(salt, pw, sizeof pw - 1, p->dummy,
	                     sizeof p->dummy) != GK_OK) {
		gk_error_set(err, GK_E_NOMEM, "cannot make the dummy hash");
		free(p);
		return NULL;
	}
	if ((p->ev = event_new(base, -1, 0, hashpool_deliver, p)) == NULL) {
		gk_error_set(err, GK_E_NOMEM, "cannot make the pool's event");
		free(p);
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->wake, NULL);
	for (i = 0; i < threads; i++) {
		if (pthread_create(&p->threads[i], NULL, hashpool_worker, p) !=
		    0)
			break;
		p->nthreads++;
	}
	if (p->nthreads == 0) {
		gk_error_set(err, GK_E_NOMEM, "cannot start a hash worker");
		hashpool_free(p);
		return NULL;
	}
	return p;
}

int
hashpool_submit(struct gk_hashpool *p, struct gk_hashjob *job)
{
	int rc = GK_OK;

	job->match = 0;
	job->ran = 0;
	job->rehashed[0] = '\0';
	job->next = NULL;
	pthread_mutex_lock(&p->lock);
	if (p->stopping || p->queued >= p->queue_max) {
		rc = GK_E_BUSY;
		goto out;
	}
	if (p->tail != NULL)
		p->tail->next = job;
	else
		p->head = job;
	p->tail = job;
	p->queued++;
	pthread_cond_signal(&p->wake);
out:
	pthread_mutex_unlock(&p->lock);
	return rc;
}

const char *
hashpool_dummy(const struct gk_hashpool *p)
{
	return p->dummy;
}

void
hashpool_free(struct gk_hashpool *p)
{
	struct gk_hashjob *job, *next;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = 1;
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->lock);
	for (int i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);

	/* No worker is left: the lists are ours. Finished jobs first. */
	hashpool_deliver(-1, 0, p);
	for (job = p->head; job != NULL; job = next) {
		next = job->next;
		job->next = NULL;
		job->match = 0;
		job->ran = 0;
		explicit_bzero(job->password, sizeof job->password);
		job->done(job);
	}
	p->head = p->tail = NULL;
	event_free(p->ev);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	explicit_bzero(p, sizeof *p);
	free(p);
}
