"""Every example in openapi.yaml, and the request of every sample event in events/, validates
against the schema that describes it. Exits non-zero, naming each mismatch.

OpenAPI 3.0's `nullable` becomes JSON Schema's null type; `$ref`s resolve within the document.
"""

import base64
import json
import pathlib
import re
import sys
import urllib.parse

import jsonschema
import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOC = yaml.safe_load((ROOT / "openapi.yaml").read_text())
METHODS = ("get", "put", "post", "patch", "delete")


def json_schema(node):
    if isinstance(node, list):
        return [json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: json_schema(v) for k, v in node.items() if k not in ("nullable", "example")}
    if node.get("nullable"):
        return {"anyOf": [out, {"type": "null"}]}
    return out


COMPONENTS = json_schema(DOC["components"])
failures = []
checked = 0


def check(where, schema, value):
    global checked
    checked += 1
    root = dict(json_schema(schema))
    root["components"] = COMPONENTS
    errors = list(jsonschema.Draft7Validator(root).iter_errors(value))
    for e in errors:
        failures.append(f"{where}: {e.message} at /{'/'.join(map(str, e.absolute_path))}")


def deref(node):
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 10:
        target = DOC
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
        seen += 1
    return node


def media_examples(where, media):
    for ct, m in (media or {}).items():
        if "example" in m and "schema" in m:
            check(f"{where} {ct} example", m["schema"], m["example"])
        for name, ex in (m.get("examples") or {}).items():
            check(f"{where} {ct} examples.{name}", m["schema"], deref(ex)["value"])


def walk_schema_examples(where, node):
    if isinstance(node, dict):
        if "example" in node and ("type" in node or "$ref" in node or "anyOf" in node):
            check(f"{where} example", node, node["example"])
        for k, v in node.items():
            walk_schema_examples(f"{where}/{k}", v)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            walk_schema_examples(f"{where}/{i}", v)


# Examples in the document.
for path, ops in DOC["paths"].items():
    for method, op in ops.items():
        if method not in METHODS:
            continue
        where = f"{method.upper()} {path}"
        for p in op.get("parameters", []):
            p = deref(p)
            if "example" in p:
                check(f"{where} parameter {p['name']}", p["schema"], p["example"])
        if "requestBody" in op:
            media_examples(f"{where} request", deref(op["requestBody"]).get("content"))
        for status, resp in op["responses"].items():
            media_examples(f"{where} {status}", deref(resp).get("content"))
walk_schema_examples("components", DOC["components"])


# The sample events: each is a request its operation's schemas accept.
def operation_of(route_key):
    method, path = route_key.split(" ", 1)
    op = DOC["paths"].get(path, {}).get(method.lower())
    return path, op


def template_params(template, raw_path):
    names = re.findall(r"{(\w+)}", template)
    pattern = "^" + re.sub(r"{\w+}", "([^/]+)", template) + "$"
    m = re.match(pattern, raw_path)
    if not m:
        return None
    return {n: urllib.parse.unquote(v) for n, v in zip(names, m.groups())}


for event_file in sorted((ROOT / "events").glob("*.json")):
    event = json.loads(event_file.read_text())
    if "routeKey" not in event:
        continue  # a stream or job event, not an HTTP request
    where = f"events/{event_file.name}"
    path, op = operation_of(event["routeKey"])
    if op is None:
        failures.append(f"{where}: {event['routeKey']} is not in openapi.yaml")
        continue
    params = template_params(path, event["rawPath"]) or {}
    for p in op.get("parameters", []):
        p = deref(p)
        if p["in"] == "path":
            check(f"{where} path {p['name']}", p["schema"], params.get(p["name"]))
    body = event.get("body")
    if body is None or "requestBody" not in op:
        continue
    raw = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
    content = deref(op["requestBody"])["content"]
    if "application/json" in content:
        check(f"{where} body", content["application/json"]["schema"], json.loads(raw))
    elif "multipart/form-data" in content:
        headers = {k.lower(): v for k, v in event.get("headers", {}).items()}
        boundary = headers["content-type"].split("boundary=", 1)[1].strip('"')
        form = {}
        for part in raw.split(b"--" + boundary.encode())[1:-1]:
            head, _, value = part.strip(b"\r\n").partition(b"\r\n\r\n")
            name = re.search(rb'name="([^"]+)"', head).group(1).decode()
            form[name] = value.decode()
        check(f"{where} form", content["multipart/form-data"]["schema"], form)

for f in failures:
    print(f"spec examples FAIL: {f}")
print(f"spec examples: {checked} checked, {len(failures)} failed")
sys.exit(1 if failures else 0)
