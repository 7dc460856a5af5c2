#!/bin/sh
# test-man.sh: the manual pages are lint-clean, and document exactly the
# commands and options that the programs' own help lists. Prints TAP.
#
# Run by `make check` with top_srcdir, top_builddir and MANDOC set (see
# AM_TESTS_ENVIRONMENT in Makefile.am). An empty MANDOC fails: the pages
# are never left unchecked.

top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}

n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; }
# check DESCRIPTION COMMAND...: ok if the command succeeds.
check() {
	desc=$1
	shift
	if "$@"; then
		ok "$desc"
	else
		not_ok "$desc"
		return 1
	fi
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gridkeep-man.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

if [ -z "${MANDOC:-}" ]; then
	not_ok "mandoc was found by configure (MANDOC is empty: apt-get install mandoc)"
	echo "1..$n"
	exit 1
fi

# The commands a program's help lists: the first word of each line of
# its "commands:" block.
help_commands() {
	"$1" help | sed -n '/^commands:$/,/^$/p' | awk 'NR > 1 && NF { print $1 }'
}

# The options its usage names (-d, --version, ...).
help_options() {
	"$1" help | sed '/^commands:$/,$d' | tr ' |[]' '\n\n\n\n' |
	    grep -e '^-' | sort -u
}

# The commands a page documents: ".It Cm name" (only the command list
# uses Cm as a list head).
man_commands() {
	sed -n 's/^\.It Cm \([a-z][a-z-]*\).*/\1/p' "$1"
}

# True if the page documents the option: "-d" as "Fl d", "--version" as
# "Fl \-version", not followed by more of a longer name.
man_has_option() {
	GK_FLAG="Fl $(printf '%s\n' "$2" | sed 's/^-//; s/^-/\\-/')" \
	    awk '{
		i = index($0, ENVIRON["GK_FLAG"])
		if (i == 0)
			next
		c = substr($0, i + length(ENVIRON["GK_FLAG"]), 1)
		if (c == "" || c !~ /[a-z-]/)
			found = 1
	    } END { exit !found }' "$1"
}

for pair in gridkeepd:gridkeepd.8 gridkeep:gridkeep.1; do
	prog=$top_builddir/${pair%%:*}
	page=${pair#*:}
	file=$top_srcdir/man/$page

	"$MANDOC" -Tlint -W warning "$file" >"$tmp/lint" 2>&1
	status=$?
	if [ "$status" -eq 0 ] && [ ! -s "$tmp/lint" ]; then
		ok "$page is lint-clean (mandoc -Tlint -W warning)"
	else
		not_ok "$page is lint-clean (mandoc -Tlint -W warning)"
		sed 's/^/# /' "$tmp/lint"
	fi

	if ! help_commands "$prog" >"$tmp/help" 2>/dev/null ||
	    [ ! -s "$tmp/help" ]; then
		not_ok "${pair%%:*} help lists its commands"
		continue
	fi
	man_commands "$file" >"$tmp/man"
	for cmd in $(cat "$tmp/help"); do
		check "$page documents the command $cmd" \
		    grep -qx -e "$cmd" "$tmp/man"
	done
	extra=$(grep -vx -f "$tmp/help" "$tmp/man")
	check "$page documents no command ${pair%%:*} lacks${extra:+ ($extra)}" \
	    test -z "$extra"
	for opt in $(help_options "$prog"); do
		check "$page documents the option $opt" \
		    man_has_option "$file" "$opt"
	done
done

# Pages of no program's help: lint only.
for page in gridkeepd.conf.5 gridkeep-sync.7; do
	"$MANDOC" -Tlint -W warning "$top_srcdir/man/$page" >"$tmp/lint" 2>&1
	status=$?
	if [ "$status" -eq 0 ] && [ ! -s "$tmp/lint" ]; then
		ok "$page is lint-clean (mandoc -Tlint -W warning)"
	else
		not_ok "$page is lint-clean (mandoc -Tlint -W warning)"
		sed 's/^/# /' "$tmp/lint"
	fi
done

# Every stable error code is explained to client authors.
for code in $(sed -n 's/.*\] = "\([a-z_]*\)",$/\1/p' \
    "$top_srcdir/sync/error.c"); do
	[ "$code" = ok ] && continue
	check "gridkeep-sync.7 explains the code $code" \
	    grep -q -e "$code" "$top_srcdir/man/gridkeep-sync.7"
done

echo "1..$n"
