/*
 * uuid.c: UUIDv7 ids (RFC 9562), made where a record or change is created.
 *
 * 48 bits of milliseconds first, so ids sort by creation time and an index
 * on them grows at its end (far fewer pages touched per commit than random
 * ids); then 74 random bits, so two replicas never make the same id.
 */
#include <string.h>

#include "sync.h"

static const char hex[] = "0123456789abcdef";

void
uuid_v7(const struct gk_env *env, char out[GK_ID_LEN + 1])
{
	unsigned char b[16];
	uint64_t ms = (uint64_t)env->now_ms(env->arg);
	char *p = out;

	env->random(env->arg, b + 6, 10);
	for (int i = 0; i < 6; i++)
		b[i] = (unsigned char)(ms >> (40 - 8 * i));
	b[6] = (unsigned char)(0x70 | (b[6] & 0x0f)); /* version 7 */
	b[8] = (unsigned char)(0x80 | (b[8] & 0x3f)); /* variant 10 */
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*p++ = '-';
		*p++ = hex[b[i] >> 4];
		*p++ = hex[b[i] & 15];
	}
	*p = '\0';
}

int
uuid_valid(const char *s, size_t len)
{
	if (len != GK_ID_LEN)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return 0;
		} else if (!((c >= '0' && c <= '9') ||
		             (c >= 'a' && c <= 'f'))) {
			return 0;
		}
	}
	return 1;
}
