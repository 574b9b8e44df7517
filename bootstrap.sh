#!/bin/sh
# bootstrap.sh: set up, build and try hazexec on a fresh Debian machine.
#
#   ./bootstrap.sh
#
# 1. installs the build packages if any is missing (apt-get as root, or
#    through sudo);
# 2. generates the build system, configures and builds;
# 3. runs the demo workspace in examples/demo with hazrun, twice: the
#    first run fills the cache (examples/demo/.haz/cache), the second
#    restores every task from it.
set -eu

PACKAGES="autoconf automake libtool libcunit1-dev pkg-config"

missing=
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
        grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
    if [ "$(id -u)" -eq 0 ]; then
        SUDO=
    elif command -v sudo >/dev/null 2>&1; then
        SUDO=sudo
    else
        echo "bootstrap.sh: please install:$missing" >&2
        exit 1
    fi
    echo "bootstrap.sh: installing$missing"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $PACKAGES
fi

./autogen.sh
./configure
make

echo
echo "==> ./examples/hazrun -C examples/demo"
./examples/hazrun -C examples/demo
echo
echo "==> ./examples/hazrun -C examples/demo   (again: every task from the cache)"
./examples/hazrun -C examples/demo
