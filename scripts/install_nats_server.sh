#!/usr/bin/env bash
# Installs the pinned nats-server (Go module proxy, `go install`) as
# .tools/bin/nats-server and prints its path. Idempotent: a second run finds
# the binary and skips the ≈45 s build. Needs go (PATH or /usr/local/go/bin).
set -euo pipefail
NATS_SERVER_VERSION=v2.15.2
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/.tools/bin"
if ! "$bin/nats-server" --version 2>/dev/null | grep -qx "nats-server: $NATS_SERVER_VERSION"; then
  go=$(command -v go || echo /usr/local/go/bin/go)
  mkdir -p "$bin"
  GOBIN="$bin" "$go" install "github.com/nats-io/nats-server/v2@$NATS_SERVER_VERSION" >&2
fi
echo "$bin/nats-server"
