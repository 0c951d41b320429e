# -*- coding: utf-8 -*-
# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark-only Python interpreter wrapper: runs the real interpreter as a child and logs its peak RSS.

The benchmark points ansible_python_interpreter at a tiny shell shim that execs this file. Ansible then starts
`<shim> /path/AnsiballZ_<module>.py` (or the interpreter with the module on stdin when pipelining). The wrapper:

1. appends a "start" record (the child's pid, wall-clock time) to $TCCVM_BENCH_RSS_LOG, so the benchmark can
   also watch /proc/<pid>/status (VmHWM) of exactly that process while it runs;
2. fork()s, and the child exec()s the real interpreter ($TCCVM_BENCH_REAL_PYTHON) with the same arguments, stdin,
   stdout and stderr (AnsiballZ runs the module inside that process: no further child);
3. waits with os.wait4(), which returns the kernel's resource usage of that child, including ru_maxrss: the peak
   resident set size over the child's whole life (in KiB on Linux), measured by the kernel, so no sampling can
   miss a short peak, not even one right before exit (e.g. while serialising the result);
4. appends an "end" record (maxrss, exit status, times) and exits with the child's status.

Standard library only; costs one extra small Python start (tens of milliseconds) per module run.
"""

import json
import os
import sys
import time


def _log(record):
    path = os.environ.get("TCCVM_BENCH_RSS_LOG")
    if not path:
        return
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")


def main():
    real = os.environ.get("TCCVM_BENCH_REAL_PYTHON") or sys.executable
    argv = [real] + sys.argv[1:]
    started = time.time()
    pid = os.fork()
    if pid == 0:  # the child: become the real interpreter
        try:
            os.execv(real, argv)
        finally:
            os._exit(127)  # pylint: disable=protected-access
    _log({"event": "start", "pid": pid, "time": started, "argv": sys.argv[1:2]})
    while True:
        try:
            status, usage = os.wait4(pid, 0)[1:]
            break
        except InterruptedError:
            continue
    ended = time.time()
    code = os.waitstatus_to_exitcode(status)
    _log({"event": "end", "pid": pid, "time": ended, "start_time": started, "maxrss_kib": usage.ru_maxrss,
          "user_s": usage.ru_utime, "sys_s": usage.ru_stime, "exit_code": code})
    sys.exit(code if code >= 0 else 128 - code)


if __name__ == "__main__":
    main()
