"""Input schemas as providers publish them, for the strict fakes' model listings.

- `fal_openapi`: fal's per-endpoint queue OpenAPI document (`GET https://fal.ai/api/openapi/queue/openapi.json?
  endpoint_id=…`, and the `openapi` field of its model search with `expand=openapi-3.0`): `info.x-fal-metadata`,
  the input and output schemas under `components.schemas`, the queue's four paths (submit, status, cancel,
  result), `servers` and `security`, shaped as fal's documents are (optional inputs as `anyOf` with null,
  `x-fal-order-properties`).
- `cog_openapi`: a Replicate model version's `openapi_schema` as Cog writes it: `components.schemas.Input`
  with `x-order`, each enum its own schema referenced through a one-item `allOf`.
- `check_input`: a model's input checked against its own published schema, as the provider does (an input it
  does not define is refused), for the models a fake serves from their schema alone.

Each property is given as `(json schema, required)`; enums are plain lists here and are written out the way
each provider writes them.
"""

from __future__ import annotations


def _title(name: str) -> str:
    return name.replace("_", " ").title()


def fal_openapi(endpoint_id: str, *, category: str, schema_name: str, properties: dict) -> dict:
    """The queue OpenAPI document of one fal endpoint."""
    inputs, required, order = {}, [], []
    for name, (spec, needed) in properties.items():
        spec = {"title": _title(name), **spec}
        if not needed and "enum" not in spec and spec.get("type") in ("string", "integer", "number"):
            # fal writes an optional scalar without a default as "anyOf": [{type}, {"type": "null"}]
            spec = {"title": spec["title"], "anyOf": [{"type": spec["type"]}, {"type": "null"}],
                    **{k: v for k, v in spec.items() if k not in ("type", "title")}}
        inputs[name] = spec
        order.append(name)
        if needed:
            required.append(name)
    base = f"/{endpoint_id}"
    request_id = [{"name": "request_id", "in": "path", "required": True,
                   "schema": {"type": "string", "description": "Request ID"}}]
    return {
        "openapi": "3.0.4",
        "info": {"title": f"Queue OpenAPI for {endpoint_id}", "version": "1.0.0",
                 "description": f"The OpenAPI schema for the {endpoint_id} queue.",
                 "x-fal-metadata": {"endpointId": endpoint_id, "category": category,
                                    "playgroundUrl": f"https://fal.ai/models/{endpoint_id}",
                                    "documentationUrl": f"https://fal.ai/models/{endpoint_id}/api"}},
        "components": {
            "securitySchemes": {"apiKeyAuth": {"type": "apiKey", "in": "header", "name": "Authorization",
                                               "description": "Fal Key"}},
            "schemas": {
                "QueueStatus": {"type": "object", "properties": {
                    "status": {"type": "string", "enum": ["IN_QUEUE", "IN_PROGRESS", "COMPLETED"]},
                    "request_id": {"type": "string", "description": "The request id."},
                    "response_url": {"type": "string"}, "status_url": {"type": "string"},
                    "cancel_url": {"type": "string"}, "logs": {"type": "object", "additionalProperties": True},
                    "metrics": {"type": "object", "additionalProperties": True},
                    "queue_position": {"type": "integer"}}, "required": ["status", "request_id"]},
                f"{schema_name}Input": {"title": f"{schema_name}Input", "type": "object", "properties": inputs,
                                        "x-fal-order-properties": order, "required": required},
                f"{schema_name}Output": {"title": f"{schema_name}Output", "type": "object",
                                         "properties": {"video": {"$ref": "#/components/schemas/File"}},
                                         "x-fal-order-properties": ["video"], "required": ["video"]},
                "File": {"title": "File", "type": "object", "required": ["url"],
                         "properties": {"url": {"title": "Url", "type": "string"},
                                        "content_type": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                                        "file_name": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                                        "file_size": {"anyOf": [{"type": "integer"}, {"type": "null"}]}}},
            },
        },
        "paths": {
            f"{base}/requests/{{request_id}}/status": {"get": {"parameters": [*request_id, {
                "name": "logs", "in": "query", "required": False, "schema": {"type": "number"}}],
                "responses": {"200": {"description": "The request status.", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/QueueStatus"}}}}}}},
            f"{base}/requests/{{request_id}}/cancel": {"put": {"parameters": request_id, "responses": {
                "200": {"description": "The request was cancelled."}}}},
            base: {"post": {"requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": f"#/components/schemas/{schema_name}Input"}}}},
                "responses": {"200": {"description": "The request status.", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/QueueStatus"}}}}}}},
            f"{base}/requests/{{request_id}}": {"get": {"parameters": request_id, "responses": {
                "200": {"description": "Result of the request.", "content": {"application/json": {
                    "schema": {"$ref": f"#/components/schemas/{schema_name}Output"}}}}}}},
        },
        "servers": [{"url": "https://queue.fal.run"}],
        "security": [{"apiKeyAuth": []}],
    }


def cog_openapi(properties: dict) -> dict:
    """A Replicate version's openapi_schema (Cog): Input, its enums as schemas of their own, and Output."""
    inputs, enums, required = {}, {}, []
    for order, (name, (spec, needed)) in enumerate(properties.items()):
        spec = dict(spec)
        if "enum" in spec:
            enums[name] = {"title": name, "enum": spec.pop("enum"), "type": spec.pop("type"),
                           "description": "An enumeration."}
            spec = {"allOf": [{"$ref": f"#/components/schemas/{name}"}], **spec}
        inputs[name] = {"title": _title(name), "x-order": order, **spec}
        if needed:
            required.append(name)
    return {
        "openapi": "3.0.2",
        "info": {"title": "Cog", "version": "0.1.0"},
        "paths": {"/predictions": {"post": {"summary": "Predict", "operationId": "predict_predictions_post",
                                            "requestBody": {"content": {"application/json": {"schema": {
                                                "$ref": "#/components/schemas/PredictionRequest"}}}}}}},
        "components": {"schemas": {
            "Input": {"type": "object", "title": "Input", "required": required, "properties": inputs},
            "Output": {"type": "string", "title": "Output", "format": "uri"},
            "Status": {"title": "Status", "enum": ["starting", "processing", "succeeded", "canceled", "failed"],
                       "type": "string", "description": "An enumeration."},
            "PredictionRequest": {"title": "PredictionRequest", "type": "object", "properties": {
                "input": {"$ref": "#/components/schemas/Input"}}},
            **enums,
        }},
    }


def check_input(inputs: dict, properties: dict) -> list[tuple[str, str]]:
    """(input, problem) for each input the published schema refuses: unknown, missing, of another type or
    not one of its choices."""
    problems = [(name, "Extra inputs are not permitted") for name in sorted(set(inputs) - set(properties))]
    for name, (spec, needed) in properties.items():
        if name not in inputs:
            if needed:
                problems.append((name, "Field required"))
            continue
        value, kind = inputs[name], spec.get("type")
        if "enum" in spec and value not in spec["enum"]:
            problems.append((name, f"Input should be {', '.join(map(repr, spec['enum']))}"))
        elif kind == "string" and not isinstance(value, str):
            problems.append((name, "Input should be a valid string"))
        elif kind == "string" and len(value) > spec.get("maxLength", len(value)):
            problems.append((name, f"String should have at most {spec['maxLength']} characters"))
        elif kind == "integer" and type(value) is not int:
            problems.append((name, "Input should be a valid integer"))
        elif kind == "boolean" and type(value) is not bool:
            problems.append((name, "Input should be a valid boolean"))
        elif kind == "array" and not isinstance(value, list):
            problems.append((name, "Input should be a valid list"))
        elif kind == "array" and not spec.get("minItems", 0) <= len(value) <= spec.get("maxItems", len(value)):
            problems.append((name, "List has too few or too many items"))
        elif kind == "array" and isinstance(spec.get("items"), dict) and spec["items"].get("type") == "object":
            # Each item against the item's own properties (Kling's multi_prompt: {prompt, duration}).
            item = spec["items"]
            fields = {k: (v, k in item.get("required", [])) for k, v in item.get("properties", {}).items()}
            for index, element in enumerate(value):
                if not isinstance(element, dict):
                    problems.append((f"{name}.{index}", "Input should be a valid object"))
                    continue
                problems += [(f"{name}.{index}.{where}", why) for where, why in check_input(element, fields)]
    return problems
