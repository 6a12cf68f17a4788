"""The former spark-submit entry, kept so that commands and scripts naming it still work.

A script shim: run by spark-submit as a file, or as `python -m toolkit.engines.submit
--path`, it runs toolkit/spark_submit.py as __main__ (runpy) with the same arguments,
so `--path` prints that file's path and any other command runs there, on the Spark
engine. It imports no toolkit module: the engines stay below the CLI.
"""

from __future__ import annotations

import runpy

if __name__ == "__main__":
    runpy.run_module("toolkit.spark_submit", run_name="__main__", alter_sys=True)
