#!/usr/bin/env python3
"""Sums ctest JUnit files (ctest --output-junit) into one closing line and an exit code.

Prints the failed tests by name, then "test.sh: N passed, N failed, N skipped"; exits 1 when any
test failed or when no test ran at all.
"""
import sys
import xml.etree.ElementTree as ET


def main(paths: list[str]) -> int:
    passed = failed = skipped = 0
    failures = []
    for path in paths:
        try:
            root = ET.parse(path).getroot()
        except (OSError, ET.ParseError) as e:
            print(f"ctest_summary: cannot read {path}: {e}", file=sys.stderr)
            return 1
        for case in root.iter("testcase"):
            status = case.get("status", "")
            if case.find("failure") is not None or case.find("error") is not None or status == "fail":
                failed += 1
                failures.append(f"{path.rsplit('/', 1)[-1]}: {case.get('name')}")
            elif case.find("skipped") is not None or status in ("notrun", "disabled"):
                skipped += 1
            else:
                passed += 1
    for f in failures:
        print(f"FAILED {f}")
    print(f"test.sh: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
