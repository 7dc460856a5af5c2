# tools/lib.sh: what tools/demo and tools/check share: installing the
# Debian packages gridkeep needs, and configuring and building a tree.
# Sourced, not run.

GK_TOP=$(cd "$(dirname "$0")/.." && pwd)

# Everything the build, the tests and the demo need on Debian 12.
GK_PACKAGES="gcc make autoconf automake pkg-config libc6-dev
	libsqlite3-dev libjansson-dev libevent-dev libncurses-dev
	libargon2-dev libcmocka-dev mandoc sqlite3 curl gettext tmux"

gk_say() { printf '==> %s\n' "$*"; }

# Install the packages that are missing (as root), or say how to.
gk_deps() {
	missing=""
	for p in $GK_PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed' || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "gridkeep needs:$missing" >&2
		echo "run as root: apt-get install$missing" >&2
		exit 1
	fi
	gk_say "installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq || exit 1
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
		exit 1
}

# gk_build DIR [configure flags...]: configure DIR once, then make in it.
gk_build() {
	dir=$1
	shift
	cd "$GK_TOP" || exit 1
	if [ ! -x configure ] || [ configure.ac -nt configure ] ||
		[ Makefile.am -nt configure ]; then
		gk_say "autoreconf"
		autoreconf -fi >/dev/null 2>&1 || autoreconf -fi || exit 1
	fi
	mkdir -p "$dir"
	if [ ! -f "$dir/Makefile" ] || [ configure -nt "$dir/Makefile" ]; then
		gk_say "configure $dir $*"
		(cd "$dir" && ../configure -q "$@") || exit 1
	fi
	gk_say "make in $dir"
	make -C "$dir" -s -j"$(nproc)" || exit 1
}
