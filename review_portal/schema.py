"""The OpenAPI schema documents every answer an operation can give, in one place.

Views declare their successes. The errors are the same everywhere (review_portal.api turns every
failure into the same JSON shape), so a postprocessing hook adds them to every operation instead
of each view listing them."""

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every API error has this shape.",
    "properties": {
        "detail": {"type": "string", "description": "What went wrong, for a person to read"},
        "code": {"type": "string",
                 "description": "A stable identifier, e.g. transition_not_allowed"},
        "field": {"type": "string", "description": "The input field at fault, if one is"},
        "errors": {
            "description": "Per-field messages for invalid input",
            "oneOf": [{"type": "object", "additionalProperties": True},
                      {"type": "array", "items": {}}],
        },
    },
    "required": ["detail"],
}

# status: (component name, description)
ERROR_RESPONSES = {
    400: ("BadRequest", "Invalid input (a datetime without a time zone, too), or a business "
                        "rule refused the action"),
    401: ("Unauthenticated", "No valid credentials (an API token is refused)"),
    403: ("Forbidden", "Signed in, but not allowed to do this"),
    404: ("NotFound", "No such object, or one the caller may not see"),
    405: ("MethodNotAllowed", "The path does not take this method"),
    406: ("NotAcceptable", "The Accept header asks for a format the API does not give"),
    409: ("Conflict", "The object's state does not allow this (a transition, a duplicate)"),
    413: ("PayloadTooLarge", "The request body is larger than the API accepts"),
    415: ("UnsupportedMediaType", "The body's content type is not one the operation takes"),
    429: ("TooManyRequests", "Too many requests: see Retry-After"),
    503: ("ServiceUnavailable", "The database or the job queue is unreachable: see Retry-After"),
}
RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"},
                               "description": "Seconds to wait before trying again"}}
HTTP_METHODS = {"get", "put", "post", "patch", "delete", "head", "options", "trace"}


def add_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: the Error schema, one response component per error
    status, and a reference to each from every operation (what a view declares itself wins)."""
    components = result.setdefault("components", {})
    components.setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    responses = components.setdefault("responses", {})
    for status, (name, description) in ERROR_RESPONSES.items():
        response = {"description": description,
                    "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Error"}}}}
        if status in (429, 503):
            response["headers"] = RETRY_AFTER
        responses[name] = response
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in HTTP_METHODS:
                continue
            declared = operation.setdefault("responses", {})
            for status, (name, _) in ERROR_RESPONSES.items():
                declared.setdefault(str(status), {"$ref": f"#/components/responses/{name}"})
    return result
