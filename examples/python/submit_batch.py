#!/usr/bin/env python3
"""Submit a batch to Floodgate over HTTP and print its outcomes in input order as they arrive.

Standard library only. Items are read one per line from a file (or standard input); a line that is valid JSON is sent
as that JSON value, any other line as a string.

    python3 submit_batch.py --floodgate http://127.0.0.1:5000 --processor openai-chat \
        --option template="Define {word}" --option cache=true --local-limit 50 words.jsonl

Each outcome is printed as one JSON line: {"position":0,"status":"succeeded","result":{...},"error":null,...}.
Exit code 0 when every item succeeded, 1 when some failed, 2 on a usage or HTTP error.
"""
import argparse
import json
import sys
import urllib.error
import urllib.request


def parse_item(line):
    try:
        return json.loads(line)
    except json.JSONDecodeError:
        return line


def request(url, api_key, body=None, method="GET"):
    data = None if body is None else json.dumps(body).encode("utf-8")
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Accept", "application/json, application/x-ndjson")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if api_key:
        req.add_header("X-Api-Key", api_key)
    return urllib.request.urlopen(req, timeout=300)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("items", nargs="?", help="file with one item per line (default: standard input)")
    parser.add_argument("--floodgate", default="http://127.0.0.1:5000", help="base URL of any silo")
    parser.add_argument("--api-key", default=None, help="client API key, when the silo requires one")
    parser.add_argument("--processor", default="echo")
    parser.add_argument("--option", action="append", default=[], metavar="NAME=VALUE", help="processor option (repeatable)")
    parser.add_argument("--limiter", default=None)
    parser.add_argument("--local-limit", type=int, default=None)
    args = parser.parse_args(argv)

    source = open(args.items, encoding="utf-8") if args.items else sys.stdin
    with source:
        items = [parse_item(line.rstrip("\n")) for line in source if line.strip()]

    options = {}
    for option in args.option:
        name, sep, value = option.partition("=")
        if not sep:
            parser.error(f"--option must be NAME=VALUE (got '{option}')")
        options[name] = value

    spec = {"items": items, "processor": args.processor, "processorOptions": options}
    if args.limiter:
        spec["limiter"] = args.limiter
    if args.local_limit:
        spec["localLimit"] = args.local_limit

    base = args.floodgate.rstrip("/")
    try:
        with request(f"{base}/api/batches", args.api_key, spec, method="POST") as response:
            batch = json.load(response)
        batch_id = batch["batchId"]
        print(f"batch {batch_id}: {len(items)} items", file=sys.stderr)

        failed = 0
        # The results stream is NDJSON in input order; each line arrives as soon as the completed prefix grows.
        with request(f"{base}/api/batches/{batch_id}/results", args.api_key) as response:
            for raw in response:
                line = raw.decode("utf-8").strip()
                if not line:
                    continue
                outcome = json.loads(line)
                failed += outcome["status"] != "succeeded"
                print(line, flush=True)
    except urllib.error.HTTPError as error:
        detail = error.read().decode("utf-8", "replace")
        print(f"Floodgate answered {error.code}: {detail}", file=sys.stderr)
        return 2
    except urllib.error.URLError as error:
        print(f"Cannot reach Floodgate at {base}: {error.reason}", file=sys.stderr)
        return 2

    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
