/*
 * env.c: the clock and random source that sync/ is given, never takes.
 *
 * gk_env_system is what the programs use. gk_testenv is a settable clock
 * and a seeded xorshift generator, so a test (or the convergence run) can
 * replay exactly the same ids and stamps from the same seed.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef HAVE_SYS_RANDOM_H
#include <sys/random.h>
#endif

#include "sync.h"

static int64_t
system_now_ms(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* getrandom(2) blocks only before the pool is seeded at boot; a failure
 * other than EINTR means no kernel entropy, and ids must not repeat. */
static void
system_random(void *arg, void *buf, size_t len)
{
	unsigned char *p = buf;

	(void)arg;
	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			abort();
		}
		p += n;
		len -= (size_t)n;
	}
}

const struct gk_env gk_env_system = {system_now_ms, system_random, NULL};

static uint64_t
xorshift(struct gk_testenv *t)
{
	/* xorshift64*: fast, full period, good enough for test data. */
	uint64_t x = t->state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	t->state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

void
gk_testenv_init(struct gk_testenv *t, uint64_t seed, int64_t now)
{
	t->now = now;
	t->state = seed * 0x9E3779B97F4A7C15ULL + 0x1234567ULL;
	if (t->state == 0)
		t->state = 1;
}

uint64_t
gk_testenv_below(struct gk_testenv *t, uint64_t n)
{
	return xorshift(t) % n;
}

static int64_t
test_now_ms(void *arg)
{
	return ((struct gk_testenv *)arg)->now;
}

static void
test_random(void *arg, void *buf, size_t len)
{
	unsigned char *p = buf;

	while (len > 0) {
		uint64_t x = xorshift(arg);
		size_t k = len < 8 ? len : 8;
		memcpy(p, &x, k);
		p += k;
		len -= k;
	}
}

struct gk_env
gk_testenv_env(struct gk_testenv *t)
{
	struct gk_env e = {test_now_ms, test_random, t};
	return e;
}
