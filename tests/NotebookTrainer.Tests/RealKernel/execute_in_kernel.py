#!/usr/bin/python3
"""Executes notebooks in order in a real Jupyter kernel with nbclient (what `jupyter nbconvert --execute` uses).

The kernelspec is looked up the usual way (JUPYTER_PATH); each notebook gets a fresh kernel whose working
directory is the notebook's folder. Executed notebooks are written to --out even when a cell fails; the run
stops at the first failing notebook, since later notebooks build on earlier ones.
Exit codes: 0 all ran, 1 a cell failed or timed out, 2 nbclient or the kernelspec is missing.
"""
import argparse
import json
import os
import sys
import time

try:
    import nbformat
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
except ImportError as missing:
    print(f"{missing}: install Debian's python3-nbclient (apt-get install python3-nbclient)", file=sys.stderr)
    sys.exit(2)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kernel", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--cell-timeout", type=int, required=True)
    parser.add_argument("--startup-timeout", type=int, default=180)
    parser.add_argument("notebooks", nargs="+")
    args = parser.parse_args()

    try:
        KernelSpecManager().get_kernel_spec(args.kernel)
    except NoSuchKernel:
        print(f"no kernelspec '{args.kernel}' on JUPYTER_PATH={os.environ.get('JUPYTER_PATH', '')}", file=sys.stderr)
        return 2

    os.makedirs(args.out, exist_ok=True)
    for path in args.notebooks:
        notebook = nbformat.read(path, as_version=4)
        client = NotebookClient(
            notebook,
            kernel_name=args.kernel,
            timeout=args.cell_timeout,
            startup_timeout=args.startup_timeout,
            shutdown_kernel="immediate",
            resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}},
        )
        start = time.monotonic()
        failure = None
        try:
            client.execute()
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as error:
            failure = f"{type(error).__name__}: {str(error)[-2000:]}"
        finally:
            nbformat.write(notebook, os.path.join(args.out, os.path.basename(path)))
        print(json.dumps({"notebook": os.path.basename(path), "seconds": round(time.monotonic() - start, 1), "failure": failure}), flush=True)
        if failure:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
