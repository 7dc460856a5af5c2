/*
 * replay.c: feed the committed fuzz corpus to the fuzz target, as a test.
 *
 * libFuzzer needs clang; this needs nothing. It reads every file in the
 * corpus directory (argv[1], else $top_srcdir/FUZZ_CORPUS: tests/fuzz/corpus
 * unless the program is built with another, as fuzz-replay-pull is), in name
 * order, and passes each to LLVMFuzzerTestOneInput exactly as libFuzzer
 * would: a buffer of the file's size, no terminator. The target aborts on a
 * bug, so under `make check` with ASan and UBSan every corpus file, and
 * every crasher ever found (kept as crash-*), is a regression test.
 * Output is TAP, one line per file.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef FUZZ_CORPUS
#define FUZZ_CORPUS "tests/fuzz/corpus"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The whole file in a buffer of exactly its size; caller frees. */
static uint8_t *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	struct stat st;

	if (f == NULL)
		return NULL;
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode))
		goto out;
	*len = (size_t)st.st_size;
	buf = malloc(*len > 0 ? *len : 1);
	if (buf != NULL && fread(buf, 1, *len, f) != *len) {
		free(buf);
		buf = NULL;
	}
out:
	fclose(f);
	return buf;
}

int
main(int argc, char **argv)
{
	char dir[4096], path[8192];
	const char *top = getenv("top_srcdir");
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int failed = 0;
	DIR *d;

	if (argc > 1)
		snprintf(dir, sizeof dir, "%s", argv[1]);
	else
		snprintf(dir, sizeof dir, "%s/%s", top != NULL ? top : ".",
		         FUZZ_CORPUS);
	if ((d = opendir(dir)) == NULL) {
		printf("Bail out! %s: %s\n", dir, strerror(errno));
		return 1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			names = realloc(names, cap * sizeof *names);
			if (names == NULL)
				abort();
		}
		if ((names[n++] = strdup(de->d_name)) == NULL)
			abort();
	}
	closedir(d);
	if (n == 0) {
		printf("Bail out! %s holds no corpus\n", dir);
		return 1;
	}
	qsort(names, n, sizeof *names, cmp_names);

	printf("1..%zu\n", n);
	for (size_t i = 0; i < n; i++) {
		uint8_t *buf;
		size_t len = 0;

		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		if ((buf = slurp(path, &len)) == NULL) {
			printf("not ok %zu - corpus/%s: cannot read\n", i + 1,
			       names[i]);
			failed = 1;
		} else {
			fflush(stdout); /* the name is out before a crash */
			LLVMFuzzerTestOneInput(buf, len);
			printf("ok %zu - corpus/%s\n", i + 1, names[i]);
			free(buf);
		}
		free(names[i]);
	}
	free(names);
	return failed;
}
