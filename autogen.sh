#!/bin/sh
# autogen.sh: generate configure and Makefile.in from a fresh checkout.
# Needs autoconf, automake, libtool and (for the CUnit probe) pkg-config.
set -e
cd "$(dirname "$0")"
mkdir -p m4
autoreconf -fi
