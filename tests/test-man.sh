#!/bin/sh
# test-man.sh: the manual pages are lint-clean, and document exactly the
# commands and options that the programs' own help lists; gridkeep(1) also
# the options of each command (`gridkeep CMD --help`), every record action
# and its options (`gridkeep ACTION --help`), every key of the terminal
# interface's help tables (struct ui_keyhelp in client/ui*.c), every
# environment variable the client reads (getenv in client/*.c) and the
# files it makes. Prints TAP.
#
# Run by `make check` with top_srcdir, top_builddir and MANDOC set (see
# AM_TESTS_ENVIRONMENT in Makefile.am). An empty MANDOC fails: the pages
# are never left unchecked.

top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
# The help is parsed in English, whatever the caller's locale.
LC_ALL=C
export LC_ALL
unset LANGUAGE

. "$top_srcdir/tests/lib.sh"
gk_setup man

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

# The record actions gridkeep's help lists: the first word of each line
# of its "records" block.
help_actions() {
	"$1" help | sed -n '/^records/,/^$/p' | awk 'NR > 1 && NF { print $1 }'
}

# The lines of a page from ".Sh TITLE" to the next .Sh, with "\&" and
# "\-" made plain.
man_section() {
	awk -v t=".Sh $2" '
	    $0 == t { on = 1; next }
	    /^\.Sh / { on = 0 }
	    on' "$1" | sed 's/\\&//g; s/\\-/-/g'
}

# The words of text read from stdin, one a line: macro lines lose their
# leading ".Xx", and commas and spaces split words.
words() {
	sed 's/^\.[A-Z][a-z] *//' | tr ' ,\t' '\n\n\n' | grep -v '^$' | sort -u
}

# The block of ".It Cm NAME": its head line and text, up to the next .It
# or .El, with "\-" made plain.
man_item() {
	awk -v n="$2" '
	    $1 == ".It" && $2 == "Cm" { on = ($3 == n); if (on) print; next }
	    /^\.(It|El)/ { on = 0 }
	    on' "$1" | sed 's/\\-/-/g'
}

# True if stdin (a page's text, "\-" made plain) names --OPT as "Fl -OPT"
# not followed by more of a longer name.
has_flag() {
	GK_FLAG="Fl -$1" awk '{
		s = $0
		while ((i = index(s, ENVIRON["GK_FLAG"])) > 0) {
			c = substr(s, i + length(ENVIRON["GK_FLAG"]), 1)
			if (c == "" || c !~ /[a-z_-]/)
				found = 1
			s = substr(s, i + 1)
		}
	    } END { exit !found }'
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
	if [ "$page" = gridkeep.1 ]; then
		# A command's own options (`gridkeep CMD --help` on standard
		# output; most commands take none and only complain on
		# standard error) are in the command's entry.
		for cmd in $(cat "$tmp/help"); do
			"$prog" -d "$tmp/none.db" "$cmd" --help \
			    >"$tmp/cmdhelp" 2>/dev/null
			man_item "$file" "$cmd" >"$tmp/item"
			for opt in $(grep -o -e '--[a-z][a-z0-9_-]*' \
			    "$tmp/cmdhelp" | grep -vx -e '--help' | sort -u); do
				check "$page documents $cmd ${opt}" \
				    has_flag "${opt#--}" <"$tmp/item"
			done
		done
		if ! help_actions "$prog" >"$tmp/actions" 2>/dev/null ||
		    [ ! -s "$tmp/actions" ]; then
			not_ok "gridkeep help lists the record actions"
		fi
		for act in $(cat "$tmp/actions"); do
			check "$page documents the action $act" \
			    grep -qx -e "$act" "$tmp/man"
			# Every --option of `gridkeep ACTION --help`, in the
			# action's own entry of the page.
			"$prog" -d "$tmp/none.db" "$act" --help \
			    >"$tmp/acthelp" 2>&1
			opts=$(grep -o -e '--[a-z][a-z0-9_-]*' "$tmp/acthelp" |
			    grep -vx -e '--help' | sort -u)
			check "gridkeep $act --help lists its options" \
			    test -n "$opts"
			man_item "$file" "$act" >"$tmp/item"
			for opt in $opts; do
				check "$page documents $act ${opt}" \
				    has_flag "${opt#--}" <"$tmp/item"
			done
		done
		cat "$tmp/actions" >>"$tmp/help"
	fi
	extra=$(grep -vx -f "$tmp/help" "$tmp/man")
	check "$page documents no command ${pair%%:*} lacks${extra:+ ($extra)}" \
	    test -z "$extra"
	for opt in $(help_options "$prog"); do
		check "$page documents the option $opt" \
		    man_has_option "$file" "$opt"
	done
done

# Every key of the terminal interface's help tables is in the page's
# THE TERMINAL INTERFACE: the key column of each {"key", N_("what")} line
# of a struct ui_keyhelp table, split into keys at commas and spaces.
page=$top_srcdir/man/gridkeep.1
man_section "$page" "THE TERMINAL INTERFACE" | words >"$tmp/uiwords"
awk '
    /struct ui_keyhelp [A-Za-z0-9_]*\[\]/ { on = 1 }
    on && /^[ \t]*\{"/ {
	s = $0
	sub(/^[ \t]*\{"/, "", s)
	sub(/",.*/, "", s)
	print s
    }
    on && /\{NULL, NULL\}/ { on = 0 }' "$top_srcdir"/client/ui*.c |
    sed 's/\\"/"/g' | tr ' ,' '\n\n' | grep -v '^$' | sort -u >"$tmp/keys"
check "the terminal interface has help tables (struct ui_keyhelp)" \
    test -s "$tmp/keys"
while IFS= read -r key; do
	check "gridkeep.1 documents the key $key" \
	    grep -qxF -e "$key" "$tmp/uiwords"
done <"$tmp/keys"

# Every environment variable the client reads is in ENVIRONMENT, as "Ev".
man_section "$page" ENVIRONMENT >"$tmp/env"
for var in $(cat "$top_srcdir"/client/*.c |
    sed -n 's/.*getenv("\([A-Za-z_][A-Za-z0-9_]*\)").*/\1/p' | sort -u); do
	check "gridkeep.1 documents the environment variable $var" \
	    grep -q -e "^\.It Ev .*\<$var\>" -e "^\.It Ev $var\$" "$tmp/env"
done

# The files the client makes are in FILES: the default replica (its path
# in client/replica.c) and the token file beside it (its suffix in
# client/session.c).
man_section "$page" FILES >"$tmp/files"
for f in $(sed -n 's/.*"%s\(\/[A-Za-z0-9_./]*\)".*/\1/p' \
    "$top_srcdir/client/replica.c" | sed 's/.*\///' | sort -u) \
    $(sed -n 's/.*"%s\(\.[a-z]*\)", c->db_path.*/\1/p' \
    "$top_srcdir/client/session.c"); do
	check "gridkeep.1 documents the file $f" \
	    grep -q -e "^\.It Pa .*$f" "$tmp/files"
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
