#!/usr/bin/env bash
# The README's test command: installs what the tests need (build/install-deps.sh), then runs every test, the
# notebooks in the real .NET Interactive kernel included. Extra arguments go to dotnet test, e.g.
# build/test.sh --filter "Category!=RealKernel" for a quick run without the kernel.
set -euo pipefail
cd "$(dirname "$0")/.."
build/install-deps.sh
dotnet test NotebookTrainer.sln -c Release "$@"
