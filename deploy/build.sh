#!/bin/sh
# build.sh OUT [PACKAGE] builds a static, reproducible binary of PACKAGE
# (default ./cmd/triage) at OUT, for GOOS/GOARCH from the environment (default:
# the Go toolchain's own). deploy/Dockerfile builds the image's binaries with
# this script, and deploy/deploy_test.go runs it too, so the flags below are the
# only place the release build is defined.
#
#   CGO_ENABLED=0   static binary: runs on distroless/static or scratch
#   -trimpath       no build-machine paths in the binary
#   -buildvcs=false the same bytes with or without .git in the build context
#   -ldflags -s -w  no symbol table or DWARF: a smaller image
set -eu

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: deploy/build.sh OUT [PACKAGE]" >&2
	exit 2
fi
out=$1
pkg=${2:-./cmd/triage}
case $out in
/*) ;;
*) out=$(pwd)/$out ;;
esac

cd "$(dirname "$0")/.."
GOOS=${GOOS:-$(go env GOOS)}
GOARCH=${GOARCH:-$(go env GOARCH)}
CGO_ENABLED=0
export GOOS GOARCH CGO_ENABLED

exec go build -trimpath -buildvcs=false -ldflags "-s -w" -o "$out" "$pkg"
