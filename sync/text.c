/*
 * text.c: checks on untrusted text, and the one time format of the records.
 *
 * Text fields must be valid UTF-8 (no overlong forms, no surrogates, nothing
 * past U+10FFFF) and hold no control characters: C0, DEL and C1 could move
 * a terminal's cursor or hide text when a station's ncurses UI draws them.
 * Multi-line fields may hold newline and tab.
 *
 * Times are UTC, "YYYY-MM-DDTHH:MM:SSZ" with optional milliseconds; the
 * person on the spot states local time and the client converts it. Dates
 * (expiry of a lot) are "YYYY-MM-DD".
 */
#include <stdio.h>
#include <string.h>

#include "sync.h"

int
text_check(const char *str, size_t len, int allow_newline)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < len) {
		unsigned c = s[i];
		uint32_t cp;
		int n;

		if (c < 0x80) {
			if ((c < 0x20 &&
			     !(allow_newline && (c == '\n' || c == '\t'))) ||
			    c == 0x7f)
				return GK_E_CONTROL;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return GK_E_UTF8; /* continuation, 0xc0/0xc1 or > 0xf4
			                   */
		}
		if (len - i <= (size_t)n)
			return GK_E_UTF8;
		for (int k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return GK_E_UTF8;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return GK_E_UTF8;
		if (cp >= 0x80 && cp <= 0x9f)
			return GK_E_CONTROL;
		i += (size_t)n + 1;
	}
	return GK_OK;
}

static int
digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
month_days(int y, int m)
{
	static const int md[] = {31, 28, 31, 30, 31, 30,
	                         31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : md[m - 1];
}

int
text_date_parse(const char *s, size_t len, int64_t *days_out)
{
	int y, m, d;

	if (len != 10 || s[4] != '-' || s[7] != '-' || digits(s, 4, &y) ||
	    digits(s + 5, 2, &m) || digits(s + 8, 2, &d))
		return GK_E_TIME;
	if (y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1 ||
	    d > month_days(y, m))
		return GK_E_TIME;
	if (days_out != NULL)
		*days_out = days_from_civil(y, m, d);
	return GK_OK;
}

int
text_time_parse(const char *s, size_t len, int64_t *ms_out)
{
	int64_t days;
	int hh, mm, ss, milli = 0;

	if (len != 20 && len != 24)
		return GK_E_TIME;
	if (text_date_parse(s, 10, &days) != GK_OK || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':' || s[len - 1] != 'Z' ||
	    digits(s + 11, 2, &hh) || digits(s + 14, 2, &mm) ||
	    digits(s + 17, 2, &ss))
		return GK_E_TIME;
	if (len == 24 && (s[19] != '.' || digits(s + 20, 3, &milli)))
		return GK_E_TIME;
	if (hh > 23 || mm > 59 || ss > 59)
		return GK_E_TIME;
	if (ms_out != NULL)
		*ms_out = ((days * 24 + hh) * 60 + mm) * 60000LL + ss * 1000LL +
		          milli;
	return GK_OK;
}

void
text_time_format(int64_t ms, char out[32])
{
	int64_t z = ms / 86400000, rem = ms % 86400000;

	if (rem < 0) { /* floor, without overflowing near INT64_MIN */
		z--;
		rem += 86400000;
	}
	/* civil_from_days (H. Hinnant) */
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = yoe + era * 400;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t d = doy - (153 * mp + 2) / 5 + 1;
	int64_t m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	/* Milliseconds only when there are some, so parse gives ms back. */
	if (rem % 1000 != 0)
		snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (int)y,
		         (int)m, (int)d, (int)(rem / 3600000),
		         (int)(rem / 60000 % 60), (int)(rem / 1000 % 60),
		         (int)(rem % 1000));
	else
		snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02dZ", (int)y,
		         (int)m, (int)d, (int)(rem / 3600000),
		         (int)(rem / 60000 % 60), (int)(rem / 1000 % 60));
}
