#!/usr/bin/env bash
# Installs what a fresh Debian 12 / Ubuntu 22.04+ machine with the .NET SDK lacks for the tests and for running
# the notebooks in Jupyter: Debian packages (python3-nbformat and python3-onnx for the format checks,
# python3-jsonschema for the dev container schema, python3-opencv as the resize reference, python3-numpy to open our .npz files, chromium for the
# browser tests, python3-nbclient to drive the .NET Interactive kernel, git to copy the working tree) and the
# kernel itself, the dotnet tool version pinned in dotnet-tools.json.
# Runs as root (CI) or through sudo.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
/usr/bin/python3 -c 'import nbformat' 2>/dev/null || missing+=(python3-nbformat)
/usr/bin/python3 -c 'import nbclient' 2>/dev/null || missing+=(python3-nbclient)
/usr/bin/python3 -c 'import jsonschema' 2>/dev/null || missing+=(python3-jsonschema)
/usr/bin/python3 -c 'import onnx' 2>/dev/null || missing+=(python3-onnx)
/usr/bin/python3 -c 'import cv2' 2>/dev/null || missing+=(python3-opencv)
/usr/bin/python3 -c 'import numpy' 2>/dev/null || missing+=(python3-numpy)
command -v chromium >/dev/null || missing+=(chromium)
command -v git >/dev/null || missing+=(git)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "not root and no sudo: install ${missing[*]} as root, then run this again" >&2; exit 1; }
    sudo=(sudo)
  fi
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The .NET Interactive kernel (Microsoft.dotnet-interactive) as a local tool: `dotnet interactive` inside this
# repository runs the pinned version.
dotnet tool restore
