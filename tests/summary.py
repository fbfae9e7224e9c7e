#!/usr/bin/env python3
"""Adds up the results of every meson test run named on the command line
(build directories) and prints the closing line `N passed, N failed, N skipped`.

TAP tests count each of their subtests; other tests (fuzz runs) count once.
A TAP program that crashed after its last "ok" counts as one more failure.
Skipped tests are listed with their reason. Exits 1 when anything failed or
when no test ran at all."""
import json
import os
import re
import sys

TAP_LINE = re.compile(r"^(not ok|ok)\b\s*\d*\s*-?\s*(.*)$")


def count(build_dir, totals, skipped_reasons, failures):
    log = os.path.join(build_dir, "meson-logs", "testlog.json")
    if not os.path.exists(log):
        failures.append(f"{build_dir}: no test log (the suite did not run)")
        totals["failed"] += 1
        return
    for line in open(log, encoding="utf-8"):
        entry = json.loads(line)
        name = f"{os.path.basename(build_dir)}: {entry['name']}"
        stdout = entry.get("stdout") or ""
        tap = [TAP_LINE.match(l) for l in stdout.splitlines()]
        tap = [m for m in tap if m]
        result = entry["result"]
        if tap:
            failed_here = 0
            for m in tap:
                status, text = m.group(1), m.group(2)
                if "# SKIP" in text:
                    totals["skipped"] += 1
                    skipped_reasons.append(f"{name}: {text}")
                elif status == "ok":
                    totals["passed"] += 1
                else:
                    totals["failed"] += 1
                    failed_here += 1
                    failures.append(f"{name}: {text}")
            if result not in ("OK", "SKIP") and failed_here == 0:
                totals["failed"] += 1
                failures.append(f"{name}: {result} (exit {entry.get('returncode')}) after its last subtest")
        elif result == "OK":
            totals["passed"] += 1
        elif result == "SKIP":
            totals["skipped"] += 1
            reason = stdout.strip().splitlines()[-1] if stdout.strip() else "no reason given"
            skipped_reasons.append(f"{name}: {reason}")
        else:
            totals["failed"] += 1
            failures.append(f"{name}: {result} (exit {entry.get('returncode')})")


def main():
    totals = {"passed": 0, "failed": 0, "skipped": 0}
    skipped_reasons, failures = [], []
    for build_dir in sys.argv[1:]:
        count(build_dir, totals, skipped_reasons, failures)
    for s in skipped_reasons:
        print(f"skipped: {s}")
    for f in failures:
        print(f"FAILED: {f}")
    print(f"{totals['passed']} passed, {totals['failed']} failed, {totals['skipped']} skipped")
    ran = totals["passed"] + totals["failed"]
    return 1 if totals["failed"] or ran == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
