#!/usr/bin/env python3
"""expect_error.py CMD ARGS...: runs CMD and checks the runtime's error rule.

The command must exit with code 1 (not crash, not hang: 60 s at most) and
write exactly one line to stderr, starting with "error: ". That line is
printed to stdout for FileCheck; any breach of the rule is reported and
makes this script exit 1.
"""
import subprocess
import sys


def main():
    try:
        proc = subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=60)
    except subprocess.TimeoutExpired:
        sys.exit("expect_error: the command hung (60 s)")
    stderr = proc.stderr.decode(errors="replace")
    lines = stderr.splitlines()
    problems = []
    if proc.returncode != 1:
        problems.append(f"exit code {proc.returncode}, expected 1")
    if len(lines) != 1 or not stderr.endswith("\n"):
        problems.append(f"{len(lines)} lines on stderr, expected 1")
    elif not lines[0].startswith("error: "):
        problems.append("the stderr line does not start with 'error: '")
    if problems:
        sys.exit("expect_error: " + "; ".join(problems) + "\nstderr was:\n" + stderr)
    print(lines[0])


if __name__ == "__main__":
    main()
