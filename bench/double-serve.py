#!/usr/bin/python3
"""The cluster double's `serve` CLI, tuned for the load test (bench/loadtest.py):

* listen backlog 4096 instead of 128 (a thousand agents connect within milliseconds);
* RLIMIT_NOFILE raised to the hard limit (one fd and one thread per kept-alive connection);
* every request-log entry also records the peer address (`peer`), so that agents bound to
  their own loopback source address (bench/srcaddr-shim.c) can be told apart;
* `--faults JSON` applied before double.json appears;
* optionally `--switch-interval S` (sys.setswitchinterval) for the GIL;

Same CLI otherwise:  double-serve.py serve --workdir DIR ... [--faults '{"rate_limit": 50}']
"""
import faulthandler
import json
import os
import resource
import signal
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "cluster"))
sys.dont_write_bytecode = True

import apiserver  # noqa: E402
import double  # noqa: E402


def main(argv):
    faults = {}
    if "--faults" in argv:
        i = argv.index("--faults")
        faults = json.loads(argv[i + 1])
        del argv[i:i + 2]
    # --nodelay and --fast-list are what the double now always does; accepted for old command lines
    for gone in ("--nodelay", "--fast-list"):
        if gone in argv:
            argv.remove(gone)
    if "--switch-interval" in argv:
        i = argv.index("--switch-interval")
        sys.setswitchinterval(float(argv[i + 1]))
        del argv[i:i + 2]
    # `kill -USR1 PID` dumps every thread's stack to stderr (where is the double's time going?)
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    apiserver._TLSServer.request_queue_size = 4096

    orig_handle = apiserver.ApiServer.handle

    def handle(self, h):
        try:
            orig_handle(self, h)
        finally:
            e = getattr(h, "_entry", None)
            if e is not None:
                e["peer"] = h.client_address[0]   # the same dict the request log holds
    apiserver.ApiServer.handle = handle

    if faults:
        orig_start = double.ClusterDouble.start

        def start(self):
            r = orig_start(self)
            self.faults.update(faults)
            return r
        double.ClusterDouble.start = start
    return double.main(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
