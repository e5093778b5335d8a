"""Microbenchmark of expression evaluation (the fast path and typical YAQL / Jinja).

    python tools/bench/expr_microbench.py [--repeat 5] [--json out.json]

Prints the best-of-``repeat`` CPU time per evaluation for each expression over
a 500-key context, as in docs/expressions.md ("Performance"). Used to compare
before / after a change to the evaluator (docs/performance.md, "Expression budgets").
"""

from __future__ import annotations

import argparse
import json
import time
import timeit
from typing import Any

from wfaas.expressions import StaticFunctionContext, evaluate

CASES: list[tuple[str, int]] = [
    ("<% $.x + 1 %>", 20000),
    ('<% $.d.k = "v" and $.x > 0 %>', 20000),
    ("<% len($.l) > 0 %>", 20000),
    ("<% task(a).result.id %>", 3000),
    ("<% $.items.select({id => $.id}) %>", 100),
    ("<% $.items.where($.id > 50).select($.id).sum() %>", 100),
    ('<% regex("a.c").matches($.s) %>', 3000),
    ("{{ _.x + 1 }}", 5000),
    ("{% for i in _.rows %}{{ i.id }},{% endfor %}", 300),
]


def _data() -> dict[str, Any]:
    data: dict[str, Any] = {f"k{i}": i for i in range(500)}
    data.update(x=3, d={"k": "v"}, l=[1, 2, 3], s="xxabcxx",
                items=[{"id": i} for i in range(100)],
                rows=[{"id": i} for i in range(100)])
    return data


def measure(repeat: int) -> dict[str, float]:
    """Best-of-``repeat`` seconds per evaluation, by expression."""
    data = _data()
    functions = StaticFunctionContext(task_executions=[
        {"name": "a", "state": "SUCCESS", "result": {"id": 1}}])
    results: dict[str, float] = {}
    for text, number in CASES:
        try:
            evaluate(text, data, functions)
        except Exception as exc:  # noqa: BLE001 - report and go on
            print(f"{text}: {exc}")
            continue
        timer = timeit.Timer(lambda t=text: evaluate(t, data, functions),
                             timer=time.process_time)
        best = min(timer.repeat(repeat=repeat, number=number)) / number
        results[text] = best
    return results


def main() -> None:
    """Run the cases and print (or save) the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    results = measure(args.repeat)
    for text, seconds in results.items():
        print(f"{seconds * 1e6:10.2f} µs  {text}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(results, out, indent=2)


if __name__ == "__main__":
    main()
