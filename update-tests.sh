#!/usr/bin/env bash
# Blesses the snapshot tests together: the macros' UI diagnostics (tests/ui/**/*.stderr) and the
# examples' manifests (tests/snapshots/*.json). Review the diff before committing.
set -euo pipefail
cd "$(dirname "$0")"
TRYBUILD=overwrite MCP_BLESS=1 cargo test -p mcp-tests --test ui --test manifests
git status --short tests/ui tests/snapshots
