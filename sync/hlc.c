/*
 * hlc.c: the hybrid logical clock that orders every change.
 *
 * A stamp is (wall milliseconds << 16) | counter. hlc_now returns
 * max(last + 1, wall << 16): it follows the wall clock while it moves
 * forward and keeps counting from the last stamp when the wall clock steps
 * back, so stamps from one replica are strictly increasing. When the 16-bit
 * counter is exhausted within one millisecond the stamp simply runs ahead
 * into the next millisecond; that is still monotonic.
 *
 * hlc_recv folds in a stamp seen from elsewhere, so that anything this
 * replica writes next sorts after what it has seen (causality). A stamp
 * too far ahead of our own wall clock is refused rather than adopted:
 * adopting it would drag this clock forward too, and a station with a wrong
 * clock would win every later conflict.
 */
#include "sync.h"

static const char hexd[] = "0123456789abcdef";

static uint64_t
wall_stamp(int64_t wall_ms)
{
	if (wall_ms < 0)
		wall_ms = 0;
	return (uint64_t)wall_ms << 16;
}

uint64_t
hlc_now(struct hlc *h, int64_t wall_ms)
{
	uint64_t w = wall_stamp(wall_ms);

	h->last = w > h->last ? w : h->last + 1;
	return h->last;
}

int
hlc_recv(struct hlc *h, uint64_t remote, int64_t wall_ms, int64_t max_skew_ms)
{
	/* Stamps live in SQLite's signed integers: the top bit is never set. */
	if (remote > (uint64_t)INT64_MAX)
		return GK_E_HLC;
	/* A limit past INT64_MAX is no limit (and must not overflow). */
	if (max_skew_ms >= 0 && wall_ms <= INT64_MAX - max_skew_ms &&
	    hlc_ms(remote) > wall_ms + max_skew_ms)
		return GK_E_SKEW;
	if (remote > h->last)
		h->last = remote;
	return GK_OK;
}

int64_t
hlc_ms(uint64_t stamp)
{
	return (int64_t)(stamp >> 16);
}

static void
hex16(uint64_t v, char out[17])
{
	for (int i = 15; i >= 0; i--) {
		out[i] = hexd[v & 15];
		v >>= 4;
	}
	out[16] = '\0';
}

static int
unhex16(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (s == NULL || len != 16)
		return -1;
	for (size_t i = 0; i < 16; i++) {
		char c = s[i];
		int d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else
			return -1;
		v = v << 4 | (uint64_t)d;
	}
	*out = v;
	return 0;
}

void
hlc_format(uint64_t stamp, char out[GK_HLC_LEN + 1])
{
	hex16(stamp, out);
}

int
hlc_parse(const char *s, size_t len, uint64_t *out)
{
	return unhex16(s, len, out) == 0 ? GK_OK : GK_E_HLC;
}

void
node_format(uint64_t node, char out[GK_NODE_LEN + 1])
{
	hex16(node, out);
}

int
node_parse(const char *s, size_t len, uint64_t *out)
{
	return unhex16(s, len, out) == 0 ? GK_OK : GK_E_NODE;
}

uint64_t
node_new(const struct gk_env *env)
{
	uint64_t n = 0;

	while (n == 0)
		env->random(env->arg, &n, sizeof n);
	return n;
}
