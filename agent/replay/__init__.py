"""Batch replay of logged conversations through a bot, with a report people can read.

    python -m agent replay yesterday.jsonl --out runs/2026-11-23 [--compare runs/2026-11-22]

One concept per module:

    log.py         the log model (conversations, turns) and the problems found reading it
    inputs.py      JSONL and CSV readers (and writers); malformed lines reported by number and skipped
    stored.py      conversations already in a store, by id or date range
    runner.py      continuous batching across conversations (respond_batch), progress, the write loop
    results.py     results.jsonl: whole conversations per write, recovery for --resume
    manifest.py    run.json: input, bot, and each (resumed) segment's throughput
    report.py      report.json: counts, accuracy, confusions, rates, sources, confidence, latency
    compare.py     turn-by-turn changes against a previous replay (regressions first)
    html.py        report.html: the same report with inline matplotlib plots
    ray_engine.py  the same replay on Ray (ray.data, one bot per worker)
    command.py     the `replay` command end to end; args.py its arguments
"""
